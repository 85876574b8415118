// Values of every Tensor method against hand-computed results on small tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, arange, cat, manualSeed, empty, stack, tensor, tidy, where, zeros } from '../src/torch/index.js';
import { assertTensor } from './helpers/tensor-assert.js';

const f64 = (values: number[], shape?: number[]): Tensor => tensor(values, shape, { dtype: 'float64' });
const i64 = (values: number[], shape?: number[]): Tensor => tensor(values, shape, { dtype: 'int64' });
const bool = (values: number[], shape?: number[]): Tensor => tensor(values, shape, { dtype: 'bool' });
/** [[0, 1, 2], [3, 4, 5]] as float32. */
const grid = (): Tensor => arange(6).float().reshape([2, 3]);

test('metadata: shape, ndim, numel, dtype, device, size, toString', () =>
  tidy(() => {
    const x = zeros([2, 3, 4]);
    assert.deepEqual(x.shape, [2, 3, 4]);
    assert.equal(x.ndim, 3);
    assert.equal(x.numel, 24);
    assert.equal(x.dtype, 'float32');
    assert.equal(x.device, 'cpu');
    assert.equal(x.size(0), 2);
    assert.equal(x.size(-1), 4);
    assert.throws(() => x.size(3), RangeError);
    assert.equal(x.toString(), 'Tensor(shape=[2, 3, 4], dtype=float32)');
    assert.equal(tensor([5], []).ndim, 0);
  }));

test('add and sub broadcast, with alpha and scalars', () =>
  tidy(() => {
    const a = tensor([1, 2, 3, 4], [2, 2]);
    const row = tensor([10, 20]);
    assertTensor(a.add(row), [2, 2], [11, 22, 13, 24]);
    assertTensor(a.add(row, 2), [2, 2], [21, 42, 23, 44]);
    assertTensor(a.add(0.5), [2, 2], [1.5, 2.5, 3.5, 4.5]);
    assertTensor(a.sub(row), [2, 2], [-9, -18, -7, -16]);
    assertTensor(a.sub(1), [2, 2], [0, 1, 2, 3]);
    assertTensor(a.sub(row, 0.5), [2, 2], [-4, -8, -2, -6]);
    assertTensor(tensor([1, 2], [2, 1]).add(tensor([10, 20, 30], [1, 3])), [2, 3], [11, 21, 31, 12, 22, 32]);
  }));

test('mul, div, floorDivide, remainder and pow', () =>
  tidy(() => {
    const a = tensor([1, 2, 3, 4], [2, 2]);
    const row = tensor([10, 20]);
    assertTensor(a.mul(row), [2, 2], [10, 40, 30, 80]);
    assertTensor(a.mul(3), [2, 2], [3, 6, 9, 12]);
    assertTensor(a.div(row), [2, 2], [0.1, 0.1, 0.3, 0.2]);
    assertTensor(a.div(2), [2, 2], [0.5, 1, 1.5, 2]);
    const ints = i64([7, -7]);
    const trueDivision = ints.div(2);
    assert.equal(trueDivision.dtype, 'float32');
    assertTensor(trueDivision, [2], [3.5, -3.5]);
    const floored = ints.floorDivide(2);
    assert.equal(floored.dtype, 'int64');
    assertTensor(floored, [2], [3, -4]);
    assertTensor(ints.floorDivide(i64([2, 3])), [2], [3, -3]);
    assertTensor(ints.remainder(3), [2], [1, 2]);
    assertTensor(tensor([5.5, -5.5]).remainder(tensor([2, 2])), [2], [1.5, 0.5]);
    assertTensor(tensor([1, 2, 3]).pow(2), [3], [1, 4, 9]);
    assertTensor(tensor([4, 9]).pow(0.5), [2], [2, 3]);
    assertTensor(tensor([2, 3]).pow(tensor([3, 2])), [2], [8, 9]);
  }));

