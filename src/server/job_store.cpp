#include "server/job_store.hpp"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>

namespace harmony::server {

std::string_view job_state_name(JobState s) noexcept {
    switch (s) {
        case JobState::kQueued:
            return "queued";
        case JobState::kRunning:
            return "running";
        case JobState::kSucceeded:
            return "succeeded";
        case JobState::kFailed:
            return "failed";
        case JobState::kCanceled:
            return "canceled";
    }
    return "failed";
}

std::optional<JobState> parse_job_state(std::string_view s) noexcept {
    if (s == "queued") return JobState::kQueued;
    if (s == "running") return JobState::kRunning;
    if (s == "succeeded") return JobState::kSucceeded;
    if (s == "failed") return JobState::kFailed;
    if (s == "canceled") return JobState::kCanceled;
    return std::nullopt;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string new_id() {
    static std::mutex mu;
    static std::mt19937_64 rng{[] {
        std::random_device rd;
        return (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^
               static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    }()};
    std::uint64_t a, b;
    {
        std::lock_guard lock(mu);
        a = rng();
        b = rng();
    }
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a),
                  static_cast<unsigned long long>(b));
    return buf;
}

}  // namespace harmony::server
