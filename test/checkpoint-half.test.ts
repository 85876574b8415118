// Checkpoints stored in float16 (half the size, e.g. results committed to the repository) load back into float32
// models: every weight equals the original rounded to float16, and the outputs agree to float16 precision.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DetectionModel } from '../src/model/yolo.js';
import { loadModelConfig } from '../src/model/config.js';
import { loadModel, saveCheckpoint } from '../src/checkpoint/index.js';
import { manualSeed, noGrad, rand, tensor } from '../src/torch/index.js';

test('a float16 checkpoint is half the size and loads into a float32 model with the rounded weights', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'yolov5-half-'));
  try {
    manualSeed(1);
    const model = new DetectionModel({ ...loadModelConfig('yolov5n'), nc: 3 }).eval();
    const full = join(dir, 'full.safetensors');
    const half = join(dir, 'half.safetensors');
    await saveCheckpoint(full, model);
    await saveCheckpoint(half, model, { half: true });
    const ratio = statSync(half).size / statSync(full).size;
    assert.ok(ratio > 0.45 && ratio < 0.55, `size ratio ${ratio}`);
    const { model: loaded } = await loadModel(half);
    const b = loaded.stateDict();
    for (const [name, t] of model.stateDict()) {
      const got = b.get(name)!;
      assert.equal(got.dtype, t.dtype, name);
      if (t.dtype !== 'float32') continue;
      const rounded = noGrad(() => tensor(t.data() as Float32Array).to('float16').to('float32').data());
      assert.deepEqual(got.data(), rounded, name);
    }
    const x = rand([1, 3, 64, 64]);
    const [ya, yb] = noGrad(() => [model.infer(x).data() as Float32Array, loaded.eval().infer(x).data() as Float32Array]);
    let worst = 0;
    for (let i = 0; i < ya.length; i++) worst = Math.max(worst, Math.abs(ya[i]! - yb[i]!) / (1 + Math.abs(ya[i]!)));
    assert.ok(worst < 0.02, `largest relative output difference ${worst}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
