// The training data loader (YOLOv5 LoadImagesAndLabels + InfiniteDataLoader for train.py): labels checked once,
// samples decoded and augmented by a pool of worker threads, batches prefetched in order and handed out as tensors.
// Reproducible: the shuffle comes from (seed, epoch) and each sample's randomness from (seed, epoch, index).
import 'sharp'; // sharp must be loaded by the main thread before any worker loads it (glibc: keeps libvips resident)
import { statSync } from 'node:fs';
import { availableParallelism, freemem } from 'node:os';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { resolveAugmentHyp, type AugmentHyp } from './augment/hyp.js';
import type { SampleShape } from './augment/sample.js';
import { splitImageFiles, type DatasetConfig, type SplitName } from './dataset-config.js';
import { describeScan, instanceCount, scanDataset, type DatasetScan } from './dataset-scan.js';
import { defaultCacheFile, scanDatasetCached, scanFingerprint } from './label-cache.js';
import type { Size } from './letterbox.js';
import { planRectBatches } from './rect-batches.js';
import { createRng } from '../util/random.js';
import { empty, tensor, tidy, type Tensor } from '../torch/index.js';
import { WorkerPool } from './workers/pool.js';
import { loaderWorkerUrl, SHUFFLE_STREAM, type SampleResult, type SharedImage, type WorkerSetup } from './workers/protocol.js';
import { integer, number } from '../util/check.js';

export interface TrainLoaderOptions {
  /** The images to train on: a list of image files, or `dataset` with `split` (one of the two). */
  imagePaths?: readonly string[];
  dataset?: DatasetConfig;
  split?: SplitName;
  /** Number of classes the labels are checked against; defaults to the dataset's. */
  nc?: number;
  /** Training size (long side); a multiple of `stride`. */
  imgsz: number;
  batchSize: number;
  /** The model's largest stride (32 for P5 models). */
  stride?: number;
  /** Augmentation hyperparameters; missing keys take hyp.scratch-low values, other keys are ignored. */
  hyp?: Partial<Record<keyof AugmentHyp, unknown>>;
  /** Random geometry, colour, flips and mosaics (default true). */
  augment?: boolean;
  /** Rectangular batches: images sorted by aspect ratio, no mosaic, no shuffle. */
  rect?: boolean;
  /** Extra margin of rect batch shapes, in strides (training default 0). */
  pad?: number;
  /** Keep decoded, resized images in memory (shared by all workers). */
  cache?: 'ram' | false;
  /** Worker threads (default min(cores, 8)). */
  workers?: number;
  seed?: number;
  /** Merge every class into class 0. */
  singleCls?: boolean;
  /** Shuffle each epoch (default: unless rect). */
  shuffle?: boolean;
  /** Label scan cache file; default `labels/<split>.cache` beside the labels, false for memory only. */
  labelCache?: string | false;
  /** Batches prepared ahead of the one being consumed (default: enough to keep every worker busy). */
  prefetch?: number;
  /**
   * This process's share when training over several (as PyTorch's DistributedSampler): every rank orders the epoch
   * alike, the order is padded by repeating its start to a multiple of the world size, and rank r takes every
   * world-size-th image from position r; `batchSize` is then the batch of one rank.
   */
  shard?: Shard;
}

export interface Shard {
  rank: number;
  worldSize: number;
}

export interface TrainBatch {
  /** Position in the epoch. */
  index: number;
  /** float32 [B, 3, H, W], RGB in [0, 1]. The caller owns it (dispose after use). */
  images: Tensor;
  /** float32 [N, 6]: image index in batch, class, cx, cy, w, h normalised to the batch's H, W. Caller owns it. */
  targets: Tensor;
  paths: string[];
  /** Dataset index of each image. */
  indices: number[];
  /** How each non-mosaic image was fitted; null for mosaics. */
  shapes: (SampleShape | null)[];
}

export interface LoaderStats {
  batches: number;
  images: number;
  /** Time the consumer spent blocked on workers, ms. */
  waitMs: number;
  /** Time spent turning samples into tensors on the main thread, ms. */
  collateMs: number;
}

/** Scans already done in this process, by fingerprint of the files. */
const scanMemo = new Map<string, DatasetScan>();

interface PlannedBatch {
  indices: number[];
  shape: Size;
}

/** Sample tasks already started for an epoch, batch by batch. */
interface Lookahead {
  epoch: number;
  group: object;
  batches: Promise<SampleResult>[][];
}

function resolveImageFiles(options: TrainLoaderOptions): string[] {
  if (options.imagePaths && options.dataset) throw new Error('train loader: give either imagePaths or dataset, not both');
  if (options.imagePaths) return [...options.imagePaths];
  if (options.dataset) return splitImageFiles(options.dataset, options.split ?? 'train');
  throw new Error('train loader: no images (give imagePaths or dataset)');
}

