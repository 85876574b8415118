import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DetectionModel } from '../src/model/yolo.js';
import { loadModelConfig } from '../src/model/config.js';
import { gflops, latencyCost } from '../src/model/summary.js';
import { Conv } from '../src/model/common.js';
import { loadModel, saveCheckpoint } from '../src/checkpoint/index.js';
import { manualSeed, nn, noGrad, rand, tensor, tidy, type Tensor } from '../src/torch/index.js';
import { analyzeDependencies } from '../src/prune/dependency.js';
import { insertGates } from '../src/prune/gates.js';
import { convChannels } from '../src/prune/round.js';
import { groupImportance, planByBudget, planByRatio, planByThreshold } from '../src/prune/plan.js';
import { applyPlan } from '../src/prune/surgery.js';
import { measureInputStatistics } from '../src/prune/calibrate.js';
import { reconstruct } from '../src/prune/reconstruct.js';
import { LOSS_TOLERANCE, nextLambda, SparsityPenalty } from '../src/prune/sparsity.js';
import { exportOnnx, compareWithTorch } from '../src/export/index.js';

const customConfig = () => loadModelConfig(join(process.cwd(), 'test', 'fixtures', 'custom-topology.yaml'));

/** Random BatchNorm statistics and affine parameters, so that BN is not the identity in tests. */
function randomizeBatchNorm(model: DetectionModel): void {
  noGrad(() => {
    for (const [, m] of model.namedModules()) {
      if (!(m instanceof nn.BatchNorm2d)) continue;
      m.runningMean.copy_(rand(m.runningMean.shape).sub(0.5).mul(0.2));
      m.runningVar.copy_(rand(m.runningVar.shape).add(0.5));
      m.weight.copy_(rand(m.weight.shape).add(0.5));
      m.bias.copy_(rand(m.bias.shape).sub(0.5).mul(0.4));
    }
  });
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  return tidy(() => a.sub(b).abs().max().item());
}

const run = (model: DetectionModel, x: Tensor): Tensor => noGrad(() => model.eval().infer(x));

test('inserting gates does not change the output', () => {
  manualSeed(0);
  for (const config of [loadModelConfig('yolov5n'), customConfig()]) {
    const model = new DetectionModel(config).eval();
    randomizeBatchNorm(model);
    const x = rand([1, 3, 64, 64]);
    const before = run(model, x);
    const gates = insertGates(model);
    assert.ok(gates.length > 10);
    assert.equal(maxAbsDiff(before, run(model, x)), 0);
  }
});

test('dependency groups: residual adds join a C3 first branch with its Bottleneck outputs (yolov5n, yolov5s, custom)', () => {
  const residualGroups = (config: ReturnType<typeof loadModelConfig>) =>
    analyzeDependencies(new DetectionModel(config))
      .groups.filter((g) => g.members.length > 1)
      .map((g) => g.members.map((m) => m.name).sort());
  const expectedV5 = [
    ['model.2.cv1', 'model.2.m.0.cv2'],
    ['model.4.cv1', 'model.4.m.0.cv2', 'model.4.m.1.cv2'],
    ['model.6.cv1', 'model.6.m.0.cv2', 'model.6.m.1.cv2', 'model.6.m.2.cv2'],
    ['model.8.cv1', 'model.8.m.0.cv2'],
  ];
  assert.deepEqual(residualGroups(loadModelConfig('yolov5n')), expectedV5);
  assert.deepEqual(residualGroups(loadModelConfig('yolov5s')), expectedV5);
  assert.deepEqual(residualGroups(customConfig()), [
    ['model.1', 'model.2.0.cv2', 'model.2.1.cv2'],
    ['model.4.cv1', 'model.4.m.0.cv2'],
  ]);
  const graph = analyzeDependencies(new DetectionModel(loadModelConfig('yolov5n')));
  // Concat maps inputs onto slices: layer 13's cv1 reads [upsampled layer 10 | layer 6], as two segments.
  const c13 = graph.consumers.find((c) => c.name === 'model.13.cv1')!;
  assert.deepEqual(c13.segments.map((s) => [s.group.members.map((m) => m.name)[0], s.channels]), [
    ['model.10', 128],
    ['model.6.cv3', 128],
  ]);
  // SPPF passes channels through its pools: cv2 reads cv1's channels four times.
  const sppf = graph.consumers.find((c) => c.name === 'model.9.cv2')!;
  assert.equal(new Set(sppf.segments.map((s) => s.group)).size, 1);
  assert.equal(sppf.segments.length, 4);
  // Detect heads read their levels; only the image input is fixed.
  assert.deepEqual(graph.consumers.filter((c) => c.block === null).map((c) => c.name), ['model.24.m.0', 'model.24.m.1', 'model.24.m.2']);
  assert.equal(graph.groups.filter((g) => g.fixed).length, 1);
});

