#!/usr/bin/env node
// Essentia peer for the Harmony benchmark (essentia.js, the WASM build of Essentia).
//
//   node essentia_peer.js rhythm FILE          -> {"bpm", "beats", "confidence"}
//   node essentia_peer.js key FILE PROFILE     -> {"tonic", "mode", "strength", "profile"}
//   node essentia_peer.js chords FILE          -> {"chords": [[start, end, label], ...], "hop_s"}
//
// Audio is decoded by ffmpeg to mono float32 at 44.1 kHz (Essentia's default rate), so the timed
// command includes decoding, as Harmony's does. Algorithms are used with Essentia's defaults:
// RhythmExtractor2013(method="multifeature") and KeyExtractor(profileType=PROFILE). Chords:
// TonalExtractor (frameSize 4096, hopSize 2048, tuning 440: the defaults of its documentation), whose
// chords_progression is HPCP -> ChordsDetection (major/minor triads, 2 s window), one label per
// frame; frame i starts at i * hop. Labels ("F#m", "Bb") are returned as Harte ("F#:min", "Bb:maj").
"use strict";
const { execFileSync } = require("child_process");
const { EssentiaWASM, Essentia } = require("essentia.js");

function decode(file) {
  const buf = execFileSync("ffmpeg", ["-v", "error", "-nostdin", "-i", file, "-map", "0:a:0",
    "-ac", "1", "-ar", "44100", "-f", "f32le", "-"], { maxBuffer: 4 * 1024 * 1024 * 1024 });
  // Copy into an aligned Float32Array (the Buffer may not be 4-byte aligned).
  const out = new Float32Array(buf.length >> 2);
  Buffer.from(out.buffer).set(buf.subarray(0, out.length * 4));
  return out;
}

function main(argv) {
  const [task, file, profile] = argv;
  if (!file || (task !== "rhythm" && task !== "key" && task !== "chords")) {
    process.stderr.write("usage: essentia_peer.js rhythm FILE | key FILE PROFILE | chords FILE\n");
    return 2;
  }
  const samples = decode(file);
  const essentia = new Essentia(EssentiaWASM);
  const signal = essentia.arrayToVector(samples);
  let res;
  if (task === "rhythm") {
    const r = essentia.RhythmExtractor2013(signal, 208, "multifeature", 40);
    res = { bpm: r.bpm, beats: Array.from(essentia.vectorToArray(r.ticks)),
      confidence: r.confidence };
  } else if (task === "chords") {
    const hop = 2048;
    const t = essentia.TonalExtractor(signal, 4096, hop, 440);
    const labels = [];
    const prog = t.chords_progression;
    const n = prog.size();
    for (let i = 0; i < n; i++) labels.push(prog.get(i));
    const dur = samples.length / 44100;
    const chords = [];
    for (let i = 0; i < n; i++) {
      const start = i * hop / 44100;
      if (start >= dur) break;
      const end = Math.min(dur, (i + 1) * hop / 44100);
      const raw = labels[i];
      const lab = raw.endsWith("m") ? raw.slice(0, -1) + ":min" : raw + ":maj";
      if (chords.length && chords[chords.length - 1][2] === lab) chords[chords.length - 1][1] = end;
      else chords.push([start, end, lab]);
    }
    res = { chords: chords, hop_s: hop / 44100 };
  } else {
    const p = profile || "bgate";
    // Positional arguments follow the API order; all but profileType keep Essentia's defaults.
    const k = essentia.KeyExtractor(signal, true, 4096, 4096, 12, 3500, 60, 25, 0.2, p, 44100,
      0.0001, 440, "cosine", "hann");
    res = { tonic: k.key, mode: k.scale, strength: k.strength, profile: p };
  }
  res.duration_s = samples.length / 44100;
  process.stdout.write(JSON.stringify(res) + "\n");
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  process.stderr.write("essentia_peer: " + (e && e.message ? e.message : String(e)).slice(0, 500) + "\n");
  process.exitCode = 1;
}
