// First-order Taylor importance through the gates (Molchanov et al., 2019): removing channel c of a group changes
// the loss by about −Σ_members g·∂L/∂g, so its importance is that sum squared, accumulated over labelled batches.
// Unlike |g| it ranks channels even when the gates have not separated (all still near 1), and a gate driven to
// zero scores zero as before.
import { nn, noGrad, tidy, type Tensor } from '../torch/index.js';
import type { DetectionModel } from '../model/yolo.js';
import type { YoloLoss } from '../train/loss.js';
import type { DependencyGraph } from './dependency.js';
import type { Importance } from './plan.js';

export interface LabelledBatch {
  /** float32 [B, 3, H, W] in [0, 1]; disposed by the measurement */
  images: Tensor;
  /** [N, 6]: image in batch, class, cx, cy, w, h (normalised); disposed by the measurement */
  targets: Tensor;
}

/**
 * Taylor importance of every channel of every prunable group, over at least `maxImages` images. Only the gates
 * take gradients; BatchNorm uses its running statistics (the importance of the network as it will be deployed).
 * The model's parameters, gradients and modes are as before afterwards.
 */
export async function measureTaylorImportance(
  model: DetectionModel,
  graph: DependencyGraph,
  batches: AsyncIterable<LabelledBatch>,
  loss: YoloLoss,
  maxImages: number,
): Promise<Importance> {
  const groups = graph.groups.filter((g) => !g.fixed);
  const gates = groups.flatMap((g) =>
    g.members.map(({ name, conv }) => {
      if (!conv.gate) throw new Error(`${name} has no gate: Taylor importance is measured through the gates`);
      return conv.gate.weight;
    }),
  );
  const gateSet = new Set(gates);
  const frozen = model.parameters().filter((p) => !gateSet.has(p) && p.requiresGrad);
  const wasTraining = model.training;
  const scores = new Map(groups.map((g) => [g, new Float64Array(g.channels)]));
  frozen.forEach((p) => p.requiresGrad_(false));
  nn.trainWithFrozenBatchNorm(model); // training mode: raw per-level outputs for the loss
  let seen = 0;
  try {
    for await (const { images, targets } of batches) {
      try {
        tidy(() => loss.compute(model.forward(images), targets).loss.backward());
        noGrad(() =>
          tidy(() => {
            for (const group of groups) {
              const change = new Float64Array(group.channels);
              for (const { conv } of group.members) {
                const gate = conv.gate!.weight;
                (gate.mul(gate.grad!).data() as Float32Array).forEach((v, c) => (change[c]! += v));
                gate.grad = null;
              }
              const total = scores.get(group)!;
              change.forEach((v, c) => (total[c]! += v * v));
            }
          }),
        );
        seen += images.shape[0]!;
      } finally {
        images.dispose();
        targets.dispose();
      }
      if (seen >= maxImages) break;
    }
  } finally {
    frozen.forEach((p) => p.requiresGrad_(true));
    model.train(wasTraining);
  }
  if (seen === 0) throw new Error('Taylor importance needs at least one labelled batch');
  return new Map([...scores].map(([group, total]) => [group, Float32Array.from(total, (v) => v / seen)]));
}
