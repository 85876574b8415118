// Distillation during fine-tuning, from the original model's outputs and from the parent's features: no pull where
// the pruned model already agrees with its teacher, a pull where it does not, the teacher left untouched, and a
// clear error for an incompatible teacher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetectionModel } from '../src/model/yolo.js';
import { loadModelConfig } from '../src/model/config.js';
import { manualSeed, nn, noGrad, rand, tensor, tidy, type Tensor } from '../src/torch/index.js';
import { FeatureDistillation, OutputDistillation } from '../src/prune/distill.js';
import { insertGates } from '../src/prune/gates.js';
import { analyzeDependencies } from '../src/prune/dependency.js';
import { groupImportance, keptLayerChannels, planByThreshold } from '../src/prune/plan.js';
import { applyPlan } from '../src/prune/surgery.js';

const model = (nc = 2) => new DetectionModel({ ...loadModelConfig('yolov5n'), nc });
const largestGradient = (m: DetectionModel) =>
  Math.max(...m.parameters().map((p) => tidy(() => p.grad?.abs().max().item() ?? 0)));
const runningMeans = (m: DetectionModel) =>
  [...m.namedModules()].flatMap(([, x]) => (x instanceof nn.BatchNorm2d ? x.runningMean.toArray() : [])) as number[];

test('distillation: no gradient where the model matches the original, a gradient and a larger loss where it does not', () => {
  manualSeed(4);
  const teacher = model();
  const images = rand([2, 3, 64, 64]);
  const statsBefore = runningMeans(teacher);
  const distill = new OutputDistillation(teacher, 1);

  const same = teacher.clone().eval(); // eval: the same BatchNorm statistics as the teacher
  const lossSame = tidy(() => {
    const loss = distill.loss(images, same.forward(images));
    loss.backward();
    return loss.item();
  });
  assert.ok(largestGradient(same) < 1e-6, `gradient ${largestGradient(same)} where the outputs agree`);

  const other = teacher.clone().eval();
  noGrad(() => other.parameters().forEach((p) => p.add_(rand(p.shape).sub(0.5).mul(0.05))));
  const lossOther = tidy(() => {
    const loss = distill.loss(images, other.forward(images));
    loss.backward();
    return loss.item();
  });
  assert.ok(lossOther > lossSame, `loss ${lossOther} of a different model vs ${lossSame} of an identical one`);
  assert.ok(largestGradient(other) > 1e-4);
  assert.deepEqual(runningMeans(teacher), statsBefore, 'the teacher is not trained');
  assert.equal(teacher.training, false);
});

test('distillation from a teacher with other outputs fails clearly', () => {
  const distill = new OutputDistillation(model(3), 1);
  const student = model(2);
  const images = rand([1, 3, 64, 64]);
  assert.throws(() => tidy(() => distill.loss(images, student.forward(images))), /teacher's outputs .* do not match the model's/);
  assert.throws(() => new OutputDistillation(model(), -1), /weight must be a number ≥ 0/);
});

/** A gated yolov5n whose every third channel of every prunable layer has a gate of exactly 0, and the model without them. */
function prunedAtZeroGates() {
  manualSeed(5);
  const parent = model();
  const gates = insertGates(parent);
  noGrad(() => gates.forEach(({ gate }) => gate.weight.copy_(tensor(Float32Array.from({ length: gate.weight.shape[0]! }, (_, i) => (i % 3 ? 0.5 + i / 1000 : 0)), [gate.weight.shape[0]!]))));
  const graph = analyzeDependencies(parent);
  const plan = planByThreshold(groupImportance(graph, 'gate'), 1e-9, { minChannels: 1 });
  return { parent: parent.eval(), student: applyPlan(parent, graph, plan).eval(), kept: keptLayerChannels(graph, plan) };
}

const featureLoss = (distill: FeatureDistillation, student: DetectionModel, images: Tensor) =>
  tidy(() => {
    const tap = { layers: distill.layers, outputs: new Map<number, Tensor>() };
    student.forward(images, tap);
    const loss = distill.loss(images, tap.outputs);
    loss.backward();
    return loss.item();
  });

test('feature distillation: each layer of the pruned model matches its kept channels of the parent, with a pull where it does not', () => {
  const { parent, student, kept } = prunedAtZeroGates();
  const layer4 = kept.get(4)!;
  assert.ok(layer4.length < parent.layers[4]!.outChannels && layer4.length === student.layers[4]!.outChannels, 'layer 4 lost channels');
  assert.ok(kept.get(12)!.length === student.layers[12]!.outChannels, 'a Concat layer maps every channel it carries');
  assert.ok(!kept.has(24), "Detect's outputs are not features");
  const images = rand([2, 3, 64, 64]);
  const distill = new FeatureDistillation(parent, kept, 1);
  const same = featureLoss(distill, student, images);
  assert.ok(same < 1e-8, `loss ${same}: removing zero-gated channels changes no kept channel`);
  assert.ok(largestGradient(student) < 1e-5, `gradient ${largestGradient(student)} where the features agree`);

  const other = student.clone().eval();
  noGrad(() => other.parameters().forEach((p) => p.add_(rand(p.shape).sub(0.5).mul(0.05))));
  const full = featureLoss(distill, other, images);
  assert.ok(full > 1e-4);
  const half = tidy(() => {
    const tap = { layers: distill.layers, outputs: new Map<number, Tensor>() };
    other.forward(images, tap);
    return distill.loss(images, tap.outputs, 0.5).item();
  });
  assert.ok(Math.abs(half / full - 0.5) < 1e-4, `half the gain: ${half} of ${full}`);
  assert.ok(largestGradient(other) > 1e-4);
  distill.dispose();
});

test('feature distillation with channels of another plan fails clearly', () => {
  const { parent, kept } = prunedAtZeroGates();
  const distill = new FeatureDistillation(parent, kept, 1);
  const unpruned = parent.clone().eval();
  assert.throws(() => featureLoss(distill, unpruned, rand([1, 3, 64, 64])), /feature distillation: layer \d+ of the pruned model is \[.*\], its kept channels of the parent \[.*\]/);
  distill.dispose();
});
