// The service behind the router targets: a SQLite store in a scratch directory, a file root with
// a one-second tone, and one job analysed to the end (so results and exports have something to
// serve); then the workers stop, so jobs the fuzzer submits stay queued and every input is
// answered the same way whatever came before it (reproducible crashes).
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fuzz_common.hpp"
#include "server/http/router.hpp"
#include "server/service.hpp"

namespace harmony::fuzz {

/// 16-bit PCM WAV of a 440 Hz tone.
inline std::string tone_wav(int rate, double seconds) {
    const auto n = static_cast<std::uint32_t>(rate * seconds);
    std::string w = "RIFF";
    auto u32 = [&](std::uint32_t v) {
        for (int i = 0; i < 4; ++i) w += static_cast<char>((v >> (8 * i)) & 0xff);
    };
    auto u16 = [&](std::uint16_t v) {
        for (int i = 0; i < 2; ++i) w += static_cast<char>((v >> (8 * i)) & 0xff);
    };
    u32(36 + n * 2);
    w += "WAVEfmt ";
    u32(16);
    u16(1);
    u16(1);
    u32(static_cast<std::uint32_t>(rate));
    u32(static_cast<std::uint32_t>(rate) * 2);
    u16(2);
    u16(16);
    w += "data";
    u32(n * 2);
    for (std::uint32_t i = 0; i < n; ++i)
        u16(static_cast<std::uint16_t>(
            static_cast<std::int16_t>(12000 * std::sin(2 * 3.14159265358979 * 440.0 * i / rate))));
    return w;
}

struct RouterFixture {
    std::unique_ptr<server::Service> service;
    std::unique_ptr<server::http::Router> router;
    std::string root;      // --file-root
    std::string job_id;    // a succeeded job
    std::string batch_id;  // an empty batch

    static RouterFixture& get() {
        static RouterFixture f;
        return f;
    }

private:
    RouterFixture() {
        namespace fs = std::filesystem;
        const std::string dir = scratch_dir() + "/service";
        root = dir + "/files";
        fs::create_directories(root);
        write_file(root + "/tone.wav", tone_wav(22050, 2.0));
        auto store = server::open_sqlite_store(dir + "/jobs.db");
        if (!store) fail("cannot open the job store");
        server::ServiceOptions o;
        o.data_dir = dir;
        o.workers = 1;
        o.file_root = root;
        auto svc = server::Service::create(std::move(*store), o);
        if (!svc) fail("cannot create the service");
        service = std::move(*svc);
        service->start();
        server::http::RouterOptions ro;
        ro.file_root = root;
        ro.max_batch_jobs = 8;
        router = std::make_unique<server::http::Router>(*service, ro);
        server::http::HttpRequest req;
        req.method = "POST";
        req.path = "/v1/jobs";
        req.headers["content-type"] = "application/json";
        req.body = R"({"source":{"path":"tone.wav"},"only":["tempo","key"]})";
        const auto res = router->handle(req);
        const auto at = res.body.find("\"id\":\"");
        if (res.status != 202 || at == std::string::npos) fail("the first job was not accepted");
        job_id = res.body.substr(at + 6, 32);
        for (int i = 0; i < 1200; ++i) {  // up to 2 minutes (sanitizers are slow)
            auto j = service->job(job_id);
            if (j && j->has_value() && server::is_final((*j)->state)) {
                if ((*j)->state != server::JobState::kSucceeded) fail("the first job did not succeed");
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            if (i == 1199) fail("the first job did not finish");
        }
        service->stop();
        auto b = service->create_batch();
        if (!b) fail("cannot create a batch");
        batch_id = *b;
    }
};

/// `s` with every "{job}" and "{batch}" replaced by the fixture's ids (so inputs reach real jobs).
inline std::string with_ids(std::string s, const RouterFixture& f) {
    for (const auto& [key, value] : {std::pair<std::string, std::string>{"{job}", f.job_id}, {"{batch}", f.batch_id}})
        for (auto p = s.find(key); p != std::string::npos; p = s.find(key, p + value.size()))
            s.replace(p, key.size(), value);
    return s;
}

}  // namespace harmony::fuzz
