import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InferenceSession } from 'onnxruntime-node';
import { loadModel } from '../src/checkpoint/index.js';
import { entropyThreshold } from '../src/export/calibrate.js';
import { exportInt8File } from '../src/export/int8.js';
import { readMetadata } from '../src/export/metadata.js';
import { exportOnnx, onnxGraph } from '../src/export/onnx-export.js';
import { decodeModel } from '../src/export/onnx-proto.js';
import { activationsToQuantize, graphParts, quantizeWeights, uint8Params } from '../src/export/quantize.js';
import { load } from '../src/infer/predictor.js';
import { Conv } from '../src/model/common.js';
import { manualSeed, noGrad, rand } from '../src/torch/index.js';
import { BUS, COCO32, WEIGHTS } from './helpers/fixtures.js';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'export-int8-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('uint8 parameters represent zero exactly and cover the range', () => {
  for (const range of [{ min: -0.28, max: 6.5 }, { min: 0.1, max: 3 }, { min: -4, max: -1 }, { min: 0, max: 0 }]) {
    const { scale, zeroPoint } = uint8Params(range);
    assert.ok(Number.isInteger(zeroPoint) && zeroPoint >= 0 && zeroPoint <= 255);
    assert.ok(scale > 0);
    // q = zeroPoint encodes 0 with no error; the range's ends are within half a step of the codes 0 and 255.
    assert.ok(scale * (0 - zeroPoint) <= Math.min(range.min, 0) + scale / 2);
    assert.ok(scale * (255 - zeroPoint) >= Math.max(range.max, 0) - scale / 2);
  }
});

test('weights are int8 symmetric per output channel, within half a step of the float values', () => {
  const weight = Float32Array.from([0.5, -0.25, 0.125, 0.01, /* channel 1 */ -3, 1.5, 0, 2, /* channel 2 */ 0, 0, 0, 0]);
  const { q, scale } = quantizeWeights(weight, 3);
  assert.deepEqual([...q.slice(0, 4)], [127, -64, 32, 3]);
  assert.equal(q[4], -127);
  assert.ok(Math.abs(scale[0]! - 0.5 / 127) < 1e-9 && Math.abs(scale[1]! - 3 / 127) < 1e-9);
  assert.equal(scale[2], 1, 'an all-zero channel gets a harmless scale');
  weight.forEach((w, i) => assert.ok(Math.abs(q[i]! * scale[Math.floor(i / 4)]! - w) <= scale[Math.floor(i / 4)]! / 2 + 1e-7));
  // A floor on a channel's scale (to keep its int32 bias in range) is honoured.
  assert.ok(quantizeWeights(weight, 3, Float32Array.of(0.1, 0, 0)).scale[0]! >= 0.1);
});

test('entropy calibration clips far outliers and keeps the bulk of the distribution', () => {
  const hist = new Float64Array(2048);
  // A bell over the first 400 bins, and a handful of values near the maximum.
  for (let i = 0; i < 400; i++) hist[i] = Math.round(1e6 * Math.exp(-((i / 150) ** 2)));
  hist[2040] = 3;
  const threshold = entropyThreshold(hist, 2048);
  assert.ok(threshold > 250 && threshold < 1200, `threshold ${threshold}`);
});

test('the network body is quantized, the Detect decode is not', async () => {
  const { model } = await loadModel(WEIGHTS);
  const graph = onnxGraph(model, { imgsz: 320, opset: 13 }).message.graph;
  const { heads, body } = graphParts(graph);
  assert.equal(heads.length, 3, 'the three Detect convolutions');
  assert.ok(heads.every((h) => h.name.startsWith('model.24.m.')));
  assert.ok(![...body].some((n) => n.op_type === 'Pow' || n.op_type === 'Reshape'), 'the decode is outside the body');
  const body8 = activationsToQuantize(graph, { scope: 'body', quantizeHeads: false });
  const conv8 = activationsToQuantize(graph, { scope: 'conv', quantizeHeads: false });
  assert.equal(body8[0], 'images', 'the pixels themselves (k/255) are the first activation');
  assert.ok(conv8.length < body8.length && conv8.every((t) => body8.includes(t)));
  const headOutputs = heads.flatMap((h) => h.output);
  assert.ok(!body8.some((t) => headOutputs.includes(t)));
  assert.ok(headOutputs.every((t) => activationsToQuantize(graph, { scope: 'body', quantizeHeads: true }).includes(t)));
});

