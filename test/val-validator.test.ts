// The whole validation pipeline on a crafted dataset: coloured rectangles on black, seen by a tiny colour-threshold
// "detector" written with real tensors. Every image with objects has its long side equal to the inference size, so
// nothing is resampled and every box the detector finds is exact once mapped back through the letterbox.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { tensor, type Tensor } from '../src/torch/index.js';
import { computeAp } from '../src/val/metrics.js';
import { validate, type Detector } from '../src/val/validator.js';

interface Rect {
  cls: number;
  x: number;
  y: number;
  w: number;
  h: number;
  colour: [number, number, number];
}

const RED: [number, number, number] = [255, 0, 0];
const GREEN: [number, number, number] = [0, 255, 0];
const BLUE: [number, number, number] = [0, 0, 255];

async function writeImage(root: string, stem: string, width: number, height: number, rects: Rect[]): Promise<void> {
  const pixels = Buffer.alloc(width * height * 3);
  for (const r of rects) {
    for (let y = r.y; y < r.y + r.h; y++) for (let x = r.x; x < r.x + r.w; x++) pixels.set(r.colour, (y * width + x) * 3);
  }
  await sharp(pixels, { raw: { width, height, channels: 3 } }).png().toFile(join(root, 'images', 'val', `${stem}.png`));
  const label = rects.map((r) => `${r.cls} ${(r.x + r.w / 2) / width} ${(r.y + r.h / 2) / height} ${r.w / width} ${r.h / height}`).join('\n');
  writeFileSync(join(root, 'labels', 'val', `${stem}.txt`), label);
}

/** One output row per class: the bounding box of the pixels of that class's colour (red → 0, green → 1). */
const colourDetector: Detector = {
  names: ['red', 'green'],
  stride: [8, 16, 32],
  eval: () => undefined,
  infer(x: Tensor): Tensor {
    const [batch, , height, width] = x.shape as [number, number, number, number];
    const data = x.data() as Float32Array;
    const plane = width * height;
    const out = new Float32Array(batch * 2 * 7);
    for (let b = 0; b < batch; b++) {
      for (let cls = 0; cls < 2; cls++) {
        let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
        for (let p = 0; p < plane; p++) {
          const [r, g] = [data[b * 3 * plane + p]!, data[b * 3 * plane + plane + p]!];
          if ((cls === 0 ? r : g) > 0.9 && (cls === 0 ? g : r) < 0.1) {
            const [px, py] = [p % width, Math.floor(p / width)];
            [x1, y1, x2, y2] = [Math.min(x1, px), Math.min(y1, py), Math.max(x2, px + 1), Math.max(y2, py + 1)];
          }
        }
        if (x1 === Infinity) continue;
        out.set([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, 0.9, cls === 0 ? 1 : 0, cls === 1 ? 1 : 0], (b * 2 + cls) * 7);
      }
    }
    return tensor(out, [batch, 2, 7]);
  },
};

