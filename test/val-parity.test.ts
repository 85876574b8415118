// End to end with the official YOLOv5n weights on the 32 fixture images of COCO128 val: every metric agrees with
// the official implementation's (reference/yolov5n-val-official.json, measured with its NMS time limit lifted)
// within 0.002, at both image sizes, image by image and as one batch of 32, and at 640 in two batches of 16, which
// holds only when images of equal aspect ratio are batched in the order of numpy's argsort (test/data-rect-order:
// with a stable sort P is 0.570 against the official 0.6596). The whole of COCO128 is compared by
// bench/val-parity.ts, which takes the dataset's location as an argument. Test-time augmentation (val --augment) is
// held to the official augmented results on the same images image by image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadModel } from '../src/checkpoint/index.js';
import { ModelEnsemble } from '../src/model/ensemble.js';
import { validate, type Detector } from '../src/val/validator.js';
import { COCO32, REFERENCE, WEIGHTS } from './helpers/fixtures.js';
import { metricPairs, readOfficialReference } from './helpers/official-val.js';

const reference = readOfficialReference(join(REFERENCE, 'yolov5n-val-official.json'));

const RUNS = [
  [320, 1, false],
  [320, 32, false],
  [640, 1, false],
  [640, 16, false],
  [640, 32, false],
  [320, 1, true],
  [640, 1, true],
] as const;

const { model } = await loadModel(WEIGHTS);
const augmented = new ModelEnsemble([{ model, source: WEIGHTS }], { augment: true });

for (const [imgsz, batchSize, augment] of RUNS) {
  const what = `${imgsz}, batch ${batchSize}${augment ? ', test-time augmentation' : ''}`;
  test(`yolov5n on the 32 COCO128 val images at ${what}: P, R, mAP50, mAP50-95 within 0.002 of the official`, async () => {
    const results = augment ? reference.coco128_val32.tta_results : reference.coco128_val32.results;
    const expected = results.find((r) => r.imgsz === imgsz && r.batch_size === batchSize);
    assert.ok(expected, 'an official result for these settings');
    const detector: Detector = augment ? augmented : model;
    const result = await validate(detector, { data: COCO32, imgsz, batchSize, confThres: 0.001, iouThres: 0.6, maxDet: 300, quiet: true });
    assert.equal(result.seen, 32);
    assert.equal(result.instances, 221);
    for (const [name, ours, theirs] of metricPairs(result, expected)) assert.ok(Math.abs(ours - theirs) <= 0.002, `${name} ${ours.toFixed(4)} vs official ${theirs}`);
  });
}
