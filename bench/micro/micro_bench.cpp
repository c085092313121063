// Google Benchmark micro-benchmarks of the hot paths (STFT, decoding). Run:
//   build/bench/micro/harmony_micro_bench
#include <benchmark/benchmark.h>

#include <filesystem>

#include "dsp/stft.hpp"
#include "dsp/synth.hpp"
#include "io/decoder.hpp"
#include "io/wav_writer.hpp"

namespace {

void BM_Stft2048Hop220(benchmark::State& state) {
    const auto demo = harmony::dsp::synth::make_demo_track(10.0, 120.0, 22050);
    for (auto _ : state) {
        double acc = 0.0;
        harmony::dsp::StreamingStft stft(2048, 220, harmony::dsp::Window::kHann,
                                         [&](std::span<const float> m, std::int64_t) { acc += m[10]; });
        stft.push(demo.samples);
        stft.finish();
        benchmark::DoNotOptimize(acc);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(demo.samples.size()));
}
BENCHMARK(BM_Stft2048Hop220)->Unit(benchmark::kMillisecond);

void BM_DecodeWav44kTo22k(benchmark::State& state) {
    const auto demo = harmony::dsp::synth::make_demo_track(30.0);
    const auto path = (std::filesystem::temp_directory_path() / "harmony_micro_bench.wav").string();
    (void)harmony::io::write_wav16(path, demo.samples, 1, demo.rate_hz);
    for (auto _ : state) {
        auto r = harmony::io::decode_to_mono(path, 22050);
        benchmark::DoNotOptimize(r.ok());
    }
    std::filesystem::remove(path);
}
BENCHMARK(BM_DecodeWav44kTo22k)->Unit(benchmark::kMillisecond);

}  // namespace
