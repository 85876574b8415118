import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DetectionModel } from '../src/model/yolo.js';
import { loadModelConfig } from '../src/model/config.js';
import { manualSeed, nn } from '../src/torch/index.js';
import { generateSynthDataset } from '../src/data/synth.js';
import { train } from '../src/train/trainer.js';
import { insertGates } from '../src/prune/gates.js';
import { SparsityPenalty } from '../src/prune/sparsity.js';

const root = mkdtempSync(join(tmpdir(), 'prune-sparsity-'));
const dataset = generateSynthDataset({ out: join(root, 'data'), images: 16, valImages: 4, classes: 2, imgsz: 64, seed: 9 });

const batchNormStats = (model: DetectionModel) =>
  [...model.namedModules()].flatMap(([, m]) => (m instanceof nn.BatchNorm2d ? [...m.runningMean.toArray(), ...m.runningVar.toArray()] : [])) as number[];

test('sparsity training: BatchNorm statistics stay frozen, gates move at their own rate from the first step, the penalised half shrinks', async () => {
  manualSeed(2);
  const model = new DetectionModel({ ...loadModelConfig('yolov5n'), nc: 2 });
  const gates = insertGates(model);
  const statsBefore = batchNormStats(model);
  const lambda = 1;
  let penalty: SparsityPenalty | undefined;
  const gateLrs: number[] = [];
  const weightLrs: number[] = [];
  await train(
    {
      data: (await dataset).yaml,
      model,
      imgsz: 64,
      batchSize: 8,
      nominalBatch: 8,
      epochs: 2,
      workers: 2,
      noval: true,
      noplots: true,
      noautoanchor: true,
      saveDir: join(root, 'run'),
      gateLr: 0.02,
      freezeBatchNormStats: true,
      progress: false,
      log: () => undefined,
    },
    {
      beforeTrainingStarts: (ctx) => {
        penalty = new SparsityPenalty(gates.map(({ name, gate }) => ({ name, weight: gate.weight })), lambda);
        assert.equal(ctx.model, model, 'the given model is trained as it is');
      },
      extraLoss: (_m, ctx) => {
        const groups = ctx.optimizer.paramGroups;
        gateLrs.push(groups[3]!.hyper.lr as number);
        weightLrs.push(groups[1]!.hyper.lr as number);
        return penalty!.loss();
      },
    },
  );
  assert.deepEqual(batchNormStats(model), statsBefore, 'running statistics untouched');
  assert.ok(Math.abs(gateLrs[0]! - 0.02) < 1e-12, `the gates start at their own rate, got ${gateLrs[0]}`);
  assert.equal(weightLrs[0], 0, 'while the weights warm up from 0');
  // Four optimizer steps: each penalised gate is pulled down by about lr·λ·(1 + momentum terms) per step.
  let shrunk = 0;
  let total = 0;
  for (const { gate } of gates) {
    const values = gate.weight.toArray() as number[];
    const sorted = [...values].sort((a, b) => a - b);
    const half = Math.floor(values.length / 2);
    // The lower half sits clearly below 1, the upper half (unpenalised, only the task pulls) much less so.
    const lower = sorted.slice(0, half).reduce((a, b) => a + b, 0) / half;
    const upper = sorted.slice(half).reduce((a, b) => a + b, 0) / (values.length - half);
    if (1 - lower > 2 * Math.abs(1 - upper)) shrunk++;
    total++;
  }
  assert.ok(shrunk >= total * 0.9, `the penalised half shrank in ${shrunk} of ${total} gate layers`);
});