/** Zeroes the gates of the channels a plan removes, in every member of their group. */
function zeroRemovedGates(plan: ReturnType<typeof planByRatio>): void {
  noGrad(() => {
    for (const [group, kept] of plan.keep) {
      const keep = new Set(kept);
      for (const { conv } of group.members) {
        const values = conv.gate!.weight.data() as Float32Array;
        values.forEach((_, i) => !keep.has(i) && (values[i] = 0));
        conv.gate!.weight.copy_(tensor(values));
      }
    }
  });
}

test('exactness: zero the gates of removed channels, prune, outputs equal within 1e-4 (yolov5n, yolov5s, custom)', () => {
  manualSeed(1);
  for (const [name, config] of [
    ['yolov5n', loadModelConfig('yolov5n')],
    ['yolov5s', loadModelConfig('yolov5s')],
    ['custom', customConfig()],
  ] as const) {
    const model = new DetectionModel(config).eval();
    randomizeBatchNorm(model);
    for (const { gate } of insertGates(model)) noGrad(() => gate.weight.copy_(rand(gate.weight.shape).add(0.1)));
    const graph = analyzeDependencies(model);
    const plan = planByRatio(groupImportance(graph, 'gate'), 0.4, { minChannels: 4 });
    zeroRemovedGates(plan);
    const x = rand([1, 3, 128, 96]);
    const before = run(model, x);
    const pruned = applyPlan(model, graph, plan);
    assert.ok(pruned.numParameters() < 0.8 * model.numParameters(), `${name} got smaller`);
    const diff = maxAbsDiff(before, run(pruned, x));
    assert.ok(diff < 1e-4, `${name}: max difference ${diff}`);
  }
});

/**
 * yolov5n (random BatchNorm, gates) and a plan removing channel 3 of model.2.cv2, whose only consumer is the 1×1
 * model.2.cv3; `layer2` runs up to the C3's output, where a removed channel's effect is not damped by later layers.
 */
function c3ChannelSetup(seed: number) {
  manualSeed(seed);
  const model = new DetectionModel(loadModelConfig('yolov5n')).eval();
  randomizeBatchNorm(model);
  insertGates(model);
  const graph = analyzeDependencies(model);
  const module = (name: string) => [...model.namedModules()].find(([n]) => n === name)![1] as Conv;
  const block = module('model.2.cv2');
  const group = graph.groupOf.get(block)!;
  const plan = { keep: new Map([[group, Array.from({ length: group.channels }, (_, i) => i).filter((i) => i !== 3)]]) };
  const x = rand([2, 3, 64, 64]);
  const layer2 = (m: DetectionModel) =>
    noGrad(() => m.eval().layers.slice(0, 3).reduce((y, layer) => layer.module.forward(y) as Tensor, x));
  return { model, graph, block, consumer: module('model.2.cv3').conv, plan, x, layer2 };
}

test('bias compensation makes removing a constant channel exact on that constant', async () => {
  const { model, graph, block, plan, x, layer2 } = c3ChannelSetup(2);
  // Channel 3 outputs the constant SiLU(β) once its convolution weights are zero, so folding the constant into
  // cv3's BatchNorm is exact everywhere.
  noGrad(() => {
    block.conv.weight.select(0, 3).zero_();
    block.bn!.bias.select(0, 3).fill_(2); // the constant: SiLU(2) ≈ 1.76
  });
  const before = layer2(model);
  const withoutCompensation = applyPlan(model, graph, plan);
  const uncompensated = maxAbsDiff(before, layer2(withoutCompensation));
  assert.ok(uncompensated > 1e-2, `dropping a non-zero constant changes the output (by ${uncompensated})`);
  for (const covariance of [false, true]) {
    const stats = await measureInputStatistics(model, [x], 64, { covariance });
    const compensated = applyPlan(model, graph, plan, { inputStatistics: stats });
    const diff = maxAbsDiff(before, layer2(compensated));
    assert.ok(diff < 1e-4, `compensated difference ${diff} (covariance: ${covariance})`);
    assert.ok(maxAbsDiff(run(model, x), run(compensated, x)) < 1e-4);
  }
});

