import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, tidy } from '../src/torch/index.js';
import { boxIouAt } from '../src/val/boxes.js';
import { greedyNms, nmsImage, nonMaxSuppression, type NmsOptions } from '../src/val/nms.js';

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Anchors clustered around a few centres so that many overlap: rows cx, cy, w, h, obj, class probabilities. */
function randomPredictions(rand: () => number, anchors: number, nc: number): Float32Array {
  const rows = new Float32Array(anchors * (5 + nc));
  const centres = Array.from({ length: 6 }, () => [rand() * 300 + 50, rand() * 300 + 50]);
  for (let a = 0; a < anchors; a++) {
    const [x, y] = centres[Math.floor(rand() * centres.length)]!;
    const o = a * (5 + nc);
    rows.set([x! + (rand() - 0.5) * 40, y! + (rand() - 0.5) * 40, 20 + rand() * 60, 20 + rand() * 60, rand()], o);
    for (let c = 0; c < nc; c++) rows[o + 5 + c] = rand();
  }
  return rows;
}

/** The reference algorithm written the slow, obvious way: every pair compared, classes kept apart by a check. */
function bruteForceNms(rows: Float32Array, nc: number, o: Required<Omit<NmsOptions, 'classes' | 'maxNms'>>): number[][] {
  const candidates: { box: number[]; score: number; cls: number }[] = [];
  for (let a = 0; a < rows.length / (5 + nc); a++) {
    const r = Array.from(rows.subarray(a * (5 + nc), (a + 1) * (5 + nc)));
    const [cx, cy, w, h, obj] = r as [number, number, number, number, number];
    if (obj <= o.confThres) continue;
    const box = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2].map(Math.fround);
    const scores = r.slice(5).map((p) => Math.fround(p * obj));
    if (o.multiLabel) {
      scores.forEach((score, cls) => score > o.confThres && candidates.push({ box, score, cls }));
    } else {
      const cls = scores.indexOf(Math.max(...scores));
      if (scores[cls]! > o.confThres) candidates.push({ box, score: scores[cls]!, cls });
    }
  }
  candidates.sort((p, q) => q.score - p.score);
  const kept: typeof candidates = [];
  const suppressed = new Set<number>();
  candidates.forEach((c, i) => {
    if (suppressed.has(i)) return;
    kept.push(c);
    candidates.forEach((d, j) => {
      if (j > i && (o.agnostic || d.cls === c.cls) && boxIouAt(Float64Array.from(c.box), 0, Float64Array.from(d.box), 0, 4, 4, 0) > o.iouThres) suppressed.add(j);
    });
  });
  return kept.slice(0, o.maxDet).map((k) => [...k.box, k.score, k.cls]);
}

const asRows = (detections: Float32Array): number[][] =>
  Array.from({ length: detections.length / 6 }, (_, i) => Array.from(detections.subarray(i * 6, i * 6 + 6)));

test('NMS matches a brute-force reference on random boxes (best class, multi-label, agnostic, max_det)', () => {
  const rand = random(7);
  const settings = [
    { confThres: 0.25, iouThres: 0.45, multiLabel: false, agnostic: false, maxDet: 300 },
    { confThres: 0.05, iouThres: 0.6, multiLabel: true, agnostic: false, maxDet: 300 },
    { confThres: 0.1, iouThres: 0.5, multiLabel: true, agnostic: true, maxDet: 300 },
    { confThres: 0.01, iouThres: 0.7, multiLabel: true, agnostic: false, maxDet: 25 },
  ];
  for (const [k, o] of settings.entries()) {
    for (let trial = 0; trial < 3; trial++) {
      const nc = 4;
      const rows = randomPredictions(rand, 300, nc);
      const expected = bruteForceNms(rows, nc, o);
      const got = asRows(nmsImage(rows, 5 + nc, o));
      assert.ok(expected.length > 5, 'the random case keeps several boxes');
      assert.deepEqual(got.map((r) => r.map((v) => Math.fround(v))), expected.map((r) => r.map((v) => Math.fround(v))), `setting ${k}, trial ${trial}`);
    }
  }
});

