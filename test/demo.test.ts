import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runDemo } from '../src/demo/pipeline.js';
import { FAST_PLAN } from '../src/demo/plan.js';
import { load } from '../src/infer/predictor.js';

test('the fast demo runs every stage; the pruned model is smaller and still detects', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'yolov5-demo-')), 'demo');
  const lines: string[] = [];
  const result = await runDemo({ out, fast: true, progress: false, log: (line) => lines.push(line) });

  assert.deepEqual(result.stages.map((s) => s.stage), ['dataset', 'train', 'prune', 'export', 'benchmark', 'detect']);
  assert.ok(existsSync(result.dataset.yaml));
  assert.equal(readdirSync(join(out, 'data', 'images', 'train')).length, FAST_PLAN.images);
  assert.ok(existsSync(result.trainWeights));
  for (const file of [result.prune.report, result.prune.reportJson, result.prune.plot, ...result.prune.gates, result.prune.weights]) {
    assert.ok(existsSync(file), `${file} exists`);
  }
  assert.equal(result.prune.gates.length, FAST_PLAN.rounds);
  const report = JSON.parse(readFileSync(result.prune.reportJson, 'utf8')) as { original: { parameters: number } };
  assert.equal(report.original.parameters, result.original.parameters);

  // Both ONNX files are real exports of detection models of the dataset's classes.
  for (const model of [result.original, result.pruned]) {
    assert.ok(statSync(model.onnx).size > 10_000);
    const detector = await load(model.onnx);
    assert.deepEqual(detector.names, result.dataset.names);
    await detector.dispose();
    assert.equal(model.latency.runtime, 'onnxruntime');
    assert.deepEqual(model.latency.inputShape, [1, 3, 384, 640]);
    assert.ok(model.latency.total.median > 0);
  }

  // One annotated picture per held-out image and model, enlarged for viewing.
  for (const name of ['original', 'pruned'] as const) {
    const pictures = readdirSync(join(out, 'detections', name));
    assert.equal(pictures.length, FAST_PLAN.detectImages);
    const { width, format } = await sharp(join(out, 'detections', name, pictures[0]!)).metadata();
    assert.equal(format, 'jpeg');
    assert.ok(width! > FAST_PLAN.imgsz);
  }

  assert.ok(result.pruned.parameters < result.original.parameters, 'fewer parameters');
  assert.ok(result.pruned.gflops <= FAST_PLAN.targetFlops * result.original.gflops + 1e-9, `GFLOPs ${result.pruned.gflops} vs ${result.original.gflops}`);
  assert.ok(result.pruned.benchmarkGflops < result.original.benchmarkGflops);
  for (const model of [result.original, result.pruned]) {
    assert.ok(model.map50 > 0 && model.map50 <= 1);
    assert.ok(model.detections.labelled > 0 && model.detections.found <= model.detections.labelled);
  }
  // Still detects: at half the GFLOPs the pruned model keeps at least half the original's mAP50 (measured here:
  // 0.245 → 0.155) and finds labelled objects on the held-out images.
  assert.ok(result.pruned.map50 >= 0.5 * result.original.map50, `pruned mAP50 ${result.pruned.map50} vs original ${result.original.map50}`);
  assert.ok(result.pruned.detections.found >= 1, `the pruned model found ${result.pruned.detections.found} labelled objects`);

  const summary = readFileSync(join(out, 'summary.md'), 'utf8');
  assert.match(summary, /^original .*\n^pruned /m);
  assert.ok(lines.join('\n').includes(summary.trim()), 'the summary is printed');
  assert.ok(JSON.parse(readFileSync(join(out, 'demo.json'), 'utf8')).finished);
});

test('the demo refuses an output folder that holds something else', async () => {
  const out = mkdtempSync(join(tmpdir(), 'yolov5-demo-'));
  writeFileSync(join(out, 'notes.txt'), 'mine');
  await assert.rejects(runDemo({ out, fast: true, progress: false, log: () => {} }), /not empty and holds no earlier demo/);
  assert.deepEqual(readdirSync(out), ['notes.txt']);
});
