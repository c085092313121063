// Queen Mary DSP peer for the Harmony benchmark.
//
//   qm_peer beats FILE   -> {"bpm", "beats", "downbeats", "duration_s"}
//   qm_peer key FILE     -> {"tonic_pc", "mode", "key_fraction", "duration_s"}
//
// Built against Debian's libqm-dsp (1.7.x). Audio is decoded by an ffmpeg pipe to mono float32 at
// 44.1 kHz, so the timed command includes decoding (as Harmony's does).
//
// Configuration follows the QM Vamp plugins, which Mixxx's AnalyzerQueenMaryBeats and
// AnalyzerQueenMaryKey copy:
//  * beats: DetectionFunction DF_COMPLEXSD, step 0.01161 s (512 samples at 44.1 kHz), window
//    2 x step (1024), dbRise 3, no adaptive whitening; the first two DF values are dropped;
//    TempoTrackV2::calculateBeatPeriod + calculateBeats with their defaults; beat time =
//    beat index x step (the qm-barbeattracker convention). Downbeats come from qm-dsp's DownBeat
//    with 4 beats per bar (the bar-beat tracker's default), audio decimated to about 3 kHz.
//    Tempo = 60 / median inter-beat interval (neither Mixxx nor the plugin prints a global BPM).
//  * key: GetKeyMode(rate, 440 Hz, 10, 10) (chroma window 10 frames, median window 10), blocks of
//    getBlockSize() every getHopSize() samples. The global key is the key held for the most
//    blocks, the way Mixxx turns the key-change list into one track key.
#include <dsp/onsets/DetectionFunction.h>
#include <dsp/tempotracking/DownBeat.h>
#include <dsp/tempotracking/TempoTrackV2.h>
#include <dsp/keydetection/GetKeyMode.h>
#include <maths/MathUtilities.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr int kRate = 44100;

std::string shellQuote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

bool decode(const std::string& path, std::vector<float>& out) {
    std::string cmd = "ffmpeg -v error -nostdin -i " + shellQuote(path) + " -map 0:a:0 -ac 1 -ar 44100 -f f32le -";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return false;
    std::vector<float> buf(1 << 16);
    size_t n;
    while ((n = fread(buf.data(), sizeof(float), buf.size(), p)) > 0) {
        out.insert(out.end(), buf.begin(), buf.begin() + n);
    }
    return pclose(p) == 0 && !out.empty();
}

// Copies block [start, start + len) of x into dst, zero-padding past the end (as a Vamp host does).
template <typename T>
void block(const std::vector<float>& x, size_t start, size_t len, T* dst) {
    for (size_t i = 0; i < len; ++i) {
        size_t j = start + i;
        dst[i] = j < x.size() ? static_cast<T>(x[j]) : T(0);
    }
}

void printArray(const char* name, const std::vector<double>& v) {
    std::printf("\"%s\":[", name);
    for (size_t i = 0; i < v.size(); ++i) std::printf(i ? ",%.5f" : "%.5f", v[i]);
    std::printf("]");
}

