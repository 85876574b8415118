// The augmentation steps of the training pipeline on crafted images whose correct result is known.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pixelXyxyToXywhn, xywhnToPixelXyxy } from '../src/data/augment/boxes.js';
import { flipLeftRight, flipUpDown } from '../src/data/augment/flip.js';
import { augmentHsv, drawHsvGains } from '../src/data/augment/hsv.js';
import { DEFAULT_AUGMENT_HYP, resolveAugmentHyp, type AugmentHyp } from '../src/data/augment/hyp.js';
import { blendImages, sampleBeta } from '../src/data/augment/mixup.js';
import { buildMosaic } from '../src/data/augment/mosaic.js';
import { IDENTITY_PERSPECTIVE, isBoxCandidate, randomPerspective, warpBoxes, perspectiveMatrix } from '../src/data/augment/perspective.js';
import { buildTrainSample, type SampleSource } from '../src/data/augment/sample.js';
import { warpImage, type Matrix3 } from '../src/data/augment/warp.js';
import { createRgbImage, type RgbImage } from '../src/data/image.js';
import { letterbox } from '../src/data/letterbox.js';
import { createRng } from '../src/util/random.js';

type Rgb = [number, number, number];

function paint(image: RgbImage, x1: number, y1: number, x2: number, y2: number, colour: Rgb): void {
  for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) image.data.set(colour, (y * image.width + x) * 3);
}

function pixel(image: RgbImage, x: number, y: number): Rgb {
  const p = (y * image.width + x) * 3;
  return [image.data[p]!, image.data[p + 1]!, image.data[p + 2]!];
}

/** A grey image with one coloured rectangle, and its label (class 3). */
function sceneWithBox(width: number, height: number, box: [number, number, number, number], colour: Rgb = [200, 40, 30], background = 90): { image: RgbImage; labels: Float32Array } {
  const image = createRgbImage(width, height, background);
  const [x1, y1, x2, y2] = box;
  paint(image, x1, y1, x2, y2, colour);
  const labels = Float32Array.of(3, (x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height);
  return { image, labels };
}

/** The bounding box of the pixels that differ from the grey background by more than `tolerance`. */
function paintedExtent(image: RgbImage, background: number, tolerance = 40): [number, number, number, number] {
  let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const [r, g, b] = pixel(image, x, y);
      if (Math.abs(r - background) + Math.abs(g - background) + Math.abs(b - background) <= tolerance) continue;
      x1 = Math.min(x1, x);
      y1 = Math.min(y1, y);
      x2 = Math.max(x2, x + 1);
      y2 = Math.max(y2, y + 1);
    }
  }
  return [x1, y1, x2, y2];
}

function assertClose(actual: ArrayLike<number>, expected: readonly number[], tolerance = 1e-5): void {
  assert.equal(actual.length, expected.length, `${Array.from(actual)} vs ${expected}`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `element ${i}: ${Array.from(actual)} vs ${expected}`);
  }
}

const NO_AUGMENT: AugmentHyp = { ...DEFAULT_AUGMENT_HYP, hsv_h: 0, hsv_s: 0, hsv_v: 0, translate: 0, scale: 0, fliplr: 0, mosaic: 0 };

test('hyperparameters: defaults are hyp.scratch-low, unknown keys ignored, bad values rejected', () => {
  assert.deepEqual(resolveAugmentHyp({}), DEFAULT_AUGMENT_HYP);
  assert.equal(resolveAugmentHyp({ mosaic: 0.5, lr0: 0.01 } as Record<string, unknown>).mosaic, 0.5);
  assert.throws(() => resolveAugmentHyp({ fliplr: 1.5 }), /fliplr is a probability/);
  assert.throws(() => resolveAugmentHyp({ degrees: -1 }), /degrees must be a non-negative number/);
  assert.throws(() => resolveAugmentHyp({ scale: '0.5' }), /scale must be a non-negative number/);
});

