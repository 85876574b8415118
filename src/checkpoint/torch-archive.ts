// PyTorch's zip checkpoint format (torch.save since 1.6): `<prefix>/data.pkl` is a pickle whose tensors refer,
// through persistent ids, to raw storages in `<prefix>/data/<key>`. Unpickling yields TensorRefs (cheap
// descriptions); only the tensors a caller asks for are read, checked and copied into the engine.
import { readFile } from 'node:fs/promises';
import { assertRegularFile } from '../io/regular-file.js';
import { bytesPerElement, callOp, tensor, tidy, Tensor, type AnyTypedArray, type DType } from '../torch/index.js';
import { PickleError, PyGlobal, describe, unpickle } from './pickle.js';
import { ZipArchive, ZipFormatError } from '../util/zip.js';

/** Element types PyTorch storages can hold that we read; bfloat16 is widened to float32 on load. */
export type StorageDType = DType | 'bfloat16';

const STORAGE_DTYPES: Record<string, StorageDType> = {
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  UntypedStorage: 'uint8',
};

// torch dtypes as pickled by _rebuild_tensor_v3 (GLOBAL 'torch float16' and friends).
const TORCH_DTYPES: Record<string, StorageDType> = {
  float16: 'float16', half: 'float16', bfloat16: 'bfloat16', float32: 'float32', float: 'float32',
  float64: 'float64', double: 'float64', int64: 'int64', long: 'int64', int32: 'int32', int: 'int32',
  int16: 'int16', short: 'int16', int8: 'int8', uint8: 'uint8', bool: 'bool',
};

function elementSize(dtype: StorageDType): number {
  return dtype === 'bfloat16' ? 2 : bytesPerElement(dtype);
}

/** One storage of the archive, by key; `numel` counts elements of `dtype`. */
export class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: StorageDType,
    readonly numel: number,
  ) {}
}

/** A tensor as pickled: a strided view of a storage. Materialize it with TorchArchive.tensor(). */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly dtype: StorageDType,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}

  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

export class TorchArchive {
  readonly #zip: ZipArchive;
  readonly #prefix: string;
  readonly #bigEndian: boolean;
  readonly #storages = new Map<string, StorageRef>();
  /** The unpickled data.pkl. */
  readonly root: unknown;

