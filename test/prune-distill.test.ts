// Distillation from the original model during fine-tuning: no pull where the pruned model already agrees with the
// original, a pull where it does not, the teacher left untouched, and a clear error for an incompatible teacher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetectionModel } from '../src/model/yolo.js';
import { loadModelConfig } from '../src/model/config.js';
import { manualSeed, nn, noGrad, rand, tidy } from '../src/torch/index.js';
import { OutputDistillation } from '../src/prune/distill.js';

const model = (nc = 2) => new DetectionModel({ ...loadModelConfig('yolov5n'), nc });
const copyOf = (m: DetectionModel) => {
  const c = new DetectionModel(m.architecture());
  c.loadStateDict(m.stateDict());
  return c;
};
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

  const same = copyOf(teacher).eval(); // eval: the same BatchNorm statistics as the teacher
  const lossSame = tidy(() => {
    const loss = distill.loss(images, same.forward(images));
    loss.backward();
    return loss.item();
  });
  assert.ok(largestGradient(same) < 1e-6, `gradient ${largestGradient(same)} where the outputs agree`);

  const other = copyOf(teacher).eval();
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