test('box conversions: normalised xywh to pixels and back, clipped, degenerate boxes dropped', () => {
  const labels = Float32Array.of(1, 0.5, 0.5, 0.5, 0.25, 2, 0.1, 0.1, 0.2, 0.2);
  assertClose(xywhnToPixelXyxy(labels, 200, 100, 10, 20), [1, 60, 57.5, 160, 82.5, 2, 10, 20, 50, 40]);
  const back = pixelXyxyToXywhn(Float64Array.of(1, -10, 10, 50, 30, 2, 70, 10, 70, 30, 4, 10, 5, 40, 5), 100, 40);
  // Clipped at x = 0; the zero-width and zero-height rows are dropped.
  assertClose(back, [1, 0.25, 0.5, 0.5, 0.5]);
});

// Bytes from OpenCV 4.14 (cv2.warpAffine / cv2.warpPerspective with borderValue 114, and YOLOv5's augment_hsv on a
// 64-pixel row) for the inputs built below; the port must reproduce them exactly.
const OPENCV_AFFINE = [114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 124, 107, 112, 164, 81, 127, 132, 105, 120, 114, 114, 114, 114, 114, 114, 110, 116, 117, 102, 139, 72, 121, 192, 63, 168, 151, 94, 183, 58, 149, 66, 107, 169, 114, 114, 114, 53, 102, 151, 33, 124, 202, 90, 181, 43, 145, 236, 71, 202, 78, 128, 149, 94, 185, 65, 151, 242, 114, 114, 114, 90, 118, 147, 68, 159, 159, 125, 181, 51, 181, 72, 107, 198, 73, 164, 118, 130, 174, 96, 187, 46, 114, 114, 114, 114, 114, 114, 110, 187, 48, 160, 157, 86, 217, 60, 143, 50, 108, 199, 73, 164, 141, 131, 222, 60, 114, 114, 114, 114, 114, 114, 131, 156, 105, 195, 124, 121, 180, 87, 178, 52, 143, 194, 109, 200, 110, 166, 170, 92, 114, 114, 114, 114, 114, 114, 114, 114, 114, 122, 76, 155, 79, 122, 213, 85, 159, 51, 115, 157, 80, 118, 126, 111];
const OPENCV_PERSPECTIVE = [55, 115, 175, 72, 140, 100, 96, 173, 33, 127, 213, 58, 166, 140, 92, 192, 43, 134, 148, 88, 142, 114, 114, 114, 58, 149, 136, 97, 188, 51, 138, 229, 64, 177, 180, 103, 210, 53, 144, 153, 94, 185, 53, 124, 195, 114, 114, 114, 110, 201, 71, 148, 151, 74, 188, 47, 114, 226, 61, 152, 194, 103, 188, 52, 143, 170, 92, 177, 180, 114, 114, 114, 160, 162, 86, 197, 72, 123, 180, 71, 162, 26, 109, 200, 58, 149, 202, 98, 189, 31, 140, 151, 66, 120, 115, 108, 206, 101, 132, 189, 79, 170, 71, 116, 207, 64, 155, 232, 103, 194, 45, 144, 201, 70, 184, 65, 110, 143, 87, 118, 139, 86, 177, 114, 124, 175, 71, 162, 77, 109, 200, 83, 148, 239, 76, 179, 92, 110, 197, 63, 137, 154, 98, 129, 49, 115, 180, 78, 132, 153, 100, 143, 65, 114, 146, 89, 121, 141, 105, 120, 114, 113, 114, 114, 114, 114, 114, 114];
const OPENCV_HSV = [0, 0, 0, 5, 69, 143, 98, 0, 102, 144, 75, 23, 4, 3, 20, 9, 70, 163, 105, 0, 122, 153, 86, 48, 8, 6, 40, 12, 75, 183, 113, 0, 142, 162, 95, 74, 12, 10, 60, 64, 120, 0, 118, 0, 162, 170, 104, 99, 16, 13, 80, 63, 128, 0, 121, 0, 182, 179, 112, 121, 20, 17, 100, 69, 137, 25, 139, 32, 0, 0, 134, 162, 24, 20, 120, 78, 146, 49, 148, 24, 0, 0, 139, 182, 28, 24, 141, 88, 154, 75, 156, 24, 15, 5, 159, 0, 32, 27, 161, 96, 163, 100, 165, 32, 32, 0, 167, 11, 36, 31, 181, 105, 172, 125, 174, 40, 58, 0, 176, 23, 86, 86, 0, 113, 180, 151, 182, 48, 79, 49, 0, 78, 95, 95, 11, 150, 0, 180, 0, 92, 139, 52, 0, 98, 103, 103, 37, 151, 5, 0, 0, 95, 159, 59, 0, 118, 112, 112, 62, 160, 0, 5, 0, 101, 180, 59, 0, 138, 120, 120, 86, 169, 0, 22, 20, 125, 0, 63, 0, 159, 129, 129, 112, 177, 0, 35, 8, 133, 0, 65, 0, 179];

