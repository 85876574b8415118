// End to end learning: yolov5n trained from scratch on a small synthetic shapes dataset detects the shapes.
// Settings for a short run: an optimizer step every batch (nominal batch = batch), Adam, no mosaic (at 128 px a
// mosaic shrinks the shapes to a few pixels). About 160 steps; 1–2 minutes on two cores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors } from '../src/torch/index.js';
import { generateSynthDataset } from '../src/data/synth.js';
import { loadHyp } from '../src/train/hyp.js';
import { train } from '../src/train/trainer.js';

/** The mAP50 the run must reach on the validation images (untrained: about 0.003). */
const TARGET_MAP50 = 0.05;

test(`yolov5n from scratch on synthetic shapes reaches mAP50 ≥ ${TARGET_MAP50}; memory stays flat`, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'train-learning-'));
  const data = await generateSynthDataset({ out: join(root, 'data'), images: 64, valImages: 16, classes: 1, imgsz: 128, seed: 1 });
  const live: number[] = [];
  const result = await train(
    {
      data: data.yaml,
      cfg: 'yolov5n',
      weights: '',
      imgsz: 128,
      batchSize: 8,
      nominalBatch: 8,
      epochs: 20,
      optimizer: 'Adam',
      hyp: { ...loadHyp(), lr0: 0.006, warmup_bias_lr: 0, mosaic: 0 },
      workers: 2,
      seed: 0,
      noval: true,
      noplots: true,
      saveDir: join(root, 'run'),
      progress: false,
      log: () => undefined,
    },
    { onEpochEnd: () => void live.push(liveTensors()) },
  );
  t.diagnostic(`final mAP50 ${result.final!.map50.toFixed(3)}, mAP50-95 ${result.final!.map.toFixed(3)}`);
  const first = result.epochs[0]!.train[0];
  const last = result.epochs.at(-1)!.train[0];
  assert.ok(last < 0.8 * first, `box loss ${first} → ${last}`);
  assert.ok(result.final!.map50 >= TARGET_MAP50, `mAP50 ${result.final!.map50}`);
  // Optimizer state exists after the first epoch; the last epoch adds validation's grid caches.
  const steady = live.slice(1, -1);
  assert.equal(new Set(steady).size, 1, `tensors alive at epoch ends: ${live.join(', ')}`);
});
