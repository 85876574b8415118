// Values of the functional operators (F) against hand-computed results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, Tensor, arange, ones, tensor, tidy, zeros } from '../src/torch/index.js';
import { assertTensor, assertValues } from './helpers/tensor-assert.js';

const f64 = (values: number[], shape?: number[]): Tensor => tensor(values, shape, { dtype: 'float64' });
/** [[1..9]] as a 1×1×3×3 image. */
const image3 = (): Tensor => tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
/** A 2×2 kernel summing the main diagonal. */
const diagonal = (): Tensor => tensor([1, 0, 0, 1], [1, 1, 2, 2]);

test('conv2d: plain, bias, stride with padding, dilation, groups, channel sums', () =>
  tidy(() => {
    assertTensor(F.conv2d(image3(), diagonal()), [1, 1, 2, 2], [6, 8, 12, 14]);
    assertTensor(F.conv2d(image3(), diagonal(), tensor([1])), [1, 1, 2, 2], [7, 9, 13, 15]);
    // Zero padding of 1 and stride 2 visit the padded positions (0,0), (0,2), (2,0), (2,2).
    assertTensor(F.conv2d(image3(), diagonal(), null, { stride: 2, padding: 1 }), [1, 1, 2, 2], [1, 3, 7, 14]);
    // Dilation 2 spreads the 2×2 kernel over the 3×3 corners: 1 + 9.
    assertTensor(F.conv2d(image3(), diagonal(), null, { dilation: 2 }), [1, 1, 1, 1], [10]);
    assertTensor(F.conv2d(image3(), diagonal(), null, { padding: [0, 1] }), [1, 1, 2, 4], [4, 6, 8, 3, 7, 12, 14, 6]);
    const twoChannels = tensor([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]);
    assertTensor(F.conv2d(twoChannels, tensor([2, 3], [2, 1, 1, 1]), null, { groups: 2 }), [1, 2, 2, 2], [2, 4, 6, 8, 15, 18, 21, 24]);
    assertTensor(F.conv2d(twoChannels, tensor([1, 1], [1, 2, 1, 1])), [1, 1, 2, 2], [6, 8, 10, 12]);
    assert.throws(() => F.conv2d(tensor([1, 2, 3]), diagonal()), /expected 4-D input and weight but received 1-D input/);
  }));

test('batchNorm in training normalises with the batch statistics and updates running stats (momentum, unbiased var)', () =>
  tidy(() => {
    // Channel 0 holds 1, 3, 5, 7 (mean 4, biased variance 5, unbiased 20/3); channel 1 is constant 2.
    const x = f64([1, 3, 2, 2, 5, 7, 2, 2], [2, 2, 1, 2]);
    const runningMean = zeros([2], { dtype: 'float64' });
    const runningVar = ones([2], { dtype: 'float64' });
    const weight = f64([2, 1]);
    const bias = f64([0.5, -1]);
    const y = F.batchNorm(x, runningMean, runningVar, { weight, bias, training: true });
    const s = Math.sqrt(5 + 1e-5);
    const c0 = (v: number): number => (2 * (v - 4)) / s + 0.5;
    assertTensor(y, [2, 2, 1, 2], [c0(1), c0(3), -1, -1, c0(5), c0(7), -1, -1]);
    assertTensor(runningMean, [2], [0.4, 0.2]);
    assertTensor(runningVar, [2], [0.9 + 0.1 * (20 / 3), 0.9]);
    F.batchNorm(x, runningMean, runningVar, { weight, bias, training: true });
    assertTensor(runningMean, [2], [0.9 * 0.4 + 0.4, 0.9 * 0.2 + 0.2]);

    const mean = zeros([2], { dtype: 'float64' });
    const variance = ones([2], { dtype: 'float64' });
    F.batchNorm(x, mean, variance, { training: true, momentum: 0.5 });
    assertTensor(mean, [2], [2, 1]);
    assertTensor(variance, [2], [0.5 + 0.5 * (20 / 3), 0.5]);
    // Without affine parameters or running statistics.
    const plain = F.batchNorm(x, null, null, { training: true, eps: 0 });
    assertTensor(plain, [2, 2, 1, 2], [-3, -1, 0, 0, 1, 3, 0, 0].map((v, i) => (i % 4 < 2 ? v / Math.sqrt(5) : 0)));
  }));

test('batchNorm in eval mode uses the running statistics and leaves them unchanged', () =>
  tidy(() => {
    const x = f64([1, 3, 2, 2, 5, 7, 2, 2], [2, 2, 1, 2]);
    const runningMean = f64([1, -1]);
    const runningVar = f64([4, 0.25]);
    const y = F.batchNorm(x, runningMean, runningVar, { weight: f64([2, 1]), bias: f64([0.5, -1]), training: false, eps: 0 });
    const c0 = (v: number): number => (2 * (v - 1)) / 2 + 0.5;
    const c1 = (v: number): number => (v + 1) / 0.5 - 1;
    assertTensor(y, [2, 2, 1, 2], [c0(1), c0(3), c1(2), c1(2), c0(5), c0(7), c1(2), c1(2)]);
    assertTensor(runningMean, [2], [1, -1]);
    assertTensor(runningVar, [2], [4, 0.25]);
  }));

