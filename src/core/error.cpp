#include "harmony/error.hpp"

namespace harmony {

std::string_view error_code_name(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::kInvalidArgument:
            return "invalid_argument";
        case ErrorCode::kFileNotFound:
            return "file_not_found";
        case ErrorCode::kNotAFile:
            return "not_a_file";
        case ErrorCode::kPermissionDenied:
            return "permission_denied";
        case ErrorCode::kEmptyFile:
            return "empty_file";
        case ErrorCode::kUnsupportedFormat:
            return "unsupported_format";
        case ErrorCode::kNoAudioStream:
            return "no_audio_stream";
        case ErrorCode::kNoAudioData:
            return "no_audio_data";
        case ErrorCode::kDecodeFailed:
            return "decode_failed";
        case ErrorCode::kCancelled:
            return "cancelled";
        case ErrorCode::kSchemaViolation:
            return "schema_violation";
        case ErrorCode::kIoError:
            return "io_error";
        case ErrorCode::kModelInvalid:
            return "model_invalid";
        case ErrorCode::kLimitExceeded:
            return "limit_exceeded";
        case ErrorCode::kInternal:
            return "internal";
    }
    return "internal";
}

}  // namespace harmony
