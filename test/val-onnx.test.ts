// `yolov5 val` on ONNX Runtime: the fixture yolov5n exported with dynamic axes and for a fixed 320×320 input at
// batch 1, validated on the 32 fixture images of COCO128 val against libtorch at the same settings (rectangular
// batches for the dynamic file, square letterboxed inputs for the fixed one), and the runs an ONNX file refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportOnnx, load, loadModel, validate } from '../src/index.js';
import { loadDatasetConfig } from '../src/data/dataset-config.js';
import { prepareSplit, type ValidationResult } from '../src/val/validator.js';
import { COCO32, WEIGHTS } from './helpers/fixtures.js';
import { runVal } from './helpers/run-val.js';

const tmp = mkdtempSync(join(tmpdir(), 'val-onnx-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const { model } = await loadModel(WEIGHTS);
model.fuse().eval();
const dynamicFile = join(tmp, 'dynamic.onnx');
const fixedFile = join(tmp, 'fixed320.onnx');
writeFileSync(dynamicFile, exportOnnx(model, { dynamic: true }).bytes);
writeFileSync(fixedFile, exportOnnx(model, { imgsz: 320 }).bytes);

const settings = { data: COCO32, imgsz: 320, confThres: 0.001, iouThres: 0.6, maxDet: 300, quiet: true };
const METRICS = ['P', 'R', 'mAP50', 'mAP50-95'];
const metrics = (r: ValidationResult) => [r.mp, r.mr, r.map50, r.map];

/** Each metric within 0.002 of libtorch's, the tolerance of the official parity test. */
function assertClose(onnx: ValidationResult, torch: ValidationResult): void {
  assert.equal(onnx.seen, 32);
  assert.equal(onnx.instances, 221);
  const expected = metrics(torch);
  metrics(onnx).forEach((value, k) => {
    assert.ok(Math.abs(value - expected[k]!) <= 0.002, `${METRICS[k]} ${value.toFixed(4)} vs libtorch ${expected[k]!.toFixed(4)}`);
  });
}

test('a dynamic ONNX model validates in rectangular batches of the given size as libtorch does', async () => {
  const detector = await load(dynamicFile);
  const lines: string[] = [];
  try {
    const onnx = await validate(detector.backend, { ...settings, batchSize: 8, quiet: false, progress: false, log: (line) => lines.push(line) });
    assertClose(onnx, await validate(model, { ...settings, batchSize: 8 }));
  } finally {
    await detector.dispose();
  }
  assert.ok(!lines.some((line) => line.startsWith('WARNING')), lines.join('\n'));
  assert.match(lines.join('\n'), /per image at shape \(8, 3, 320, 320\)$/m);
});

test('a fixed 320×320 batch-1 ONNX model validates on square inputs, one image a batch, as libtorch on the same', async () => {
  const detector = await load(fixedFile);
  const lines: string[] = [];
  let onnx: ValidationResult;
  try {
    onnx = await validate(detector.backend, { ...settings, imgsz: 640, batchSize: 8, quiet: false, progress: false, log: (line) => lines.push(line) });
  } finally {
    await detector.dispose();
  }
  assert.ok(lines.includes('WARNING: forcing --batch-size 1 square inference (1,3,320,320), the input this model was exported for'), lines.join('\n'));
  assert.match(lines.join('\n'), /per image at shape \(1, 3, 320, 320\)$/m);

  const square = await prepareSplit(loadDatasetConfig(COCO32), 'val', { imgsz: 320, batchSize: 1, stride: 32, shape: { width: 320, height: 320 } });
  try {
    assertClose(onnx, await validate(model, { ...settings, prepared: square }));
  } finally {
    await square.loader.close();
  }
  // Letterboxing to a square changes what the network sees: the numbers are not those of rectangular batches.
  assert.notDeepEqual(metrics(onnx), metrics(await validate(model, { ...settings, batchSize: 1 })));
});

test('yolov5 val --weights model.onnx: pictures and timings; ensembles, --augment and a fixed-size --task study refused with the file and why', async () => {
  const project = join(tmp, 'runs');
  const printed = await runVal(['--weights', dynamicFile, '--data', COCO32, '--img', '320', '--batch-size', '16', '--project', project]);
  assert.match(printed, new RegExp(`^Loaded ${dynamicFile} for ONNX Runtime inference$`, 'm'));
  assert.match(printed, /^ +all +32 +221 /m);
  for (const file of ['confusion_matrix.png', 'PR_curve.png', 'val_batch0_labels.jpg', 'val_batch1_pred.jpg']) assert.ok(existsSync(join(project, 'exp', file)), file);

  const speed = await runVal(['--weights', fixedFile, '--data', COCO32, '--task', 'speed', '--img', '320', '--project', project]);
  assert.match(speed, /^WARNING: forcing --batch-size 1 square inference \(1,3,320,320\)/m);
  assert.match(speed, /^Speed: [\d.]+ms pre-process, [\d.]+ms inference, [\d.]+ms NMS per image at shape \(1, 3, 320, 320\)$/m);

  const fails = (args: string[]) => runVal([...args, '--data', COCO32, '--img', '320', '--project', project]);
  await assert.rejects(fails(['--weights', dynamicFile, WEIGHTS]), new RegExp(`^Error: ${dynamicFile}: an ONNX model cannot join an ensemble: ONNX Runtime runs one model as exported`));
  await assert.rejects(fails(['--weights', WEIGHTS, fixedFile]), new RegExp(`^Error: ${fixedFile}: an ONNX model cannot join an ensemble`));
  await assert.rejects(fails(['--weights', dynamicFile, '--augment']), new RegExp(`^Error: ${dynamicFile}: test-time augmentation needs the checkpoint`));
  await assert.rejects(fails(['--weights', fixedFile, '--task', 'study']), new RegExp(`^Error: ${fixedFile}: --task study validates at several sizes, but this model takes 320x320 inputs only; export it with --dynamic$`));
});
