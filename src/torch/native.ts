// Loads the libtorch addon built under native/. Everything else talks to libtorch through this module.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { packageRoot } from '../io/package-root.js';

/** An opaque reference to a libtorch tensor owned by the addon. */
export type Handle = { readonly __brand: 'TensorHandle' };
/** An opaque reference to a c10d process group (TCPStore + ProcessGroupGloo) owned by the addon. */
export type GroupHandle = { readonly __brand: 'ProcessGroup' };
/** An opaque reference to a gradient reducer (hooks on parameters' gradient accumulators) owned by the addon. */
export type ReducerHandle = { readonly __brand: 'GradientReducer' };

export interface NativeTorch {
  resolveOp(name: string, overload: string): number;
  callOp(id: number, ...args: unknown[]): unknown;
  opSchema(id: number): string;
  fromBuffer(view: ArrayBufferView, shape: readonly number[], dtype: number): Handle;
  toBuffer(h: Handle): ArrayBuffer;
  /** [buffer over the tensor's whole storage, byte offset of its first element]; contiguous CPU tensors only. */
  dataView(h: Handle): [ArrayBuffer, number];
  item(h: Handle): number | boolean;
  shape(h: Handle): number[];
  dtype(h: Handle): number;
  dispose(h: Handle): void;
  isDisposed(h: Handle): boolean;
  liveHandles(): number;
  backward(h: Handle, gradient: Handle | null, retainGraph: boolean): void;
  grad(h: Handle): Handle | null;
  setGrad(h: Handle, g: Handle | null): void;
  requiresGrad(h: Handle): boolean;
  setRequiresGrad(h: Handle, on: boolean): void;
  setGradEnabled(on?: boolean): boolean;
  manualSeed(seed: number): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  /** Joins (rank 0: hosts) the rendezvous at addr:port; resolves once all `worldSize` ranks have joined. */
  createGroup(masterAddr: string, masterPort: number, rank: number, worldSize: number, timeoutMs: number, iface: string | null): Promise<GroupHandle>;
  destroyGroup(group: GroupHandle): void;
  /** Sums in place over every rank; tensors travel in flat buckets of `bucketBytes`. */
  allReduce(group: GroupHandle, tensors: Handle[], bucketBytes?: number): Promise<void>;
  broadcast(group: GroupHandle, tensors: Handle[], root: number, bucketBytes?: number): Promise<void>;
  barrier(group: GroupHandle): Promise<void>;
  /** Sum over every rank, blocking, with a gradient (the sum of every rank's output gradient). */
  allReduceSumGrad(group: GroupHandle, t: Handle): Handle;
  /** Hooks the parameters' gradient accumulators; buckets in reverse order, the first of `firstBucketBytes`. */
  createGradientReducer(group: GroupHandle, params: Handle[], firstBucketBytes: number, bucketBytes: number): ReducerHandle;
  /** The next backward starts each bucket's all-reduce as soon as its gradients are in. */
  reducerArm(reducer: ReducerHandle): void;
  /** Starts the buckets backward left, then resolves when every gradient holds the sum (mean) over the ranks. */
  reducerFinish(reducer: ReducerHandle): Promise<void>;
  reducerStats(reducer: ReducerHandle): { buckets: number; startedInBackward: number; waitedMs: number };
  disposeGradientReducer(reducer: ReducerHandle): void;
}

/** Why the install step did not build the addon, as native/install.mjs recorded it (absent when it did not run). */
function installNote(root: string): string | undefined {
  try {
    return readFileSync(join(root, 'native', 'install-note.txt'), 'utf8').trim().replace(/\.$/, '') || undefined;
  } catch {
    return undefined;
  }
}

const HOW_TO_GET_LIBTORCH =
  'Install libtorch (`apt-get install libtorch-dev`, `pip install torch`, or LIBTORCH=/path/to/libtorch), then run ' +
  '`npm rebuild yolov5-ts` (in a clone of the repository: `make setup`). ONNX models (.onnx) run without libtorch.';

function load(): NativeTorch {
  // libgomp (libtorch's OpenMP) spin-waits between parallel regions by default, which starves the data-loader
  // threads and any other process on a shared machine (measured 10–15× slower training). It reads this when
  // libtorch loads, so it must be set before the addon is required; a user's own setting wins.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  const root = packageRoot();
  const path = join(root, 'native', 'build', 'Release', 'yolov5_torch.node');
  const needs = 'yolov5-ts: this needs libtorch (.pt and .safetensors models, training, validation, export, pruning)';
  if (!existsSync(path)) {
    throw new Error(`${needs}, but the libtorch addon is not built: ${installNote(root) ?? `${path} is missing`}. ${HOW_TO_GET_LIBTORCH}`);
  }
  let addon: NativeTorch;
  try {
    addon = createRequire(import.meta.url)(path) as NativeTorch;
  } catch (error) {
    // Typically libtorch moved or was removed after the build: the dynamic loader names the missing library.
    throw new Error(`${needs}, but the libtorch addon ${path} cannot be loaded (${(error as Error).message.split('\n')[0]}). ${HOW_TO_GET_LIBTORCH}`);
  }
  // libtorch's own default may count physical cores only: use every core the process may run on, unless
  // OMP_NUM_THREADS says otherwise (as PyTorch honours it) — several jobs sharing a machine each take fewer.
  const requested = Number.parseInt(process.env.OMP_NUM_THREADS ?? '', 10);
  addon.setNumThreads(requested > 0 ? requested : availableParallelism());
  return addon;
}

// Every function of the addon, so that the stand-in below can offer them before the addon is loaded.
const FUNCTIONS = [
  'resolveOp', 'callOp', 'opSchema', 'fromBuffer', 'toBuffer', 'dataView', 'item', 'shape', 'dtype', 'dispose', 'isDisposed',
  'liveHandles', 'backward', 'grad', 'setGrad', 'requiresGrad', 'setRequiresGrad', 'setGradEnabled', 'manualSeed',
  'setNumThreads', 'getNumThreads', 'createGroup', 'destroyGroup', 'allReduce', 'broadcast', 'barrier', 'allReduceSumGrad',
  'createGradientReducer', 'reducerArm', 'reducerFinish', 'reducerStats', 'disposeGradientReducer',
] as const satisfies readonly (keyof NativeTorch)[];

/**
 * The addon, loaded on first use rather than at import: ONNX-only use (an .onnx model on ONNX Runtime) works on a
 * machine without libtorch, and the error saying what is missing comes only when a libtorch feature is used. Until
 * then each function is a stand-in that loads the addon and puts the addon's own functions in place, so calls after
 * the first go straight to the addon.
 */
export const native = {} as NativeTorch;
for (const name of FUNCTIONS) {
  (native as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
    const addon = load();
    Object.assign(native, addon);
    return (addon[name] as (...a: unknown[]) => unknown)(...args);
  };
}
