#include "library/batch.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "harmony/export.hpp"

namespace harmony::library {

namespace fs = std::filesystem;

bool has_audio_extension(const std::string& path) {
    static const std::set<std::string> kExt = {".mp3", ".flac", ".wav", ".wave", ".aif", ".aiff", ".aifc",
                                               ".m4a", ".mp4",  ".aac", ".alac", ".ogg", ".oga",  ".opus",
                                               ".wma", ".wv",   ".ape", ".mpc",  ".mp2", ".ac3",  ".caf",
                                               ".w64", ".dsf",  ".tta", ".spx",  ".mka", ".webm"};
    std::string ext = fs::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return kExt.count(ext) > 0;
}

std::vector<std::string> collect_inputs(const std::vector<std::string>& inputs, bool recursive) {
    std::vector<std::string> out;
    std::set<std::string> seen;
    auto add = [&](const std::string& p) {
        if (seen.insert(p).second) out.push_back(p);
    };
    for (const auto& in : inputs) {
        std::error_code ec;
        if (!fs::is_directory(in, ec)) {
            add(in);
            continue;
        }
        std::vector<std::string> found;
        auto take = [&](const fs::directory_entry& e) {
            std::error_code ec2;
            if (e.is_regular_file(ec2) && has_audio_extension(e.path().string())) found.push_back(e.path().string());
        };
        if (recursive) {
            for (auto it = fs::recursive_directory_iterator(in, fs::directory_options::skip_permission_denied, ec);
                 !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
                take(*it);
        } else {
            for (auto it = fs::directory_iterator(in, fs::directory_options::skip_permission_denied, ec);
                 !ec && it != fs::directory_iterator(); it.increment(ec))
                take(*it);
        }
        std::sort(found.begin(), found.end());
        for (const auto& f : found) add(f);
    }
    return out;
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Looks the file up in the library; a hit comes back as a map whose path is this file's path.
std::optional<SongMap> cached_map(Library& lib, const std::string& path, const std::string& cfg) {
    auto hash = lib.content_hash_of(path);
    if (!hash) return std::nullopt;
    auto found = lib.find(*hash, cfg);
    if (!found || !found->has_value()) return std::nullopt;
    auto map = song_map_from_json(**found);
    if (!map) return std::nullopt;  // unreadable entry: analyse again (and overwrite it)
    map->audio.path = path;
    (void)lib.remember_location(path, *hash);
    return std::move(map.value());
}

}  // namespace

std::vector<std::string> stems_folders(const std::vector<std::string>& files, const std::string& dir) {
    std::vector<std::string> out;
    std::set<std::string> taken;
    for (const auto& f : files) {
        const std::string base = std::filesystem::path(f).stem().string();
        std::string name = base;
        for (int k = 2; !taken.insert(name).second; ++k) name = base + "-" + std::to_string(k);
        out.push_back((std::filesystem::path(dir) / name).string());
    }
    return out;
}

BatchSummary run_batch(const std::vector<std::string>& files, const BatchOptions& options) {
    BatchSummary summary;
    summary.total = files.size();
    const auto t0 = Clock::now();
    std::string cfg;
    if (options.library) {
        auto k = config_key(options.request, options.engine);
        if (k) cfg = *k;
    }
    const auto stem_dirs =
        options.stems_dir.empty() ? std::vector<std::string>{} : stems_folders(files, options.stems_dir);
    std::mutex mu;  // serialises events and the summary
    std::atomic<std::size_t> next{0};
    std::size_t done = 0;

    auto emit = [&](BatchEvent ev) {
        ev.done = done;
        ev.total = summary.total;
        ev.analyzed = summary.analyzed;
        ev.cached = summary.cached;
        ev.failed = summary.failed;
        ev.elapsed_s = seconds_since(t0);
        if (options.on_event) options.on_event(ev);
    };

    auto worker = [&] {
        EngineOptions eo = options.engine;
        eo.stop = options.stop;
        eo.progress = nullptr;
        if (eo.threads <= 0) {
            const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
            eo.threads = std::max(1, cores / std::max(1, options.jobs));
        }
        Engine engine(std::move(eo));
        for (;;) {
            if (options.stop.stop_requested()) return;
            const std::size_t i = next.fetch_add(1);
            if (i >= files.size()) return;
            const std::string& path = files[i];
            {
                std::lock_guard lock(mu);
                BatchEvent ev;
                ev.kind = BatchEvent::kStarted;
                ev.path = path;
                emit(std::move(ev));
            }
            const auto f0 = Clock::now();
            FileOutcome out;
            out.path = path;
            // Exception barrier: nothing one file does may stop the batch.
            try {
                if (options.library && options.use_cache && !cfg.empty() && stem_dirs.empty()) {
                    if (auto m = cached_map(*options.library, path, cfg)) {
                        out.map = std::move(m);
                        out.status = FileStatus::kCached;
                    }
                }
                if (!out.map) {
                    AnalysisRequest request = options.request;
                    if (!stem_dirs.empty()) request.params["stems.dir"] = stem_dirs[i];
                    auto map = engine.analyze_file(path, request);
                    if (!map) {
                        out.error = map.error();
                        out.status =
                            map.error().code == ErrorCode::kCancelled ? FileStatus::kCancelled : FileStatus::kFailed;
                    } else {
                        out.status = FileStatus::kAnalyzed;
                        if (options.library && !cfg.empty()) {
                            auto text = to_json(*map, -1);
                            if (!text) {
                                out.error = text.error();
                                out.status = FileStatus::kFailed;
                            } else if (auto r = options.library->record(path, *map, *text, cfg); !r) {
                                out.error = r.error();
                                out.status = FileStatus::kFailed;
                            }
                        }
                        out.map = std::move(map.value());
                    }
                }
            } catch (const std::exception& e) {
                out.map.reset();
                out.error = make_error(ErrorCode::kInternal, std::string("unexpected exception: ") + e.what());
                out.status = FileStatus::kFailed;
            } catch (...) {
                out.map.reset();
                out.error = make_error(ErrorCode::kInternal, "unexpected exception");
                out.status = FileStatus::kFailed;
            }
            out.elapsed_s = seconds_since(f0);
            std::lock_guard lock(mu);
            ++done;
            switch (out.status) {
                case FileStatus::kAnalyzed:
                    ++summary.analyzed;
                    break;
                case FileStatus::kCached:
                    ++summary.cached;
                    break;
                case FileStatus::kFailed:
                    ++summary.failed;
                    break;
                case FileStatus::kCancelled:
                    ++summary.cancelled;
                    break;
            }
            BatchEvent ev;
            ev.kind = BatchEvent::kFinished;
            ev.outcome = &out;
            emit(std::move(ev));
            if (out.status == FileStatus::kFailed) {
                out.map.reset();
                summary.failures.push_back(std::move(out));
            }
        }
    };

    const int jobs = std::clamp(options.jobs, 1, 256);
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(jobs), std::max<std::size_t>(files.size(), 1));
    std::vector<std::thread> threads;
    for (std::size_t t = 1; t < n; ++t) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
    summary.interrupted = options.stop.stop_requested();
    if (summary.interrupted) summary.cancelled = summary.total - summary.analyzed - summary.cached - summary.failed;
    summary.elapsed_s = seconds_since(t0);
    std::sort(summary.failures.begin(), summary.failures.end(),
              [](const FileOutcome& a, const FileOutcome& b) { return a.path < b.path; });
    return summary;
}

}  // namespace harmony::library
