// Distillation for fine-tuning a pruned model: the original model's outputs on the same (augmented) images are
// soft targets. Every YOLOv5 output passes through a sigmoid (box offsets, objectness, classes), so each is matched
// as a Bernoulli probability with binary cross-entropy against the teacher's — whose gradient, σ(student) −
// σ(teacher), vanishes where the two agree.
import { F, noGrad, type Tensor } from '../torch/index.js';
import type { DetectionModel } from '../model/yolo.js';
import { number } from '../util/check.js';

export class OutputDistillation {
  /**
   * @param teacher the unpruned model (kept in eval mode: its BatchNorm statistics are not updated)
   * @param weight the term's gain; like YOLOv5's loss gains it multiplies a mean over outputs, and the term is
   *   scaled by the batch size as the detection loss is
   */
  constructor(
    private readonly teacher: DetectionModel,
    private readonly weight: number,
  ) {
    number('distillation weight', weight, { min: 0 });
    teacher.eval();
  }

  /** The term for one batch: images as trained on, the student's raw per-level outputs for them. */
  loss(images: Tensor, predictions: Tensor[]): Tensor {
    const targets = noGrad(() => this.teacher.forward(images).map((p) => p.sigmoid()));
    if (targets.length !== predictions.length || targets.some((t, i) => t.shape.join() !== predictions[i]!.shape.join())) {
      throw new Error(
        `distillation: the teacher's outputs [${targets.map((t) => t.shape.join('×')).join(', ')}] do not match the model's ` +
          `[${predictions.map((p) => p.shape.join('×')).join(', ')}] (same classes and anchors needed)`,
      );
    }
    let total: Tensor | null = null;
    predictions.forEach((p, level) => {
      const term = F.binaryCrossEntropyWithLogits(p, targets[level]!);
      total = total ? total.add(term) : term;
    });
    return total!.mul(this.weight * images.shape[0]! / predictions.length);
  }
}
