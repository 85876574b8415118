// The training loader end to end: worker threads, batches as tensors, determinism, rect batches, RAM cache,
// corrupt files, shutdown, and the batch picture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { loadDatasetConfig } from '../src/data/dataset-config.js';
import { decodeImage } from '../src/data/image.js';
import { fitLongSide, letterbox } from '../src/data/letterbox.js';
import { drawBatch } from '../src/plot/batch.js';
import { planRectBatches } from '../src/data/rect-batches.js';
import { createTrainLoader, type TrainBatch, type TrainLoader, type TrainLoaderOptions } from '../src/data/train-loader.js';
import { COCO32 } from './helpers/fixtures.js';

const coco = loadDatasetConfig(COCO32);
const base = { dataset: coco, split: 'train', labelCache: false, workers: 2 } as const;

async function withLoader<T>(options: TrainLoaderOptions, use: (loader: TrainLoader) => Promise<T>): Promise<T> {
  const loader = await createTrainLoader(options);
  try {
    return await use(loader);
  } finally {
    await loader.close();
  }
}

interface PlainBatch {
  shape: number[];
  images: Float32Array;
  targets: Float32Array;
  paths: string[];
  shapes: TrainBatch['shapes'];
}

/** The first `count` batches of an epoch as plain arrays (tensors freed). */
async function firstBatches(loader: TrainLoader, epoch: number, count: number): Promise<PlainBatch[]> {
  const out: PlainBatch[] = [];
  for await (const batch of loader.epoch(epoch)) {
    out.push({
      shape: batch.images.shape,
      images: batch.images.data() as Float32Array,
      targets: batch.targets.data() as Float32Array,
      paths: batch.paths,
      shapes: batch.shapes,
    });
    batch.images.dispose();
    batch.targets.dispose();
    if (out.length === count) break;
  }
  return out;
}

/** Writes a small YOLO dataset of PNGs (a coloured box on grey each) plus any extra files; returns its folder. */
async function craftDataset(count: number, extra: (root: string) => void = () => undefined): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'train-data-'));
  mkdirSync(join(root, 'images', 'train'), { recursive: true });
  mkdirSync(join(root, 'labels', 'train'), { recursive: true });
  for (let i = 0; i < count; i++) {
    const [width, height] = [96 + 16 * i, 64 + 8 * (i % 3)];
    const pixels = Buffer.alloc(width * height * 3, 100);
    const [x1, y1, x2, y2] = [10 + i, 8, 50 + i, 40];
    for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) pixels.set([200, 30 * i, 60], (y * width + x) * 3);
    await sharp(pixels, { raw: { width, height, channels: 3 } }).png().toFile(join(root, 'images', 'train', `im${i}.png`));
    const label = `${i % 2} ${(x1 + x2) / 2 / width} ${(y1 + y2) / 2 / height} ${(x2 - x1) / width} ${(y2 - y1) / height}\n`;
    writeFileSync(join(root, 'labels', 'train', `im${i}.txt`), label);
  }
  extra(root);
  return root;
}

