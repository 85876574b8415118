// End to end with the official YOLOv5n weights on COCO128's val split at 320 pixels: our metrics must agree with
// the official implementation's (../shared/reference/yolov5n-coco128-val.json) within 0.005.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadModel } from '../src/checkpoint/index.js';
import { validate } from '../src/val/validator.js';

const SHARED = resolve('../shared');
const WEIGHTS = join(SHARED, 'weights/yolov5n.pt');
const DATA = join(SHARED, 'datasets/coco128/coco128.yaml');

interface Reference {
  settings: { conf_thres: number; iou_thres: number; max_det: number; batch_size: number };
  results: Record<string, { P: number; R: number; mAP50: number; mAP50_95: number }>;
}

test('yolov5n on coco128 val at 320: mAP50 and mAP50-95 within 0.005 of the official implementation', async () => {
  const reference = JSON.parse(readFileSync(join(SHARED, 'reference/yolov5n-coco128-val.json'), 'utf8')) as Reference;
  const expected = reference.results.imgsz_320!;
  const { model } = await loadModel(WEIGHTS);
  const result = await validate(model, {
    data: DATA,
    imgsz: 320,
    batchSize: reference.settings.batch_size,
    confThres: reference.settings.conf_thres,
    iouThres: reference.settings.iou_thres,
    maxDet: reference.settings.max_det,
    quiet: true,
  });
  assert.equal(result.seen, 128);
  assert.equal(result.instances, 898);
  assert.ok(Math.abs(result.map50 - expected.mAP50) <= 0.005, `mAP50 ${result.map50} vs official ${expected.mAP50}`);
  assert.ok(Math.abs(result.map - expected.mAP50_95) <= 0.005, `mAP50-95 ${result.map} vs official ${expected.mAP50_95}`);
});