test('surgery refuses non-finite weights from degenerate calibration statistics, naming the tensor', async () => {
  const { model, graph, consumer, plan, x } = c3ChannelSetup(3);
  const stats = await measureInputStatistics(model, [x], 64, { covariance: false });
  stats.get(consumer)!.mean.fill(Number.NaN);
  assert.throws(() => applyPlan(model, graph, plan, { inputStatistics: stats }), /non-finite values in model\.2\.cv3\.bn\.running_mean/);
});

test('least-squares reconstruction: a removed channel that copies a kept one is folded into its weights exactly', async () => {
  const { model, graph, block, plan, x, layer2 } = c3ChannelSetup(6);
  // cv2 is a 1×1 convolution; with channel 3 an exact copy of channel 5 (same weights, same BatchNorm), it equals
  // channel 5 everywhere after SiLU and the gate.
  noGrad(() => {
    block.conv.weight.select(0, 3).copy_(block.conv.weight.select(0, 5));
    for (const t of [block.bn!.weight, block.bn!.bias, block.bn!.runningMean, block.bn!.runningVar]) t.select(0, 3).copy_(t.select(0, 5));
  });
  const before = layer2(model);
  const meanOnly = maxAbsDiff(before, layer2(applyPlan(model, graph, plan, { inputStatistics: await measureInputStatistics(model, [x], 64, { covariance: false }) })));
  const reconstructed = applyPlan(model, graph, plan, { inputStatistics: await measureInputStatistics(model, [x], 64) });
  const diff = maxAbsDiff(before, layer2(reconstructed));
  assert.ok(meanOnly > 1e-3, `replacing a varying channel by its mean changes the output (by ${meanOnly})`);
  assert.ok(diff < 1e-5, `reconstructed difference ${diff}`);
});

test('reconstruct: exact for a linear relation, the mean alone without covariance, stable for duplicate kept channels', () => {
  // Channels x0, x1 (independent), x2 = x0 (a duplicate), x3 = 2·x0 − x1 + 3. Means 1, 2, 1, 3; variances 1, 4.
  const mean = Float32Array.from([1, 2, 1, 3]);
  const cov = (i: number, j: number) => {
    const coeff = [
      [1, 0],
      [0, 1],
      [1, 0],
      [2, -1],
    ];
    const variance = [1, 4];
    return coeff[i]!.reduce((s, c, k) => s + c * coeff[j]![k]! * variance[k]!, 0);
  };
  const covariance = Float64Array.from({ length: 16 }, (_, n) => cov(Math.floor(n / 4), n % 4));
  const exact = reconstruct({ mean, covariance }, [0, 1], [3]);
  assert.ok(Math.abs(exact.a[0]! - 2) < 1e-4 && Math.abs(exact.a[1]! + 1) < 1e-4, `A = ${[...exact.a]}`);
  assert.ok(Math.abs(exact.b[0]! - 3) < 1e-4, `b = ${exact.b[0]}`);
  const meanOnly = reconstruct({ mean }, [0, 1], [3]);
  assert.deepEqual([...meanOnly.a, ...meanOnly.b], [0, 0, 3]);
  // With the duplicate kept too, the system is singular; the ridge splits the weight of x0 between its copies.
  const duplicate = reconstruct({ mean, covariance }, [0, 1, 2], [3]);
  const [a0, a1, a2] = duplicate.a;
  assert.ok(Math.abs(a0! + a2! - 2) < 1e-4 && Math.abs(a1! + 1) < 1e-4 && Math.abs(a0! - a2!) < 1e-4, `A = ${[...duplicate.a]}`);
  // A covariance that rounding made indefinite (a kept channel that only repeats another, with noise) stays finite:
  // the repeating channel takes no part.
  const noisy = Float64Array.from([1e-6, 1e-6 + 1e-9, 5e-7, 1e-6 + 1e-9, 1e-6 - 1e-9, 5e-7, 5e-7, 5e-7, 1e-6]);
  const robust = reconstruct({ mean: Float32Array.from([0.2, 0.2, 0.1]), covariance: noisy }, [0, 1], [2]);
  assert.ok([...robust.a, ...robust.b].every(Number.isFinite), `A = ${[...robust.a]}, b = ${[...robust.b]}`);
  assert.ok(Math.abs(robust.a[0]! + robust.a[1]! - 0.5) < 1e-3, `the removed channel is half the repeated one: A = ${[...robust.a]}`);
});