int runBeats(const std::vector<float>& x) {
    const size_t step = static_cast<size_t>(kRate * 0.01161f + 0.0001f);  // 512
    const size_t window = step * 2;                                       // 1024
    DFConfig cfg;
    cfg.DFType = DF_COMPLEXSD;
    cfg.stepSize = static_cast<unsigned int>(step);
    cfg.frameLength = static_cast<unsigned int>(window);
    cfg.dbRise = 3;
    cfg.adaptiveWhitening = false;
    cfg.whiteningRelaxCoeff = -1;
    cfg.whiteningFloor = -1;
    DetectionFunction df(cfg);
    const size_t factor = MathUtilities::nextPowerOfTwo(kRate / 3000);
    DownBeat downBeat(kRate, factor, step);
    downBeat.setBeatsPerBar(4);

    std::vector<double> dfOut;
    std::vector<double> frame(window);
    std::vector<float> fframe(window);
    for (size_t start = 0; start < x.size(); start += step) {
        block(x, start, window, frame.data());
        block(x, start, window, fframe.data());
        dfOut.push_back(df.processTimeDomain(frame.data()));
        downBeat.pushAudioBlock(fframe.data());
    }
    std::vector<double> dfv, beatPeriod, tempi, beats;
    for (size_t i = 2; i < dfOut.size(); ++i) {
        dfv.push_back(dfOut[i]);
        beatPeriod.push_back(0.0);
    }
    std::vector<double> times, downTimes;
    if (!dfv.empty()) {
        TempoTrackV2 tt(kRate, step);
        tt.calculateBeatPeriod(dfv, beatPeriod, tempi);
        tt.calculateBeats(dfv, beatPeriod, beats);
        std::vector<int> downbeats;
        size_t downLength = 0;
        const float* ds = downBeat.getBufferedAudio(downLength);
        if (beats.size() > 1) downBeat.findDownBeats(ds, downLength, beats, downbeats);
        for (double b : beats) times.push_back(b * step / kRate);
        for (int d : downbeats) {
            if (d >= 0 && static_cast<size_t>(d) < times.size()) downTimes.push_back(times[d]);
        }
    }
    double bpm = 0;
    if (times.size() > 1) {
        std::vector<double> ibi;
        for (size_t i = 1; i < times.size(); ++i) ibi.push_back(times[i] - times[i - 1]);
        std::nth_element(ibi.begin(), ibi.begin() + ibi.size() / 2, ibi.end());
        double med = ibi[ibi.size() / 2];
        if (med > 0) bpm = 60.0 / med;
    }
    std::printf("{\"bpm\":%.4f,", bpm);
    printArray("beats", times);
    std::printf(",");
    printArray("downbeats", downTimes);
    std::printf(",\"duration_s\":%.4f}\n", static_cast<double>(x.size()) / kRate);
    return 0;
}

int runKey(const std::vector<float>& x) {
    GetKeyMode gkm(kRate, 440.0f, 10, 10);
    const size_t blockSize = gkm.getBlockSize();
    const size_t hop = gkm.getHopSize();
    std::vector<double> frame(blockSize);
    std::map<int, long> counts;
    long total = 0;
    int first = -1;
    for (size_t start = 0; start < x.size(); start += hop) {
        block(x, start, blockSize, frame.data());
        int k = gkm.process(frame.data());
        if (first < 0) first = k;
        if (k >= 1 && k <= 24) {
            counts[k]++;
            total++;
        }
    }
    int best = 0;
    long bestCount = 0;
    for (const auto& kv : counts) {
        if (kv.second > bestCount) {
            best = kv.first;
            bestCount = kv.second;
        }
    }
    if (best == 0) {
        std::printf("{\"tonic_pc\":null,\"mode\":null,\"duration_s\":%.4f}\n", static_cast<double>(x.size()) / kRate);
        return 0;
    }
    // GetKeyMode numbers keys 1..12 = C..B major and 13..24 = C..B minor.
    const bool minor = gkm.isModeMinor(best);
    const int pc = (best - 1) % 12;
    std::printf(
        "{\"tonic_pc\":%d,\"mode\":\"%s\",\"key_index\":%d,\"key_fraction\":%.4f,"
        "\"duration_s\":%.4f}\n",
        pc, minor ? "minor" : "major", best, static_cast<double>(bestCount) / total,
        static_cast<double>(x.size()) / kRate);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3 || (std::strcmp(argv[1], "beats") != 0 && std::strcmp(argv[1], "key") != 0)) {
        std::fprintf(stderr, "usage: qm_peer beats|key FILE\n");
        return 2;
    }
    std::vector<float> x;
    if (!decode(argv[2], x)) {
        std::fprintf(stderr, "qm_peer: cannot decode %s\n", argv[2]);
        return 1;
    }
    return std::strcmp(argv[1], "beats") == 0 ? runBeats(x) : runKey(x);
}
