import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors } from '../src/torch/index.js';
import { generateSynthDataset } from '../src/data/synth.js';
import { readCheckpoint } from '../src/checkpoint/format.js';
import { train, type TrainOptions } from '../src/train/trainer.js';

const root = mkdtempSync(join(tmpdir(), 'train-resume-'));
const dataset = generateSynthDataset({ out: join(root, 'data'), images: 16, valImages: 4, classes: 2, imgsz: 64, seed: 3 });

async function options(name: string): Promise<TrainOptions> {
  return {
    data: (await dataset).yaml,
    cfg: 'yolov5n',
    weights: '',
    imgsz: 64,
    batchSize: 8,
    epochs: 2,
    workers: 2,
    noval: true,
    seed: 5,
    saveDir: join(root, name),
    noplots: true,
    // Random sizes per batch and merged classes, so the resumed run must also replay the size draws.
    multiScale: true,
    singleCls: true,
    progress: false,
    log: () => undefined,
  };
}

test('a run interrupted after epoch 0 and resumed ends with the weights of the uninterrupted run', async () => {
  const straight = await train(await options('straight'));
  assert.equal(straight.interrupted, false);
  assert.equal(straight.epochs.length, 2);

  const controller = new AbortController();
  const first = await train(
    { ...(await options('interrupted')), signal: controller.signal },
    { onEpochEnd: ({ epoch }) => void (epoch === 0 && controller.abort()) },
  );
  assert.equal(first.interrupted, true);
  assert.deepEqual(first.epochs.map((e) => e.epoch), [0]);
  const saved = await readCheckpoint(first.lastPath);
  assert.equal((saved.meta.training as { epoch: number }).epoch, 0, 'last holds the last finished epoch');
  assert.ok(saved.extra.size > 0, 'with the raw weights and optimizer state needed to resume');

  const resumed = await train({ resume: first.lastPath, progress: false, log: () => undefined });
  assert.equal(resumed.interrupted, false);
  assert.equal(resumed.saveDir, first.saveDir);
  assert.deepEqual(resumed.epochs.map((e) => e.epoch), [0, 1]);

  const { model } = await readCheckpoint(resumed.lastPath);
  assert.deepEqual(model.names, ['item'], 'single-class runs name their class "item"');
  const [a, b] = await Promise.all([loadSafetensors(straight.lastPath), loadSafetensors(resumed.lastPath)]);
  assert.deepEqual([...a.tensors.keys()].sort(), [...b.tensors.keys()].sort());
  let worst = 0;
  for (const [name, t] of a.tensors) {
    const x = t.toArray();
    const y = b.tensors.get(name)!.toArray();
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  }
  assert.ok(worst < 1e-5, `largest weight difference ${worst}`);
  straight.epochs.forEach((e, i) => {
    const r = resumed.epochs[i]!;
    e.train.forEach((v, k) => assert.ok(Math.abs(v - r.train[k]!) < 1e-5, `epoch ${i} loss ${k}: ${v} vs ${r.train[k]}`));
  });
  assert.equal(readFileSync(join(resumed.saveDir, 'results.csv'), 'utf8').trim().split('\n').length, 3);

  await assert.rejects(train({ resume: resumed.lastPath, log: () => undefined }), /finished, nothing to resume/);
});
