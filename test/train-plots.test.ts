import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { extent, niceTicks, tickLabel } from '../src/plot/axes.js';
import { figureSvg, histogramCounts } from '../src/plot/figure.js';
import { saveFigure } from '../src/plot/render.js';
import { gaussianSmooth, plotLabelCorrelogram, plotLabels, plotResults } from '../src/train/plots.js';
import { fitness, restoreRecord, resultsCsv, writeResultsCsv, type EpochRecord } from '../src/train/results.js';
import { EarlyStopping } from '../src/train/early-stop.js';

const tmp = mkdtempSync(join(tmpdir(), 'train-plots-'));

test('axis ticks are round numbers inside the range; flat or noisy-flat data still gets an axis', () => {
  assert.deepEqual(niceTicks({ min: 0, max: 1 }, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks({ min: 3, max: 97 }, 5), [20, 40, 60, 80]);
  assert.deepEqual(extent([2, 2]), { min: 1.8, max: 2.2 });
  assert.deepEqual(extent([]), { min: 0, max: 1 });
  // Values equal up to float noise (a smoothed copy of one point) count as flat rather than a 1e-17 span.
  const noisy = extent([0.1234, 0.1234 * (1 + 1e-16)]);
  assert.ok(noisy.max - noisy.min > 0.02);
  assert.ok(niceTicks({ min: 0.1234, max: 0.1234 + 1e-17 }).length <= 21, 'a bounded number of ticks');
  assert.equal(tickLabel(0.00023), '2.3e-4');
  assert.equal(tickLabel(12), '12');
  assert.equal(tickLabel(0.123456), '0.1235');
});

test('histograms bin values over the range and drop those outside', () => {
  assert.deepEqual(histogramCounts([0, 0.1, 0.5, 0.99, 1, 1.5, -1], 4, { min: 0, max: 1 }), [2, 0, 1, 2]);
});

test('figures lay panels out in a grid, escape text, and render to PNG and JPEG', async () => {
  const svg = figureSvg(
    [
      { kind: 'lines', title: 'a <b> & c', series: [{ x: [0, 1, 2], y: [1, 3, 2], label: 'loss' }] },
      { kind: 'bars', categories: ['cat', 'dog'], values: [3, 5] },
      { kind: 'histogram', values: [0.1, 0.2, 0.2, 0.9], bins: 10, logY: true },
      { kind: 'scatter', x: [4.5, 2.1], y: [0.28, 0.2], labels: ['n', 'pruned'] },
      { kind: 'rects', rects: [{ cx: 0.5, cy: 0.5, w: 0.2, h: 0.4 }] },
      null,
      { kind: 'heatmap', values: [0.9, Number.NaN, 0.1, 1], rows: 2, columns: 2, rowLabels: ['a', 'b'], columnLabels: ['a', 'b'], annotateDecimals: 2, colourBar: true },
      { kind: '2d-histogram', x: [0.1, 0.2, 0.2], y: [0.5, 0.5, 0.6], bins: 4 },
    ],
    { columns: 3, panelWidth: 300, panelHeight: 200, title: 'demo' },
  );
  assert.match(svg, /^<svg [^>]*width="900" height="630"/);
  assert.equal((svg.match(/>0\.90</g) ?? []).length, 1, 'annotated cells; the NaN one stays blank');
  assert.match(svg, /a &lt;b&gt; &amp; c/);
  assert.ok(!svg.includes('NaN'));
  assert.throws(() => figureSvg([]), /at least one panel/);
  for (const file of ['f.png', 'f.jpg']) {
    await saveFigure([{ kind: 'bars', categories: ['x'], values: [1] }], join(tmp, file), { panelWidth: 320, panelHeight: 240 });
    const meta = await sharp(join(tmp, file)).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], [file.endsWith('png') ? 'png' : 'jpeg', 320, 240]);
  }
  await assert.rejects(saveFigure([{ kind: 'bars', categories: ['x'], values: [1] }], join(tmp, 'f.gif')), /use a \.png or \.jpg/);
});

