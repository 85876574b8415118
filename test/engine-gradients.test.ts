// Autograd's gradients of every differentiable operator against central finite differences (float64).
import { test } from 'node:test';
import { F, Tensor, cat, manualSeed, randn, stack, tensor, tidy, where } from '../src/torch/index.js';
import { gradcheck } from './helpers/gradcheck.js';
import { oneThreadForTinyOps } from './helpers/threads.js';

oneThreadForTinyOps();

let seed = 100;
/** Standard normal float64 values, a fresh seed per call so no two inputs coincide. */
function normal(shape: number[]): Tensor {
  manualSeed(seed++);
  return randn(shape, { dtype: 'float64' });
}
/** Values in [0.5, 2.5): safe for log, sqrt, division and fractional powers. */
function positive(shape: number[]): Tensor {
  return normal(shape).sigmoid().mul(2).add(0.5);
}
const i64 = (values: number[], shape?: number[]): Tensor => tensor(values, shape, { dtype: 'int64' });
const bool = (values: number[], shape?: number[]): Tensor => tensor(values, shape, { dtype: 'bool' });

test('gradients: add, sub, mul, div with broadcasting, alpha and scalars', () =>
  tidy(() => {
    const [a, row, column] = [normal([2, 3]), normal([3]), normal([2, 1])];
    gradcheck((x, y) => x.add(y, 0.7), [a, row]);
    gradcheck((x, y) => x.sub(y, 2), [a, column]);
    gradcheck((x, y) => x.mul(y), [a, column]);
    gradcheck((x, y) => x.div(y), [a, positive([3])]);
    gradcheck((x, y) => y.div(x), [positive([2, 1]), a]);
    gradcheck((x) => x.add(3).mul(-2).sub(1).div(4), [a]);
  }));

test('gradients: pow, abs, exp, log, sqrt, square, neg', () =>
  tidy(() => {
    gradcheck((x) => x.pow(3), [normal([4])]);
    gradcheck((x) => x.pow(0.5), [positive([4])]);
    gradcheck((x, y) => x.pow(y), [positive([2, 2]), normal([2])]);
    gradcheck((x) => x.abs(), [normal([5])]);
    gradcheck((x) => x.exp(), [normal([5])]);
    gradcheck((x) => x.log(), [positive([5])]);
    gradcheck((x) => x.sqrt(), [positive([5])]);
    gradcheck((x) => x.square().neg(), [normal([5])]);
  }));

test('gradients: clamp, maximum, minimum, where', () =>
  tidy(() => {
    const x = normal([8]);
    gradcheck((v) => v.clamp(-0.5, 0.5), [x]);
    gradcheck((v) => v.clamp(0), [x]);
    gradcheck((v) => v.clamp(null, 0.3), [x]);
    gradcheck((a, b) => a.maximum(b), [normal([2, 3]), normal([3])]);
    gradcheck((a, b) => a.minimum(b), [normal([2, 3]), normal([2, 1])]);
    const condition = bool([1, 0, 0, 1, 1, 0], [2, 3]);
    gradcheck((c, a, b) => where(c, a, b), [condition, normal([2, 3]), normal([3])]);
    gradcheck((c, a) => where(c, a, 0.5), [condition, normal([2, 3])]);
    gradcheck((c, b) => where(c, 2, b), [condition, normal([2, 3])]);
  }));

test('gradients: sigmoid, silu, relu, leakyRelu, hardswish, softplus, softmax', () =>
  tidy(() => {
    const x = normal([10]).mul(2.5);
    gradcheck((v) => v.sigmoid(), [x]);
    gradcheck((v) => v.silu(), [x]);
    gradcheck((v) => v.relu(), [x]);
    gradcheck((v) => v.leakyRelu(0.1), [x]);
    gradcheck((v) => v.hardswish(), [x]);
    gradcheck((v) => v.softplus(), [x]);
    gradcheck((v) => v.softplus(2, 3), [x]);
    gradcheck((v) => v.softmax(1), [normal([2, 4])]);
  }));

test('gradients: sum, mean, max, maxDim, amax over dims with keepdim', () =>
  tidy(() => {
    const x = normal([2, 3, 4]);
    gradcheck((v) => v.sum(), [x]);
    gradcheck((v) => v.sum(1), [x]);
    gradcheck((v) => v.sum([0, 2], true), [x]);
    gradcheck((v) => v.mean(), [x]);
    gradcheck((v) => v.mean(-1, true), [x]);
    gradcheck((v) => v.mean([0, 1]), [x]);
    gradcheck((v) => v.max(), [x]);
    gradcheck((v) => v.maxDim(1).values, [x]);
    gradcheck((v) => v.maxDim(2, true).values, [x]);
    gradcheck((v) => v.amax([0, 2], true), [x]);
  }));

test('gradients: matmul and linear', () =>
  tidy(() => {
    gradcheck((a, b) => a.matmul(b), [normal([2, 3]), normal([3, 4])]);
    gradcheck((a, b) => a.matmul(b), [normal([2, 2, 3]), normal([3, 2])]);
    gradcheck((a, b) => a.matmul(b), [normal([3]), normal([3, 2])]);
    gradcheck((x, w, b) => F.linear(x, w, b), [normal([2, 3]), normal([4, 3]), normal([4])]);
  }));

