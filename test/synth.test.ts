import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { parse } from 'yaml';
import { generateSynthDataset, labelLines, MAX_CLASSES, SHAPE_CLASSES, synthScene, type SynthDatasetOptions } from '../src/data/synth.js';
import { datasetCommand } from '../src/cli/commands/dataset.js';
import { encodeJpeg, renderScene, type RawImage } from '../src/data/synth/render.js';

const temp = mkdtempSync(join(tmpdir(), 'synth-test-'));
process.on('exit', () => rmSync(temp, { recursive: true, force: true }));

const base = { images: 12, valImages: 3, classes: 4, imgsz: 64, seed: 1 };
const generate = (name: string, options: Partial<SynthDatasetOptions> = {}) =>
  generateSynthDataset({ ...base, out: join(temp, name), ...options });

/** Every file of a dataset folder, relative path → bytes. */
function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(path.slice(dir.length + 1), readFileSync(path));
  }
  return out;
}

test('writes a YOLO dataset: train/val images and labels plus data.yaml', async () => {
  const progress: number[] = [];
  const dataset = await generate('layout', { onProgress: (done, total) => progress.push(done / total) });
  const dir = join(temp, 'layout');
  assert.equal(dataset.yaml, join(dir, 'data.yaml'));
  assert.deepEqual(dataset.names, ['circle', 'square', 'triangle', 'cross']);
  const yaml = parse(readFileSync(dataset.yaml, 'utf8')) as Record<string, unknown>;
  assert.deepEqual(yaml, { path: '.', train: 'images/train', val: 'images/val', nc: 4, names: ['circle', 'square', 'triangle', 'cross'] });
  for (const [split, count] of [['train', 12], ['val', 3]] as const) {
    const images = readdirSync(join(dir, 'images', split)).sort();
    const labels = readdirSync(join(dir, 'labels', split)).sort();
    assert.equal(images.length, count);
    assert.deepEqual(labels, images.map((f) => f.replace(/\.jpg$/, '.txt')));
    const meta = await sharp(join(dir, 'images', split, images[0]!)).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['jpeg', 64, 64, 3]);
  }
  assert.equal(progress.length, 15);
  assert.equal(progress.at(-1), 1);
});

test('every label line is class cx cy w h with a known class and a box inside the image', async () => {
  await generate('labels', { images: 30, valImages: 5 });
  let lines = 0;
  for (const split of ['train', 'val']) {
    const dir = join(temp, 'labels', 'labels', split);
    for (const file of readdirSync(dir)) {
      for (const line of readFileSync(join(dir, file), 'utf8').split('\n').filter((l) => l !== '')) {
        lines++;
        const fields = line.split(' ');
        assert.equal(fields.length, 5, `${file}: ${line}`);
        assert.match(fields[0]!, /^\d+$/);
        assert.ok(Number(fields[0]) < 4, `${file}: class ${fields[0]}`);
        for (const f of fields.slice(1)) assert.match(f, /^\d\.\d{6}$/, `${file}: ${line}`);
        const [cx, cy, w, h] = fields.slice(1).map(Number) as [number, number, number, number];
        for (const v of [cx, cy, w, h]) assert.ok(v > 0 && v <= 1, `${file}: ${line}`);
        assert.ok(cx - w / 2 >= -1e-6 && cx + w / 2 <= 1 + 1e-6, `${file}: ${line}`);
        assert.ok(cy - h / 2 >= -1e-6 && cy + h / 2 <= 1 + 1e-6, `${file}: ${line}`);
      }
    }
  }
  assert.ok(lines > 35, `only ${lines} objects in 35 images`);
});

test('the same seed gives byte-identical files, another seed different images', async () => {
  await generate('seed-a');
  await generate('seed-b');
  await generate('seed-c', { seed: 2 });
  const [a, b, c] = ['seed-a', 'seed-b', 'seed-c'].map((name) => files(join(temp, name)));
  assert.equal(a!.size, 31); // 15 images, 15 labels, data.yaml
  assert.deepEqual([...a!.keys()].sort(), [...b!.keys()].sort());
  for (const [path, bytes] of a!) assert.ok(bytes.equals(b!.get(path)!), `${path} differs between runs with one seed`);
  for (const [path, bytes] of a!) {
    if (path.endsWith('.jpg')) assert.ok(!bytes.equals(c!.get(path)!), `${path} is the same for seeds 1 and 2`);
  }
});

test('each written image is the rendering of the scene its labels come from', async () => {
  await generate('scenes');
  for (const [split, count] of [['train', 12], ['val', 3]] as const) {
    for (let i = 0; i < count; i++) {
      const stem = String(i).padStart(6, '0');
      const scene = synthScene(base.seed, split, i, base.imgsz, base.classes);
      const jpeg = readFileSync(join(temp, 'scenes', 'images', split, `${stem}.jpg`));
      assert.ok(jpeg.equals(await encodeJpeg(await renderScene(scene))), `${split} ${stem}.jpg`);
      assert.equal(readFileSync(join(temp, 'scenes', 'labels', split, `${stem}.txt`), 'utf8'), labelLines(scene));
    }
  }
});

