// Stems through the service: a job submitted with stems=true separates the audio, keeps the four
// stem files with the job (data dir, removed with the job by retention) and serves them at
// GET /v1/jobs/{id}/stems/{name} (audio/wav, byte ranges). Short synthesised tracks: separation
// costs about 6 CPU-s per audio minute.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include "server_harness.hpp"
#include "shared_server.hpp"
#include "support/test_support.hpp"

namespace harmony::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct Wav {
    int format = 0;  // 1: PCM, 3: IEEE float
    int channels = 0;
    int rate = 0;
    int bits = 0;
    std::vector<float> samples;  // interleaved, as floats (PCM16 scaled to ±1)
};

std::uint32_t le32(const std::string& b, std::size_t at) {
    std::uint32_t v = 0;
    std::memcpy(&v, b.data() + at, 4);
    return v;
}
std::uint16_t le16(const std::string& b, std::size_t at) {
    std::uint16_t v = 0;
    std::memcpy(&v, b.data() + at, 2);
    return v;
}

/// A RIFF/WAVE file's fmt and data chunks (enough for what the tests read: PCM16 and float32).
std::optional<Wav> parse_wav(const std::string& b) {
    if (b.size() < 12 || b.compare(0, 4, "RIFF") != 0 || b.compare(8, 4, "WAVE") != 0) return std::nullopt;
    Wav w;
    for (std::size_t at = 12; at + 8 <= b.size();) {
        const auto id = b.substr(at, 4);
        const auto size = le32(b, at + 4);
        if (id == "fmt ") {
            w.format = le16(b, at + 8);
            w.channels = le16(b, at + 10);
            w.rate = static_cast<int>(le32(b, at + 12));
            w.bits = le16(b, at + 22);
        } else if (id == "data") {
            const std::size_t n = std::min<std::size_t>(size, b.size() - at - 8);
            if (w.format == 3 && w.bits == 32) {
                w.samples.resize(n / 4);
                std::memcpy(w.samples.data(), b.data() + at + 8, w.samples.size() * 4);
            } else if (w.format == 1 && w.bits == 16) {
                for (std::size_t i = 0; i + 1 < n; i += 2)
                    w.samples.push_back(static_cast<float>(static_cast<std::int16_t>(le16(b, at + 8 + i))) / 32768.0f);
            }
            return w;
        }
        at += 8 + size + (size & 1);
    }
    return std::nullopt;
}

class StemsApiTest : public SharedServerTest<StemsApiTest> {
public:
    static std::vector<std::string> server_args() { return {"--jobs", "1"}; }
};

