// Creating tensors, dtypes through tensor()/data(), random seeds, and libtorch's thread count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import {
  arange,
  empty,
  full,
  getNumThreads,
  linspace,
  manualSeed,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  randperm,
  scalar,
  setNumThreads,
  tensor,
  tidy,
  zeros,
  zerosLike,
  type DType,
} from '../src/torch/index.js';
import { assertTensor } from './helpers/tensor-assert.js';

test('tensor() defaults to float32 for numbers and keeps the type of TypedArrays', () =>
  tidy(() => {
    const plain = tensor([1, 2, 3, 4], [2, 2]);
    assert.equal(plain.dtype, 'float32');
    assertTensor(plain, [2, 2], [1, 2, 3, 4]);
    assertTensor(tensor([7]), [1], [7]);
    const cases: [ArrayLike<number | bigint> & ArrayBufferView, DType][] = [
      [new Float64Array([1.5]), 'float64'],
      [new Float32Array([1.5]), 'float32'],
      [new Int32Array([-3]), 'int32'],
      [new BigInt64Array([-3n]), 'int64'],
      [new Int16Array([-3]), 'int16'],
      [new Int8Array([-3]), 'int8'],
      [new Uint8Array([200]), 'uint8'],
    ];
    for (const [data, dtype] of cases) {
      assert.equal(tensor(data as Float32Array).dtype, dtype, `${data.constructor.name} should give ${dtype}`);
    }
  }));

test('tensor() converts a TypedArray to another dtype by value, never by reinterpreting bytes', () =>
  tidy(() => {
    assertTensor(tensor(new Int32Array([1, -2]), [2], { dtype: 'float32' }), [2], [1, -2]);
    assertTensor(tensor(new Float32Array([1.5, -2.5]), [2], { dtype: 'int32' }), [2], [1, -2]);
    assertTensor(tensor(new BigInt64Array([5n, -6n]), [2], { dtype: 'float64' }), [2], [5, -6]);
    assertTensor(tensor(new Float64Array([3, 0]), [2], { dtype: 'int64' }), [2], [3, 0]);
    assertTensor(tensor(new Float32Array([0.5, -2]), [2], { dtype: 'float16' }), [2], [0.5, -2]);
    assertTensor(tensor(new Uint8Array([0, 1, 7]), [3], { dtype: 'bool' }), [3], [0, 1, 1]);
    assertTensor(tensor(new Uint32Array([70000]) as unknown as Int32Array, [1], { dtype: 'int64' }), [1], [70000]);
  }));

test('every dtype round-trips through tensor() and data()', () =>
  tidy(() => {
    const roundTrip = (values: number[], dtype: DType, kind: abstract new (...args: never[]) => object, expected: ArrayLike<number | bigint>): void => {
      const t = tensor(values, [values.length], { dtype });
      assert.equal(t.dtype, dtype);
      const data = t.data();
      assert.ok(data instanceof kind, `${dtype} data() should be a ${kind.name}`);
      assert.deepEqual(Array.from(data as ArrayLike<number | bigint>), Array.from(expected));
      // And back again from the TypedArray.
      assert.deepEqual(Array.from(tensor(data, [values.length], { dtype }).data() as ArrayLike<number | bigint>), Array.from(expected));
    };
    roundTrip([1.5, -2.25, 1e-3], 'float32', Float32Array, Float32Array.from([1.5, -2.25, 1e-3]));
    roundTrip([1.5, -2.25, 1e-300], 'float64', Float64Array, [1.5, -2.25, 1e-300]);
    // IEEE half bits: 0.5 = 0x3800, −2 = 0xC000, 65504 (the largest half) = 0x7BFF.
    roundTrip([0.5, -2, 65504], 'float16', Uint16Array, [0x3800, 0xc000, 0x7bff]);
    roundTrip([2 ** 40, -(2 ** 40), 0], 'int64', BigInt64Array, [2n ** 40n, -(2n ** 40n), 0n]);
    roundTrip([2 ** 31 - 1, -(2 ** 31), 0], 'int32', Int32Array, [2 ** 31 - 1, -(2 ** 31), 0]);
    roundTrip([-32768, 32767], 'int16', Int16Array, [-32768, 32767]);
    roundTrip([-128, 127], 'int8', Int8Array, [-128, 127]);
    roundTrip([0, 255, 17], 'uint8', Uint8Array, [0, 255, 17]);
    roundTrip([1, 0, 1], 'bool', Uint8Array, [1, 0, 1]);
  }));

test('toArray() gives numbers for every dtype, float16 included', () =>
  tidy(() => {
    assert.deepEqual(tensor([0.5, -2, 65504], [3], { dtype: 'float16' }).toArray(), [0.5, -2, 65504]);
    assert.deepEqual(tensor([2 ** 40, -3], [2], { dtype: 'int64' }).toArray(), [2 ** 40, -3]);
    assert.deepEqual(tensor([1, 0], [2], { dtype: 'bool' }).toArray(), [1, 0]);
  }));

