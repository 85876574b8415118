import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { imagesToTensor } from '../src/data/batch-tensor.js';
import { loadDatasetConfig, splitImageFiles } from '../src/data/dataset-config.js';
import { scanDataset } from '../src/data/dataset-scan.js';
import { createRgbImage, decodeImage, type RgbImage } from '../src/data/image.js';
import { fitLongSide, letterbox, strideMultiple } from '../src/data/letterbox.js';
import { planRectBatches } from '../src/data/rect-batches.js';
import { resizeImage } from '../src/data/resize.js';
import { ValLoader } from '../src/data/val-loader.js';
import { tidy } from '../src/torch/index.js';
import { BUS, COCO32 } from './helpers/fixtures.js';

/** A one-channel-looking image: every pixel's R=G=B from `values` (row-major). */
function grey(width: number, height: number, values: number[]): RgbImage {
  const image = createRgbImage(width, height);
  values.forEach((v, i) => image.data.fill(v, i * 3, i * 3 + 3));
  return image;
}

const reds = (image: RgbImage): number[] => Array.from({ length: image.width * image.height }, (_, i) => image.data[i * 3]!);

test('area resize averages the covered source area, fractional pixels by coverage', () => {
  const blocks = grey(4, 2, [0, 10, 20, 30, 40, 50, 60, 70]);
  assert.deepEqual(reds(resizeImage(blocks, 2, 1, 'area')), [25, 45]);
  // 3 → 2: each output covers 1.5 source pixels.
  assert.deepEqual(reds(resizeImage(grey(3, 1, [0, 90, 180]), 2, 1, 'area')), [30, 150]);
  // An exact 2× shrink rounds halves up, as OpenCV's integer path does ((sum + 2) >> 2; checked against cv2 4.6 on
  // random images); other sizes round them to even (a 3 → 2 shrink of [0, 1, 1] is [0.33, 1]; 2 × 1 → 1 × 1 of [2, 3] is 2).
  assert.deepEqual(reds(resizeImage(grey(4, 2, [0, 1, 2, 3, 0, 1, 2, 3]), 2, 1, 'area')), [1, 3]);
  assert.deepEqual(reds(resizeImage(grey(2, 1, [2, 3]), 1, 1, 'area')), [2]);
});

test('linear resize uses half-pixel centres and clamps at the edges', () => {
  assert.deepEqual(reds(resizeImage(grey(2, 1, [0, 100]), 4, 1, 'linear')), [0, 25, 75, 100]);
  assert.deepEqual(reds(resizeImage(grey(1, 2, [0, 100]), 1, 4, 'linear')), [0, 25, 75, 100]);
  assert.deepEqual(reds(resizeImage(grey(2, 1, [0, 100]), 4, 1, 'area')), [0, 25, 75, 100], 'area enlarges like linear');
  assert.throws(() => resizeImage(grey(2, 1, [0, 0]), 0, 1, 'linear'), /target width must be a positive integer, got 0/);
});

test('letterbox: aspect kept, grey padding split top/bottom, ratio and padding reported', () => {
  const image = createRgbImage(100, 50, 200);
  const boxed = letterbox(image, 64, { auto: false });
  assert.deepEqual([boxed.image.width, boxed.image.height], [64, 64]);
  assert.deepEqual(boxed.ratio, [0.64, 0.64]);
  assert.deepEqual(boxed.pad, [0, 16]);
  const at = (x: number, y: number): number => boxed.image.data[(y * 64 + x) * 3]!;
  assert.equal(at(10, 15), 114);
  assert.equal(at(10, 16), 200);
  assert.equal(at(10, 47), 200);
  assert.equal(at(10, 48), 114);

  const odd = letterbox(createRgbImage(100, 45, 200), 64, { auto: false });
  assert.deepEqual(odd.pad, [0, 17.5]);
  assert.equal(odd.image.height, 64);
  assert.equal(odd.image.data[(17 * 64) * 3], 200, 'the smaller half of an odd padding goes on top');
  assert.equal(odd.image.data[(16 * 64) * 3], 114);
});

test('letterbox options: auto pads to the stride, scaleFill stretches, scaleup=false never enlarges', () => {
  const auto = letterbox(createRgbImage(1280, 720), 640, { auto: true, stride: 32 });
  assert.deepEqual([auto.image.width, auto.image.height, ...auto.pad], [640, 384, 0, 12]);
  const fill = letterbox(createRgbImage(100, 50), 64, { auto: false, scaleFill: true });
  assert.deepEqual([fill.image.width, fill.image.height, ...fill.ratio, ...fill.pad], [64, 64, 0.64, 1.28, 0, 0]);
  const small = letterbox(createRgbImage(20, 10), { width: 64, height: 32 }, { auto: false, scaleup: false });
  assert.deepEqual([small.image.width, small.image.height, ...small.ratio, ...small.pad], [64, 32, 1, 1, 22, 11]);
  // A very thin image keeps at least one pixel across instead of resizing to 0 (which threw).
  const thin = letterbox(createRgbImage(12, 8000), 320, { auto: true, stride: 32 });
  assert.deepEqual([thin.image.width, thin.image.height], [32, 320]);
});

