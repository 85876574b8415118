// Reads official YOLOv5 PyTorch checkpoints (`yolov5n.pt` and friends) without Python.
// The checkpoint is a dict whose 'model' (and, in training checkpoints, 'ema') is a whole pickled nn.Module tree;
// we walk that tree the way nn.Module.state_dict() does and pick up the attributes needed to rebuild the model.
import { tidy, type Tensor } from '../torch/index.js';
import { PyGlobal, PyObject, describe } from './pickle.js';
import { TensorRef, TorchArchive } from './torch-archive.js';

/**
 * A pickled Python value turned into plain data: dicts become records, tuples and sets arrays, small tensors nested
 * lists (large ones `{ tensor: dtype, shape }`), other objects their attribute records.
 */
export type PlainValue = null | boolean | number | bigint | string | Uint8Array | PlainValue[] | { [key: string]: PlainValue };

export interface ModuleInfo {
  /** The Python class, e.g. 'models.common.Conv' or 'torch.nn.modules.conv.Conv2d'. */
  className: string;
  /** Local names of the module's own parameters, in registration order. */
  parameters: string[];
  /** Local names of its persistent buffers (those state_dict() saves). */
  buffers: string[];
  /** Its other instance attributes (Python's private `_...` ones left out), e.g. Conv2d's stride, Detect's nc. */
  attributes: Record<string, PlainValue>;
}

export interface OfficialCheckpoint {
  path: string;
  /** Which model the checkpoint dict provided: its EMA model when present (as YOLOv5 loads), else 'model'. */
  entry: 'ema' | 'model';
  /** The root module's class, e.g. 'models.yolo.Model' or 'models.yolo.DetectionModel'. */
  modelClass: string;
  /** The model config (the model yaml as a dict: nc, depth_multiple, width_multiple, anchors, backbone, head). */
  yaml: Record<string, PlainValue>;
  /** Class names, index = class id. */
  names: string[];
  /** Number of classes of the Detect head. */
  nc: number;
  /** Output strides of the detection layers, e.g. [8, 16, 32]. */
  stride: number[];
  /** Detect's anchors [nl][na][2] in stride units, as the model stores them. */
  anchors: number[][][];
  /**
   * Every parameter and persistent buffer under PyTorch's state_dict() names ('model.0.conv.weight',
   * 'model.24.anchors', ...). Floating-point tensors are float32 (the file's float16 widened); BatchNorm's
   * num_batches_tracked stays int64. The caller owns these tensors.
   */
  stateDict: Map<string, Tensor>;
  /** Every module by its dotted path ('' is the root, then 'model', 'model.0', 'model.0.conv', ...). */
  modules: Map<string, ModuleInfo>;
  /** Training epoch the checkpoint was saved at (-1 for a finished, stripped checkpoint). */
  epoch?: number;
  /** The other top-level entries (best_fitness, updates, train_args or opt, git, date, ...) except the optimizer. */
  extras: Record<string, PlainValue>;
}

/** Reads an official YOLOv5 checkpoint (a full pickled model) into a float32 state dict plus its config. */
export async function readOfficialCheckpoint(path: string): Promise<OfficialCheckpoint> {
  const archive = await TorchArchive.open(path);
  const { entry, model } = chooseModel(archive);
  if (!isModule(model)) {
    throw new Error(
      `${path}: checkpoint['${entry}'] is ${model instanceof Map ? 'a bare state_dict' : describe(model)}, not a pickled ` +
        `YOLOv5 model, so it carries no model config; read its weights with readCheckpointStateDict`,
    );
  }
  return tidy(() => {
    const stateDict = new Map<string, Tensor>();
    const modules = new Map<string, ModuleInfo>();
    walkModule(archive, model, '', stateDict, modules);
    const detect = findDetect(archive, model);
    const root = archive.root as Map<unknown, unknown>;
    const epoch = root.get('epoch');
    return {
      path,
      entry,
      modelClass: model.className,
      yaml: modelYaml(archive, model),
      names: classNames(archive, model),
      nc: detect.nc,
      stride: modelStride(archive, model),
      anchors: detectAnchors(archive, detect, stateDict),
      stateDict,
      modules,
      ...(typeof epoch === 'number' ? { epoch } : {}),
      extras: checkpointExtras(archive, root),
    };
  });
}

export interface CheckpointStateDict {
  path: string;
  entry: 'ema' | 'model';
  /** As in OfficialCheckpoint.stateDict. */
  stateDict: Map<string, Tensor>;
}

