// Detections.crop() (YOLOv5's save_one_box): the regions cut out, their pixels, the JPEGs saved under
// <dir>/<class>/<stem>.jpg with incrementing names, and detect's --save-crop folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Detections, load, runDetect, type Box, type Detector, type RgbImage } from '../src/index.js';
import { sourceStem } from '../src/infer/input.js';
import { BUS, WEIGHTS } from './helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'infer-crop-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** 100x80 pixels whose red is x, green y and blue 7: a crop's pixels tell where they came from. */
function coordinateImage(): RgbImage {
  const [width, height] = [100, 80];
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x, y, 7], (y * width + x) * 3);
  return { data, width, height };
}

function box(x1: number, y1: number, x2: number, y2: number, className = 'person'): Box {
  return { x1, y1, x2, y2, confidence: 0.9, classId: 0, className };
}

function detections(boxes: Box[], source = '/images/street.jpg'): Detections {
  const image = coordinateImage();
  const timings = { decode: 0, preprocess: 0, inference: 0, nms: 0 };
  return new Detections(source, boxes, { width: image.width, height: image.height }, { width: 640, height: 512 }, timings, image);
}

/** The crop's first and last pixels as [x, y] of the source image. */
function corners(image: RgbImage): [number, number][] {
  const last = (image.width * image.height - 1) * 3;
  assert.equal(image.data[2], 7);
  return [
    [image.data[0]!, image.data[1]!],
    [image.data[last]!, image.data[last + 1]!],
  ];
}

test('regions: size × 1.02 + 10 px around the centre, truncated, clipped; exact boxes and squares on request', async () => {
  const tall = box(20.7, 10.2, 30.9, 60.5);
  const result = detections([tall, box(90, 60, 100, 80)]);
  const [grown, edge] = await result.crop();
  assert.equal(grown!.box, tall);
  // Width 10.2 → 20.4 around 25.8: x 15.6..36.0 → 15..35 (the end excluded); height 50.3 → 61.3 around 35.35: y 4.7..66.0 → 4..65 (the end excluded).
  assert.deepEqual(corners(grown!.image), [[15, 4], [35, 65]]);
  assert.deepEqual([grown!.image.width, grown!.image.height], [21, 62]);
  // Cut at the image's right and bottom edges.
  assert.deepEqual(corners(edge!.image), [[84, 54], [99, 79]]);
  const [exact] = await result.crop({ gain: 1, pad: 0 });
  assert.deepEqual(corners(exact!.image), [[20, 10], [29, 59]]);
  // Square: the width grows to the height (61.3 around 25.8: x -4.85..56.45 → 0..55, clipped on the left).
  const [square] = await result.crop({ square: true });
  assert.deepEqual(corners(square!.image), [[0, 4], [55, 65]]);
  // A box left with no pixel after clipping gives no crop.
  assert.deepEqual(await detections([box(100, 10, 100, 20)]).crop({ gain: 1, pad: 0 }), []);
});

test('saving: JPEGs under <dir>/<class>/<stem>.jpg, then <stem>2.jpg, ...; class names kept inside the folder', async () => {
  const dir = join(tmp, 'crops');
  const result = detections([box(10, 10, 40, 50), box(50, 20, 90, 70), box(5, 5, 25, 25, 'traffic/light')]);
  const crops = await result.crop({ save: dir });
  assert.deepEqual(crops.map((c) => c.file), [join(dir, 'person', 'street.jpg'), join(dir, 'person', 'street2.jpg'), join(dir, 'traffic_light', 'street.jpg')]);
  const again = await result.crop({ save: dir, stem: 'frame' });
  assert.deepEqual(again.map((c) => c.file), [join(dir, 'person', 'frame.jpg'), join(dir, 'person', 'frame2.jpg'), join(dir, 'traffic_light', 'frame.jpg')]);
  assert.equal((await result.crop({ save: dir }))[0]!.file, join(dir, 'person', 'street3.jpg'));
  assert.deepEqual(readdirSync(dir).sort(), ['person', 'traffic_light']);
  // The JPEG holds the crop's pixels (quality 95: within a few levels).
  const { data, info } = await sharp(readFileSync(crops[1]!.file!)).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [crops[1]!.image.width, crops[1]!.image.height, 3]);
  let error = 0;
  for (let i = 0; i < data.length; i++) error += Math.abs(data[i]! - crops[1]!.image.data[i]!);
  assert.ok(error / data.length < 3, `mean error ${error / data.length}`);
});

test('stems from the source; bad options are named', async () => {
  assert.equal(sourceStem('/data/images/bus.jpg'), 'bus');
  assert.equal(sourceStem('https://example.com/img/zidane.png?size=large'), 'zidane');
  assert.equal(sourceStem('image buffer'), 'image');
  assert.equal(sourceStem('raw pixels'), 'image');
  const result = detections([box(10, 10, 40, 50)]);
  await assert.rejects(result.crop({ gain: 0 }), /crop gain must be a positive number, got 0/);
  await assert.rejects(result.crop({ pad: -1 }), /crop pad must be a number ≥ 0, got -1/);
  await assert.rejects(result.crop({ gain: Number.NaN }), /crop gain must be a positive number, got NaN/);
});

test('crops of a real detection match the decoded image; detect --save-crop writes crops/<class>/<name>.jpg', async () => {
  const detector: Detector = await load(WEIGHTS, { runtime: 'onnxruntime' });
  const result = await detector.detect(BUS);
  await detector.dispose();
  const crops = await result.crop({ gain: 1, pad: 0 });
  assert.equal(crops.length, result.boxes.length);
  const original = await sharp(BUS, { ignoreIcc: true }).raw().toBuffer({ resolveWithObject: true });
  for (const { box: b, image } of crops) {
    const region = { left: Math.trunc(b.x1), top: Math.trunc(b.y1), width: Math.trunc(b.x2) - Math.trunc(b.x1), height: Math.trunc(b.y2) - Math.trunc(b.y1) };
    const expected = await sharp(original.data, { raw: original.info }).extract(region).raw().toBuffer();
    assert.ok(Buffer.from(image.data).equals(expected), `crop of ${b.className} at ${region.left},${region.top}`);
  }
  const { saveDir } = await runDetect({ weights: WEIGHTS, source: BUS, project: tmp, name: 'run', nosave: true, saveCrop: true, log: () => {} });
  assert.deepEqual(readdirSync(join(saveDir, 'crops')).sort(), ['bus', 'person']);
  assert.deepEqual(readdirSync(join(saveDir, 'crops', 'person')).sort(), ['bus.jpg', 'bus2.jpg', 'bus3.jpg', 'bus4.jpg']);
  assert.ok(existsSync(join(saveDir, 'crops', 'bus', 'bus.jpg')));
});
