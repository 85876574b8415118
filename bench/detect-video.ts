// Video detection speed (`node dist-test/bench/detect-video.js [--hold 18] [--threads 1,2] [--rounds 3] [--runs 30]
// [--baseline <another build's dist-test>] [--weights <model>] [--img 640]`): a 1280×720 H.264 video made with ffmpeg
// from the fixture photos (bus, zidane and 32 COCO images, each held `hold` frames at 30 fps: 611 frames, 20 s, by
// default) and the fixture yolov5n (or --weights: a checkpoint, or an ONNX file of that size or with dynamic axes, INT8
// ones included) exported to ONNX at the size detect letterboxes 1280×720 to for `--img` (384×640 for 640; 192×320
// for 320, the size a model trained at 320 runs at). After one unrecorded run, `runDetect` runs on the video without
// and with the annotated video saved, for each ONNX Runtime thread count; before each run, ONNX Runtime's inference
// alone is timed (a session made as detect makes it, the video's letterboxed frames in turn, `runs` times). Prints
// frames per second from the first frame's log line to the end of the run (start-up excluded, the last frames'
// encoding included) and their ratio to 1000 / inference ms, the speed of inference alone, then the CPU time per frame
// of node (all threads) and of the ffmpeg children and node's page faults per frame. With --baseline, that build's
// runDetect (say, a copy of dist-test made before a change) takes turns with this one's in the same process, measured
// against the same inference times. Runs alternate so that a machine that slows down affects all alike; medians over
// the rounds. The video lasts 20 s so that the speed is the steady one a video runs at: a run's start-up (ffprobe,
// ffmpeg, ONNX Runtime's thread and its first, slower runs) takes about 1.5 s of CPU beside the first frames, and on a
// 3-s video (`--hold 3`, 101 frames) it weighs: yolov5n at 1 thread 0.79× of inference alone against 0.95× on 20 s.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { loadModel } from '../src/checkpoint/index.js';
import { letterboxInput } from '../src/data/letterbox.js';
import { exportOnnx } from '../src/export/onnx-export.js';
import { sessionOptions } from '../src/infer/backend.js';
import { runDetect } from '../src/infer/detect-run.js';
import { probeVideo, readFrames } from '../src/infer/video.js';
import { growHeapFreely } from '../src/util/heap-growth.js';
import { COCO32, IMAGES, WEIGHTS } from '../test/helpers/fixtures.js';

// As the yolov5 command runs; `node --heap-growing-percent=0 dist-test/bench/detect-video.js` measures V8's default.
growHeapFreely();

