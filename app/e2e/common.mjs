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
