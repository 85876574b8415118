// The confusion matrix's counting on hand-made boxes: which pairs count, which are missed objects, which false alarms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfusionMatrix } from '../src/val/confusion-matrix.js';

/** Detection rows [x1, y1, x2, y2, conf, class] of 10×10 boxes given by their left edge. */
const detections = (...rows: [left: number, conf: number, cls: number][]) => Float64Array.from(rows.flatMap(([x, conf, cls]) => [x, 0, x + 10, 10, conf, cls]));
const labels = (...rows: [left: number, cls: number][]) => ({ classes: rows.map(([, cls]) => cls), boxes: Float64Array.from(rows.flatMap(([x]) => [x, 0, x + 10, 10])) });

test('confusion matrix: pairs above IoU 0.45 whatever the class; missed labels and unpaired predictions count against background', () => {
  const matrix = new ConfusionMatrix(3);
  const bg = 3;
  const truth = labels([0, 0], [20, 1], [40, 2], [60, 0]);
  matrix.processImage(
    detections(
      [0, 0.9, 0], // on the first label: correct
      [20, 0.8, 2], // on the second with the wrong class: counted as that class
      [1, 0.7, 0], // on the first label too (IoU 0.82), which the exact box took: a false alarm
      [80, 0.6, 1], // on nothing
      [60, 0.25, 0], // on the fourth label, but not above the confidence threshold
      [44, 0.5, 2], // IoU 0.43 with the third label: not enough
    ),
    truth.classes,
    truth.boxes,
  );
  const expected = new Map([
    ['0,0', 1],
    ['2,1', 1],
    ['0,3', 1],
    ['1,3', 1],
    ['2,3', 1],
    ['3,0', 1],
    ['3,2', 1],
  ]);
  for (let p = 0; p <= bg; p++) for (let t = 0; t <= bg; t++) assert.equal(matrix.at(p, t), expected.get(`${p},${t}`) ?? 0, `predicted ${p}, true ${t}`);

  // A prediction keeps only its best label: losing that one to a better prediction leaves it unpaired even though it
  // overlaps another label enough (YOLOv5's rule).
  const pair = labels([0, 1], [5, 1]);
  matrix.processImage(detections([0, 0.9, 1], [2, 0.8, 1]), pair.classes, pair.boxes); // IoU 0.67 and 0.54
  assert.equal(matrix.at(1, 1), 1);
  assert.equal(matrix.at(bg, 1), 1);
  assert.equal(matrix.at(1, bg), 2);

  // An image without labels still has its false alarms counted.
  matrix.processImage(detections([0, 0.5, 1]), [], new Float64Array(0));
  assert.equal(matrix.at(1, bg), 3);

  const normalised = matrix.normalisedByTruth();
  assert.ok(Math.abs(normalised[0 * 4 + 0]! - 0.5) < 1e-9 && Math.abs(normalised[bg * 4 + 0]! - 0.5) < 1e-9, 'columns sum to 1');
  assert.ok(Math.abs(normalised[1 * 4 + bg]! - 3 / 5) < 1e-9);
});
