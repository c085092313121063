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
import { execFileSync } from 'node:child_process';
import { BASS, MELODY, abab, arg, demo, findChromium, launch, melodyTrack, startServer, tmpdir } from './common.mjs';

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
/** The playhead in seconds, read from the clock the page shows ("0:17.1 / 1:04.0"). */
async function clockOn(p) {
  const txt = await p.$eval('[data-testid=clock]', (e) => e.textContent);
  const [m, sec] = txt.split('/')[0].trim().split(':');
  return Number(m) * 60 + Number(sec);
}
/** Polls `read` until it is within `tol` of `want` (up to 3 s: the machine is shared); returns the last value. */
async function settle(read, want, tol = 0.25) {
  let v = await read();
  for (let i = 0; i < 30 && !(Math.abs(v - want) < tol); i++) {
    await new Promise((r) => setTimeout(r, 100));
    v = await read();
  }
  return v;
}

const demoFile = demo(harmony, path.join(work, 'demo.wav'), 30);
const corrupt = path.join(work, 'corrupt.mp3');
fs.writeFileSync(corrupt, Buffer.concat([Buffer.from('ID3\x03\x00\x00\x00\x00\x00\x00'), Buffer.alloc(20000, 0x5a)]));
const notes = path.join(work, 'notes.txt');
fs.writeFileSync(notes, 'setlist: 1. intro 2. drop\n');
const batch = [11, 12, 13, 14, 15].map((s) => demo(harmony, path.join(work, `batch-${s}s.wav`), s));

// The CLI's library: two tracks analysed by `harmony analyze` before the app is opened.
const libDb = path.join(work, 'library.sqlite');
const cliTracks = [16, 17].map((s) => demo(harmony, path.join(work, `cli-${s}s.wav`), s));
// A song with sections A B A B (64 s), for the section lane's colours, [ ] and the loop.
const song = abab(cliTracks[0], path.join(work, 'song-abab.wav'));
execFileSync(harmony, ['analyze', ...cliTracks, '--library', libDb, '--only', 'tempo,beats,key,loudness,chords,sections'], { stdio: 'ignore' });
const csvRows = (text) => {
  // The exports' CSV (names here have no commas or quotes: a plain split is exact).
  const [head, ...rows] = text.trim().split(/\r?\n/).map((l) => l.split(','));
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
};