test('warps and HSV jitter reproduce OpenCV\'s bytes', () => {
  const source = createRgbImage(7, 6);
  for (let y = 0; y < 6; y++) for (let x = 0; x < 7; x++) for (let c = 0; c < 3; c++) source.data[(y * 7 + x) * 3 + c] = (x * 37 + y * 53 + c * 91) % 256;
  const a = (20 * Math.PI) / 180;
  const affine: Matrix3 = [0.9 * Math.cos(a), 0.9 * Math.sin(a) + 0.1, 1.3, -0.9 * Math.sin(a), 0.9 * Math.cos(a), 2.2, 0, 0, 1];
  assert.deepEqual(Array.from(warpImage(source, affine, 8, 7, 114).data), OPENCV_AFFINE);
  const perspective: Matrix3 = [1.1, 0.05, -0.7, -0.1, 0.95, 0.4, 0.01, -0.02, 1];
  assert.deepEqual(Array.from(warpImage(source, perspective, 8, 7, 114).data), OPENCV_PERSPECTIVE);

  const row = createRgbImage(64, 1);
  for (let i = 0; i < 64; i++) row.data.set([(i * 67) % 256, (i * 131) % 256, (i * 199) % 256], i * 3);
  augmentHsv(row, { hue: 1.012, saturation: 1.45, value: 0.72 });
  assert.deepEqual(Array.from(row.data), OPENCV_HSV);
});

test('warp: identity keeps pixels, an integer shift moves them and fills the border with 114', () => {
  const { image } = sceneWithBox(40, 30, [5, 6, 15, 12]);
  assert.deepEqual(warpImage(image, [1, 0, 0, 0, 1, 0, 0, 0, 1], 40, 30, 114).data, image.data);
  const shifted = warpImage(image, [1, 0, 7, 0, 1, -3, 0, 0, 1], 40, 30, 114);
  for (let y = 0; y < 27; y++) for (let x = 7; x < 40; x++) assert.deepEqual(pixel(shifted, x, y), pixel(image, x - 7, y + 3));
  assert.deepEqual(pixel(shifted, 3, 10), [114, 114, 114]);
  assert.deepEqual(pixel(shifted, 20, 29), [114, 114, 114]);
});

test('warp: half-pixel shift averages neighbours; perspective matrices warp too', () => {
  const image = createRgbImage(4, 1, 0);
  image.data.set([0, 0, 0, 100, 100, 100, 200, 200, 200, 50, 50, 50]);
  const half = warpImage(image, [1, 0, -0.5, 0, 1, 0, 0, 0, 1], 3, 1, 114);
  assert.deepEqual(Array.from(half.data).filter((_, i) => i % 3 === 0), [50, 150, 125]);
  const { image: scene } = sceneWithBox(64, 64, [20, 20, 40, 40]);
  const tilted = warpImage(scene, perspectiveMatrix({ ...IDENTITY_PERSPECTIVE, perspectiveX: 0.001 }, scene, scene), 64, 64, 114);
  assert.notDeepEqual(tilted.data, scene.data);
});