test('scenes cover every class, 0–6 objects, sizes 8–40% of the image, and some background-only images', () => {
  const counts = new Array<number>(MAX_CLASSES).fill(0);
  const perImage = new Set<number>();
  const extents: number[] = [];
  const scenes = 400;
  for (let i = 0; i < scenes; i++) {
    const scene = synthScene(7, 'train', i, 128, MAX_CLASSES);
    perImage.add(scene.objects.length);
    for (const { classId, box } of scene.objects) {
      counts[classId]!++;
      extents.push(Math.max(box.x1 - box.x0, box.y1 - box.y0) / 128);
    }
  }
  const mean = counts.reduce((a, b) => a + b, 0) / MAX_CLASSES;
  counts.forEach((n, c) => assert.ok(n > mean / 2, `class ${SHAPE_CLASSES[c]!.name}: ${n} objects, mean ${mean}`));
  assert.deepEqual([...perImage].sort(), [0, 1, 2, 3, 4, 5, 6]);
  extents.sort((a, b) => a - b);
  // Only objects cut by the image border fall below 8%.
  assert.ok(extents[Math.floor(extents.length * 0.05)]! >= 0.08 && extents.at(-1)! <= 0.4 + 1e-9, `extents ${extents[0]} … ${extents.at(-1)}`);
  assert.ok(extents[Math.floor(extents.length / 2)]! < 0.25, 'most objects should be small to medium');
});

/** Bounding box of the pixels where two renderings differ by more than `threshold` in some channel. */
function changedBox(a: RawImage, b: RawImage, threshold: number) {
  const box = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const i = 3 * (y * a.width + x);
      const d = Math.max(...[0, 1, 2].map((c) => Math.abs(a.data[i + c]! - b.data[i + c]!)));
      if (d <= threshold) continue;
      box.x0 = Math.min(box.x0, x);
      box.y0 = Math.min(box.y0, y);
      box.x1 = Math.max(box.x1, x + 1);
      box.y1 = Math.max(box.y1, y + 1);
    }
  }
  return box;
}

test('label boxes hug the drawn objects (rendering with and without the top object)', async () => {
  let checked = 0;
  for (let i = 0; checked < 30; i++) {
    const scene = synthScene(3, 'train', i, 96, MAX_CLASSES);
    const top = scene.objects.at(-1);
    if (!top) continue;
    checked++;
    const withTop = await renderScene(scene);
    const without = await renderScene({ ...scene, objects: scene.objects.slice(0, -1) });
    const changed = changedBox(withTop, without, 20);
    const where = `scene ${i}, ${SHAPE_CLASSES[top.classId]!.name} at ${JSON.stringify(top.box)}: changed ${JSON.stringify(changed)}`;
    // Nothing outside the box changes (anti-aliasing reaches at most one pixel out) …
    assert.ok(changed.x0 >= Math.floor(top.box.x0) - 1 && changed.y0 >= Math.floor(top.box.y0) - 1, where);
    assert.ok(changed.x1 <= Math.ceil(top.box.x1) + 1 && changed.y1 <= Math.ceil(top.box.y1) + 1, where);
    // … and the object reaches every side of its box (thin tips may fade into the last pixels).
    assert.ok(changed.x0 <= top.box.x0 + 2 && changed.y0 <= top.box.y0 + 2, where);
    assert.ok(changed.x1 >= top.box.x1 - 2 && changed.y1 >= top.box.y1 - 2, where);
  }
});

test('bad arguments and a foreign output folder give clear errors; an earlier synthetic dataset is replaced', async () => {
  await assert.rejects(generate('bad', { images: 0 }), /images must be a positive integer, got 0/);
  await assert.rejects(generate('bad', { classes: 0 }), /classes must be an integer from 1 to 8, got 0/);
  await assert.rejects(generate('bad', { classes: 9 }), /classes must be an integer from 1 to 8, got 9/);
  await assert.rejects(generate('bad', { imgsz: 16 }), /image size must be an integer from 32 to 4096, got 16/);
  await assert.rejects(generate('bad', { valImages: 0 }), /val images must be a positive integer, got 0/);
  await assert.rejects(generate('bad', { seed: 1.5 }), /seed must be an integer/);

  const foreign = join(temp, 'foreign');
  await generate('foreign', { images: 1, valImages: 1 });
  writeFileSync(join(foreign, 'data.yaml'), 'path: .\n');
  await assert.rejects(generate('foreign'), /output folder .*foreign is not empty and holds no earlier synthetic dataset/);

  await generate('again', { images: 12 });
  await generate('again', { images: 4, valImages: 2 });
  assert.equal(readdirSync(join(temp, 'again', 'images', 'train')).length, 4);
  assert.equal(readdirSync(join(temp, 'again', 'labels', 'val')).length, 2);
});

test('yolov5 dataset synth writes the dataset and rejects bad numbers before starting', async () => {
  const command = datasetCommand();
  const synth = command.commands.find((c) => c.name() === 'synth')!;
  const errors: string[] = [];
  synth.exitOverride().configureOutput({ writeErr: (text) => errors.push(text), writeOut: () => {} });
  const run = (...args: string[]) => command.parseAsync(['synth', ...args], { from: 'user' });
  const out = join(temp, 'cli');
  await run('--out', out, '--images', '3', '--val-images', '1', '--classes', '2', '--img', '32', '--seed', '4');
  assert.equal(readdirSync(join(out, 'images', 'train')).length, 3);
  assert.deepEqual((parse(readFileSync(join(out, 'data.yaml'), 'utf8')) as { names: string[] }).names, ['circle', 'square']);
  for (const [flag, value] of [['--images', '0'], ['--classes', '9'], ['--img', '31'], ['--seed', '1.5'], ['--images', '12abc']]) {
    await assert.rejects(run('--out', join(temp, 'cli-bad'), flag!, value!), (error: Error) => error.message.includes(`'${value}' is invalid`));
  }
  assert.ok(errors.every((e) => e.includes('is invalid')), errors.join(''));
});
