// Linear reconstruction of removed input channels from the kept ones. A consumer convolution is linear in its
// input channels, so if every removed channel r is approximated by x_r ≈ Σ_k A[r, k]·x_k + b[r] (least squares
// over calibration pixels), its contribution W_r ∗ x_r moves into the kept weights (W_k += Σ_r W_r·A[r, k], the
// same at every kernel position) and a constant (Σ_r b[r]·ΣW_r). Channels of a trained network are strongly
// correlated, so much of what a removed channel carried survives; with A = 0 this is plain mean compensation, and
// the least-squares fit minimises the residual covariance, hence the output error for any consumer weights.

/** Statistics of a convolution's input channels over calibration pixels. */
export interface InputStatistics {
  mean: Float32Array;
  /** Channel covariance, C×C row-major; without it removed channels are replaced by their means. */
  covariance?: Float64Array;
}

export interface Reconstruction {
  /** R×K row-major: removed channel r ≈ Σ_k A[r, k]·kept channel k + b[r] */
  a: Float64Array;
  b: Float64Array;
}

/**
 * Ridge term relative to the kept channels' mean variance: keeps the system solvable when kept channels are
 * constant or duplicates, and is far below any real signal.
 */
const RIDGE = 1e-5;

/** The least-squares reconstruction of `removed` from `kept` (indices into the statistics' channels). */
export function reconstruct(stats: InputStatistics, kept: readonly number[], removed: readonly number[]): Reconstruction {
  const [k, r] = [kept.length, removed.length];
  const b = Float64Array.from(removed, (c) => stats.mean[c]!);
  const a = new Float64Array(r * k);
  const cov = stats.covariance;
  if (!cov || k === 0 || r === 0) return { a, b };
  const channels = stats.mean.length;
  const at = (i: number, j: number) => cov[i * channels + j]!;
  // Normal equations (Σ_kk + δI)·X = Σ_kr, solved by Cholesky; A = Xᵀ.
  let trace = 0;
  for (const c of kept) trace += at(c, c);
  const delta = RIDGE * (trace / k) + 1e-12;
  const lower = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = at(kept[i]!, kept[j]!) + (i === j ? delta : 0);
      for (let m = 0; m < j; m++) sum -= lower[i * k + m]! * lower[j * k + m]!;
      // With the ridge a pivot is at least δ; a smaller one is rounding in a channel that only repeats earlier
      // ones, which then takes no part (an infinite pivot zeroes its row and column of the solution).
      lower[i * k + j] = i === j ? (sum >= delta / 2 ? Math.sqrt(sum) : Infinity) : sum / lower[j * k + j]!;
    }
  }
  const column = new Float64Array(k);
  for (let row = 0; row < r; row++) {
    for (let i = 0; i < k; i++) {
      let sum = at(kept[i]!, removed[row]!);
      for (let m = 0; m < i; m++) sum -= lower[i * k + m]! * column[m]!;
      column[i] = sum / lower[i * k + i]!;
    }
    for (let i = k - 1; i >= 0; i--) {
      let sum = column[i]!;
      for (let m = i + 1; m < k; m++) sum -= lower[m * k + i]! * column[m]!;
      column[i] = sum / lower[i * k + i]!;
    }
    a.set(column, row * k);
    let offset = b[row]!;
    for (let i = 0; i < k; i++) offset -= column[i]! * stats.mean[kept[i]!]!;
    b[row] = offset;
  }
  return { a, b };
}
