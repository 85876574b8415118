// Training checkpoints in our safetensors format. The main weights are the EMA's (what validation and inference
// use); resumable checkpoints also carry, under `train/`, the raw model's tensors (`model/...`) and the optimizer
// state (`optim/<group>.<param>.<name>`), and in the metadata everything else a resume needs.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../torch/index.js';
import type { DetectionModel } from '../model/yolo.js';
import { readCheckpoint, saveCheckpoint } from '../checkpoint/format.js';
import type { optim } from '../torch/index.js';
import type { EarlyStopState } from './early-stop.js';
import { restoreRecord, type EpochRecord } from './results.js';
import type { Hyp } from './hyp.js';
import type { OptimizerName } from './optimizer.js';

const MODEL_PREFIX = 'model/';
const OPTIM_PREFIX = 'optim/';

/** The run settings a resume restores (everything serialisable that shapes the run). */
export interface RunSettings {
  data: string;
  imgsz: number;
  batchSize: number;
  /** Images per optimizer step (gradient accumulation target). */
  nominalBatch: number;
  /** The gates' own starting learning rate (absent: they follow the weights). */
  gateLr?: number;
  /** BatchNorm layers keep their running statistics (absent in older checkpoints: false). */
  freezeBatchNormStats?: boolean;
  /** Lower bound of the warmup in iterations (absent: 100). */
  minWarmupIterations?: number;
  epochs: number;
  /** Hyperparameters as given (before the loss gains are scaled). */
  hyp: Hyp;
  optimizer: OptimizerName;
  cosLr: boolean;
  rect: boolean;
  cache: 'ram' | false;
  workers: number;
  seed: number;
  freeze: number[];
  singleCls: boolean;
  multiScale: boolean;
  noval: boolean;
  nosave: boolean;
  noplots: boolean;
  noautoanchor: boolean;
  patience: number;
  savePeriod: number;
  saveDir: string;
}

export interface TrainingState {
  /** Last completed epoch (0-based). */
  epoch: number;
  bestFitness: number;
  emaUpdates: number;
  /** Iteration of the last optimizer step (gradient accumulation carries across epochs). */
  lastOptStep: number;
  stopper: EarlyStopState;
  /** Optimizer group hyperparameters (lr, momentum, ...), in group order. */
  optimizerGroups: Record<string, number | boolean>[];
  history: EpochRecord[];
  settings: RunSettings;
  /** Set once training ended; such a checkpoint holds no optimizer state and cannot be resumed. */
  finished?: boolean;
}

export interface ResumableParts {
  /** The model being trained (raw weights). */
  model: DetectionModel;
  optimizer: { stateDict(): optim.OptimizerState };
}

/** Saves the EMA model with the training state; `parts` adds what a resume needs. Atomic (temporary file, rename). */
export async function saveTrainingCheckpoint(path: string, ema: DetectionModel, state: TrainingState, parts?: ResumableParts): Promise<void> {
  const extra = new Map<string, Tensor>();
  if (parts) {
    for (const [name, t] of parts.model.stateDict()) extra.set(MODEL_PREFIX + name, t);
    for (const [key, t] of parts.optimizer.stateDict().tensors) extra.set(OPTIM_PREFIX + key, t);
  }
  await saveCheckpoint(path, ema, { training: state as unknown as Record<string, unknown>, extra });
}

export interface LoadedTraining {
  /** The EMA model (the checkpoint's main weights). */
  ema: DetectionModel;
  /** Raw model tensors by state-dict name. */
  modelState: Map<string, Tensor>;
  /** Optimizer state tensors keyed `group.param.name`. */
  optimizerTensors: Map<string, Tensor>;
  state: TrainingState;
}

/** Reads a resumable checkpoint; errors name the file and say why it cannot be resumed. */
export async function loadTrainingCheckpoint(path: string): Promise<LoadedTraining> {
  const { model, meta, extra } = await readCheckpoint(path);
  const state = meta.training as unknown as TrainingState | undefined;
  if (!state || typeof state.epoch !== 'number' || !state.settings) {
    throw new Error(`${path}: not a training checkpoint (no training state to resume from)`);
  }
  if (state.finished) {
    throw new Error(`${path}: training to ${state.settings.epochs} epochs is finished, nothing to resume; start a new run with --weights ${path}`);
  }
  const modelState = new Map<string, Tensor>();
  const optimizerTensors = new Map<string, Tensor>();
  for (const [name, t] of extra) {
    if (name.startsWith(MODEL_PREFIX)) modelState.set(name.slice(MODEL_PREFIX.length), t);
    else if (name.startsWith(OPTIM_PREFIX)) optimizerTensors.set(name.slice(OPTIM_PREFIX.length), t);
    else t.dispose();
  }
  if (modelState.size === 0) throw new Error(`${path}: the checkpoint holds no raw model weights, so it cannot be resumed`);
  return { ema: model, modelState, optimizerTensors, state: { ...state, history: state.history.map(restoreRecord) } };
}

/** Rewrites a checkpoint without its resume parts, marked finished (YOLOv5's strip_optimizer). */
export async function finishCheckpoint(path: string): Promise<void> {
  const { model, meta, extra } = await readCheckpoint(path);
  extra.forEach((t) => t.dispose());
  await saveCheckpoint(path, model, { training: { ...(meta.training ?? {}), finished: true } });
}

/** The most recently written `last.safetensors` under a folder (for a bare --resume). */
export function latestRun(folder: string): string {
  let best: { path: string; time: number } | undefined;
  const visit = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name === 'last.safetensors') {
        const time = statSync(path).mtimeMs;
        if (!best || time > best.time) best = { path, time };
      }
    }
  };
  visit(folder);
  if (!best) throw new Error(`no last.safetensors found under ${folder} to resume from`);
  return best.path;
}