test('input statistics keep the covariance of channels with a large mean and a tiny spread', async () => {
  manualSeed(8);
  const model = new DetectionModel(loadModelConfig('yolov5n')).eval();
  const stem = [...model.namedModules()].find(([name]) => name === 'model.0')![1] as Conv;
  // Images of mean 0.5 with a spread of 1e-4: the stem sees float32 values whose variance is 1e-8 of their square.
  const batches = [0, 1].map(() => rand([2, 3, 64, 64]).sub(0.5).mul(2e-4).add(0.5));
  const stats = (await measureInputStatistics(model, batches, 64)).get(stem.conv)!;
  // The stem (a 6×6 convolution) reads the image itself: per channel, the exact variance over both batches.
  const expected = [0, 1, 2].map((channel) => {
    const values = batches.flatMap((b) => [0, 1].flatMap((i) => [...(b.select(0, i).select(0, channel).contiguous().data() as Float32Array)]));
    const mean = values.reduce((a, v) => a + v, 0) / values.length;
    return values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
  });
  stats.mean.forEach((m) => assert.ok(Math.abs(m - 0.5) < 1e-4, `mean ${m}`));
  const c = stats.mean.length;
  for (let i = 0; i < 3; i++) {
    const v = stats.covariance![i * c + i]!;
    assert.ok(Math.abs(v - expected[i]!) < 0.01 * expected[i]!, `channel ${i}: variance ${v}, expected ${expected[i]}`);
  }
});

test('the smallest-half penalty touches exactly the smallest half and follows importance, not index', () => {
  const weight = tensor([0.9, -0.1, 0.5, 0.05, -2, 0.3]).requiresGrad_();
  const penalty = new SparsityPenalty([{ name: 'g', weight }], 0.5);
  penalty.loss()!.backward();
  // The three smallest |g| are 0.05, -0.1, 0.3: gradient λ·sign there, zero elsewhere.
  assert.deepEqual(Array.from(weight.grad!.data() as Float32Array), [0, -0.5, 0, 0.5, 0, 0.5]);

  // All gates equal (as at the start): the penalised half is the least important half, wherever it sits.
  const tied = tensor([1, 1, 1, 1, 1, 1]).requiresGrad_();
  const importance = Float32Array.from([5, 0.1, 3, 0.2, 4, 0.3]);
  const tieBroken = new SparsityPenalty([{ name: 't', weight: tied, importance }], 1);
  assert.deepEqual((tieBroken.penalisedIndices(0).toArray() as number[]).sort(), [1, 3, 5]);
  const reversed = new SparsityPenalty([{ name: 't', weight: tied, importance: importance.map((v) => 10 - v) }], 1);
  assert.deepEqual((reversed.penalisedIndices(0).toArray() as number[]).sort(), [0, 2, 4]);
  // Once magnitudes differ, magnitude decides.
  const apart = tensor([1, 1, 0.2, 1, 1, 1]);
  const byMagnitude = new SparsityPenalty([{ name: 'a', weight: apart, importance }], 1);
  assert.ok((byMagnitude.penalisedIndices(0).toArray() as number[]).includes(2));
  assert.deepEqual(tieBroken.stats(0.5), { below: 0, meanAbs: 1, count: 6 });

  // With a target, the penalty pauses while the share below the threshold meets it.
  const targeted = new SparsityPenalty([{ name: 'a', weight: apart }], 1);
  targeted.target = { share: 1 / 6, threshold: 0.5 };
  assert.ok(targeted.targetMet());
  assert.equal(targeted.loss(), null, 'one of six below 0.5 meets a target of 1/6');
  targeted.target = { share: 2 / 6, threshold: 0.5 };
  assert.ok(!targeted.targetMet() && targeted.loss() !== null);
});

