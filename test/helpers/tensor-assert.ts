// Assertions on tensor values for the engine tests.
import assert from 'node:assert/strict';
import { Tensor } from '../../src/torch/index.js';

/** Asserts shape and values (row-major) within an absolute-plus-relative tolerance. */
export function assertTensor(actual: Tensor, shape: readonly number[], expected: readonly number[], tolerance = 1e-6): void {
  assert.deepEqual(actual.shape, [...shape], `shape [${actual.shape.join(', ')}] should be [${shape.join(', ')}]`);
  assertValues(actual.toArray(), expected, tolerance);
}

export function assertValues(actual: readonly number[], expected: readonly number[], tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length, `${actual.length} values, expected ${expected.length}`);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : Math.abs(a - e) <= tolerance * (1 + Math.abs(e));
    assert.ok(ok, `element ${i}: ${a} should be ${e} (tolerance ${tolerance})\n  actual   [${actual.join(', ')}]\n  expected [${expected.join(', ')}]`);
  });
}
