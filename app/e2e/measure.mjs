// The app's figures for app/README.md, on this machine, headless Chromium, median of 5:
//   node e2e/measure.mjs --harmony ../build/harmony --dist ../build/app-dist [--runs 5] [--seconds 240]
// bundle size (raw and gzip -9, first load vs. lazy chunks), time to first paint and first
// contentful paint of the app, time from navigation to an interactive track view (waveform
// decoded and drawn, grid on, play enabled) for a 4-minute track, and the page's memory there.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { arg, demo, findChromium, launch, median, startServer, tmpdir } from './common.mjs';

const harmony = path.resolve(arg('harmony', '../build/harmony'));
const dist = path.resolve(arg('dist', '../build/app-dist'));
const runs = Number(arg('runs', '5'));
const seconds = Number(arg('seconds', '240'));
const chromium = findChromium();
if (!chromium) throw new Error('chromium is not installed');

// --- bundle --------------------------------------------------------------------------------
const index = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
const files = [];
const walk = (d) => {
  for (const f of fs.readdirSync(d)) {
    const p = path.join(d, f);
    if (fs.statSync(p).isDirectory()) walk(p);
    else files.push(p);
  }
};
walk(dist);
const bundle = files.map((p) => {
  const rel = '/' + path.relative(dist, p);
  const raw = fs.readFileSync(p);
  return { file: rel, raw: raw.length, gzip: zlib.gzipSync(raw, { level: 9 }).length, initial: rel === '/index.html' || index.includes(rel) };
});
const sum = (xs, k) => xs.reduce((a, x) => a + x[k], 0);
const initial = bundle.filter((b) => b.initial);
console.log('bundle:');
for (const b of bundle) console.log(`  ${b.file.padEnd(44)} ${String(b.raw).padStart(8)} B  gzip ${String(b.gzip).padStart(7)} B${b.initial ? '  (first load)' : '  (lazy)'}`);
console.log(`  first load: ${(sum(initial, 'raw') / 1024).toFixed(1)} KiB, gzip ${(sum(initial, 'gzip') / 1024).toFixed(1)} KiB; everything: ${(sum(bundle, 'raw') / 1024).toFixed(1)} KiB, gzip ${(sum(bundle, 'gzip') / 1024).toFixed(1)} KiB`);

// --- timings --------------------------------------------------------------------------------
const work = tmpdir('harmony-measure-');
const track = demo(harmony, path.join(work, `demo-${seconds}s.wav`), seconds);
const mp3 = path.join(work, `demo-${seconds}s.mp3`);
let file = track;
try {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', track, '-b:a', '192k', mp3]);
  file = mp3; // a DJ's usual file; the WAV when ffmpeg is absent
} catch {
  /* keep the WAV */
}
const server = await startServer(harmony, path.join(work, 'data'), ['--jobs', '2', '--quiet']);
const browser = await launch(chromium);
try {
  const page = await browser.newPage();
  await page.goto(server.base + '/', { waitUntil: 'networkidle0' });
  await (await page.$('[data-testid=file-input]')).uploadFile(file);
  await page.waitForSelector('[data-testid=queue-item][data-status=succeeded]', { timeout: 300000 });
  const item = (await page.evaluate(() => JSON.parse(localStorage.getItem('harmony.queue.v1'))))[0];
  await page.close();

  const fp = [];
  const fcp = [];
  const tti = [];
  const heap = [];
  const rss = [];
  for (let i = 0; i < runs; i++) {
    // First paint of the app (Analyse view), a fresh page; the HTTP cache is off so every run
    // loads the bundle from the server.
    const p = await browser.newPage();
    await p.setCacheEnabled(false);
    await p.goto(server.base + '/#/analyse', { waitUntil: 'load' });
    await p.waitForSelector('[data-testid=dropzone]');
    const paints = await p.evaluate(
      () =>
        new Promise((resolve) => {
          // FCP can be reported a frame after the content is there: wait for it (buffered).
          const out = {};
          const done = () => resolve(out);
          new PerformanceObserver((list) => {
            for (const e of list.getEntries()) out[e.name] = e.startTime;
            if ('first-contentful-paint' in out) done();
          }).observe({ type: 'paint', buffered: true });
          setTimeout(done, 3000);
        }),
    );
    fp.push(paints['first-paint'] ?? Number.NaN);
    fcp.push(paints['first-contentful-paint'] ?? Number.NaN);
    // Interactive track view: navigation -> audio decoded, waveform and grid drawn, play enabled.
    await p.goto('about:blank');
    await p.goto(`${server.base}/#/track/${item.id}`, { waitUntil: 'load' });
    await p.waitForSelector('[data-testid=track-view][data-ready="1"]', { timeout: 120000 });
    await p.waitForSelector('[data-testid=play]:not([disabled])');
    tti.push(await p.evaluate(() => performance.getEntriesByName('harmony-track-interactive')[0]?.startTime ?? NaN));
    const m = await p.metrics();
    heap.push(m.JSHeapUsedSize / 1048576);
    // Resident memory of the renderer processes (the decoded audio lives outside the JS heap).
    const pids = execFileSync('pgrep', ['-f', '--', '--type=renderer']).toString().trim().split('\n').map(Number);
    let kb = 0;
    for (const pid of pids) {
      try {
        const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
        kb = Math.max(kb, Number(/VmRSS:\s+(\d+)/.exec(st)?.[1] ?? 0));
      } catch {
        /* gone */
      }
    }
    rss.push(kb / 1024);
    await p.close();
  }
  const f = (xs, d = 0) => {
    const ok = xs.filter((x) => Number.isFinite(x));
    return ok.length ? `${median(ok).toFixed(d)} (runs: ${xs.map((x) => x.toFixed(d)).join(', ')})` : 'not reported by this Chromium';
  };
  console.log(`track: ${path.basename(file)}, ${seconds} s`);
  console.log(`first paint, ms:               ${f(fp)}`);
  console.log(`first contentful paint, ms:    ${f(fcp)}`);
  console.log(`interactive track view, ms:    ${f(tti)}`);
  console.log(`JS heap used on it, MiB:       ${f(heap, 1)}`);
  console.log(`largest renderer RSS, MiB:     ${f(rss, 0)}`);
} finally {
  await browser.close();
  await server.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
