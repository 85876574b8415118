// Batched detect: a list of images runs as one forward (or in runs of a fixed batch size) and gives each image the
// results it gets alone when their letterboxed shapes agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { Detector, exportOnnx, load, loadModel, type Detections, type RawPixels } from '../src/index.js';
import { letterboxInput } from '../src/data/letterbox.js';
import { OnnxBackend, type Backend } from '../src/infer/backend.js';
import { decodeInput } from '../src/infer/input.js';
import { BUS, WEIGHTS, ZIDANE } from './helpers/fixtures.js';

/** A detector over `backend` that counts the forwards it runs and the batch sizes it sees. */
function counting(backend: Backend): { detector: Detector; batches: number[] } {
  const batches: number[] = [];
  const counted: Backend = {
    runtime: backend.runtime,
    names: backend.names,
    stride: backend.stride,
    input: backend.input,
    run: (input, options) => {
      batches.push(input.shape[0]);
      return backend.run(input, options);
    },
    dispose: () => backend.dispose(),
  };
  return { detector: new Detector(counted, 'counted'), batches };
}

/** Far from float noise, and far below what a real change of the input moves (whole pixels, percents). */
function assertSameDetections(actual: Detections, expected: Detections, what: string): void {
  assert.deepEqual(actual.boxes.map((b) => b.classId), expected.boxes.map((b) => b.classId), `${what}: classes`);
  actual.boxes.forEach((box, i) => {
    const other = expected.boxes[i]!;
    for (const k of ['x1', 'y1', 'x2', 'y2'] as const) assert.ok(Math.abs(box[k] - other[k]) < 0.5, `${what}: box ${i} ${k} ${box[k]} vs ${other[k]}`);
    assert.ok(Math.abs(box.confidence - other.confidence) < 1e-3, `${what}: box ${i} confidence ${box.confidence} vs ${other.confidence}`);
  });
}

// The bus mirrored: another picture of the same size, so its letterbox shape is the bus's own.
let mirroredBus: RawPixels;
let onnx: OnnxBackend;
test.before(async () => {
  const { data, info } = await sharp(BUS, { ignoreIcc: true }).flop().raw().toBuffer({ resolveWithObject: true });
  mirroredBus = { data, width: info.width, height: info.height };
  onnx = (await load(WEIGHTS, { runtime: 'onnxruntime' })).backend as OnnxBackend;
});
test.after(() => onnx.dispose());

test('images of one letterbox shape: one forward, each result the one it gets alone (ONNX Runtime, dynamic axes)', async () => {
  const { detector, batches } = counting(onnx);
  const alone = [await detector.detect(BUS), await detector.detect(mirroredBus)];
  batches.length = 0;
  const batch = await detector.detect([BUS, mirroredBus]);
  assert.deepEqual(batches, [2]);
  assert.equal(batch.length, 2);
  assert.equal(batch[0]!.source, BUS);
  assert.equal(batch[1]!.source, 'raw pixels');
  batch.forEach((result, i) => {
    assert.deepEqual(result.inputSize, alone[i]!.inputSize);
    assert.ok(result.boxes.length >= 4);
    assertSameDetections(result, alone[i]!, `image ${i}`);
  });
  // Not the same picture: the mirrored bus's boxes mirror the bus's.
  assert.ok(Math.abs(batch[1]!.boxes[0]!.x1 - batch[0]!.boxes[0]!.x1) > 50);
});

test('images of different shapes are padded to the largest: each as alone in a model of that fixed size', async () => {
  const { detector, batches } = counting(onnx);
  const batch = await detector.detect([BUS, ZIDANE]);
  assert.deepEqual(batches, [2]);
  // The bus alone is 480x640, Zidane 640x384: the batch is 640x640.
  for (const result of batch) assert.deepEqual(result.inputSize, { width: 640, height: 640 });
  assert.deepEqual(batch.map((r) => r.imageSize), [{ width: 810, height: 1080 }, { width: 1280, height: 720 }]);
  // Each image keeps its scale and sits centred in the 640x640 slot: just as a 640x640 model letterboxes it.
  const { model } = await loadModel(WEIGHTS);
  const square = new Detector(await OnnxBackend.create(exportOnnx(model, { imgsz: [640, 640] }).bytes), 'fixed 640');
  try {
    assertSameDetections(batch[0]!, await square.detect(BUS), 'bus');
    assertSameDetections(batch[1]!, await square.detect(ZIDANE), 'zidane');
  } finally {
    await square.dispose();
  }
});