/** Reads only the weights of a checkpoint whose model is either a pickled module or a bare state_dict. */
export async function readCheckpointStateDict(path: string): Promise<CheckpointStateDict> {
  const archive = await TorchArchive.open(path);
  const { entry, model } = chooseModel(archive);
  return tidy(() => {
    const stateDict = new Map<string, Tensor>();
    if (isModule(model)) {
      walkModule(archive, model, '', stateDict, new Map());
    } else if (model instanceof Map) {
      for (const [name, value] of model) {
        if (typeof name !== 'string' || !(value instanceof TensorRef)) {
          throw new Error(`${path}: checkpoint['${entry}'] is a dict but its entry ${String(name)} is ${describe(value)}, not a tensor`);
        }
        stateDict.set(name, archive.tensor(value));
      }
    } else {
      throw new Error(`${path}: checkpoint['${entry}'] is ${describe(model)}, neither a model nor a state_dict`);
    }
    return { path, entry, stateDict };
  });
}

type ModuleObject = PyObject & { state: Map<unknown, unknown> };

function isModule(value: unknown): value is ModuleObject {
  return (
    value instanceof PyObject &&
    value.state instanceof Map &&
    value.state.get('_parameters') instanceof Map &&
    value.state.get('_buffers') instanceof Map &&
    value.state.get('_modules') instanceof Map
  );
}

function chooseModel(archive: TorchArchive): { entry: 'ema' | 'model'; model: unknown } {
  const root = archive.root;
  if (!(root instanceof Map)) {
    throw new Error(`${archive.path}: not a YOLOv5 checkpoint: it holds ${describe(root)} instead of a dict with a 'model' entry`);
  }
  // YOLOv5 loads (ckpt.get('ema') or ckpt['model']): the EMA weights are the ones it validates and exports.
  const ema = root.get('ema');
  if (ema !== undefined && ema !== null) return { entry: 'ema', model: ema };
  const model = root.get('model');
  if (model === undefined || model === null) {
    const keys = [...root.keys()].map(String).join(', ');
    throw new Error(`${archive.path}: not a YOLOv5 checkpoint: no 'model' in the checkpoint dict (its keys: ${keys || 'none'})`);
  }
  return { entry: 'model', model };
}

/** Collects parameters, then persistent buffers, then each child's, with dotted prefixes: state_dict()'s order and names. */
function walkModule(
  archive: TorchArchive,
  module: ModuleObject,
  path: string,
  stateDict: Map<string, Tensor>,
  modules: Map<string, ModuleInfo>,
): void {
  const state = module.state;
  const prefix = path ? `${path}.` : '';
  const nonPersistent = state.get('_non_persistent_buffers_set');
  const info: ModuleInfo = { className: module.className, parameters: [], buffers: [], attributes: {} };
  const tensors = (kind: '_parameters' | '_buffers'): [string, TensorRef][] => {
    const found: [string, TensorRef][] = [];
    for (const [name, value] of state.get(kind) as Map<unknown, unknown>) {
      if (value === null) continue;
      if (typeof name !== 'string' || !(value instanceof TensorRef)) {
        throw new Error(`${archive.path}: ${module.className} at '${path}' has ${kind} entry ${String(name)} = ${describe(value)}`);
      }
      if (kind === '_buffers' && nonPersistent instanceof Set && nonPersistent.has(name)) continue;
      found.push([name, value]);
    }
    return found;
  };
  for (const [name, ref] of tensors('_parameters')) {
    info.parameters.push(name);
    stateDict.set(prefix + name, archive.tensor(ref));
  }
  for (const [name, ref] of tensors('_buffers')) {
    info.buffers.push(name);
    stateDict.set(prefix + name, archive.tensor(ref));
  }
  for (const [name, value] of state) {
    if (typeof name === 'string' && !name.startsWith('_')) info.attributes[name] = toPlain(archive, value);
  }
  modules.set(path, info);
  for (const [name, child] of state.get('_modules') as Map<unknown, unknown>) {
    if (child === null) continue;
    if (!isModule(child)) {
      throw new Error(`${archive.path}: ${module.className} at '${path}' has child ${String(name)} = ${describe(child)}, not a module`);
    }
    walkModule(archive, child, prefix + String(name), stateDict, modules);
  }
}

interface DetectHead {
  module: ModuleObject;
  path: string;
  nc: number;
}

/** YOLOv5's head is the last layer of the model's `model` Sequential. */
function findDetect(archive: TorchArchive, model: ModuleObject): DetectHead {
  const layers = (model.state.get('_modules') as Map<unknown, unknown>).get('model');
  const last = isModule(layers) ? [...(layers.state.get('_modules') as Map<unknown, unknown>)].at(-1) : undefined;
  const head = last?.[1];
  const nc = isModule(head) ? head.attribute('nc') : undefined;
  if (!isModule(head) || typeof nc !== 'number') {
    throw new Error(`${archive.path}: not a YOLOv5 model: ${model.className} has no Detect head (a last layer with 'nc') in model.model`);
  }
  return { module: head, path: `model.${String(last![0])}`, nc };
}

