import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apPerClass, computeAp, DetectionStats, interp, IOU_THRESHOLDS, linspace, matchDetections, smooth, summarize } from '../src/val/metrics.js';

const near = (actual: number, expected: number, message?: string): void =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${message ?? ''} expected ${expected}, got ${actual}`);

test('interp and linspace follow NumPy, including repeated x points and the ends', () => {
  assert.deepEqual(Array.from(linspace(0, 1, 5)), [0, 0.25, 0.5, 0.75, 1]);
  const xp = [0, 0.5, 0.5, 1];
  const fp = [1, 1, 0.5, 0];
  near(interp(0.25, xp, fp), 1);
  near(interp(0.5, xp, fp), 0.5, 'repeated x: the last point wins');
  near(interp(0.75, xp, fp), 0.25);
  near(interp(1, xp, fp), 0);
  near(interp(-1, xp, fp, 7), 7);
  near(interp(2, xp, fp), 0);
  assert.deepEqual(Array.from(smooth([0, 0, 3, 0, 0], 0.4)), [0, 1, 1, 1, 0], 'box of 3 with edges extended');
  assert.equal(IOU_THRESHOLDS.length, 10);
  near(IOU_THRESHOLDS[0]!, 0.5);
  near(IOU_THRESHOLDS[9]!, Math.fround(0.95));
});

test('AP: perfect detections give 0.995 (the 101-point envelope drops to 0 at recall 1), known curves their area', () => {
  near(computeAp([1], [1]), 0.995);
  near(computeAp([0.5, 1], [1, 1]), 0.995);
  // TP, FP, TP over two labels: precision 1 up to recall 0.5, then 2/3 up to recall 1.
  near(computeAp([0.5, 0.5, 1], [1, 0.5, 2 / 3]), 0.49 + (1 + 2 / 3) / 200 + (49 * 2) / 300 + 1 / 300);
  near(computeAp([0, 0], [0, 0]), 0, 'nothing found');
  near(computeAp([0.5], [1]), 0.75, 'half the labels found: precision 1, then the envelope falls linearly to 0 at recall 1');
});

test('matching: each detection takes its best label, each label its first detection, per threshold', () => {
  const labelClasses = [0, 0];
  const labelBoxes = Float64Array.from([0, 0, 10, 10, 2, 0, 12, 10]);
  const detections = Float32Array.from([
    0, 0, 10, 10, 0.9, 0, // IoU 1 with label 0
    0.5, 0, 10.5, 10, 0.8, 0, // best label is also label 0 (0.905 > 0.739): no match, although label 1 is free
    2, 0, 12, 10, 0.7, 1, // right place, wrong class
  ]);
  const correct = matchDetections(detections, labelClasses, labelBoxes);
  assert.deepEqual(Array.from(correct.subarray(0, 10)), new Array(10).fill(1));
  assert.deepEqual(Array.from(correct.subarray(10, 30)), new Array(20).fill(0));

  // The higher-scoring detection keeps the label while it qualifies; at 0.95 only the better box does.
  const pair = Float32Array.from([0.5, 0, 10.5, 10, 0.9, 0, 0, 0, 10, 10, 0.8, 0]);
  const one = matchDetections(pair, [0], Float64Array.from([0, 0, 10, 10]));
  assert.deepEqual(Array.from(one.subarray(0, 10)), [1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
  assert.deepEqual(Array.from(one.subarray(10, 20)), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(matchDetections(pair, [], new Float64Array(0)).length, 20);
});

test('ap per class: perfect class, class with a miss, class without detections', () => {
  const t = 1;
  // Class 0: 3 labels, 3 correct detections. Class 2: 2 labels, detections TP (0.9), FP (0.8), TP (0.7).
  // Class 5: one label, no detection. A class-7 detection without any class-7 label is ignored.
  const tp = Uint8Array.from([1, 1, 1, 1, 0, 1, 0]);
  const scores = [0.95, 0.9, 0.85, 0.9, 0.8, 0.7, 0.99];
  const predClasses = [0, 0, 0, 2, 2, 2, 7];
  const labelClasses = [0, 0, 0, 2, 2, 5];
  const table = apPerClass(tp, scores, predClasses, labelClasses, t);
  assert.deepEqual(table.classes, [0, 2, 5]);
  assert.deepEqual(table.instances, [3, 2, 1]);
  near(table.ap[0]![0]!, 0.995);
  near(table.ap[1]![0]!, computeAp([0.5, 0.5, 1], [1, 0.5, 2 / 3]));
  near(table.ap[2]![0]!, 0);
  // Best mean F1 lies at confidences up to 0.7, where every detection counts.
  near(table.precision[0]!, 1);
  near(table.recall[0]!, 1);
  near(table.precision[1]!, 2 / 3);
  near(table.recall[1]!, 1);
  assert.deepEqual([table.precision[2], table.recall[2]], [0, 0]);
  assert.deepEqual(table.truePositives, [3, 2, 0]);
  assert.deepEqual(table.falsePositives, [0, 1, 0]);
  const summary = summarize(table);
  near(summary.map50, (0.995 + table.ap[1]![0]!) / 3);
  near(summary.mp, (1 + 2 / 3) / 3);
  // PR curves: the precision envelope over recall; perfect until the drop at recall 1, and nothing without detections.
  const [perfect, halfway, none] = table.prCurves;
  assert.ok(perfect!.subarray(0, 999).every((p) => p === 1) && perfect![999] === 0);
  near(halfway![250]!, 1);
  near(halfway![750]!, 2 / 3);
  assert.ok(none!.every((p) => p === 0));
});

test('detection stats gather images; nothing correct anywhere means all metrics 0', () => {
  const stats = new DetectionStats();
  const detections = Float32Array.from([0, 0, 10, 10, 0.9, 1]);
  stats.add(matchDetections(detections, [1], Float64Array.from([0, 0, 10, 10])), detections, [1]);
  stats.add(new Uint8Array(0), new Float32Array(0), [0, 1]);
  assert.deepEqual(stats.instancesPerClass(3), [1, 2, 0]);
  const table = stats.compute();
  assert.deepEqual(table.classes, [0, 1]);
  near(table.ap[1]![0]!, 0.75, 'class 1: one of two labels found');
  near(table.ap[1]![9]!, table.ap[1]![0]!, 'exact box: the same at every threshold');

  const misses = new DetectionStats();
  const wrong = Float32Array.from([50, 50, 60, 60, 0.9, 0]);
  misses.add(matchDetections(wrong, [0], Float64Array.from([0, 0, 10, 10])), wrong, [0]);
  const empty = misses.compute();
  assert.deepEqual(empty.classes, []);
  assert.deepEqual(summarize(empty), { mp: 0, mr: 0, map50: 0, map: 0 });
});
