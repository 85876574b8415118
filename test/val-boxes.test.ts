import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxIou, boxIouAt, clipBoxes, labelsToInputPixels, scaleBoxesToOriginal, xywhToXyxy, xyxyToXywh } from '../src/val/boxes.js';

const rounded = (a: ArrayLike<number>): number[] => Array.from(a, (v) => Number(v.toFixed(6)));

test('xywh ↔ xyxy round trip, also on wider rows', () => {
  const boxes = Float64Array.from([50, 40, 20, 10, 10, 10, 4, 6]);
  assert.deepEqual(Array.from(xywhToXyxy(boxes)), [40, 35, 60, 45, 8, 7, 12, 13]);
  assert.deepEqual(Array.from(xyxyToXywh(boxes)), [50, 40, 20, 10, 10, 10, 4, 6]);
  const detections = Float32Array.from([10, 10, 4, 6, 0.9, 3]);
  assert.deepEqual(Array.from(xywhToXyxy(detections, 6)), [8, 7, 12, 13, 0.8999999761581421, 3]);
  assert.throws(() => xywhToXyxy(Float64Array.from([1, 2, 3])), /not made of rows of 4/);
});

test('IoU matrix: identical, disjoint, half-overlapping and nested boxes', () => {
  const a = Float64Array.from([0, 0, 10, 10, 0, 0, 2, 2]);
  const b = Float64Array.from([0, 0, 10, 10, 20, 20, 30, 30, 5, 0, 15, 10, 2.5, 2.5, 7.5, 7.5]);
  const iou = boxIou(a, b);
  assert.deepEqual(rounded(iou), [1, 0, 0.333333, 0.25, 0.04, 0, 0, 0]);
  assert.equal(boxIouAt(Float64Array.from([1, 1, 1, 1]), 0, Float64Array.from([1, 1, 1, 1]), 0), 0, 'empty boxes stay finite');
});

test('clip and map back through the letterbox placement', () => {
  assert.deepEqual(Array.from(clipBoxes(Float64Array.from([-5, 3, 120, 90]), { width: 100, height: 80 })), [0, 3, 100, 80]);
  // An original 200×100 image scaled by 0.5 into a 128×64 input, padded 14 px left and 7 px on top.
  const input = Float32Array.from([14, 7, 114, 57, 0.5, 2, 24, 17, 34, 27, 0.4, 1]);
  scaleBoxesToOriginal(input, { gain: 0.5, pad: [14, 7] }, { width: 200, height: 100 }, 6);
  assert.deepEqual(rounded(input), [0, 0, 200, 100, 0.5, 2, 20, 20, 40, 40, 0.4, 1]);
});

test('labels to input pixels: scaled by the resized size, shifted by the padding, kept inside the input', () => {
  const labels = Float32Array.from([3, 0.5, 0.5, 0.5, 0.5, 1, 0.05, 0.5, 0.5, 1]);
  const { classes, boxes } = labelsToInputPixels(labels, { width: 100, height: 50 }, [14, 7], { width: 128, height: 64 });
  assert.deepEqual(Array.from(classes), [3, 1]);
  assert.deepEqual(rounded(boxes), [39, 19.5, 89, 44.5, 0, 7, 44, 57]);
  const full = labelsToInputPixels(Float32Array.from([0, 0.5, 0.5, 1, 1]), { width: 64, height: 64 }, [0, 0], { width: 64, height: 64 });
  assert.deepEqual(rounded(full.boxes), [0, 0, 63.999, 63.999]);
});