function detectAnchors(archive: TorchArchive, detect: DetectHead, stateDict: Map<string, Tensor>): number[][][] {
  const buffer = stateDict.get(`${detect.path}.anchors`);
  const attribute = detect.module.attribute('anchors');
  let shape: readonly number[];
  let values: number[];
  if (buffer) {
    shape = buffer.shape;
    values = buffer.toArray();
  } else if (attribute instanceof TensorRef) {
    shape = attribute.shape;
    values = archive.values(attribute);
  } else {
    throw new Error(`${archive.path}: the Detect head ${detect.module.className} has no anchors tensor`);
  }
  if (shape.length !== 3 || shape[2] !== 2) {
    throw new Error(`${archive.path}: Detect anchors have shape [${shape.join(', ')}], expected [layers, anchors, 2]`);
  }
  return nest(values, shape) as number[][][];
}

function modelYaml(archive: TorchArchive, model: ModuleObject): Record<string, PlainValue> {
  const yaml = model.attribute('yaml');
  if (!(yaml instanceof Map)) throw new Error(`${archive.path}: the model has no 'yaml' config dict (found ${describe(yaml)})`);
  return toPlain(archive, yaml) as Record<string, PlainValue>;
}

/** names is a list in older checkpoints and a {id: name} dict in newer ones. */
function classNames(archive: TorchArchive, model: ModuleObject): string[] {
  const names = model.attribute('names');
  const entries: [unknown, unknown][] = Array.isArray(names)
    ? names.map((name, i) => [i, name])
    : names instanceof Map
      ? [...names]
      : [];
  if (!entries.length) throw new Error(`${archive.path}: the model has no class 'names' (found ${describe(names)})`);
  const result = new Array<string>(entries.length);
  for (const [id, name] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= entries.length || typeof name !== 'string') {
      throw new Error(`${archive.path}: class names must map ids 0..${entries.length - 1} to strings, found ${String(id)}: ${describe(name)}`);
    }
    result[id] = name;
  }
  return result;
}

function modelStride(archive: TorchArchive, model: ModuleObject): number[] {
  const stride = model.attribute('stride');
  const values = stride instanceof TensorRef ? archive.values(stride) : Array.isArray(stride) ? stride : undefined;
  if (!values?.length || !values.every((s) => typeof s === 'number' && s > 0)) {
    throw new Error(`${archive.path}: the model has no valid 'stride' (found ${describe(stride)})`);
  }
  return values as number[];
}

function checkpointExtras(archive: TorchArchive, root: Map<unknown, unknown>): Record<string, PlainValue> {
  const extras: Record<string, PlainValue> = {};
  for (const [key, value] of root) {
    if (typeof key === 'string' && !['model', 'ema', 'optimizer'].includes(key)) extras[key] = toPlain(archive, value);
  }
  return extras;
}

const MAX_LISTED_TENSOR = 4096;

/**
 * Converts unpickled data to plain values; cyclic references become the string '[circular]'. Tensors become nested
 * lists, or `{ tensor: dtype, shape }` beyond MAX_LISTED_TENSOR elements.
 */
function toPlain(archive: TorchArchive, value: unknown, ancestors = new Set<unknown>()): PlainValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string') return value;
  if (value instanceof Uint8Array) return value;
  if (value instanceof TensorRef) {
    // Large tensor attributes are stale caches (Detect.grid and anchor_grid); listing their values helps nobody.
    return value.numel <= MAX_LISTED_TENSOR
      ? nest(archive.values(value), value.shape)
      : { tensor: value.dtype, shape: [...value.shape] };
  }
  if (value instanceof PyGlobal) return value.path;
  if (ancestors.has(value)) return '[circular]';
  ancestors.add(value);
  try {
    if (Array.isArray(value) || value instanceof Set) return [...value].map((v) => toPlain(archive, v, ancestors));
    if (value instanceof Map) {
      const record: Record<string, PlainValue> = {};
      for (const [k, v] of value) record[String(k)] = toPlain(archive, v, ancestors);
      return record;
    }
    if (isModule(value)) return { module: value.className };
    if (value instanceof PyObject) {
      // Ordinary objects (argparse.Namespace, ...) are their attributes; anything else keeps how it was made.
      if (value.state instanceof Map) return toPlain(archive, value.state, ancestors);
      return { class: value.className, args: toPlain(archive, value.args, ancestors), state: toPlain(archive, value.state, ancestors) };
    }
    return describe(value);
  } finally {
    ancestors.delete(value);
  }
}

/** Row-major values as nested arrays of the given shape (a scalar for shape []). */
function nest(values: number[], shape: readonly number[]): PlainValue {
  if (shape.length === 0) return values[0] ?? null;
  const [first, ...rest] = shape;
  const step = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: first! }, (_, i) => nest(values.slice(i * step, (i + 1) * step), rest));
}