test('unary math: neg abs sign exp log sqrt square reciprocal sin cos atan tanh floor ceil round', () =>
  tidy(() => {
    assertTensor(tensor([-1, 2]).neg(), [2], [1, -2]);
    assertTensor(tensor([-1.5, 2]).abs(), [2], [1.5, 2]);
    assertTensor(tensor([-3, 0, 2]).sign(), [3], [-1, 0, 1]);
    assertTensor(f64([0, 1]).exp(), [2], [1, Math.E]);
    assertTensor(f64([1, Math.E]).log(), [2], [0, 1]);
    assertTensor(tensor([4, 9]).sqrt(), [2], [2, 3]);
    assertTensor(tensor([-3]).square(), [1], [9]);
    assertTensor(tensor([2, 4]).reciprocal(), [2], [0.5, 0.25]);
    assertTensor(f64([0, Math.PI / 2]).sin(), [2], [0, 1]);
    assertTensor(f64([0, Math.PI]).cos(), [2], [1, -1]);
    assertTensor(f64([1]).atan(), [1], [Math.PI / 4]);
    assertTensor(f64([0, 1]).tanh(), [2], [0, Math.tanh(1)]);
    assertTensor(tensor([1.5, -1.5]).floor(), [2], [1, -2]);
    assertTensor(tensor([1.5, -1.5]).ceil(), [2], [2, -1]);
    // Half to even, as torch.round.
    assertTensor(tensor([0.5, 1.5, 2.5, -0.5, 1.2]).round(), [5], [0, 2, 2, 0, 1]);
  }));

test('clamp, maximum and minimum', () =>
  tidy(() => {
    const x = tensor([-2, 0.5, 3]);
    assertTensor(x.clamp(0, 1), [3], [0, 0.5, 1]);
    assertTensor(x.clamp(0), [3], [0, 0.5, 3]);
    assertTensor(x.clamp(null, 1), [3], [-2, 0.5, 1]);
    assert.throws(() => x.clamp(null, null), TypeError);
    assertTensor(tensor([1, 5, 3]).maximum(tensor([4, 2, 3])), [3], [4, 5, 3]);
    assertTensor(tensor([1, 5, 3]).minimum(tensor([4, 2, 3])), [3], [1, 2, 3]);
    assertTensor(tensor([1, 5, 3, 0], [2, 2]).maximum(tensor([2])), [2, 2], [2, 5, 3, 2]);
  }));

test('comparisons and logic give bool tensors', () =>
  tidy(() => {
    const x = tensor([1, 2, 3]);
    const eq = x.eq(2);
    assert.equal(eq.dtype, 'bool');
    assertTensor(eq, [3], [0, 1, 0]);
    assertTensor(x.eq(tensor([1, 0, 3])), [3], [1, 0, 1]);
    assertTensor(x.ne(tensor([1, 0, 3])), [3], [0, 1, 0]);
    assertTensor(x.ne(3), [3], [1, 1, 0]);
    assertTensor(x.lt(2), [3], [1, 0, 0]);
    assertTensor(x.lt(tensor([2, 2, 4])), [3], [1, 0, 1]);
    assertTensor(x.le(2), [3], [1, 1, 0]);
    assertTensor(x.le(tensor([0, 2, 2])), [3], [0, 1, 0]);
    assertTensor(x.gt(2), [3], [0, 0, 1]);
    assertTensor(x.gt(tensor([0, 2, 2])), [3], [1, 0, 1]);
    assertTensor(x.ge(2), [3], [0, 1, 1]);
    assertTensor(x.ge(tensor([2, 2, 2])), [3], [0, 1, 1]);
    const [p, q] = [bool([1, 1, 0, 0]), bool([1, 0, 1, 0])];
    assertTensor(p.logicalAnd(q), [4], [1, 0, 0, 0]);
    assertTensor(p.logicalOr(q), [4], [1, 1, 1, 0]);
    assertTensor(p.logicalNot(), [4], [0, 0, 1, 1]);
    assert.equal(bool([0, 0, 1]).any().item(), 1);
    assert.equal(bool([0, 0, 1]).all().item(), 0);
    assert.equal(bool([1, 1]).all().item(), 1);
  }));