test('validate: exact boxes give AP 0.995 at every IoU; an invisible object lowers recall; COCO json in original pixels', async () => {
  const root = mkdtempSync(join(tmpdir(), 'yolov5-val-'));
  mkdirSync(join(root, 'images', 'val'), { recursive: true });
  mkdirSync(join(root, 'labels', 'val'), { recursive: true });
  writeFileSync(join(root, 'data.yaml'), 'path: .\ntrain: images/val\nval: images/val\nnames: [red, green]\n');
  await writeImage(root, '000001', 96, 64, [{ cls: 0, x: 10, y: 5, w: 30, h: 20, colour: RED }]);
  await writeImage(root, '000002', 64, 96, [
    { cls: 0, x: 3, y: 50, w: 40, h: 41, colour: RED },
    { cls: 1, x: 30, y: 4, w: 20, h: 30, colour: GREEN },
  ]);
  await writeImage(root, '000003', 96, 96, [{ cls: 1, x: 0, y: 0, w: 33, h: 17, colour: GREEN }]);
  await writeImage(root, 'wide', 96, 40, [{ cls: 1, x: 60, y: 10, w: 30, h: 25, colour: BLUE }]); // the detector is blind to blue
  await writeImage(root, 'background', 50, 50, []);
  writeFileSync(join(root, 'labels', 'val', 'background.txt'), '');

  const lines: string[] = [];
  const saveDir = join(root, 'run');
  const result = await validate(colourDetector, {
    data: join(root, 'data.yaml'),
    imgsz: 96,
    batchSize: 2,
    verbose: true,
    saveJson: true,
    saveDir,
    jsonStem: 'colours',
    plots: true,
    saveTxt: true,
    saveConf: true,
    progress: false,
    log: (line) => lines.push(line),
  });

  assert.equal(result.seen, 5);
  assert.equal(result.instances, 5);
  const classOne = computeAp([1 / 3, 2 / 3], [1, 1]);
  assert.deepEqual(result.perClass.map((c) => [c.name, c.instances, Number(c.ap50.toFixed(6)), Number(c.ap.toFixed(6))]), [
    ['red', 2, 0.995, 0.995],
    ['green', 3, Number(classOne.toFixed(6)), Number(classOne.toFixed(6))],
  ]);
  assert.ok(Math.abs(result.map - (0.995 + classOne) / 2) < 1e-9);
  assert.ok(Math.abs(result.mr - (1 + 2 / 3) / 2) < 1e-9);
  assert.equal(result.mp, 1);
  assert.deepEqual(result.maps.map((m) => Number(m.toFixed(9))), [0.995, Number(classOne.toFixed(9))]);
  assert.ok(result.speed.inference >= 0 && result.speed.nms >= 0 && result.speed.preprocess >= 0);

  assert.match(lines.join('\n'), /Scanning .*data\.yaml\.\.\. 4 images, 1 backgrounds, 0 corrupt/);
  assert.ok(lines.includes('                 Class     Images  Instances          P          R      mAP50   mAP50-95'));
  assert.ok(lines.some((l) => /^ {19}all {10}5 {10}5 {10}1 {6}0\.833 /.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^ {17}green {10}5 {10}3 /.test(l)));
  assert.ok(lines.some((l) => l.startsWith('Speed: ') && l.endsWith('per image at shape (2, 3, 96, 96)')));

  const json = JSON.parse(readFileSync(join(saveDir, 'colours_predictions.json'), 'utf8')) as { image_id: number | string; category_id: number; bbox: number[]; score: number }[];
  assert.equal(result.jsonFile, join(saveDir, 'colours_predictions.json'));
  const sorted = json.map((d) => [d.image_id, d.category_id, ...d.bbox, d.score]).sort((a, b) => String(a[0]).localeCompare(String(b[0])) || Number(a[1]) - Number(b[1]));
  assert.deepEqual(sorted, [
    [1, 0, 10, 5, 30, 20, 0.9],
    [2, 0, 3, 50, 40, 41, 0.9],
    [2, 1, 30, 4, 20, 30, 0.9],
    [3, 1, 0, 0, 33, 17, 0.9],
  ]);

  // Every object found with its class except the blue one, which the detector cannot see: a missed green.
  const matrix = result.confusionMatrix!;
  const background = 2;
  assert.deepEqual([matrix.at(0, 0), matrix.at(1, 1), matrix.at(background, 1)], [2, 2, 1]);
  assert.equal(matrix.counts.reduce((a, b) => a + b, 0), 5, 'nothing else: no false alarms');

  // Label files only for images with detections: class, centre and size normalised to the image, confidence.
  assert.equal(result.labelFiles, 3);
  assert.equal(readFileSync(join(saveDir, 'labels', '000001.txt'), 'utf8'), '0 0.260417 0.234375 0.3125 0.3125 0.9\n');
  assert.equal(readFileSync(join(saveDir, 'labels', '000002.txt'), 'utf8'), '0 0.359375 0.734375 0.625 0.427083 0.9\n1 0.625 0.197917 0.3125 0.3125 0.9\n');
  assert.ok(!existsSync(join(saveDir, 'labels', 'wide.txt')) && !existsSync(join(saveDir, 'labels', 'background.txt')));

  // Five images in batches of two: three batches pictured, and val.py's charts.
  for (const file of ['confusion_matrix.png', 'F1_curve.png', 'P_curve.png', 'R_curve.png', 'PR_curve.png']) {
    assert.equal((await sharp(join(saveDir, file)).metadata()).format, 'png', file);
  }
  for (const i of [0, 1, 2]) {
    for (const kind of ['labels', 'pred']) assert.equal((await sharp(join(saveDir, `val_batch${i}_${kind}.jpg`)).metadata()).format, 'jpeg');
  }
});

test('validate checks the class count and prints nothing when quiet', async () => {
  const config = { file: '/x/data.yaml', root: '/x', splits: { train: [], val: ['/x/none'], test: [] }, nc: 3, names: ['a', 'b', 'c'] };
  await assert.rejects(validate(colourDetector, { data: config, progress: false, quiet: true }), /\/x\/none does not exist/);
  const root = mkdtempSync(join(tmpdir(), 'yolov5-val-'));
  mkdirSync(join(root, 'images', 'val'), { recursive: true });
  mkdirSync(join(root, 'labels', 'val'), { recursive: true });
  await writeImage(root, 'a', 32, 32, [{ cls: 0, x: 1, y: 1, w: 10, h: 10, colour: RED }]);
  const threeClasses = { ...config, root, splits: { train: [], val: [join(root, 'images', 'val')], test: [] } };
  await assert.rejects(validate(colourDetector, { data: threeClasses, quiet: true }), /the model has 2 classes but \/x\/data\.yaml has 3/);
  const lines: string[] = [];
  const quiet = await validate(colourDetector, { data: { ...threeClasses, nc: 2, names: ['red', 'green'] }, imgsz: 32, quiet: true, log: (l) => lines.push(l) });
  assert.deepEqual(lines, []);
  assert.ok(Math.abs(quiet.map50 - 0.995) < 1e-9);
});
