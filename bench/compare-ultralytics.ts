// yolov5-ts against ultralytics/yolov5 on the same machine with the same threads (issue #16):
//
//   node dist-test/bench/compare-ultralytics.js --python /usr/bin/python3 --ultralytics ../yolov5 \
//     --weights ../shared/weights/yolov5n.pt --data ../shared/datasets/coco128/coco128.yaml \
//     --frame ../shared/images/zidane.jpg [--threads 2] [--rounds 3] [--rows 1,2,3,4] [--iters N] [--json FILE]
//     [--wait-policy passive|active|own]
//
// Rows (--rows picks them; 5 is off by default, it takes minutes a run):
//   1 pre-process one 1280×720 frame to the 1×3×384×640 float input (letterbox, HWC→CHW, /255): our letterboxInput as
//     detect calls it, against ultralytics' letterbox + transpose + ascontiguousarray + torch.from_numpy().float()/255
//   2 yolov5n on libtorch, batch 1, 640×384, BatchNorm folded, under noGrad / torch.no_grad()
//   3 the same at batch 16, 640×640
//   4 `val --img 640 --batch 16` on the dataset: wall time of the whole command, and inference ms per image as each
//     tool prints it
//   5 `train --img 640 --batch 16 --epochs 1 --noplots` from the weights: wall time of the whole command, and the
//     training loop as each prints it ("1 epochs completed in … hours", to 3.6 s)
// Each side runs in its own process: yolov5-ts as this script in child mode, ultralytics as our scripts in
// bench/ultralytics/ importing the checkout's modules. Rows 1–3 warm up, time --iters runs and report their median;
// the sides alternate (ours first in odd rounds, theirs first in even ones) for --rounds rounds so that a machine that
// slows down hits both, and the table shows the median of the rounds' medians and the ratio yolov5-ts / ultralytics.
// Rows 4–5 run on copies of the dataset's folder in a temporary directory, one per tool: both keep a labels cache
// beside the labels, under the same name in different formats, and the dataset may be read-only. The first round
// writes the caches, later rounds read them.
// Both sides run with the same OMP_NUM_THREADS (--threads, default every core) and OMP_WAIT_POLICY (--wait-policy,
// default passive; `own` leaves each tool's default).
// Python and the checkout: --python (or YOLOV5_PYTHON; default python3 on the PATH) and --ultralytics (or
// ULTRALYTICS_DIR); when either is missing the bench says how to set them up (see SETUP).
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadModel } from '../src/checkpoint/index.js';
import { decodeImage, type RgbImage } from '../src/data/image.js';
import { letterbox, letterboxInput } from '../src/data/letterbox.js';
import { preprocessor } from '../src/data/preprocess.js';
import { packageRoot } from '../src/io/package-root.js';
import { getNumThreads, noGrad, setNumThreads, tensor, tidy } from '../src/torch/index.js';

const SETUP = `compare-ultralytics needs a Python with torch and OpenCV (--python PATH, or YOLOV5_PYTHON; default python3 on
the PATH) and a checkout of ultralytics/yolov5 v7.0 (--ultralytics DIR, or ULTRALYTICS_DIR).
  Python, offline on Debian 12: apt-get install python3-torch python3-torchvision python3-opencv python3-yaml
    python3-scipy python3-pandas python3-matplotlib python3-seaborn python3-tqdm python3-psutil
    then --python /usr/bin/python3 (a pyenv or venv python3 earlier on the PATH does not see these packages).
  The checkout: git clone --depth 1 --branch v7.0 https://github.com/ultralytics/yolov5 (or unpack
    https://github.com/ultralytics/yolov5/archive/refs/tags/v7.0.tar.gz), on a machine that can reach GitHub, and copy
    it over. For the val rows lift its NMS time limit: in utils/general.py non_max_suppression, set
    time_limit = 1e9 instead of 0.5 + 0.05 * bs; a slow CPU otherwise cuts NMS short, with fewer boxes and less time.`;

/** What a timing process prints as its last line. */
interface Timed {
  median: number;
  min: number;
  iters: number;
  shape: number[];
  threads: number;
  preprocessor?: string;
}

/** A job for this script in child mode: the yolov5-ts side of rows 1–3. */
type ChildJob =
  | { kind: 'preprocess'; frame: string; width: number; height: number; imgsz: number; threads: number; warmup: number; iters: number }
  | { kind: 'infer'; weights: string; input: string; shape: number[]; threads: number; warmup: number; iters: number };

