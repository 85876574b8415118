import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nn, noGrad, optim, tensor, tidy } from '../src/torch/index.js';
import { DetectionModel } from '../src/model/yolo.js';
import { loadModelConfig } from '../src/model/config.js';
import { Conv } from '../src/model/common.js';
import { loadHyp, scaleLossGains } from '../src/train/hyp.js';
import { clipGradNorm, createOptimizer, groupParameters, setOptimizerHyper } from '../src/train/optimizer.js';
import { optimizerStep } from '../src/train/step.js';
import { TrainingSchedule, interp, lrFactor, roundHalfEven } from '../src/train/schedule.js';
import { ModelEMA } from '../src/train/ema.js';
import { anchorFit, checkAnchors, evolveAnchors, labelSizes, modelAnchorPixels } from '../src/train/autoanchor.js';

const close = (actual: number, expected: number, tolerance = 1e-6, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what} ${actual} differs from ${expected}`);

const model = new DetectionModel(loadModelConfig('yolov5n'), { nc: 2 });

test('shipped hyp files load with their values; bad files name the file and the problem', () => {
  const low = loadHyp('hyp.scratch-low');
  assert.equal(low.lr0, 0.01);
  assert.equal(low.lrf, 0.01);
  assert.equal(low.label_smoothing, 0);
  assert.equal(loadHyp('scratch-med').mixup, 0.1);
  assert.equal(loadHyp('scratch-high').copy_paste, 0.1);
  const dir = mkdtempSync(join(tmpdir(), 'hyp-'));
  const bad = join(dir, 'bad.yaml');
  const lines = Object.entries(low).map(([k, v]) => `${k}: ${v}`);
  writeFileSync(bad, lines.map((line) => line.replace(/^momentum: .*/, 'momentum: fast')).join('\n'));
  assert.throws(() => loadHyp(bad), (e: Error) => e.message.includes(bad) && e.message.includes("'momentum'"));
  writeFileSync(bad, lines.filter((line) => !line.startsWith('box:')).join('\n'));
  assert.throws(() => loadHyp(bad), /missing hyperparameter 'box'/);
  writeFileSync(bad, lines.join('\n') + '\nlr_typo: 1\n');
  assert.throws(() => loadHyp(bad), /unknown hyperparameter 'lr_typo'/);
  assert.throws(() => loadHyp('no-such-hyp'), /not found/);
});

test('loss gains scale with levels, classes and image area as in YOLOv5', () => {
  const hyp = loadHyp();
  const same = scaleLossGains(hyp, { nl: 3, nc: 80, imgsz: 640 });
  assert.deepEqual([same.box, same.cls, same.obj], [hyp.box, hyp.cls, hyp.obj]);
  const scaled = scaleLossGains(hyp, { nl: 4, nc: 3, imgsz: 320 });
  close(scaled.box, hyp.box * 0.75);
  close(scaled.cls, hyp.cls * (3 / 80) * 0.75);
  close(scaled.obj, hyp.obj * 0.25 * 0.75);
});

test('parameters fall into bias, decayed-weight, undecayed-weight and gate groups; gates take no decay', () => {
  const copy = model.clone();
  const gated = [...copy.namedModules()].find(([, m]) => m instanceof Conv)!;
  (gated[1] as Conv).addGate();
  const groups = groupParameters(copy, (name) => name === 'model.24.m.0.weight');
  const modules = [...copy.namedModules()].map(([, m]) => m);
  const bn = modules.filter((m) => m instanceof nn.BatchNorm2d).length;
  const convs = modules.filter((m) => m instanceof nn.Conv2d).length;
  assert.equal(groups.noDecay.length, bn + 1, 'BatchNorm weights and the named head weight');
  assert.deepEqual(groups.names.gate, [`${gated[0]}.gate.weight`]);
  assert.equal(groups.decay.length, convs - 1);
  assert.equal(groups.bias.length, bn + 3, 'BatchNorm biases and the three head biases');
  assert.equal(groups.bias.length + groups.decay.length + groups.noDecay.length + groups.gate.length, copy.parameters().length);
  const sgd = createOptimizer('SGD', groups, { lr: 0.01, momentum: 0.937, weightDecay: 5e-4 });
  assert.deepEqual(sgd.paramGroups.map((g) => g.hyper.weightDecay), [0, 5e-4, 0, 0]);
  assert.ok(sgd instanceof optim.SGD && sgd.paramGroups.every((g) => g.hyper.nesterov));
  setOptimizerHyper(sgd, [0.1, 0.2, 0.3, 0.4], 0.8);
  assert.deepEqual(sgd.paramGroups.map((g) => [g.hyper.lr, g.hyper.momentum]), [[0.1, 0.8], [0.2, 0.8], [0.3, 0.8], [0.4, 0.8]]);
  assert.throws(() => setOptimizerHyper(sgd, [0.1, 0.2, 0.3], 0.8), /3 learning rates for 4 parameter groups/);
  const adam = createOptimizer('Adam', groups, { lr: 0.001, momentum: 0.9, weightDecay: 5e-4 });
  assert.ok(adam instanceof optim.Adam);
  assert.equal(adam.paramGroups[0]!.hyper.beta1, 0.9);
  const adamw = createOptimizer('AdamW', groups, { lr: 0.001, momentum: 0.9, weightDecay: 5e-4 });
  assert.ok(adamw instanceof optim.AdamW);
  assert.deepEqual(adamw.paramGroups.map((g) => [g.hyper.weightDecay, g.hyper.decoupled]), [[0, true], [5e-4, true], [0, true], [0, true]]);
});

test('gradient clipping scales the global norm down to max_norm and leaves small gradients alone', () => {
  tidy(() => {
    const a = tensor([3, 0], [2], { requiresGrad: true });
    const b = tensor([0, 4], [2], { requiresGrad: true });
    a.mul(tensor([3, 0])).sum().add(b.mul(tensor([0, 4])).sum()).backward();
    close(clipGradNorm([a, b], 1), 5, 1e-5, 'norm before');
    close(a.grad!.toArray()[0]!, 0.6, 1e-5);
    close(b.grad!.toArray()[1]!, 0.8, 1e-5);
    close(clipGradNorm([a, b], 10), 1, 1e-5, 'already small');
    close(b.grad!.toArray()[1]!, 0.8, 1e-5);
  });
});

test('an optimizer step clips each set on its own: a large weight gradient does not shrink the gates\' gradient', () => {
  const weight = tensor([0], [1], { requiresGrad: true });
  const gate = tensor([1], [1], { requiresGrad: true });
  weight.mul(tensor([50])).sum().add(gate.mul(tensor([0.5])).sum()).backward();
  const sgd = new optim.SGD([weight, gate], { lr: 1 });
  optimizerStep(sgd, [[weight], [gate]]);
  close(weight.toArray()[0]!, -10, 1e-4, 'weight gradient 50 clipped to norm 10');
  close(gate.toArray()[0]!, 0.5, 1e-6, 'gate gradient 0.5 applied in full');
});

test('learning-rate factors, interpolation and rounding follow the reference recipe', () => {
  const linear = lrFactor('linear', 0.01, 10);
  close(linear(0), 1);
  close(linear(5), 0.505);
  close(linear(10), 0.01);
  const cosine = lrFactor('cosine', 0.1, 10);
  close(cosine(0), 1);
  close(cosine(5), 0.55);
  close(cosine(10), 0.1);
  assert.equal(interp(-1, [0, 10], [2, 4]), 2);
  assert.equal(interp(5, [0, 10], [2, 4]), 3);
  assert.equal(interp(11, [0, 10], [2, 4]), 4);
  assert.deepEqual([0.5, 1.5, 2.5, 3.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, 4, 2, 3]);
});

test('warmup ramps learning rates, momentum and accumulation; afterwards the per-epoch schedule applies', () => {
  const hyp = loadHyp();
  const schedule = new TrainingSchedule(hyp, { epochs: 10, batchesPerEpoch: 8, batchSize: 16, cosine: false });
  assert.equal(schedule.warmupIterations, 100, 'max(round(3 epochs × 8), 100)');
  assert.equal(schedule.accumulate, 4);
  close(schedule.weightDecay(5e-4), 5e-4);
  const first = schedule.at(0, 0);
  assert.deepEqual(first.lr, [0.1, 0, 0]);
  assert.equal(first.momentum, 0.8);
  assert.equal(first.accumulate, 1);
  const mid = schedule.at(6, 2); // iteration 50, epoch factor 1 − 0.6·0.99
  const target = 0.01 * (1 - 0.6 * 0.99);
  close(mid.lr[0], 0.1 + 0.5 * (target - 0.1));
  close(mid.lr[1], 0.5 * target);
  close(mid.momentum, 0.8 + 0.5 * 0.137);
  assert.equal(mid.accumulate, 2, 'round half to even of 2.5');
  const after = new TrainingSchedule(hyp, { epochs: 300, batchesPerEpoch: 100, batchSize: 24, cosine: true }).at(5, 10);
  const factor = lrFactor('cosine', hyp.lrf, 300)(5);
  after.lr.forEach((lr) => close(lr, 0.01 * factor));
  assert.equal(after.momentum, hyp.momentum);
  assert.equal(after.accumulate, 3);
  close(new TrainingSchedule(hyp, { epochs: 1, batchesPerEpoch: 1, batchSize: 24, cosine: false }).weightDecay(5e-4), (5e-4 * 72) / 64);
  assert.equal(first.gateLr, first.lr[2], 'without their own rate the gates follow the weights, warmup included');
});

test("the gates' own learning rate skips warmup and decays with the epoch factor", () => {
  const schedule = new TrainingSchedule(loadHyp(), { epochs: 10, batchesPerEpoch: 8, batchSize: 16, cosine: false, gateLr: 0.05 });
  close(schedule.at(0, 0).gateLr, 0.05);
  assert.equal(schedule.at(0, 0).lr[1], 0, 'the weights still warm up');
  close(schedule.at(6, 2).gateLr, 0.05 * (1 - 0.6 * 0.99));
});

test('the warmup floor of 100 iterations can be lowered for small datasets', () => {
  const options = { epochs: 10, batchesPerEpoch: 8, batchSize: 16, cosine: false };
  assert.equal(new TrainingSchedule(loadHyp(), { ...options, minWarmupIterations: 0 }).warmupIterations, 24, '3 epochs of 8 batches');
  const schedule = new TrainingSchedule(loadHyp(), { ...options, minWarmupIterations: 0 });
  close(schedule.at(3, 1).lr[1], 0.01 * lrFactor('linear', 0.01, 10)(3), 1e-12, 'past the warmup at iteration 25');
});

test('EMA moves weights and BatchNorm statistics with the ramped decay and copies integer buffers', () => {
  const trained = model.clone();
  const ema = new ModelEMA(trained);
  assert.ok(ema.ema.parameters().every((p) => !p.requiresGrad));
  close(ema.decay(2000), 0.9999 * (1 - Math.exp(-1)), 1e-12);
  const name = 'model.24.m.0.weight';
  const start = ema.ema.stateDict().get(name)!.toArray()[0]!;
  noGrad(() => {
    trained.stateDict().get(name)!.add_(1);
    trained.stateDict().get('model.0.bn.running_mean')!.fill_(2);
    trained.stateDict().get('model.0.bn.num_batches_tracked')!.fill_(7);
  });
  ema.update(trained);
  const d = ema.decay(1);
  close(ema.ema.stateDict().get(name)!.toArray()[0]!, d * start + (1 - d) * (start + 1), 1e-5, 'weight');
  close(ema.ema.stateDict().get('model.0.bn.running_mean')!.toArray()[0]!, (1 - d) * 2, 1e-5, 'running mean');
  assert.equal(ema.ema.stateDict().get('model.0.bn.num_batches_tracked')!.item(), 7);
  assert.equal(ema.updates, 1);
});

test('clone() copies architecture, gates and weights into independent tensors', () => {
  const source = model.clone();
  ([...source.namedModules()].find(([name]) => name === 'model.2.cv1')![1] as Conv).addGate();
  const copy = source.clone();
  assert.ok((new Map(copy.namedModules()).get('model.2.cv1') as Conv).gate !== null);
  const [a, b] = [source.stateDict().get('model.0.conv.weight')!, copy.stateDict().get('model.0.conv.weight')!];
  assert.deepEqual(a.toArray(), b.toArray());
  noGrad(() => b.add_(1));
  assert.notDeepEqual(a.toArray().slice(0, 3), b.toArray().slice(0, 3));
});

test('anchor fit counts recall and anchors past the ratio threshold', () => {
  // Labels 10×10 and 100×10; anchors 10×10 and 40×40; threshold 1/4.
  const wh = Float32Array.from([10, 10, 100, 10]);
  const fit = anchorFit(wh, [10, 10, 40, 40], 4);
  // label 1: ratios 1 and 0.25 (not past) → 1 anchor; label 2: min(10/100…)=0.1 and min(40/100, 10/40)=0.25 → none.
  assert.equal(fit.bpr, 0.5);
  assert.equal(fit.anchorsPerTarget, 0.5);
  close(fit.fitness, 0.5);
  const sizes = labelSizes([{ width: 1280, height: 640, labels: Float32Array.from([0, 0.5, 0.5, 0.1, 0.2]) }], 640);
  assert.deepEqual(Array.from(sizes), [64, 64]);
});

test('evolved anchors recall clustered label sizes; AutoAnchor replaces poor anchors in stride units', () => {
  const clusters = [[8, 10], [30, 20], [60, 90], [120, 100], [200, 300], [400, 350]];
  const images = Array.from({ length: 60 }, (_, i) => {
    const [w, h] = clusters[i % clusters.length]!;
    const jitter = 1 + ((i * 7) % 11) / 50;
    return { width: 640, height: 640, labels: Float32Array.from([0, 0.5, 0.5, (w! * jitter) / 640, (h! * jitter) / 640]) };
  });
  const evolved = evolveAnchors(labelSizes(images, 640), { n: 9, anchorT: 4, generations: 300, seed: 1 });
  assert.equal(evolved.length, 18);
  assert.equal(anchorFit(labelSizes(images, 640), evolved, 4).bpr, 1);

  const fresh = model.clone();
  const good = checkAnchors(fresh, images, { imgsz: 640, anchorT: 4, generations: 100 });
  assert.equal(good.replaced, false, good.message);
  assert.match(good.message, /Best Possible Recall/);
  // Anchors far too large for the labels: recall collapses and AutoAnchor must replace them.
  noGrad(() => fresh.detect.anchors.mul_(20));
  const poor = checkAnchors(fresh, images, { imgsz: 640, anchorT: 4, generations: 300 });
  assert.ok(poor.before.bpr < 0.98 && poor.replaced && poor.after!.bpr > 0.98, poor.message);
  const pixels = modelAnchorPixels(fresh);
  poor.anchors.flat().forEach((v, i) => close(pixels[i]!, v, 1e-3, `anchor ${i}`));
  const areas = poor.anchors.map((level) => level[0]! * level[1]!);
  assert.ok(areas[0]! <= areas[1]! && areas[1]! <= areas[2]!, 'small anchors on the fine level');
});