test('batches: float32 [B, 3, H, W] images in [0, 1], [N, 6] targets inside the image', async () => {
  await withLoader({ ...base, imgsz: 160, batchSize: 8, seed: 1 }, async (loader) => {
    assert.equal(loader.numImages, 32);
    assert.equal(loader.length, 4);
    assert.equal(loader.summary, '32 images, 0 backgrounds, 0 corrupt');
    assert.equal(loader.labels.length, 32);
    assert.equal(loader.labels.reduce((n, rows) => n + rows.length / 5, 0), 221);
    for await (const batch of loader.epoch(0)) {
      assert.deepEqual(batch.images.shape, [8, 3, 160, 160]);
      assert.equal(batch.images.dtype, 'float32');
      assert.equal(batch.targets.dtype, 'float32');
      assert.equal(batch.targets.ndim, 2);
      assert.equal(batch.targets.shape[1], 6);
      assert.ok(batch.targets.shape[0]! > 0);
      const pixels = batch.images.data() as Float32Array;
      assert.ok(pixels.every((v) => v >= 0 && v <= 1));
      const t = batch.targets.data() as Float32Array;
      for (let r = 0; r < t.length; r += 6) {
        const [i, cls, cx, cy, w, h] = t.subarray(r, r + 6);
        assert.ok(Number.isInteger(i) && i! >= 0 && i! < 8 && Number.isInteger(cls) && cls! >= 0 && cls! < 80);
        assert.ok(w! > 0 && h! > 0 && cx! - w! / 2 >= -1e-5 && cx! + w! / 2 <= 1 + 1e-5 && cy! - h! / 2 >= -1e-5 && cy! + h! / 2 <= 1 + 1e-5);
      }
      assert.equal(batch.paths.length, 8);
      assert.ok(batch.shapes.every((shape) => shape === null), 'every sample is a mosaic with mosaic = 1');
      batch.images.dispose();
      batch.targets.dispose();
      if (batch.index === 1) break;
    }
    assert.equal(loader.stats.batches, 2);
    assert.ok(loader.stats.waitMs >= 0 && loader.stats.collateMs >= 0);
  });
});

test('without augmentation the images are letterboxed files and targets the letterboxed labels', async () => {
  await withLoader({ ...base, imgsz: 160, batchSize: 4, augment: false, shuffle: false }, async (loader) => {
    const [batch] = await firstBatches(loader, 0, 1);
    assert.deepEqual(batch!.shape, [4, 3, 160, 160]);
    const plane = 160 * 160;
    for (let i = 0; i < 4; i++) {
      const file = batch!.paths[i]!;
      const decoded = await decodeImage(file);
      const resized = fitLongSide(decoded, 160);
      const boxed = letterbox(resized, 160, { auto: false, scaleup: false });
      // The image, back in HWC bytes.
      const bytes = new Uint8Array(3 * plane);
      for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) bytes[p * 3 + c] = Math.round(batch!.images[(i * 3 + c) * plane + p]! * 255);
      assert.deepEqual(bytes, boxed.image.data, `pixels of ${file}`);
      assert.deepEqual(batch!.shapes[i], { originalSize: { width: decoded.width, height: decoded.height }, resizedSize: { width: resized.width, height: resized.height }, pad: boxed.pad });

      const expected: number[] = [];
      const rows = loader.labels[i]!;
      for (let r = 0; r < rows.length; r += 5) {
        const [cls, cx, cy, w, h] = rows.subarray(r, r + 5);
        const sx = boxed.ratio[0] * resized.width;
        const sy = boxed.ratio[1] * resized.height;
        expected.push(i, cls!, (cx! * sx + boxed.pad[0]) / 160, (cy! * sy + boxed.pad[1]) / 160, (w! * sx) / 160, (h! * sy) / 160);
      }
      const got = Array.from(batch!.targets).filter((_, k) => batch!.targets[k - (k % 6)] === i);
      assert.equal(got.length, expected.length, `targets of ${file}`);
      got.forEach((v, k) => assert.ok(Math.abs(v - expected[k]!) < 1e-4, `${file} target value ${k}: ${v} vs ${expected[k]}`));
    }
  });
});

test('same seed gives the same batches whatever the worker count; another seed differs', async () => {
  const options = { ...base, imgsz: 128, batchSize: 4, hyp: { mixup: 0.5, degrees: 5 } };
  const a = await withLoader({ ...options, seed: 3, workers: 1 }, (loader) => firstBatches(loader, 2, 2));
  const b = await withLoader({ ...options, seed: 3, workers: 3 }, (loader) => firstBatches(loader, 2, 2));
  const c = await withLoader({ ...options, seed: 4, workers: 2 }, (loader) => firstBatches(loader, 2, 2));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a[0]!.paths, c[0]!.paths, 'another shuffle');
  assert.notDeepEqual(a[0]!.images, c[0]!.images);
});