function timeMs(fn: () => void, warmup: number, iters: number): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return times;
}

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function runChild(job: ChildJob): Promise<Timed> {
  setNumThreads(job.threads);
  if (job.kind === 'preprocess') {
    const image: RgbImage = { data: new Uint8Array(readFileSync(job.frame)), width: job.width, height: job.height };
    // As Detector.networkInput makes it for a model without a fixed input size: minimal padding to the stride.
    const once = () => letterboxInput(image, job.imgsz, { auto: true, stride: 32 }).input;
    const times = timeMs(once, job.warmup, job.iters);
    return { median: median(times), min: Math.min(...times), iters: times.length, shape: once().shape, threads: getNumThreads(), preprocessor: preprocessor.backend };
  }
  // As benchmarkModel and detect run it: BatchNorm folded, eval mode, decoded output (ultralytics' forward returns
  // its decoded output too). The input tensor is made once, as on the other side; detect's copy in and out is left out.
  const model = (await loadModel(job.weights)).model.fuse().eval();
  const data = new Float32Array(new Uint8Array(readFileSync(job.input)).buffer);
  const x = tensor(data, job.shape);
  const times = timeMs(() => noGrad(() => tidy(() => void model.infer(x))), job.warmup, job.iters);
  return { median: median(times), min: Math.min(...times), iters: times.length, shape: job.shape, threads: getNumThreads() };
}

interface Ran {
  code: number | null;
  stdout: string;
  /** stdout and stderr as they came. */
  output: string;
  seconds: number;
}

function runProcess(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: string[] = [];
    const output: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout.push(s), output.push(s)));
    child.stderr.setEncoding('utf8').on('data', (s: string) => output.push(s));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout: stdout.join(''), output: output.join(''), seconds: (performance.now() - started) / 1000 }));
  });
}

const tail = (text: string, lines = 15): string =>
  text
    .split(/[\r\n]+/)
    .filter((line) => line.trim())
    .slice(-lines)
    .join('\n');

async function mustRun(what: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  const ran = await runProcess(command, args, env);
  if (ran.code !== 0) throw new Error(`${what} failed (exit ${ran.code}): ${command} ${args.join(' ')}\n${tail(ran.output)}`);
  return ran;
}

function lastJson<T>(what: string, ran: Ran): T {
  const line = ran.stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (!line) throw new Error(`${what} printed no result:\n${tail(ran.output)}`);
  return JSON.parse(line) as T;
}

// ---- child mode: `--child <job as JSON>`, started by the parent below ----
const thisScript = fileURLToPath(import.meta.url);
const childAt = process.argv.indexOf('--child');
if (childAt >= 0) {
  console.log(JSON.stringify(await runChild(JSON.parse(process.argv[childAt + 1]!) as ChildJob)));
  process.exit(0);
}

