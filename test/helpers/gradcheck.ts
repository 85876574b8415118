// Gradient checking: autograd's gradients against central finite differences, in float64.
import assert from 'node:assert/strict';
import { Tensor, noGrad, tensor, tidy } from '../../src/torch/index.js';

export interface GradcheckOptions {
  /** Indices of the inputs to check (default: every float64 input). */
  wrt?: readonly number[];
  eps?: number;
  atol?: number;
  rtol?: number;
}

/** Fixed, uneven output weights, so that gradients which happen to cancel under a plain sum still get checked. */
function outputWeights(shape: readonly number[]): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: count }, (_, k) => 0.5 + ((k * 0.6180339887498949) % 1));
  return tensor(values, shape, { dtype: 'float64' });
}

function weightedSum(y: Tensor, weights: Tensor): Tensor {
  return y.to('float64').mul(weights).sum();
}

/**
 * Checks d(sum(w ⊙ fn(inputs)))/d(input) from backward() against central differences for every element of every
 * checked input. Inputs that are not checked (index tensors, masks, targets) are passed through unchanged.
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[], options: GradcheckOptions = {}): void {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-4 } = options;
  const wrt = options.wrt ?? inputs.flatMap((x, i) => (x.dtype === 'float64' ? [i] : []));
  assert.ok(wrt.length > 0, 'gradcheck: nothing to differentiate (pass float64 inputs)');
  for (const i of wrt) assert.equal(inputs[i]!.dtype, 'float64', `gradcheck: input ${i} must be float64`);

  tidy(() => {
    const leaves = inputs.map((x, i) => (wrt.includes(i) ? x.detach().requiresGrad_(true) : x));
    const output = fn(...leaves);
    const weights = outputWeights(output.shape);
    weightedSum(output, weights).backward();

    for (const i of wrt) {
      const leaf = leaves[i]!;
      const analytic = leaf.grad?.toArray() ?? new Array<number>(leaf.numel).fill(0);
      const base = Float64Array.from(inputs[i]!.toArray());
      const numeric = noGrad(() =>
        Array.from(base, (_, j) => {
          const at = (delta: number): number =>
            tidy(() => {
              const shifted = Float64Array.from(base);
              shifted[j] += delta;
              const args = inputs.map((x, k) => (k === i ? tensor(shifted, x.shape, { dtype: 'float64' }) : x));
              return weightedSum(fn(...args), weights).item();
            });
          return (at(eps) - at(-eps)) / (2 * eps);
        }),
      );
      analytic.forEach((a, j) => {
        const n = numeric[j]!;
        assert.ok(
          Math.abs(a - n) <= atol + rtol * Math.abs(n),
          `gradient of input ${i} at element ${j}: autograd ${a}, finite differences ${n}\n` +
            `  autograd [${analytic.map((v) => v.toPrecision(6)).join(', ')}]\n` +
            `  numeric  [${numeric.map((v) => v.toPrecision(6)).join(', ')}]`,
        );
      });
    }
  });
}