test('random perspective with identity parameters keeps the image and the boxes', () => {
  const { image, labels } = sceneWithBox(80, 60, [10, 12, 50, 40]);
  const rows = xywhnToPixelXyxy(labels, 80, 60);
  const warped = randomPerspective(image, rows, IDENTITY_PERSPECTIVE, image);
  assert.equal(warped.image, image);
  assert.deepEqual(Array.from(warped.rows), Array.from(rows));
});

test('random perspective: translation and scale move image content and boxes together', () => {
  // On the border grey, so that only the box stands out after warping.
  const { image, labels } = sceneWithBox(100, 100, [20, 30, 50, 70], [200, 40, 30], 114);
  const rows = xywhnToPixelXyxy(labels, 100, 100);
  // Half size, centre moved to (60, 40): a box at (20..50, 30..70) lands at (45..60, 30..50).
  const params = { ...IDENTITY_PERSPECTIVE, scale: 0.5, centreX: 0.6, centreY: 0.4 };
  const warped = randomPerspective(image, rows, params, image);
  assertClose(warped.rows, [3, 45, 30, 60, 50]);
  assert.deepEqual(paintedExtent(warped.image, 114), [45, 30, 60, 50]);
  // Rotation by 90°: the box's width and height swap.
  const turned = randomPerspective(image, rows, { ...IDENTITY_PERSPECTIVE, degrees: 90 }, image);
  const [, x1, y1, x2, y2] = Array.from(turned.rows);
  assert.ok(Math.abs(x2! - x1! - 40) < 1e-4 && Math.abs(y2! - y1! - 30) < 1e-4, `rotated box ${Array.from(turned.rows)}`);
  // OpenCV maps pixel centres, boxes map pixel edges: a rotation may shift the content by one pixel against its box.
  assertClose(paintedExtent(turned.image, 114), [x1!, y1!, x2!, y2!], 1.001);
});

test('box candidates: boxes pushed mostly out of the image, tiny or needle-thin are dropped', () => {
  assert.ok(isBoxCandidate({ w: 10, h: 10 }, { w: 9, h: 9 }));
  assert.ok(!isBoxCandidate({ w: 10, h: 10 }, { w: 2, h: 9 }), 'not wider than 2 pixels');
  assert.ok(!isBoxCandidate({ w: 100, h: 100 }, { w: 30, h: 30 }), 'keeps under 10% of its area');
  assert.ok(!isBoxCandidate({ w: 1000, h: 3 }, { w: 1000, h: 2.5 }), 'aspect ratio over 100');
  const shift: [number, number, number, number, number, number, number, number, number] = [1, 0, -45, 0, 1, 0, 0, 0, 1];
  const kept = warpBoxes(Float64Array.of(0, 40, 10, 60, 30, 1, 10, 10, 30, 30), shift, { width: 100, height: 100 }, 1);
  assert.deepEqual(Array.from(kept), [0, 0, 10, 15, 30], 'the box shifted off the left edge is gone, the other clipped');
});

test('flips mirror the pixels and the boxes', () => {
  const { image, labels } = sceneWithBox(50, 40, [5, 10, 20, 18]);
  flipLeftRight(image, labels);
  assert.deepEqual(paintedExtent(image, 90), [30, 10, 45, 18]);
  assertClose(labels, [3, 37.5 / 50, 14 / 40, 15 / 50, 8 / 40]);
  flipUpDown(image, labels);
  assert.deepEqual(paintedExtent(image, 90), [30, 22, 45, 30]);
  assertClose(labels, [3, 37.5 / 50, 26 / 40, 15 / 50, 8 / 40]);
});

