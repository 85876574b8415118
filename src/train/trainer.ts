// The training loop (official train.py): data, model, loss, optimizer with warmup and schedule, EMA, per-epoch
// validation of the EMA model, results.csv and pictures, last/best checkpoints, early stopping, and exact resume.
// Usable as a library: train(options, hooks) accepts an already-built model and a few hooks (for pruning).
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Tensor, callOp, manualSeed, nn, tensor } from '../torch/index.js';
import { BUCKET_BYTES, type GradientReducer, type ProcessGroup } from '../torch/distributed.js';
import type { Handle } from '../torch/native.js';
import type { DetectionModel } from '../model/yolo.js';
import { loadDatasetConfig, type DatasetConfig } from '../data/dataset-config.js';
import { trainingWorkers, type TrainLoader } from '../data/train-loader.js';
import { drawBatch } from '../plot/batch.js';
import { createRng } from '../util/random.js';
import { prepareSplit, validate, type PreparedSplit, type ValidationResult } from '../val/validator.js';
import { readCheckpoint } from '../checkpoint/format.js';
import { incrementPath, lockRunDir } from '../io/run-dir.js';
import { DEFAULT_HYP, loadHyp, type Hyp } from './hyp.js';
import { detectionLoss, trainingBatches } from './training-data.js';
import { createOptimizer, groupParameters, setOptimizerHyper, type OptimizerName, type TrainOptimizer } from './optimizer.js';
import { forwardBackward, optimizerStep } from './step.js';
import { NOMINAL_BATCH, TrainingSchedule } from './schedule.js';
import { ModelEMA } from './ema.js';
import { checkAnchors } from './autoanchor.js';
import { EarlyStopping } from './early-stop.js';
import { fitness, writeResultsCsv, type EpochRecord } from './results.js';
import { plotLabelCorrelogram, plotLabels, plotResults } from './plots.js';
import { writeRunFiles } from './run-files.js';
import { freezeLayers, prepareModel } from './model-setup.js';
import { progress, progressBarShown } from '../util/progress.js';
import {
  finishCheckpoint,
  latestRun,
  loadTrainingCheckpoint,
  saveTrainingCheckpoint,
  type RunSettings,
  type TrainingState,
} from './train-checkpoint.js';
import { integer, number } from '../util/check.js';

export interface TrainOptions {
  /** Dataset yaml (path or parsed); required unless resuming. */
  data?: string | DatasetConfig;
  /** Initial weights: official .pt or our .safetensors; '' for none (with cfg). */
  weights?: string;
  /** Model config (path or shipped name such as yolov5n). */
  cfg?: string;
  /** An already-built model to train exactly as it is (e.g. pruned); overrides weights and cfg. */
  model?: DetectionModel;
  /** Hyperparameters: a yaml path, a shipped name (hyp.scratch-low/med/high) or the values. */
  hyp?: string | Hyp;
  imgsz?: number;
  batchSize?: number;
  /** Images per optimizer step: gradients of batches accumulate up to it (default 64, YOLOv5's nominal batch). */
  nominalBatch?: number;
  /**
   * Channel gates' own learning rate, without warmup and decaying with the schedule (sparsity training needs the
   * gates to move within a fine-tuning schedule's few steps). Default: the gates follow the weights.
   */
  gateLr?: number;
  /**
   * BatchNorm layers normalise with their running statistics and keep them (their scale and shift still train).
   * Sparsity training needs this: with batch statistics the next BatchNorm undoes any shrinking of a layer's gates,
   * so the penalty meets no resistance in training while the running statistics fall behind the model.
   */
  freezeBatchNormStats?: boolean;
  /**
   * The warmup lasts at least this many iterations (default 100, as YOLOv5). On a small dataset 100 iterations
   * are many epochs (COCO128: 12), during which a short fine-tuning never reaches its learning rate.
   */
  minWarmupIterations?: number;
  epochs?: number;
  /** Output folder `project/name` (incremented unless existOk); or `saveDir` to name it exactly. */
  project?: string;
  name?: string;
  existOk?: boolean;
  saveDir?: string;
  /** Continue a run: its last.safetensors, or true for the most recent under `project`. */
  resume?: string | boolean;
  /** Epochs without fitness improvement before stopping (0: never). */
  patience?: number;
  /** Also save a checkpoint every this many epochs (≤ 0: never). */
  savePeriod?: number;
  workers?: number;
  seed?: number;
  optimizer?: OptimizerName;
  cosLr?: boolean;
  rect?: boolean;
  cache?: 'ram' | false;
  /** [n] freezes layers 0..n-1; a longer list freezes those layers. */
  freeze?: number[];
  singleCls?: boolean;
  multiScale?: boolean;
  /** Validate only after the last epoch. */
  noval?: boolean;
  /** Save only the final checkpoint. */
  nosave?: boolean;
  noplots?: boolean;
  noautoanchor?: boolean;
  /** Class label smoothing epsilon (overrides the hyp's). */
  labelSmoothing?: number;
  /** Stops training at the next batch boundary; the last finished epoch's checkpoint is kept. */
  signal?: AbortSignal;
  /**
   * Progress within epochs and validation: a bar on stderr when it is a terminal, otherwise a line every 10 s
   * (util/progress). false: only the line each epoch ends with. Default true.
   */
  progress?: boolean;
  /** Where messages go (default console.log). */
  log?: (line: string) => void;
  /**
   * Train as one process of several (PyTorch DDP): the group's ranks start from rank 0's weights, each trains on
   * its shard of every epoch with batchSize / world size images a batch, gradients are averaged before each
   * optimizer step, and rank 0 alone logs, validates, plots and saves.
   */
  group?: ProcessGroup;
  /** With a group: BatchNorm statistics of all ranks' batches together (SyncBatchNorm); otherwise each rank its own. */
  syncBn?: boolean;
  /** With a group: MiB of gradients a bucket, each all-reduced once backward has produced it (default 25, as DDP). */
  bucketCapMb?: number;
}