/** A folder without write permission bits; checked explicitly because a root process could write there anyway. */
function isReadOnlyFolder(folder: string): boolean {
  try {
    return (statSync(folder).mode & 0o222) === 0;
  } catch {
    return false;
  }
}

async function scanOnce(files: string[], nc: number, labelCache: string | false | undefined, messages: string[]): Promise<DatasetScan> {
  const key = scanFingerprint(files, nc);
  const memo = scanMemo.get(key);
  if (memo) return memo;
  const cacheFile = labelCache === false ? undefined : (labelCache ?? defaultCacheFile(files));
  let scan: DatasetScan;
  if (cacheFile === undefined || isReadOnlyFolder(dirname(cacheFile))) {
    if (cacheFile !== undefined) messages.push(`label cache ${cacheFile} not used: its folder is read-only`);
    scan = await scanDataset(files, { nc });
  } else {
    const cached = await scanDatasetCached(files, cacheFile, { nc });
    if (cached.cacheWarning) messages.push(cached.cacheWarning);
    scan = cached.scan;
  }
  scanMemo.set(key, scan);
  return scan;
}

function packLabels(labels: readonly Float32Array[]): { labels: Float32Array; labelOffsets: Int32Array } {
  const labelOffsets = new Int32Array(labels.length + 1);
  labels.forEach((rows, i) => (labelOffsets[i + 1] = labelOffsets[i]! + rows.length));
  const packed = new Float32Array(labelOffsets[labels.length]!);
  labels.forEach((rows, i) => packed.set(rows, labelOffsets[i]!));
  return { labels: packed, labelOffsets };
}

export class TrainLoader {
  readonly stats: LoaderStats = { batches: 0, images: 0, waitMs: 0, collateMs: 0 };
  private readonly prefetch: number;
  private readonly rectPlan: PlannedBatch[] | undefined;
  private lookahead: Lookahead | undefined;
  private readonly batchCount: number;

  /** Use createTrainLoader. */
  constructor(
    private readonly pool: WorkerPool,
    readonly files: readonly string[],
    /** Per image: rows of [class, cx, cy, w, h], normalised (after singleCls), for AutoAnchor and label plots. */
    readonly labels: readonly Float32Array[],
    /** Per image: size of the file as displayed. */
    readonly sizes: readonly Size[],
    /** `N images, M backgrounds, K corrupt`, as YOLOv5 prints after scanning. */
    readonly summary: string,
    /** Warnings from scanning and setup, each naming its file. */
    readonly messages: readonly string[],
    readonly batchSize: number,
    private readonly settings: {
      imgsz: number;
      stride: number;
      rect: boolean;
      pad: number;
      shuffle: boolean;
      seed: number;
      prefetch?: number;
      shard?: Shard;
    },
  ) {
    const world = settings.shard?.worldSize ?? 1;
    // Rectangular batches are planned for all ranks' images together, each rank taking its stride of every batch.
    this.rectPlan = settings.rect
      ? planRectBatches(sizes, { imgsz: settings.imgsz, batchSize: batchSize * world, stride: settings.stride, pad: settings.pad }).map(
          (planned) => ({ ...planned, indices: this.take(planned.indices) }),
        )
      : undefined;
    this.batchCount = this.rectPlan?.length ?? Math.ceil(Math.ceil(files.length / world) / batchSize);
    // Enough queued work for two rounds of every worker's task slots.
    this.prefetch = settings.prefetch ?? Math.max(2, Math.ceil((2 * pool.capacity) / batchSize));
  }

  get numImages(): number {
    return this.files.length;
  }

  /** Batches per epoch (the last one may be smaller). */
  get length(): number {
    return this.batchCount;
  }

  /** This rank's images of `order`: padded by repeating its start to a multiple of the world size, then strided. */
  private take(order: number[]): number[] {
    const shard = this.settings.shard;
    if (!shard || shard.worldSize === 1) return order;
    const total = Math.ceil(order.length / shard.worldSize) * shard.worldSize;
    const padded = Array.from({ length: total }, (_, k) => order[k % order.length]!);
    return padded.filter((_, k) => k % shard.worldSize === shard.rank);
  }

  /** The batches of one epoch: their images and letterbox shapes. */
  plan(epoch: number): PlannedBatch[] {
    if (this.rectPlan) return this.rectPlan;
    const order = Array.from({ length: this.files.length }, (_, i) => i);
    if (this.settings.shuffle) {
      const rng = createRng(SHUFFLE_STREAM, this.settings.seed, epoch);
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
    }
    const shape = { width: this.settings.imgsz, height: this.settings.imgsz };
    const mine = this.take(order);
    const batches: PlannedBatch[] = [];
    for (let start = 0; start < mine.length; start += this.batchSize) batches.push({ indices: mine.slice(start, start + this.batchSize), shape });
    return batches;
  }