test('smoothing mirrors the edges like scipy gaussian_filter1d', () => {
  assert.deepEqual(gaussianSmooth([5]), [5]);
  assert.deepEqual(gaussianSmooth([2, 2, 2, 2]), [2, 2, 2, 2]);
  // sigma 1 on a step: symmetric about the middle, monotone.
  const s = gaussianSmooth([0, 0, 0, 1, 1, 1], 1);
  s.forEach((v, i) => assert.ok(Math.abs(v + s[5 - i]! - 1) < 1e-12));
  assert.ok(s.every((v, i) => i === 0 || v >= s[i - 1]!));
});

function record(epoch: number, map: number, extra: Record<string, number> = {}): EpochRecord {
  return { epoch, train: [0.05, 0.07, 0.02], precision: 0.6, recall: 0.4, map50: map + 0.2, map, val: [0.04, 0.03, 0.01], lr: [0.09, 0.001, 0.001], fitness: fitness({ map50: map + 0.2, map }), extra };
}

test('results.csv has YOLOv5 column names plus hook columns; results.png and labels.jpg are drawn', async () => {
  const records = [record(0, 0.3), record(1, 0.32, { 'sparsity/below': 0.1 })];
  const csv = resultsCsv(records).trim().split('\n');
  assert.equal(
    csv[0],
    'epoch,train/box_loss,train/obj_loss,train/cls_loss,metrics/precision,metrics/recall,metrics/mAP_0.5,metrics/mAP_0.5:0.95,' +
      'val/box_loss,val/obj_loss,val/cls_loss,x/lr0,x/lr1,x/lr2,sparsity/below',
  );
  assert.equal(csv[1], '0,0.0500000,0.0700000,0.0200000,0.600000,0.400000,0.500000,0.300000,0.0400000,0.0300000,0.0100000,0.0900000,0.00100000,0.00100000,');
  assert.ok(csv[2]!.endsWith(',0.100000'));
  const path = join(tmp, 'results.csv');
  await writeResultsCsv(path, records);
  assert.equal(readFileSync(path, 'utf8'), resultsCsv(records));
  assert.equal(fitness({ map50: 0.5, map: 0.3 }), 0.1 * 0.5 + 0.9 * 0.3);

  await plotResults(records, join(tmp, 'results.png'));
  const results = await sharp(join(tmp, 'results.png')).metadata();
  assert.deepEqual([results.width, results.height], [5 * 360, 3 * 280], "YOLOv5's ten panels and a hook's, in rows of five");
  await plotLabels([Float32Array.from([0, 0.5, 0.5, 0.2, 0.3, 1, 0.2, 0.7, 0.1, 0.1])], ['cat', 'dog'], join(tmp, 'labels.jpg'));
  assert.equal((await sharp(join(tmp, 'labels.jpg')).metadata()).format, 'jpeg');
  await plotLabelCorrelogram([Float32Array.from([0, 0.5, 0.5, 0.2, 0.3, 1, 0.2, 0.7, 0.1, 0.1])], join(tmp, 'labels_correlogram.jpg'));
  const correlogram = await sharp(join(tmp, 'labels_correlogram.jpg')).metadata();
  assert.deepEqual([correlogram.format, correlogram.width, correlogram.height], ['jpeg', 1200, 1200]);
});

test('records from checkpoints written before validation losses were kept resume with empty val/ columns', () => {
  const { val, ...old } = record(0, 0.3);
  assert.deepEqual(val, [0.04, 0.03, 0.01]);
  const restored = [restoreRecord(old), restoreRecord({ ...old, val: [null, null, null] })];
  for (const r of restored) assert.ok(r.val.every((v) => Number.isNaN(v)));
  assert.match(resultsCsv(restored).split('\n')[1]!, /^0,(?:[^,]+,){7},,,0\.0900000,/);
});

test('early stopping waits `patience` epochs without improvement; 0 never stops', () => {
  const stopper = new EarlyStopping(2);
  assert.equal(stopper.update(0, 0.1), false);
  assert.equal(stopper.update(1, 0.1), false, 'equal fitness counts as progress');
  assert.equal(stopper.update(2, 0.05), false);
  assert.equal(stopper.possibleStop, true);
  assert.equal(stopper.update(3, 0.09), true);
  assert.deepEqual(stopper.state, { bestFitness: 0.1, bestEpoch: 1 });
  const never = new EarlyStopping(0);
  for (let e = 0; e < 50; e++) assert.equal(never.update(e, e === 0 ? 1 : 0), false);
});
