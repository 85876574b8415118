// Latency per stage (pre-process, inference, NMS) of a model on each runtime, at batch 1 on one letterboxed
// image, median and minimum over repeated runs. Reusable: the pruning report compares original and pruned models.
import { availableParallelism } from 'node:os';
import { decodeImage, createRgbImage, type RgbImage } from '../data/image.js';
import { loadModel } from '../checkpoint/index.js';
import { gflops } from '../model/summary.js';
import type { DetectionModel } from '../model/yolo.js';
import { getNumThreads, setNumThreads } from '../torch/index.js';
import { OnnxBackend, TorchBackend, inferenceCopy, type Backend, type RuntimeName } from './backend.js';
import { Detector } from './predictor.js';
import { integer } from '../util/check.js';

export interface BenchmarkOptions {
  /** Inference size (long side). Default 640. */
  imgsz?: number;
  /** The image to run on; default a synthetic 1280×720 picture (letterboxed to 640×384 at imgsz 640). */
  image?: RgbImage | string;
  /** Timed runs per runtime (default 50), after `warmup` untimed ones (default 5). */
  runs?: number;
  warmup?: number;
  /** Runtimes to measure (default both where the weights allow). */
  runtimes?: RuntimeName[];
  /** Intra-op threads of both runtimes (default: all cores for ONNX Runtime, libtorch's own default). */
  threads?: number;
}

export interface StageStats {
  median: number;
  min: number;
}

export interface RuntimeBenchmark {
  runtime: RuntimeName;
  /** Of the inference model (BatchNorm folded); null when only an ONNX file is known. */
  parameters: number | null;
  gflops: number | null;
  /** [batch, channels, height, width] of the network input. */
  inputShape: [number, number, number, number];
  threads: number;
  runs: number;
  preprocess: StageStats;
  inference: StageStats;
  nms: StageStats;
  total: StageStats;
  /** 1000 / median total latency. */
  fps: number;
}

/** A deterministic 1280×720 test picture: smooth colour gradients with a few solid blocks (no file needed). */
export function syntheticImage(width = 1280, height = 720): RgbImage {
  const image = createRgbImage(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const block = ((x >> 7) + (y >> 7)) % 3 === 0;
      image.data[o] = block ? 200 : (x * 255) / width;
      image.data[o + 1] = block ? 60 : (y * 255) / height;
      image.data[o + 2] = block ? 40 : 128 + 127 * Math.sin((x + y) / 40);
    }
  }
  return image;
}

function stats(values: number[]): StageStats {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]! };
}

/** Timings of one backend, run after run; stages are summarised by their median and minimum. */
class Sampler {
  private readonly detector: Detector;
  private readonly samples = { preprocess: [] as number[], inference: [] as number[], nms: [] as number[], total: [] as number[] };
  private inputShape: RuntimeBenchmark['inputShape'] = [1, 3, 0, 0];

  constructor(backend: Backend) {
    this.detector = new Detector(backend, 'benchmark');
  }

  async run(image: RgbImage, imgsz: number, record: boolean): Promise<void> {
    const { timings, inputSize } = await this.detector.detectImage(image, 'benchmark', { imgsz });
    this.inputShape = [1, 3, inputSize.height, inputSize.width];
    if (!record) return;
    this.samples.preprocess.push(timings.preprocess);
    this.samples.inference.push(timings.inference);
    this.samples.nms.push(timings.nms);
    this.samples.total.push(timings.preprocess + timings.inference + timings.nms);
  }

  result() {
    const total = stats(this.samples.total);
    return {
      inputShape: this.inputShape,
      preprocess: stats(this.samples.preprocess),
      inference: stats(this.samples.inference),
      nms: stats(this.samples.nms),
      total,
      fps: 1000 / total.median,
    };
  }
}

async function measure(backend: Backend, image: RgbImage, options: { imgsz: number; runs: number; warmup: number }) {
  const sampler = new Sampler(backend);
  for (let i = 0; i < options.warmup + options.runs; i++) await sampler.run(image, options.imgsz, i >= options.warmup);
  return sampler.result();
}

/**
 * ONNX Runtime latency of several models (in memory, or .onnx files) measured side by side: their runs alternate,
 * so a machine that slows down or speeds up during the measurement affects all of them alike and their ratios
 * stay meaningful.
 */
export async function compareOnnxLatency(models: (DetectionModel | string)[], options: Omit<BenchmarkOptions, 'runtimes'> = {}): Promise<RuntimeBenchmark[]> {
  const { settings, image, threads } = await prepare(options);
  const fused = models.map((m) => (typeof m === 'string' ? null : inferenceCopy(m)));
  const backends: OnnxBackend[] = [];
  try {
    for (const [k, m] of models.entries()) {
      backends.push(typeof m === 'string' ? await OnnxBackend.create(m, { threads }) : await onnxAtInputSize(fused[k]!, image, settings.imgsz, threads));
    }
    const samplers = backends.map((b) => new Sampler(b));
    for (let i = 0; i < settings.warmup + settings.runs; i++) for (const sampler of samplers) await sampler.run(image, settings.imgsz, i >= settings.warmup);
    return samplers.map((sampler, k) => describe('onnxruntime', fused[k] ?? null, threads, settings.runs, sampler.result()));
  } finally {
    for (const b of backends) await b.dispose();
  }
}