TEST_F(StemsApiTest, KeepsTheJobsStemsAndServesThemWithRanges) {
    auto c = server_->client();
    const auto wav = make_wav_bytes(4.0, 31);
    auto posted = post_audio(c, wav, "?only=tempo&stems=1&filename=song.wav");
    ASSERT_TRUE(posted);
    ASSERT_EQ(posted->status, 202) << posted->body;
    const auto accepted = json::parse(posted->body);
    EXPECT_TRUE(accepted["stems"].get<bool>());
    const auto only = accepted["request"]["only"].get<std::vector<std::string>>();
    EXPECT_NE(std::find(only.begin(), only.end(), "stems"), only.end()) << accepted;
    EXPECT_NE(std::find(only.begin(), only.end(), "tempo"), only.end()) << accepted;
    const auto id = accepted["id"].get<std::string>();
    const auto j = wait_job(c, id, 120000);
    ASSERT_EQ(j["status"], "succeeded") << j << server_->log();
    EXPECT_EQ(j["links"]["stems"], "/v1/jobs/" + id + "/stems/{name}");

    // The Song Map names each file by its name alone (no server path).
    auto res = c.Get(("/v1/jobs/" + id + "/result").c_str());
    ASSERT_EQ(res->status, 200);
    EXPECT_EQ(res->body.find(server_->data_dir()), std::string::npos) << "the result shows a server path";
    const auto map = json::parse(res->body);
    ASSERT_TRUE(map.contains("stems")) << map.dump().substr(0, 400);
    EXPECT_EQ(map["stems"]["format"], "wav-f32");
    ASSERT_EQ(map["stems"]["stems"].size(), 4u);
    for (const auto& s : map["stems"]["stems"]) EXPECT_EQ(s["file"], s["name"].get<std::string>() + ".wav");

    // Every stem: float WAV at the source rate and channels (mono), the length of the mix; the
    // four add up to the mix (the separation's contract), so these are this job's stems.
    const auto mix = parse_wav(wav);
    ASSERT_TRUE(mix);
    std::vector<double> sum(mix->samples.size(), 0.0);
    std::map<std::string, std::string> bodies;
    for (const char* name : {"vocals", "drums", "bass", "other"}) {
        auto r = c.Get(("/v1/jobs/" + id + "/stems/" + name).c_str());
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 200) << r->body;
        EXPECT_EQ(r->get_header_value("Content-Type"), "audio/wav");
        EXPECT_EQ(r->get_header_value("Accept-Ranges"), "bytes");
        EXPECT_NE(r->get_header_value("Content-Disposition").find(std::string("song-") + name + ".wav"),
                  std::string::npos);
        const auto w = parse_wav(r->body);
        ASSERT_TRUE(w) << name;
        EXPECT_EQ(w->format, 3);
        EXPECT_EQ(w->channels, 1);
        EXPECT_EQ(w->rate, 22050);
        ASSERT_EQ(w->samples.size(), mix->samples.size()) << name;
        for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += w->samples[i];
        bodies[name] = r->body;
        EXPECT_TRUE(fs::is_regular_file(fs::path(server_->data_dir()) / "stems" / id / (std::string(name) + ".wav")));
    }
    double worst = 0.0;
    for (std::size_t i = 0; i < sum.size(); ++i) worst = std::max(worst, std::abs(sum[i] - mix->samples[i]));
    EXPECT_LT(worst, 1e-4);
    // Nothing left behind in tmp/ (the stems were written there, then moved next to the job).
    EXPECT_TRUE(fs::is_empty(fs::path(server_->data_dir()) / "tmp"));

    // The name may carry the extension; byte ranges; HEAD.
    const auto& full = bodies["drums"];
    const auto size = std::to_string(full.size());
    EXPECT_EQ(c.Get(("/v1/jobs/" + id + "/stems/drums.wav").c_str())->body, full);
    auto head = c.Get(("/v1/jobs/" + id + "/stems/drums").c_str(), {{"Range", "bytes=0-11"}});
    ASSERT_EQ(head->status, 206);
    EXPECT_EQ(head->body, full.substr(0, 12));
    EXPECT_EQ(head->get_header_value("Content-Range"), "bytes 0-11/" + size);
    auto tail = c.Get(("/v1/jobs/" + id + "/stems/drums").c_str(), {{"Range", "bytes=-4"}});
    ASSERT_EQ(tail->status, 206);
    EXPECT_EQ(tail->body, full.substr(full.size() - 4));
    auto from = c.Get(("/v1/jobs/" + id + "/stems/drums").c_str(), {{"Range", "bytes=100-"}});
    ASSERT_EQ(from->status, 206);
    EXPECT_EQ(from->body, full.substr(100));
    auto past = c.Get(("/v1/jobs/" + id + "/stems/drums").c_str(), {{"Range", "bytes=" + size + "-"}});
    ASSERT_EQ(past->status, 416);
    EXPECT_EQ(past->get_header_value("Content-Range"), "bytes */" + size);
    auto h = c.Head(("/v1/jobs/" + id + "/stems/drums").c_str());
    ASSERT_EQ(h->status, 200);
    EXPECT_EQ(h->get_header_value("Content-Length"), size);
    EXPECT_TRUE(h->body.empty());

    // Streamed bodies keep a kept-alive connection's framing: a file, a range, then JSON on one
    // connection.
    {
        auto k = server_->client();
        k.set_keep_alive(true);
        EXPECT_EQ(k.Get(("/v1/jobs/" + id + "/stems/vocals").c_str())->body, bodies["vocals"]);
        EXPECT_EQ(k.Get(("/v1/jobs/" + id + "/stems/bass").c_str(), {{"Range", "bytes=8-11"}})->body, "WAVE");
        auto again = k.Get(("/v1/jobs/" + id).c_str());
        ASSERT_TRUE(again);
        EXPECT_EQ(json::parse(again->body)["id"], id);
    }

    // Refusals in words.
    auto unknown = c.Get(("/v1/jobs/" + id + "/stems/piano").c_str());
    EXPECT_EQ(unknown->status, 404);
    EXPECT_NE(unknown->body.find("vocals, drums, bass or other"), std::string::npos) << unknown->body;
    auto nojob = c.Get("/v1/jobs/nosuchjob/stems/vocals");
    EXPECT_EQ(nojob->status, 404);
    EXPECT_NE(nojob->body.find("job-not-found"), std::string::npos);
    EXPECT_EQ(c.Delete(("/v1/jobs/" + id + "/stems/vocals").c_str())->status, 405);
    EXPECT_EQ(post_audio(c, wav, "?stems=maybe")->status, 400);
    // stems.dir stays the operator's.
    EXPECT_EQ(post_audio(c, wav, "?stems=1&param=stems.dir=/tmp/x")->status, 400);
}

