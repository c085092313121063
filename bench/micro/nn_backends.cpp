// src/nn arithmetic backends on the shapes Harmony's networks will run (figures: src/nn/README.md).
//
//   nn_backends_eigen    <case> [repeats]   the src/nn layers themselves (Eigen)
//   nn_backends_openblas <case> [repeats]   the same algorithms with cblas_sgemm / cblas_sgemv
//
// cases: conv2d  [8, 105, 1000] -> 16 channels, 3x3, padding 1 (im2col + GEMM)
//        gru     128 -> 128 hidden, 1000 steps, unidirectional
//        conv1d  [16, 12000] -> 16 channels, kernel 5, dilation 4, padding 8
//        startup one 1x1 product (process start-up is timed from outside)
// Prints the median and first-run milliseconds and the process's peak RSS. One thread throughout
// (OpenBLAS is told so); one binary per backend so one library's start-up does not tax the other.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "nn/layers.hpp"
#include "nn/weights.hpp"

#ifdef NN_BACKEND_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
#endif

using namespace harmony::nn;

namespace {

Tensor random_tensor(Shape shape, unsigned seed) {
    Tensor t(std::move(shape));
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 0.1f);
    for (float& v : t.values()) v = d(rng);
    return t;
}

[[maybe_unused]] WeightFile weights(const std::vector<std::pair<std::string, Tensor>>& tensors) {
    auto bytes = encode_weight_file("bench", 1, "{}", tensors);
    auto w = WeightFile::from_memory(bytes);
    if (!w) {
        std::fprintf(stderr, "%s\n", w.error().message.c_str());
        std::exit(1);
    }
    return std::move(*w);
}

#ifdef NN_BACKEND_OPENBLAS
// The same tiled im2col as src/nn (a few output rows at a time, ~256 KiB), then one sgemm per tile.
Tensor conv2d_blas(const Tensor& x, const Tensor& w, const Tensor& b, int kh, int kw, int ph, int pw, int dh, int dw) {
    const int cin = static_cast<int>(x.dim(0)), h = static_cast<int>(x.dim(1)), wd = static_cast<int>(x.dim(2));
    const int cout = static_cast<int>(w.dim(0));
    const int ho = h + 2 * ph - dh * (kh - 1), wo = wd + 2 * pw - dw * (kw - 1);
    const int k = cin * kh * kw, p = ho * wo;
    const int rows = std::clamp(64 * 1024 / (k * wo), 1, ho);
    std::vector<float> col(static_cast<std::size_t>(k) * rows * wo);
    Tensor y({cout, ho, wo});
    for (int o = 0; o < cout; ++o) std::fill(y.data() + o * p, y.data() + (o + 1) * p, b[o]);
    for (int oh0 = 0; oh0 < ho; oh0 += rows) {
        const int nr = std::min(rows, ho - oh0), n = nr * wo;
        for (int ci = 0; ci < cin; ++ci)
            for (int ki = 0; ki < kh; ++ki)
                for (int kj = 0; kj < kw; ++kj) {
                    float* dst = col.data() + static_cast<std::size_t>((ci * kh + ki) * kw + kj) * n;
                    for (int r = 0; r < nr; ++r) {
                        const int ih = oh0 + r - ph + ki * dh;
                        for (int ow = 0; ow < wo; ++ow) {
                            const int iw = ow - pw + kj * dw;
                            dst[r * wo + ow] =
                                (ih >= 0 && ih < h && iw >= 0 && iw < wd) ? x[(ci * h + ih) * wd + iw] : 0.0f;
                        }
                    }
                }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cout, n, k, 1.0f, w.data(), k, col.data(), n, 1.0f,
                    y.data() + oh0 * wo, p);
    }
    return y;
}

Tensor gru_blas(const Tensor& x, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh) {
    const int steps = static_cast<int>(x.dim(0)), in = static_cast<int>(x.dim(1)), hid = static_cast<int>(w_hh.dim(1));
    const int h3 = 3 * hid;
    std::vector<float> gi(static_cast<std::size_t>(steps) * h3), gh(h3), h(hid, 0.0f);
    for (int t = 0; t < steps; ++t) std::copy(b_ih.data(), b_ih.data() + h3, gi.data() + t * h3);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, steps, h3, in, 1.0f, x.data(), in, w_ih.data(), in, 1.0f,
                gi.data(), h3);
    Tensor y({steps, hid});
    auto sig = [](float v) { return 1.0f / (1.0f + std::exp(-v)); };
    for (int t = 0; t < steps; ++t) {
        std::copy(b_hh.data(), b_hh.data() + h3, gh.data());
        cblas_sgemv(CblasRowMajor, CblasNoTrans, h3, hid, 1.0f, w_hh.data(), hid, h.data(), 1, 1.0f, gh.data(), 1);
        const float* g = gi.data() + t * h3;
        for (int j = 0; j < hid; ++j) {
            const float r = sig(g[j] + gh[j]), z = sig(g[hid + j] + gh[hid + j]);
            const float n = std::tanh(g[2 * hid + j] + r * gh[2 * hid + j]);
            h[j] = (1.0f - z) * n + z * h[j];
        }
        std::copy(h.begin(), h.end(), y.data() + t * hid);
    }
    return y;
}
#endif

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
    const auto t_main = std::chrono::steady_clock::now();
