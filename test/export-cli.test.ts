// `yolov5 export` through the built CLI (dist/cli/main.js), and the benchmark function on the same small model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { saveCheckpoint } from '../src/checkpoint/index.js';
import { readMetadata } from '../src/export/index.js';
import { decodeModel } from '../src/export/onnx-proto.js';
import { benchmarkModel, compareOnnxLatency, formatBenchmark } from '../src/infer/benchmark.js';
import { Conv } from '../src/model/common.js';
import { loadModelConfig } from '../src/model/config.js';
import { DetectionModel } from '../src/model/yolo.js';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'export-cli-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

// yolov5n's architecture with 3 classes and a gate on every Conv, as a pruning run would save it.
const model = new DetectionModel(loadModelConfig('yolov5n'), { nc: 3, names: ['cat', 'dog', "o'brien"] });
for (const [, m] of model.namedModules()) if (m instanceof Conv) m.addGate();
const weights = join(tmp, 'gated.safetensors');
test.before(() => saveCheckpoint(weights, model));

const cli = (args: string[]) => run(process.execPath, ['dist/cli/main.js', 'export', ...args], { timeout: 120_000 });

test('yolov5 export writes a verified ONNX model next to the weights, with names and stride', async () => {
  const { stdout } = await cli(['--weights', weights, '--img', '96', '160', '--batch-size', '2', '--opset', '13']);
  assert.match(stdout, /imgsz=\[96, 160\], batch_size=2, dynamic=false, opset=13/);
  assert.match(stdout, /ONNX: channel gates folded into \d+ convolutions, 11 kept as Mul nodes/);
  assert.match(stdout, /ONNX: verified against libtorch, input \[2, 3, 96, 160\]: max \|onnx - libtorch\| = [\d.e+-]+ \(within/);
  const file = join(tmp, 'gated.onnx');
  assert.match(stdout, new RegExp(`input \\[2, 3, 96, 160\\] → output \\[2, 945, 8\\], saved as ${file}`));
  const decoded = decodeModel(readFileSync(file));
  assert.deepEqual(readMetadata(decoded.metadata_props, file), { stride: 32, names: ['cat', 'dog', "o'brien"] });
  assert.equal(decoded.metadata_props.find((p) => p.key === 'names')!.value, "{0: 'cat', 1: 'dog', 2: 'o\\'brien'}");
});

test('yolov5 export rounds the size up to the stride, and rejects other formats and bad opsets', async () => {
  const output = join(tmp, 'dynamic.onnx');
  const { stdout } = await cli(['--weights', weights, '--img', '70', '--dynamic', '--output', output]);
  assert.match(stdout, /WARNING: --img 70 must be a multiple of max stride 32, updating to 96$/m);
  assert.match(stdout, /input \[2, 3, 64, 96\]/, 'dynamic exports are also checked at another size and batch');
  assert.ok(existsSync(output));
  await assert.rejects(cli(['--weights', weights, '--include', 'torchscript']), /Allowed choices are onnx/);
  await assert.rejects(cli(['--weights', weights, '--opset', '7', '--output', join(tmp, 'x.onnx')]), /opset 7 is not supported/);
  await assert.rejects(cli(['--weights', join(tmp, 'absent.pt')]), /cannot open weights .*absent\.pt/);
});

test('the benchmark measures each runtime and stage, leaving an in-memory model untouched', async () => {
  const results = await benchmarkModel(model, { imgsz: 64, runs: 3, warmup: 1 });
  assert.deepEqual(results.map((r) => r.runtime), ['libtorch', 'onnxruntime']);
  for (const r of results) {
    assert.deepEqual(r.inputShape, [1, 3, 64, 64]);
    assert.equal(r.runs, 3);
    assert.equal(r.parameters, results[0]!.parameters);
    assert.ok(r.parameters! < model.numParameters(), 'parameters of the fused model (BatchNorm folded)');
    for (const stage of [r.preprocess, r.inference, r.nms, r.total]) assert.ok(stage.min <= stage.median && stage.min >= 0);
    assert.ok(r.total.median >= r.inference.median && r.fps > 0);
  }
  assert.ok([...model.namedModules()].every(([, m]) => !(m instanceof Conv) || m.bn !== null), 'the original keeps its BatchNorm');
  const table = formatBenchmark([{ name: 'gated', results }]).split('\n');
  assert.equal(table.length, 4);
  assert.match(table[2]!, /^gated +libtorch +\d+ +\d+ +[\d.]+ +64x64 /);
  assert.match(table[3]!, /^gated +onnxruntime /);

  const onnxOnly = await benchmarkModel(join(tmp, 'gated.onnx'), { runtimes: ['onnxruntime'], runs: 2, warmup: 0, imgsz: 64 });
  assert.equal(onnxOnly.length, 1);
  assert.deepEqual(onnxOnly[0]!.inputShape, [1, 3, 96, 160], 'a fixed-size model runs at its own size');
  assert.equal(onnxOnly[0]!.parameters, null);
});

test('side-by-side ONNX Runtime latency: runs alternate between the models (in memory or files), each gets its own figures', async () => {
  const narrow = new DetectionModel({ ...loadModelConfig('yolov5n'), width_multiple: 0.125 }, { nc: 3 });
  const [wide, small] = await compareOnnxLatency([model, narrow], { imgsz: 64, runs: 3, warmup: 1 });
  for (const r of [wide!, small!]) {
    assert.equal(r.runtime, 'onnxruntime');
    assert.equal(r.runs, 3);
    assert.deepEqual(r.inputShape, [1, 3, 64, 64]);
    assert.ok(r.inference.min > 0 && r.inference.min <= r.inference.median && r.total.median >= r.inference.median);
  }
  assert.ok(small!.gflops! < wide!.gflops! && small!.parameters! < wide!.parameters!);
  // An exported file is measured as it is (here the fixed 96×160 export of the first test).
  const [file] = await compareOnnxLatency([join(tmp, 'gated.onnx')], { imgsz: 64, runs: 2, warmup: 0 });
  assert.deepEqual(file!.inputShape, [1, 3, 96, 160]);
  assert.equal(file!.parameters, null);
  await assert.rejects(compareOnnxLatency([model], { runs: 0 }), /runs must be a positive integer, got 0/);
});