  private constructor(readonly path: string, zip: ZipArchive) {
    this.#zip = zip;
    const pickles = zip.names.filter((name) => /^[^/]+\/data\.pkl$/.test(name));
    if (pickles.length !== 1) {
      throw new Error(
        `${path}: not a PyTorch checkpoint: expected one '<name>/data.pkl' in the zip but found ` +
          (pickles.length ? pickles.join(', ') : `none among ${zip.names.length} entries`),
      );
    }
    this.#prefix = pickles[0]!.slice(0, -'data.pkl'.length);
    this.#bigEndian = this.#readByteOrder() === 'big';
    try {
      this.root = unpickle(this.#readEntry(`${this.#prefix}data.pkl`), {
        construct: (className, args) => this.#construct(className, args),
        persistentLoad: (pid) => this.#persistentLoad(pid),
      });
    } catch (error) {
      if (error instanceof PickleError) throw new Error(`${path}: ${this.#prefix}data.pkl is not a valid checkpoint pickle: ${error.message}`);
      throw error;
    }
  }

  /** Reads and unpickles a torch.save zip checkpoint; tensors stay unread until asked for. */
  static async open(path: string): Promise<TorchArchive> {
    await assertRegularFile(path);
    const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`${path}: cannot read checkpoint: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
    });
    let zip: ZipArchive;
    try {
      zip = new ZipArchive(bytes);
    } catch (error) {
      if (!(error instanceof ZipFormatError)) throw error;
      // torch.save before 1.6 wrote a bare pickle stream, which starts with a PROTO opcode.
      const legacy = bytes[0] === 0x80 && bytes.length > 1 && bytes[1]! <= 5;
      throw new Error(
        legacy
          ? `${path}: legacy (pre-1.6, non-zip) PyTorch serialization is not supported; re-save it with a recent torch.save`
          : `${path}: not a PyTorch zip checkpoint: ${error.message}`,
      );
    }
    return new TorchArchive(path, zip);
  }

  /**
   * Copies a pickled tensor into the engine as a contiguous tensor that owns its memory.
   * Floating-point tensors become `floatDType` (float32 unless told otherwise); integer and bool tensors keep their type.
   */
  tensor(ref: TensorRef, floatDType: 'float32' | 'float64' | 'float16' = 'float32'): Tensor {
    const { storage, shape, stride, offset, dtype } = ref;
    const size = elementSize(dtype);
    const bytes = this.#readEntry(`${this.#prefix}data/${storage.key}`);
    if (bytes.length !== storage.numel * elementSize(storage.dtype)) {
      throw new Error(
        `${this.path}: storage '${storage.key}' holds ${bytes.length} bytes but the pickle describes ` +
          `${storage.numel} ${storage.dtype} elements`,
      );
    }
    const available = Math.floor(bytes.length / size);
    const span = ref.numel === 0 ? 0 : 1 + shape.reduce((sum, dim, i) => sum + (dim - 1) * stride[i]!, 0);
    if (offset + span > available) {
      throw new Error(
        `${this.path}: tensor [${shape.join(', ')}] at offset ${offset} with strides [${stride.join(', ')}] ` +
          `needs ${offset + span} ${dtype} elements but storage '${storage.key}' holds ${available}`,
      );
    }
    const elements = this.#typedElements(bytes.subarray(offset * size, (offset + span) * size), dtype);
    const engineDType: DType = dtype === 'bfloat16' ? 'float32' : dtype;
    const target = engineDType.startsWith('float') ? floatDType : engineDType;
    return tidy(() => {
      const base = tensor(elements, [span], { dtype: engineDType });
      const view = new Tensor(callOp('aten::as_strided', base.handle, shape, stride, 0) as Tensor['handle']);
      // clone() and to() both copy, so the result no longer shares the whole storage.
      const copy = target === engineDType ? view.clone() : view.to(target);
      return copy.contiguous();
    });
  }

  /** A small tensor's elements as JS numbers (row-major), e.g. a model's stride. */
  values(ref: TensorRef): number[] {
    return tidy(() => this.tensor(ref, 'float64').toArray());
  }

  #readEntry(name: string): Uint8Array {
    try {
      return this.#zip.read(name);
    } catch (error) {
      if (error instanceof ZipFormatError) throw new Error(`${this.path}: ${error.message}`);
      throw error;
    }
  }

  #readByteOrder(): string {
    const name = `${this.#prefix}byteorder`;
    if (!this.#zip.has(name)) return 'little';
    const order = new TextDecoder().decode(this.#readEntry(name)).trim();
    if (order !== 'little' && order !== 'big') throw new Error(`${this.path}: unknown byte order '${order}' in ${name}`);
    return order;
  }

  /** An aligned TypedArray over a copy of `bytes`, in host (little-endian) order. */
  #typedElements(bytes: Uint8Array, dtype: StorageDType): AnyTypedArray {
    const copy = new Uint8Array(bytes); // a copy with its own aligned buffer (Buffer.slice would share memory)
    const size = elementSize(dtype);
    if (this.#bigEndian && size > 1) {
      for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
    }
    const buffer = copy.buffer;
    switch (dtype) {
      case 'float16': return new Uint16Array(buffer);
      case 'bfloat16': {
        // bfloat16 is the top half of a float32.
        const bits = new Uint16Array(buffer);
        const widened = new Uint32Array(bits.length);
        for (let i = 0; i < bits.length; i++) widened[i] = bits[i]! << 16;
        return new Float32Array(widened.buffer);
      }
      case 'float32': return new Float32Array(buffer);
      case 'float64': return new Float64Array(buffer);
      case 'int64': return new BigInt64Array(buffer);
      case 'int32': return new Int32Array(buffer);
      case 'int16': return new Int16Array(buffer);
      case 'int8': return new Int8Array(buffer);
      case 'uint8':
      case 'bool': return new Uint8Array(buffer);
    }
  }

  #persistentLoad(pid: unknown): StorageRef {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length !== 5) {
      throw new PickleError(`unexpected persistent id ${describe(pid)}; expected ('storage', type, key, location, numel)`);
    }
    const [, type, key, location, numel] = pid as [string, unknown, unknown, unknown, unknown];
    const typeName = type instanceof PyGlobal ? type.name : undefined;
    const dtype = typeName === undefined ? undefined : STORAGE_DTYPES[typeName];
    if (!dtype) throw new PickleError(`unsupported storage type ${describe(type)}`);
    if (typeof key !== 'string' || typeof location !== 'string' || typeof numel !== 'number') {
      throw new PickleError(`malformed storage id for key ${String(key)}`);
    }
    const known = this.#storages.get(key);
    if (known) return known;
    if (!this.#zip.has(`${this.#prefix}data/${key}`)) throw new PickleError(`storage '${key}' is missing from the archive`);
    const storage = new StorageRef(key, dtype, numel);
    this.#storages.set(key, storage);
    return storage;
  }

  #construct(className: string, args: readonly unknown[]): unknown {
    switch (className) {
      case 'torch._utils._rebuild_tensor':
      case 'torch._utils._rebuild_tensor_v2':
        return tensorRef(className, args[0], args[1], args[2], args[3]);
      case 'torch._utils._rebuild_tensor_v3': {
        const dtype = args[6] instanceof PyGlobal && args[6].module === 'torch' ? TORCH_DTYPES[args[6].name] : undefined;
        if (!dtype) throw new PickleError(`${className} with unsupported dtype ${describe(args[6])}`);
        return tensorRef(className, args[0], args[1], args[2], args[3], dtype);
      }
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state': {
        // An nn.Parameter wraps its data; which tensors are parameters we learn from the module's _parameters.
        const data = args[0];
        if (!(data instanceof TensorRef)) throw new PickleError(`${className} of ${describe(data)}`);
        return data;
      }
      case 'torch._tensor._rebuild_from_type_v2': {
        // (func, subclass, func_args, state): the tensor is whatever func builds; the Python subclass does not matter here.
        const [func, , funcArgs] = args;
        if (!(func instanceof PyGlobal) || !Array.isArray(funcArgs)) throw new PickleError(`malformed ${className}`);
        const built = this.#construct(func.path, funcArgs);
        if (built === undefined) throw new PickleError(`${className} of unsupported ${func.path}`);
        return built;
      }
      case 'torch.Size':
        return Array.isArray(args[0]) ? [...args[0]] : [];
      default:
        return undefined;
    }
  }
}

function tensorRef(
  what: string,
  storage: unknown,
  offset: unknown,
  shape: unknown,
  stride: unknown,
  dtype?: StorageDType,
): TensorRef {
  const isIntList = (v: unknown): v is number[] =>
    Array.isArray(v) && v.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0);
  if (!(storage instanceof StorageRef)) throw new PickleError(`${what} of ${describe(storage)} instead of a storage`);
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) throw new PickleError(`${what} with bad storage offset`);
  if (!isIntList(shape) || !isIntList(stride) || shape.length !== stride.length) {
    throw new PickleError(`${what} with malformed size/stride`);
  }
  return new TensorRef(storage, dtype ?? storage.dtype, offset, shape, stride);
}
