// Ensembles (--weights a b) and test-time augmentation (--augment) for val, detect and the library. The official
// numbers of augmented validation are held in test/val-parity; here: what pooling boxes before NMS must give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportOnnxFile, load, loadModel, type Detections } from '../src/index.js';
import { DetectionModel } from '../src/model/yolo.js';
import { ModelEnsemble } from '../src/model/ensemble.js';
import { analyzeDependencies } from '../src/prune/dependency.js';
import { groupImportance, planByRatio } from '../src/prune/plan.js';
import { applyPlan } from '../src/prune/surgery.js';
import { validate } from '../src/val/validator.js';
import { BUS, COCO32, WEIGHTS } from './helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'infer-ensemble-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const { model } = await loadModel(WEIGHTS);
model.fuse().eval();
const settings = { data: COCO32, imgsz: 320, batchSize: 32, confThres: 0.001, iouThres: 0.6, maxDet: 300, quiet: true };
const metrics = (r: { mp: number; mr: number; map50: number; map: number }) => [r.mp, r.mr, r.map50, r.map];

test('an ensemble of a model with itself validates exactly as the model alone', async () => {
  const alone = await validate(model, settings);
  const twice = await validate(new ModelEnsemble([{ model, source: 'a' }, { model, source: 'b' }]), settings);
  assert.deepEqual(metrics(twice), metrics(alone));
});

test('an ensemble of two different models is at least as good as the weaker of them', async () => {
  // The second model: the same network with a tenth of its channels removed by BatchNorm scale, a different and
  // weaker detector.
  const fresh = (await loadModel(WEIGHTS)).model;
  const graph = analyzeDependencies(fresh);
  const narrow = applyPlan(fresh, graph, planByRatio(groupImportance(graph, 'bn'), 0.1)).fuse().eval();
  const a = await validate(model, settings);
  const b = await validate(narrow, settings);
  const both = await validate(new ModelEnsemble([{ model, source: 'full' }, { model: narrow, source: 'narrow' }]), settings);
  assert.ok(b.map < a.map - 0.02, `the narrow model differs (mAP50-95 ${b.map.toFixed(4)} vs ${a.map.toFixed(4)})`);
  assert.ok(both.map >= Math.min(a.map, b.map), `ensemble ${both.map.toFixed(4)} vs ${a.map.toFixed(4)} and ${b.map.toFixed(4)}`);
  assert.ok(both.map50 >= Math.min(a.map50, b.map50));
});

test('models that disagree on classes or strides do not make an ensemble', () => {
  const other = new DetectionModel(model.architecture(), { nc: 3, names: ['a', 'b', 'c'] });
  assert.throws(
    () => new ModelEnsemble([{ model, source: 'yolov5n.pt' }, { model: other, source: 'three.safetensors' }]),
    /cannot ensemble three\.safetensors with yolov5n\.pt: classes \[a, b, c\] differ/,
  );
  assert.throws(() => new ModelEnsemble([]), /at least one model/);
});

const summary = (r: Detections) => r.boxes.map((b) => `${b.className} ${b.confidence.toFixed(3)} ${[b.x1, b.y1, b.x2, b.y2].map((v) => v.toFixed(1)).join(' ')}`);

test('load([a, a]) detects as load(a); augment finds the same objects on bus.jpg', async () => {
  const single = await load(WEIGHTS);
  const pair = await load([WEIGHTS, WEIGHTS]);
  const augmented = await load(WEIGHTS, { augment: true });
  const plain = await single.detect(BUS);
  assert.deepEqual(summary(await pair.detect(BUS)), summary(plain));
  assert.equal(pair.weights, `${WEIGHTS} + ${WEIGHTS}`);
  const tta = await augmented.detect(BUS);
  const count = (r: Detections, name: string) => r.boxes.filter((b) => b.className === name).length;
  assert.equal(count(tta, 'bus'), 1);
  assert.ok(count(tta, 'person') >= 3, summary(tta).join('; '));
  assert.notDeepEqual(summary(tta), summary(plain), 'augmentation changes the boxes');
});

test('ONNX models refuse ensembles and augmentation with a reason', async () => {
  const onnx = join(tmp, 'yolov5n.onnx');
  await exportOnnxFile(model, onnx, { imgsz: [320, 320] });
  await assert.rejects(load([WEIGHTS, onnx]), /cannot join an ensemble/);
  await assert.rejects(load(onnx, { augment: true }), /test-time augmentation needs the checkpoint/);
  await assert.rejects(load(WEIGHTS, { augment: true, runtime: 'onnxruntime' }), /libtorch only/);
});
