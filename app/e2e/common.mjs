// Shared by the browser tests and the measurements: a real `harmony serve` on loopback and
// Debian's chromium driven by puppeteer-core (no browser download).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

export function findChromium() {
  for (const c of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium']) {
    if (c && fs.existsSync(c)) return c;
  }
  return null;
}

export function tmpdir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function demo(harmony, file, seconds) {
  execFileSync(harmony, ['demo', '-o', file, '--seconds', String(seconds)], { stdio: 'ignore' });
  return file;
}

/** Starts `harmony serve` on a free port; resolves to { base, stop, proc }. */
export async function startServer(harmony, dataDir, extra = []) {
  const portFile = path.join(dataDir, 'port');
  fs.mkdirSync(dataDir, { recursive: true });
  const log = fs.openSync(path.join(dataDir, 'serve.log'), 'w');
  const proc = spawn(harmony, ['serve', '--port', '0', '--port-file', portFile, '--data-dir', dataDir, ...extra], { stdio: ['ignore', log, log] });
  for (let i = 0; i < 200; i++) {
    if (fs.existsSync(portFile)) {
      const port = Number(fs.readFileSync(portFile, 'utf8').trim());
      if (port > 0) {
        const base = `http://127.0.0.1:${port}`;
        return {
          base,
          proc,
          log: () => fs.readFileSync(path.join(dataDir, 'serve.log'), 'utf8'),
          stop: () =>
            new Promise((resolve) => {
              if (proc.exitCode !== null) return resolve(proc.exitCode);
              proc.once('exit', (code) => resolve(code));
              proc.kill('SIGTERM');
            }),
        };
      }
    }
    if (proc.exitCode !== null) throw new Error(`harmony serve exited with ${proc.exitCode}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error('harmony serve did not start within 20 s');
}

export async function launch(chromium, width = 1280, height = 800) {
  return puppeteer.launch({
    executablePath: chromium,
    headless: true,
    defaultViewport: { width, height },
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--autoplay-policy=no-user-gesture-required', '--no-first-run', '--disable-gpu', '--mute-audio'],
  });
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * A 4-part song A B A B from a demo WAV (16-bit PCM): B is the demo at 30 % under a sustained
 * F major pad, so the sections analyzer finds four sections with two letters.
 */
export function abab(demoWav, out) {
  const buf = fs.readFileSync(demoWav);
  let off = 12;
  let fmt = null;
  let data = null;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'fmt ') fmt = { ch: buf.readUInt16LE(off + 10), sr: buf.readUInt32LE(off + 12), bits: buf.readUInt16LE(off + 22) };
    if (id === 'data') {
      data = buf.subarray(off + 8, off + 8 + size);
      break;
    }
    off += 8 + size + (size & 1);
  }
  if (!fmt || !data || fmt.bits !== 16) throw new Error(`${demoWav}: not 16-bit PCM WAV`);
  const n = data.length / 2;
  const a = new Int16Array(n);
  for (let i = 0; i < n; i++) a[i] = data.readInt16LE(i * 2);
  const b = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = Math.floor(i / fmt.ch) / fmt.sr;
    const pad = (Math.sin(2 * Math.PI * 349.23 * t) + Math.sin(2 * Math.PI * 440 * t) + Math.sin(2 * Math.PI * 523.25 * t)) * 3000;
    b[i] = Math.max(-32768, Math.min(32767, Math.round(a[i] * 0.3 + pad)));
  }
  const parts = [a, b, a, b];
  const body = Buffer.alloc(n * 2 * parts.length);
  parts.forEach((p, k) => {
    for (let i = 0; i < n; i++) body.writeInt16LE(p[i], (k * n + i) * 2);
  });
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + body.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(fmt.ch, 22);
  h.writeUInt32LE(fmt.sr, 24);
  h.writeUInt32LE(fmt.sr * fmt.ch * 2, 28);
  h.writeUInt16LE(fmt.ch * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(body.length, 40);
  fs.writeFileSync(out, Buffer.concat([h, body]));
  return out;
}

/** The melody of melodyTrack: [onset s, duration s, MIDI] (a C major tune, two bars a phrase). */
export const MELODY = [
  [0.5, 0.45, 72], [1.0, 0.45, 74], [1.5, 0.45, 76], [2.0, 0.95, 79],
  [3.0, 0.45, 77], [3.5, 0.45, 76], [4.0, 0.45, 74], [4.5, 0.95, 72],
  [5.5, 0.45, 76], [6.0, 0.45, 79], [6.5, 0.95, 81], [7.5, 0.45, 79],
  [8.0, 0.45, 77], [8.5, 0.45, 76], [9.0, 0.95, 74], [10.0, 1.45, 72],
];
/** Its bass line: one note a bar (2 s), C F G C … */
export const BASS = [
  [0.5, 1.9, 36], [2.5, 1.9, 41], [4.5, 1.9, 43], [6.5, 1.9, 36], [8.5, 1.9, 43], [10.5, 1.4, 36],
];

/**
 * A synthesised melody track (16-bit mono WAV, 22.05 kHz, 12 s): a lead tune with harmonics (a
 * soft sawtooth), a sine-like bass an octave and more below, and quiet hi-hat ticks on the beat,
 * for the piano roll and the stem mixer.
 */
export function melodyTrack(out, seconds = 12) {
  const sr = 22050;
  const n = Math.round(seconds * sr);
  const x = new Float32Array(n);
  const hz = (m) => 440 * 2 ** ((m - 69) / 12);
  const tone = (onset, dur, midi, amp, harmonics) => {
    const f = hz(midi);
    const a = Math.round(onset * sr);
    const len = Math.round(dur * sr);
    for (let i = 0; i < len && a + i < n; i++) {
      const t = i / sr;
      const env = Math.min(1, t / 0.01) * Math.min(1, (dur - t) / 0.03) * Math.exp(-t * 0.8);
      let v = 0;
      for (let k = 1; k <= harmonics; k++) v += Math.sin(2 * Math.PI * f * k * t) / k;
      x[a + i] += amp * env * v;
    }
  };
  for (const [o, d, m] of MELODY) tone(o, d, m, 0.22, 6);
  for (const [o, d, m] of BASS) tone(o, d, m, 0.35, 2);
  let seed = 7;
  for (let b = 0.5; b < seconds; b += 0.5) {
    const a = Math.round(b * sr);
    for (let i = 0; i < 400 && a + i < n; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      x[a + i] += ((seed / 0x7fffffff) * 2 - 1) * 0.12 * Math.exp(-i / 80);
    }
  }
  const body = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) body.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(x[i] * 32767))), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + body.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(sr, 24);
  h.writeUInt32LE(sr * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(body.length, 40);
  fs.writeFileSync(out, Buffer.concat([h, body]));
  return out;
}