const { values } = parseArgs({
  options: {
    python: { type: 'string', default: process.env.YOLOV5_PYTHON ?? 'python3' },
    ultralytics: { type: 'string', default: process.env.ULTRALYTICS_DIR },
    weights: { type: 'string' },
    data: { type: 'string' },
    frame: { type: 'string' },
    threads: { type: 'string', default: String(availableParallelism()) },
    rounds: { type: 'string', default: '3' },
    rows: { type: 'string', default: '1,2,3,4' },
    'wait-policy': { type: 'string', default: 'passive' },
    iters: { type: 'string' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  const header = readFileSync(thisScript, 'utf8').split('\n').filter((l) => l.startsWith('//'));
  console.log(header.map((l) => l.slice(3)).join('\n'));
  process.exit(0);
}

const positive = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${text}`);
  return n;
};
const threads = positive('--threads', values.threads);
const rounds = positive('--rounds', values.rounds);
const iters = values.iters === undefined ? undefined : positive('--iters', values.iters);
const rows = new Set(values.rows.split(',').map((r) => positive('--rows', r.trim())));
for (const r of rows) if (r > 5) throw new Error(`--rows: rows are 1 to 5, got ${r}`);
const needs = (flag: 'weights' | 'data' | 'frame', forRows: number[]): string | undefined => {
  if (!forRows.some((r) => rows.has(r))) return undefined;
  const value = values[flag];
  if (!value) throw new Error(`--${flag} is needed for rows ${forRows.filter((r) => rows.has(r)).join(', ')} (see --help)`);
  if (!existsSync(value)) throw new Error(`--${flag} ${value}: no such file`);
  return resolve(value);
};
const weights = needs('weights', [2, 3, 4, 5]);
const data = needs('data', [4, 5]);
const frameFile = needs('frame', [1, 2, 3]);

const root = packageRoot();
const cli = join(root, 'dist', 'cli', 'main.js');
if ((rows.has(4) || rows.has(5)) && !existsSync(cli)) throw new Error(`${cli} is missing: build yolov5-ts first (make setup)`);
const scripts = join(root, 'bench', 'ultralytics');
const python = values.python;
/** A setup problem: the reason and how to set up, without a stack trace. */
const setupFailed = (reason: string): never => {
  console.error(`${reason}\n\n${SETUP}`);
  process.exit(1);
};
const checkout = values.ultralytics ? resolve(values.ultralytics) : setupFailed('no ultralytics checkout given (--ultralytics DIR or ULTRALYTICS_DIR)');

// Both tools get the same intra-op threads: ours through setNumThreads and OMP_NUM_THREADS (libtorch reads it at
// start), theirs through torch.set_num_threads in our scripts (Debian's torch defaults to 1 thread, and the
// checkout's utils/general.py sets OMP_NUM_THREADS only after torch has read it). And the same OpenMP wait policy:
// yolov5-ts sets PASSIVE unless told otherwise, PyTorch leaves libgomp spinning, and on a busy machine spinning
// threads make a 2-thread forward up to 10× slower — a difference of settings, not of implementations.
// AutoUpdate off: the checkout would try to pip-install requirements that Debian's packages satisfy under other names.
const policy = values['wait-policy'];
if (!['passive', 'active', 'own'].includes(policy)) throw new Error(`--wait-policy must be passive, active or own, got ${policy}`);
const waitPolicy = policy === 'own' ? {} : { OMP_WAIT_POLICY: policy.toUpperCase() };
const oursEnv = { ...process.env, OMP_NUM_THREADS: String(threads), ...waitPolicy };
const theirsEnv = { ...process.env, OMP_NUM_THREADS: String(threads), YOLOv5_AUTOINSTALL: 'false', ...waitPolicy };
// `own`: each tool as it ships (yolov5-ts PASSIVE, PyTorch libgomp's default), whatever the caller's environment says.
if (policy === 'own') {
  delete oursEnv.OMP_WAIT_POLICY;
  delete theirsEnv.OMP_WAIT_POLICY;
}

let versions: Record<string, string>;
try {
  const ran = await runProcess(python, [join(scripts, 'check.py'), checkout], theirsEnv);
  if (ran.code !== 0) throw new Error(tail(ran.output, 1));
  versions = lastJson<Record<string, string>>('check.py', ran);
} catch (error) {
  const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (error as Error).message;
  versions = setupFailed(`${python} with ${checkout}: ${reason}`);
}

interface Row {
  work: string;
  unit: string;
  ours: number[];
  theirs: number[];
}
const results: Row[] = [];
const notes: string[] = [];
const work = mkdtempSync(join(tmpdir(), 'compare-ultralytics-'));
const progress = (text: string) => console.error(text);

/** Runs `ours` and `theirs` in turns, `rounds` times, ours first in odd rounds. */
async function alternate<T>(label: string, ours: () => Promise<T>, theirs: () => Promise<T>, show: (t: T) => string): Promise<{ ours: T[]; theirs: T[] }> {
  const out = { ours: [] as T[], theirs: [] as T[] };
  progress(`${label}: ${rounds} round(s)`);
  for (let r = 0; r < rounds; r++) {
    const sides = [['yolov5-ts', ours, out.ours], ['ultralytics', theirs, out.theirs]] as const;
    const order = r % 2 === 0 ? sides : ([sides[1], sides[0]] as const);
    const said: string[] = [];
    for (const [name, run, into] of order) {
      const t = await run();
      into.push(t);
      said.push(`${name} ${show(t)}`);
    }
    progress(`  ${label}, round ${r + 1}/${rounds}: ${said.join(', ')}`);
  }
  return out;
}

try {
  // ---- rows 1–3: timed inside each process ----
  let frame: RgbImage | undefined;
  if (frameFile) {
    const photo = await decodeImage(frameFile);
    // A 1280×720 frame as a camera gives it; another photo is fitted into one (scaled, padded grey).
    frame = photo.width === 1280 && photo.height === 720 ? photo : letterbox(photo, { width: 1280, height: 720 }, { auto: false }).image;
    writeFileSync(join(work, 'frame.rgb'), frame.data);
    if (frame !== photo) notes.push(`frame: ${frameFile} (${photo.width}×${photo.height}) fitted into 1280×720`);
  }
  const inProcess = async (label: string, unit: string, ours: ChildJob, theirs: string[]) => {
    const runOurs = async () => lastJson<Timed>(`${label} (yolov5-ts)`, await mustRun(label, process.execPath, [thisScript, '--child', JSON.stringify(ours)], oursEnv));
    const runTheirs = async () => lastJson<Timed>(`${label} (ultralytics)`, await mustRun(label, python, theirs, theirsEnv));
    const got = await alternate(label, runOurs, runTheirs, (t) => `${t.median.toFixed(2)} ${unit}`);
    for (const side of [got.ours, got.theirs]) {
      if (side.some((t) => t.threads !== threads)) notes.push(`${label}: a process ran with ${side.find((t) => t.threads !== threads)!.threads} threads, not ${threads}`);
    }
    if (got.ours[0]!.shape.join() !== got.theirs[0]!.shape.join()) {
      notes.push(`${label}: input shapes differ, ours ${got.ours[0]!.shape.join('×')}, theirs ${got.theirs[0]!.shape.join('×')}`);
    }
    results.push({ work: label, unit, ours: got.ours.map((t) => t.median), theirs: got.theirs.map((t) => t.median) });
    return got;
  };

  if (rows.has(1) && frame) {
    const n = iters ?? 100;
    const job: ChildJob = { kind: 'preprocess', frame: join(work, 'frame.rgb'), width: 1280, height: 720, imgsz: 640, threads, warmup: 10, iters: n };
    const args = ['--checkout', checkout, '--frame', job.frame, '--width', '1280', '--height', '720', '--imgsz', '640', '--threads', String(threads), '--warmup', '10', '--iters', String(n)];
    const got = await inProcess('pre-process 1280×720 → 1×3×384×640 float', 'ms', job, [join(scripts, 'preprocess.py'), ...args]);
    notes.push(`pre-process: yolov5-ts on its ${got.ours[0]!.preprocessor} path; ultralytics' OpenCV single-threaded, as its utils/general.py sets it`);
  }
  const inferRow = async (batch: number, height: number, width: number, n: number, warmup: number) => {
    // The same input for both sides: our letterbox of the frame, repeated over the batch.
    const one = letterboxInput(frame!, { width, height }, { auto: false }).input.data;
    const input = new Float32Array(batch * one.length);
    for (let b = 0; b < batch; b++) input.set(one, b * one.length);
    const file = join(work, `input-${batch}x3x${height}x${width}.f32`);
    writeFileSync(file, input);
    const shape = [batch, 3, height, width];
    const job: ChildJob = { kind: 'infer', weights: weights!, input: file, shape, threads, warmup, iters: n };
    const args = ['--checkout', checkout, '--weights', weights!, '--input', file, '--shape', shape.join(), '--threads', String(threads), '--warmup', String(warmup), '--iters', String(n)];
    await inProcess(`yolov5n libtorch, batch ${batch}, ${width}×${height}, fused`, 'ms', job, [join(scripts, 'infer.py'), ...args]);
    rmSync(file);
  };
  if (rows.has(2) && frame) await inferRow(1, 384, 640, iters ?? 20, 3);
  if (rows.has(3) && frame) await inferRow(16, 640, 640, iters ?? 3, 1);

  // ---- rows 4–5: whole commands, on a copy of the dataset per tool ----
  if (data && (rows.has(4) || rows.has(5))) {
    const yamlFor = (side: string): string => {
      const config = parseYaml(readFileSync(data, 'utf8')) as Record<string, unknown>;
      // yolov5-ts resolves `path` against the yaml's folder, ultralytics against its checkout: an absolute path
      // means the same to both.
      const from = resolve(dirname(data), typeof config.path === 'string' ? config.path : '.');
      const to = join(work, side, 'dataset');
      cpSync(from, to, { recursive: true, filter: (src) => !src.endsWith('.cache') });
      const file = join(work, side, 'data.yaml');
      delete config.download;
      writeFileSync(file, stringifyYaml({ ...config, path: to }));
      return file;
    };
    const yaml = { ours: yamlFor('ours'), theirs: yamlFor('theirs') };
    notes.push(`val/train: on copies of ${dirname(data)} in ${tmpdir()}, one per tool (each writes its own labels cache there; the first round creates it)`);
    // A config folder of our own: run.py puts a font there that the checkout would otherwise download.
    const theirsCommandEnv = { ...theirsEnv, YOLOV5_CONFIG_DIR: join(work, 'theirs', 'config') };
    const command = async (label: string, task: 'val' | 'train', extra: string[]) => {
      const args = (side: 'ours' | 'theirs') => ['--weights', weights!, '--data', yaml[side], '--img', '640', '--batch', '16', ...extra, '--project', join(work, side, 'runs'), '--name', task, '--exist-ok'];
      return alternate(
        label,
        () => mustRun(`${label} (yolov5-ts)`, process.execPath, [cli, task, ...args('ours')], oursEnv),
        () => mustRun(`${label} (ultralytics)`, python, [join(scripts, 'run.py'), checkout, String(threads), `${task}.py`, ...args('theirs')], theirsCommandEnv),
        (ran) => `${ran.seconds.toFixed(1)} s`,
      );
    };
    const parsed = (what: string, ran: Ran, pattern: RegExp): number[] => {
      const found = pattern.exec(ran.output);
      if (!found) throw new Error(`${what}: no line matching ${pattern} in its output:\n${tail(ran.output)}`);
      return found.slice(1).map(Number);
    };
    if (rows.has(4)) {
      const label = 'val, 640, batch 16';
      const got = await command(label, 'val', []);
      const speed = /Speed: ([\d.]+)ms pre-process, ([\d.]+)ms inference, ([\d.]+)ms NMS per image/;
      const all = /^\s*all\s+\d+\s+\d+\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)/m;
      results.push({ work: `${label}: whole command`, unit: 's', ours: got.ours.map((r) => r.seconds), theirs: got.theirs.map((r) => r.seconds) });
      const inference = (side: Ran[], who: string) => side.map((r) => parsed(`val (${who})`, r, speed)[1]!);
      results.push({ work: `${label}: inference per image, as printed`, unit: 'ms', ours: inference(got.ours, 'yolov5-ts'), theirs: inference(got.theirs, 'ultralytics') });
      const map = (r: Ran, who: string) => parsed(`val (${who})`, r, all).slice(2).map((m) => m.toFixed(4)).join(' / ');
      notes.push(`val mAP50 / mAP50-95: yolov5-ts ${map(got.ours[0]!, 'yolov5-ts')}, ultralytics ${map(got.theirs[0]!, 'ultralytics')}`);
      if (got.theirs.some((r) => r.output.includes('NMS time limit'))) notes.push('ultralytics hit its NMS time limit: lift it in the checkout (see --help) for comparable val figures');
    }
    if (rows.has(5)) {
      const label = 'fine-tune 1 epoch, 640, batch 16';
      const got = await command(label, 'train', ['--epochs', '1', '--noplots']);
      results.push({ work: `${label}: whole command`, unit: 's', ours: got.ours.map((r) => r.seconds), theirs: got.theirs.map((r) => r.seconds) });
      const loop = /(\d+) epochs completed in ([\d.]+) hours/;
      const hours = (side: Ran[], who: string) => side.map((r) => parsed(`train (${who})`, r, loop)[1]! * 3600);
      results.push({ work: `${label}: training loop, as printed`, unit: 's', ours: hours(got.ours, 'yolov5-ts'), theirs: hours(got.theirs, 'ultralytics') });
    }
  }
} catch (error) {
  // The rows measured so far still print below.
  console.error(`\n${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}

// ---- the table ----
const figure = (x: number): string => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
const table = results.map((r) => {
  const [ours, theirs] = [median(r.ours), median(r.theirs)];
  return { ...r, median: { ours, theirs }, ratio: ours / theirs };
});
const header = ['work', 'yolov5-ts', 'ultralytics', 'ratio'];
const cells = table.map((r) => [`${r.work} (${r.unit})`, figure(r.median.ours), figure(r.median.theirs), `${r.ratio.toFixed(2)}×`]);
const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
const policyText = policy === 'own' ? 'each its own OpenMP wait policy' : `OMP_WAIT_POLICY=${policy.toUpperCase()}`;
console.log(`\nyolov5-ts against ultralytics/yolov5 (${checkout}), ${threads} thread(s), ${policyText}, ${rounds} alternating round(s); median of the rounds' medians`);
console.log(`Python ${versions.python}, torch ${versions.torch}, torchvision ${versions.torchvision}, OpenCV ${versions.opencv}, numpy ${versions.numpy}\n`);
for (const row of [header, ...cells]) console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
if (notes.length) console.log(`\n${notes.join('\n')}`);
if (values.json) {
  writeFileSync(values.json, JSON.stringify({ threads, waitPolicy: policy, rounds, versions, checkout, rows: table, notes }, null, 2) + '\n');
  console.log(`\nwritten: ${values.json}`);
}
