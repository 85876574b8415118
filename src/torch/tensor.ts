// The Tensor type: a libtorch tensor with PyTorch's vocabulary in camelCase.
// Every operator goes through the c10 dispatcher, so autograd records it like PyTorch would.
import { native, type Handle } from './native.js';
import { track, type Disposable } from './scope.js';
import {
  bytesPerElement,
  dtypeCode,
  dtypeFromCode,
  dtypeOfTypedArray,
  storedDtype,
  typedArrayFor,
  type AnyTypedArray,
  type DType,
} from './dtype.js';

const opIds = new Map<string, number>();

/** Calls an ATen operator by schema name ("aten::add.Tensor"); missing trailing arguments take their defaults. */
export function callOp(qualified: string, ...args: unknown[]): unknown {
  let id = opIds.get(qualified);
  if (id === undefined) {
    const dot = qualified.indexOf('.');
    id = dot < 0 ? native.resolveOp(qualified, '') : native.resolveOp(qualified.slice(0, dot), qualified.slice(dot + 1));
    opIds.set(qualified, id);
  }
  return native.callOp(id, ...args);
}

function t(qualified: string, ...args: unknown[]): Tensor {
  return new Tensor(callOp(qualified, ...args) as Handle);
}

function h(x: Tensor): Handle {
  return x.handle;
}

/** Runs an in-place operator and drops the alias handle libtorch returns. */
function inPlace(self: Tensor, qualified: string, ...args: unknown[]): Tensor {
  native.dispose(callOp(qualified, ...args) as Handle);
  return self;
}

export type Scalar = number | boolean;
export type Shape = readonly number[];

export function checkShape(shape: Shape, what: string): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(`expected an array of non-negative integers for ${what} but received ${JSON.stringify(shape)}`);
  }
}

function normDim(dim: number, ndim: number, what: string): number {
  if (!Number.isInteger(dim) || dim < -Math.max(ndim, 1) || dim >= Math.max(ndim, 1)) {
    throw new RangeError(`${what}: dimension ${dim} out of range for a tensor with ${ndim} dimensions`);
  }
  return dim;
}

export class Tensor implements Disposable {
  #handle: Handle | null;

  constructor(handle: Handle) {
    this.#handle = handle;
    track(this);
  }

