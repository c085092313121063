// End-to-end test of the web app in real Chromium against the real `harmony serve`:
//   node e2e/run.mjs --harmony build/harmony --out build/app-e2e
// Drops the demo track and a corrupt file, waits for the live progress to finish, checks that the
// BPM, key and grid shown are the Song Map's, plays and seeks, exports rekordbox XML and parses
// it, runs a 5-file batch with a reload in the middle, uses the library (sort, filter, export of a
// selection) and the settings, scans every view with axe-core (no serious or critical
// violations) and fails on any console error. Screenshots of each view go to --out.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { arg, demo, findChromium, launch, startServer, tmpdir } from './common.mjs';

const require = createRequire(import.meta.url);
const harmony = path.resolve(arg('harmony', '../build/harmony'));
const out = path.resolve(arg('out', 'e2e-artifacts'));
const chromium = findChromium();
if (!chromium) {
  console.log('SKIP: chromium is not installed (scripts/setup.sh installs it)');
  process.exit(77);
}
fs.mkdirSync(out, { recursive: true });
const work = tmpdir('harmony-e2e-');
const downloads = path.join(work, 'downloads');
fs.mkdirSync(downloads);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const t0 = Date.now();
const step = (s) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${s}`);

const demoFile = demo(harmony, path.join(work, 'demo.wav'), 30);
const corrupt = path.join(work, 'corrupt.mp3');
fs.writeFileSync(corrupt, Buffer.concat([Buffer.from('ID3\x03\x00\x00\x00\x00\x00\x00'), Buffer.alloc(20000, 0x5a)]));
const batch = [11, 12, 13, 14, 15].map((s) => demo(harmony, path.join(work, `batch-${s}s.wav`), s));

// One analysis thread and a delay per job: the batch is still running when the page reloads.
const server = await startServer(harmony, path.join(work, 'data'), ['--jobs', '1', '--debug-job-delay-ms', '700', '--quiet']);
const browser = await launch(chromium);
const errors = [];
let failed = false;
try {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // an aborted download navigation or a closed WebSocket on reload is not an error
    if (!/ERR_ABORTED/.test(r.failure()?.errorText ?? '')) errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads, eventsEnabled: true });

  const shot = (name) => page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
  const axe = async (name) => {
    // Through the DevTools protocol, not a script tag: the page's CSP (rightly) blocks inline scripts.
    if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
    const res = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    fs.writeFileSync(path.join(out, `axe-${name}.json`), JSON.stringify(res, null, 2));
    const serious = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(serious, [], `axe (${name}): serious violations ${JSON.stringify(serious, null, 1)}`);
    step(`axe ${name}: ${res.length} minor/moderate findings, no serious ones`);
  };
  const queueState = () =>
    page.$$eval('[data-testid=queue-item]', (els) => els.map((e) => ({ name: e.dataset.name, status: e.dataset.status, text: e.textContent })));
  const stored = () => page.evaluate(() => JSON.parse(localStorage.getItem('harmony.queue.v1') ?? '[]'));

  // --- Analyse: a drop and a pick ------------------------------------------------------------
  await page.goto(server.base + '/', { waitUntil: 'networkidle0' });
  await page.waitForSelector('[data-testid=dropzone]');
  await shot('1-analyse-empty');
  await axe('analyse-empty');
  step('page loaded');

  const demoB64 = fs.readFileSync(demoFile).toString('base64');
  await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'demo.wav', { type: 'audio/wav' }));
    const zone = document.querySelector('[data-testid=dropzone]');
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, demoB64);
  const input = await page.$('[data-testid=file-input]');
  await input.uploadFile(corrupt);

  // Live progress: watch the rows until both are final, remembering the states seen.
  const seen = new Set();
  const fractions = new Set();
  for (let i = 0; ; i++) {
    const rows = await page.$$eval('[data-testid=queue-item]', (els) =>
      els.map((e) => ({ name: e.dataset.name, status: e.dataset.status, pct: e.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow') })),
    );
    for (const r of rows) {
      seen.add(`${r.name}:${r.status}`);
      if (r.name === 'demo.wav' && r.status === 'running') fractions.add(r.pct);
    }
    const d = rows.find((r) => r.name === 'demo.wav');
    const c = rows.find((r) => r.name === 'corrupt.mp3');
    if (d && c && ['succeeded', 'failed'].includes(d.status) && c.status === 'failed') break;
    assert.ok(i < 1200, `analysis did not finish: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const rows = await queueState();
  const demoRow = rows.find((r) => r.name === 'demo.wav');
  const badRow = rows.find((r) => r.name === 'corrupt.mp3');
  assert.equal(demoRow.status, 'succeeded', demoRow.text);
  assert.ok(seen.has('demo.wav:running'), `never saw the demo running: ${[...seen]}`);
  assert.ok(/Not an audio file|could not be decoded|no audio/i.test(badRow.text), `unclear error for the corrupt file: ${badRow.text}`);
  step(`analysed; states seen ${[...seen].join(', ')}; running progress values ${[...fractions].join(',')}`);
  await shot('2-analyse-done');
  await axe('analyse-done');

  // --- Track view: numbers and grid are the Song Map's -----------------------------------------
  const items = await stored();
  const demoItem = items.find((i) => i.name === 'demo.wav');
  const map = await (await fetch(`${server.base}/v1/jobs/${demoItem.jobId}/result`)).json();
  await page.goto(`${server.base}/#/track/${demoItem.id}`);
  await page.waitForSelector('[data-testid=track-view][data-ready="1"]', { timeout: 30000 });
  const shown = await page.evaluate(() => {
    const t = (id) => document.querySelector(`[data-testid=${id}]`)?.textContent?.trim();
    const root = document.querySelector('[data-testid=waveform] > div')?.shadowRoot;
    return {
      bpm: t('bpm'),
      key: t('key'),
      camelot: t('camelot'),
      openkey: t('openkey'),
      meter: t('meter'),
      downbeats: root ? root.querySelectorAll('line[data-kind=downbeat]').length : -1,
      beats: root ? root.querySelectorAll('line[data-kind=beat]').length : -1,
      bars: root ? [...root.querySelectorAll('text[data-bar]')].map((e) => Number(e.textContent)) : [],
      wheel: document.querySelector('.wheel .current')?.getAttribute('data-camelot'),
      compatible: [...document.querySelectorAll('.wheel .compatible')].map((e) => e.getAttribute('data-camelot')).sort(),
    };
  });
  assert.equal(shown.bpm, map.tempo.bpm.toFixed(1));
  assert.equal(shown.key, map.key.label);
  assert.equal(shown.camelot, map.key.camelot);
  assert.equal(shown.openkey, map.key.open_key);
  assert.equal(shown.meter, map.meter.label);
  assert.equal(shown.wheel, map.key.camelot);
  assert.deepEqual(shown.compatible, map.key.compatible_camelot.filter((c) => c !== map.key.camelot).sort());
  assert.equal(shown.downbeats, map.downbeats.times_s.length, 'one downbeat line per downbeat');
  assert.equal(shown.beats + shown.downbeats, map.beats.times_s.length + map.downbeats.times_s.filter((d) => !map.beats.times_s.some((b) => Math.abs(b - d) <= 0.03)).length);
  assert.equal(shown.bars[0], 1);
  step(`track view: ${JSON.stringify(shown)}`);
  await shot('3-track');
  await axe('track');

  // Play, pause, click-to-seek and keyboard seeking.
  const clock = async () => {
    const txt = await page.$eval('[data-testid=clock]', (e) => e.textContent);
    const [m, s] = txt.split('/')[0].trim().split(':');
    return Number(m) * 60 + Number(s);
  };
  await page.click('[data-testid=play]');
  await page.waitForSelector('[data-testid=play][aria-label=Pause]', { timeout: 5000 });
  await new Promise((r) => setTimeout(r, 1500));
  const playedTo = await clock();
  assert.ok(playedTo >= 0.5, `playback did not advance: ${playedTo}`);
  await page.click('[data-testid=play]');
  await page.waitForSelector('[data-testid=play][aria-label=Play]');
  const box = await (await page.$('[data-testid=waveform]')).boundingBox();
  await page.mouse.click(box.x + box.width * 0.75, box.y + box.height / 2);
  await new Promise((r) => setTimeout(r, 300));
  const seekTo = await clock();
  assert.ok(Math.abs(seekTo - map.audio.duration_s * 0.75) < 1.5, `click-to-seek: ${seekTo} vs ${map.audio.duration_s * 0.75}`);
  await page.keyboard.press('ArrowLeft');
  await new Promise((r) => setTimeout(r, 200));
  const back = await clock();
  assert.ok(Math.abs(seekTo - 5 - back) < 0.3, `ArrowLeft seeks 5 s back: ${seekTo} -> ${back}`);
  step(`played to ${playedTo} s, clicked to ${seekTo} s, arrow to ${back} s`);

  // The spectrogram (computed in the page from the decoded audio, loaded on demand).
  await page.click('::-p-text(Spectrogram)');
  await page.waitForFunction(() => {
    const c = document.querySelector('.spectrogram');
    const canvases = [...(c?.querySelectorAll('canvas') ?? []), ...(c?.firstElementChild?.shadowRoot?.querySelectorAll('canvas') ?? [])];
    return canvases.some((x) => x.width > 0) || (c?.getBoundingClientRect().height ?? 0) > 50;
  }, { timeout: 20000 });
  step('spectrogram drawn');

  // Export rekordbox XML and parse it.
  await page.select('select[aria-label="Export format"]', 'rekordbox');
  await page.click('.exports button');
  let xmlFile = null;
  for (let i = 0; i < 100 && !xmlFile; i++) {
    xmlFile = fs.readdirSync(downloads).find((f) => f.endsWith('.xml'));
    if (!xmlFile) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(xmlFile, 'no rekordbox XML was downloaded');
  const xml = fs.readFileSync(path.join(downloads, xmlFile), 'utf8');
  fs.copyFileSync(path.join(downloads, xmlFile), path.join(out, 'export-rekordbox.xml'));
  const parsed = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'application/xml');
    if (doc.querySelector('parsererror')) return { error: doc.querySelector('parsererror').textContent };
    const t = doc.querySelector('COLLECTION > TRACK');
    return { entries: doc.querySelector('COLLECTION').getAttribute('Entries'), bpm: t.getAttribute('AverageBpm'), tonality: t.getAttribute('Tonality'), name: t.getAttribute('Name'), tempos: doc.querySelectorAll('COLLECTION > TRACK > TEMPO').length };
  }, xml);
  assert.equal(parsed.error, undefined, parsed.error);
  assert.equal(parsed.entries, '1');
  assert.equal(Number(parsed.bpm).toFixed(1), map.tempo.bpm.toFixed(1));
  // rekordbox reads its own spelling (Am, F#): the exporter writes that whatever the notation.
  assert.equal(parsed.tonality, map.key.tonic + (map.key.mode === 'minor' ? 'm' : ''));
  assert.ok(parsed.tempos >= 1);
  step(`rekordbox export parsed: ${JSON.stringify(parsed)}`);

  // Smaller window (the seed's minimum size).
  await page.setViewport({ width: 900, height: 600 });
  await shot('4-track-900x600');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `horizontal overflow at 900x600: ${overflow}px`);
  await page.setViewport({ width: 1280, height: 800 });

  // --- A 5-file batch, reloaded in the middle -------------------------------------------------
  await page.goto(`${server.base}/#/analyse`);
  await page.waitForSelector('[data-testid=dropzone]');
  await (await page.$('[data-testid=file-input]')).uploadFile(...batch);
  const isBatch = (r) => r.name.startsWith('batch-');
  for (let i = 0; ; i++) {
    const b = (await queueState()).filter(isBatch);
    if (b.length === 5 && b.some((r) => r.status === 'succeeded') && b.some((r) => r.status !== 'succeeded')) break;
    assert.ok(i < 1200, `batch never got half-way: ${JSON.stringify(b.map((r) => r.status))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const before = (await queueState()).filter(isBatch).map((r) => r.status);
  await page.reload({ waitUntil: 'domcontentloaded' });
  await page.waitForSelector('[data-testid=queue-item]');
  const after = (await queueState()).filter(isBatch);
  assert.equal(after.length, 5, 'the queue survives the reload');
  step(`reloaded mid-batch: before ${before.join(',')}; after ${after.map((r) => r.status).join(',')}`);
  for (let i = 0; ; i++) {
    const b = (await queueState()).filter(isBatch);
    if (b.every((r) => r.status === 'succeeded')) break;
    assert.ok(!b.some((r) => r.status === 'failed'), `a batch file failed: ${JSON.stringify(b)}`);
    assert.ok(i < 2400, `batch did not finish: ${JSON.stringify(b.map((r) => r.status))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const ids = (await stored()).filter((i) => i.name.startsWith('batch-')).map((i) => i.jobId);
  assert.equal(new Set(ids).size, 5, 'five distinct jobs');
  const health = await (await fetch(`${server.base}/health`)).json();
  assert.equal(health.jobs.succeeded + health.jobs.failed, 7, `no job was submitted twice: ${JSON.stringify(health.jobs)}`);
  const summary = await page.$eval('[data-testid=batch-summary]', (e) => e.textContent);
  assert.match(summary, /^6 done · 0 in progress · 1 failed/);
  await shot('5-analyse-batch');
  step(`batch done: ${summary}`);

  // --- Library: sort, filter, export a selection --------------------------------------------
  await page.goto(`${server.base}/#/library`);
  await page.waitForSelector('[data-testid=library-table]');
  const bpmCol = async () => page.$$eval('[data-testid=library-table] tbody tr', (trs) => trs.map((tr) => Number(tr.children[2].textContent)));
  assert.equal((await bpmCol()).length, 6);
  await page.click('th:nth-child(3) button'); // BPM ascending
  const asc = await bpmCol();
  assert.deepEqual(asc, [...asc].sort((a, b) => a - b));
  await page.click('th:nth-child(3) button'); // descending
  const desc = await bpmCol();
  assert.deepEqual(desc, [...desc].sort((a, b) => b - a));
  await page.type('input[type=search]', 'batch-1');
  assert.equal((await bpmCol()).length, 5);
  await page.click('input[aria-label="Select all"]');
  await page.select('.library select', 'rekordbox');
  for (const f of fs.readdirSync(downloads)) fs.unlinkSync(path.join(downloads, f));
  await page.click('.library .row button');
  let coll = null;
  for (let i = 0; i < 100 && !coll; i++) {
    coll = fs.readdirSync(downloads).find((f) => f.endsWith('.xml'));
    if (!coll) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(coll, 'no collection export');
  assert.match(fs.readFileSync(path.join(downloads, coll), 'utf8'), /<COLLECTION Entries="5">/);
  await shot('6-library');
  await axe('library');
  step('library sorted, filtered, 5 tracks exported');

  // --- Settings: notation and theme -------------------------------------------------------
  await page.goto(`${server.base}/#/settings`);
  await page.waitForSelector('.settings');
  await axe('settings');
  const [openKeyRadio] = await page.$$('input[name=notation]');
  await page.evaluate(() => [...document.querySelectorAll('input[name=notation]')][1].click());
  void openKeyRadio;
  await page.evaluate(() => [...document.querySelectorAll('input[name=theme]')][1].click());
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
  await shot('7-settings-light');
  await page.goto(`${server.base}/#/library`);
  await page.waitForSelector('[data-testid=library-table]');
  const keys = await page.$$eval('[data-testid=library-table] tbody tr', (trs) => trs.map((tr) => tr.children[3].textContent));
  assert.ok(keys.every((k) => /^\d{1,2}[dm]$/.test(k) || k === '—'), `Open Key notation: ${keys}`);
  await shot('8-library-light');
  await axe('library-light');
  await page.keyboard.press('?');
  await page.waitForSelector('[role=dialog]');
  await shot('9-help');
  await page.keyboard.press('Escape');

  // --- A server with a token: the page takes it from #token= and uses it for fetch and WebSocket.
  const secured = await startServer(harmony, path.join(work, 'data-token'), ['--jobs', '1', '--token', 's3cret-token-0123456789', '--quiet']);
  try {
    const p2 = await browser.newPage();
    p2.on('console', (m) => m.type() === 'error' && errors.push(`console (token): ${m.text()}`));
    await p2.goto(`${secured.base}/#token=s3cret-token-0123456789`, { waitUntil: 'networkidle0' });
    assert.equal(await p2.evaluate(() => window.location.hash), '#/analyse', 'the token leaves the address bar');
    await (await p2.$('[data-testid=file-input]')).uploadFile(batch[0]);
    await p2.waitForSelector('[data-testid=queue-item][data-status=succeeded]', { timeout: 60000 });
    const unauth = await fetch(`${secured.base}/v1/jobs/x`);
    assert.equal(unauth.status, 401);
    await p2.close();
    step('token server: analysed with the token from the URL fragment');
  } finally {
    await secured.stop();
  }

  assert.deepEqual(errors, [], 'console errors');
  step('all checks passed');
} catch (e) {
  failed = true;
  console.error(e);
  if (errors.length) console.error('console errors:', errors);
  console.error('server log:\n' + server.log().slice(-3000));
} finally {
  await browser.close();
  await server.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