test('the λ controller moves towards the target share, and backs off when the training loss rises past the tolerance', () => {
  const epoch = { lambda: 1e-3, below: 0.1, target: 0.4, loss: 0.15, bestLoss: 0.15 };
  assert.deepEqual(nextLambda(epoch), { lambda: 1.5e-3, backedOff: false }, 'below the target: stronger');
  assert.deepEqual(nextLambda({ ...epoch, below: 0.45 }), { lambda: 1e-3, backedOff: false }, 'met, within 1.2× the target: unchanged');
  assert.deepEqual(nextLambda({ ...epoch, below: 0.5 }), { lambda: 1e-3 / 1.5, backedOff: false }, 'past 1.2× the target: weaker');
  const withinTolerance = 0.15 * (1 + LOSS_TOLERANCE) - 1e-6;
  assert.equal(nextLambda({ ...epoch, loss: withinTolerance }).lambda, 1.5e-3, 'a loss within the tolerance does not stop it');
  // The loss rose past the tolerance: λ weakens even though the target is far from met.
  assert.deepEqual(nextLambda({ ...epoch, loss: 0.15 * (1 + LOSS_TOLERANCE) + 1e-6 }), { lambda: 1e-3 / 1.5, backedOff: true });
});

test('a FLOPs target is met, and the pruned checkpoint reloads as the pruned architecture', async () => {
  manualSeed(4);
  const model = new DetectionModel(loadModelConfig('yolov5n')).eval();
  randomizeBatchNorm(model);
  for (const { gate } of insertGates(model)) noGrad(() => gate.weight.copy_(rand(gate.weight.shape)));
  const graph = analyzeDependencies(model);
  const plan = planByBudget(model, graph, groupImportance(graph, 'gate'), 0.6, { round: 8 });
  const pruned = applyPlan(model, graph, plan);
  const ratio = gflops(pruned) / gflops(model);
  assert.ok(ratio <= 0.6 && ratio > 0.5, `GFLOPs ratio ${ratio}`);
  for (const kept of plan.keep.values()) assert.equal(kept.length % 8, 0);
  const path = join(mkdtempSync(join(tmpdir(), 'yolov5-prune-')), 'pruned.safetensors');
  await saveCheckpoint(path, pruned);
  const { model: reloaded } = await loadModel(path);
  assert.equal(reloaded.numParameters(), pruned.numParameters());
  assert.deepEqual(reloaded.architecture().channels, pruned.architecture().channels);
  const x = rand([1, 3, 64, 64]);
  assert.equal(maxAbsDiff(run(pruned, x), run(reloaded, x)), 0);
});

test('a latency budget meets the estimated latency, removing the costly high-resolution channels first', () => {
  const model = new DetectionModel(loadModelConfig('yolov5n'));
  insertGates(model); // every gate 1: importance ties, so only cost decides the order
  const graph = analyzeDependencies(model);
  const plan = planByBudget(model, graph, groupImportance(graph, 'gate'), 0.6, { measure: 'latency' });
  const pruned = applyPlan(model, graph, plan);
  const ratio = latencyCost(pruned) / latencyCost(model);
  assert.ok(ratio <= 0.6 && ratio > 0.55, `latency ratio ${ratio}`);
  const kept = (name: string) => convChannels(pruned).get(name)! / convChannels(model).get(name)!;
  assert.equal(kept('model.0'), 0.5, 'the stem, at the highest resolution, goes to the floor of 8');
  assert.equal(kept('model.9.cv2'), 1, 'the 20×20 SPPF output, cheap per channel, is kept');
});

test('a plan that would empty a group fails and names it', () => {
  const model = new DetectionModel(loadModelConfig('yolov5n'));
  insertGates(model);
  const graph = analyzeDependencies(model);
  assert.throws(
    () => planByThreshold(groupImportance(graph, 'gate'), 2, { minChannels: 0 }),
    /remove every channel of group \d+ \(model\.0; 16 channels\)/,
  );
  assert.throws(() => groupImportance(analyzeDependencies(new DetectionModel(loadModelConfig('yolov5n'))), 'gate'), /model\.0 has no gate/);
});

test('a pruned, gated model exports to ONNX and matches libtorch within 1e-3 in ONNX Runtime', async () => {
  manualSeed(5);
  const model = new DetectionModel(customConfig()).eval();
  randomizeBatchNorm(model);
  for (const { gate } of insertGates(model)) noGrad(() => gate.weight.copy_(rand(gate.weight.shape).add(0.2)));
  const graph = analyzeDependencies(model);
  const pruned = applyPlan(model, graph, planByRatio(groupImportance(graph, 'gate'), 0.3, { minChannels: 4 }));
  const onnx = exportOnnx(pruned, { imgsz: [64, 96] });
  const [result] = await compareWithTorch(onnx.bytes, pruned, [{ batch: 1, height: 64, width: 96 }]);
  assert.ok(result!.ok, `max abs difference ${result!.maxAbsDiff}`);
  assert.ok(result!.maxAbsDiff < 1e-3);
});
