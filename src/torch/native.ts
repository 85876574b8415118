// Loads the libtorch addon built under native/. Everything else talks to libtorch through this module.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

/** An opaque reference to a libtorch tensor owned by the addon. */
export type Handle = { readonly __brand: 'TensorHandle' };

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
}

/** The package root: the nearest folder above this module holding native/binding.gyp (dist/ or dist-test/ builds alike). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'native', 'binding.gyp'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('yolov5-ts: cannot find the package root (native/binding.gyp) above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

function load(): NativeTorch {
  // libgomp (libtorch's OpenMP) spin-waits between parallel regions by default, which starves the data-loader
  // threads and any other process on a shared machine (measured 10–15× slower training). It reads this when
  // libtorch loads, so it must be set before the addon is required; a user's own setting wins.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  const path = join(packageRoot(), 'native', 'build', 'Release', 'yolov5_torch.node');
  if (!existsSync(path)) {
    throw new Error(
      `yolov5-ts: the libtorch addon is not built (${path} is missing). Run \`make setup\` (or \`npm run build:native\`) ` +
        'after installing libtorch: `apt-get install libtorch-dev`, `pip install torch`, or LIBTORCH=/path/to/libtorch.',
    );
  }
  return createRequire(import.meta.url)(path) as NativeTorch;
}

export const native: NativeTorch = load();