TEST_F(StemsApiTest, FlacStemsAreServedAsFlac) {
    auto c = server_->client();
    auto posted =
        post_audio(c, make_wav_bytes(3.0, 35), "?only=tempo&stems=1&filename=take.wav&param=stems.format=flac");
    ASSERT_TRUE(posted);
    ASSERT_EQ(posted->status, 202) << posted->body;
    const auto id = json::parse(posted->body)["id"].get<std::string>();
    const auto j = wait_job(c, id, 120000);
    ASSERT_EQ(j["status"], "succeeded") << j << server_->log();
    const auto map = json::parse(c.Get(("/v1/jobs/" + id + "/result").c_str())->body);
    EXPECT_EQ(map["stems"]["format"], "flac-s24");
    for (const char* name : {"vocals", "bass"}) {
        for (const std::string suffix : {"", ".flac"}) {
            auto r = c.Get(("/v1/jobs/" + id + "/stems/" + name + suffix).c_str());
            ASSERT_TRUE(r);
            ASSERT_EQ(r->status, 200) << r->body;
            EXPECT_EQ(r->get_header_value("Content-Type"), "audio/flac");
            EXPECT_NE(r->get_header_value("Content-Disposition").find(std::string("take-") + name + ".flac"),
                      std::string::npos);
            ASSERT_GE(r->body.size(), 4u);
            EXPECT_EQ(r->body.substr(0, 4), "fLaC");
        }
    }
}