/** What hooks see of the run. */
export interface TrainContext {
  model: DetectionModel;
  ema: ModelEMA;
  optimizer: TrainOptimizer;
  hyp: Hyp;
  saveDir: string;
  epochs: number;
  startEpoch: number;
  log: (line: string) => void;
}

export interface StepContext extends TrainContext {
  epoch: number;
  /** Batch index within the epoch. */
  batch: number;
  /** Batches since the start of training. */
  iteration: number;
  /** Batches in an epoch. */
  batches: number;
}

export interface EpochContext extends TrainContext {
  epoch: number;
  /** The epoch's results so far (losses, metrics, learning rates). */
  record: Readonly<EpochRecord>;
  /** The records of this run's earlier epochs (restored on resume). */
  history: readonly EpochRecord[];
}

export interface TrainHooks {
  /** After everything is set up, before the first epoch. */
  beforeTrainingStarts?(ctx: TrainContext): void | Promise<void>;
  /**
   * A term added to each batch's loss before backward (a sparsity penalty, a distillation loss); null adds nothing.
   * `batch` holds the images as trained on, the model's raw outputs for them and the outputs of `featureLayers`.
   */
  extraLoss?(model: DetectionModel, ctx: StepContext, batch: { images: Tensor; predictions: Tensor[]; features: ReadonlyMap<number, Tensor> }): Tensor | null;
  /** Layers (by index) whose outputs extraLoss reads. */
  featureLayers?: ReadonlySet<number>;
  /** After each optimizer step and the EMA's update (a constraint on parameters, applied to both). */
  afterOptimizerStep?(ctx: StepContext): void;
  /** Parameters (by name) to exempt from weight decay, besides biases, BatchNorm and channel-gate weights. */
  noDecay?(name: string): boolean;
  /**
   * After validation of each epoch; the values become results.csv columns and results.png panels. Over several
   * processes it runs on every rank with the same record (rank 0's validation, training losses of all ranks).
   */
  onEpochEnd?(ctx: EpochContext): Record<string, number> | void | Promise<Record<string, number> | void>;
}

export interface TrainResult {
  saveDir: string;
  lastPath: string;
  bestPath: string;
  /** One record per epoch trained (all epochs of the run, resumed ones included). */
  epochs: EpochRecord[];
  /** Validation of the best checkpoint at the end (absent when interrupted). */
  final?: Pick<ValidationResult, 'mp' | 'mr' | 'map50' | 'map'>;
  interrupted: boolean;
  stoppedEarly: boolean;
}