/** An ONNX Runtime backend exported for the one input size the benchmark image letterboxes to, as deployed. */
async function onnxAtInputSize(model: DetectionModel, image: RgbImage, imgsz: number, threads: number): Promise<OnnxBackend> {
  const torch = new TorchBackend(model);
  const [, , height, width] = new Detector(torch, 'benchmark').networkInput(image, imgsz).shape;
  return torch.toOnnx({ threads, size: [height, width] });
}

/** Checked run counts and threads, and the image to run on. */
async function prepare(options: BenchmarkOptions) {
  const settings = { imgsz: options.imgsz ?? 640, runs: options.runs ?? 50, warmup: options.warmup ?? 5 };
  integer('benchmark: runs', settings.runs, { min: 1 });
  integer('benchmark: warmup', settings.warmup, { min: 0 });
  const threads = integer('benchmark: threads', options.threads ?? availableParallelism(), { min: 1 });
  const image = typeof options.image === 'string' ? await decodeImage(options.image) : (options.image ?? syntheticImage());
  return { settings, image, threads };
}

/** One runtime's figures; parameters and GFLOPs are those of the inference model, unknown for a bare .onnx file. */
function describe(runtime: RuntimeName, model: DetectionModel | null, threads: number, runs: number, measured: ReturnType<Sampler['result']>): RuntimeBenchmark {
  const [, , h, w] = measured.inputShape;
  return { runtime, parameters: model ? model.numParameters() : null, gflops: model ? gflops(model, [h, w]) : null, threads, runs, ...measured };
}

/**
 * Benchmarks a model (in memory, or a weights file: .pt / .safetensors on both runtimes, .onnx on ONNX Runtime)
 * on each runtime. An in-memory model is left untouched (a fused copy is measured).
 */
export async function benchmarkModel(model: DetectionModel | string, options: BenchmarkOptions = {}): Promise<RuntimeBenchmark[]> {
  const wanted = options.runtimes ?? ['libtorch', 'onnxruntime'];
  if (typeof model === 'string' && model.toLowerCase().endsWith('.onnx')) {
    if (wanted.includes('libtorch')) throw new Error(`${model}: an ONNX model can be benchmarked on ONNX Runtime only (runtimes: ['onnxruntime'])`);
    return compareOnnxLatency([model], options);
  }
  const { settings, image, threads } = await prepare(options);
  const fused = typeof model === 'string' ? (await loadModel(model)).model.fuse().eval() : inferenceCopy(model);
  const torch = new TorchBackend(fused);
  const results: RuntimeBenchmark[] = [];
  const torchThreads = getNumThreads();
  for (const runtime of wanted) {
    const backend = runtime === 'libtorch' ? torch : await onnxAtInputSize(fused, image, settings.imgsz, threads);
    // libtorch's thread count is process-wide: set only while measuring, then restored.
    if (runtime === 'libtorch' && options.threads) setNumThreads(options.threads);
    try {
      const measured = await measure(backend, image, settings);
      results.push(describe(runtime, fused, runtime === 'libtorch' ? getNumThreads() : threads, settings.runs, measured));
    } finally {
      setNumThreads(torchThreads);
      await backend.dispose();
    }
  }
  return results;
}

/** A table with one row per model and runtime; `name` labels each model (e.g. original / pruned). */
export function formatBenchmark(models: { name: string; results: RuntimeBenchmark[] }[]): string {
  const ms = (s: StageStats) => `${s.median.toFixed(1).padStart(7)}${s.min.toFixed(1).padStart(7)}`;
  const nameWidth = Math.max(5, ...models.map((m) => m.name.length)) + 2;
  const header1 = `${'model'.padEnd(nameWidth)}${'runtime'.padEnd(13)}${'threads'.padStart(7)}${'params'.padStart(11)}${'GFLOPs'.padStart(8)}  ${'input'.padEnd(11)}${'pre-process ms'.padStart(14)}${'inference ms'.padStart(14)}${'NMS ms'.padStart(14)}${'total ms'.padStart(14)}${'FPS'.padStart(8)}`;
  const header2 = ' '.repeat(nameWidth + 13 + 7 + 11 + 8 + 2 + 11) + `${'median'.padStart(7)}${'min'.padStart(7)}`.repeat(4);
  const rows = models.flatMap(({ name, results }) =>
    results.map((r) => {
      const [, , h, w] = r.inputShape;
      return (
        `${name.padEnd(nameWidth)}${r.runtime.padEnd(13)}${String(r.threads).padStart(7)}${(r.parameters === null ? '-' : String(r.parameters)).padStart(11)}` +
        `${(r.gflops === null ? '-' : r.gflops.toFixed(1)).padStart(8)}  ${`${w}x${h}`.padEnd(11)}` +
        `${ms(r.preprocess)}${ms(r.inference)}${ms(r.nms)}${ms(r.total)}${r.fps.toFixed(1).padStart(8)}`
      );
    }),
  );
  return [header1, header2, ...rows].join('\n');
}
