// Harmony — typed errors. No exceptions cross the library boundary: every fallible public call
// returns a Result<T>. Each ErrorCode maps to one documented CLI exit code (see README).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace harmony {

enum class ErrorCode {
    kInvalidArgument,    // a parameter or request is malformed (programmer or user input)
    kFileNotFound,       // the path does not exist
    kNotAFile,           // the path is a directory or a special file
    kPermissionDenied,   // the file exists but cannot be read
    kEmptyFile,          // zero bytes
    kUnsupportedFormat,  // not a media file FFmpeg can open (text, random bytes, ...)
    kNoAudioStream,      // a media file without audio (an image, a silent video)
    kNoAudioData,        // an audio stream that decodes to zero samples
    kDecodeFailed,       // the codec failed before any audio could be decoded
    kCancelled,          // the caller's stop token was triggered
    kSchemaViolation,    // a Song Map failed validation against the published schema
    kIoError,            // writing output failed
    kModelInvalid,       // a learned model's weight file failed its checks (hash, names, shapes, dtype)
    kLimitExceeded,      // the input is beyond a configured limit (audio duration, analysis time)
    kInternal,           // a bug: please report it
};

/// Stable lower-case name of an error code ("file_not_found"), used in JSON and logs.
std::string_view error_code_name(ErrorCode code) noexcept;

struct Error {
    ErrorCode code;
    std::string message;  // one line, human readable, no trailing newline
};

/// Minimal expected-like result (std::expected is C++23).
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    T& operator*() & { return std::get<0>(v_); }
    const Error& error() const& { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
    bool ok() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    const Error& error() const& { return error_; }

private:
    Error error_{ErrorCode::kInternal, {}};
    bool ok_ = true;
};

inline Error make_error(ErrorCode code, std::string message) {
    return Error{code, std::move(message)};
}

}  // namespace harmony