test('a model exported with a fixed batch runs the images that many at a time, with the same results', async () => {
  const { model } = await loadModel(WEIGHTS);
  for (const batchSize of [1, 2]) {
    const backend = await OnnxBackend.create(exportOnnx(model, { imgsz: [320, 320], batchSize }).bytes);
    const { detector, batches } = counting(backend);
    try {
      const alone = [await detector.detect(BUS), await detector.detect(ZIDANE), await detector.detect(mirroredBus)];
      batches.length = 0;
      const batch = await detector.detect([BUS, ZIDANE, mirroredBus]);
      assert.deepEqual(batches, batchSize === 1 ? [1, 1, 1] : [2, 1]);
      batch.forEach((result, i) => assertSameDetections(result, alone[i]!, `batch size ${batchSize}, image ${i}`));
    } finally {
      await detector.dispose();
    }
  }
});

test('ONNX Runtime: only the rows above the objectness wanted come back, as many of each image as the whole output holds', async () => {
  const { input: bus } = letterboxInput((await decodeInput(BUS)).image, 320, { auto: false });
  // The bus, then its negative: images with different detections.
  const data = new Float32Array(2 * bus.data.length);
  data.set(bus.data);
  data.set(bus.data.map((v) => 1 - v), bus.data.length);
  const input = { data, shape: [2, 3, 320, 320] as [number, number, number, number] };
  const whole = await onnx.run(input);
  const wanted = await onnx.run(input, { minObjectness: 0.25 });
  assert.equal(whole.rows, undefined);
  const length = onnx.names.length + 5;
  const perImage = whole.predictions.length / 2;
  const expected = [0, 1].map((b) => {
    const rows: number[] = [];
    for (let at = b * perImage; at < (b + 1) * perImage; at += length) if (whole.predictions[at + 4]! > 0.25) rows.push(...whole.predictions.subarray(at, at + length));
    return rows;
  });
  assert.deepEqual(wanted.rows, expected.map((rows) => rows.length / length));
  assert.deepEqual([...wanted.predictions], expected.flat());
  assert.ok(wanted.rows![0]! >= 4 && wanted.rows![0] !== wanted.rows![1], `rows kept: ${wanted.rows}`);
});

test('libtorch: one forward for the batch, the same results as alone', async () => {
  const torch = await load(WEIGHTS);
  const { detector, batches } = counting(torch.backend);
  const alone = [await detector.detect(BUS, { imgsz: 320 }), await detector.detect(mirroredBus, { imgsz: 320 })];
  batches.length = 0;
  const batch = await detector.detect([BUS, mirroredBus], { imgsz: 320 });
  assert.deepEqual(batches, [2]);
  batch.forEach((result, i) => assertSameDetections(result, alone[i]!, `image ${i}`));
});

test('lists: types per overload, the empty list, timings shared, a bad image named by its place', async () => {
  const detector = new Detector(onnx, 'onnx');
  const one: Detections = await detector.detect(BUS, { imgsz: 320 });
  const many: Detections[] = await detector.detect([BUS] as const, { imgsz: 320 });
  assert.deepEqual(many[0]!.boxes, one.boxes);
  assert.deepEqual(await detector.detect([]), []);
  const [a, b] = await detector.detect([BUS, mirroredBus], { imgsz: 320 });
  assert.equal(a!.timings.inference, b!.timings.inference);
  assert.ok(a!.timings.decode > 0);
  await assert.rejects(detector.detect([BUS, Buffer.from('garbage')]), /^Error: inputs\[1\]: image buffer \(7 bytes\): cannot decode image/);
  await assert.rejects(detector.detect([BUS, ZIDANE], { classes: [99] }), /class filter must be an integer from 0 to 79 \(a class index of this model\), got 99/);
});
