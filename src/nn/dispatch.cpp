// Harmony nn — choosing the kernels' instruction set once per process (kernels.hpp).
#include <cstdlib>
#include <cstring>

#include "nn/kernels.hpp"

namespace harmony::nn::kernels {
namespace baseline {
extern const Table kTable;
}
#if defined(HARMONY_NN_HAVE_AVX2)
namespace avx2 {
extern const Table kTable;
}
#endif

namespace {

#if defined(HARMONY_NN_HAVE_AVX2)
bool cpu_has_avx2_fma() noexcept {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}
#endif

const Table& choose() noexcept {
    const char* forced = std::getenv("HARMONY_NN_ISA");
    if (forced != nullptr && std::strcmp(forced, "baseline") == 0) return baseline::kTable;
    if (const Table* best = table(Isa::kAvx2)) return *best;
    return baseline::kTable;
}

}  // namespace

const Table* table(Isa isa) noexcept {
    switch (isa) {
        case Isa::kBaseline:
            return &baseline::kTable;
        case Isa::kAvx2:
#if defined(HARMONY_NN_HAVE_AVX2)
            if (cpu_has_avx2_fma()) return &avx2::kTable;
#endif
            return nullptr;
    }
    return nullptr;
}

const Table& active() noexcept {
    static const Table& chosen = choose();
    return chosen;
}

std::string_view active_isa() noexcept {
    return active().name;
}

}  // namespace harmony::nn::kernels
