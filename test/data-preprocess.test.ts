// Pre-processing: the image addon (native/image) gives exactly the pixels of the JS path — resize with OpenCV's
// rules, pad, the float network input — for every kind of size change, on photos and on random images; the JS path
// still runs where the addon is forced off; bad arguments are errors, never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { imagesToInput } from '../src/data/batch-tensor.js';
import { decodeImage, type RgbImage } from '../src/data/image.js';
import { fitLongSide, letterbox, letterboxInput } from '../src/data/letterbox.js';
import { jsFallbackReason, jsPreprocessor, nativePreprocessor, preprocessor, type Placement, type Preprocessor } from '../src/data/preprocess.js';
import { resizeImage, type Interpolation } from '../src/data/resize.js';
import { createRng } from '../src/util/random.js';
import { BUS, COCO32, ZIDANE } from './helpers/fixtures.js';

const run = promisify(execFile);

function addon(): Preprocessor {
  assert.ok(nativePreprocessor, `the image addon must be built for these tests (make setup): ${jsFallbackReason}`);
  return nativePreprocessor;
}

function randomImage(width: number, height: number, seed: number): RgbImage {
  const rng = createRng(7, seed, width * 100_003 + height);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(0, 255);
  return { data, width, height };
}

/** Byte equality of two typed arrays; floats compared by their bits. */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView, what: string): void {
  const bytes = (v: ArrayBufferView): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (bytes(a).equals(bytes(b))) return;
  const x = bytes(a);
  const y = bytes(b);
  let i = 0;
  while (i < x.length && x[i] === y[i]) i++;
  assert.fail(`${what}: differ (lengths ${x.length} and ${y.length}, first difference at byte ${i})`);
}

/**
 * The pre-processing as it was before the addon, written out: resize.ts, a grey canvas, the rows copied in, then
 * value / 255 per channel plane. Both implementations must equal it.
 */
function reference(image: RgbImage, width: number, height: number, interpolation: Interpolation, at: Placement): { rgb: Uint8Array; input: Float32Array } {
  const resized = width === image.width && height === image.height ? image : resizeImage(image, width, height, interpolation);
  const rgb = new Uint8Array(3 * at.width * at.height).fill(at.pad);
  for (let y = 0; y < height; y++) rgb.set(resized.data.subarray(3 * y * width, 3 * (y + 1) * width), 3 * ((y + at.top) * at.width + at.left));
  const plane = at.width * at.height;
  const input = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) input[c * plane + p] = rgb[3 * p + c]! / 255;
  return { rgb, input };
}

/** Every output of both implementations against the reference, with and without padding. */
function checkAll(image: RgbImage, width: number, height: number, interpolation: Interpolation, at: Placement, what: string): void {
  const expected = reference(image, width, height, interpolation, at);
  const whole = { width, height, left: 0, top: 0, pad: 0 };
  const alone = reference(image, width, height, interpolation, whole);
  for (const p of [addon(), jsPreprocessor]) {
    const label = `${what} ${interpolation} (${p.backend})`;
    const plain = p.toRgb(image, width, height, interpolation);
    assert.deepEqual([plain.width, plain.height], [width, height]);
    sameBytes(plain.data, alone.rgb, `${label} RGB`);
    const padded = p.toRgb(image, width, height, interpolation, at);
    assert.deepEqual([padded.width, padded.height], [at.width, at.height]);
    sameBytes(padded.data, expected.rgb, `${label} padded RGB`);
    const input = new Float32Array(expected.input.length);
    p.toInput(image, width, height, interpolation, input, at);
    sameBytes(input, expected.input, `${label} padded input`);
    const unpadded = new Float32Array(alone.input.length);
    p.toInput(image, width, height, interpolation, unpadded);
    sameBytes(unpadded, alone.input, `${label} input`);
  }
}

test('the image addon is built and is what the library uses', () => {
  addon();
  assert.equal(preprocessor.backend, 'native');
  assert.equal(jsFallbackReason, undefined);
});

