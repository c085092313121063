// Basic Pitch (Spotify, Apache-2.0) as a benchmark peer: its npm package @spotify/basic-pitch in
// node, the model that ships inside it, tfjs's CPU backend. Prints JSON {notes: [[on, off, midi,
// amplitude], ...], cpu_s} for one file. Audio is decoded to 22.05 kHz mono by ffmpeg.
// node bench/notes/basic_pitch_peer.mjs NODE_MODULES_DIR FILE
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [modules, file] = process.argv.slice(2);
const require = createRequire(path.join(modules, 'x.js'));
const tf = require('@tensorflow/tfjs');
const bp = require('@spotify/basic-pitch');
const modelDir = path.join(modules, '@spotify/basic-pitch/model');

const pcm = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-ac', '1', '-ar', '22050', '-f', 'f32le', '-'], {
  maxBuffer: 1 << 30,
});
const audio = new Float32Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 4);
const t0 = process.cpuUsage();
const json = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json')));
const weights = fs.readFileSync(path.join(modelDir, json.weightsManifest[0].paths[0]));
const model = tf.loadGraphModel(tf.io.fromMemory({
  modelTopology: json.modelTopology,
  weightSpecs: json.weightsManifest[0].weights,
  weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy,
}));
const basicPitch = new bp.BasicPitch(model);
const frames = [], onsets = [], contours = [];
await basicPitch.evaluateModel(audio, (f, o, c) => { frames.push(...f); onsets.push(...o); contours.push(...c); }, () => {});
const notes = bp.noteFramesToTime(bp.addPitchBendsToNoteEvents(contours, bp.outputToNotesPoly(frames, onsets, 0.25, 0.25, 5)));
const u = process.cpuUsage(t0);
process.stdout.write(JSON.stringify({
  cpu_s: (u.user + u.system) / 1e6,
  notes: notes.map(n => [n.startTimeSeconds, n.startTimeSeconds + n.durationSeconds, n.pitchMidi, n.amplitude]),
}));
