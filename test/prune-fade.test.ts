// The fade (src/prune/fade.ts): the cap's schedule; caps act on the planned channels only, in both signs and on
// every model given; and a pipeline round that fades its channels ends with their gates at exactly zero, so the
// pruning step after it changes nothing the network computes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DetectionModel } from '../src/model/yolo.js';
import { loadModelConfig } from '../src/model/config.js';
import { manualSeed, noGrad, rand, tidy, type Tensor } from '../src/torch/index.js';
import { saveCheckpoint, readCheckpoint } from '../src/checkpoint/index.js';
import { generateSynthDataset } from '../src/data/synth.js';
import { analyzeDependencies } from '../src/prune/dependency.js';
import { gateLayers, insertGates } from '../src/prune/gates.js';
import { groupImportance } from '../src/prune/plan.js';
import { planFor } from '../src/prune/round.js';
import { fadeCap, fadingChannels, GateFade, planFromFading } from '../src/prune/fade.js';
import { prunePipeline } from '../src/prune/pipeline.js';

const tmp = mkdtempSync(join(tmpdir(), 'prune-fade-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const gateValues = (model: DetectionModel) => new Map(gateLayers(model).map(({ name, gate }) => [name, Array.from(gate.weight.data() as Float32Array)]));

test('the cap is 1 before the fade, falls linearly, and reaches 0 at its last step', () => {
  assert.equal(fadeCap(0, 10, 20), 1);
  assert.equal(fadeCap(9, 10, 20), 1);
  assert.ok(Math.abs(fadeCap(10, 10, 20) - 0.9) < 1e-12);
  assert.ok(Math.abs(fadeCap(14, 10, 20) - 0.5) < 1e-12);
  assert.equal(fadeCap(19, 10, 20), 0);
  assert.equal(fadeCap(25, 10, 20), 0);
});

test('a fade caps |gate| of the planned channels only, on every model given; its channels name the plan they came from', () => {
  manualSeed(3);
  const model = new DetectionModel({ ...loadModelConfig('yolov5n'), nc: 2 });
  insertGates(model);
  // Gates of both signs and varied sizes, as sparsity training leaves them.
  for (const { gate } of gateLayers(model)) noGrad(() => gate.weight.copy_(rand(gate.weight.shape).mul(2).sub(1)));
  const copy = new DetectionModel({ ...loadModelConfig('yolov5n'), nc: 2 });
  insertGates(copy);
  copy.loadStateDict(model.stateDict());
  const graph = analyzeDependencies(model);
  const target = { flopsFraction: 0.6 };
  const plan = planFor(model, graph, groupImportance(graph, 'gate'), target, { minChannels: 8, round: 1, imgsz: 64 });
  const channels = fadingChannels(plan);
  const before = gateValues(model);
  const fade = new GateFade(channels, model);
  assert.ok(fade.size.channels > 0 && fade.size.layers > 0);

  fade.apply(0.3, [model, copy]);
  for (const m of [model, copy]) {
    for (const [name, values] of gateValues(m)) {
      const fading = new Set(channels[name] ?? []);
      values.forEach((v, i) => {
        const was = before.get(name)![i]!;
        if (fading.has(i)) assert.ok(Math.abs(v - Math.sign(was) * Math.min(Math.abs(was), 0.3)) < 1e-6, `${name}[${i}]: ${was} → ${v}`);
        else assert.equal(v, was, `${name}[${i}] is kept and must not move`);
      });
    }
  }

  fade.dispose();
  const replanned = planFromFading(analyzeDependencies(copy), channels);
  assert.deepEqual(
    [...replanned.keep.values()],
    [...plan.keep.values()].filter((kept, i) => kept.length < [...plan.keep.keys()][i]!.channels),
    'the plan rebuilt from the fading channels keeps what the fade kept',
  );
  assert.throws(() => new GateFade({ 'model.0': [999] }, model), /outside model\.0's 16/);
  assert.throws(() => new GateFade({ 'model.99': [0] }, model), /model\.99, which has no gate/);
});

test('a round that fades: its gates end at exactly zero, and pruning them changes nothing the network computes', async () => {
  manualSeed(4);
  const { yaml } = await generateSynthDataset({ out: join(tmp, 'data'), images: 8, valImages: 4, classes: 2, imgsz: 64, seed: 8 });
  const weights = join(tmp, 'start.safetensors');
  await saveCheckpoint(weights, new DetectionModel({ ...loadModelConfig('yolov5n'), nc: 2 }));
  const lines: string[] = [];
  const { saveDir } = await prunePipeline({
    weights,
    data: yaml,
    imgsz: 64,
    batchSize: 4,
    workers: 1,
    epochs: 2,
    rounds: 1,
    epochsPerRound: 2,
    finetuneEpochs: 0,
    targetFlops: 0.6,
    fade: true,
    calibImages: 4,
    benchmark: false,
    project: join(tmp, 'runs'),
    log: (line) => lines.push(line),
  });
  const log = lines.join('\n');
  assert.match(log, /fade on \(given\)/);
  assert.match(log, /fade: \d+ channels of \d+ layers \(the round's plan\) fade out over epochs 2–2; the penalty stops/);

  const state = JSON.parse(readFileSync(join(saveDir, 'state.json'), 'utf8'));
  const channels = state.fade.channels as Record<string, number[]>;
  const { model: trained } = await readCheckpoint(state.sparsityTrained.path);
  const gates = gateValues(trained);
  for (const [name, removed] of Object.entries(channels)) for (const i of removed) assert.equal(Math.abs(gates.get(name)![i]!), 0, `${name}[${i}]`);

  const { model: pruned } = await readCheckpoint(join(saveDir, 'round1.safetensors'));
  assert.ok(pruned.numParameters() < trained.numParameters());
  const x = rand([1, 3, 64, 64]);
  const out = (m: DetectionModel): Tensor => noGrad(() => m.eval().infer(x));
  const diff = tidy(() => out(trained).sub(out(pruned)).abs().max().item());
  assert.ok(diff < 1e-3, `max output difference ${diff}`);
});