test('epochs shuffle differently; an epoch left early leaves the loader usable', async () => {
  await withLoader({ ...base, imgsz: 64, batchSize: 16 }, async (loader) => {
    const [first] = await firstBatches(loader, 0, 1);
    const [second] = await firstBatches(loader, 1, 1);
    assert.notDeepEqual(first!.paths, second!.paths);
    const [again] = await firstBatches(loader, 0, 1);
    assert.deepEqual(again, first);
  });
});

test('the next epoch starts from batches prefetched during the last one, the same as a fresh start', async () => {
  const root = await craftDataset(8);
  try {
    const imagePaths = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => join(root, 'images', 'train', `im${i}.png`));
    const options = { imagePaths, nc: 2, imgsz: 64, batchSize: 3, seed: 9, labelCache: false, workers: 2 } as const;
    const continued = await withLoader(options, async (loader) => {
      const whole = await firstBatches(loader, 0, loader.length);
      assert.deepEqual(whole.map((b) => b.shape[0]), [3, 3, 2]);
      return firstBatches(loader, 1, 2);
    });
    const fresh = await withLoader(options, (loader) => firstBatches(loader, 1, 2));
    assert.deepEqual(continued, fresh);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('rect training: batches sorted by aspect ratio with their own shapes, letterboxed, not shuffled', async () => {
  await withLoader({ ...base, imgsz: 128, batchSize: 16, rect: true, shuffle: true, seed: 5 }, async (loader) => {
    assert.match(loader.messages.join('\n'), /--rect is incompatible with shuffling/);
    const plan = planRectBatches(loader.sizes, { imgsz: 128, batchSize: 16, stride: 32, pad: 0 });
    const batches = await firstBatches(loader, 0, loader.length);
    const again = await firstBatches(loader, 1, loader.length);
    assert.equal(batches.length, plan.length);
    batches.forEach((batch, b) => {
      const { shape, indices } = plan[b]!;
      assert.deepEqual(batch.shape, [16, 3, shape.height, shape.width]);
      assert.deepEqual(batch.paths, indices.map((i) => loader.files[i]));
      assert.deepEqual(again[b]!.paths, batch.paths);
      assert.ok(batch.shapes.every((s) => s !== null), 'no mosaics in rect mode');
    });
    assert.ok(new Set(batches.map((b) => b.shape.join('x'))).size > 1, 'shapes differ between batches');
  });
});

test('cache ram gives the same batches as reading the files', async () => {
  const options = { ...base, imgsz: 96, batchSize: 8, seed: 11 };
  const cached = await withLoader({ ...options, cache: 'ram' }, (loader) => firstBatches(loader, 0, 2));
  const read = await withLoader(options, (loader) => firstBatches(loader, 0, 2));
  assert.deepEqual(cached, read);
});

test('a corrupt image is reported and skipped; labels are scanned once into a .cache file', async () => {
  const root = await craftDataset(5, (dir) => writeFileSync(join(dir, 'images', 'train', 'broken.jpg'), Buffer.from('not a jpeg at all')));
  try {
    const cacheFile = join(root, 'labels', 'train.cache');
    await withLoader({ imagePaths: [join(root, 'images', 'train', 'broken.jpg'), ...[0, 1, 2, 3, 4].map((i) => join(root, 'images', 'train', `im${i}.png`))], nc: 2, imgsz: 64, batchSize: 4, workers: 1, labelCache: cacheFile, singleCls: true }, async (loader) => {
      assert.equal(loader.summary, '5 images, 0 backgrounds, 1 corrupt');
      assert.match(loader.messages.join('\n'), /broken\.jpg/);
      assert.equal(loader.numImages, 5);
      assert.ok(!loader.files.some((file) => file.endsWith('broken.jpg')));
      assert.ok(loader.labels.every((rows) => rows[0] === 0), 'single class');
      const batches = await firstBatches(loader, 0, 2);
      assert.deepEqual(batches.map((b) => b.shape[0]), [4, 1]);
      assert.ok(batches.every((b) => b.targets.every((v, k) => k % 6 !== 1 || v === 0)));
    });
    assert.ok(existsSync(cacheFile));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an image that breaks after scanning fails the epoch with an error naming it', async () => {
  const root = await craftDataset(3);
  try {
    const imagePaths = [0, 1, 2].map((i) => join(root, 'images', 'train', `im${i}.png`));
    await withLoader({ imagePaths, nc: 2, imgsz: 64, batchSize: 3, workers: 1, labelCache: false, augment: false }, async (loader) => {
      writeFileSync(imagePaths[1]!, 'truncated');
      await assert.rejects(firstBatches(loader, 0, 1), /im1\.png: cannot decode image/);
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('no label cache is written into a read-only dataset folder', async () => {
  const root = await craftDataset(2);
  try {
    chmodSync(join(root, 'labels'), 0o555);
    const images = [0, 1].map((i) => join(root, 'images', 'train', `im${i}.png`));
    await withLoader({ imagePaths: images, nc: 2, imgsz: 64, batchSize: 2, workers: 1 }, async (loader) => {
      assert.match(loader.messages.join('\n'), /label cache .*train\.cache not used: its folder is read-only/);
      assert.equal(loader.summary, '2 images, 0 backgrounds, 0 corrupt');
    });
    assert.ok(!existsSync(join(root, 'labels', 'train.cache')));
  } finally {
    chmodSync(join(root, 'labels'), 0o755);
    rmSync(root, { recursive: true, force: true });
  }
});

test('workers end with the process even when a loader is never closed', async () => {
  const root = await craftDataset(3);
  try {
    const script = `
      import { createTrainLoader } from ${JSON.stringify(new URL('../src/data/train-loader.js', import.meta.url).href)};
      const loader = await createTrainLoader({ imagePaths: ${JSON.stringify([0, 1, 2].map((i) => join(root, 'images', 'train', `im${i}.png`)))}, nc: 2, imgsz: 64, batchSize: 2, workers: 2, labelCache: false });
      for await (const batch of loader.epoch(0)) { console.log('batch', batch.images.shape.join('x')); break; }
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
    assert.equal(stdout.trim(), 'batch 2x3x64x64');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('bad options are refused with clear messages', async () => {
  await assert.rejects(createTrainLoader({ ...base, imgsz: 100, batchSize: 2 }), /imgsz 100 must be a multiple of the stride 32/);
  await assert.rejects(createTrainLoader({ imagePaths: ['x.jpg'], imgsz: 64, batchSize: 2 }), /nc is required/);
  await assert.rejects(createTrainLoader({ ...base, imagePaths: ['x.jpg'], imgsz: 64, batchSize: 2 }), /either imagePaths or dataset/);
  await assert.rejects(createTrainLoader({ ...base, imgsz: 64, batchSize: 0 }), /batch size must be a positive integer/);
  await assert.rejects(createTrainLoader({ ...base, imgsz: 64, batchSize: 2, hyp: { mosaic: 2 } }), /mosaic is a probability/);
  await assert.rejects(createTrainLoader({ ...base, imgsz: 64, batchSize: 2, seed: 0.5 }), /seed must be an integer/);
});

test('drawBatch saves a labelled grid of the batch', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'train-batch-'));
  try {
    await withLoader({ ...base, imgsz: 128, batchSize: 6, seed: 2 }, async (loader) => {
      for await (const batch of loader.epoch(0)) {
        const file = join(dir, 'train_batch0.jpg');
        await drawBatch(batch.images, batch.targets, coco.names, file, { paths: batch.paths });
        const meta = await sharp(file).metadata();
        assert.equal(meta.format, 'jpeg');
        assert.deepEqual([meta.width, meta.height], [3 * 128, 3 * 128]);
        batch.images.dispose();
        batch.targets.dispose();
        break;
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