test('activations: sigmoid silu relu leakyRelu hardswish softplus softmax', () =>
  tidy(() => {
    const x = f64([-1, 0, 2]);
    const s = [1 / (1 + Math.E), 0.5, 1 / (1 + Math.exp(-2))];
    assertTensor(x.sigmoid(), [3], s);
    assertTensor(x.silu(), [3], [-s[0]!, 0, 2 * s[2]!]);
    assertTensor(x.relu(), [3], [0, 0, 2]);
    assertTensor(x.leakyRelu(), [3], [-0.01, 0, 2]);
    assertTensor(x.leakyRelu(0.1), [3], [-0.1, 0, 2]);
    // x·relu6(x + 3)/6: zero below −3, identity above 3.
    assertTensor(f64([-4, -1, 0, 2, 4]).hardswish(), [5], [0, -1 / 3, 0, 5 / 3, 4]);
    assertTensor(x.softplus(), [3], [Math.log1p(Math.exp(-1)), Math.log(2), Math.log1p(Math.exp(2))]);
    assertTensor(x.softplus(2), [3], [0.5 * Math.log1p(Math.exp(-2)), 0.5 * Math.log(2), 0.5 * Math.log1p(Math.exp(4))]);
    // Above the threshold softplus is the identity.
    assertTensor(x.softplus(1, 1), [3], [Math.log1p(Math.exp(-1)), Math.log(2), 2]);
    const e = 1 / (1 + Math.E);
    assertTensor(f64([1, 2, 3, 3], [2, 2]).softmax(1), [2, 2], [e, 1 - e, 0.5, 0.5]);
    assertTensor(f64([1, 2, 3, 3], [2, 2]).softmax(-1), [2, 2], [e, 1 - e, 0.5, 0.5]);
    assertTensor(f64([1, 2, 1, 2], [2, 2]).softmax(0), [2, 2], [0.5, 0.5, 0.5, 0.5]);
  }));

test('sum and mean over all elements, dims and dim lists, with keepdim', () =>
  tidy(() => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    assertTensor(x.sum(), [], [21]);
    assertTensor(x.sum(0), [3], [5, 7, 9]);
    assertTensor(x.sum(1, true), [2, 1], [6, 15]);
    assertTensor(x.sum([0, 1]), [], [21]);
    assertTensor(x.sum(-1), [2], [6, 15]);
    assertTensor(x.mean(), [], [3.5]);
    assertTensor(x.mean(0), [3], [2.5, 3.5, 4.5]);
    assertTensor(x.mean(1, true), [2, 1], [2, 5]);
    assertTensor(x.mean([0, 1], true), [1, 1], [3.5]);
  }));

test('max, min, maxDim, minDim, amax, argmax, argmin', () =>
  tidy(() => {
    const x = tensor([1, 2, 3, 6, 5, 4], [2, 3]);
    assertTensor(x.max(), [], [6]);
    assertTensor(x.min(), [], [1]);
    const byRow = x.maxDim(1);
    assertTensor(byRow.values, [2], [3, 6]);
    assertTensor(byRow.indices, [2], [2, 0]);
    assert.equal(byRow.indices.dtype, 'int64');
    const byColumn = x.maxDim(0, true);
    assertTensor(byColumn.values, [1, 3], [6, 5, 4]);
    assertTensor(byColumn.indices, [1, 3], [1, 1, 1]);
    const minRow = x.minDim(-1);
    assertTensor(minRow.values, [2], [1, 4]);
    assertTensor(minRow.indices, [2], [0, 2]);
    assertTensor(x.amax(0), [3], [6, 5, 4]);
    assertTensor(x.amax([0, 1], true), [1, 1], [6]);
    assertTensor(x.argmax(), [], [3]);
    assertTensor(x.argmax(1), [2], [2, 0]);
    assertTensor(x.argmin(0, true), [1, 3], [0, 0, 0]);
    assertTensor(x.argmin(), [], [0]);
  }));

test('prod, cumsum, sort, topk, nonzero', () =>
  tidy(() => {
    assertTensor(tensor([1, 2, 3, 4]).prod(), [], [24]);
    assertTensor(tensor([1, 2, 3]).cumsum(0), [3], [1, 3, 6]);
    assertTensor(tensor([1, 2, 3, 4, 5, 6], [2, 3]).cumsum(1), [2, 3], [1, 3, 6, 4, 9, 15]);
    const up = tensor([3, 1, 2]).sort();
    assertTensor(up.values, [3], [1, 2, 3]);
    assertTensor(up.indices, [3], [1, 2, 0]);
    const down = tensor([3, 1, 2]).sort(0, true);
    assertTensor(down.values, [3], [3, 2, 1]);
    assertTensor(down.indices, [3], [0, 2, 1]);
    const top = tensor([1, 5, 3, 4]).topk(2);
    assertTensor(top.values, [2], [5, 4]);
    assertTensor(top.indices, [2], [1, 3]);
    const bottom = tensor([1, 5, 3, 4]).topk(2, -1, false);
    assertTensor(bottom.values, [2], [1, 3]);
    assertTensor(bottom.indices, [2], [0, 2]);
    const rows = tensor([3, 1, 2, 9, 8, 7], [2, 3]).topk(1, 1);
    assertTensor(rows.values, [2, 1], [3, 9]);
    assertTensor(tensor([0, 1, 1, 0], [2, 2]).nonzero(), [2, 2], [0, 1, 1, 0]);
  }));

