// The library API (src/index.ts): inputs of every kind, options, results, drawing, fixed-size ONNX models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Detections, annotationSvg, classColor, exportOnnx, load, loadModel, type Detector } from '../src/index.js';
import { BUS, WEIGHTS, ZIDANE } from './helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'infer-api-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

// ONNX Runtime through an in-memory export: the same results as libtorch (last test), and fast on a busy machine.
let detector: Detector;
test.before(async () => {
  detector = await load(WEIGHTS, { runtime: 'onnxruntime' });
});

const rounded = (r: Detections) => r.boxes.map((b) => [b.classId, ...[b.x1, b.y1, b.x2, b.y2, b.confidence].map((v) => Math.round(v * 100) / 100)]);

test('a path, an encoded Buffer and raw RGB / RGBA pixels give the same detections', async () => {
  const fromPath = await detector.detect(BUS);
  const fromBuffer = await detector.detect(readFileSync(BUS));
  const { data, info } = await sharp(BUS, { ignoreIcc: true }).raw().toBuffer({ resolveWithObject: true });
  const fromRgb = await detector.detect({ data, width: info.width, height: info.height });
  const rgba = await sharp(BUS, { ignoreIcc: true }).ensureAlpha().raw().toBuffer();
  const fromRgba = await detector.detect({ data: rgba, width: info.width, height: info.height, channels: 4 });
  assert.equal(fromPath.boxes.length, 5);
  for (const other of [fromBuffer, fromRgb, fromRgba]) assert.deepEqual(rounded(other), rounded(fromPath));
  assert.equal(fromPath.source, BUS);
  assert.equal(fromBuffer.source, 'image buffer');
  assert.equal(fromRgb.source, 'raw pixels');
});

test('options: several inputs, class filter, max detections, thresholds, image size', async () => {
  // One batch, padded to 640x640: the bus sees more grey than alone (480x640), and its fourth person (0.52 alone)
  // falls to 0.16, as in YOLOv5's AutoShape (test/infer-batch.test.ts).
  const [bus, zidane] = await detector.detect([BUS, ZIDANE], { classes: [0] });
  assert.ok(bus!.boxes.length === 3 && bus!.boxes.every((b) => b.className === 'person'));
  assert.equal(zidane!.boxes.length, 2);
  assert.equal((await detector.detect(BUS, { maxDet: 2 })).boxes.length, 2);
  const strict = await detector.detect(BUS, { conf: 0.8 });
  assert.deepEqual(strict.boxes.map((b) => b.classId), [0, 0]);
  assert.ok(strict.boxes[0]!.confidence >= strict.boxes[1]!.confidence);
  const small = await detector.detect(ZIDANE, { imgsz: 320 });
  assert.deepEqual(small.inputSize, { width: 320, height: 192 });
  const rect = await detector.detect(ZIDANE, { imgsz: [256, 320] });
  assert.deepEqual(rect.inputSize, { width: 320, height: 192 });
});

test('bad inputs and options give clear errors', async () => {
  await assert.rejects(detector.detect('absent.jpg'), /absent\.jpg: cannot decode image/);
  await assert.rejects(detector.detect(Buffer.from('garbage')), /image buffer \(7 bytes\): cannot decode image/);
  await assert.rejects(detector.detect({ data: new Uint8Array(10), width: 4, height: 4 }), /raw pixels: 10 bytes for 4x4x3 \(expected 48\)/);
  await assert.rejects(detector.detect(BUS, { classes: [80] }), /class filter must be an integer from 0 to 79 \(a class index of this model\), got 80/);
  await assert.rejects(detector.detect(BUS, { conf: 2 }), /confidence threshold must be a number from 0 to 1, got 2/);
  await assert.rejects(load('absent.pt'), /cannot open weights absent\.pt: ENOENT/);
});

test('results: summary, YOLO label lines, JSON without pixels', async () => {
  const result = await detector.detect(BUS);
  assert.equal(result.summary(), '4 persons, 1 bus');
  const lines = result.labelLines({ saveConf: true }).trim().split('\n');
  assert.equal(lines.length, 5);
  const [cls, cx, cy, w, h, conf] = lines[0]!.split(' ').map(Number);
  const best = result.boxes[0]!;
  assert.equal(cls, best.classId);
  assert.ok(Math.abs(cx! - (best.x1 + best.x2) / 2 / 810) < 1e-5 && Math.abs(h! - (best.y2 - best.y1) / 1080) < 1e-5);
  assert.ok(w! > 0 && cy! > 0 && Math.abs(conf! - best.confidence) < 1e-5);
  assert.equal(result.labelLines().split('\n')[0]!.split(' ').length, 5);
  const json = JSON.parse(JSON.stringify(result)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json).sort(), ['boxes', 'imageSize', 'inputSize', 'source', 'timings']);
  assert.deepEqual(Object.keys((json.boxes as object[])[0]!).sort(), ['classId', 'className', 'confidence', 'x1', 'x2', 'y1', 'y2']);
  assert.deepEqual(Object.keys(json.timings as object).sort(), ['decode', 'inference', 'nms', 'preprocess']);
});

