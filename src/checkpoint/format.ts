// Our checkpoint format: one safetensors file. Its tensors are the model's state dict (names as in PyTorch,
// e.g. `model.0.conv.weight`), plus, for training checkpoints, extra tensors under `train/` (raw weights,
// optimizer state). Its metadata holds JSON: the config with explicit channel counts, class names, strides,
// where gates sit, and optional training state — everything needed to rebuild the exact architecture.
import { saveSafetensors, loadSafetensors, noGrad, withAllocationLimit, type Tensor } from '../torch/index.js';
import { Conv } from '../model/common.js';
import { DetectionModel, type ModelOptions } from '../model/yolo.js';
import { validateModelConfig, type ModelConfig } from '../model/config.js';

export const FORMAT = 'yolov5-ts/1';
const EXTRA_PREFIX = 'train/';

export interface CheckpointMeta {
  format: string;
  config: ModelConfig;
  names: string[];
  stride: number[];
  /** Module names of the convolutions that carry a channel gate (pruning). */
  gates: string[];
  date: string;
  /** Free-form JSON a trainer stores to resume (epoch, hyperparameters, ...). */
  training?: Record<string, unknown>;
}

export interface SaveOptions {
  training?: Record<string, unknown>;
  /** Extra tensors (e.g. optimizer state), stored under `train/`. */
  extra?: Map<string, Tensor>;
  /** Store floating-point weights as float16 (half the size; they load back into float32 models, as official weights do). */
  half?: boolean;
}

/** Names of the Conv modules that have a gate. */
export function gatedConvs(model: DetectionModel): string[] {
  return [...model.namedModules()].filter(([, m]) => m instanceof Conv && m.gate !== null).map(([name]) => name);
}

export async function saveCheckpoint(path: string, model: DetectionModel, options: SaveOptions = {}): Promise<void> {
  const tensors = new Map(model.stateDict());
  const halves: Tensor[] = [];
  if (options.half) {
    for (const [name, t] of tensors) {
      if (t.dtype === 'float32') tensors.set(name, halves[halves.push(t.to('float16')) - 1]!);
    }
  }
  for (const [name, t] of options.extra ?? []) tensors.set(EXTRA_PREFIX + name, t);
  const meta: CheckpointMeta = {
    format: FORMAT,
    config: model.architecture(),
    names: model.names,
    stride: model.stride,
    gates: gatedConvs(model),
    date: new Date().toISOString(),
    ...(options.training ? { training: options.training } : {}),
  };
  try {
    await saveSafetensors(path, tensors, { yolov5ts: JSON.stringify(meta) });
  } finally {
    halves.forEach((t) => t.dispose());
  }
}

export interface LoadedCheckpoint {
  model: DetectionModel;
  meta: CheckpointMeta;
  /** Tensors stored under `train/`, prefix removed. */
  extra: Map<string, Tensor>;
}

/**
 * Builds the architecture a weights file describes, refusing before any allocation one that needs more memory than
 * the file's weights could fill (parameters and buffers are exactly the stored tensors, built in float32; the
 * slack covers the stride probe's input): a forged config must not take the machine's memory.
 */
export function buildDescribedModel(config: ModelConfig, options: ModelOptions & { source: string }, storedElements: number): DetectionModel {
  const limit = storedElements * 4 * 1.25 + 16 * 2 ** 20;
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 2 : 0);
  return withAllocationLimit(
    limit,
    (bytes) =>
      new Error(
        `${options.source}: its model config describes a network larger than its ${storedElements} stored weights ` +
          `(a ${mb(bytes)} MB tensor beyond the ${mb(limit)} MB they need): a damaged or forged file`,
      ),
    () => new DetectionModel(config, options),
  );
}

/** Rebuilds a model (pruned architectures and gates included) from a checkpoint of ours. */
export async function readCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const { tensors, metadata } = await loadSafetensors(path);
  if (!metadata.yolov5ts) {
    throw new Error(`${path}: a safetensors file without yolov5-ts metadata (not a checkpoint written by yolov5-ts)`);
  }
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(metadata.yolov5ts) as CheckpointMeta;
  } catch (error) {
    throw new Error(`${path}: checkpoint metadata is not valid JSON (${(error as Error).message})`);
  }
  if (meta.format !== FORMAT) throw new Error(`${path}: checkpoint format '${meta.format}' is not supported (expected ${FORMAT})`);
  const config = validateModelConfig(meta.config, `${path} (config)`);
  const stored = [...tensors].filter(([name]) => !name.startsWith(EXTRA_PREFIX)).reduce((sum, [, t]) => sum + t.numel, 0);
  const model = buildDescribedModel(config, { names: meta.names, source: path }, stored);
  const modules = new Map(model.namedModules());
  for (const name of meta.gates ?? []) {
    const conv = modules.get(name);
    if (!(conv instanceof Conv)) throw new Error(`${path}: gate recorded on '${name}', which is not a Conv of this architecture`);
    conv.addGate();
  }
  const weights = new Map<string, Tensor>();
  const extra = new Map<string, Tensor>();
  for (const [name, t] of tensors) {
    if (name.startsWith(EXTRA_PREFIX)) extra.set(name.slice(EXTRA_PREFIX.length), t);
    else weights.set(name, t);
  }
  try {
    model.loadStateDict(weights);
  } catch (error) {
    throw new Error(`${path}: weights do not fit the stored architecture: ${(error as Error).message}`);
  }
  noGrad(() => weights.forEach((t) => t.dispose()));
  return { model, meta, extra };
}