test('matmul: matrix, matrix-vector and batched', () =>
  tidy(() => {
    assertTensor(tensor([1, 2, 3, 4], [2, 2]).matmul(tensor([5, 6, 7, 8], [2, 2])), [2, 2], [19, 22, 43, 50]);
    assertTensor(tensor([1, 2, 3, 4], [2, 2]).matmul(tensor([1, 1])), [2], [3, 7]);
    assertTensor(tensor([1, 2, 3, 4], [2, 1, 2]).matmul(tensor([1, 0, 0, 2], [2, 2])), [2, 1, 2], [1, 4, 3, 8]);
    assertTensor(tensor([1, 2, 3], [1, 3]).matmul(tensor([1, 2, 3], [3, 1])), [1, 1], [14]);
  }));

test('reshape, view, permute, transpose, flatten, squeeze, unsqueeze', () =>
  tidy(() => {
    const x = grid();
    assertTensor(x.reshape([3, 2]), [3, 2], [0, 1, 2, 3, 4, 5]);
    assertTensor(x.reshape([-1]), [6], [0, 1, 2, 3, 4, 5]);
    assertTensor(x.view([3, -1]), [3, 2], [0, 1, 2, 3, 4, 5]);
    assertTensor(x.permute([1, 0]), [3, 2], [0, 3, 1, 4, 2, 5]);
    assertTensor(x.transpose(0, 1), [3, 2], [0, 3, 1, 4, 2, 5]);
    assertTensor(x.reshape([1, 2, 3]).permute([2, 0, 1]), [3, 1, 2], [0, 3, 1, 4, 2, 5]);
    assertTensor(x.reshape([2, 3, 1]).flatten(), [6], [0, 1, 2, 3, 4, 5]);
    assertTensor(zeros([2, 3, 2]).flatten(1), [2, 6], new Array(12).fill(0));
    assertTensor(zeros([2, 3, 2, 2]).flatten(1, 2), [2, 6, 2], new Array(24).fill(0));
    assertTensor(zeros([1, 3, 1]).squeeze(), [3], [0, 0, 0]);
    assertTensor(zeros([1, 3, 1]).squeeze(0), [3, 1], [0, 0, 0]);
    assertTensor(tensor([1, 2, 3]).unsqueeze(1), [3, 1], [1, 2, 3]);
    assertTensor(tensor([1, 2, 3]).unsqueeze(0), [1, 3], [1, 2, 3]);
  }));

