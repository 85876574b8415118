// One training step, shared by the trainer and the throughput benchmark: forward, loss, backward (gradients
// accumulate across calls), and the optimizer update with gradient clipping and the EMA.
import { tidy, type Tensor } from '../torch/index.js';
import type { DetectionModel } from '../model/yolo.js';
import type { YoloLoss } from './loss.js';
import type { ModelEMA } from './ema.js';
import { clipGradNorm, type TrainOptimizer } from './optimizer.js';

/** Gradients are clipped to this global norm before each optimizer step. */
export const MAX_GRAD_NORM = 10;

/**
 * A term added to a batch's loss, given the batch's images, the model's raw outputs on them and the outputs of the
 * `layers` it reads; null adds nothing.
 */
export interface ExtraLoss {
  layers?: ReadonlySet<number>;
  term(images: Tensor, predictions: Tensor[], features: ReadonlyMap<number, Tensor>): Tensor | null;
}

/**
 * Forward and backward for one batch; `extra` may add a term to the loss, and the gradients are of the loss times
 * `scale` (the number of processes, whose average of gradients divides it again).
 * Returns the batch's loss parts [box, obj, cls]; every temporary tensor is freed.
 */
export function forwardBackward(
  model: DetectionModel,
  loss: YoloLoss,
  images: Tensor,
  targets: Tensor,
  extra?: ExtraLoss,
  scale = 1,
): [number, number, number] {
  return tidy(() => {
    const tap = { layers: extra?.layers ?? new Set<number>(), outputs: new Map<number, Tensor>() };
    const predictions = model.forward(images, tap);
    const { loss: total, items } = loss.compute(predictions, targets);
    const added = extra?.term(images, predictions, tap.outputs) ?? null;
    const sum = added ? total.add(added) : total;
    (scale === 1 ? sum : sum.mul(scale)).backward();
    return items;
  });
}

/**
 * Applies the accumulated gradients: clip, step, clear, and move the EMA. Each set of `clipSets` is clipped on
 * its own — the gates apart from the weights, so a large task gradient elsewhere never scales the sparsity
 * penalty's pull on the gates away.
 */
export function optimizerStep(optimizer: TrainOptimizer, clipSets: readonly (readonly Tensor[])[], ema?: ModelEMA, model?: DetectionModel): void {
  for (const set of clipSets) clipGradNorm(set, MAX_GRAD_NORM);
  optimizer.step();
  optimizer.zeroGrad();
  if (ema && model) ema.update(model);
}