test('native = JS = the previous pixels on random images: shrinking, enlarging, odd sizes, exact 2×, 1×N, both interpolations', () => {
  const cases: [number, number, number, number][] = [
    [37, 23, 20, 11], // odd shrink
    [640, 480, 320, 240], // exact 2×: the integer path for area
    [64, 48, 32, 30], // 2× across only
    [641, 481, 320, 240], // just over 2×
    [100, 100, 33, 33], // 3.03×
    [1280, 720, 40, 22], // 32×
    [1000, 10, 7, 3],
    [10, 7, 33, 29], // enlarge
    [3, 3, 64, 64],
    [50, 10, 20, 40], // shrink across, enlarge down
    [10, 50, 40, 20],
    [17, 13, 17, 13], // the same size
    [1, 200, 1, 7], // 1×N extremes
    [200, 1, 9, 1],
    [1, 1, 5, 3],
    [5, 1, 1, 1],
    [12, 8000, 1, 320],
    [2, 2, 1, 1],
    [255, 97, 254, 96], // a hair smaller
    [96, 255, 97, 256], // a hair larger
  ];
  const rng = createRng(11, 0);
  cases.forEach(([sw, sh, dw, dh], k) => {
    const image = randomImage(sw, sh, k);
    const left = rng.int(0, 9);
    const top = rng.int(0, 9);
    const at = { width: dw + left + rng.int(0, 9), height: dh + top + rng.int(0, 9), left, top, pad: k % 2 === 0 ? 114 : rng.int(0, 255) };
    for (const interpolation of ['linear', 'area'] as const) checkAll(image, dw, dh, interpolation, at, `${sw}x${sh} → ${dw}x${dh}`);
  });
});

test('native = JS = the previous pixels on photos: detect letterboxes, validation and training fits', async () => {
  const images = readdirSync(join(resolve(COCO32, '..'), 'images', 'val2017')).sort().slice(0, 4);
  const photos = await Promise.all([BUS, ZIDANE, ...images.map((f) => join(resolve(COCO32, '..'), 'images', 'val2017', f))].map((f) => decodeImage(f)));
  for (const [i, photo] of photos.entries()) {
    const what = `photo ${i} (${photo.width}x${photo.height})`;
    // Enlarged too: bus.jpg (810x1080) to 1280, zidane.jpg (1280x720) to itself.
    for (const imgsz of i < 2 ? [640, 320, 1280] : [640, 320]) {
      const r = Math.min(imgsz / photo.width, imgsz / photo.height);
      const width = Math.round(photo.width * r);
      const height = Math.round(photo.height * r);
      // Detect's minimal padding to the stride, top/left taking the smaller half.
      const dw = ((imgsz - width) % 32) / 2;
      const dh = ((imgsz - height) % 32) / 2;
      const at = { width: width + Math.round(dw - 0.1) + Math.round(dw + 0.1), height: height + Math.round(dh - 0.1) + Math.round(dh + 0.1), left: Math.round(dw - 0.1), top: Math.round(dh - 0.1), pad: 114 };
      checkAll(photo, width, height, 'linear', at, `${what} at ${imgsz}`);
      // The loaders' long-side fit: area when shrinking.
      const fit = imgsz / Math.max(photo.width, photo.height);
      checkAll(photo, Math.trunc(photo.width * fit), Math.trunc(photo.height * fit), 'area', { ...at, width: imgsz, height: imgsz, left: 0, top: 0 }, `${what} fitted to ${imgsz}`);
    }
  }
});

test('letterboxInput is letterbox followed by imagesToInput, in one pass, with either implementation', async () => {
  const zidane = await decodeImage(ZIDANE);
  const boxed = letterbox(zidane, 640, { auto: true, stride: 32 });
  const expected = imagesToInput([boxed.image]).data;
  for (const p of [addon(), jsPreprocessor]) {
    const fused = letterboxInput(zidane, 640, { auto: true, stride: 32, preprocessor: p });
    assert.deepEqual(fused.input.shape, [1, 3, 384, 640]);
    assert.deepEqual([fused.ratio, fused.pad], [boxed.ratio, boxed.pad]);
    sameBytes(fused.input.data, expected, `zidane at 640 (${p.backend})`);
    sameBytes(letterbox(zidane, 640, { preprocessor: p }).image.data, boxed.image.data, `zidane letterboxed (${p.backend})`);
  }
  const bus = await decodeImage(BUS);
  const fitted = fitLongSide(bus, 320);
  sameBytes(letterboxInput(fitted, 320, { auto: false, scaleup: false }).input.data, imagesToInput([letterbox(fitted, 320, { auto: false, scaleup: false }).image]).data, 'bus fitted and padded');
});

test('YOLOV5_PREPROCESS=js runs the JS path, with the same network input; other values are refused', async () => {
  const script = `
    import { createHash } from 'node:crypto';
    import { decodeImage } from './dist-test/src/data/image.js';
    import { fitLongSide, letterboxInput } from './dist-test/src/data/letterbox.js';
    import { jsFallbackReason, preprocessor } from './dist-test/src/data/preprocess.js';
    const zidane = await decodeImage(${JSON.stringify(ZIDANE)});
    const bus = await decodeImage(${JSON.stringify(BUS)});
    const hash = createHash('sha256');
    hash.update(letterboxInput(zidane, 640).input.data);
    hash.update(fitLongSide(bus, 320).data);
    console.log(JSON.stringify({ backend: preprocessor.backend, why: jsFallbackReason, hash: hash.digest('hex') }));`;
  const child = (value: string) => run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, YOLOV5_PREPROCESS: value }, timeout: 60_000 });
  const [js, native] = await Promise.all([child('js'), child('')]);
  const fromJs = JSON.parse(js.stdout) as { backend: string; why: string; hash: string };
  const fromNative = JSON.parse(native.stdout) as { backend: string; hash: string };
  assert.deepEqual([fromJs.backend, fromJs.why, fromNative.backend], ['js', 'YOLOV5_PREPROCESS=js', 'native']);
  assert.equal(fromJs.hash, fromNative.hash);
  await assert.rejects(child('fast'), (e: { stderr: string }) => /YOLOV5_PREPROCESS=fast: the only value it takes is 'js'/.test(e.stderr));
});

