#!/usr/bin/env python3
"""Per-stage inclusive cost of a callgrind profile of `harmony analyze`.

usage: stages.py CALLGRIND_OUT [TOTAL_CPU_S] [--functions]

Reads the raw callgrind file (instruction counts, Ir), computes each function's inclusive cost
and the inclusive cost of every caller -> callee edge, and sums them into the stages below. A
stage is a list of (callee pattern, caller pattern, None or "self") edges; patterns are regular
expressions on callgrind's function names. The stages are chosen so none contains another: a
stage's functions are the entry points of that work, called from the pipeline, not from another
stage. TOTAL_CPU_S (user+sys of the same command, measured without valgrind) converts each share
into approximate CPU-seconds. --functions lists the 40 largest inclusive costs instead.
"""
import collections
import re
import sys

# (stage, [(callee regex, caller regex or None)]). Order is the table's order.
STAGES = [
    ("decode (demux + MP3 decode)", [(r"^av_read_frame$", None), (r"^avcodec_send_packet$", None),
                                     (r"^avcodec_receive_frame$", None),
                                     (r"^avformat_open_input$", None), (r"^avformat_find_stream_info$", None)]),
    ("downmix / sample-format conversion (swresample)", [(r"^swr_convert$", r"io::")]),
    ("resample to 22.05 kHz (soxr)", [(r"^soxr_process$", None)]),
    ("STFT (window + FFTW)", [(r"StreamingStft::emit_frames", None)]),
    ("  of which rhythm features", [(r"RhythmFeatures::on_frame", None)]),
    ("  of which chroma", [(r"Chroma::on_frame", None)]),
    ("loudness: ebur128 meter (filter, M/S, histograms)", [(r"^ebur128_add_frames_float$", None),
                                                          (r"^ebur128_loudness_(momentary|shortterm)$", None)]),
    # Before: libswresample to 192 kHz called from the meter, and the max-abs loop over its output;
    # after: the Annex 2 FIR, inlined into the meter's own code (its self cost), and its buffer fills.
    ("true peak", [(r"^swr_convert$", r"TruePeak|LoudnessMeter"), (r"^__mem(set|cpy)", r"TruePeak|LoudnessMeter"),
                   (r"TruePeak::add|LoudnessMeter::on_native", "self")]),
    ("tempo / beats / downbeats / meter", [(r"TempoAnalyzer::analyze", None), (r"BeatsAnalyzer::analyze", None)]),
    ("key", [(r"KeyAnalyzer::analyze", None)]),
    ("content hash (xxhash)", [(r"core::hash_file", None)]),
    ("JSON + schema validation", [(r"^harmony::to_json\b", None)]),
    ("process start-up (dynamic linking of ~100 libraries)", [(r"^_dl_start$", None)]),
]


def parse(path):
    names = {}  # compressed id -> name, per kind
    def name(kind, text):
        m = re.match(r"\((\d+)\)\s*(.*)", text)
        if not m:
            return text
        key = (kind, m.group(1))
        if m.group(2):
            names[key] = m.group(2)
        return names.get(key, text)
    self_cost = collections.Counter()
    edge = collections.Counter()
    fn = cfn = None
    pending_call = False
    total = 0
    with open(path) as f:
        for line in f:
            if line.startswith("fn="):
                fn = name("fn", line[3:].strip())
            elif line.startswith("cfn="):
                cfn = name("fn", line[4:].strip())
            elif line.startswith("calls="):
                pending_call = True
            elif line and (line[0].isdigit() or line[0] in "+-*"):
                parts = line.split()
                if len(parts) < 2:
                    continue
                ir = int(parts[1])
                if pending_call:
                    edge[(fn, cfn)] += ir
                    pending_call = False
                else:
                    self_cost[fn] += ir
            elif line.startswith("summary:") or line.startswith("totals:"):
                total = max(total, int(line.split()[1]))
    total = max(total, sum(self_cost.values()))
    inclusive = collections.Counter(self_cost)
    for (caller, callee), ir in edge.items():
        if caller != callee:
            inclusive[caller] += ir
    return total, inclusive, edge, self_cost


def stage_cost(edges_spec, inclusive, edge, self_cost):
    cost = 0
    for callee_re, caller_re in edges_spec:
        if caller_re == "self":  # the functions' own instructions, not their calls
            cost += sum(ir for f, ir in self_cost.items() if re.search(callee_re, f))
        elif caller_re is None:
            # inclusive cost of matching functions, not counting calls among them (recursion)
            matching = [f for f in inclusive if re.search(callee_re, f)]
            internal = sum(ir for (a, b), ir in edge.items() if a in matching and b in matching and a != b)
            cost += sum(inclusive[f] for f in matching) - internal
        else:
            cost += sum(ir for (a, b), ir in edge.items()
                        if re.search(callee_re, b) and re.search(caller_re, a))
    return cost


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    total, inclusive, edge, self_cost = parse(args[0])
    cpu_s = float(args[1]) if len(args) > 1 else None
    if "--functions" in sys.argv:
        for f, ir in inclusive.most_common(40):
            print(f"{ir:>15,} {100.0 * ir / total:6.2f}%  {f}")
        return
    print("| stage | instructions (Ir) | share | ≈ CPU-s |")
    print("|---|---:|---:|---:|")
    accounted = 0
    for stage, spec in STAGES:
        ir = stage_cost(spec, inclusive, edge, self_cost)
        if not stage.startswith("  "):
            accounted += ir
        share = ir / total
        sec = f"{share * cpu_s:.3f}" if cpu_s else ""
        print(f"| {stage} | {ir:,} | {100 * share:.1f} % | {sec} |")
    rest = total - accounted
    sec = f"{rest / total * cpu_s:.3f}" if cpu_s else ""
    print(f"| everything else (start-up, feature plumbing, allocation) | {rest:,} | {100 * rest / total:.1f} % | {sec} |")
    sec = f"{cpu_s:.3f}" if cpu_s else ""
    print(f"| **total** | {total:,} | 100 % | {sec} |")


if __name__ == "__main__":
    main()
