#!/bin/sh
# The AVX2 build of src/nn/kernels.cpp must define no global or weak symbol outside its own
# namespaces (harmony::nn::kernels::avx2, and Eigen renamed harmony_nn_eigen_avx2): an inline
# function it shared with baseline objects (a std:: template, an Eigen routine) could be the copy the
# linker keeps, and baseline code would then run AVX2 instructions on a CPU without them.
# (DW.ref.__gxx_personality_v0 is data: a pointer to the C++ runtime's unwinding routine;
# __odr_asan.<mangled name> is AddressSanitizer's one-definition-rule marker of one of our own
# globals, present only in sanitizer builds: it is allowed when the global it marks is ours.)
# Usage: nn_isa_symbols.sh OBJECT...
set -eu
[ $# -ge 1 ] || { echo "usage: $0 OBJECT..." >&2; exit 2; }
status=0
for obj in "$@"; do
    # nm: upper-case types are global, V/W weak, u unique global; lower-case (but u) are local.
    bad=$(nm -C --defined-only "$obj" | awk '$2 ~ /^[A-Zu]$/' | grep -v -e 'harmony::nn::kernels::avx2::' \
        -e 'harmony_nn_eigen_avx2' \
        -e ' DW.ref.__gxx_personality_v0$' \
        -e ' __odr_asan\._ZN7harmony2nn7kernels4avx2' || true)
    count=$(nm -C --defined-only "$obj" | awk '$2 ~ /^[A-Zu]$/' | grep -c 'kernels::avx2::kTable' || true)
    if [ "$count" -ne 1 ]; then
        echo "$obj: harmony::nn::kernels::avx2::kTable is not defined" >&2
        status=1
    fi
    if [ -n "$bad" ]; then
        echo "$obj: symbols outside the AVX2 namespaces:" >&2
        echo "$bad" >&2
        status=1
    fi
done
[ $status -eq 0 ] && echo "ok: $* defines only its own symbols"
exit $status