test('maxPool2d, upsampleNearest and pad', () =>
  tidy(() => {
    const x = arange(16).float().reshape([1, 1, 4, 4]);
    assertTensor(F.maxPool2d(x, 2), [1, 1, 2, 2], [5, 7, 13, 15]);
    assertTensor(F.maxPool2d(image3(), 3, 1, 1), [1, 1, 3, 3], [5, 6, 6, 8, 9, 9, 8, 9, 9]);
    assertTensor(F.maxPool2d(x, [1, 2], [1, 2]), [1, 1, 4, 2], [1, 3, 5, 7, 9, 11, 13, 15]);
    const small = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    assertTensor(F.upsampleNearest(small, 2), [1, 1, 4, 4], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    assertTensor(F.upsampleNearest(small, 1), [1, 1, 2, 2], [1, 2, 3, 4]);
    assert.throws(() => F.upsampleNearest(tensor([1, 2, 3, 4], [1, 2, 2]), 2), /expected a 4-D input but received 3-D/);
    assert.throws(() => F.upsampleNearest(small, 1.5), TypeError);
    assertTensor(F.pad(tensor([1, 2, 3], [1, 3]), [1, 2]), [1, 6], [0, 1, 2, 3, 0, 0]);
    assertTensor(F.pad(tensor([1, 2, 3, 4], [2, 2]), [1, 0, 0, 1], 9), [3, 3], [9, 1, 2, 9, 3, 4, 9, 9, 9]);
    // Negative padding crops.
    assertTensor(F.pad(tensor([1, 2, 3], [1, 3]), [-1, 0]), [1, 2], [2, 3]);
  }));

test('linear', () =>
  tidy(() => {
    const w = tensor([1, 0, 1, 1, 0, 2], [3, 2]);
    assertTensor(F.linear(tensor([1, 2], [1, 2]), w, tensor([0, 1, 2])), [1, 3], [1, 4, 6]);
    assertTensor(F.linear(tensor([1, 2], [1, 2]), w), [1, 3], [1, 3, 4]);
  }));

test('binaryCrossEntropyWithLogits with posWeight, weight and every reduction', () =>
  tidy(() => {
    const logits = [0.5, -1, 2, 0];
    const targets = [1, 0.25, 0, 0.5];
    const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
    const loss = (i: number, posWeight: number, weight: number): number =>
      -weight * (posWeight * targets[i]! * Math.log(sigmoid(logits[i]!)) + (1 - targets[i]!) * Math.log(1 - sigmoid(logits[i]!)));
    const x = f64(logits, [2, 2]);
    const t = f64(targets, [2, 2]);
    const plain = logits.map((_, i) => loss(i, 1, 1));
    assertTensor(F.binaryCrossEntropyWithLogits(x, t, { reduction: 'none' }), [2, 2], plain);
    assertTensor(F.binaryCrossEntropyWithLogits(x, t), [], [plain.reduce((a, b) => a + b) / 4]);
    assertTensor(F.binaryCrossEntropyWithLogits(x, t, { reduction: 'sum' }), [], [plain.reduce((a, b) => a + b)]);
    // posWeight broadcasts over the last (class) dimension; weight over rows.
    const posWeight = [2, 3];
    const rowWeight = [1, 0.5];
    const weighted = logits.map((_, i) => loss(i, posWeight[i % 2]!, rowWeight[Math.floor(i / 2)]!));
    const y = F.binaryCrossEntropyWithLogits(x, t, { posWeight: f64(posWeight), weight: f64(rowWeight, [2, 1]), reduction: 'none' });
    assertTensor(y, [2, 2], weighted);
    assertTensor(F.binaryCrossEntropyWithLogits(f64([0]), f64([1])), [], [Math.LN2]);
    // Large logits stay finite (the log-sum-exp form).
    assertTensor(F.binaryCrossEntropyWithLogits(f64([1000, -1000]), f64([0, 1]), { reduction: 'none' }), [2], [1000, 1000]);
  }));

test('mseLoss and crossEntropy', () =>
  tidy(() => {
    const a = tensor([1, 2, 3]);
    const b = tensor([1, 4, 0]);
    assertTensor(F.mseLoss(a, b), [], [13 / 3]);
    assertTensor(F.mseLoss(a, b, 'sum'), [], [13]);
    assertTensor(F.mseLoss(a, b, 'none'), [3], [0, 4, 9]);
    const logits = f64([1, 2, 3, 0, 0, 0], [2, 3]);
    const target = tensor([2, 0], [2], { dtype: 'int64' });
    const first = Math.log(Math.E + Math.E ** 2 + Math.E ** 3) - 3;
    const second = Math.log(3);
    assertTensor(F.crossEntropy(logits, target, 'none'), [2], [first, second]);
    assertTensor(F.crossEntropy(logits, target), [], [(first + second) / 2]);
    assertValues([F.crossEntropy(logits, target, 'sum').item()], [first + second]);
  }));