#ifdef NN_BACKEND_OPENBLAS
    openblas_set_num_threads(1);
    const char* backend = "openblas";
#else
    const char* backend = "eigen";
#endif
    const std::string which = argc > 1 ? argv[1] : "conv2d";
    const int repeats = argc > 2 ? std::atoi(argv[2]) : 10;
    std::function<float()> run;
    // Inputs and weights live outside the timed call; each run returns one value so nothing is elided.
    static Tensor x, w, b, w_ih, w_hh, b_ih, b_hh;
    static std::vector<std::pair<std::string, Tensor>> tensors;
    if (which == "conv2d" || which == "conv1d") {
        const bool two = which == "conv2d";
        x = two ? random_tensor({8, 105, 1000}, 1) : random_tensor({16, 12000}, 1);
        w = two ? random_tensor({16, 8, 3, 3}, 2) : random_tensor({16, 16, 1, 5}, 2);
        b = random_tensor({16}, 3);
#ifdef NN_BACKEND_OPENBLAS
        if (two) {
            run = [] { return conv2d_blas(x, w, b, 3, 3, 1, 1, 1, 1)[0]; };
        } else {
            run = [] { return conv2d_blas(x.reshaped({16, 1, 12000}), w, b, 1, 5, 0, 8, 1, 4)[0]; };
        }
#else
        if (two) {
            static Conv2d conv = [] {
                Conv2dConfig c;
                c.in_channels = 8, c.out_channels = 16, c.kernel[0] = c.kernel[1] = 3, c.padding[0] = c.padding[1] = 1;
                return Conv2d::load(weights({{"weight", w}, {"bias", b}}), "", c).value();
            }();
            run = [] { return conv.forward(x)[0]; };
        } else {
            static Conv1d conv = [] {
                Conv1dConfig c{16, 16, 5};
                c.dilation = 4, c.padding = 8;
                return Conv1d::load(weights({{"weight", w.reshaped({16, 16, 5})}, {"bias", b}}), "", c).value();
            }();
            run = [] { return conv.forward(x)[0]; };
        }
#endif
    } else if (which == "gru") {
        x = random_tensor({1000, 128}, 1);
        w_ih = random_tensor({384, 128}, 2), w_hh = random_tensor({384, 128}, 3);
        b_ih = random_tensor({384}, 4), b_hh = random_tensor({384}, 5);
#ifdef NN_BACKEND_OPENBLAS
        run = [] { return gru_blas(x, w_ih, w_hh, b_ih, b_hh)[0]; };
#else
        static Gru gru =
            Gru::load(
                weights({{"weight_ih_l0", w_ih}, {"weight_hh_l0", w_hh}, {"bias_ih_l0", b_ih}, {"bias_hh_l0", b_hh}}),
                "", {128, 128})
                .value();
        run = [] { return gru.forward(x)[0]; };
#endif
    } else if (which == "startup") {
        x = random_tensor({1, 1}, 1);
#ifdef NN_BACKEND_OPENBLAS
        run = [] {
            float y = 0;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1.0f, x.data(), 1, x.data(), 1, 0.0f, &y,
                        1);
            return y;
        };
#else
        static Linear lin = Linear::load(weights({{"weight", x}}), "", {1, 1, false}).value();
        run = [] { return lin.forward(x)[0]; };
#endif
    } else {
        std::fprintf(stderr, "unknown case %s\n", which.c_str());
        return 2;
    }
    float sink = 0;
    auto t0 = std::chrono::steady_clock::now();
    sink += run();
    const double first = ms_since(t0);
    std::vector<double> times;
    for (int i = 0; i < repeats; ++i) {
        t0 = std::chrono::steady_clock::now();
        sink += run();
        times.push_back(ms_since(t0));
    }
    std::sort(times.begin(), times.end());
    const double median = times.empty() ? first : times[times.size() / 2];
    const double best = times.empty() ? first : times.front();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf(
        "%-8s %-8s median %8.2f ms  min %8.2f ms  first %8.2f ms  main-to-end %8.1f ms  peak RSS %6.1f MiB  (%g)\n",
        backend, which.c_str(), median, best, first, ms_since(t_main), ru.ru_maxrss / 1024.0,
        static_cast<double>(sink));
    return 0;
}