TEST_F(StemsApiTest, AJobWithoutStemsSaysSoAndAStemsJobIsNeverAnsweredFromTheStore) {
    auto c = server_->client();
    const auto wav = make_wav_bytes(3.0, 32);
    auto plain = post_audio(c, wav, "?only=tempo");
    ASSERT_EQ(plain->status, 202);
    const auto pj = wait_job(c, json::parse(plain->body)["id"]);
    ASSERT_EQ(pj["status"], "succeeded");
    EXPECT_FALSE(pj["stems"].get<bool>());
    EXPECT_FALSE(pj["links"].contains("stems"));
    auto r = c.Get(("/v1/jobs/" + pj["id"].get<std::string>() + "/stems/vocals").c_str());
    EXPECT_EQ(r->status, 404);
    EXPECT_NE(r->body.find("stems=true"), std::string::npos) << r->body;

    // The same audio and analyzers with stems: analysed (its files are its own), twice.
    std::vector<std::string> ids;
    for (int i = 0; i < 2; ++i) {
        auto s = post_audio(c, wav, "?only=tempo&stems=true");
        ASSERT_EQ(s->status, 202) << s->body;
        const auto sj = json::parse(s->body);
        EXPECT_FALSE(sj["cached"].get<bool>());
        const auto done = wait_job(c, sj["id"], 120000);
        ASSERT_EQ(done["status"], "succeeded") << done;
        EXPECT_FALSE(done["cached"].get<bool>());
        ids.push_back(sj["id"]);
    }
    EXPECT_NE(ids[0], ids[1]);
    for (const auto& id : ids) EXPECT_EQ(c.Get(("/v1/jobs/" + id + "/stems/bass").c_str())->status, 200);

    // Multipart options take it too.
    httplib::MultipartFormDataItems form = {{"file", wav, "m.wav", "audio/wav"},
                                            {"options", R"({"only":["tempo"],"stems":true})", "", "application/json"}};
    auto mp = c.Post("/v1/jobs", form);
    ASSERT_EQ(mp->status, 202) << mp->body;
    EXPECT_TRUE(json::parse(mp->body)["stems"].get<bool>());
    httplib::MultipartFormDataItems bad = {{"file", wav, "m.wav", "audio/wav"},
                                           {"options", R"({"stems":"yes"})", "", "application/json"}};
    EXPECT_EQ(c.Post("/v1/jobs", bad)->status, 400);
    EXPECT_EQ(wait_job(c, json::parse(mp->body)["id"], 120000)["status"], "succeeded");

    // And a batch's options: every track keeps its stems.
    httplib::MultipartFormDataItems batch = {{"file", make_wav_bytes(2.0, 35), "b1.wav", "audio/wav"},
                                             {"file", make_wav_bytes(2.0, 36), "b2.wav", "audio/wav"},
                                             {"options", R"({"only":"tempo","stems":true})", "", "application/json"}};
    auto b = c.Post("/v1/batches", batch);
    ASSERT_EQ(b->status, 202) << b->body;
    for (const auto& bj : json::parse(b->body)["jobs"]) {
        const auto done = wait_job(c, bj["id"], 120000);
        ASSERT_EQ(done["status"], "succeeded") << done;
        EXPECT_TRUE(done["stems"].get<bool>());
        EXPECT_EQ(c.Get(("/v1/jobs/" + bj["id"].get<std::string>() + "/stems/drums").c_str())->status, 200);
    }
}

TEST(StemsApi, RetentionRemovesAJobsStemsWithTheJob) {
    TempDir d;
    Server s(d.file("data"), {"--jobs", "1", "--retention", "2s"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    auto posted = post_audio(c, make_wav_bytes(3.0, 33), "?only=tempo&stems=1");
    ASSERT_EQ(posted->status, 202) << posted->body;
    const auto id = json::parse(posted->body)["id"].get<std::string>();
    ASSERT_EQ(wait_job(c, id, 120000)["status"], "succeeded") << s.log();
    const auto folder = fs::path(s.data_dir()) / "stems" / id;
    EXPECT_TRUE(fs::is_regular_file(folder / "vocals.wav"));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (fs::exists(folder) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(fs::exists(folder)) << s.log();
    EXPECT_EQ(c.Get(("/v1/jobs/" + id + "/stems/vocals").c_str())->status, 404);
}

TEST(StemsApi, StemsFollowTheTokenRule) {
    TempDir d;
    const std::string token = "stems-token-0123456789abcdef";
    Server s(d.file("data"), {"--jobs", "1", "--token", token});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    c.set_bearer_token_auth(token);
    auto posted = post_audio(c, make_wav_bytes(2.0, 34), "?only=tempo&stems=1");
    ASSERT_EQ(posted->status, 202) << posted->body;
    const auto id = json::parse(posted->body)["id"].get<std::string>();
    ASSERT_EQ(wait_job(c, id, 120000, {{"Authorization", "Bearer " + token}})["status"], "succeeded");
    EXPECT_EQ(c.Get(("/v1/jobs/" + id + "/stems/other").c_str())->status, 200);
    auto anon = s.client();
    EXPECT_EQ(anon.Get(("/v1/jobs/" + id + "/stems/other").c_str())->status, 401);
}

}  // namespace
}  // namespace harmony::test
