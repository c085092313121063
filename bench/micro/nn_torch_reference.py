#!/usr/bin/python3
"""libtorch's figures for the src/nn backend comparison (src/nn/README.md), from Debian's
python3-torch 1.13 (the same libtorch_cpu.so a C++ build would link), one thread.

    /usr/bin/python3 bench/micro/nn_torch_reference.py [repeats]

Prints, like nn_backends_*, the median and minimum milliseconds of each case, then the cost of
loading libtorch_cpu itself (dlopen time and resident-memory growth), measured in a fresh process.
"""

import ctypes.util
import glob
import resource
import subprocess
import sys
import time


def load_cost():
    code = r"""
import ctypes, glob, resource, time
lib = (glob.glob('/usr/lib/*/libtorch_cpu.so.*') + glob.glob('/usr/lib/python3/dist-packages/torch/lib/libtorch_cpu.so'))[0]
def rss_mib():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024.0
before = rss_mib()
t0 = time.perf_counter()
ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
ms = (time.perf_counter() - t0) * 1000
print('libtorch load   %s: dlopen %.1f ms, resident memory +%.1f MiB' % (lib, ms, rss_mib() - before))
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    t0 = time.perf_counter()
    import torch
    import torch.nn.functional as F

    print("import torch: %.0f ms" % ((time.perf_counter() - t0) * 1000))
    torch.set_num_threads(1)
    torch.manual_seed(1)
    cases = {}
    x2 = torch.randn(1, 8, 105, 1000) * 0.1
    w2 = torch.randn(16, 8, 3, 3) * 0.1
    b = torch.randn(16) * 0.1
    cases["conv2d"] = lambda: F.conv2d(x2, w2, b, padding=1)
    gru = torch.nn.GRU(128, 128, batch_first=True)
    xg = torch.randn(1, 1000, 128) * 0.1
    cases["gru"] = lambda: gru(xg)[0]
    x1 = torch.randn(1, 16, 12000) * 0.1
    w1 = torch.randn(16, 16, 5) * 0.1
    cases["conv1d"] = lambda: F.conv1d(x1, w1, b, padding=8, dilation=4)
    with torch.no_grad():
        for name, run in cases.items():
            t = time.perf_counter()
            run()
            first = (time.perf_counter() - t) * 1000
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                run()
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            print("libtorch %-8s median %8.2f ms  min %8.2f ms  first %8.2f ms" % (name, times[len(times) // 2], times[0], first))
    print("peak RSS of this python process: %.1f MiB" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0))
    load_cost()


if __name__ == "__main__":
    main()
