#!/usr/bin/env python3
"""Copy a shared library with each RDTSCP instruction (0f 01 f9) replaced by RDTSC; NOP (0f 31 90).

usage: patch_rdtscp.py LIB OUT

Valgrind 3.19 (Debian 12) stops with SIGILL on RDTSCP, which libhwy (loaded by libavcodec through
libjxl) executes in its initialiser. Both read the time-stamp counter; RDTSCP also sets ECX, which
libhwy's timer calls do not read. Used for profiling only (bench/profile/run.sh). The instructions
are found by disassembly (objdump), never by searching the bytes.
"""
import re
import subprocess
import sys

lib, out = sys.argv[1], sys.argv[2]
data = bytearray(open(lib, "rb").read())
sections = subprocess.run(["objdump", "-h", lib], capture_output=True, text=True, check=True).stdout
text = re.search(r"\.text\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", sections)
size, vma, off = (int(g, 16) for g in text.groups())
disasm = subprocess.run(["objdump", "-d", "-j", ".text", lib], capture_output=True, text=True, check=True).stdout
count = 0
for m in re.finditer(r"^\s*([0-9a-f]+):\s+0f 01 f9\s+rdtscp", disasm, re.M):
    pos = int(m.group(1), 16) - vma + off
    assert data[pos:pos + 3] == b"\x0f\x01\xf9"
    data[pos:pos + 3] = b"\x0f\x31\x90"
    count += 1
open(out, "wb").write(data)
print(f"patch_rdtscp: {count} RDTSCP -> RDTSC; NOP in {out}", file=sys.stderr)