test('expand, repeat, flip', () =>
  tidy(() => {
    assertTensor(tensor([1, 2, 3], [3, 1]).expand([3, 2]), [3, 2], [1, 1, 2, 2, 3, 3]);
    assertTensor(tensor([1, 2, 3], [3, 1]).expand([2, -1, 2]), [2, 3, 2], [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
    assertTensor(tensor([1, 2], [1, 2]).repeat([2, 1]), [2, 2], [1, 2, 1, 2]);
    assertTensor(tensor([1, 2], [1, 2]).repeat([1, 2]), [1, 4], [1, 2, 1, 2]);
    assertTensor(grid().flip([1]), [2, 3], [2, 1, 0, 5, 4, 3]);
    assertTensor(grid().flip([0, 1]), [2, 3], [5, 4, 3, 2, 1, 0]);
  }));

test('split, chunk, narrow, slice, select', () =>
  tidy(() => {
    const r = arange(5);
    const bySize = r.split(2);
    assert.equal(bySize.length, 3);
    assertTensor(bySize[0]!, [2], [0, 1]);
    assertTensor(bySize[2]!, [1], [4]);
    const bySizes = r.split([1, 4]);
    assertTensor(bySizes[0]!, [1], [0]);
    assertTensor(bySizes[1]!, [4], [1, 2, 3, 4]);
    const columns = grid().split([2, 1], 1);
    assertTensor(columns[0]!, [2, 2], [0, 1, 3, 4]);
    assertTensor(columns[1]!, [2, 1], [2, 5]);
    const chunks = r.chunk(2);
    assertTensor(chunks[0]!, [3], [0, 1, 2]);
    assertTensor(chunks[1]!, [2], [3, 4]);
    const x = grid();
    assertTensor(x.narrow(1, 1, 2), [2, 2], [1, 2, 4, 5]);
    assertTensor(x.slice(1, 0, null, 2), [2, 2], [0, 2, 3, 5]);
    assertTensor(x.slice(0, -1), [1, 3], [3, 4, 5]);
    assertTensor(x.slice(1, 1), [2, 2], [1, 2, 4, 5]);
    assertTensor(x.slice(1, null, -1), [2, 2], [0, 1, 3, 4]);
    assertTensor(x.select(0, 1), [3], [3, 4, 5]);
    assertTensor(x.select(1, -1), [2], [2, 5]);
  }));

test('indexSelect, gather, index, maskedSelect, maskedFill', () =>
  tidy(() => {
    const x = grid();
    assertTensor(x.indexSelect(1, i64([2, 0])), [2, 2], [2, 0, 5, 3]);
    assertTensor(x.indexSelect(0, i64([1, 1])), [2, 3], [3, 4, 5, 3, 4, 5]);
    assertTensor(x.gather(1, i64([0, 0, 2, 1], [2, 2])), [2, 2], [0, 0, 5, 4]);
    assertTensor(x.index([i64([1, 0])]), [2, 3], [3, 4, 5, 0, 1, 2]);
    assertTensor(x.index([null, i64([2])]), [2, 1], [2, 5]);
    assertTensor(x.index([i64([0, 1]), i64([2, 0])]), [2], [2, 3]);
    assertTensor(x.index([x.gt(3)]), [2], [4, 5]);
    assertTensor(x.maskedSelect(x.gt(2)), [3], [3, 4, 5]);
    assertTensor(x.maskedSelect(bool([1, 0, 1])), [4], [0, 2, 3, 5]);
    assertTensor(x.maskedFill(x.gt(2), -1), [2, 3], [0, 1, 2, -1, -1, -1]);
    assertTensor(x, [2, 3], [0, 1, 2, 3, 4, 5]);
  }));

test('in-place indexPut_ and maskedFill_', () =>
  tidy(() => {
    const z = zeros([4]);
    assert.equal(z.indexPut_([i64([0, 2])], tensor([9, 8])), z);
    assertTensor(z, [4], [9, 0, 8, 0]);
    const acc = zeros([3]).indexPut_([i64([1, 1])], tensor([1, 2]), true);
    assertTensor(acc, [3], [0, 3, 0]);
    const masked = zeros([2, 2]).indexPut_([bool([1, 0, 0, 1], [2, 2])], tensor([7], []));
    assertTensor(masked, [2, 2], [7, 0, 0, 7]);
    const rows = zeros([2, 2]).indexPut_([i64([1]), null], tensor([3, 4]));
    assertTensor(rows, [2, 2], [0, 0, 3, 4]);
    const m = tensor([1, 2, 3]);
    assert.equal(m.maskedFill_(bool([0, 1, 0]), 0), m);
    assertTensor(m, [3], [1, 0, 3]);
  }));

test('in-place arithmetic returns the same tensor', () =>
  tidy(() => {
    const x = tensor([1, 2]);
    assert.equal(x.add_(tensor([1, 1]), 2), x);
    assertTensor(x, [2], [3, 4]);
    assertTensor(x.add_(1), [2], [4, 5]);
    assertTensor(x.sub_(tensor([1, 2]), 2), [2], [2, 1]);
    assertTensor(x.sub_(1), [2], [1, 0]);
    assertTensor(x.mul_(tensor([3, 3])), [2], [3, 0]);
    assertTensor(x.mul_(2), [2], [6, 0]);
    assertTensor(x.div_(tensor([2, 1])), [2], [3, 0]);
    assertTensor(x.div_(2), [2], [1.5, 0]);
    assertTensor(tensor([1, 1]).addcmul_(tensor([2, 3]), tensor([4, 5]), 2), [2], [17, 31]);
    assertTensor(tensor([1, 1]).addcmul_(tensor([2, 3]), tensor([4, 5])), [2], [9, 16]);
    assertTensor(tensor([1, 1]).addcdiv_(tensor([2, 3]), tensor([4, 6]), 0.5), [2], [1.25, 1.25]);
    assertTensor(tensor([0, 10]).lerp_(tensor([10, 20]), 0.25), [2], [2.5, 12.5]);
    assertTensor(tensor([2, 2]).add_(tensor([1])), [2], [3, 3]);
  }));

test('in-place copy_, zero_, fill_, clamp_, uniform_, normal_', () =>
  tidy(() => {
    const x = zeros([2, 2]);
    assertTensor(x.copy_(i64([1, 2])), [2, 2], [1, 2, 1, 2]);
    assert.equal(x.dtype, 'float32');
    assertTensor(x.zero_(), [2, 2], [0, 0, 0, 0]);
    assertTensor(x.fill_(3), [2, 2], [3, 3, 3, 3]);
    assertTensor(tensor([-2, 0.5, 3]).clamp_(0, 1), [3], [0, 0.5, 1]);
    assertTensor(tensor([-2, 0.5, 3]).clamp_(null, 1), [3], [-2, 0.5, 1]);
    const u = empty([1000]).uniform_(2, 3);
    assert.ok(u.min().item() >= 2 && u.max().item() < 3);
    manualSeed(7);
    const n1 = empty([5]).normal_(5, 2).toArray();
    manualSeed(7);
    const n2 = empty([5]).normal_(5, 2).toArray();
    assert.deepEqual(n1, n2);
    const big = empty([10000]).normal_(5, 2);
    assert.ok(Math.abs(big.mean().item() - 5) < 0.1);
  }));

test('conversions: to, float, long, clone, contiguous, detach', () =>
  tidy(() => {
    const x = tensor([1.7, -1.7]);
    const asInt = x.to('int32');
    assert.equal(asInt.dtype, 'int32');
    assertTensor(asInt, [2], [1, -1]);
    assert.equal(x.long().dtype, 'int64');
    assert.equal(i64([3]).float().dtype, 'float32');
    const c = x.clone();
    c.add_(1);
    assertTensor(x, [2], [1.7, -1.7]);
    const t = grid().transpose(0, 1);
    assertTensor(t.contiguous(), [3, 2], [0, 3, 1, 4, 2, 5]);
    const parameter = tensor([1, 2]).requiresGrad_();
    const d = parameter.detach();
    assert.equal(d.requiresGrad, false);
    // detach() shares storage, as in PyTorch.
    d.add_(1);
    assertTensor(parameter, [2], [2, 3]);
  }));

test('where with tensors and scalars', () =>
  tidy(() => {
    const c = bool([1, 0, 1]);
    const a = tensor([1, 2, 3]);
    const b = tensor([10, 20, 30]);
    assertTensor(where(c, a, b), [3], [1, 20, 3]);
    assertTensor(where(c, a, 0), [3], [1, 0, 3]);
    assertTensor(where(c, 5, b), [3], [5, 20, 5]);
    assertTensor(where(c, 1, 0), [3], [1, 0, 1]);
    assertTensor(where(bool([1, 0], [2, 1]), a, b), [2, 3], [1, 2, 3, 10, 20, 30]);
  }));

test('cat and stack', () =>
  tidy(() => {
    const a = tensor([1, 2], [1, 2]);
    const b = tensor([3, 4], [1, 2]);
    assertTensor(cat([a, b]), [2, 2], [1, 2, 3, 4]);
    assertTensor(cat([a, b], 1), [1, 4], [1, 2, 3, 4]);
    assertTensor(cat([a, b], -1), [1, 4], [1, 2, 3, 4]);
    assertTensor(stack([tensor([1, 2]), tensor([3, 4])]), [2, 2], [1, 2, 3, 4]);
    assertTensor(stack([tensor([1, 2]), tensor([3, 4])], 1), [2, 2], [1, 3, 2, 4]);
    assert.throws(() => cat([]), RangeError);
    assert.throws(() => stack([]), RangeError);
  }));