function settingsFrom(options: TrainOptions, data: DatasetConfig, hyp: Hyp, saveDir: string): RunSettings {
  return {
    data: data.file,
    imgsz: options.imgsz ?? 640,
    batchSize: options.batchSize ?? 16,
    nominalBatch: options.nominalBatch ?? NOMINAL_BATCH,
    ...(options.gateLr !== undefined ? { gateLr: options.gateLr } : {}),
    freezeBatchNormStats: options.freezeBatchNormStats ?? false,
    ...(options.minWarmupIterations !== undefined ? { minWarmupIterations: options.minWarmupIterations } : {}),
    epochs: options.epochs ?? 100,
    hyp: options.labelSmoothing === undefined ? hyp : { ...hyp, label_smoothing: options.labelSmoothing },
    optimizer: options.optimizer ?? 'SGD',
    cosLr: options.cosLr ?? false,
    rect: options.rect ?? false,
    cache: options.cache ?? false,
    workers: options.workers ?? 8,
    seed: options.seed ?? 0,
    freeze: options.freeze ?? [0],
    singleCls: options.singleCls ?? false,
    multiScale: options.multiScale ?? false,
    noval: options.noval ?? false,
    nosave: options.nosave ?? false,
    noplots: options.noplots ?? false,
    noautoanchor: options.noautoanchor ?? false,
    patience: options.patience ?? 100,
    savePeriod: options.savePeriod ?? -1,
    saveDir,
  };
}

function checkSettings(s: RunSettings): void {
  integer('image size', s.imgsz, { min: 1 });
  integer('batch size', s.batchSize, { min: 1 });
  integer('nominal batch size', s.nominalBatch, { min: 1 });
  integer('epochs', s.epochs, { min: 1 });
  if (s.gateLr !== undefined) number('gate learning rate', s.gateLr, { min: 0 });
  if (s.minWarmupIterations !== undefined) integer('minimum warmup iterations', s.minWarmupIterations, { min: 0 });
  integer('workers', s.workers, { min: 1 });
  integer('seed', s.seed, { min: 0 });
  for (const f of s.freeze) integer('freeze layer index', f, { min: 0 });
}

/** Resizes a batch by a random factor in [0.5, 1.5] (stride multiples), as --multi-scale does. */
function multiScale(images: Tensor, imgsz: number, gs: number, rng: ReturnType<typeof createRng>): Tensor {
  const size = Math.floor(rng.int(Math.floor(imgsz * 0.5), Math.floor(imgsz * 1.5 + gs) - 1) / gs) * gs;
  const [, , h, w] = images.shape as [number, number, number, number];
  const factor = size / Math.max(h, w);
  if (factor === 1) return images;
  const shape = [h, w].map((x) => Math.ceil((x * factor) / gs) * gs);
  return new Tensor(callOp('aten::upsample_bilinear2d', images.handle, shape, false, null, null) as Handle);
}

const fmt = (v: number, digits = 4) => (Number.isFinite(v) ? v.toPrecision(digits) : 'nan');
const memory = () => `${(process.memoryUsage.rss() / 2 ** 30).toFixed(2)}G`;

