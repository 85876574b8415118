// The export's built-in check: the ONNX graph in ONNX Runtime against the libtorch forward on the same input.
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { noGrad, tensor, tidy } from '../torch/index.js';
import type { DetectionModel } from '../model/yolo.js';

/**
 * Element-wise bound |onnx − libtorch| ≤ ATOL + RTOL·|libtorch|. Box sizes reach hundreds of pixels and are
 * (2σ)²·anchor of a logit, so float32 accumulation noise between two convolution libraries (≈1e-6 relative in
 * the logits) shows up as up to ~1e-3 there; RTOL keeps such honest noise from failing an export.
 */
export const VERIFY_ATOL = 1e-3;
export const VERIFY_RTOL = 1e-5;

export interface VerifyCase {
  batch: number;
  height: number;
  width: number;
}

export interface VerifyResult extends VerifyCase {
  maxAbsDiff: number;
  /** Every element within the tolerance. */
  ok: boolean;
  /** The element closest to (or furthest past) its tolerance: output row (box) and column. */
  worst: { box: number; column: number; onnx: number; torch: number };
}

/** A deterministic input in [0, 1) (the reference outputs' pattern: x[n] = ((n·7919) mod 1000) / 1000). */
export function testPattern(count: number): Float32Array {
  return Float32Array.from({ length: count }, (_, n) => ((n * 7919) % 1000) / 1000);
}

/** Runs both runtimes on each case and reports the largest absolute difference of the decoded outputs. */
export async function compareWithTorch(onnx: Uint8Array, model: DetectionModel, cases: VerifyCase[]): Promise<VerifyResult[]> {
  const session = await InferenceSession.create(onnx, { graphOptimizationLevel: 'all' });
  const wasTraining = model.training;
  model.eval();
  try {
    const results: VerifyResult[] = [];
    for (const c of cases) {
      const dims = [c.batch, 3, c.height, c.width];
      const input = testPattern(dims.reduce((a, b) => a * b, 1));
      const { output0 } = await session.run({ images: new OrtTensor('float32', input, dims) });
      const ours = output0!.data as Float32Array;
      const reference = noGrad(() => tidy(() => model.infer(tensor(input, dims)).data() as Float32Array));
      if (ours.length !== reference.length) {
        throw new Error(`ONNX output has shape [${output0!.dims.join(', ')}], libtorch ${reference.length} values`);
      }
      let worst = 0;
      let worstRatio = 0;
      let maxAbsDiff = 0;
      for (let i = 0; i < ours.length; i++) {
        const d = Math.abs(ours[i]! - reference[i]!);
        // NaN compares false: it counts as infinitely far off.
        const ratio = d <= Infinity ? d / (VERIFY_ATOL + VERIFY_RTOL * Math.abs(reference[i]!)) : Infinity;
        if (!(d <= maxAbsDiff)) maxAbsDiff = d <= Infinity ? d : Infinity;
        if (ratio > worstRatio) {
          worstRatio = ratio;
          worst = i;
        }
      }
      const columns = model.detect.no;
      results.push({
        ...c,
        maxAbsDiff,
        ok: worstRatio <= 1,
        worst: { box: Math.floor(worst / columns), column: worst % columns, onnx: ours[worst]!, torch: reference[worst]! },
      });
    }
    return results;
  } finally {
    model.train(wasTraining);
    await session.release();
  }
}

/** The cases an export is checked on: its own input size, plus another size and batch when the axes are dynamic. */
export function verifyCases(height: number, width: number, batch: number, dynamic: boolean, sizeMultiple: number): VerifyCase[] {
  const cases = [{ batch: dynamic ? 1 : batch, height, width }];
  if (dynamic) cases.push({ batch: 2, height: sizeMultiple * 2, width: sizeMultiple * 3 });
  return cases;
}

export function describeVerify(r: VerifyResult): string {
  const where = `box ${r.worst.box} column ${r.worst.column}: ${r.worst.onnx} vs ${r.worst.torch}`;
  return (
    `input [${r.batch}, 3, ${r.height}, ${r.width}]: max |onnx - libtorch| = ${r.maxAbsDiff.toExponential(2)} ` +
    (r.ok ? `(within ${VERIFY_ATOL} + ${VERIFY_RTOL}·|value|)` : `MISMATCH beyond ${VERIFY_ATOL} + ${VERIFY_RTOL}·|value| at ${where}`)
  );
}