test('HSV: a near-identity gain round-trips colours within OpenCV 8-bit precision', () => {
  const image = createRgbImage(64, 64);
  const rng = createRng(5);
  for (let i = 0; i < image.data.length; i++) image.data[i] = rng.int(0, 255);
  const original = image.data.slice();
  augmentHsv(image, { hue: 1, saturation: 1, value: 1 + 1e-9 });
  // Hue is kept in 2° steps: half a step moves a saturated channel by up to 255·6/180/2 ≈ 4.25 levels.
  let worst = 0;
  let total = 0;
  for (let i = 0; i < original.length; i++) {
    const change = Math.abs(image.data[i]! - original[i]!);
    worst = Math.max(worst, change);
    total += change;
  }
  assert.ok(worst <= 6, `largest channel change ${worst}`);
  assert.ok(total / original.length < 1, `mean channel change ${total / original.length}`);
});

test('HSV leaves geometry intact: grey stays grey, only colours shift, pure hue shifts move the hue', () => {
  const { image } = sceneWithBox(40, 40, [10, 10, 30, 30], [200, 40, 30]);
  augmentHsv(image, { hue: 1.2, saturation: 0.6, value: 1 });
  assert.deepEqual(paintedExtent(image, 90, 0), [10, 10, 30, 30]);
  const [r, g, b] = pixel(image, 20, 20);
  assert.ok(g > 40 && r > g && r > b, `red shifted towards orange and paler: ${[r, g, b]}`);
  const darker = sceneWithBox(40, 40, [10, 10, 30, 30]).image;
  augmentHsv(darker, { hue: 1, saturation: 1, value: 0.5 });
  assert.deepEqual(pixel(darker, 0, 0), [45, 45, 45]);
  const gains = drawHsvGains(createRng(1), DEFAULT_AUGMENT_HYP);
  assert.ok(Math.abs(gains.hue - 1) <= 0.015 && Math.abs(gains.saturation - 1) <= 0.7 && Math.abs(gains.value - 1) <= 0.4);
});

test('mosaic: four images meet at the centre of a 2s canvas, boxes follow their tiles', () => {
  const colours: Rgb[] = [[250, 0, 0], [0, 250, 0], [0, 0, 250], [250, 250, 0]];
  const tiles = colours.map((colour) => {
    const image = createRgbImage(64, 48, 0);
    paint(image, 0, 0, 64, 48, colour);
    return { image, labels: Float32Array.of(1, 0.5, 0.5, 0.5, 0.5) };
  });
  const mosaic = buildMosaic(tiles, 64, 70, 60);
  assert.equal(mosaic.image.width, 128);
  assert.equal(mosaic.image.height, 128);
  assert.deepEqual(pixel(mosaic.image, 69, 59), colours[0]);
  assert.deepEqual(pixel(mosaic.image, 70, 59), colours[1]);
  assert.deepEqual(pixel(mosaic.image, 69, 60), colours[2]);
  assert.deepEqual(pixel(mosaic.image, 70, 60), colours[3]);
  assert.deepEqual(pixel(mosaic.image, 2, 2), [114, 114, 114], 'above the top-left tile');
  // Top-left tile spans x 6..70, y 12..60; its centred half-size box: x 22..54, y 24..48.
  assert.deepEqual(Array.from(mosaic.rows.subarray(0, 5)), [1, 22, 24, 54, 48]);
  // Bottom-right tile starts at the centre and is cut by the canvas: x 70..128 (of 70..134).
  assert.deepEqual(Array.from(mosaic.rows.subarray(15, 20)), [1, 86, 72, 118, 96]);
});