test('NMS details: objectness gate, score = obj × cls, class filter, suppression only above the IoU threshold', () => {
  const nc = 2;
  const rows = Float32Array.from([
    // cx, cy, w, h, obj, p0, p1
    50, 50, 20, 20, 0.9, 0.9, 0.1, // kept: score 0.81, class 0
    51, 50, 20, 20, 0.8, 0.9, 0.2, // overlaps the first (IoU ≈ 0.9), same class: suppressed
    51, 50, 20, 20, 0.85, 0.1, 0.9, // same place, other class: kept
    200, 200, 10, 10, 0.2, 1.0, 1.0, // objectness below 0.25: never a candidate
    60, 50, 20, 20, 0.7, 1.0, 0.5, // IoU with the first = 1/3: kept at 0.45
  ]);
  const best = asRows(nmsImage(rows, 5 + nc, { confThres: 0.25, iouThres: 0.45 }));
  assert.deepEqual(best.map((r) => [r[5], Number(r[4]!.toFixed(3))]), [[1, 0.765], [0, 0.81], [0, 0.7]].sort((a, b) => b[1]! - a[1]!));
  assert.deepEqual(best[0]!.slice(0, 4), [40, 40, 60, 60]);
  const onlyClass1 = asRows(nmsImage(rows, 5 + nc, { confThres: 0.25, classes: [1] }));
  assert.deepEqual(onlyClass1.map((r) => r[5]), [1]);
  const strict = asRows(nmsImage(rows, 5 + nc, { confThres: 0.25, iouThres: 0.3 }));
  assert.equal(strict.length, 2, 'IoU 1/3 > 0.3 now suppresses the third class-0 box');
  const multi = asRows(nmsImage(rows, 5 + nc, { confThres: 0.15, iouThres: 0.45, multiLabel: true }));
  assert.ok(multi.some((r) => r[5] === 1 && Math.abs(r[4]! - 0.35) < 1e-6), 'multi-label adds the second class (0.7 × 0.5) of the last box');
  assert.throws(() => nmsImage(rows, 5 + nc, { confThres: 1.5 }), /confidence threshold must be a number from 0 to 1, got 1\.5/);
  assert.throws(() => nmsImage(rows, 6, {}), /rows of 6 values/);
});

test('greedy NMS keeps the top box of each overlapping pile and stops at the limit', () => {
  const boxes = Float32Array.from([0, 0, 10, 10, 1, 0, 11, 10, 50, 50, 60, 60, 0, 0, 10, 10.5]);
  assert.deepEqual(greedyNms(boxes, 0.5), [0, 2]);
  assert.deepEqual(greedyNms(boxes, 0.5, 1), [0]);
  assert.deepEqual(greedyNms(boxes, 0.99), [0, 1, 2, 3]);
});

test('batched NMS over a [B, N, 5+nc] tensor equals per-image NMS', () => {
  const rand = random(11);
  const nc = 3;
  const a = randomPredictions(rand, 200, nc);
  const b = randomPredictions(rand, 200, nc);
  const batch = new Float32Array(a.length * 2);
  batch.set(a);
  batch.set(b, a.length);
  const options = { confThres: 0.1, iouThres: 0.6, multiLabel: true };
  const results = tidy(() => nonMaxSuppression(tensor(batch, [2, 200, 5 + nc]), options));
  assert.deepEqual(results, [nmsImage(a, 5 + nc, options), nmsImage(b, 5 + nc, options)]);
  assert.throws(() => tidy(() => nonMaxSuppression(tensor(a, [200, 5 + nc]))), /expects predictions \[batch, anchors, 5 \+ classes\]/);
});

test('hybrid labels join NMS as certain detections and suppress the predictions they overlap', () => {
  // Two classes; one prediction of class 0 at (50, 50), one of class 1 elsewhere.
  const rows = Float32Array.from([50, 50, 20, 20, 0.9, 0.8, 0.1, 150, 150, 20, 20, 0.9, 0.1, 0.7]);
  const labels = Float32Array.from([0, 52, 50, 20, 20]);
  const out = nmsImage(rows, 7, { confThres: 0.25, iouThres: 0.45, labels });
  assert.deepEqual(Array.from(out), [42, 40, 62, 60, 1, 0, 140, 140, 160, 160, Math.fround(Math.fround(0.7) * Math.fround(0.9)), 1]);
});
