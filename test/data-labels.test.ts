import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describeScan, scanDataset } from '../src/data/dataset-scan.js';
import { defaultCacheFile, scanDatasetCached } from '../src/data/label-cache.js';
import { LabelError, parseLabels } from '../src/data/labels.js';

const FILE = '/d/labels/a.txt';

function rows(boxes: Float32Array): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < boxes.length; i += 5) out.push(Array.from(boxes.subarray(i, i + 5), (v) => Number(v.toFixed(6))));
  return out;
}

test('parses boxes, skips blank lines, converts polygons to their bounding box', () => {
  const parsed = parseLabels('0 0.5 0.5 0.2 0.4\n\n  2 0.1 0.2 0.3 0.4  \r\n1 0.1 0.1 0.5 0.1 0.3 0.7\n', FILE, 3);
  assert.deepEqual(rows(parsed.boxes), [
    [0, 0.5, 0.5, 0.2, 0.4],
    [2, 0.1, 0.2, 0.3, 0.4],
    [1, 0.3, 0.4, 0.4, 0.6],
  ]);
  assert.deepEqual(parsed.warnings, []);
  assert.equal(parseLabels('', FILE, 3).boxes.length, 0);
});

test('each broken row is an error naming the file and line', () => {
  const cases: [string, RegExp][] = [
    ['0 0.5 0.5 0.2 0.4\n0 0.5 0.5 0.2\n', /a\.txt line 2: expected 5 columns .* got 4/],
    ['0 0.5 0.5 0.2 0.4 0.9\n', /a\.txt line 1: expected 5 columns .* got 6/],
    ['\n\n0 0.5 abc 0.2 0.4\n', /a\.txt line 3: 'abc' is not a number/],
    ['0 0.5 0.5 0.2 NaN\n', /line 1: 'NaN' is not a number/],
    ['7 0.5 0.5 0.2 0.4\n', /a\.txt line 1: class 7 out of range \(nc=3\)/],
    ['-1 0.5 0.5 0.2 0.4\n', /line 1: class -1 out of range \(nc=3\)/],
    ['1.5 0.5 0.5 0.2 0.4\n', /line 1: class 1\.5 is not an integer/],
    ['0 0.5 0.5 0.2 0.4\n0 0.5 -0.1 0.2 0.4\n', /a\.txt line 2: negative coordinate -0\.1/],
    ['0 1.2 0.5 0.2 0.4\n', /a\.txt line 1: coordinate 1\.2 outside \[0, 1\]/],
    ['0 0.5 0.5 0.2 0.4 0.1 0.1 0.3\n', /line 1: expected 5 columns .* got 8/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseLabels(text, FILE, 3), (e: Error) => e instanceof LabelError && message.test(e.message), text);
  }
});

test('coordinates within the tolerance are clipped, duplicates removed with a warning naming both lines', () => {
  const parsed = parseLabels('0 1.0005 0.5 0.2 0.4\n1 0.5 0.5 0.2 0.4\n0 1.0005 0.5 0.2 0.4\n1 0.5 0.5 0.2 0.4\n0 0.3 -0.0002 0.2 0.4\n', FILE, 2);
  assert.deepEqual(rows(parsed.boxes), [
    [0, 1, 0.5, 0.2, 0.4],
    [1, 0.5, 0.5, 0.2, 0.4],
    [0, 0.3, 0, 0.2, 0.4],
  ]);
  assert.deepEqual(parsed.warnings, [`${FILE} line 3: duplicate of line 1, removed`, `${FILE} line 4: duplicate of line 2, removed`]);
});

async function writeJpeg(path: string, width: number, height: number, options: { orientation?: number } = {}): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true });
  let image = sharp({ create: { width, height, channels: 3, background: { r: 10, g: 200, b: 30 } } }).jpeg();
  if (options.orientation) image = image.withMetadata({ orientation: options.orientation });
  await image.toFile(path);
}

function writeLabel(root: string, name: string, text: string): void {
  mkdirSync(join(root, 'labels'), { recursive: true });
  writeFileSync(join(root, 'labels', `${name}.txt`), text);
}

