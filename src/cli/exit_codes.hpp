// Documented exit codes of the `harmony` CLI (README: "Exit codes").
#pragma once

#include "harmony/error.hpp"

namespace harmony::cli {

enum ExitCode : int {
    kExitOk = 0,            // every file analysed
    kExitInternal = 1,      // a bug (please report it)
    kExitUsage = 2,         // bad command line (unknown flag, analyzer or parameter)
    kExitInputError = 3,    // at least one input could not be analysed (missing, unreadable, not audio, ...)
    kExitPartial = 4,       // at least one input was damaged: decoded what was readable, result written
    kExitOutputError = 5,   // the result could not be written
    kExitSchema = 6,        // a result failed schema validation and was withheld
    kExitInterrupted = 130  // cancelled by SIGINT/SIGTERM
};

inline int exit_code_for(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidArgument:
            return kExitUsage;
        case ErrorCode::kFileNotFound:
        case ErrorCode::kNotAFile:
        case ErrorCode::kPermissionDenied:
        case ErrorCode::kEmptyFile:
        case ErrorCode::kUnsupportedFormat:
        case ErrorCode::kNoAudioStream:
        case ErrorCode::kNoAudioData:
        case ErrorCode::kDecodeFailed:
        case ErrorCode::kLimitExceeded:
            return kExitInputError;
        case ErrorCode::kCancelled:
            return kExitInterrupted;
        case ErrorCode::kSchemaViolation:
            return kExitSchema;
        case ErrorCode::kIoError:
            return kExitOutputError;
        case ErrorCode::kModelInvalid:  // a shipped model failed its checks: a broken installation
        case ErrorCode::kInternal:
            return kExitInternal;
    }
    return kExitInternal;
}

/// Severity order for a multi-file run: the run's exit code is the most severe file's code.
inline int severity(int code) {
    switch (code) {
        case kExitOk:
            return 0;
        case kExitPartial:
            return 1;
        case kExitInputError:
            return 2;
        case kExitSchema:
            return 3;
        case kExitOutputError:
            return 4;
        case kExitUsage:
            return 5;
        case kExitInternal:
            return 6;
        case kExitInterrupted:
            return 7;
        default:
            return 6;
    }
}

}  // namespace harmony::cli
