// dataView(): zero-copy TypedArrays over tensor storage — aliasing, refusals, lifetime and resize protection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { arange, callOp, ones, tensor, tidy, zeros, type Tensor } from '../src/torch/index.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
/** Collects garbage and lets Node run the N-API finalizers it queued, until `done()` or 20 attempts. */
async function collectUntil(done: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 20 && !done(); attempt++) {
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
const resize = (t: Tensor, size: number): void => void callOp('aten::resize_', t.handle, [size]);

test('dataView() aliases the tensor: writes show up in the tensor and in-place ops in the view', () =>
  tidy(() => {
    const t = tensor([1, 2, 3, 4], [2, 2]);
    const view = t.dataView();
    assert.ok(view instanceof Float32Array);
    assert.deepEqual(Array.from(view as Float32Array), [1, 2, 3, 4]);
    (view as Float32Array)[1] = 20;
    assert.deepEqual(t.toArray(), [1, 20, 3, 4]);
    t.mul_(2);
    assert.deepEqual(Array.from(view as Float32Array), [2, 40, 6, 8]);
  }));

test('dataView() of a contiguous slice starts at its offset and shares one buffer with its base', () =>
  tidy(() => {
    const base = arange(10).float();
    const slice = base.narrow(0, 3, 4);
    const view = slice.dataView();
    assert.deepEqual(Array.from(view as Float32Array), [3, 4, 5, 6]);
    assert.equal(view.byteOffset, 12);
    assert.equal(view.buffer, base.dataView().buffer);
    assert.equal(base.dataView().buffer, base.dataView().buffer);
  }));

test('dataView() gives the TypedArray of each dtype', () =>
  tidy(() => {
    assert.deepEqual(Array.from(tensor([2 ** 40, -1], [2], { dtype: 'int64' }).dataView() as BigInt64Array), [2n ** 40n, -1n]);
    assert.ok(tensor([1, 0], [2], { dtype: 'bool' }).dataView() instanceof Uint8Array);
    assert.deepEqual(Array.from(tensor([0.5], [1], { dtype: 'float16' }).dataView() as Uint16Array), [0x3800]);
    assert.deepEqual(Array.from(tensor([-3], [1], { dtype: 'int32' }).dataView() as Int32Array), [-3]);
    assert.equal(zeros([0, 3]).dataView().length, 0);
  }));

test('dataView() refuses non-contiguous tensors and tensors that require grad', () =>
  tidy(() => {
    assert.throws(() => tensor([1, 2, 3, 4], [2, 2]).transpose(0, 1).dataView(), /not contiguous; call contiguous\(\) first/);
    assert.throws(() => ones([2]).requiresGrad_().dataView(), /requires grad/);
    assert.deepEqual(Array.from(tensor([1, 2, 3, 4], [2, 2]).transpose(0, 1).contiguous().dataView() as Float32Array), [1, 3, 2, 4]);
  }));

test('the memory stays valid after the tensor is disposed, and the storage cannot be resized while viewed', async () => {
  const view = tidy(() => ones([1000]).mul(2).dataView()) as Float32Array;
  assert.equal(view[999], 2);

  const t = zeros([4]);
  let viewed: Float32Array | undefined = t.dataView() as Float32Array;
  assert.throws(() => resize(t, 1 << 20), /not resizable/);
  assert.equal(viewed.length, 4);
  viewed = undefined;
  // Once the view is collected the storage may grow again.
  let resized = false;
  await collectUntil(() => {
    try {
      resize(t, 1 << 20);
      resized = true;
    } catch {
      resized = false;
    }
    return resized;
  });
  assert.ok(resized, 'the storage is resizable again once no view remains');
  assert.deepEqual(t.shape, [1 << 20]);
  t.dispose();
});

test('views created and collected in quick succession over the same storage stay correct', async () => {
  const t = arange(64).float();
  let sum = 0;
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 100; i++) sum += (t.dataView() as Float32Array)[63]!;
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(sum, 63 * 2000);
  t.dispose();
});