test('dataset scan: backgrounds, corrupt images and labels counted, warnings name the files', async () => {
  const root = mkdtempSync(join(tmpdir(), 'yolov5-scan-'));
  const img = (name: string): string => join(root, 'images', `${name}.jpg`);
  await writeJpeg(img('good'), 64, 48);
  writeLabel(root, 'good', '0 0.5 0.5 0.2 0.2\n1 0.2 0.2 0.1 0.1\n1 0.2 0.2 0.1 0.1\n');
  await writeJpeg(img('rotated'), 64, 48, { orientation: 6 });
  writeLabel(root, 'rotated', '1 0.5 0.5 0.5 0.5\n');
  await writeJpeg(img('nolabel'), 32, 32);
  await writeJpeg(img('empty'), 32, 32);
  writeLabel(root, 'empty', '\n');
  await writeJpeg(img('badlabel'), 32, 32);
  writeLabel(root, 'badlabel', '0 0.5 0.5 0.2 0.2\n5 0.5 0.5 0.2 0.2\n');
  await writeJpeg(img('tiny'), 8, 30);
  mkdirSync(join(root, 'images'), { recursive: true });
  writeFileSync(img('garbage'), 'not an image');
  const whole = readFileSync(img('good'));
  writeFileSync(img('truncated'), whole.subarray(0, whole.length - 2));
  writeLabel(root, 'truncated', '0 0.5 0.5 0.2 0.2\n');

  const files = ['badlabel', 'empty', 'garbage', 'good', 'nolabel', 'rotated', 'tiny', 'truncated'].map(img);
  const scan = await scanDataset(files, { nc: 2 });
  assert.equal(describeScan(scan), '3 images, 2 backgrounds, 3 corrupt');
  assert.deepEqual({ found: scan.found, missing: scan.missing, empty: scan.empty, corrupt: scan.corrupt }, { found: 3, missing: 1, empty: 1, corrupt: 3 });
  assert.deepEqual(scan.images.map((i) => i.imageFile), ['empty', 'good', 'nolabel', 'rotated', 'truncated'].map(img));
  assert.deepEqual(scan.images.map((i) => i.labels.length / 5), [0, 2, 0, 1, 1], 'the duplicate row is gone');
  const rotated = scan.images.find((i) => i.imageFile === img('rotated'))!;
  assert.deepEqual([rotated.width, rotated.height], [48, 64], 'size as displayed after EXIF orientation');
  assert.equal(scan.images.find((i) => i.imageFile === img('truncated'))!.truncatedJpeg, true);

  const has = (...parts: string[]): boolean => scan.messages.some((m) => parts.every((p) => m.includes(p)));
  assert.ok(has(join(root, 'labels/badlabel.txt'), 'line 2', 'class 5 out of range (nc=2)'), scan.messages.join('\n'));
  assert.ok(has(img('garbage'), 'unreadable image'));
  assert.ok(has(img('tiny'), 'smaller than 10 pixels'));
  assert.ok(has(join(root, 'labels/good.txt'), 'line 3: duplicate of line 2'));
  assert.ok(has(img('truncated'), 'no end marker'));
});

test('label cache: reused while files are unchanged, rebuilt when a label changes', async () => {
  const root = mkdtempSync(join(tmpdir(), 'yolov5-cache-'));
  const image = join(root, 'images', 'train', 'a.jpg');
  await writeJpeg(image, 40, 20);
  mkdirSync(join(root, 'labels', 'train'), { recursive: true });
  const label = join(root, 'labels', 'train', 'a.txt');
  writeFileSync(label, '0 0.5 0.5 0.2 0.2\n');
  const cacheFile = defaultCacheFile([image]);
  assert.equal(cacheFile, join(root, 'labels', 'train.cache'));

  const first = await scanDatasetCached([image], cacheFile, { nc: 1 });
  assert.equal(first.fromCache, false);
  assert.equal(first.cacheWarning, undefined);
  const second = await scanDatasetCached([image], cacheFile, { nc: 1 });
  assert.equal(second.fromCache, true);
  assert.deepEqual(second.scan.images[0]!.labels, first.scan.images[0]!.labels);
  assert.ok(second.scan.images[0]!.labels instanceof Float32Array);
  assert.equal(describeScan(second.scan), describeScan(first.scan));

  writeFileSync(label, '0 0.5 0.5 0.2 0.2\n0 0.1 0.1 0.1 0.1\n');
  const third = await scanDatasetCached([image], cacheFile, { nc: 1 });
  assert.equal(third.fromCache, false);
  assert.equal(third.scan.images[0]!.labels.length, 10);

  const unwritable = await scanDatasetCached([image], join(root, 'missing-dir', 'x.cache'), { nc: 1 });
  assert.match(unwritable.cacheWarning ?? '', /missing-dir\/x\.cache not written/);
});

test('dataset scan: a FIFO named like an image or a label file is reported as corrupt, never opened (no hang)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'yolov5-scan-fifo-'));
  const img = (name: string): string => join(root, 'images', `${name}.jpg`);
  await writeJpeg(img('good'), 32, 32);
  writeLabel(root, 'good', '0 0.5 0.5 0.2 0.2\n');
  execFileSync('mkfifo', [img('pipe')]);
  await writeJpeg(img('piped-label'), 32, 32);
  execFileSync('mkfifo', [join(root, 'labels', 'piped-label.txt')]);

  const scan = await scanDataset([img('good'), img('pipe'), img('piped-label')], { nc: 1 });
  assert.equal(describeScan(scan), '1 images, 0 backgrounds, 2 corrupt');
  assert.ok(scan.messages.some((m) => m.includes(`${img('pipe')}: a FIFO (named pipe), not a regular file`)), scan.messages.join('\n'));
  assert.ok(scan.messages.some((m) => m.includes(`${join(root, 'labels', 'piped-label.txt')}: a FIFO (named pipe), not a regular file`)), scan.messages.join('\n'));
});
