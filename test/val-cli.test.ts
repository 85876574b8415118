// `yolov5 val` on four COCO128 images with the official YOLOv5n weights: run folders, table, COCO results file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { valCommand } from '../src/cli/commands/val.js';
import { incrementPath } from '../src/cli/run-dir.js';
import { COCO32, WEIGHTS } from './helpers/fixtures.js';

/** Runs `yolov5 val ...` in this process and returns what it printed. */
async function runVal(args: string[]): Promise<string> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...parts: unknown[]) => lines.push(parts.join(' '));
  try {
    await valCommand().exitOverride().parseAsync(args, { from: 'user' });
  } finally {
    console.log = original;
  }
  return lines.join('\n');
}

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