test('mixup: Beta(32, 32) ratios stay near one half; blending averages pixels', () => {
  const rng = createRng(3);
  const ratios = Array.from({ length: 400 }, () => sampleBeta(rng, 32, 32));
  const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
  assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
  assert.ok(ratios.every((r) => r > 0.25 && r < 0.75));
  const a = createRgbImage(2, 2, 200);
  const b = createRgbImage(2, 2, 100);
  assert.deepEqual(Array.from(blendImages(a, b, 0.25).data), new Array(12).fill(125));
});

function memorySource(images: { image: RgbImage; labels: Float32Array }[]): SampleSource {
  return {
    count: images.length,
    labels: (i) => images[i]!.labels.slice(),
    load: async (i) => ({ image: images[i]!.image, originalSize: { width: images[i]!.image.width, height: images[i]!.image.height } }),
  };
}

test('a sample without augmentation is the letterboxed image with letterboxed labels', async () => {
  const scene = sceneWithBox(64, 40, [8, 4, 40, 30]);
  const target = { width: 64, height: 64 };
  const sample = await buildTrainSample(memorySource([scene]), 0, target, createRng(0), { imgsz: 64, augment: false, mosaic: false, hyp: DEFAULT_AUGMENT_HYP });
  const expected = letterbox(scene.image, target, { auto: false, scaleup: false });
  assert.deepEqual(sample.image.data, expected.image.data);
  assert.deepEqual(sample.shape, { originalSize: { width: 64, height: 40 }, resizedSize: { width: 64, height: 40 }, pad: [0, 12] });
  const [cls, cx, cy, w, h] = Array.from(sample.labels);
  assert.equal(cls, 3);
  for (const [got, want] of [[cx, 24 / 64], [cy, (17 + 12) / 64], [w, 32 / 64], [h, 26 / 64]] as const) assert.ok(Math.abs(got! - want) < 1e-6, `${got} vs ${want}`);
});

test('augmenting never writes into the source image (it may be a shared cache)', async () => {
  const scene = sceneWithBox(64, 64, [8, 4, 40, 30]);
  const before = scene.image.data.slice();
  const hyp = { ...NO_AUGMENT, hsv_v: 0.9, fliplr: 1 };
  const sample = await buildTrainSample(memorySource([scene]), 0, { width: 64, height: 64 }, createRng(2), { imgsz: 64, augment: true, mosaic: false, hyp });
  assert.deepEqual(scene.image.data, before);
  assert.notDeepEqual(sample.image.data, before);
  assert.ok(Math.abs(sample.labels[1]! - (1 - 24 / 64)) < 1e-6, 'flipped left-right');
});

test('mosaic samples are imgsz² with boxes inside; the same generator seed gives the same sample', async () => {
  const scenes = [0, 1, 2, 3, 4].map((k) => sceneWithBox(64 - 4 * k, 48, [4 + k, 6, 30 + k, 40], [200, 30 * k, 60]));
  const options = { imgsz: 64, augment: true, mosaic: true, hyp: { ...DEFAULT_AUGMENT_HYP, degrees: 10, shear: 5 } };
  for (let seed = 0; seed < 10; seed++) {
    const a = await buildTrainSample(memorySource(scenes), seed % 5, { width: 64, height: 64 }, createRng(seed), options);
    const b = await buildTrainSample(memorySource(scenes), seed % 5, { width: 64, height: 64 }, createRng(seed), options);
    assert.equal(a.image.width, 64);
    assert.equal(a.image.height, 64);
    assert.equal(a.shape, null);
    assert.deepEqual(a.image.data, b.image.data);
    assert.deepEqual(a.labels, b.labels);
    for (let i = 0; i < a.labels.length; i += 5) {
      const [cx, cy, w, h] = a.labels.subarray(i + 1, i + 5);
      assert.ok(w! > 0 && h! > 0 && cx! - w! / 2 >= -1e-6 && cx! + w! / 2 <= 1 + 1e-6 && cy! - h! / 2 >= -1e-6 && cy! + h! / 2 <= 1 + 1e-6);
    }
  }
});