  /** Starts building the samples of batch `b` of an epoch's plan. */
  private request(epoch: number, planned: PlannedBatch, group: object): Promise<SampleResult>[] {
    return planned.indices.map((index) => {
      const task = this.pool.run<SampleResult>({ kind: 'sample', epoch, index, target: planned.shape }, { group });
      task.catch(() => undefined); // awaited in order later; this only keeps early failures from being "unhandled"
      return task;
    });
  }

  /**
   * The batches of epoch `epochIndex`, in order. Near its end the first batches of the next epoch are started, so
   * that epoch (if asked for next) begins without a wait. Leaving the loop early cancels the work queued for it.
   */
  async *epoch(epochIndex: number): AsyncGenerator<TrainBatch> {
    integer('epoch', epochIndex, { min: 0 });
    const plan = this.plan(epochIndex);
    const adopted = this.lookahead?.epoch === epochIndex ? this.lookahead : undefined;
    if (this.lookahead && !adopted) this.pool.cancel(this.lookahead.group);
    this.lookahead = undefined;
    const current = adopted ?? { epoch: epochIndex, group: {}, batches: [] };
    const next: Lookahead = { epoch: epochIndex + 1, group: {}, batches: [] };
    const nextPlan = this.plan(epochIndex + 1);
    let handedOver = false;
    try {
      for (let b = 0; b < plan.length; b++) {
        const horizon = b + 1 + this.prefetch;
        while (current.batches.length < Math.min(plan.length, horizon)) {
          current.batches.push(this.request(epochIndex, plan[current.batches.length]!, current.group));
        }
        while (next.batches.length < Math.min(nextPlan.length, horizon - plan.length)) {
          next.batches.push(this.request(epochIndex + 1, nextPlan[next.batches.length]!, next.group));
        }
        const started = performance.now();
        const samples = await Promise.all(current.batches[b]!);
        const ready = performance.now();
        current.batches[b] = []; // the samples are about to be copied into tensors; free them with the batch
        const batch = this.collate(b, plan[b]!, samples);
        this.stats.waitMs += ready - started;
        this.stats.collateMs += performance.now() - ready;
        this.stats.batches++;
        this.stats.images += samples.length;
        if (b === plan.length - 1) {
          this.lookahead = next;
          handedOver = true;
        }
        yield batch;
      }
    } finally {
      this.pool.cancel(current.group);
      if (!handedOver) this.pool.cancel(next.group);
    }
  }

  private collate(index: number, planned: PlannedBatch, samples: SampleResult[]): TrainBatch {
    const { width, height } = samples[0]!;
    const sampleBytes = 3 * width * height;
    let targetCount = 0;
    samples.forEach((sample, i) => {
      if (sample.width !== width || sample.height !== height) {
        throw new Error(`batch ${index}: sample ${i} is ${sample.width}x${sample.height}, expected ${width}x${height}`);
      }
      targetCount += sample.labels.length / 5;
    });
    // The bytes go straight into the tensor's memory; libtorch then converts them on all cores.
    const images = tidy(() => {
      const bytes = empty([samples.length, 3, height, width], { dtype: 'uint8' });
      const view = bytes.dataView() as Uint8Array;
      samples.forEach((sample, i) => view.set(new Uint8Array(sample.pixels), i * sampleBytes));
      return bytes.to('float32').div_(255);
    });
    const targets = new Float32Array(targetCount * 6);
    let t = 0;
    samples.forEach((sample, i) => {
      for (let r = 0; r < sample.labels.length; r += 5, t += 6) {
        targets[t] = i;
        targets.set(sample.labels.subarray(r, r + 5), t + 1);
      }
    });
    return {
      index,
      images,
      targets: tensor(targets, [targetCount, 6]),
      paths: planned.indices.map((i) => this.files[i]!),
      indices: [...planned.indices],
      shapes: samples.map((sample) => sample.shape),
    };
  }

