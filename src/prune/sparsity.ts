// The sparsity penalty of sparsity training.
// Gate criterion: λ · Σ|g| over, per gate layer, the half of its coefficients with the smallest |g| (chosen anew
// every step), so that coefficients separate instead of shrinking together. Ties (all gates start at exactly 1)
// are broken by a measured importance, so the first penalised half is the least useful half, not the first indices.
// BN criterion (network slimming, for comparison): λ · Σ|γ| over all BatchNorm scales.
import { tensor, type Tensor } from '../torch/index.js';
import { number } from '../util/check.js';

export interface PenaltyTarget {
  name: string;
  /** The coefficients: a gate's weight or a BatchNorm's weight. */
  weight: Tensor;
  /** Tie-break importance per channel (higher = more important), e.g. mean |activation|. */
  importance?: Float32Array;
}

/** Importance scaled into [0, 1e-6): decides the order only among coefficients that are exactly equal. */
function tieBreaker(importance: Float32Array | undefined, channels: number): Tensor | null {
  if (!importance) return null;
  if (importance.length !== channels) throw new Error(`tie-break importance has ${importance.length} values for ${channels} channels`);
  const order = Array.from(importance.keys()).sort((a, b) => importance[a]! - importance[b]!);
  const rank = new Float32Array(channels);
  order.forEach((channel, r) => (rank[channel] = (r / channels) * 1e-6));
  return tensor(rank);
}

export interface SparsityTarget {
  /** Share of all coefficients wanted below `threshold`. */
  share: number;
  threshold: number;
}

export class SparsityPenalty {
  /** Current strength λ; the pipeline ramps and adapts it between steps and epochs. */
  lambda: number;
  /** While this target is met the penalty pauses (loss() gives null). */
  target?: SparsityTarget;
  private readonly layers: { target: PenaltyTarget; tie: Tensor | null; k: number }[];

  constructor(
    targets: PenaltyTarget[],
    lambda: number,
    readonly smallestHalf = true,
  ) {
    this.lambda = number('sparsity λ', lambda, { min: 0 });
    this.layers = targets.map((target) => {
      const channels = target.weight.numel;
      return { target, tie: tieBreaker(target.importance, channels), k: smallestHalf ? Math.floor(channels / 2) : channels };
    });
  }

  /** Indices of the coefficients penalised now, per layer (the k smallest |g|, ties broken by importance). */
  penalisedIndices(layer: number): Tensor {
    const { target, tie, k } = this.layers[layer]!;
    const key = target.weight.detach().abs();
    const ranked = tie ? key.add(tie) : key;
    return ranked.topk(k, 0, false).indices;
  }

  /** Whether the target (if any) is met now. */
  targetMet(): boolean {
    return this.target !== undefined && this.stats(this.target.threshold).below >= this.target.share;
  }

  /** λ · Σ over layers of Σ|coefficient| over the penalised indices; null while the target is met. Call inside tidy(). */
  loss(): Tensor | null {
    if (this.lambda === 0 || this.layers.length === 0 || this.targetMet()) return null;
    let total: Tensor | null = null;
    this.layers.forEach(({ target, k }, i) => {
      if (k === 0) return;
      const selected = this.smallestHalf ? target.weight.indexSelect(0, this.penalisedIndices(i)) : target.weight;
      const term = selected.abs().sum();
      total = total ? total.add(term) : term;
    });
    return total ? (total as Tensor).mul(this.lambda) : null;
  }

  /** Share of coefficients with |value| below `threshold`, and the mean |value|, over all layers. */
  stats(threshold: number): { below: number; meanAbs: number; count: number } {
    let below = 0;
    let sum = 0;
    let count = 0;
    for (const { target } of this.layers) {
      for (const v of target.weight.data() as Float32Array) {
        const a = Math.abs(v);
        if (a < threshold) below++;
        sum += a;
        count++;
      }
    }
    return { below: count ? below / count : 0, meanAbs: count ? sum / count : 0, count };
  }
}

/** What the λ controller sees at the end of a sparsity-training epoch. */
export interface EpochSparsity {
  lambda: number;
  /** Share of coefficients below the threshold now, and the share wanted. */
  below: number;
  target: number;
  /** This epoch's training loss (without the penalty), and the lowest of the round's epochs so far. */
  loss: number;
  bestLoss: number;
}

/**
 * How far the training loss may rise above its best of the round before λ backs off. A λ that keeps rising
 * until enough gates fall below the threshold can wreck a pretrained model within a few epochs on a small
 * dataset (yolov5n on COCO128: loss +7%, +14%, +37%, then mAP 0.18 → 0.03 → 0.0001 under λ 5e-3 and 7.6e-3).
 */
export const LOSS_TOLERANCE = 0.1;

/** λ for the next epoch: ×1.5 towards the target share, ÷1.5 past 1.2× the target or when the loss rose too far. */
export function nextLambda({ lambda, below, target, loss, bestLoss }: EpochSparsity): { lambda: number; backedOff: boolean } {
  if (loss > bestLoss * (1 + LOSS_TOLERANCE)) return { lambda: lambda / 1.5, backedOff: true };
  if (below < target) return { lambda: lambda * 1.5, backedOff: false };
  if (below > target * 1.2) return { lambda: lambda / 1.5, backedOff: false };
  return { lambda, backedOff: false };
}
