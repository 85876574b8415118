// detect on videos, whose stages overlap (ffmpeg decoding ahead, ONNX Runtime in its own thread, the annotated video
// encoded behind): the same detections, frame for frame and in order, as detecting the frames one by one; a clear
// message and no hang for a damaged video, a decoder that dies, and no ffmpeg at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../src/checkpoint/index.js';
import { exportOnnx } from '../src/export/onnx-export.js';
import { runDetect, type DetectRunOptions } from '../src/infer/detect-run.js';
import { load } from '../src/infer/predictor.js';
import { probeVideo, readFrames } from '../src/infer/video.js';
import { BUS, WEIGHTS, ZIDANE } from './helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'detect-video-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const onnx = join(tmp, 'yolov5n-192x320.onnx');
const FRAMES = 6;
const [WIDTH, HEIGHT] = [480, 270];
/** Bus, zidane, bus, ... one frame each, so that a frame out of place changes what is found on it. */
const clip = join(tmp, 'clip.mp4');

/** An H.264 video of the numbered photos in `dir`, one frame each, scaled into 480×270; `faststart` puts its index first. */
function encode(dir: string, file: string, faststart = false): void {
  execFileSync('ffmpeg', [
    '-v', 'error', '-y', '-framerate', '10', '-i', join(dir, '%02d.jpg'),
    '-vf', `scale=${WIDTH}:${HEIGHT}:force_original_aspect_ratio=decrease,pad=${WIDTH}:${HEIGHT}:(ow-iw)/2:(oh-ih)/2,setsar=1`,
    '-pix_fmt', 'yuv420p', '-c:v', 'libx264', ...(faststart ? ['-movflags', '+faststart'] : []), file,
  ]);
}

test.before(async () => {
  const { model } = await loadModel(WEIGHTS);
  writeFileSync(onnx, exportOnnx(model, { imgsz: [192, 320] }).bytes);
  const photos = join(tmp, 'photos');
  mkdirSync(photos);
  for (let i = 0; i < FRAMES; i++) copyFileSync(i % 2 ? ZIDANE : BUS, join(photos, `${String(i).padStart(2, '0')}.jpg`));
  encode(photos, clip);
});

/** runDetect on one source with the ONNX model, its log lines kept. */
async function detect(source: string, name: string, more: Partial<DetectRunOptions> = {}) {
  const lines: string[] = [];
  const summary = await runDetect({ weights: onnx, source, project: join(tmp, 'runs'), name, existOk: true, log: (line) => lines.push(line), ...more });
  return { summary, lines, dir: join(tmp, 'runs', name) };
}

/** The warning and the error of a run that processes nothing. */
async function failedDetect(source: string, name: string): Promise<string> {
  const lines: string[] = [];
  const error = await runDetect({ weights: onnx, source, project: join(tmp, 'runs'), name, nosave: true, log: (line) => lines.push(line) }).then(
    () => assert.fail('detect should have failed'),
    (e: Error) => e.message,
  );
  return [...lines.filter((l) => l.startsWith('WARNING')), error].join('\n');
}

/** The label file of each frame (none where nothing was found), frames 1..count. */
function labelFiles(dir: string, count: number): string[] {
  return Array.from({ length: count }, (_, k) => {
    const file = join(dir, 'labels', `clip_${k + 1}.txt`);
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  });
}