  /** Stops the workers. */
  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Bytes the RAM cache would take, estimated from the image sizes the scan found. */
function cacheBytes(sizes: readonly Size[], imgsz: number): number {
  return sizes.reduce((sum, { width, height }) => {
    const r = imgsz / Math.max(width, height);
    return sum + Math.trunc(width * r) * Math.trunc(height * r) * 3;
  }, 0);
}

/**
 * The last RAM cache filled, kept for the next loader of the same images: consecutive trainings in one process
 * (the stages of a prune run) decode them once. Its pixels are shared memory, so any pool can use them.
 */
let lastCache: { key: string; images: SharedImage[] } | undefined;

/** Fills (or reuses) the RAM cache if it fits in free memory; otherwise says why not. */
async function useRamCache(pool: WorkerPool, setup: WorkerSetup, sizes: readonly Size[], messages: string[]): Promise<void> {
  const key = JSON.stringify([setup.imgsz, setup.augment, setup.imageFiles, setup.lenient]);
  if (lastCache?.key !== key) {
    lastCache = undefined;
    const needed = cacheBytes(sizes, setup.imgsz);
    if (needed * 1.1 >= freemem()) {
      messages.push(`${(needed / 2 ** 30).toFixed(1)}GB RAM required to cache images, ${(freemem() / 2 ** 30).toFixed(1)}GB free, not caching`);
      return;
    }
    const images = await Promise.all(setup.imageFiles.map((_, index) => pool.run<SharedImage>({ kind: 'decode', index })));
    lastCache = { key, images };
  }
  pool.broadcast({ kind: 'use-cache', images: lastCache.images });
}

/** Worker threads for training batches, as YOLOv5's data loader: no more than the cores or the images per batch. */
export function trainingWorkers(requested: number, batchSize: number): number {
  return Math.min(requested, availableParallelism(), batchSize);
}

/** Checks the labels (once per process, and via the `.cache` file), starts the workers, optionally caches images. */
export async function createTrainLoader(options: TrainLoaderOptions): Promise<TrainLoader> {
  const imgsz = integer('imgsz', options.imgsz, { min: 1 });
  const stride = integer('stride', options.stride ?? 32, { min: 1 });
  if (imgsz % stride !== 0) throw new Error(`imgsz ${imgsz} must be a multiple of the stride ${stride}`);
  const requestedBatch = integer('batch size', options.batchSize, { min: 1 });
  const workers = integer('workers', options.workers ?? Math.min(availableParallelism(), 8), { min: 1 });
  const seed = integer('seed', options.seed ?? 0);
  const pad = number('pad', options.pad ?? 0, { min: 0 });
  if (options.prefetch !== undefined) integer('prefetch', options.prefetch, { min: 1 });
  const augment = options.augment ?? true;
  const rect = options.rect ?? false;
  const hyp = resolveAugmentHyp(options.hyp);
  const nc = options.nc ?? options.dataset?.nc;
  if (nc === undefined) throw new Error('train loader: nc is required with imagePaths (labels are checked against it)');
  integer('nc', nc, { min: 1 });

  const messages: string[] = [];
  if (rect && options.shuffle) messages.push('--rect is incompatible with shuffling, not shuffling');
  const shuffle = !rect && (options.shuffle ?? true);

  const files = resolveImageFiles(options);
  const scan = await scanOnce(files, nc, options.labelCache, messages);
  messages.push(...scan.messages);
  if (scan.images.length === 0) throw new Error(`train loader: no usable images among ${files.length} (${describeScan(scan)})`);
  if (augment && instanceCount(scan) === 0) throw new Error(`train loader: no labels found for ${files.length} images, cannot train (${describeScan(scan)})`);

  const labels = scan.images.map((image) => {
    const rows = image.labels.slice();
    if (options.singleCls) for (let i = 0; i < rows.length; i += 5) rows[i] = 0;
    return rows;
  });
  const sizes = scan.images.map(({ width, height }) => ({ width, height }));
  const setup: WorkerSetup = {
    imageFiles: scan.images.map((image) => image.imageFile),
    lenient: scan.images.map((image) => image.truncatedJpeg),
    ...packLabels(labels),
    imgsz,
    augment,
    mosaic: augment && !rect,
    hyp,
    seed,
  };
  const pool = new WorkerPool(loaderWorkerUrl(), Math.min(workers, scan.images.length), setup);
  try {
    if (options.cache === 'ram') await useRamCache(pool, setup, sizes, messages);
  } catch (error) {
    await pool.close();
    throw error;
  }
  const shard = options.shard;
  if (shard && !(Number.isInteger(shard.worldSize) && shard.worldSize >= 1 && Number.isInteger(shard.rank) && shard.rank >= 0 && shard.rank < shard.worldSize)) {
    await pool.close();
    throw new Error(`train loader: rank ${shard.rank} is not in a world of ${shard.worldSize}`);
  }
  const batchSize = Math.min(requestedBatch, Math.ceil(scan.images.length / (shard?.worldSize ?? 1)));
  return new TrainLoader(pool, setup.imageFiles, labels, sizes, describeScan(scan), messages, batchSize, {
    imgsz,
    stride,
    rect,
    pad,
    shuffle,
    seed,
    prefetch: options.prefetch,
    shard,
  });
}
