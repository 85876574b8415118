// Pre-processing time against OpenCV (`node dist-test/bench/preprocess.js [--runs 100] [--rounds 5] [--imgsz 640]
// [image ...]`, default the fixtures zidane.jpg and bus.jpg): one decoded frame to the float network input as detect
// makes it — letterbox to imgsz with minimal padding to the stride (resize INTER_LINEAR, pad 114), HWC→CHW, /255 —
// by the image addon, by the JS path, and by YOLOv5's own code on OpenCV in /usr/bin/python3 (cv2.resize +
// cv2.copyMakeBorder + transpose + ascontiguousarray + float32 /255, as detect.py does it; timed inside Python, so
// the process start is not counted). The three run in turns, `rounds` times `runs` frames each, so a machine that
// slows down affects all of them alike. Prints medians and minimums per frame and their ratios to OpenCV, and
// whether OpenCV's input has the same values as ours.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify, parseArgs } from 'node:util';
import { decodeImage, type RgbImage } from '../src/data/image.js';
import { letterboxInput } from '../src/data/letterbox.js';
import { jsFallbackReason, jsPreprocessor, nativePreprocessor, type Preprocessor } from '../src/data/preprocess.js';
import { BUS, ZIDANE } from '../test/helpers/fixtures.js';

const { values, positionals } = parseArgs({
  options: {
    runs: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '5' },
    imgsz: { type: 'string', default: '640' },
  },
  allowPositionals: true,
});
const runs = Number(values.runs);
const rounds = Number(values.rounds);
const imgsz = Number(values.imgsz);
for (const [name, v] of [['--runs', runs], ['--rounds', rounds], ['--imgsz', imgsz]] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
}
if (!nativePreprocessor) throw new Error(`the image addon is needed for this benchmark (make setup): ${jsFallbackReason}`);
const files = positionals.length > 0 ? positionals : [ZIDANE, BUS];

// YOLOv5's letterbox (utils/augmentations.py, auto=True as detect.py uses it) and detect.py's conversion, on a BGR
// frame as cv2 gives it; the [::-1] turns it to RGB.
const PYTHON = String.raw`
import json, sys, time
import cv2, numpy as np
raw, width, height, imgsz, runs, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
frame = np.fromfile(raw, dtype=np.uint8).reshape(height, width, 3)[:, :, ::-1].copy()

def letterbox(im, new_shape, color=(114, 114, 114), stride=32):
    shape = im.shape[:2]
    r = min(new_shape / shape[0], new_shape / shape[1])
    new_unpad = int(round(shape[1] * r)), int(round(shape[0] * r))
    dw, dh = np.mod(new_shape - new_unpad[0], stride) / 2, np.mod(new_shape - new_unpad[1], stride) / 2
    if shape[::-1] != new_unpad:
        im = cv2.resize(im, new_unpad, interpolation=cv2.INTER_LINEAR)
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    return cv2.copyMakeBorder(im, top, bottom, left, right, cv2.BORDER_CONSTANT, value=color)

def preprocess(frame):
    im = letterbox(frame, imgsz).transpose((2, 0, 1))[::-1]
    im = np.ascontiguousarray(im).astype(np.float32)
    im /= 255
    return im

for _ in range(5):
    preprocess(frame)
times = []
for _ in range(runs):
    start = time.perf_counter()
    im = preprocess(frame)
    times.append((time.perf_counter() - start) * 1000)
im.tofile(last)
print(json.dumps({'times': times, 'shape': im.shape, 'version': cv2.__version__, 'threads': cv2.getNumThreads()}))
`;

interface OpenCvRound {
  times: number[];
  shape: number[];
  version: string;
  threads: number;
}

const run = promisify(execFile);

async function openCv(raw: string, image: RgbImage, last: string): Promise<OpenCvRound> {
  const args = ['-c', PYTHON, raw, String(image.width), String(image.height), String(imgsz), String(runs), last];
  const { stdout } = await run('/usr/bin/python3', args, { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as OpenCvRound;
}

function ours(image: RgbImage, preprocessor: Preprocessor): { times: number[]; input: Float32Array } {
  const once = () => letterboxInput(image, imgsz, { auto: true, stride: 32, preprocessor }).input.data;
  for (let i = 0; i < 5; i++) once();
  const times: number[] = [];
  let input = once();
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    input = once();
    times.push(performance.now() - start);
  }
  return { times, input };
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const min = (xs: number[]): number => Math.min(...xs);
const ms = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1));

const work = mkdtempSync(join(tmpdir(), 'preprocess-bench-'));
try {
  const rows: string[][] = [];
  let opencvLabel = 'OpenCV';
  const notes: string[] = [];
  for (const file of files) {
    const image = await decodeImage(file);
    const raw = join(work, 'frame.rgb');
    const last = join(work, 'opencv.f32');
    writeFileSync(raw, image.data);
    const times = { native: [] as number[], js: [] as number[], opencv: [] as number[] };
    let input: Float32Array = new Float32Array();
    let shape: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const native = ours(image, nativePreprocessor);
      times.native.push(...native.times);
      input = native.input;
      times.js.push(...ours(image, jsPreprocessor).times);
      const cv = await openCv(raw, image, last);
      times.opencv.push(...cv.times);
      shape = cv.shape;
      opencvLabel = `OpenCV ${cv.version} (${cv.threads} threads)`;
    }
    const theirs = new Float32Array(readFileSync(last).buffer.slice(0));
    const [, h, w] = shape;
    if (theirs.length !== input.length) {
      notes.push(`${basename(file)}: OpenCV's input is ${w}x${h}, ours has ${input.length / 3} pixels`);
    } else {
      let differ = 0;
      let worst = 0;
      for (let i = 0; i < input.length; i++) {
        const d = Math.abs(input[i]! - theirs[i]!);
        if (d > 0) differ++;
        worst = Math.max(worst, d);
      }
      notes.push(
        `${basename(file)}: ${differ === 0 ? 'the same network input as OpenCV' : `${differ} of ${input.length} input values differ from OpenCV's, by at most ${Math.round(worst * 255)}/255`}`,
      );
    }
    const [nat, js, cv] = [times.native, times.js, times.opencv];
    rows.push([
      `${basename(file)} ${image.width}x${image.height}`,
      `${w}x${h}`,
      `${ms(median(nat))} (${ms(min(nat))})`,
      `${ms(median(js))} (${ms(min(js))})`,
      `${ms(median(cv))} (${ms(min(cv))})`,
      `${(median(nat) / median(cv)).toFixed(2)} (${(min(nat) / min(cv)).toFixed(2)})`,
      `${(median(js) / median(cv)).toFixed(1)} (${(min(js) / min(cv)).toFixed(1)})`,
    ]);
  }
  const header = ['frame', 'input', 'image addon', 'JS path', opencvLabel, 'addon / OpenCV', 'JS / OpenCV'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  console.log(`Pre-processing, one frame to the network input (letterbox to ${imgsz}, stride 32, HWC→CHW, /255)`);
  console.log(`${rounds} rounds × ${runs} frames each; ms per frame, median (minimum)\n`);
  for (const row of [header, ...rows]) console.log(row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  console.log();
  for (const note of notes) console.log(note);
} finally {
  rmSync(work, { recursive: true, force: true });
}
