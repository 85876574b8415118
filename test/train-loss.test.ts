import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors, manualSeed, optim, rand, tensor, tidy, type Tensor } from '../src/torch/index.js';
import { DetectionModel } from '../src/model/yolo.js';
import { loadModelConfig } from '../src/model/config.js';
import { YoloLoss, bboxCiou, buildTargets, objectnessBalance, smoothBce } from '../src/train/loss.js';
import { loadHyp, scaleLossGains } from '../src/train/hyp.js';

const close = (actual: number, expected: number, tolerance = 1e-5, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what} ${actual} differs from ${expected}`);

test('CIoU matches hand-computed values', () => {
  tidy(() => {
    // Pair 1: two 2×2 squares one unit apart: IoU = 2/6, enclosing box 3×2 (diagonal² 13), centre distance² 1,
    // same aspect ratio so v = 0 → CIoU = 1/3 − 1/13.
    // Pair 2: 2×1 and 1×2 boxes on the same centre: IoU = 1/3, no distance term,
    // v = 4/π²·(atan 2 − atan 0.5)², alpha = v / (v − IoU + 1) → CIoU = 1/3 − v·alpha.
    // Pair 3: identical boxes → 1.
    const a = tensor([0, 0, 2, 2, 0, 0, 2, 1, 5, 5, 3, 4], [3, 4]);
    const b = tensor([1, 0, 2, 2, 0, 0, 1, 2, 5, 5, 3, 4], [3, 4]);
    const [c1, c2, c3] = bboxCiou(a, b).toArray() as [number, number, number];
    close(c1, 1 / 3 - 1 / 13, 1e-5, 'pair 1');
    const v = (4 / Math.PI ** 2) * (Math.atan(2) - Math.atan(0.5)) ** 2;
    close(c2, 1 / 3 - v * (v / (v - 1 / 3 + 1)), 1e-5, 'pair 2');
    close(c3, 1, 1e-5, 'pair 3');
  });
});

test('CIoU gradient treats the aspect weight alpha as a constant', () => {
  tidy(() => {
    const pred = tensor([0, 0, 2, 1], [1, 4], { requiresGrad: true });
    const target = tensor([0, 0, 1, 2], [1, 4]);
    bboxCiou(pred, target).sum().backward();
    const grad = pred.grad!.toArray();
    // d/dw of (inter/union − v·alpha) at w=2,h=1 with alpha fixed: the IoU part is −inter·h/union² = −1/9,
    // the v part: −alpha·dv/dw, dv/dw = 8/π²·(atan(w/h) − atan(0.5))·(1/h)/(1 + (w/h)²).
    const v = (4 / Math.PI ** 2) * (Math.atan(2) - Math.atan(0.5)) ** 2;
    const alpha = v / (v - 1 / 3 + 1);
    const dv = (8 / Math.PI ** 2) * (Math.atan(2) - Math.atan(0.5)) * (1 / (1 + 4));
    close(grad[2]!, -1 / 9 - alpha * dv, 1e-5, 'dCIoU/dw');
  });
});

test('buildTargets matches anchors by shape ratio and adds the two nearest neighbouring cells', () => {
  tidy(() => {
    // One level, 8×8 grid, three anchors (grid units); only the 2×2 anchor is within ratio 4 of a 2×2 target.
    const anchors = tensor([0.4, 0.4, 2, 2, 9, 9], [1, 3, 2]);
    const targets = tensor(
      [
        0, 1, 0.3, 0.7, 0.25, 0.25, // centre (2.4, 5.6): near the left and bottom edges of cell (2, 5)
        1, 0, 0.05, 0.95, 0.25, 0.25, // centre (0.4, 7.6): at the grid border, no neighbours inside
      ],
      [2, 6],
    );
    const [level] = buildTargets(targets, anchors, [[8, 8]], 4.0);
    const l = level!;
    assert.deepEqual(l.image.toArray(), [0, 1, 0, 0]);
    assert.deepEqual(l.anchor.toArray(), [1, 1, 1, 1]);
    assert.deepEqual(l.cls.toArray(), [1, 0, 1, 1]);
    // both own cells first, then the first target's left neighbour, then its lower neighbour
    assert.deepEqual(l.gi.toArray(), [2, 0, 1, 2]);
    assert.deepEqual(l.gj.toArray(), [5, 7, 5, 6]);
    const box = l.box.toArray();
    const expected = [0.4, 0.6, 2, 2, 0.4, 0.6, 2, 2, 1.4, 0.6, 2, 2, 0.4, -0.4, 2, 2];
    expected.forEach((value, i) => close(box[i]!, value, 1e-5, `box[${i}]`));
    assert.deepEqual(l.anchorWh.toArray(), [2, 2, 2, 2, 2, 2, 2, 2]);
  });
});

test('buildTargets with no targets gives empty assignments on every level', () => {
  tidy(() => {
    const anchors = tensor([1, 1, 2, 2, 3, 3, 4, 4], [2, 2, 2]);
    const levels = buildTargets(tensor([], [0, 6]), anchors, [[8, 8], [4, 4]], 4.0);
    assert.equal(levels.length, 2);
    for (const l of levels) {
      assert.equal(l.image.shape[0], 0);
      assert.deepEqual(l.box.shape, [0, 4]);
    }
  });
});

test('objectness balance and label smoothing follow YOLOv5', () => {
  assert.deepEqual(objectnessBalance(3), [4.0, 1.0, 0.4]);
  assert.deepEqual(objectnessBalance(5), [4.0, 1.0, 0.25, 0.06, 0.02]);
  assert.deepEqual(smoothBce(0), { cp: 1, cn: 0 });
  assert.deepEqual(smoothBce(0.1), { cp: 0.95, cn: 0.05 });
});

function tinyModel(nc: number): DetectionModel {
  manualSeed(0);
  return new DetectionModel(loadModelConfig('yolov5n'), { nc });
}

/** Random images with two boxes each; batch 8 keeps BatchNorm's batch statistics steady enough to optimise. */
function fixedBatch(batch = 8): { images: Tensor; targets: Tensor } {
  manualSeed(1);
  const images = rand([batch, 3, 64, 64]);
  const rows: number[] = [];
  for (let b = 0; b < batch; b++) rows.push(b, b % 3, 0.3 + 0.05 * b, 0.4, 0.2, 0.3, b, (b + 1) % 3, 0.7, 0.6 - 0.03 * b, 0.4, 0.3);
  return { images, targets: tensor(rows, [2 * batch, 6]) };
}

test('the loss has three finite positive parts, scales with batch size, and its gradient reaches the head', () => {
  const model = tinyModel(3);
  const hyp = scaleLossGains(loadHyp(), { nl: 3, nc: 3, imgsz: 64 });
  const loss = new YoloLoss(model, hyp);
  tidy(() => {
    const { images, targets } = fixedBatch(2);
    const { loss: total, items } = loss.compute(model.forward(images), targets.narrow(0, 0, 4));
    items.forEach((v) => assert.ok(Number.isFinite(v) && v > 0, `loss part ${v}`));
    close(total.item(), (items[0] + items[1] + items[2]) * 2, 1e-4, 'total');
    total.backward();
    for (const head of model.detect.heads) assert.ok(head.weight.grad!.abs().sum().item() > 0);
  });
  model.zeroGrad();
});

test('the loss decreases when optimised on a fixed batch, and focal loss and smoothing also work', () => {
  for (const variant of [{ fl_gamma: 0, label_smoothing: 0 }, { fl_gamma: 1.5, label_smoothing: 0.1 }]) {
    const model = tinyModel(3);
    const hyp = { ...scaleLossGains(loadHyp(), { nl: 3, nc: 3, imgsz: 64 }), ...variant };
    const loss = new YoloLoss(model, hyp);
    const optimizer = new optim.Adam(model.parameters(), { lr: 0.001 });
    const { images, targets } = fixedBatch();
    const losses: number[] = [];
    let afterFirstStep = 0;
    for (let step = 0; step < 6; step++) {
      tidy(() => {
        optimizer.zeroGrad();
        const { loss: total } = loss.compute(model.forward(images), targets);
        total.backward();
        losses.push(total.item());
        optimizer.step();
      });
      if (step === 0) afterFirstStep = liveTensors();
    }
    assert.equal(liveTensors(), afterFirstStep, 'once the optimizer state exists, steps leave no tensors behind');
    assert.ok(losses.at(-1)! < 0.9 * losses[0]!, `${JSON.stringify(variant)}: loss ${losses[0]} → ${losses.at(-1)}`);
    assert.ok(losses.every((l, i) => i === 0 || l < losses[i - 1]! * 1.02), `${JSON.stringify(variant)}: steady descent ${losses.join(' ')}`);
    images.dispose();
    targets.dispose();
  }
});
