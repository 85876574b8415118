// Distillation for a pruned model. OutputDistillation: the original model's outputs on the same (augmented) images are
// soft targets. Every YOLOv5 output passes through a sigmoid (box offsets, objectness, classes), so each is matched
// as a Bernoulli probability with binary cross-entropy against the teacher's — whose gradient, σ(student) −
// σ(teacher), vanishes where the two agree.
import { F, keep, noGrad, tensor, type Tensor } from '../torch/index.js';
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

/**
 * Feature distillation for fine-tuning a pruned model. Every channel the pruned model kept is a channel of the
 * model it was pruned from (its parent), and right after the pruning step it still computes nearly the same thing:
 * so each layer's output is matched to the parent's same channels on the same images. That is a target for every
 * feature map, far denser than the outputs alone, and it starts where the least-squares reconstruction left off.
 */
export class FeatureDistillation {
  /** The student's layers whose outputs the term reads. */
  readonly layers: ReadonlySet<number>;
  private readonly kept: Map<number, Tensor>;

  /**
   * @param parent the model the student was pruned from, gates included (kept in eval mode)
   * @param kept per layer, the parent's channel behind each of the student's (see keptLayerChannels)
   * @param weight the term's gain: it multiplies the mean over layers of each layer's squared error relative to the
   *   parent's mean square (so every layer counts alike whatever its scale), scaled by the batch size as the
   *   detection loss is
   */
  constructor(
    private readonly parent: DetectionModel,
    kept: ReadonlyMap<number, readonly number[]>,
    private readonly weight: number,
  ) {
    number('feature distillation weight', weight, { min: 0 });
    parent.eval();
    this.layers = new Set(kept.keys());
    this.kept = new Map([...kept].map(([layer, channels]) => [layer, keep(tensor([...channels], [channels.length], { dtype: 'int64' }))]));
  }

  /**
   * The term for one batch: images as trained on, the student's outputs of `layers` for them, and the share of the
   * gain that applies now.
   */
  loss(images: Tensor, features: ReadonlyMap<number, Tensor>, share = 1): Tensor {
    const tap = { layers: this.layers, outputs: new Map<number, Tensor>() };
    noGrad(() => this.parent.forward(images, tap));
    let total: Tensor | null = null;
    for (const [layer, channels] of this.kept) {
      const student = features.get(layer);
      const target = noGrad(() => tap.outputs.get(layer)!.indexSelect(1, channels));
      if (!student || student.shape.join() !== target.shape.join()) {
        throw new Error(
          `feature distillation: layer ${layer} of the pruned model is [${student?.shape.join('×') ?? 'missing'}], ` +
            `its kept channels of the parent [${target.shape.join('×')}]`,
        );
      }
      const scale = noGrad(() => target.square().mean().item()) + 1e-6;
      const term = F.mseLoss(student, target).div(scale);
      total = total ? total.add(term) : term;
    }
    return total!.mul((share * this.weight * images.shape[0]!) / this.kept.size);
  }

  dispose(): void {
    for (const channels of this.kept.values()) channels.dispose();
    this.kept.clear();
  }
}
