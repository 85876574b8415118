// Autograd semantics: requiresGrad, backward, accumulation, detach, grad mode, in-place updates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enableGrad, isGradEnabled, noGrad, ones, tensor, tidy } from '../src/torch/index.js';
import { assertTensor } from './helpers/tensor-assert.js';

test('requiresGrad is off by default and spreads through operations', () =>
  tidy(() => {
    const plain = tensor([1, 2]);
    assert.equal(plain.requiresGrad, false);
    assert.equal(plain.mul(2).requiresGrad, false);
    const x = tensor([1, 2]).requiresGrad_();
    assert.equal(x.requiresGrad, true);
    assert.equal(x.mul(plain).requiresGrad, true);
    assert.equal(x.requiresGrad_(false).requiresGrad, false);
    assert.equal(tensor([1], [1], { requiresGrad: true }).requiresGrad, true);
    assert.throws(() => tensor([1], [1], { dtype: 'int64' }).requiresGrad_(), /floating point/);
  }));

test('backward of a scalar fills the leaves’ grad', () =>
  tidy(() => {
    const x = tensor([1, -2, 3]).requiresGrad_();
    const w = tensor([2]).requiresGrad_();
    assert.equal(x.grad, null);
    x.mul(x).mul(w).sum().backward();
    assertTensor(x.grad!, [3], [4, -8, 12]);
    assertTensor(w.grad!, [1], [14]);
  }));

test('backward of a non-scalar needs an explicit gradient', () =>
  tidy(() => {
    const x = tensor([1, 2]).requiresGrad_();
    const y = x.mul(3);
    assert.throws(() => y.backward(), /grad can be implicitly created only for scalar outputs/);
    y.backward(tensor([1, 2]));
    assertTensor(x.grad!, [2], [3, 6]);
  }));

test('gradients accumulate until zeroGrad; a freed graph cannot be reused without retainGraph', () =>
  tidy(() => {
    const x = tensor([1, 2]).requiresGrad_();
    x.mul(2).sum().backward();
    x.mul(3).sum().backward();
    assertTensor(x.grad!, [2], [5, 5]);
    x.zeroGrad();
    assert.equal(x.grad, null);
    x.square().sum().backward();
    assertTensor(x.grad!, [2], [2, 4]);

    const y = x.exp().sum();
    x.zeroGrad();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    assertTensor(x.grad!, [2], [2 * Math.E, 2 * Math.E ** 2], 1e-6);
    assert.throws(() => y.backward(), /backward through the graph a second time/);

    x.grad = tensor([7, 7]);
    assertTensor(x.grad!, [2], [7, 7]);
    x.grad = null;
    assert.equal(x.grad, null);
  }));

test('detach() cuts the graph', () =>
  tidy(() => {
    const x = tensor([2, 3]).requiresGrad_();
    const y = x.detach().mul(x).sum();
    y.backward();
    // d/dx (c · x) with c = x held constant.
    assertTensor(x.grad!, [2], [2, 3]);
  }));

test('noGrad turns recording off and restores the previous mode, also after an exception', () =>
  tidy(() => {
    const x = tensor([1]).requiresGrad_();
    assert.equal(isGradEnabled(), true);
    const y = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      assert.equal(enableGrad(() => x.mul(2)).requiresGrad, true);
      assert.equal(isGradEnabled(), false);
      return noGrad(() => x.mul(2));
    });
    assert.equal(y.requiresGrad, false);
    assert.equal(isGradEnabled(), true);
    assert.throws(() =>
      noGrad(() => {
        throw new Error('inside');
      }),
    );
    assert.equal(isGradEnabled(), true);
    assert.equal(x.mul(2).requiresGrad, true);
  }));

test('in-place updates of a leaf need noGrad, and then keep it a leaf that learns', () =>
  tidy(() => {
    const p = tensor([1, 2]).requiresGrad_();
    assert.throws(() => p.sub_(1), /leaf Variable that requires grad is being used in an in-place operation/);
    p.square().sum().backward();
    noGrad(() => p.sub_(p.grad!.mul(0.25)));
    assertTensor(p, [2], [0.5, 1]);
    assert.equal(p.requiresGrad, true);
    p.zeroGrad();
    p.square().sum().backward();
    assertTensor(p.grad!, [2], [1, 2]);
  }));

test('modifying a tensor saved for backward is detected', () =>
  tidy(() => {
    const x = tensor([1, 2]).requiresGrad_();
    const y = x.mul(2);
    const z = y.square().sum();
    noGrad(() => y.add_(1));
    assert.throws(() => z.backward(), /modified by an inplace operation/);
  }));

test('gradients flow into tensors shared by several branches and through views', () =>
  tidy(() => {
    const x = ones([2, 2]).requiresGrad_();
    const branches = x.transpose(0, 1).mul(tensor([1, 2])).add(x.reshape([4]).narrow(0, 1, 2).reshape([1, 2]));
    branches.sum().backward();
    // transpose·[1,2] gives column weights 1 (row 0) and 2 (row 1); the narrow adds 2 to elements 1 and 2 (row-major).
    assertTensor(x.grad!, [2, 2], [1, 3, 4, 2]);
  }));
