// `yolov5 val` with the official YOLOv5n weights on COCO128 images: run folders, table, COCO results file, the
// pictures and label files val.py writes, and the speed and study tasks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { parse, stringify } from 'yaml';
import { incrementPath } from '../src/io/run-dir.js';
import { COCO32, WEIGHTS } from './helpers/fixtures.js';
import { runVal } from './helpers/run-val.js';

test('yolov5 val CLI: run folders increment, COCO json uses COCO category ids', async () => {
  const root = mkdtempSync(join(tmpdir(), 'yolov5-val-cli-'));
  const images = ['000000000139', '000000000285', '000000000632', '000000000724'].map((id) => join(dirname(COCO32), `images/val2017/${id}.jpg`));
  writeFileSync(join(root, 'few.txt'), `${images.join('\n')}\n`);
  const coco = parse(readFileSync(COCO32, 'utf8')) as { names: string[] };
  writeFileSync(join(root, 'few.yaml'), stringify({ train: 'few.txt', val: 'few.txt', names: coco.names }));
  const project = join(root, 'runs');
  const args = ['--weights', WEIGHTS, '--data', join(root, 'few.yaml'), '--img', '320', '--batch-size', '2', '--save-json', '--project', project];

  mkdirSync(join(project, 'exp'), { recursive: true });
  const printed = await runVal([...args, '--verbose']);
  assert.match(printed, /^ +all +4 +\d+ /m);
  assert.match(printed, /^ +person +4 +\d+ /m, 'a row per class with --verbose');
  assert.match(printed, new RegExp(`Results saved to ${join(project, 'exp2')}`), 'exp is taken, so exp2');
  const detections = JSON.parse(readFileSync(join(project, 'exp2', 'yolov5n_predictions.json'), 'utf8')) as { image_id: number; category_id: number }[];
  assert.ok(detections.length > 0);
  assert.deepEqual([...new Set(detections.map((d) => d.image_id))].sort((a, b) => a - b), [139, 285, 632, 724]);
  assert.ok(detections.every((d) => d.category_id >= 1 && d.category_id <= 90));
  assert.ok(detections.some((d) => d.category_id > 80), 'ids above 80 exist only in the 91-id COCO space');

  await assert.rejects(runVal(['--weights', WEIGHTS, '--data', join(root, 'missing.yaml')]), /missing\.yaml does not exist/);
});

test('run folders: exp, exp2, exp3 …, or exp again with existOk', () => {
  const project = join(mkdtempSync(join(tmpdir(), 'yolov5-runs-')), 'runs', 'val');
  assert.equal(incrementPath(project, 'exp'), join(project, 'exp'));
  assert.ok(existsSync(join(project, 'exp')), 'the folder is created, which reserves it');
  assert.equal(incrementPath(project, 'exp'), join(project, 'exp2'));
  assert.equal(incrementPath(project, 'exp'), join(project, 'exp3'));
  assert.equal(incrementPath(project, 'exp', true), join(project, 'exp'));
  assert.equal(incrementPath(project, 'other'), join(project, 'other'));
});

test('yolov5 val writes val.py\'s pictures and, with --save-txt --save-conf, a label file per image', async () => {
  const project = join(mkdtempSync(join(tmpdir(), 'yolov5-val-plots-')), 'runs');
  const printed = await runVal(['--weights', WEIGHTS, '--data', COCO32, '--img', '320', '--batch-size', '8', '--save-txt', '--save-conf', '--project', project]);
  const dir = join(project, 'exp');
  const pictures: [string, string, number, number][] = [
    ['confusion_matrix.png', 'png', 1500, 1500],
    ...['F1_curve.png', 'P_curve.png', 'R_curve.png', 'PR_curve.png'].map((file): [string, string, number, number] => [file, 'png', 800, 500]),
    ...[0, 1, 2].flatMap((i) => ['labels', 'pred'].map((kind): [string, string, number, number] => [`val_batch${i}_${kind}.jpg`, 'jpeg', 600, 600])),
  ];
  for (const [file, format, minWidth, minHeight] of pictures) {
    const { data, info } = await sharp(join(dir, file)).raw().toBuffer({ resolveWithObject: true });
    assert.equal((await sharp(join(dir, file)).metadata()).format, format, file);
    assert.ok(info.width >= minWidth && info.width <= 2400 && info.height >= minHeight && info.height <= 2400, `${file}: ${info.width}×${info.height}`);
    assert.ok(data.some((v) => v < 128), `${file} is not blank`);
  }
  assert.ok(!existsSync(join(dir, 'val_batch3_labels.jpg')), 'three batches pictured, as val.py');

  const files = readdirSync(join(dir, 'labels'));
  assert.match(printed, new RegExp(`${files.length} labels saved to ${join(dir, 'labels')}`));
  assert.ok(files.length >= 30 && files.every((f) => f.endsWith('.txt')));
  const lines = readFileSync(join(dir, 'labels', '000000000139.txt'), 'utf8').trim().split('\n');
  for (const line of lines) {
    const [cls, ...values] = line.split(' ').map(Number);
    assert.ok(Number.isInteger(cls) && cls! >= 0 && cls! < 80, line);
    assert.equal(values.length, 5, `class cx cy w h conf: ${line}`);
    assert.ok(values.every((v) => v >= 0 && v <= 1), line);
    assert.ok(values[4]! > 0.001, 'confidences above the threshold');
  }
});

test('yolov5 val --task speed times each model; --task study writes study_<data>_<weights>.txt and study.png', async () => {
  const project = join(mkdtempSync(join(tmpdir(), 'yolov5-val-study-')), 'runs');
  const speed = await runVal(['--weights', WEIGHTS, '--data', COCO32, '--task', 'speed', '--img', '64', '--project', project]);
  assert.match(speed, /^Speed: [\d.]+ms pre-process, [\d.]+ms inference, [\d.]+ms NMS per image at shape \(16, 3, 64, 64\)$/m);
  assert.ok(!existsSync(project), 'speed saves nothing');

  await runVal(['--weights', WEIGHTS, '--data', COCO32, '--task', 'study', '--study-sizes', '64', '96', '--project', project]);
  const rows = readFileSync(join(project, 'exp', 'study_coco128-val32_yolov5n.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  assert.equal(rows.length, 2, 'a row per size');
  for (const row of rows) assert.equal(row.trim().split(/ +/).length, 10, row);
  assert.equal((await sharp(join(project, 'exp', 'study.png')).metadata()).format, 'png');
});
