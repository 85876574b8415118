// benchmark() and synth(): `yolov5 benchmark` and `yolov5 dataset synth` as library calls, run for real on tiny
// settings; their refusals are checked against the command line's in options-declared.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchmark, synth } from '../src/index.js';
import { WEIGHTS } from './helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'api-benchmark-synth-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('benchmark() times the model on both runtimes and prints the command\'s settings line and table', async () => {
  const lines: string[] = [];
  const results = await benchmark({ weights: WEIGHTS, imgsz: 64, runs: 2, warmup: 1, threads: 1, log: (line) => lines.push(line) });
  assert.deepEqual(results.map((r) => r.runtime), ['libtorch', 'onnxruntime']);
  for (const r of results) {
    assert.deepEqual(r.inputShape, [1, 3, 64, 64], 'the synthetic 1280x720 picture letterboxed at 64');
    assert.equal(r.runs, 2);
    assert.ok(r.total.median > 0 && r.fps > 0);
  }
  assert.equal(lines[0], `benchmark: weights=${WEIGHTS}, imgsz=64, runs=2, warmup=1, threads=1, device=cpu`);
  assert.match(lines.join('\n'), /^yolov5n\.pt +libtorch .*\n^yolov5n\.pt +onnxruntime /m);
  assert.match(lines.at(-1)!, /^ONNX Runtime end-to-end \/ libtorch inference only \(medians\): \d+\.\d\d$/);
});

test('synth() writes the dataset the command writes and returns its yaml, counts and classes', async () => {
  const lines: string[] = [];
  const out = join(tmp, 'shapes');
  const dataset = await synth({ out, images: 3, valImages: 1, classes: 2, imgsz: 32, seed: 4, log: (line) => lines.push(line) });
  assert.deepEqual(dataset, { yaml: join(out, 'data.yaml'), train: 3, val: 1, names: ['circle', 'square'] });
  assert.ok(existsSync(dataset.yaml));
  assert.equal(readdirSync(join(out, 'images', 'train')).length, 3);
  assert.equal(readdirSync(join(out, 'labels', 'val')).length, 1);
  assert.match(lines[0]!, /^3 train \+ 1 val images, classes circle, square, in \d+\.\ds$/);
  assert.equal(lines[1], `dataset YAML: ${dataset.yaml}`);
});