test('gradients: reshape, permute, transpose, expand, repeat', () =>
  tidy(() => {
    gradcheck((v) => v.reshape([3, 2]).mul(v.reshape([3, 2])), [normal([2, 3])]);
    gradcheck((v) => v.permute([2, 0, 1]), [normal([2, 3, 2])]);
    gradcheck((v) => v.transpose(0, 1).matmul(v), [normal([3, 2])]);
    gradcheck((v) => v.expand([3, 4]), [normal([3, 1])]);
    gradcheck((v) => v.expand([2, 3, 2]), [normal([3, 2])]);
    gradcheck((v) => v.repeat([2, 1, 3]), [normal([2, 2])]);
  }));

test('gradients: cat, stack, split, narrow, slice, select', () =>
  tidy(() => {
    gradcheck((a, b) => cat([a, b], 1), [normal([2, 2]), normal([2, 3])]);
    gradcheck((a, b) => stack([a, b], 1), [normal([2, 3]), normal([2, 3])]);
    gradcheck((v) => v.split([1, 2], 1)[1]!, [normal([2, 3])]);
    gradcheck((v) => v.split(2)[1]!.mul(v.split(2)[0]!), [normal([4, 2])]);
    gradcheck((v) => v.chunk(3, 1)[2]!, [normal([2, 6])]);
    gradcheck((v) => v.narrow(1, 1, 2), [normal([2, 4])]);
    gradcheck((v) => v.slice(1, 0, null, 2), [normal([2, 5])]);
    gradcheck((v) => v.slice(0, -2), [normal([4, 2])]);
    gradcheck((v) => v.select(1, -1), [normal([2, 3])]);
  }));

test('gradients: indexSelect, gather, index, maskedSelect, maskedFill', () =>
  tidy(() => {
    // Repeated indices accumulate into the same input element.
    gradcheck((v, i) => v.indexSelect(1, i), [normal([2, 4]), i64([3, 0, 3])]);
    gradcheck((v, i) => v.gather(1, i), [normal([2, 3]), i64([0, 0, 2, 1], [2, 2])]);
    gradcheck((v, i) => v.index([i]), [normal([3, 2]), i64([2, 2, 0])]);
    gradcheck((v, m) => v.maskedSelect(m), [normal([2, 3]), bool([1, 0, 1, 1, 0, 0], [2, 3])]);
    gradcheck((v, m) => v.maskedFill(m, 0), [normal([2, 3]), bool([1, 0, 1])]);
  }));

test('gradients: conv2d with stride, padding, dilation, groups and bias', () =>
  tidy(() => {
    gradcheck((x, w, b) => F.conv2d(x, w, b, { padding: 1 }), [normal([1, 2, 4, 4]), normal([3, 2, 3, 3]), normal([3])]);
    gradcheck((x, w) => F.conv2d(x, w, null, { stride: 2, padding: [1, 0] }), [normal([2, 2, 5, 4]), normal([2, 2, 3, 3])]);
    gradcheck((x, w, b) => F.conv2d(x, w, b, { dilation: 2, groups: 2, padding: 2, stride: [1, 2] }), [
      normal([1, 4, 5, 5]),
      normal([4, 2, 3, 3]),
      normal([4]),
    ]);
    gradcheck((x, w) => F.conv2d(x, w, null, { groups: 3 }), [normal([1, 3, 3, 3]), normal([3, 1, 2, 2])]);
  }));

test('gradients: batchNorm in training and eval mode', () =>
  tidy(() => {
    const input = normal([3, 2, 2, 2]);
    gradcheck((x, w, b) => F.batchNorm(x, null, null, { weight: w, bias: b, training: true }), [input, positive([2]), normal([2])]);
    const [mean, variance] = [normal([2]), positive([2])];
    gradcheck((x, w, b) => F.batchNorm(x, mean, variance, { weight: w, bias: b, training: false, eps: 1e-3 }), [
      input,
      positive([2]),
      normal([2]),
    ]);
  }));

test('gradients: maxPool2d, upsampleNearest, pad', () =>
  tidy(() => {
    gradcheck((x) => F.maxPool2d(x, 2), [normal([1, 2, 4, 4])]);
    gradcheck((x) => F.maxPool2d(x, 3, 1, 1), [normal([1, 1, 4, 5])]);
    gradcheck((x) => F.upsampleNearest(x, 2), [normal([1, 2, 2, 3])]);
    gradcheck((x) => F.pad(x, [1, 2, 0, 1], 0.5), [normal([1, 1, 2, 3])]);
  }));

test('gradients: BCE with logits (posWeight, weight, reductions), MSE, cross entropy', () =>
  tidy(() => {
    const target = normal([3, 2]).sigmoid();
    const posWeight = positive([2]);
    const weight = positive([3, 1]);
    gradcheck((x) => F.binaryCrossEntropyWithLogits(x, target), [normal([3, 2])]);
    gradcheck((x) => F.binaryCrossEntropyWithLogits(x, target, { posWeight, reduction: 'sum' }), [normal([3, 2])]);
    gradcheck((x) => F.binaryCrossEntropyWithLogits(x, target, { posWeight, weight, reduction: 'none' }), [
      normal([3, 2]),
    ]);
    gradcheck((x, y) => F.mseLoss(x, y), [normal([2, 3]), normal([2, 3])]);
    gradcheck((x, y) => F.mseLoss(x, y, 'none'), [normal([4]), normal([4])]);
    gradcheck((x, t) => F.crossEntropy(x, t), [normal([3, 4]), i64([0, 3, 1])]);
  }));
