// Video detection speed (`node dist-test/bench/detect-video.js [--hold 3] [--threads 1,2] [--rounds 3] [--runs 60]`):
// a 1280×720 H.264 video made with ffmpeg from the fixture photos (bus, zidane and 32 COCO images, each held `hold`
// frames at 30 fps) and the fixture yolov5n exported to ONNX at 384×640, the size detect letterboxes 1280×720 to.
// Prints, per ONNX Runtime thread count: inference alone (one session made as detect makes it, the video's
// letterboxed frames in turn, median of `runs`), and `runDetect` on the video without and with the annotated video
// saved, in frames per second from the first frame's log line to the end of the run (start-up excluded, the last
// frames' encoding included), as a ratio to 1000 / inference ms (the speed of inference alone), the CPU time per
// frame of node (all threads) and of the ffmpeg children, and node's page faults per frame. The runs alternate so that a machine that slows down
// affects all alike; medians over the rounds.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { loadModel } from '../src/checkpoint/index.js';
import { letterboxInput } from '../src/data/letterbox.js';
import { exportOnnx } from '../src/export/onnx-export.js';
import { sessionOptions } from '../src/infer/backend.js';
import { runDetect } from '../src/infer/detect-run.js';
import { probeVideo, readFrames } from '../src/infer/video.js';
import { COCO32, IMAGES, WEIGHTS } from '../test/helpers/fixtures.js';

const { values } = parseArgs({
  options: {
    hold: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1,2' },
    rounds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '60' },
  },
});
const [hold, rounds, runs] = [Number(values.hold), Number(values.rounds), Number(values.runs)];
const threadCounts = values.threads.split(',').map(Number);
for (const [name, v] of [['--hold', hold], ['--rounds', rounds], ['--runs', runs], ...threadCounts.map((t) => ['--threads', t] as const)] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
}

const tmp = mkdtempSync(join(tmpdir(), 'bench-detect-video-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

// The photos, numbered for ffmpeg's image sequence input; each is scaled into 1280×720 and padded black.
const photos = join(tmp, 'photos');
mkdirSync(photos);
const sources = [join(IMAGES, 'bus.jpg'), join(IMAGES, 'zidane.jpg'), ...readdirSync(join(COCO32, '..', 'images', 'val2017')).sort().map((f) => join(COCO32, '..', 'images', 'val2017', f))];
sources.forEach((file, i) => copyFileSync(file, join(photos, `${String(i).padStart(3, '0')}.jpg`)));
const video = join(tmp, 'photos.mp4');
execFileSync('ffmpeg', [
  '-v', 'error', '-y', '-framerate', String(30 / hold), '-i', join(photos, '%03d.jpg'),
  '-vf', 'scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1',
  '-r', '30', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', video,
]);
const info = await probeVideo(video);

const { model } = await loadModel(WEIGHTS);
const { bytes } = exportOnnx(model, { imgsz: [384, 640] });
const weights = join(tmp, 'yolov5n-384x640.onnx');
writeFileSync(weights, bytes);

const inputs: Float32Array[] = [];
for await (const frame of readFrames(video, info)) {
  if (inputs.length === 8) break;
  inputs.push(letterboxInput(frame, { width: 640, height: 384 }, { auto: false }).input.data);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function inferenceMs(threads: number): Promise<number> {
  const session = await InferenceSession.create(bytes, sessionOptions(threads));
  const feed = (k: number) => ({ [session.inputNames[0]!]: new Tensor('float32', inputs[k % inputs.length]!, [1, 3, 384, 640]) });
  for (let k = 0; k < 5; k++) await session.run(feed(k));
  const times: number[] = [];
  for (let k = 0; k < runs; k++) {
    const started = performance.now();
    await session.run(feed(k));
    times.push(performance.now() - started);
  }
  await session.release();
  return median(times);
}

/**
 * CPU milliseconds used so far by this process (all its threads) and by its children that ended (ffmpeg), and this
 * process's page faults: memory new to it costs one per 4 KiB page, which is dear on this VM.
 */
function usage(): { node: number; ffmpeg: number; faults: number } {
  const { userCPUTime, systemCPUTime, minorPageFault } = process.resourceUsage();
  // cutime and cstime, fields 16 and 17 of /proc/self/stat (the 14th and 15th after the command), in 1/100 s.
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return { node: (userCPUTime + systemCPUTime) / 1000, ffmpeg: (Number(fields[13]) + Number(fields[14])) * 10, faults: minorPageFault };
}

/**
 * Frames per second of detect on the video, from the first frame's log line to the end of the run, and the CPU time
 * per frame of the whole run: on a machine whose cores are all busy, speed follows that instead of the overlap.
 */
async function detectRun(threads: number, save: boolean): Promise<{ fps: number; frames: number; nodeCpu: number; ffmpegCpu: number; faults: number }> {
  let first = 0;
  let frames = 0;
  const log = (line: string) => {
    if (!line.startsWith('video 1/1 (frame ')) return;
    if (frames++ === 0) first = performance.now();
  };
  const before = usage();
  await runDetect({ weights, source: video, threads, nosave: !save, project: join(tmp, 'runs'), name: `t${threads}-${save ? 'save' : 'nosave'}`, existOk: true, log });
  const fps = ((frames - 1) * 1000) / (performance.now() - first);
  const after = usage();
  return { fps, frames, nodeCpu: (after.node - before.node) / frames, ffmpegCpu: (after.ffmpeg - before.ffmpeg) / frames, faults: (after.faults - before.faults) / frames };
}

const samples = new Map<string, number[]>();
const record = (key: string, value: number) => samples.set(key, [...(samples.get(key) ?? []), value]);
let frameCount = 0;
for (let round = 0; round < rounds; round++) {
  for (const threads of threadCounts) {
    record(`inference ${threads}`, await inferenceMs(threads));
    for (const save of [false, true]) {
      const { fps, frames, nodeCpu, ffmpegCpu, faults } = await detectRun(threads, save);
      frameCount = frames;
      record(`fps ${threads} ${save}`, fps);
      record(`node ${threads} ${save}`, nodeCpu);
      record(`ffmpeg ${threads} ${save}`, ffmpegCpu);
      record(`faults ${threads} ${save}`, faults);
    }
  }
}

console.log(`\ndetect on a ${info.width}×${info.height} H.264 video, ${frameCount} frames, yolov5n ONNX 384×640, medians of ${rounds} rounds`);
console.log('ORT threads  inference ms  inference FPS  saving  detect FPS  ratio  CPU ms/frame: node  ffmpeg  node page faults/frame');
for (const threads of threadCounts) {
  const ms = median(samples.get(`inference ${threads}`)!);
  const ideal = 1000 / ms;
  for (const save of [false, true]) {
    const fps = median(samples.get(`fps ${threads} ${save}`)!);
    const row = [
      String(threads).padStart(11),
      ms.toFixed(2).padStart(13),
      ideal.toFixed(1).padStart(14),
      (save ? 'yes' : 'no').padStart(7),
      fps.toFixed(1).padStart(11),
      (fps / ideal).toFixed(3).padStart(6),
      median(samples.get(`node ${threads} ${save}`)!).toFixed(1).padStart(19),
      median(samples.get(`ffmpeg ${threads} ${save}`)!).toFixed(1).padStart(7),
      median(samples.get(`faults ${threads} ${save}`)!).toFixed(0).padStart(23),
    ];
    console.log(row.join(' '));
  }
}
