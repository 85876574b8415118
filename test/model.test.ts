import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DetectionModel } from '../src/model/yolo.js';
import { loadModelConfig } from '../src/model/config.js';
import { gflops } from '../src/model/summary.js';
import { loadModel } from '../src/checkpoint/index.js';
import { saveCheckpoint } from '../src/checkpoint/format.js';
import { liveTensors, noGrad, tensor, tidy, zeros, rand, manualSeed } from '../src/torch/index.js';
import { REFERENCE, WEIGHTS } from './helpers/fixtures.js';

const officialParams: Record<string, number> = {
  yolov5n: 1_872_157,
  yolov5s: 7_235_389,
  yolov5m: 21_190_557,
  yolov5l: 46_563_709,
  yolov5x: 86_749_405,
  yolov5n6: 3_246_940,
  yolov5s6: 12_626_620,
};

/** The deterministic input of the reference file: x.flat[n] = ((n*7919) % 1000) / 1000. */
function referenceInput(shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 1000);
}

test('every shipped config builds with the official parameter count', () => {
  for (const [name, count] of Object.entries(officialParams)) {
    const model = new DetectionModel(loadModelConfig(name));
    assert.equal(model.numParameters(), count, name);
  }
});

test('small configs run a forward at 640 and 320 with the expected output sizes', () => {
  for (const name of ['yolov5n', 'yolov5n6']) {
    const model = new DetectionModel(loadModelConfig(name)).eval();
    for (const size of [320, 640]) {
      const shape = noGrad(() => tidy(() => model.infer(zeros([1, 3, size, size])).shape));
      const cells = model.stride.reduce((sum, s) => sum + (size / s) ** 2, 0);
      assert.deepEqual(shape, [1, 3 * cells, 85], `${name} at ${size}`);
    }
  }
});

test('a forward keeps only the layer outputs alive, not what each layer computes on the way (training and inference)', () => {
  const model = new DetectionModel(loadModelConfig('yolov5n'));
  const x = rand([1, 3, 64, 64]);
  for (const training of [true, false]) {
    model.train(training);
    const live = tidy(() => {
      const baseline = liveTensors();
      void (training ? model.forward(x) : noGrad(() => model.forward(x)));
      return liveTensors() - baseline;
    });
    // One output per layer (three for Detect); a C3 alone computes a dozen tensors on the way.
    assert.ok(live <= model.layers.length + 2, `${training ? 'training' : 'inference'}: ${live} tensors alive after the forward of ${model.layers.length} layers`);
  }
});

test('an input size that is not a multiple of the largest stride is rejected', () => {
  const model = new DetectionModel(loadModelConfig('yolov5n')).eval();
  assert.throws(() => noGrad(() => model.infer(zeros([1, 3, 100, 64]))), /multiple of the largest stride 32/);
});

test('GFLOPs at 640 agree with the official summaries (yolov5n 4.5, yolov5s 16.5)', () => {
  assert.ok(Math.abs(gflops(new DetectionModel(loadModelConfig('yolov5n')), 640) - 4.5) < 0.1);
  assert.ok(Math.abs(gflops(new DetectionModel(loadModelConfig('yolov5s')), 640) - 16.5) < 0.2);
});

test('official yolov5n.pt reproduces the reference raw forward within 1e-3', async () => {
  const ref = JSON.parse(readFileSync(join(REFERENCE, 'yolov5n-reference-outputs.json'), 'utf8'));
  const { model } = await loadModel(WEIGHTS);
  model.eval();
  const shape = [1, 3, 64, 96];
  const out = noGrad(() => tidy(() => {
    const y = model.infer(tensor(referenceInput(shape), shape));
    return { shape: y.shape, values: y.data() as Float32Array };
  }));
  assert.deepEqual(out.shape, ref.raw_forward.output_shape);
  const expected: number[] = ref.raw_forward.output;
  let worst = 0;
  expected.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - out.values[i]!))));
  assert.ok(worst < 1e-3, `max abs difference ${worst}`);
  assert.equal(model.names[0], 'person');
  assert.deepEqual(model.stride, [8, 16, 32]);
});

test('official → our checkpoint → loaded gives bit-identical weights and identical outputs', async () => {
  const { model } = await loadModel(WEIGHTS);
  const dir = mkdtempSync(join(tmpdir(), 'yolov5-ckpt-'));
  const path = join(dir, 'yolov5n.safetensors');
  await saveCheckpoint(path, model);
  const loaded = await loadModel(path);
  assert.equal(loaded.source, 'yolov5-ts');
  const a = model.stateDict();
  const b = loaded.model.stateDict();
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [name, t] of a) assert.deepEqual(b.get(name)!.data(), t.data(), name);
  manualSeed(3);
  const x = rand([1, 3, 64, 64]);
  const [ya, yb] = noGrad(() => [model.eval().infer(x).data(), loaded.model.eval().infer(x).data()]);
  assert.deepEqual(ya, yb);
});

test('bad weights give clear errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'yolov5-bad-'));
  const junk = join(dir, 'junk.safetensors');
  writeFileSync(junk, 'definitely not a checkpoint');
  await assert.rejects(loadModel(junk), /junk\.safetensors/);
  await assert.rejects(loadModel(join(dir, 'missing.pt')), /cannot open weights .*missing\.pt/);
});

test('a config with an unknown key or module names the problem', () => {
  const config = loadModelConfig('yolov5n');
  assert.throws(() => new DetectionModel({ ...config, depth: 1 } as never, { source: 'custom.yaml' }), /custom\.yaml: unknown key 'depth'/);
  const broken = structuredClone(config);
  broken.backbone[1]![2] = 'Conv3000';
  assert.throws(() => new DetectionModel(broken, { source: 'custom.yaml' }), /custom\.yaml: layer 1 \(Conv3000\): unknown module/);
});