const { values } = parseArgs({
  options: {
    hold: { type: 'string', default: '18' },
    threads: { type: 'string', default: '1,2' },
    rounds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '30' },
    baseline: { type: 'string' },
    weights: { type: 'string' },
    img: { type: 'string', default: '640' },
  },
});
const [hold, rounds, runs] = [Number(values.hold), Number(values.rounds), Number(values.runs)];
const threadCounts = values.threads.split(',').map(Number);
const img = Number(values.img);
for (const [name, v] of [['--hold', hold], ['--rounds', rounds], ['--runs', runs], ['--img', img], ...threadCounts.map((t) => ['--threads', t] as const)] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
}
const builds: { name: string; runDetect: typeof runDetect }[] = [{ name: 'this build', runDetect }];
if (values.baseline) {
  const module = (await import(pathToFileURL(resolve(values.baseline, 'src', 'infer', 'detect-run.js')).href)) as { runDetect: typeof runDetect };
  builds.push({ name: 'baseline', runDetect: module.runDetect });
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
// The network input as detect letterboxes the frames for --img (the minimum rectangle): 384×640 for 640.
const inputs: Float32Array[] = [];
let size = { width: 0, height: 0 };
for await (const frame of readFrames(video, info)) {
  if (inputs.length === 8) break;
  const { input } = letterboxInput(frame, img);
  size = { width: input.shape[3], height: input.shape[2] };
  inputs.push(input.data);
}

const given = values.weights;
const bytes = given?.endsWith('.onnx') ? readFileSync(given) : exportOnnx((await loadModel(given ?? WEIGHTS)).model, { imgsz: [size.height, size.width] }).bytes;
const weights = join(tmp, `model-${size.height}x${size.width}.onnx`);
writeFileSync(weights, bytes);
const modelName = given ? basename(given) : 'yolov5n';


function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Milliseconds per inference, median of `runs`, on this thread as onnxruntime-node runs it (one session per count). */
const sessions = new Map<number, InferenceSession>();
async function inferenceMs(threads: number): Promise<number> {
  if (!sessions.has(threads)) sessions.set(threads, await InferenceSession.create(bytes, sessionOptions({ threads, sharedCores: true })));
  const session = sessions.get(threads)!;
  const feed = (k: number) => ({ [session.inputNames[0]!]: new Tensor('float32', inputs[k % inputs.length]!, [1, 3, size.height, size.width]) });
  for (let k = 0; k < 3; k++) await session.run(feed(k));
  const times: number[] = [];
  for (let k = 0; k < runs; k++) {
    const started = performance.now();
    await session.run(feed(k));
    times.push(performance.now() - started);
  }
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
async function detectRun(detect: typeof runDetect, threads: number, save: boolean) {
  let first = 0;
  let frames = 0;
  const log = (line: string) => {
    if (!line.startsWith('video 1/1 (frame ')) return;
    if (frames++ === 0) first = performance.now();
  };
  const before = usage();
  await detect({ weights, source: video, imgsz: img, threads, nosave: !save, project: join(tmp, 'runs'), name: 'exp', existOk: true, log });
  const fps = ((frames - 1) * 1000) / (performance.now() - first);
  const after = usage();
  return { fps, frames, node: (after.node - before.node) / frames, ffmpeg: (after.ffmpeg - before.ffmpeg) / frames, faults: (after.faults - before.faults) / frames };
}

const samples = new Map<string, number[]>();
const record = (key: string, value: number) => samples.set(key, [...(samples.get(key) ?? []), value]);
const taken = (key: string) => median(samples.get(key)!);
let frameCount = 0;
// One run unrecorded: the first in a process also compiles the JavaScript and grows V8's heap, which made whichever
// setting came first look slower (the pruned model at 320, 1 thread: 88 FPS first, 186 later in the same process).
await detectRun(runDetect, threadCounts[0]!, false);
for (let round = 0; round < rounds; round++) {
  // Each round starts with the build the last one ended with, so that neither always runs first.
  const order = round % 2 ? [...builds].reverse() : builds;
  for (const threads of threadCounts) {
    for (const save of [false, true]) {
      for (const build of order) {
        record(`inference ${threads}`, await inferenceMs(threads));
        const run = await detectRun(build.runDetect, threads, save);
        frameCount = run.frames;
        for (const measure of ['fps', 'node', 'ffmpeg', 'faults'] as const) record(`${measure} ${build.name} ${threads} ${save}`, run[measure]);
      }
    }
  }
}
for (const session of sessions.values()) await session.release();

console.log(`\ndetect on a ${info.width}×${info.height} H.264 video, ${frameCount} frames, ${modelName} ONNX ${size.height}×${size.width}, medians of ${rounds} rounds`);
console.log('ORT threads  inference ms  inference FPS  build       saving  detect FPS  ratio  CPU ms/frame: node  ffmpeg  node page faults/frame');
for (const threads of threadCounts) {
  const ms = taken(`inference ${threads}`);
  for (const save of [false, true]) {
    for (const build of builds) {
      const key = `${build.name} ${threads} ${save}`;
      const row = [
        String(threads).padStart(11),
        ms.toFixed(2).padStart(13),
        (1000 / ms).toFixed(1).padStart(14),
        build.name.padEnd(11),
        (save ? 'yes' : 'no').padStart(6),
        taken(`fps ${key}`).toFixed(1).padStart(11),
        ((taken(`fps ${key}`) * ms) / 1000).toFixed(3).padStart(6),
        taken(`node ${key}`).toFixed(1).padStart(19),
        taken(`ffmpeg ${key}`).toFixed(1).padStart(7),
        taken(`faults ${key}`).toFixed(0).padStart(23),
      ];
      console.log(row.join(' '));
    }
  }
}