test('INT8 export: ONNX Runtime fuses it into integer kernels, it keeps the metadata and detects what the float model detects', async () => {
  const { model } = await loadModel(WEIGHTS);
  const file = join(tmp, 'yolov5n-int8.onnx');
  const progress: number[] = [];
  const result = await exportInt8File(model, file, { imgsz: 320, data: COCO32, calibImages: 8, compareImages: 4, onProgress: (done) => progress.push(done) });
  assert.equal(result.calibrationImages, 8);
  assert.equal(result.compared, 4);
  assert.equal(progress.at(-1), 8 * 2 + 4, 'percentile: two calibration passes, then the comparison');
  assert.equal(result.stats.int8Convs, 60);

  const bytes = readFileSync(file);
  const message = decodeModel(bytes);
  assert.equal(message.opset_import[0]!.version, 13);
  const meta = readMetadata(message.metadata_props, file);
  assert.deepEqual(meta, { stride: 32, names: model.names });
  assert.match(message.metadata_props.find((p) => p.key === 'quantization')!.value, /int8 QDQ.*percentile/);

  // What ONNX Runtime makes of it: every convolution of the body an integer kernel, the SiLUs too.
  const optimized = join(tmp, 'optimized.onnx');
  const session = await InferenceSession.create(file, { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized, logSeverityLevel: 3 });
  await session.release();
  const ops = decodeModel(readFileSync(optimized)).graph.node.map((n) => n.op_type);
  const count = (op: string) => ops.filter((o) => o === op).length;
  assert.equal(count('QLinearConv'), 57, 'the 57 body convolutions run as QLinearConv');
  assert.equal(count('QLinearSigmoid'), 57);
  assert.ok(count('QLinearConcat') > 0 && count('QLinearAdd') > 0);

  // Far looser than measured (objectness 0.001 mean, confident boxes 0.5 px): INT8 noise, not a broken graph.
  const error = Object.fromEntries(result.errors.map((e) => [e.output, e]));
  assert.ok(error.objectness!.meanAbs < 0.01, `objectness ${error.objectness!.meanAbs}`);
  assert.ok(error.xy!.meanAbsConfident < 3, `xy ${error.xy!.meanAbsConfident} px`);
  assert.ok(error.wh!.meanAbsConfident < 10, `wh ${error.wh!.meanAbsConfident} px`);

  // The float model's confident detections on bus.jpg are found again, same class, nearly the same box.
  const floatFile = join(tmp, 'yolov5n.onnx');
  writeFileSync(floatFile, exportOnnx(model, { imgsz: 320 }).bytes);
  const [float, int8] = [await load(floatFile), await load(file)];
  const reference = (await float.detect(BUS, { conf: 0.5 })).boxes;
  const quantized = (await int8.detect(BUS, { conf: 0.3 })).boxes;
  assert.ok(reference.length >= 3);
  const iou = (a: (typeof reference)[number], b: (typeof reference)[number]) => {
    const w = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
    const h = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
    return (w * h) / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - w * h);
  };
  for (const box of reference) {
    assert.ok(quantized.some((q) => q.classId === box.classId && iou(q, box) > 0.7), `${box.className} at ${box.x1},${box.y1} lost`);
  }
  await Promise.all([float.dispose(), int8.dispose()]);
});

test('a gated (pruning-ready) model quantizes too: gates fold into int8 weights or become uint8 constants of their Mul nodes', async () => {
  const { model } = await loadModel(WEIGHTS);
  manualSeed(0);
  for (const [, m] of model.namedModules()) {
    if (!(m instanceof Conv)) continue;
    const gate = m.addGate();
    noGrad(() => gate.weight.copy_(rand([m.outChannels]).mul(1.5).add(0.1)));
  }
  const result = await exportInt8File(model, join(tmp, 'gated-int8.onnx'), { imgsz: 128, data: COCO32, calibImages: 4, compareImages: 2, method: 'minmax' });
  assert.ok(result.onnx.gates.mulNodes > 0 && result.onnx.gates.foldedIntoConvs > 0);
  assert.equal(result.stats.constants, result.onnx.gates.mulNodes, 'every unfolded gate stored as uint8, so its Mul fuses');
  assert.ok(result.errors.find((e) => e.output === 'objectness')!.meanAbs < 0.02);
});

test('export --int8 asks for calibration data and a recent enough opset', async () => {
  const cli = (...args: string[]) => run(process.execPath, ['dist/cli/main.js', 'export', '--weights', WEIGHTS, '--output', join(tmp, 'x.onnx'), ...args]);
  await assert.rejects(cli('--int8'), /--int8 needs --data/);
  await assert.rejects(cli('--int8', '--data', COCO32, '--opset', '12'), /--int8 needs --opset 13 or later/);
  await assert.rejects(cli('--data', COCO32), /--data is used only with --int8/);
  await assert.rejects(cli('--int8', '--data', COCO32, '--calib-method', 'average'), /argument 'average' is invalid/);
});