// One analysis thread and a delay per job: the batch is still running when the page reloads.
const server = await startServer(harmony, path.join(work, 'data'), ['--jobs', '1', '--debug-job-delay-ms', '700', '--quiet', '--library', libDb]);
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
  await input.uploadFile(corrupt, notes);

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
    const n = rows.find((r) => r.name === 'notes.txt');
    if (d && c && n && ['succeeded', 'failed'].includes(d.status) && c.status === 'failed' && n.status === 'failed') break;
    assert.ok(i < 1200, `analysis did not finish: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const rows = await queueState();
  const demoRow = rows.find((r) => r.name === 'demo.wav');
  const badRow = rows.find((r) => r.name === 'corrupt.mp3');
  assert.equal(demoRow.status, 'succeeded', demoRow.text);
  assert.ok(seen.has('demo.wav:running'), `never saw the demo running: ${[...seen]}`);
  assert.ok(/Not an audio file|could not be decoded|no audio/i.test(badRow.text), `unclear error for the corrupt file: ${badRow.text}`);
  const txtRow = rows.find((r) => r.name === 'notes.txt');
  assert.equal(txtRow.status, 'failed');
  assert.match(txtRow.text, /Not an audio file Harmony can read/, `a text file says it is not audio: ${txtRow.text}`);
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

  // --- Chord and section lanes: one segment per Song Map segment, colour per label, click-to-seek,
  // the section loop and the [ ] keys; the chromagram; the energy rating.
  assert.ok(map.chords?.segments?.length > 1, 'the app asks for chords: the map has a chord timeline');
  assert.ok(map.sections?.segments?.length >= 1, 'the map has sections');
  const lanes = await page.evaluate(() => {
    const segs = (id) =>
      [...document.querySelectorAll(`[data-testid=${id}] .seg`)].map((b) => ({
        start: Number(b.dataset.start),
        end: Number(b.dataset.end),
        label: b.dataset.label,
        bg: getComputedStyle(b).backgroundColor,
        fg: getComputedStyle(b).color,
        width: b.getBoundingClientRect().width,
      }));
    return { chords: segs('chord-lane'), sections: segs('section-lane') };
  });
  assert.equal(lanes.chords.length, map.chords.segments.length, 'one chord segment per chord');
  assert.equal(lanes.sections.length, map.sections.segments.length, 'one section segment per section');
  lanes.chords.forEach((c, i) => {
    const [start, end] = map.chords.segments[i];
    assert.ok(Math.abs(c.start - start) < 1e-6 && Math.abs(c.end - end) < 1e-6, `chord ${i} times`);
  });
  const byLabel = new Map();
  for (const c of lanes.chords) {
    if (byLabel.has(c.label)) assert.equal(c.bg, byLabel.get(c.label), `one colour per chord label (${c.label})`);
    byLabel.set(c.label, c.bg);
  }
  for (const [la, ca] of byLabel) for (const [lb, cb] of byLabel) if (la !== lb && la.replace(/7$/, '') !== lb.replace(/7$/, '')) assert.notEqual(ca, cb, `${la} and ${lb} look different`);
  const sectionLetters = new Map();
  map.sections.segments.forEach((s, i) => {
    if (sectionLetters.has(s[2])) assert.equal(lanes.sections[i].bg, sectionLetters.get(s[2]), 'one colour per section letter');
    sectionLetters.set(s[2], lanes.sections[i].bg);
  });
  step(`lanes: ${lanes.chords.length} chords (${[...byLabel.keys()].join(' ')}), ${lanes.sections.length} sections (${lanes.sections.map((s) => s.label).join(', ')})`);

  const clockOf = () => clockOn(page);
  // Click a chord (the widest one after the first): the playhead goes to its start, the chord
  // shown above the lanes is that one.
  const ci = lanes.chords.reduce((best, c, i) => (i > 0 && c.width > lanes.chords[best].width ? i : best), 1);
  await page.click(`[data-testid=chord-lane] .seg[data-start="${lanes.chords[ci].start}"]`);
  assert.ok(Math.abs((await settle(clockOf, lanes.chords[ci].start)) - lanes.chords[ci].start) < 0.25, `chord click seeks to ${lanes.chords[ci].start}`);
  assert.equal(await page.$eval('[data-testid=chord-now]', (e) => e.textContent), lanes.chords[ci].label);
  // Click the last section, then loop it: playing past its end comes back to its start.
  const sec = lanes.sections[lanes.sections.length - 1];
  await page.click(`[data-testid=section-lane] .seg[data-start="${sec.start}"]`);
  assert.ok(Math.abs((await settle(clockOf, sec.start)) - sec.start) < 0.25, 'section click seeks');
  assert.equal(await page.$eval('[data-testid=section-now]', (e) => e.textContent), sec.label);
  await page.keyboard.press('r');
  await page.waitForSelector('[data-testid=loop][aria-pressed=true]');
  assert.match(await page.$eval('[data-testid=loop]', (e) => e.textContent), new RegExp(`^Looping ${sec.label}`));
  const wbox = await (await page.$('[data-testid=waveform]')).boundingBox();
  const nearEnd = Math.max(sec.start, sec.end - 0.6);
  await page.mouse.click(wbox.x + (wbox.width * nearEnd) / map.audio.duration_s, wbox.y + wbox.height / 2);
  await page.click('[data-testid=play]');
  await new Promise((r) => setTimeout(r, 1800));
  const looped = await clockOf();
  await page.click('[data-testid=play]');
  assert.ok(looped >= sec.start - 0.05 && looped < Math.min(sec.end, sec.start + 1.8), `the loop came back to ${sec.start}: at ${looped}`);
  await page.keyboard.press('r');
  await page.waitForSelector('[data-testid=loop][aria-pressed=false]');
  step(`chord click -> ${lanes.chords[ci].label}; section ${sec.label} looped (${sec.start}-${sec.end} s, at ${looped} s after 1.8 s of play)`);
  // [ and ]: previous and next section.
  await page.keyboard.press('Home');
  await settle(clockOf, 0);
  await page.keyboard.press(']');
  const nextStart = map.sections.segments.map((s) => s[0]).find((t) => t > 0.05);
  if (nextStart !== undefined) assert.ok(Math.abs((await settle(clockOf, nextStart)) - nextStart) < 0.25, `] goes to the next section (${nextStart})`);
  // [ from 60 % of the track: the start of the section under the playhead.
  await page.mouse.click(wbox.x + wbox.width * 0.6, wbox.y + wbox.height / 2);
  await new Promise((r) => setTimeout(r, 200));
  const at60 = await clockOf();
  await page.keyboard.press('[');
  const secStart = [...map.sections.segments].reverse().find((s) => s[0] < at60 - 0.5)?.[0] ?? 0;
  assert.ok(Math.abs((await settle(clockOf, secStart)) - secStart) < 0.25, `[ from ${at60} s goes to the section start ${secStart}`);

  // The lanes follow the waveform's zoom: zoomed in 4x, only the chords in view are drawn, and
  // each sits under its own time (its left edge at the waveform's pixel for its start).
  await page.keyboard.press('+');
  await page.keyboard.press('+');
  await new Promise((r) => setTimeout(r, 400));
  const zoomed = await page.evaluate(() => {
    const wrap = document.querySelector('[data-testid=waveform] > div')?.shadowRoot?.querySelector('.scroll');
    const segs = [...document.querySelectorAll('[data-testid=chord-lane] .seg')];
    const lane = document.querySelector('[data-testid=chord-lane] .lane-track').getBoundingClientRect();
    return {
      n: segs.length,
      scroll: wrap ? wrap.scrollLeft : null,
      wrapLeft: wrap ? wrap.getBoundingClientRect().left : null,
      scrollWidth: wrap ? wrap.scrollWidth : null,
      laneLeft: lane.left,
      laneWidth: lane.width,
      segs: segs.map((b) => ({ start: Number(b.dataset.start), left: b.getBoundingClientRect().left })),
    };
  });
  assert.ok(zoomed.n > 0 && zoomed.n < lanes.chords.length, `zoomed in: ${zoomed.n} of ${lanes.chords.length} chords drawn`);
  assert.notEqual(zoomed.scroll, null, 'the waveform scroll container is found');
  let aligned = 0;
  {
    const pps = zoomed.scrollWidth / map.audio.duration_s;
    for (const sg of zoomed.segs) {
      const x = sg.start * pps - zoomed.scroll;
      if (x >= 0) aligned++;
      if (x >= 0) assert.ok(Math.abs(zoomed.wrapLeft + x - sg.left) < 3, `chord at ${sg.start} s drawn at ${sg.left}, waveform pixel ${zoomed.wrapLeft + x}`);
    }
  }
  await page.keyboard.press('-');
  await page.keyboard.press('-');
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(await page.$$eval('[data-testid=chord-lane] .seg', (x) => x.length), lanes.chords.length, 'zoomed out: every chord again');
  assert.ok(aligned >= 2, `at least two chord starts in view were checked (${aligned})`);
  step(`zoom x4: ${zoomed.n} of ${lanes.chords.length} chords in view, ${aligned} starts within 3 px of their waveform pixel`);

  // Chromagram: drawn from the decoded audio; its strongest pitch class is in the key's scale.
  await page.click('::-p-text(Chromagram)');
  await page.waitForSelector('[data-testid=chromagram]:not([data-columns="0"])', { timeout: 20000 });
  const chroma = await page.$eval('[data-testid=chromagram]', (e) => ({ dominant: e.dataset.dominant, columns: Number(e.dataset.columns) }));
  const NAMES = ['C', 'C♯', 'D', 'E♭', 'E', 'F', 'F♯', 'G', 'A♭', 'A', 'B♭', 'B'];
  const tonic = map.key.key.pitch_class;
  const scale = (map.key.key.mode === 'major' ? [0, 2, 4, 5, 7, 9, 11] : [0, 2, 3, 5, 7, 8, 10]).map((i) => (tonic + i) % 12);
  assert.ok(chroma.columns >= 100, `chromagram columns ${chroma.columns}`);
  assert.ok(scale.includes(NAMES.indexOf(chroma.dominant)), `strongest pitch class ${chroma.dominant} is in ${map.key.label}`);
  const cbox = await (await page.$('[data-testid=chromagram] canvas')).boundingBox();
  await page.mouse.click(cbox.x + cbox.width * 0.5, cbox.y + cbox.height / 2);
  assert.ok(Math.abs((await settle(clockOf, map.audio.duration_s * 0.5, 1.0)) - map.audio.duration_s * 0.5) < 1.0, 'a click on the chromagram seeks');
  step(`chromagram: ${chroma.columns} columns, strongest ${chroma.dominant} (key ${map.key.label})`);

  // ChordPro lead sheet (the server's exporter) shown in the page: title, tempo, every chord of the lane.
  await page.click('[data-testid=chordpro-toggle]');
  await page.waitForSelector('[data-testid=chordpro]');
  const sheet = await page.$eval('[data-testid=chordpro]', (e) => e.textContent);
  assert.match(sheet, /\{title: demo\}/);
  assert.match(sheet, /\{start_of_grid\}/);
  for (const label of byLabel.keys()) if (label !== 'N.C.') assert.ok(new RegExp(`(^|[ |])${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([ |]|$)`, 'm').test(sheet), `${label} in the ChordPro sheet`);
  step(`ChordPro sheet shown (${sheet.split('\n').length} lines)`);

  // Energy: the server's rating (its CSV export) is the one shown.
  const csvOne = csvRows(await (await fetch(`${server.base}/v1/jobs/${demoItem.jobId}/export/csv`)).text());
  assert.equal(await page.$eval('[data-testid=energy]', (e) => e.textContent), `${csvOne[0].energy} / 10`);
  await shot('3b-track-lanes-chromagram');
  await axe('track-lanes-chromagram-chordpro');

  // Play, pause, click-to-seek and keyboard seeking.
  const clock = clockOf;
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
  assert.equal(health.jobs.succeeded + health.jobs.failed, 8, `no job was submitted twice: ${JSON.stringify(health.jobs)}`);
  const summary = await page.$eval('[data-testid=batch-summary]', (e) => e.textContent);
  assert.match(summary, /^6 done · 0 in progress · 2 failed/);
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
  // Energy column: the same rating as the server's CSV export of those tracks.
  const sel5 = (await stored()).filter((i) => i.name.startsWith('batch-'));
  const csv5 = csvRows(
    await (await fetch(`${server.base}/v1/exports/csv`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ jobs: sel5.map((i) => i.jobId) }) })).text(),
  );
  const energyShown = await page.$$eval('[data-testid=library-table] tbody tr', (trs) => Object.fromEntries(trs.map((tr) => [tr.children[1].textContent, tr.querySelector('[data-testid=energy-cell]').textContent])));
  for (const r of csv5) assert.equal(energyShown[path.basename(r.path)], r.energy, `energy of ${r.path}`);
  step(`energy column = CSV export: ${JSON.stringify(energyShown)}`);

  await shot('6-library');
  await axe('library');
  step('library sorted, filtered, 5 tracks exported');

  // --- Re-analyse bypasses the server's result store: a new job, analysed (not cached).
  const before11 = (await stored()).find((i) => i.name === 'batch-11s.wav');
  const analysesBefore = (await (await fetch(`${server.base}/health`)).json()).analyses;
  await page.click('input[aria-label="Select all"]'); // clear the selection
  await page.click('input[aria-label="Select batch-11s.wav"]');
  await page.click('::-p-text(Re-analyse)');
  for (let i = 0; ; i++) {
    const it = (await stored()).find((x) => x.name === 'batch-11s.wav');
    if (it.status === 'succeeded' && it.jobId !== before11.jobId) break;
    assert.ok(it.status !== 'failed', `re-analysis failed: ${JSON.stringify(it)}`);
    assert.ok(i < 1200, `re-analysis did not finish: ${JSON.stringify(it)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const after11 = (await stored()).find((i) => i.name === 'batch-11s.wav');
  const job11 = await (await fetch(`${server.base}/v1/jobs/${after11.jobId}`)).json();
  assert.equal(job11.refresh, true);
  assert.equal(job11.cached, false, 'analysed again, not answered from the result store');
  assert.equal((await (await fetch(`${server.base}/health`)).json()).analyses, analysesBefore + 1);
  step(`re-analysed batch-11s.wav: job ${after11.jobId.slice(0, 8)} (refresh, not cached)`);

  // The track view's Re-analyse: the view says it is re-analysing, then shows the new result.
  const it12 = (await stored()).find((i) => i.name === 'batch-12s.wav');
  await page.goto(`${server.base}/#/track/${it12.id}`);
  await page.waitForSelector('[data-testid=track-view][data-ready="1"]', { timeout: 30000 });
  await page.click('.exports ::-p-text(Re-analyse)');
  await page.waitForSelector('[data-testid=reanalyse-status]');
  await page.waitForFunction(() => !document.querySelector('[data-testid=reanalyse-status]'), { timeout: 60000 });
  await page.waitForSelector('[data-testid=track-view][data-ready="1"]', { timeout: 30000 });
  const it12b = (await stored()).find((i) => i.name === 'batch-12s.wav');
  assert.notEqual(it12b.jobId, it12.jobId);
  assert.equal(it12b.status, 'succeeded');
  const job12 = await (await fetch(`${server.base}/v1/jobs/${it12b.jobId}`)).json();
  assert.equal(job12.refresh, true);
  assert.equal(job12.cached, false);
  const map12 = await (await fetch(`${server.base}/v1/jobs/${it12b.jobId}/result`)).json();
  assert.equal(await page.$eval('[data-testid=bpm]', (e) => e.textContent), map12.tempo.bpm.toFixed(1));
  step('track view re-analysed batch-12s.wav (status shown, then the new result)');
  await page.goto(`${server.base}/#/library`);
  await page.waitForSelector('[data-testid=library-table]');
  await page.type('input[type=search]', 'batch-1');

  // --- The CLI's library (harmony analyze --library), read-only through GET /v1/library.
  const cli = await (await fetch(`${server.base}/v1/library?sort=title`)).json();
  assert.equal(cli.count, 2);
  // The filters apply to both tables: "batch-1" hides the CLI's tracks, "cli-" shows them.
  await page.waitForSelector('[data-testid=cli-library-table]');
  assert.equal(await page.$$eval('[data-testid=cli-library-table] tbody tr', (x) => x.length), 0);
  await page.click('input[type=search]', { count: 3 });
  await page.keyboard.press('Backspace');
  await page.type('input[type=search]', 'cli-');
  await page.waitForSelector('[data-testid=cli-library-table] tbody tr');
  assert.equal((await bpmCol()).length, 0, 'the browser tracks are filtered out by "cli-"');
  const cliRows = await page.$$eval('[data-testid=cli-library-table] tbody tr', (trs) => trs.map((tr) => ({ hash: tr.dataset.hash, cells: [...tr.children].map((td) => td.textContent) })));
  assert.equal(cliRows.length, 2);
  for (const r of cliRows) {
    const t = cli.tracks.find((x) => x.content_hash === r.hash);
    assert.ok(t, `row ${r.hash} is a library track`);
    assert.equal(r.cells[0], t.title);
    assert.equal(r.cells[2], t.bpm.toFixed(1));
    assert.equal(r.cells[4], String(t.energy));
  }
  await page.click('[data-testid=cli-library] th:nth-child(3) button'); // BPM ascending
  const cliBpm = await page.$$eval('[data-testid=cli-library-table] tbody tr', (trs) => trs.map((tr) => Number(tr.children[2].textContent)));
  assert.deepEqual(cliBpm, [...cliBpm].sort((a, b) => a - b));
  await shot('6b-library-cli');
  await page.click(`[data-testid=cli-library-table] a[href="#/lib/${encodeURIComponent(cli.tracks[0].content_hash)}"]`);
  await page.waitForSelector('[data-testid=track-view][data-ready="1"]');
  const libMap = await (await fetch(`${server.base}/v1/library/tracks/${encodeURIComponent(cli.tracks[0].content_hash)}`)).json();
  assert.equal(await page.$eval('[data-testid=bpm]', (e) => e.textContent), libMap.tempo.bpm.toFixed(1));
  assert.match(await page.$eval('[data-testid=library-note]', (e) => e.textContent), /read-only/);
  assert.equal(await page.$eval('[data-testid=key]', (e) => e.textContent), libMap.key.label);
  assert.equal(await page.$$eval('[data-testid=chord-lane] .seg', (x) => x.length), libMap.chords.segments.length);
  assert.equal(await page.$$eval('[data-testid=section-lane] .seg', (x) => x.length), libMap.sections.segments.length);
  await shot('6c-track-from-cli-library');
  await axe('track-cli-library');
  step(`CLI library: ${cliRows.length} tracks; opened ${cli.tracks[0].title} (${libMap.chords.segments.length} chords)`);

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

  // --- Melody and bass notes (piano roll) and stems (mixer), both asked for in Settings ---------
  {
    const melodyFile = melodyTrack(path.join(work, 'melody.wav'));
    await page.goto(`${server.base}/#/settings`);
    await page.waitForSelector('.settings');
    await page.evaluate(() => [...document.querySelectorAll('.settings label')].find((l) => /Melody and bass notes/.test(l.textContent)).querySelector('input').click());
    await page.click('[data-testid=stems-setting]');
    assert.deepEqual(await page.evaluate(() => { const s = JSON.parse(localStorage.getItem('harmony.settings.v1')); return [s.analyzers.includes('notes'), s.stems]; }), [true, true]);
    await page.goto(`${server.base}/#/analyse`);
    await (await page.waitForSelector('[data-testid=file-input]')).uploadFile(melodyFile);
    await page.waitForSelector('[data-testid=queue-item][data-name="melody.wav"][data-status=succeeded]', { timeout: 90000 });
    const mItem = (await stored()).find((x) => x.name === 'melody.wav');
    const mJob = await (await fetch(`${server.base}/v1/jobs/${mItem.jobId}`)).json();
    assert.equal(mJob.stems, true, 'the job was submitted with stems');
    assert.ok(mJob.request.only.includes('notes') && mJob.request.only.includes('stems'), `analyzers ${mJob.request.only}`);
    const mMap = await (await fetch(`${server.base}/v1/jobs/${mItem.jobId}/result`)).json();
    assert.ok(mMap.notes.melody.length >= MELODY.length - 2 && mMap.notes.bass.length >= BASS.length - 1, `notes found: ${mMap.notes.melody.length} melody, ${mMap.notes.bass.length} bass`);
    await page.goto(`${server.base}/#/track/${mItem.id}`);
    await page.waitForSelector('[data-testid=track-view][data-ready="1"]', { timeout: 30000 });
    await page.bringToFront();
    const roll = await page.$eval('[data-testid=pianoroll]', (el) => {
      const r = el.getBoundingClientRect();
      const notes = [...el.querySelectorAll('.note[data-kind]')].map((n) => {
        const b = n.getBoundingClientRect();
        return { kind: n.dataset.kind, start: Number(n.dataset.start), pitch: Number(n.dataset.pitch), left: b.left, top: b.top - r.top, height: b.height, bg: getComputedStyle(n).backgroundColor };
      });
      return { lo: Number(el.dataset.lo), hi: Number(el.dataset.hi), height: r.height, labels: [...el.querySelectorAll('.roll-label')].map((l) => l.textContent), f0: el.querySelector('[data-testid=f0-curve] path')?.getAttribute('d') ?? '', head: !!el.querySelector('[data-testid=roll-head]'), notes };
    });
    const shownMelody = roll.notes.filter((n) => n.kind === 'melody');
    const shownBass = roll.notes.filter((n) => n.kind === 'bass');
    assert.deepEqual(shownMelody.map((n) => n.start).sort((a, b) => a - b), mMap.notes.melody.map((n) => n[0]).sort((a, b) => a - b), 'one melody note drawn per Song Map note');
    assert.deepEqual(shownBass.map((n) => n.start).sort((a, b) => a - b), mMap.notes.bass.map((n) => n[0]).sort((a, b) => a - b), 'one bass note drawn per Song Map note');
    assert.notEqual(shownMelody[0].bg, shownBass[0].bg, 'melody and bass in different colours');
    // Pitch axis: high at the top, each note on its row; a label at every C in range.
    for (const n of roll.notes) {
      const want = ((roll.hi - (n.pitch + 0.5)) / (roll.hi - roll.lo)) * roll.height;
      assert.ok(Math.abs(n.top - want) < 1.5, `note ${n.pitch} at y ${n.top}, row ${want}`);
    }
    const cs = [];
    for (let m = Math.ceil(roll.lo); m <= roll.hi; m++) if (m % 12 === 0) cs.push(`C${m / 12 - 1}`);
    assert.deepEqual(roll.labels, cs, 'a label at every C');
    assert.ok(roll.lo <= 36 && roll.hi >= 81, `range ${roll.lo}-${roll.hi} holds the bass C2 and the top A5`);
    assert.ok((roll.f0.match(/M/g) ?? []).length >= 1 && roll.f0.length > 200, 'the f0 curve is drawn');
    assert.ok(roll.head, 'the playhead is drawn on the roll');
    // Aligned with the waveform, at full view and zoomed in (only the notes in view drawn).
    const rollAligned = async () =>
      page.evaluate(() => {
        const wrap = document.querySelector('[data-testid=waveform] > div')?.shadowRoot?.querySelector('.scroll');
        return { scroll: wrap.scrollLeft, wrapLeft: wrap.getBoundingClientRect().left, scrollWidth: wrap.scrollWidth, width: wrap.clientWidth, notes: [...document.querySelectorAll('[data-testid=pianoroll] .note[data-kind]')].map((n) => ({ start: Number(n.dataset.start), end: Number(n.dataset.end), left: n.getBoundingClientRect().left })) };
      });
    let checked = 0;
    for (const zoom of [0, 2]) {
      for (let i = 0; i < zoom; i++) await page.keyboard.press('+');
      await new Promise((r) => setTimeout(r, 400));
      const z = await rollAligned();
      const pps = z.scrollWidth / mMap.audio.duration_s;
      const from = z.scroll / pps;
      const to = (z.scroll + z.width) / pps;
      const all = [...mMap.notes.melody, ...mMap.notes.bass];
      assert.equal(z.notes.length, all.filter((n) => n[1] > from && n[0] < to).length, `zoom ${zoom}: the notes overlapping ${from.toFixed(2)}-${to.toFixed(2)} s are drawn`);
      if (zoom > 0) assert.ok(z.notes.length < all.length, 'zoomed in: fewer notes drawn');
      for (const n of z.notes) {
        const x = n.start * pps - z.scroll;
        if (x < 0) continue;
        assert.ok(Math.abs(z.wrapLeft + x - n.left) < 3, `note at ${n.start} s drawn at ${n.left}, waveform pixel ${z.wrapLeft + x}`);
        checked++;
      }
    }
    await page.keyboard.press('-');
    await page.keyboard.press('-');
    // A click on the roll seeks to the time under the pointer.
    const rb = await (await page.$('[data-testid=pianoroll]')).boundingBox();
    await page.mouse.click(rb.x + rb.width * 0.5, rb.y + 5);
    const half = mMap.audio.duration_s * 0.5;
    assert.ok(Math.abs((await settle(() => clockOn(page), half)) - half) < 0.3, 'a click on the roll seeks');
    step(`piano roll: ${shownMelody.length} melody + ${shownBass.length} bass notes on their rows, labels ${roll.labels.join(' ')}, f0 curve, ${checked} note starts within 3 px of their waveform pixel`);

    // The stem mixer: the server's stems, loaded on demand, mute/solo/volume, in sync with the playhead.
    const stemRes = await fetch(`${server.base}/v1/jobs/${mItem.jobId}/stems/vocals`, { headers: { Range: 'bytes=0-3' } });
    assert.equal(stemRes.status, 206);
    assert.equal(await stemRes.text(), 'RIFF');
    await page.waitForSelector('[data-testid=stem-mixer][data-state=idle]');
    await page.click('[data-testid=stems-load]');
    await page.waitForSelector('[data-testid=stem-mixer][data-state=ready]', { timeout: 20000 });
    const strips = () => page.$$eval('[data-testid=stem-strip]', (els) => els.map((e) => ({ name: e.dataset.name, gain: Number(e.dataset.gain) })));
    assert.deepEqual(await strips(), ['vocals', 'drums', 'bass', 'other'].map((name) => ({ name, gain: 1 })));
    await page.click('[data-testid=stem-strip][data-name=bass] [data-testid=stem-solo]');
    assert.deepEqual((await strips()).map((s) => s.gain), [0, 0, 1, 0], 'solo bass: only the bass sounds');
    await page.click('[data-testid=stem-strip][data-name=vocals] [data-testid=stem-solo]');
    await page.click('[data-testid=stem-strip][data-name=bass] [data-testid=stem-mute]');
    assert.deepEqual((await strips()).map((s) => s.gain), [1, 0, 0, 0], 'solo vocals + bass, bass muted: only the vocals');
    await page.click('[data-testid=stem-strip][data-name=vocals] [data-testid=stem-solo]');
    await page.click('[data-testid=stem-strip][data-name=bass] [data-testid=stem-solo]');
    await page.click('[data-testid=stem-strip][data-name=bass] [data-testid=stem-mute]');
    await page.$eval('[data-testid=stem-strip][data-name=drums] [data-testid=stem-volume]', (el) => {
      const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
      set.call(el, '0.5');
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    assert.deepEqual((await strips()).map((s) => s.gain), [1, 0.5, 1, 1], 'no solo, drums at half volume');
    await page.keyboard.press('Home');
    await page.click('[data-testid=play]');
    await page.waitForSelector('[data-testid=stem-mixer][data-running="1"]', { timeout: 5000 });
    await new Promise((r) => setTimeout(r, 1200));
    const sync = await page.$eval('[data-testid=stem-mixer]', (el) => ({ pos: Number(el.dataset.stemPos), state: el.dataset.audioState }));
    const playing = await clockOn(page);
    assert.ok(playing > 0.5, `the clock advances with the stems playing (${playing} s)`);
    assert.equal(sync.state, 'running', 'the stems\' audio context runs');
    assert.ok(sync.pos > 0.5 && Math.abs(sync.pos - playing) < 0.3, `the stems play where the playhead is: stems at ${sync.pos} s, playhead ${playing} s`);
    // A seek while playing: the stems follow.
    await page.keyboard.press('ArrowRight');
    await new Promise((r) => setTimeout(r, 500));
    const afterSeek = await page.$eval('[data-testid=stem-mixer]', (el) => Number(el.dataset.stemPos));
    const clockAfter = await clockOn(page);
    assert.ok(clockAfter > 5 && Math.abs(afterSeek - clockAfter) < 0.3, `after a 5 s seek: stems at ${afterSeek} s, playhead ${clockAfter} s`);
    await page.click('[data-testid=play]');
    await page.waitForSelector('[data-testid=stem-mixer][data-running="0"]', { timeout: 5000 });
    await shot('11-track-pianoroll-stems');
    await axe('track-pianoroll-stems');
    step(`stem mixer: 4 stems loaded, solo/mute/volume gains; playing: stems at ${sync.pos.toFixed(2)} s, playhead ${playing.toFixed(2)} s; after a seek ${afterSeek.toFixed(2)} / ${clockAfter.toFixed(2)} s; stops with the player`);
    // Back to the default settings (no notes, no stems) for what follows.
    await page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem('harmony.settings.v1'));
      s.analyzers = s.analyzers.filter((a) => a !== 'notes');
      s.stems = false;
      localStorage.setItem('harmony.settings.v1', JSON.stringify(s));
    });
  }

  // --- A server with a token: the page takes it from #token= and uses it for fetch and WebSocket.
  const secured = await startServer(harmony, path.join(work, 'data-token'), ['--jobs', '1', '--token', 's3cret-token-0123456789', '--quiet']);
  try {
    const p2 = await browser.newPage();
    p2.on('console', (m) => m.type() === 'error' && errors.push(`console (token): ${m.text()}`));
    await p2.goto(`${secured.base}/#token=s3cret-token-0123456789`, { waitUntil: 'networkidle0' });
    assert.equal(await p2.evaluate(() => window.location.hash), '#/analyse', 'the token leaves the address bar');
    await (await p2.$('[data-testid=file-input]')).uploadFile(song);
    await p2.waitForSelector('[data-testid=queue-item][data-status=succeeded]', { timeout: 60000 });
    // The A B A B song: four sections, two colours (one per letter), readable text on each;
    // ] and [ step through them; the loop of the second section comes back to its start.
    const songItem = (await p2.evaluate(() => JSON.parse(localStorage.getItem('harmony.queue.v1') ?? '[]')))[0];
    const songMap = await (await fetch(`${secured.base}/v1/jobs/${songItem.jobId}/result`, { headers: { Authorization: 'Bearer s3cret-token-0123456789' } })).json();
    assert.deepEqual(songMap.sections.segments.map((x) => x[2]), ['A', 'B', 'A', 'B'], 'the test song has sections A B A B');
    await p2.goto(`${secured.base}/#/track/${songItem.id}`);
    await p2.waitForSelector('[data-testid=track-view][data-ready="1"]', { timeout: 30000 });
    await p2.bringToFront(); // key events go to the focused tab
    const secs = await p2.$$eval('[data-testid=section-lane] .seg', (els) => {
      const rgb = (c) => c.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => v / 255).map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
      const lum = (c) => { const [r, g, b] = rgb(c); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
      return els.map((e) => {
        const cs = getComputedStyle(e);
        const l1 = lum(cs.backgroundColor);
        const l2 = lum(cs.color);
        return { start: Number(e.dataset.start), label: e.dataset.label, bg: cs.backgroundColor, ratio: (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05) };
      });
    });
    assert.equal(secs.length, 4);
    assert.equal(secs[0].bg, secs[2].bg, 'A and A: one colour');
    assert.equal(secs[1].bg, secs[3].bg, 'B and B: one colour');
    assert.notEqual(secs[0].bg, secs[1].bg, 'A and B: two colours');
    for (const x of secs) assert.ok(x.ratio >= 4.5, `section ${x.label}: text contrast ${x.ratio.toFixed(2)} >= 4.5`);
    const clock2 = () => clockOn(p2);
    await p2.keyboard.press('Home');
    await settle(clock2, 0);
    await p2.evaluate(() => {
      window.__keys = [];
      window.addEventListener('keydown', (e) => window.__keys.push(`${e.key}@${document.activeElement?.tagName}`));
    });
    for (const want of [secs[1].start, secs[2].start, secs[3].start]) {
      await p2.keyboard.press(']');
      const got = await settle(clock2, want);
      if (Math.abs(got - want) >= 0.25) console.error('keys the page received:', await p2.evaluate(() => window.__keys), 'ready', await p2.$eval('[data-testid=track-view]', (e) => e.dataset.ready));
      assert.ok(Math.abs(got - want) < 0.25, `] goes to ${want}: at ${got}`);
    }
    await p2.keyboard.press('[');
    assert.ok(Math.abs((await settle(clock2, secs[2].start)) - secs[2].start) < 0.25, '[ just after a section start goes to the one before');
    await p2.click(`[data-testid=section-lane] .seg[data-start="${secs[1].start}"]`);
    await p2.click('[data-testid=loop]');
    await p2.waitForSelector('[data-testid=loop][aria-pressed=true]');
    const end1 = songMap.sections.segments[1][1];
    const wb = await (await p2.$('[data-testid=waveform]')).boundingBox();
    await p2.mouse.click(wb.x + (wb.width * (end1 - 0.6)) / songMap.audio.duration_s, wb.y + wb.height / 2);
    await p2.click('[data-testid=play]');
    await new Promise((r) => setTimeout(r, 1800));
    const at = await clock2();
    await p2.click('[data-testid=play]');
    assert.ok(at >= secs[1].start - 0.05 && at < secs[1].start + 1.8, `looping B (${secs[1].start}-${end1} s): at ${at} s after 1.8 s from ${end1 - 0.6} s`);
    await p2.screenshot({ path: path.join(out, '10-track-sections-abab.png'), fullPage: true });
    step(`A B A B song: 4 sections, 2 colours (contrast ${secs.map((x) => x.ratio.toFixed(1)).join(', ')}), [ ] and the loop of B`);
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