  get handle(): Handle {
    if (this.#handle === null) throw new Error('tensor used after dispose()');
    return this.#handle;
  }

  get disposed(): boolean {
    return this.#handle === null;
  }

  /** Frees this reference now. Other tensors sharing the storage (views, autograd) keep it alive. */
  dispose(): void {
    if (this.#handle !== null) {
      native.dispose(this.#handle);
      this.#handle = null;
    }
  }

  // ---- metadata ----
  get shape(): number[] {
    return native.shape(this.handle);
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get dtype(): DType {
    return dtypeFromCode(native.dtype(this.handle));
  }
  get device(): 'cpu' {
    return 'cpu';
  }
  size(dim: number): number {
    const shape = this.shape;
    normDim(dim, shape.length, 'size');
    return shape[dim < 0 ? dim + shape.length : dim]!;
  }

  // ---- data out ----
  /** A copy of the elements in row-major order, as the TypedArray matching the dtype. */
  data(): AnyTypedArray {
    return typedArrayFor(this.dtype, native.toBuffer(this.handle));
  }
  /**
   * The elements without copying: a TypedArray over the tensor's own memory, which stays valid while the array is
   * reachable, even after dispose(). Writes go straight into the tensor, unseen by autograd, so tensors that require
   * grad are refused (as torch's numpy() does); so are non-contiguous ones (call contiguous() first).
   */
  dataView(): AnyTypedArray {
    if (this.requiresGrad) {
      throw new Error('dataView(): the tensor requires grad; writes through the view would bypass autograd. Use detach() or data()');
    }
    const [buffer, byteOffset] = native.dataView(this.handle);
    return typedArrayFor(this.dtype, buffer, byteOffset, this.numel);
  }
  /** The elements as plain JS numbers (int64 converted), row-major. */
  toArray(): number[] {
    if (this.dtype === 'float16') {
      // data() holds raw half bits; widen to get the values.
      const widened = this.to('float32');
      try {
        return widened.toArray();
      } finally {
        widened.dispose();
      }
    }
    const data = this.data();
    return data instanceof BigInt64Array ? Array.from(data, Number) : Array.from(data as ArrayLike<number>);
  }
  item(): number {
    return Number(native.item(this.handle));
  }
  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype})`;
  }

  // ---- autograd ----
  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }
  requiresGrad_(on = true): this {
    native.setRequiresGrad(this.handle, on);
    return this;
  }
  /** The accumulated gradient (a new reference each call), or null. */
  get grad(): Tensor | null {
    const g = native.grad(this.handle);
    return g === null ? null : new Tensor(g);
  }
  set grad(g: Tensor | null) {
    native.setGrad(this.handle, g === null ? null : g.handle);
  }
  zeroGrad(): void {
    native.setGrad(this.handle, null);
  }
  backward(gradient?: Tensor, options: { retainGraph?: boolean } = {}): void {
    native.backward(this.handle, gradient ? gradient.handle : null, options.retainGraph ?? false);
  }
  detach(): Tensor {
    return t('aten::detach', this.handle);
  }

  // ---- conversion ----
  to(dtype: DType): Tensor {
    return t('aten::to.dtype', this.handle, dtypeCode(dtype));
  }
  float(): Tensor {
    return this.to('float32');
  }
  long(): Tensor {
    return this.to('int64');
  }
  clone(): Tensor {
    return t('aten::clone', this.handle);
  }
  contiguous(): Tensor {
    return t('aten::contiguous', this.handle);
  }

  // ---- elementwise arithmetic (broadcasting) ----
  add(other: Tensor | Scalar, alpha: number = 1): Tensor {
    return other instanceof Tensor ? t('aten::add.Tensor', this.handle, h(other), alpha) : t('aten::add.Scalar', this.handle, other, alpha);
  }
  sub(other: Tensor | Scalar, alpha: number = 1): Tensor {
    return other instanceof Tensor ? t('aten::sub.Tensor', this.handle, h(other), alpha) : t('aten::sub.Scalar', this.handle, other, alpha);
  }
  mul(other: Tensor | Scalar): Tensor {
    return other instanceof Tensor ? t('aten::mul.Tensor', this.handle, h(other)) : t('aten::mul.Scalar', this.handle, other);
  }
  div(other: Tensor | Scalar): Tensor {
    return other instanceof Tensor ? t('aten::div.Tensor', this.handle, h(other)) : t('aten::div.Scalar', this.handle, other);
  }
  /** Division rounded toward negative infinity, as Python's //. */
  floorDivide(other: Tensor | Scalar): Tensor {
    return other instanceof Tensor
      ? t('aten::div.Tensor_mode', this.handle, h(other), 'floor')
      : t('aten::div.Scalar_mode', this.handle, other, 'floor');
  }
  remainder(other: Tensor | Scalar): Tensor {
    return other instanceof Tensor ? t('aten::remainder.Tensor', this.handle, h(other)) : t('aten::remainder.Scalar', this.handle, other);
  }
  pow(exponent: Tensor | number): Tensor {
    return exponent instanceof Tensor
      ? t('aten::pow.Tensor_Tensor', this.handle, h(exponent))
      : t('aten::pow.Tensor_Scalar', this.handle, exponent);
  }
  neg(): Tensor {
    return t('aten::neg', this.handle);
  }
  abs(): Tensor {
    return t('aten::abs', this.handle);
  }
  sign(): Tensor {
    return t('aten::sign', this.handle);
  }
  exp(): Tensor {
    return t('aten::exp', this.handle);
  }
  log(): Tensor {
    return t('aten::log', this.handle);
  }
  sqrt(): Tensor {
    return t('aten::sqrt', this.handle);
  }
  square(): Tensor {
    return t('aten::square', this.handle);
  }
  reciprocal(): Tensor {
    return t('aten::reciprocal', this.handle);
  }
  sin(): Tensor {
    return t('aten::sin', this.handle);
  }
  cos(): Tensor {
    return t('aten::cos', this.handle);
  }
  atan(): Tensor {
    return t('aten::atan', this.handle);
  }
  tanh(): Tensor {
    return t('aten::tanh', this.handle);
  }
  floor(): Tensor {
    return t('aten::floor', this.handle);
  }
  ceil(): Tensor {
    return t('aten::ceil', this.handle);
  }
  round(): Tensor {
    return t('aten::round', this.handle);
  }
  clamp(min: number | null, max: number | null = null): Tensor {
    if (min === null && max === null) throw new TypeError('clamp: at least one of min and max must be given');
    return t('aten::clamp', this.handle, min, max);
  }
  /** Elementwise maximum of two tensors. */
  maximum(other: Tensor): Tensor {
    return t('aten::maximum', this.handle, h(other));
  }
  minimum(other: Tensor): Tensor {
    return t('aten::minimum', this.handle, h(other));
  }

  // ---- comparisons and logic (results are bool tensors) ----
  eq(other: Tensor | Scalar): Tensor {
    return other instanceof Tensor ? t('aten::eq.Tensor', this.handle, h(other)) : t('aten::eq.Scalar', this.handle, other);
  }
  ne(other: Tensor | Scalar): Tensor {
    return other instanceof Tensor ? t('aten::ne.Tensor', this.handle, h(other)) : t('aten::ne.Scalar', this.handle, other);
  }
  lt(other: Tensor | Scalar): Tensor {
    return other instanceof Tensor ? t('aten::lt.Tensor', this.handle, h(other)) : t('aten::lt.Scalar', this.handle, other);
  }
  le(other: Tensor | Scalar): Tensor {
    return other instanceof Tensor ? t('aten::le.Tensor', this.handle, h(other)) : t('aten::le.Scalar', this.handle, other);
  }
  gt(other: Tensor | Scalar): Tensor {
    return other instanceof Tensor ? t('aten::gt.Tensor', this.handle, h(other)) : t('aten::gt.Scalar', this.handle, other);
  }
  ge(other: Tensor | Scalar): Tensor {
    return other instanceof Tensor ? t('aten::ge.Tensor', this.handle, h(other)) : t('aten::ge.Scalar', this.handle, other);
  }
  logicalAnd(other: Tensor): Tensor {
    return t('aten::logical_and', this.handle, h(other));
  }
  logicalOr(other: Tensor): Tensor {
    return t('aten::logical_or', this.handle, h(other));
  }
  logicalNot(): Tensor {
    return t('aten::logical_not', this.handle);
  }
  any(): Tensor {
    return t('aten::any', this.handle);
  }
  all(): Tensor {
    return t('aten::all', this.handle);
  }

  // ---- activations ----
  sigmoid(): Tensor {
    return t('aten::sigmoid', this.handle);
  }
  silu(): Tensor {
    return t('aten::silu', this.handle);
  }
  relu(): Tensor {
    return t('aten::relu', this.handle);
  }
  leakyRelu(negativeSlope = 0.01): Tensor {
    return t('aten::leaky_relu', this.handle, negativeSlope);
  }
  hardswish(): Tensor {
    return t('aten::hardswish', this.handle);
  }
  softplus(beta = 1, threshold = 20): Tensor {
    return t('aten::softplus', this.handle, beta, threshold);
  }
  softmax(dim: number): Tensor {
    return t('aten::softmax.int', this.handle, normDim(dim, this.ndim, 'softmax'));
  }

  // ---- reductions ----
  sum(dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined ? t('aten::sum', this.handle) : t('aten::sum.dim_IntList', this.handle, dim, keepdim);
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined ? t('aten::mean', this.handle) : t('aten::mean.dim', this.handle, dim, keepdim);
  }
  /** Maximum over all elements. */
  max(): Tensor {
    return t('aten::max', this.handle);
  }
  min(): Tensor {
    return t('aten::min', this.handle);
  }
  /** Maximum along a dimension, with the indices where it occurs. */
  maxDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = callOp('aten::max.dim', this.handle, normDim(dim, this.ndim, 'max'), keepdim) as [Handle, Handle];
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  minDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = callOp('aten::min.dim', this.handle, normDim(dim, this.ndim, 'min'), keepdim) as [Handle, Handle];
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  amax(dim: number | number[], keepdim = false): Tensor {
    return t('aten::amax', this.handle, dim, keepdim);
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return t('aten::argmax', this.handle, dim ?? null, keepdim);
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return t('aten::argmin', this.handle, dim ?? null, keepdim);
  }
  prod(): Tensor {
    return t('aten::prod', this.handle);
  }
  cumsum(dim: number): Tensor {
    return t('aten::cumsum', this.handle, dim);
  }
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = callOp('aten::sort', this.handle, dim, descending) as [Handle, Handle];
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  topk(k: number, dim = -1, largest = true): { values: Tensor; indices: Tensor } {
    const [values, indices] = callOp('aten::topk', this.handle, k, dim, largest, true) as [Handle, Handle];
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  /** Indices of non-zero elements, shape [n, ndim]. */
  nonzero(): Tensor {
    return t('aten::nonzero', this.handle);
  }

  // ---- linear algebra ----
  matmul(other: Tensor): Tensor {
    return t('aten::matmul', this.handle, h(other));
  }

  // ---- shape ----
  reshape(shape: Shape): Tensor {
    return t('aten::reshape', this.handle, shape);
  }
  view(shape: Shape): Tensor {
    return t('aten::view', this.handle, shape);
  }
  permute(dims: Shape): Tensor {
    return t('aten::permute', this.handle, dims);
  }
  transpose(dim0: number, dim1: number): Tensor {
    return t('aten::transpose.int', this.handle, dim0, dim1);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return t('aten::flatten.using_ints', this.handle, startDim, endDim);
  }
  squeeze(dim?: number): Tensor {
    return dim === undefined ? t('aten::squeeze', this.handle) : t('aten::squeeze.dim', this.handle, dim);
  }
  unsqueeze(dim: number): Tensor {
    return t('aten::unsqueeze', this.handle, dim);
  }
  expand(shape: Shape): Tensor {
    return t('aten::expand', this.handle, shape);
  }
  repeat(repeats: Shape): Tensor {
    return t('aten::repeat', this.handle, repeats);
  }
  split(splitSize: number | number[], dim = 0): Tensor[] {
    const handles = Array.isArray(splitSize)
      ? (callOp('aten::split_with_sizes', this.handle, splitSize, dim) as Handle[])
      : (callOp('aten::split.Tensor', this.handle, splitSize, dim) as Handle[]);
    return handles.map((x) => new Tensor(x));
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return (callOp('aten::chunk', this.handle, chunks, dim) as Handle[]).map((x) => new Tensor(x));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return t('aten::narrow', this.handle, dim, start, length);
  }
  /** Python's x[start:end:step] along dim. */
  slice(dim: number, start: number | null = null, end: number | null = null, step = 1): Tensor {
    return t('aten::slice.Tensor', this.handle, dim, start, end, step);
  }
  /** x[index] along dim, removing that dimension. */
  select(dim: number, index: number): Tensor {
    return t('aten::select.int', this.handle, dim, index);
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return t('aten::index_select', this.handle, dim, h(index));
  }
  gather(dim: number, index: Tensor): Tensor {
    return t('aten::gather', this.handle, dim, h(index));
  }
  /** Advanced indexing x[i0, i1, ...] with index or boolean tensors (null = take the whole dimension). */
  index(indices: (Tensor | null)[]): Tensor {
    return t('aten::index.Tensor', this.handle, indices.map((i) => (i ? i.handle : null)));
  }
  /** Elements where mask is true, as a 1-D tensor (x[mask]). */
  maskedSelect(mask: Tensor): Tensor {
    return t('aten::masked_select', this.handle, h(mask));
  }
  maskedFill(mask: Tensor, value: Scalar): Tensor {
    return t('aten::masked_fill.Scalar', this.handle, h(mask), value);
  }
  flip(dims: Shape): Tensor {
    return t('aten::flip', this.handle, dims);
  }

  // ---- in-place (for optimizers and buffers; use under noGrad for parameters) ----
  /** x[indices] = values, in place; indices may be boolean masks. */
  indexPut_(indices: (Tensor | null)[], values: Tensor, accumulate = false): this {
    inPlace(this, 'aten::index_put_', this.handle, indices.map((i) => (i ? i.handle : null)), h(values), accumulate);
    return this;
  }
  maskedFill_(mask: Tensor, value: Scalar): this {
    inPlace(this, 'aten::masked_fill_.Scalar', this.handle, h(mask), value);
    return this;
  }
  add_(other: Tensor | Scalar, alpha: number = 1): this {
    if (other instanceof Tensor) inPlace(this, 'aten::add_.Tensor', this.handle, h(other), alpha);
    else inPlace(this, 'aten::add_.Scalar', this.handle, other, alpha);
    return this;
  }
  sub_(other: Tensor | Scalar, alpha: number = 1): this {
    if (other instanceof Tensor) inPlace(this, 'aten::sub_.Tensor', this.handle, h(other), alpha);
    else inPlace(this, 'aten::sub_.Scalar', this.handle, other, alpha);
    return this;
  }
  mul_(other: Tensor | Scalar): this {
    if (other instanceof Tensor) inPlace(this, 'aten::mul_.Tensor', this.handle, h(other));
    else inPlace(this, 'aten::mul_.Scalar', this.handle, other);
    return this;
  }
  div_(other: Tensor | Scalar): this {
    if (other instanceof Tensor) inPlace(this, 'aten::div_.Tensor', this.handle, h(other));
    else inPlace(this, 'aten::div_.Scalar', this.handle, other);
    return this;
  }
  /** this += value * t1 * t2 */
  addcmul_(t1: Tensor, t2: Tensor, value = 1): this {
    inPlace(this, 'aten::addcmul_', this.handle, h(t1), h(t2), value);
    return this;
  }
  /** this += value * t1 / t2 */
  addcdiv_(t1: Tensor, t2: Tensor, value = 1): this {
    inPlace(this, 'aten::addcdiv_', this.handle, h(t1), h(t2), value);
    return this;
  }
  /** this += weight * (end - this) */
  lerp_(end: Tensor, weight: number): this {
    inPlace(this, 'aten::lerp_.Scalar', this.handle, h(end), weight);
    return this;
  }
  copy_(src: Tensor): this {
    inPlace(this, 'aten::copy_', this.handle, h(src));
    return this;
  }
  zero_(): this {
    inPlace(this, 'aten::zero_', this.handle);
    return this;
  }
  fill_(value: Scalar): this {
    inPlace(this, 'aten::fill_.Scalar', this.handle, value);
    return this;
  }
  clamp_(min: number | null, max: number | null = null): this {
    inPlace(this, 'aten::clamp_', this.handle, min, max);
    return this;
  }
  uniform_(from = 0, to = 1): this {
    inPlace(this, 'aten::uniform_', this.handle, from, to);
    return this;
  }
  normal_(mean = 0, std = 1): this {
    inPlace(this, 'aten::normal_', this.handle, mean, std);
    return this;
  }
}

// ---- creation ----

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

function finish(x: Tensor, options: CreateOptions): Tensor {
  return options.requiresGrad ? x.requiresGrad_(true) : x;
}

/** A tensor from JS data (copied). Plain numbers default to float32; TypedArrays keep their type. */
export function tensor(data: readonly number[] | AnyTypedArray, shape?: Shape, options: CreateOptions = {}): Tensor {
  const typed = ArrayBuffer.isView(data) && !(data instanceof DataView);
  if (!typed) checkNumbers(data);
  const dtype = options.dtype ?? (typed ? dtypeOfTypedArray(data as AnyTypedArray) : 'float32');
  const finalShape = shape ?? [data.length];
  checkShape(finalShape, 'tensor shape');
  const count = finalShape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new RangeError(`tensor: ${data.length} values do not fill shape [${finalShape.join(', ')}] (${count} elements)`);
  }
  // Bytes are passed through only when they already are the dtype's; anything else is converted value by value
  // (bool included, so that every non-zero byte becomes a proper true).
  let view: ArrayBufferView;
  if (typed && dtype !== 'bool' && storedDtype(data as AnyTypedArray) === dtype) {
    view = data as AnyTypedArray;
  } else {
    const numbers = typed ? Array.from(data as ArrayLike<number | bigint>, Number) : (data as readonly number[]);
    view = encode(numbers, dtype);
  }
  return finish(new Tensor(native.fromBuffer(view, finalShape, dtypeCode(dtype))), options);
}

function checkNumbers(data: unknown): void {
  if (!Array.isArray(data)) {
    throw new TypeError(`tensor: expected an array of numbers or a TypedArray but received ${data === null ? 'null' : typeof data}`);
  }
  data.forEach((v, i) => {
    if (typeof v !== 'number' && typeof v !== 'boolean') {
      throw new TypeError(
        `tensor: element ${i} is ${Array.isArray(v) ? 'an array' : typeof v}, expected a number (flatten nested arrays and pass a shape)`,
      );
    }
  });
}

function encode(values: readonly number[], dtype: DType): ArrayBufferView {
  switch (dtype) {
    case 'float32': return Float32Array.from(values);
    case 'float64': return Float64Array.from(values);
    case 'int32': return Int32Array.from(values);
    case 'int64': return BigInt64Array.from(values, (v) => BigInt(Math.trunc(v)));
    case 'int16': return Int16Array.from(values);
    case 'int8': return Int8Array.from(values);
    case 'uint8': return Uint8Array.from(values);
    case 'bool': return Uint8Array.from(values, (v) => (v ? 1 : 0));
    case 'float16': {
      // Round through float32 via libtorch, which knows IEEE half conversion.
      const f = new Tensor(native.fromBuffer(Float32Array.from(values), [values.length], dtypeCode('float32')));
      const half = f.to('float16');
      const bits = half.data();
      f.dispose();
      half.dispose();
      return bits;
    }
  }
}

export function scalar(value: number, options: CreateOptions = {}): Tensor {
  return tensor([value], [], options);
}

/** What tensor factories may still allocate inside withAllocationLimit (null: no limit). */
let allowance: { bytes: number; exceeded: (bytes: number) => Error } | null = null;

/**
 * Runs `fn` with a cap on the bytes that tensor factories (zeros, empty, randn, ...) may allocate, checked before
 * any memory is taken: a model built from a file's description must not need more than the file's weights, or a
 * forged config (widths of millions) would take all memory before its weights are ever compared with it.
 */
export function withAllocationLimit<T>(bytes: number, exceeded: (bytes: number) => Error, fn: () => T): T {
  const outer = allowance;
  allowance = { bytes, exceeded };
  try {
    return fn();
  } finally {
    allowance = outer;
  }
}

function factory(name: string, shape: Shape, options: CreateOptions, ...extra: unknown[]): Tensor {
  checkShape(shape, name);
  const dtype = options.dtype ?? 'float32';
  if (allowance) {
    const bytes = shape.reduce((a, b) => a * b, 1) * bytesPerElement(dtype);
    if (bytes > allowance.bytes) throw allowance.exceeded(bytes);
    allowance.bytes -= bytes;
  }
  return finish(t(name, shape, ...extra, dtypeCode(dtype)), options);
}

export const zeros = (shape: Shape, options: CreateOptions = {}): Tensor => factory('aten::zeros', shape, options);
export const ones = (shape: Shape, options: CreateOptions = {}): Tensor => factory('aten::ones', shape, options);
export const empty = (shape: Shape, options: CreateOptions = {}): Tensor => factory('aten::empty.memory_format', shape, options);
export const full = (shape: Shape, value: number, options: CreateOptions = {}): Tensor =>
  factory('aten::full', shape, options, value);
/** Uniform on [0, 1). */
export const rand = (shape: Shape, options: CreateOptions = {}): Tensor => factory('aten::rand', shape, options);
/** Standard normal. */
export const randn = (shape: Shape, options: CreateOptions = {}): Tensor => factory('aten::randn', shape, options);

/** Integers uniform on [low, high). */
export function randint(low: number, high: number, shape: Shape, options: CreateOptions = {}): Tensor {
  checkShape(shape, 'randint');
  return t('aten::randint.low', low, high, shape, dtypeCode(options.dtype ?? 'int64'));
}

export function randperm(n: number, options: CreateOptions = {}): Tensor {
  return t('aten::randperm', n, dtypeCode(options.dtype ?? 'int64'));
}

export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  const [from, to] = end === undefined ? [0, start] : [start, end];
  const integral = [from, to, step].every(Number.isInteger);
  return t('aten::arange.start_step', from, to, step, dtypeCode(options.dtype ?? (integral ? 'int64' : 'float32')));
}

export function linspace(start: number, end: number, steps: number, options: CreateOptions = {}): Tensor {
  return t('aten::linspace', start, end, steps, dtypeCode(options.dtype ?? 'float32'));
}

export const zerosLike = (x: Tensor): Tensor => t('aten::zeros_like', x.handle);
export const onesLike = (x: Tensor): Tensor => t('aten::ones_like', x.handle);

export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('cat: expected a non-empty list of tensors');
  return t('aten::cat', tensors.map(h), dim);
}

export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('stack: expected a non-empty list of tensors');
  return t('aten::stack', tensors.map(h), dim);
}

/** Elementwise choice: condition ? a : b. */
export function where(condition: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  if (a instanceof Tensor && b instanceof Tensor) return t('aten::where.self', h(condition), h(a), h(b));
  if (a instanceof Tensor) return t('aten::where.ScalarOther', h(condition), h(a), b);
  if (b instanceof Tensor) return t('aten::where.ScalarSelf', h(condition), a, h(b));
  return t('aten::where.Scalar', h(condition), a, b);
}

export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0) throw new TypeError(`expected a non-negative integer for seed but received ${seed}`);
  native.manualSeed(seed);
}

/** Threads libtorch uses for intra-op parallelism (defaults to the machine's cores). */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`expected a positive integer for threads but received ${n}`);
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

/** Number of tensor references alive in the addon (for leak checks). */
export function liveTensors(): number {
  return native.liveHandles();
}