/** Trains a detector; see TrainOptions and TrainHooks. */
export async function train(options: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  const { group } = options;
  const world = group?.worldSize ?? 1;
  const main = (group?.rank ?? 0) === 0;
  const log = main ? (options.log ?? ((line: string) => console.log(line))) : () => undefined;

  // ---- settings, run folder, resume state ----
  let resumed: Awaited<ReturnType<typeof loadTrainingCheckpoint>> | undefined;
  let settings: RunSettings;
  let data: DatasetConfig;
  if (options.resume) {
    const path = typeof options.resume === 'string' ? options.resume : latestRun(resolve(options.project ?? 'runs/train'));
    resumed = await loadTrainingCheckpoint(path);
    settings = resumed.state.settings;
    data = loadDatasetConfig(settings.data);
    log(`Resuming training from ${path} at epoch ${resumed.state.epoch + 1} of ${settings.epochs}`);
  } else {
    if (!options.data) throw new Error('train: no dataset given (data)');
    if (!options.model && !options.weights && !options.cfg) {
      throw new Error('nothing to train: give weights (a .pt or .safetensors file), a model config (--cfg), or both');
    }
    data = typeof options.data === 'string' ? loadDatasetConfig(options.data) : options.data;
    const hyp = typeof options.hyp === 'object' ? options.hyp : loadHyp(options.hyp ?? DEFAULT_HYP);
    // Only rank 0 claims a run folder; the other ranks never write to it.
    const saveDir =
      options.saveDir ??
      (main ? incrementPath(options.project ?? 'runs/train', options.name ?? 'exp', options.existOk ?? false) : join(options.project ?? 'runs/train', options.name ?? 'exp'));
    settings = settingsFrom(options, data, hyp, resolve(saveDir));
  }
  checkSettings(settings);
  if (settings.batchSize % world !== 0) {
    throw new Error(`batch size ${settings.batchSize} must be a multiple of the ${world} processes (each trains on an equal share of a batch)`);
  }
  const { saveDir } = settings;
  const weightsDir = join(saveDir, 'weights');
  if (main) {
    mkdirSync(weightsDir, { recursive: true });
    // Also for a resumed run or a given saveDir: never two trainings into one folder.
    lockRunDir(saveDir);
  }
  const lastPath = join(weightsDir, 'last.safetensors');
  const bestPath = join(weightsDir, 'best.safetensors');
  const plots = main && !settings.noplots;
  const nc = settings.singleCls ? 1 : data.nc;
  const names = settings.singleCls && data.names.length !== 1 ? ['item'] : data.names;
  // A resumed run keeps the files of its start, which also name the initial weights.
  if (!resumed && main) writeRunFiles(saveDir, settings, { weights: options.weights, cfg: options.cfg });
  log(`hyperparameters: ${Object.entries(settings.hyp).map(([k, v]) => `${k}=${v}`).join(', ')}`);

  // ---- model ----
  manualSeed(settings.seed);
  let model: DetectionModel;
  if (resumed) {
    model = resumed.ema.clone();
    model.loadStateDict(resumed.modelState);
    resumed.modelState.forEach((t) => t.dispose());
  } else {
    const prepared = await prepareModel(
      { model: options.model, weights: options.weights, cfg: options.cfg },
      { nc, names },
      settings.hyp.anchors,
    );
    model = prepared.model;
    log(prepared.message);
  }
  model.train();
  const frozen = freezeLayers(model, settings.freeze);
  if (frozen.length) log(`freezing ${frozen.length} parameters (layers ${settings.freeze.length > 1 ? settings.freeze.join(', ') : `0-${settings.freeze[0]! - 1}`})`);
  const gs = Math.max(...model.stride, 32);
  const imgsz = Math.max(Math.ceil(settings.imgsz / gs) * gs, 2 * gs);
  if (imgsz !== settings.imgsz) log(`WARNING: --img-size ${settings.imgsz} must be a multiple of max stride ${gs}, updating to ${imgsz}`);

  // ---- data ----
  const batchSize = settings.batchSize / world;
  const workers = trainingWorkers(settings.workers, batchSize);
  // Rank 0 scans the labels (and writes their cache) before the others read it.
  if (group && !main) await group.barrier();
  const loader: TrainLoader = await trainingBatches(model, data, {
    imgsz,
    batchSize,
    hyp: settings.hyp,
    rect: settings.rect,
    cache: settings.cache,
    workers,
    seed: settings.seed,
    singleCls: settings.singleCls,
    ...(group ? { shard: { rank: group.rank, worldSize: world } } : {}),
  });
  if (group && main) await group.barrier();
  let reducer: GradientReducer | undefined;
  try {
    log(`train: ${loader.summary}`);
    for (const message of loader.messages) log(`WARNING: ${message}`);
    const valSplit: PreparedSplit | undefined = main
      ? await prepareSplit(data, 'val', { imgsz, batchSize: batchSize * 2, stride: gs, singleCls: settings.singleCls })
      : undefined;

    if (!resumed && main) {
      if (plots) {
        await plotLabels(loader.labels, names, join(saveDir, 'labels.jpg'));
        await plotLabelCorrelogram(loader.labels, join(saveDir, 'labels_correlogram.jpg'));
      }
      if (!settings.noautoanchor) {
        const images = loader.sizes.map((size, i) => ({ ...size, labels: loader.labels[i]! }));
        const report = checkAnchors(model, images, { imgsz, anchorT: settings.hyp.anchor_t, seed: settings.seed });
        log(`AutoAnchor: ${report.message}`);
      }
    }

    if (group) {
      // Every rank starts from rank 0's weights and buffers (AutoAnchor's anchors included), as DDP does.
      await group.broadcast([...model.stateDict().values()], 0);
      if (options.syncBn) nn.syncBatchNorm(model, group);
    }

    // ---- loss, optimizer, schedule, EMA ----
    const { loss, hyp } = detectionLoss(model, settings.hyp, imgsz);
    const nb = loader.length;
    const schedule = new TrainingSchedule(hyp, {
      epochs: settings.epochs,
      batchesPerEpoch: nb,
      batchSize: settings.batchSize,
      cosine: settings.cosLr,
      nominalBatch: settings.nominalBatch,
      ...(settings.gateLr !== undefined ? { gateLr: settings.gateLr } : {}),
      ...(settings.minWarmupIterations !== undefined ? { minWarmupIterations: settings.minWarmupIterations } : {}),
    });
    const groups = groupParameters(model, hooks.noDecay);
    const weightDecay = schedule.weightDecay(hyp.weight_decay);
    const optimizer = createOptimizer(settings.optimizer, groups, { lr: hyp.lr0, momentum: hyp.momentum, weightDecay });
    log(
      `optimizer: ${settings.optimizer}(lr=${hyp.lr0}) with parameter groups ${groups.noDecay.length} weight(decay=0.0), ` +
        `${groups.decay.length} weight(decay=${weightDecay}), ${groups.bias.length} bias` +
        (groups.gate.length ? `, ${groups.gate.length} gate(decay=0.0, lr=${settings.gateLr ?? 'as weights'})` : ''),
    );
    const ema = new ModelEMA(model);
    const clipSets = [[...groups.bias, ...groups.decay, ...groups.noDecay], groups.gate];

    let startEpoch = 0;
    let bestFitness = 0;
    let lastOptStep = -1;
    let history: EpochRecord[] = [];
    const stopper = new EarlyStopping(settings.patience, resumed?.state.stopper);
    if (resumed) {
      const state = resumed.state;
      optimizer.loadStateDict({ groups: state.optimizerGroups, tensors: resumed.optimizerTensors });
      resumed.optimizerTensors.forEach((t) => t.dispose());
      ema.ema.loadStateDict(resumed.ema.stateDict());
      ema.updates = state.emaUpdates;
      [startEpoch, bestFitness, lastOptStep, history] = [state.epoch + 1, state.bestFitness, state.lastOptStep, [...state.history]];
      if (startEpoch >= settings.epochs) throw new Error(`${lastPath}: training to ${settings.epochs} epochs is finished, nothing to resume`);
    }

    const context: TrainContext = { model, ema, optimizer, hyp, saveDir, epochs: settings.epochs, startEpoch, log };
    await hooks.beforeTrainingStarts?.(context);
    log(`Image sizes ${imgsz} train, ${imgsz} val\nUsing ${workers} dataloader workers\nLogging results to ${saveDir}\nStarting training for ${settings.epochs} epochs...`);

    // Without a bar (a log file, or progress turned off), each epoch ends with one line of its own.
    const showBar = main && options.progress !== false && progressBarShown();
    // Over several processes a stop must happen at the same point on every rank: at the end of an epoch.
    const stopNow = () => !group && Boolean(options.signal?.aborted);
    if (group) {
      const capBytes = options.bucketCapMb !== undefined ? options.bucketCapMb * 2 ** 20 : BUCKET_BYTES;
      reducer = group.gradientReducer(clipSets.flat().filter((p) => p.requiresGrad), capBytes);
      const gradients = `gradients averaged in ${reducer.stats.buckets} bucket${reducer.stats.buckets > 1 ? 's' : ''} during backward`;
      log(`Training in ${world} processes (${batchSize} images a batch each)${options.syncBn ? ', synchronized BatchNorm' : ''}, ${gradients}`);
    }
    const trainingStarted = performance.now();
    let interrupted = false;
    let stoppedEarly = false;
    let previous = history.at(-1);
    let lastRecord: EpochRecord | undefined;

    for (let epoch = startEpoch; epoch < settings.epochs; epoch++) {
      if (stopNow()) {
        interrupted = true;
        break;
      }
      if (settings.freezeBatchNormStats) nn.trainWithFrozenBatchNorm(model);
      else model.train();
      // Everything random in an epoch derives from (seed, epoch), so a resumed run repeats it exactly.
      manualSeed(createRng(settings.seed, epoch).int(0, 2 ** 31 - 1));
      const scaleRng = createRng(settings.seed, epoch, 0x4d53);
      const sums = [0, 0, 0];
      let seenBatches = 0;
      // Time waiting for gradient all-reduces after backward (the slowest rank included): what overlapping them
      // with the backward pass did not hide, the cost of training in several processes.
      const reduce = { ms: 0, steps: 0, startedInBackward: 0 };
      let lrs: [number, number, number] = [0, 0, 0];
      const started = performance.now();
      log(`\n${['Epoch', 'mem', 'box_loss', 'obj_loss', 'cls_loss', 'Instances', 'Size'].map((h) => h.padStart(11)).join('')}`);
      const line = (instances: number, size: number) =>
        [`${epoch}/${settings.epochs - 1}`, memory(), ...sums.map((s) => fmt(s / Math.max(seenBatches, 1))), String(instances), String(size)]
          .map((c) => c.padStart(11))
          .join('');
      const bar = progress({ title: `Epoch ${epoch}/${settings.epochs - 1}`, total: nb, unit: 'batches', status: line(0, imgsz), show: main ? options.progress : false, log });
      optimizer.zeroGrad();
      let instances = 0;
      let size = imgsz;

      for await (const batch of loader.epoch(epoch)) {
        const i = batch.index;
        const ni = i + nb * epoch;
        try {
          const step = schedule.at(epoch, i);
          setOptimizerHyper(optimizer, [...step.lr, step.gateLr], step.momentum);
          lrs = step.lr;
          if (plots && ni < 3) await drawBatch(batch.images, batch.targets, names, join(saveDir, `train_batch${ni}.jpg`), { paths: batch.paths });
          const images = settings.multiScale ? multiScale(batch.images, imgsz, gs, scaleRng) : batch.images;
          size = images.shape[3]!;
          const { extraLoss, featureLayers } = hooks;
          const extra = extraLoss
            ? {
                ...(featureLayers ? { layers: featureLayers } : {}),
                term: (images: Tensor, predictions: Tensor[], features: ReadonlyMap<number, Tensor>) =>
                  extraLoss(model, { ...context, epoch, batch: i, iteration: ni, batches: nb }, { images, predictions, features }),
              }
            : undefined;
          // The loss grows with the batch; each rank's share is scaled back up as the average of ranks divides it.
          const stepping = ni - lastOptStep >= step.accumulate;
          // Only the backward before an optimizer step reduces; the others accumulate locally (DDP's no_sync).
          if (stepping) reducer?.arm();
          const items = forwardBackward(model, loss, images, batch.targets, extra, world);
          if (images !== batch.images) images.dispose();
          if (stepping) {
            if (reducer) {
              await reducer.finish();
              const { waitedMs, startedInBackward } = reducer.stats;
              reduce.ms += waitedMs;
              reduce.startedInBackward += startedInBackward;
              reduce.steps++;
            }
            optimizerStep(optimizer, clipSets, main ? ema : undefined, model);
            hooks.afterOptimizerStep?.({ ...context, epoch, batch: i, iteration: ni, batches: nb });
            lastOptStep = ni;
          }
          items.forEach((v, k) => (sums[k]! += v));
          seenBatches++;
          instances = batch.targets.shape[0]!;
        } finally {
          batch.images.dispose();
          batch.targets.dispose();
        }
        bar.update(i + 1, line(instances, size));
        if (stopNow()) break;
      }
      bar.stop();
      if (stopNow()) {
        interrupted = true;
        break;
      }
      if (!showBar && main) {
        const reduced = reduce.steps
          ? `, gradient all-reduce waited ${(reduce.ms / reduce.steps).toFixed(1)} ms a step` +
            ` (${(reduce.startedInBackward / reduce.steps).toFixed(1)} of ${reducer!.stats.buckets} buckets started during backward)`
          : '';
        log(`${line(instances, size)}  ${nb}/${nb} batches in ${((performance.now() - started) / 1000).toFixed(1)}s${reduced}`);
      }

      // ---- the epoch's record: validation of the EMA model on rank 0 ----
      const finalEpoch = epoch + 1 === settings.epochs || stopper.possibleStop;
      let metrics = previous ?? { precision: 0, recall: 0, map50: 0, map: 0, val: [0, 0, 0] as [number, number, number] };
      if (main && (!settings.noval || finalEpoch)) {
        const computeLoss = (raw: Tensor[], targets: Tensor) => loss.compute(raw, targets).items;
        const result = await validate(ema.ema, { prepared: valSplit!, quiet: false, progress: options.progress, log, computeLoss });
        metrics = { precision: result.mp, recall: result.mr, map50: result.map50, map: result.map, val: result.loss! };
      }
      let trainLoss = sums.map((s) => s / Math.max(seenBatches, 1)) as [number, number, number];
      let abortedAny = Boolean(options.signal?.aborted);
      if (group) {
        // Every rank gets the same record — training losses averaged over the ranks, rank 0's validation — so that
        // hooks deciding from it (pruning's λ controller and fade) and the early stop decide alike everywhere. The
        // others wait here while rank 0 validates; a Ctrl-C on any rank ends every rank after this epoch.
        const measured = [metrics.precision, metrics.recall, metrics.map50, metrics.map, ...metrics.val];
        const shared = tensor([...trainLoss.map((v) => v / world), ...measured.map((v) => (main ? v : 0)), abortedAny ? 1 : 0], undefined, { dtype: 'float64' });
        await group.allReduce([shared]);
        const values = shared.toArray() as number[];
        shared.dispose();
        trainLoss = values.slice(0, 3) as [number, number, number];
        const [precision, recall, map50, map, ...val] = values.slice(3, 10) as number[];
        metrics = { precision: precision!, recall: recall!, map50: map50!, map: map!, val: val as [number, number, number] };
        abortedAny = values[10]! > 0;
      }
      const record: EpochRecord = { epoch, train: trainLoss, ...metrics, lr: lrs, fitness: fitness(metrics), extra: {} };
      const extra = await hooks.onEpochEnd?.({ ...context, epoch, record, history });
      if (extra) record.extra = { ...extra };
      history.push(record);
      previous = record;
      lastRecord = record;
      const stop = stopper.update(epoch, record.fitness);
      if (record.fitness > bestFitness) bestFitness = record.fitness;
      if (main) {
        await writeResultsCsv(join(saveDir, 'results.csv'), history);
        if (plots) await plotResults(history, join(saveDir, 'results.png'));

        // ---- checkpoints ----
        if (!settings.nosave || finalEpoch || stop) {
          const state: TrainingState = {
            epoch,
            bestFitness,
            emaUpdates: ema.updates,
            lastOptStep,
            stopper: stopper.state,
            optimizerGroups: optimizer.stateDict().groups,
            history,
            settings,
          };
          const parts = { model, optimizer };
          await saveTrainingCheckpoint(lastPath, ema.ema, state, parts);
          if (bestFitness === record.fitness) await saveTrainingCheckpoint(bestPath, ema.ema, state, parts);
          if (settings.savePeriod > 0 && epoch % settings.savePeriod === 0) {
            await saveTrainingCheckpoint(join(weightsDir, `epoch${epoch}.safetensors`), ema.ema, state, parts);
          }
        }
      }
      if (group && abortedAny) {
        interrupted = true;
        break;
      }
      if (stop) {
        stoppedEarly = true;
        log(
          `Stopping training early as no improvement observed in last ${settings.patience} epochs. ` +
            `Best results observed at epoch ${stopper.state.bestEpoch}, best model saved as best.safetensors.`,
        );
        break;
      }
    }

    if (interrupted) {
      log(`Interrupted. Resume with: yolov5 train --resume ${lastPath}`);
      return { saveDir, lastPath, bestPath, epochs: history, interrupted, stoppedEarly };
    }

    if (!main) return { saveDir, lastPath, bestPath, epochs: history, interrupted, stoppedEarly };

    // ---- final: strip resume parts, validate the best model ----
    const trained = lastRecord ? lastRecord.epoch - startEpoch + 1 : 0;
    log(`\n${trained} epochs completed in ${((performance.now() - trainingStarted) / 3.6e6).toFixed(3)} hours.`);
    const saved = [lastPath, bestPath].filter((path) => existsSync(path));
    for (const path of saved) await finishCheckpoint(path);
    // With --nosave the best epoch may not have been written; then the last one is validated.
    const finalPath = saved.includes(bestPath) ? bestPath : lastPath;
    const { model: best } = await readCheckpoint(finalPath);
    log(`\nValidating ${finalPath}...`);
    const result = await validate(best, { prepared: valSplit!, verbose: true, progress: options.progress, log, plots, saveDir });
    const final = { mp: result.mp, mr: result.mr, map50: result.map50, map: result.map };
    log(`Results saved to ${saveDir}`);
    return { saveDir, lastPath, bestPath, epochs: history, final, interrupted, stoppedEarly };
  } finally {
    reducer?.dispose();
    await loader.close();
  }
}