test('bad arguments are clear errors from both paths and from the addon itself, never a crash', () => {
  const image = randomImage(8, 6, 1);
  for (const p of [addon(), jsPreprocessor]) {
    assert.throws(() => p.toRgb(image, 0, 3, 'linear'), /resize: target width must be a positive integer, got 0/);
    assert.throws(() => p.toRgb(image, 4.5, 3, 'linear'), /target width must be a positive integer, got 4\.5/);
    assert.throws(() => p.toRgb(image, 4, 3, 'linear', { width: 4, height: 4, left: 1, top: 0, pad: 0 }), /a 4x3 image at \(1, 0\) does not fit in a 4x4 output/);
    assert.throws(() => p.toRgb(image, 4, 3, 'linear', { width: 4, height: 3, left: 0, top: 0, pad: 300 }), /padding value must be an integer from 0 to 255, got 300/);
    assert.throws(() => p.toRgb({ ...image, width: 9 }, 4, 3, 'linear'), /a 9x6 RGB image needs 162 bytes, it has 144/);
    assert.throws(() => p.toInput(image, 4, 3, 'linear', new Float32Array(35)), /network input for a 4x3 output holds 36 floats, got 35/);
  }

  const raw = createRequire(import.meta.url)(resolve('native/image/build/Release/yolov5_image.node')) as Record<'resizeToRgb' | 'resizeToInput', (...args: unknown[]) => void>;
  const src = image.data;
  const rgbArgs = (changes: Record<number, unknown>): unknown[] => {
    const args: unknown[] = [src, 8, 6, 4, 3, 'area', new Uint8Array(36), 4, 3, 0, 0, 114];
    for (const [i, v] of Object.entries(changes)) args[Number(i)] = v;
    return args;
  };
  raw.resizeToRgb(...rgbArgs({}));
  const errors: [Record<number, unknown>, RegExp][] = [
    [{ 1: '8' }, /^TypeError: resizeToRgb: srcWidth must be a number$/],
    [{ 2: 0 }, /^RangeError: resizeToRgb: srcHeight must be an integer from 1 to 1048576, got 0$/],
    [{ 3: 2.5 }, /width must be an integer from 1 to 1048576, got 2.5$/],
    [{ 4: Number.NaN }, /height must be an integer from 1 to 1048576, got NaN$/],
    [{ 5: 'cubic' }, /^TypeError: resizeToRgb: interpolation must be 'area' or 'linear'$/],
    [{ 0: Array.from(src) }, /^TypeError: resizeToRgb: src must be a Uint8Array$/],
    [{ 0: src.subarray(1) }, /^RangeError: resizeToRgb: src has 143 elements, expected 3 x srcWidth x srcHeight = 144$/],
    [{ 6: new Float32Array(36) }, /^TypeError: resizeToRgb: out must be a Uint8Array$/],
    [{ 6: new Uint8Array(35) }, /out has 35 elements, expected 3 x outWidth x outHeight = 36$/],
    [{ 9: 1 }, /^RangeError: resizeToRgb: a 4x3 image at \(1, 0\) does not fit in the 4x3 output$/],
    [{ 10: -1 }, /top must be an integer from 0 to 1048576, got -1$/],
    [{ 11: 256 }, /pad must be an integer from 0 to 255, got 256$/],
    [{ 6: src.subarray(0, 36) }, /out must not share memory with src$/],
  ];
  for (const [changes, message] of errors) assert.throws(() => raw.resizeToRgb(...rgbArgs(changes)), (e: Error) => message.test(String(e)), JSON.stringify(changes));
  assert.throws(() => raw.resizeToRgb(src, 8, 6), /^TypeError: resizeToRgb: expected 12 arguments .*, got 3$/);
  assert.throws(() => raw.resizeToInput(src, 8, 6, 4, 3, 'area', new Uint8Array(36), 4, 3, 0, 0, 114), /^TypeError: resizeToInput: out must be a Float32Array$/);
});