test('detect on a video finds what detecting its frames one by one finds, frame for frame, in order', { timeout: 300_000 }, async () => {
  const detector = await load(onnx);
  const expected: { labels: string; summary: string }[] = [];
  try {
    for await (const frame of readFrames(clip, await probeVideo(clip))) {
      const result = await detector.detectImage(frame, clip);
      expected.push({ labels: result.labelLines({ saveConf: true }), summary: result.boxes.length ? result.summary() : '(no detections)' });
    }
  } finally {
    await detector.dispose();
  }
  assert.equal(expected.length, FRAMES);
  assert.notEqual(expected[0]!.summary, expected[1]!.summary, 'bus and zidane frames should differ');

  const { summary, lines, dir } = await detect(clip, 'all', { saveTxt: true, saveConf: true });
  assert.equal(summary.processed, FRAMES);
  // A core is left to decoding, drawing and encoding.
  const threads = Math.max(availableParallelism() - 1, 1);
  assert.match(lines[0]!, new RegExp(`for onnxruntime inference on ${threads} threads? \\(`));
  assert.deepEqual(labelFiles(dir, FRAMES), expected.map((e) => e.labels));
  const frameLines = lines.filter((l) => l.startsWith('video 1/1 (frame '));
  assert.deepEqual(
    frameLines.map((l) => l.replace(/^video 1\/1 \(frame (\d+)\/\d+\) .*?: 192x320 (.*), [\d.]+ms$/, '$1 $2')),
    expected.map((e, k) => `${k + 1} ${e.summary}`),
  );
  const saved = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,width,height', '-of', 'csv=p=0', join(dir, 'clip.mp4')], { encoding: 'utf8' });
  assert.equal(saved.trim(), `${WIDTH},${HEIGHT},${FRAMES}`);

  // Every second frame: frames 2, 4, 6 of the video, numbered 1, 2, 3.
  const strided = await detect(clip, 'stride', { saveTxt: true, saveConf: true, nosave: true, vidStride: 2, threads: 3 });
  assert.equal(strided.summary.processed, FRAMES / 2);
  assert.match(strided.lines[0]!, /for onnxruntime inference on 3 threads \(/);
  // Images alone keep every core.
  const still = await detect(BUS, 'still', { nosave: true });
  assert.match(still.lines[0]!, new RegExp(`for onnxruntime inference on ${availableParallelism()} threads? \\(`));
  assert.deepEqual(labelFiles(strided.dir, FRAMES / 2), expected.filter((_, k) => k % 2 === 1).map((e) => e.labels));
});

test('a damaged video, a decoder that dies and a missing ffmpeg end with a clear message, not a hang', { timeout: 300_000 }, async () => {
  // Cut where the index (written last by default) is lost: nothing can be read.
  const headless = join(tmp, 'headless.mp4');
  writeFileSync(headless, readFileSync(clip).subarray(0, statSync(clip).size >> 1));
  assert.match(await failedDetect(headless, 'headless'), /^WARNING: skipping .*headless\.mp4: ffmpeg cannot open the video \(.*moov atom not found.*\)\nno image or video frame of .*headless\.mp4 could be processed/);

  // Index first, frames cut off: those before the cut are detected on, then a warning says what ffmpeg reported.
  const photos = join(tmp, 'photos');
  const indexed = join(tmp, 'indexed.mp4');
  encode(photos, indexed, true);
  const cut = join(tmp, 'cut.mp4');
  writeFileSync(cut, readFileSync(indexed).subarray(0, Math.round(statSync(indexed).size * 0.6)));
  const damaged = await detect(cut, 'cut', { nosave: true });
  assert.ok(damaged.summary.processed > 0 && damaged.summary.processed < FRAMES, `${damaged.summary.processed} frames`);
  assert.match(damaged.lines.at(-2)!, /^WARNING: .*cut\.mp4: ffmpeg reported errors while decoding, frames may be missing \(.+\)$/);

  const path = process.env.PATH;
  try {
    // An ffmpeg that sends two and a half frames and dies: the two are detected on, then the video is reported.
    const fake = join(tmp, 'fake-ffmpeg');
    mkdirSync(fake);
    writeFileSync(join(fake, 'ffmpeg'), `#!/bin/sh\nhead -c ${WIDTH * HEIGHT * 3 * 2.5} /dev/zero\necho 'simulated decoder crash' >&2\nexit 1\n`);
    chmodSync(join(fake, 'ffmpeg'), 0o755);
    process.env.PATH = `${fake}:${path}`;
    const died = await detect(clip, 'died', { nosave: true });
    assert.equal(died.summary.processed, 2);
    assert.deepEqual(died.summary.skipped, [{ path: clip, reason: 'stopped after frame 2: ffmpeg failed while decoding (exit code 1: simulated decoder crash)' }]);

    process.env.PATH = join(tmp, 'empty');
    assert.match(await failedDetect(clip, 'no-ffmpeg'), /^WARNING: skipping .*clip\.mp4: ffprobe not found: install ffmpeg .*\nno image or video frame of .*clip\.mp4 could be processed/);
  } finally {
    process.env.PATH = path;
  }
});
