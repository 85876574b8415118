import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../src/checkpoint/index.js';
import { exportOnnx } from '../src/export/index.js';
import { load, type Detector } from '../src/infer/predictor.js';
import type { Box } from '../src/infer/results.js';
import { IMAGES, REFERENCE, WEIGHTS } from './helpers/fixtures.js';

interface ReferenceImage {
  letterboxed_shape_hw: [number, number];
  original_shape_hw: [number, number];
  detections_xyxy_conf_cls: [number, number, number, number, number, number][];
}
const reference = (JSON.parse(readFileSync(join(REFERENCE, 'yolov5n-reference-outputs.json'), 'utf8')) as Record<string, unknown>)[
  'detect_640_conf0.25_iou0.45'
] as Record<string, ReferenceImage>;

const tmp = mkdtempSync(join(tmpdir(), 'infer-reference-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function iou(a: Box, b: number[]): number {
  const iw = Math.max(0, Math.min(a.x2, b[2]!) - Math.max(a.x1, b[0]!));
  const ih = Math.max(0, Math.min(a.y2, b[3]!) - Math.max(a.y1, b[1]!));
  const inter = iw * ih;
  return inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter);
}

async function assertMatchesReference(detector: Detector): Promise<void> {
  for (const [file, ref] of Object.entries(reference)) {
    const result = await detector.detect(join(IMAGES, file), { conf: 0.25, iou: 0.45, imgsz: 640 });
    const where = `${detector.runtime} ${file}`;
    assert.deepEqual([result.inputSize.height, result.inputSize.width], ref.letterboxed_shape_hw, `${where}: letterboxed shape`);
    assert.deepEqual([result.imageSize.height, result.imageSize.width], ref.original_shape_hw, `${where}: original shape`);
    assert.equal(result.boxes.length, ref.detections_xyxy_conf_cls.length, `${where}: ${result.summary()}`);
    const unmatched = new Set(result.boxes);
    for (const expected of ref.detections_xyxy_conf_cls) {
      const candidates = [...unmatched].filter((b) => b.classId === expected[5]);
      const best = candidates.sort((p, q) => iou(q, expected) - iou(p, expected))[0];
      assert.ok(best, `${where}: no detection of class ${expected[5]} left for ${JSON.stringify(expected)}`);
      assert.ok(iou(best, expected) >= 0.95, `${where}: IoU ${iou(best, expected).toFixed(3)} with ${JSON.stringify(expected)}`);
      assert.ok(Math.abs(best.confidence - expected[4]) <= 0.02, `${where}: confidence ${best.confidence} vs ${expected[4]}`);
      assert.equal(best.className, detector.names[expected[5]]);
      unmatched.delete(best);
    }
  }
}

test('libtorch detections on bus.jpg and zidane.jpg match the official reference', async () => {
  const detector = await load(WEIGHTS);
  assert.equal(detector.runtime, 'libtorch');
  assert.equal(detector.stride, 32);
  assert.equal(detector.names[0], 'person');
  await assertMatchesReference(detector);
});

test('ONNX Runtime detections from an exported model match the official reference', async () => {
  const { model } = await loadModel(WEIGHTS);
  const file = join(tmp, 'yolov5n.onnx');
  writeFileSync(file, exportOnnx(model, { dynamic: true }).bytes);
  const detector = await load(file);
  assert.equal(detector.runtime, 'onnxruntime');
  assert.deepEqual(detector.names, model.names);
  await assertMatchesReference(detector);
  await detector.dispose();
});
