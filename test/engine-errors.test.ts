// Errors: libtorch failures become JS Errors with libtorch's message and leave the engine working;
// bad JS arguments are TypeErrors raised before libtorch runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, callOp, tensor, tidy, zeros, type Tensor } from '../src/torch/index.js';
import { native } from '../src/torch/native.js';

const i64 = (values: number[], shape?: number[]): Tensor => tensor(values, shape, { dtype: 'int64' });

/** Asserts fn throws a plain Error (not a TypeError) whose message matches, without a C++ backtrace. */
function assertLibtorchError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof Error, 'a JS Error');
    assert.ok(!(error instanceof TypeError), `a libtorch failure, not a TypeError: ${error.message}`);
    assert.match(error.message, message);
    assert.doesNotMatch(error.message, /Exception raised from|frame #/);
    return true;
  });
  // The engine keeps working afterwards.
  assert.deepEqual(tidy(() => tensor([1, 2]).add(tensor([3, 4])).toArray()), [4, 6]);
}

test('conv2d with mismatched channels or a kernel larger than the input', () =>
  tidy(() => {
    assertLibtorchError(
      () => F.conv2d(zeros([1, 3, 8, 8]), zeros([4, 2, 3, 3])),
      /weight of size \[4, 2, 3, 3\], expected input\[1, 3, 8, 8\] to have 2 channels, but got 3 channels/,
    );
    assertLibtorchError(() => F.conv2d(zeros([1, 2, 2, 2]), zeros([4, 2, 3, 3])), /Kernel size can't be greater than actual input size/);
  }));

test('out-of-range indices in indexSelect, select, gather, index, indexPut_ and crossEntropy', () =>
  tidy(() => {
    const x = zeros([2, 3]);
    assertLibtorchError(() => x.indexSelect(0, i64([5])), /index out of range/);
    assertLibtorchError(() => x.select(0, 10), /select\(\): index 10 out of range for tensor of size \[2, 3\] at dimension 0/);
    assertLibtorchError(() => x.gather(1, i64([5, 0], [2, 1])), /index 5 is out of bounds for dimension 1 with size 3/);
    assertLibtorchError(() => x.index([i64([7])]), /index 7 is out of bounds for dimension 0 with size 2/);
    assertLibtorchError(() => zeros([3]).indexPut_([i64([7])], tensor([1])), /index 7 is out of bounds/);
    assertLibtorchError(() => F.crossEntropy(x, i64([0, 5])), /Target 5 is out of bounds/);
  }));

test('dtype and shape mismatches', () =>
  tidy(() => {
    assertLibtorchError(() => zeros([2, 2]).matmul(zeros([2, 2], { dtype: 'int64' })), /expected scalar type Float but found Long|dtype/);
    assertLibtorchError(() => zeros([2, 3]).add(zeros([2, 2])), /size of tensor a \(3\) must match the size of tensor b \(2\) at non-singleton dimension 1/);
    assertLibtorchError(() => zeros([2, 3]).reshape([4]), /shape '\[4\]' is invalid for input of size 6/);
    assertLibtorchError(() => zeros([2, 3]).matmul(zeros([2, 3])), /cannot be multiplied/);
    assertLibtorchError(() => zeros([2]).item(), /item\(\): tensor with 2 elements cannot be a scalar/);
    assertLibtorchError(() => callOp('aten::no_such_op'), /unknown operator aten::no_such_op/);
  }));

test('errors inside backward leave autograd usable', () =>
  tidy(() => {
    const x = tensor([1, 2]).requiresGrad_();
    assertLibtorchError(() => x.mul(2).backward(), /grad can be implicitly created only for scalar outputs/);
    x.mul(2).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [2, 2]);
  }));

test('bad JS arguments are TypeErrors naming the operator and argument', () =>
  tidy(() => {
    const x = zeros([2, 3]);
    assert.throws(() => x.reshape([2.5]), { name: 'TypeError', message: "aten::reshape: expected an integer for argument 'shape'" });
    assert.throws(() => x.select(0, 1.5), { name: 'TypeError', message: "aten::select: expected an integer for argument 'index'" });
    assert.throws(() => x.select(0, 1e20), { name: 'TypeError', message: "aten::select: expected an integer for argument 'index'" });
    assert.throws(() => x.select(0, NaN), { name: 'TypeError' });
    assert.throws(() => x.add('a' as unknown as number), { name: 'TypeError', message: "aten::add: expected a number for argument 'other'" });
    assert.throws(() => x.sum('x' as unknown as number), { name: 'TypeError', message: "aten::sum: expected an array of integers for argument 'dim'" });
    assert.throws(() => x.sum(0, 1 as unknown as boolean), { name: 'TypeError', message: "aten::sum: expected a boolean for argument 'keepdim'" });
    assert.throws(() => callOp('aten::add.Tensor', 1, 2), { name: 'TypeError', message: "aten::add: expected a tensor for argument 'self'" });
    assert.throws(() => callOp('aten::cat', [x.handle, {}]), { name: 'TypeError', message: "aten::cat: expected a tensor for argument 'tensors'" });
    assert.throws(() => callOp('aten::neg', x.handle, 1), { name: 'TypeError', message: 'aten::neg: too many arguments (2 for 1)' });
    assert.throws(() => native.dispose({} as never), { name: 'TypeError' });
  }));

test('bad shapes and data for creation are TypeErrors or RangeErrors', () => {
  assert.throws(() => zeros([2, -1]), TypeError);
  assert.throws(() => zeros([2, 1.5]), TypeError);
  assert.throws(() => zeros('ab' as unknown as number[]), TypeError);
  assert.throws(() => tensor([[1, 2]] as unknown as number[]), /element 0 is an array/);
  assert.throws(() => tensor(['1'] as unknown as number[]), /element 0 is string/);
  assert.throws(() => tensor('abc' as unknown as number[]), TypeError);
  assert.throws(() => tensor(new Uint32Array([1]) as unknown as Int32Array), /Uint32Array has no matching tensor dtype/);
  assert.throws(() => tensor([1, 2, 3], [2, 2]), RangeError);
  assert.throws(() => zeros([2]).to('float128' as never), TypeError);
});

test('a disposed tensor cannot be used, whether through its methods or a raw handle', () => {
  const x = zeros([2]);
  const handle = x.handle;
  x.dispose();
  assert.throws(() => x.add(1), /tensor used after dispose\(\)/);
  assert.throws(() => callOp('aten::neg', handle), /aten::neg: tensor used after dispose\(\) for argument 'self'/);
  assert.deepEqual(tidy(() => zeros([1]).add(1).toArray()), [1]);
});