test('item() reads one element of any dtype and rejects larger tensors', () =>
  tidy(() => {
    assert.equal(scalar(2.5).item(), 2.5);
    assert.equal(tensor([2 ** 40], [1], { dtype: 'int64' }).item(), 2 ** 40);
    assert.equal(tensor([-7], [1, 1], { dtype: 'int32' }).item(), -7);
    assert.equal(tensor([0.5], [], { dtype: 'float16' }).item(), 0.5);
    assert.equal(tensor([200], [], { dtype: 'uint8' }).item(), 200);
    assert.equal(tensor([1], [], { dtype: 'bool' }).item(), 1);
    assert.throws(() => tensor([1, 2]).item(), /item\(\): tensor with 2 elements cannot be a scalar/);
  }));

test('zeros, ones, full, empty, scalar, zerosLike, onesLike', () =>
  tidy(() => {
    assertTensor(zeros([2, 2]), [2, 2], [0, 0, 0, 0]);
    assertTensor(ones([3]), [3], [1, 1, 1]);
    assertTensor(full([2], 2.5), [2], [2.5, 2.5]);
    const e = empty([2, 3], { dtype: 'int32' });
    assert.deepEqual(e.shape, [2, 3]);
    assert.equal(e.dtype, 'int32');
    assert.equal(zeros([2], { dtype: 'int64' }).dtype, 'int64');
    assert.equal(ones([2], { dtype: 'bool' }).dtype, 'bool');
    assert.equal(zeros([2], { requiresGrad: true }).requiresGrad, true);
    assert.deepEqual(zeros([0, 3]).shape, [0, 3]);
    assertTensor(scalar(3), [], [3]);
    const like = zerosLike(ones([2, 1], { dtype: 'float64' }));
    assert.equal(like.dtype, 'float64');
    assertTensor(like, [2, 1], [0, 0]);
    const onesI = onesLike(zeros([3], { dtype: 'int32' }));
    assert.equal(onesI.dtype, 'int32');
    assertTensor(onesI, [3], [1, 1, 1]);
  }));

test('arange and linspace', () =>
  tidy(() => {
    const ints = arange(5);
    assert.equal(ints.dtype, 'int64');
    assertTensor(ints, [5], [0, 1, 2, 3, 4]);
    assertTensor(arange(1, 4), [3], [1, 2, 3]);
    assertTensor(arange(0, 5, 2), [3], [0, 2, 4]);
    assertTensor(arange(3, 0, -1), [3], [3, 2, 1]);
    const floats = arange(0, 1, 0.25);
    assert.equal(floats.dtype, 'float32');
    assertTensor(floats, [4], [0, 0.25, 0.5, 0.75]);
    assert.equal(arange(0, 3, 1, { dtype: 'float64' }).dtype, 'float64');
    assertTensor(linspace(0, 1, 5), [5], [0, 0.25, 0.5, 0.75, 1]);
    assert.equal(linspace(0, 1, 2, { dtype: 'float64' }).dtype, 'float64');
  }));

test('random creation is reproducible under manualSeed and within its range', () =>
  tidy(() => {
    const draw = (): number[][] => [
      rand([8]).toArray(),
      randn([8]).toArray(),
      randint(0, 3, [8]).toArray(),
      randperm(8).toArray(),
      empty([8]).uniform_(-1, 1).toArray(),
    ];
    manualSeed(42);
    const first = draw();
    manualSeed(42);
    assert.deepEqual(draw(), first);
    manualSeed(43);
    assert.notDeepEqual(draw(), first);

    const u = rand([2000]);
    assert.ok(u.min().item() >= 0 && u.max().item() < 1);
    const n = randn([4000], { dtype: 'float64' });
    assert.equal(n.dtype, 'float64');
    assert.ok(Math.abs(n.mean().item()) < 0.1);
    assert.ok(Math.abs(n.sub(n.mean()).square().mean().sqrt().item() - 1) < 0.1);
    const r = randint(0, 3, [1000]);
    assert.equal(r.dtype, 'int64');
    assert.deepEqual([...new Set(r.toArray())].sort(), [0, 1, 2]);
    assert.equal(randint(0, 3, [2], { dtype: 'int32' }).dtype, 'int32');
    assert.deepEqual(randperm(6).sort().values.toArray(), [0, 1, 2, 3, 4, 5]);
    assert.throws(() => manualSeed(-1), TypeError);
    assert.throws(() => manualSeed(1.5), TypeError);
  }));

test('libtorch uses every available core by default, and setNumThreads changes it', () => {
  assert.equal(getNumThreads(), availableParallelism());
  try {
    setNumThreads(1);
    assert.equal(getNumThreads(), 1);
  } finally {
    setNumThreads(availableParallelism());
  }
  assert.equal(getNumThreads(), availableParallelism());
  assert.throws(() => setNumThreads(0), TypeError);
  assert.throws(() => setNumThreads(1.5), TypeError);
});