test('drawing: boxes in the class colour on the original image, labels escaped in the SVG', async () => {
  const result = await detector.detect(BUS, { classes: [5] });
  const { data, info } = await result.draw({ lineWidth: 4 }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [810, 1080]);
  const bus = result.boxes[0]!;
  // A pixel on the box's left edge, halfway down, is the palette colour of class 5.
  const [x, y] = [Math.round(bus.x1), Math.round((bus.y1 + bus.y2) / 2)];
  const pixel = [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
  assert.deepEqual(pixel, [0x48, 0xf9, 0x0a]);
  assert.equal(classColor(5), '#48F90A');
  assert.equal(classColor(25), classColor(5));
  const svg = annotationSvg(100, 80, [{ x1: 10, y1: 30, x2: 50, y2: 70, classId: 1, label: 'a<b & "c"' }], { lineWidth: 2 });
  assert.match(svg, /a&lt;b &amp; &quot;c&quot;/);
  assert.match(svg, /stroke="#FF9D97" stroke-width="2"/);
});

test('drawing into pixels (video frames): the boxes and tags of the SVG overlay, white text in each tag, the image untouched', async () => {
  const result = await detector.detect(ZIDANE);
  const before = result.image.data.slice();
  const options = { lineWidth: 4 };
  const drawn = await result.drawPixels(options);
  assert.deepEqual(result.image.data, before);
  const { data: svg } = await result.draw(options).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const width = drawn.width;
  const tags = result.annotationBoxes(options).map((b) => ({ x1: Math.round(b.x1), x2: Math.round(b.x1) + b.label!.length * 18 + 4, y2: Math.round(b.y1) }));
  const inTag = (x: number, y: number) => tags.some((t) => x >= t.x1 && x < t.x2 && y >= t.y2 - 40 && y < t.y2 + 40);
  let outside = 0;
  let differ = 0;
  let white = 0;
  for (let y = 0; y < drawn.height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      const gap = Math.max(...[0, 1, 2].map((k) => Math.abs(drawn.data[p + k]! - svg[p + k]!)));
      if (inTag(x, y)) {
        if (drawn.data[p]! > 240 && drawn.data[p + 1]! > 240 && drawn.data[p + 2]! > 240) white++;
      } else {
        outside++;
        if (gap > 40) differ++;
      }
    }
  }
  // Outside the label tags the pixels are the overlay's: an even line width leaves no half-covered pixel (the
  // outlines alone cover ten times the margin allowed).
  assert.ok(differ / outside < 0.002, `${differ} of ${outside} pixels differ from the SVG overlay`);
  assert.ok(white > 200 * result.boxes.length, `${white} white text pixels in ${result.boxes.length} tags`);
  const person = result.boxes[0]!;
  const [x, y] = [Math.round(person.x1), Math.round((person.y1 + person.y2) / 2)];
  assert.deepEqual([...drawn.data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3)], [0xff, 0x38, 0x38]);
});

test('a fixed-size ONNX model letterboxes to its own input size; a fixed batch larger than one is filled', async () => {
  const { model } = await loadModel(WEIGHTS);
  const file = join(tmp, 'fixed.onnx');
  writeFileSync(file, exportOnnx(model, { imgsz: [320, 320], batchSize: 2 }).bytes);
  const onnx = await load(file);
  const result = await onnx.detect(ZIDANE, { imgsz: 640 });
  assert.deepEqual(result.inputSize, { width: 320, height: 320 });
  const reference = await detector.detect(ZIDANE, { imgsz: 320 });
  assert.deepEqual(result.boxes.map((b) => b.classId), reference.boxes.map((b) => b.classId));
  await onnx.dispose();
  await assert.rejects(load(file, { runtime: 'libtorch' }), /runs on ONNX Runtime only/);
});

test('a .pt on libtorch and the same .pt exported in memory for ONNX Runtime agree', async () => {
  const torch = await load(WEIGHTS);
  assert.equal(torch.runtime, 'libtorch');
  assert.equal(detector.runtime, 'onnxruntime');
  const [a, b] = [await detector.detect(ZIDANE), await torch.detect(ZIDANE)];
  assert.deepEqual(rounded(a).map((r) => r[0]), rounded(b).map((r) => r[0]));
  a.boxes.forEach((box, i) => assert.ok(Math.abs(box.x1 - b.boxes[i]!.x1) < 0.05 && Math.abs(box.confidence - b.boxes[i]!.confidence) < 1e-4));
});