test('decoding applies the EXIF orientation; unreadable files are errors naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'yolov5-decode-'));
  // 4×2 pixels, left half red, right half blue, stored with orientation 6 (display rotated 90° clockwise).
  const pixels = Buffer.from([255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255, 255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255]);
  await sharp(pixels, { raw: { width: 4, height: 2, channels: 3 } }).png().withMetadata({ orientation: 6 }).toFile(join(dir, 'rotated.png'));
  const image = await decodeImage(join(dir, 'rotated.png'));
  assert.deepEqual([image.width, image.height], [2, 4]);
  assert.deepEqual(Array.from(image.data.subarray(0, 3)), [255, 0, 0], 'red on top after rotating clockwise');
  assert.deepEqual(Array.from(image.data.subarray(image.data.length - 3)), [0, 0, 255], 'blue at the bottom');
  writeFileSync(join(dir, 'broken.jpg'), 'not a jpeg');
  await assert.rejects(decodeImage(join(dir, 'broken.jpg')), (e: Error) => e.message.startsWith(`${join(dir, 'broken.jpg')}: cannot decode image`));
  await assert.rejects(decodeImage(join(dir, 'absent.png')), (e: Error) => e.message.startsWith(`${join(dir, 'absent.png')}: cannot decode image`));
});

test('fitLongSide truncates the short side like YOLOv5 load_image; stride multiples round up', async () => {
  const bus = await decodeImage(BUS);
  assert.deepEqual([bus.width, bus.height], [810, 1080]);
  const fitted = fitLongSide(bus, 320);
  assert.deepEqual([fitted.width, fitted.height], [240, 320]);
  assert.equal(fitLongSide(bus, 1080), bus);
  assert.equal(strideMultiple(320, 32), 320);
  assert.equal(strideMultiple(330, 32), 352);
});

test('rect batches: sorted by aspect ratio, shapes ceil(ratio·imgsz/stride + 0.5)·stride', () => {
  const sizes = [
    { width: 640, height: 480 },
    { width: 480, height: 640 },
    { width: 640, height: 640 },
    { width: 500, height: 375 },
    { width: 300, height: 600 },
  ];
  const batches = planRectBatches(sizes, { imgsz: 320, batchSize: 2, stride: 32, pad: 0.5 });
  assert.deepEqual(batches, [
    { indices: [0, 3], shape: { width: 352, height: 256 } },
    { indices: [2, 1], shape: { width: 352, height: 352 } },
    { indices: [4], shape: { width: 192, height: 352 } },
  ]);
  assert.throws(() => planRectBatches(sizes, { imgsz: 320, batchSize: 0, stride: 32 }), /batch size must be a positive integer/);
});

test('images to a [B,3,H,W] float tensor in [0,1], channel planes in RGB order', () => {
  const a = createRgbImage(2, 1);
  a.data.set([255, 0, 51, 0, 255, 102]);
  const b = createRgbImage(2, 1, 255);
  const values = tidy(() => {
    const x = imagesToTensor([a, b]);
    assert.deepEqual(x.shape, [2, 3, 1, 2]);
    return Array.from(x.data() as Float32Array);
  });
  assert.deepEqual(values.map((v) => Number(v.toFixed(3))), [1, 0, 0, 1, 0.2, 0.4, 1, 1, 1, 1, 1, 1]);
  assert.throws(() => imagesToTensor([a, createRgbImage(1, 2)]), /image 1 is 1x2, expected 2x1/);
});

test('validation loader: COCO val batches at their rect shape, placement recorded per image', async () => {
  const config = loadDatasetConfig(COCO32);
  const scan = await scanDataset(splitImageFiles(config, 'val'), { nc: config.nc });
  const loader = new ValLoader(scan.images, { imgsz: 320, batchSize: 16, stride: 32 });
  assert.equal(loader.length, 2);
  const batch = await loader.load(0);
  assert.equal(batch.items.length, 16);
  for (const item of batch.items) {
    assert.deepEqual([item.input.width, item.input.height], [batch.shape.width, batch.shape.height]);
    assert.equal(Math.max(item.resizedSize.width, item.resizedSize.height), 320);
    assert.equal(item.gain, item.resizedSize.height / item.originalSize.height);
    assert.equal(item.pad[0] * 2 + item.resizedSize.width, batch.shape.width);
    assert.equal(item.pad[1] * 2 + item.resizedSize.height, batch.shape.height);
  }
  // Batches come sorted by aspect ratio: the first holds the widest images.
  const aspects = batch.items.map((i) => i.originalSize.height / i.originalSize.width);
  assert.ok(Math.max(...aspects) < 1);
  assert.ok(batch.shape.width > batch.shape.height);
});

test('validation loader with a fixed shape (an exported model): batches in dataset order, each image letterboxed into it', async () => {
  const config = loadDatasetConfig(COCO32);
  const scan = await scanDataset(splitImageFiles(config, 'val'), { nc: config.nc });
  // Narrower than imgsz on one side, as a non-square export: images that do not fit after fitLongSide shrink again.
  const shape = { width: 320, height: 192 };
  const loader = new ValLoader(scan.images, { imgsz: 320, batchSize: 5, stride: 32, shape });
  assert.equal(loader.length, 7);
  assert.deepEqual(loader.batches.flatMap((b) => b.indices), [...scan.images.keys()]);
  assert.ok(loader.batches.every((b) => b.shape === shape));
  const items = (await Promise.all([0, 6].map((i) => loader.load(i)))).flatMap((b) => b.items);
  assert.equal(items.length, 7);
  for (const item of items) {
    const { resizedSize: resized, originalSize: original } = item;
    assert.deepEqual([item.input.width, item.input.height], [320, 192]);
    assert.ok(resized.width === 320 || resized.height === 192, `${resized.width}x${resized.height} touches a side`);
    assert.equal(item.pad[0] * 2 + resized.width, 320);
    assert.equal(item.pad[1] * 2 + resized.height, 192);
    assert.equal(item.gain, resized.height / original.height);
    assert.ok(Math.abs(item.gain * original.width - resized.width) <= 1, 'one scale for both sides');
  }
  assert.ok(items.some((item) => item.resizedSize.height === 192 && item.resizedSize.width < 320), 'a portrait image shrunk below imgsz');
});
