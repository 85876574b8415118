// `yolov5 train` through the built CLI (dist/cli/main.js, built by `make setup`) on a tiny synthetic dataset:
// the run folder's files, Ctrl-C keeping the last finished epoch, and argument errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { parse } from 'yaml';
import { generateSynthDataset } from '../src/data/synth.js';
import { readCheckpoint } from '../src/checkpoint/format.js';
import { RESULT_COLUMNS } from '../src/train/results.js';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'train-cli-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const dataset = generateSynthDataset({ out: join(tmp, 'data'), images: 16, valImages: 4, classes: 2, imgsz: 64, seed: 2 });
const CLI = 'dist/cli/main.js';
const common = ['--cfg', 'yolov5n', '--img', '64', '--batch-size', '8', '--workers', '1', '--project', join(tmp, 'runs')];

test('yolov5 train writes results, pictures and last/best checkpoints into an incremented run folder', async () => {
  const data = (await dataset).yaml;
  const { stdout } = await run(process.execPath, [CLI, 'train', '--data', data, ...common, '--epochs', '2', '--save-period', '1'], { timeout: 300_000 });
  assert.match(stdout, /Training yolov5n from scratch/);
  assert.match(stdout, /AutoAnchor: [\d.]+ anchors\/target, [\d.]+ Best Possible Recall/);
  assert.match(stdout, /optimizer: SGD\(lr=0.01\) with parameter groups 57 weight\(decay=0.0\), 60 weight\(decay=0.0005\), 60 bias/);
  assert.match(stdout, /2 epochs completed/);
  const dir = join(tmp, 'runs', 'exp');
  const pictures = ['results.png', 'labels.jpg', 'labels_correlogram.jpg', 'train_batch0.jpg', 'train_batch1.jpg', 'train_batch2.jpg'];
  // The final validation's, as val.py's (four validation images: one batch).
  pictures.push('confusion_matrix.png', 'F1_curve.png', 'P_curve.png', 'R_curve.png', 'PR_curve.png', 'val_batch0_labels.jpg', 'val_batch0_pred.jpg');
  for (const file of pictures) {
    const { format } = await sharp(join(dir, file)).metadata();
    assert.equal(format, file.endsWith('.png') ? 'png' : 'jpeg', file);
  }
  const opt = parse(readFileSync(join(dir, 'opt.yaml'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual([opt.cfg, opt.weights, opt.imgsz, opt.batch_size, opt.epochs, opt.save_dir], ['yolov5n', '', 64, 8, 2, dir]);
  assert.deepEqual(parse(readFileSync(join(dir, 'hyp.yaml'), 'utf8')), opt.hyp, 'hyp.yaml: the hyperparameters as given');
  assert.equal((opt.hyp as { lr0: number }).lr0, 0.01);

  const [header, ...rows] = readFileSync(join(dir, 'results.csv'), 'utf8').trim().split('\n');
  assert.deepEqual(header!.split(','), [...RESULT_COLUMNS]);
  assert.equal(rows.length, 2);
  for (const row of rows) {
    const cells = row.split(',');
    const valLosses = ['val/box_loss', 'val/obj_loss', 'val/cls_loss'].map((column) => Number(cells[RESULT_COLUMNS.indexOf(column as (typeof RESULT_COLUMNS)[number])]));
    assert.ok(valLosses.every((v) => Number.isFinite(v) && v > 0), `validation losses measured every epoch: ${row}`);
  }
  assert.ok(['epoch0', 'epoch1'].every((name) => existsSync(join(dir, 'weights', `${name}.safetensors`))), '--save-period 1 keeps every epoch');
  for (const name of ['last', 'best']) {
    const { model, meta, extra } = await readCheckpoint(join(dir, 'weights', `${name}.safetensors`));
    assert.deepEqual(model.names, ['circle', 'square']);
    assert.equal((meta.training as { finished?: boolean }).finished, true, 'finished checkpoints are stripped');
    assert.equal(extra.size, 0);
  }
  // A second run does not overwrite the first.
  await run(process.execPath, [CLI, 'train', '--data', data, ...common, '--epochs', '1', '--noplots', '--noval'], { timeout: 300_000 });
  assert.ok(existsSync(join(tmp, 'runs', 'exp2', 'weights', 'last.safetensors')));
  assert.ok(!existsSync(join(tmp, 'runs', 'exp2', 'results.png')), '--noplots draws nothing');
});

test('Ctrl-C stops at a batch boundary, keeps the last finished epoch and says how to resume', async () => {
  const data = (await dataset).yaml;
  const child = spawn(process.execPath, [CLI, 'train', '--data', data, ...common, '--epochs', '200', '--noval', '--noplots', '--name', 'stopped']);
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  const results = join(tmp, 'runs', 'stopped', 'results.csv');
  while (!existsSync(results)) await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 130);
  const last = join(tmp, 'runs', 'stopped', 'weights', 'last.safetensors');
  assert.match(stdout, new RegExp(`Interrupted\\. Resume with: yolov5 train --resume ${last}`));
  const { meta, extra } = await readCheckpoint(last);
  const rows = readFileSync(results, 'utf8').trim().split('\n').length - 1;
  assert.equal((meta.training as { epoch: number }).epoch, rows - 1, 'the checkpoint is the last epoch in results.csv');
  assert.ok(extra.size > 0, 'and still resumable');
});

test('yolov5 train rejects bad arguments with a clear message', async () => {
  const data = (await dataset).yaml;
  const fail = async (args: string[], message: RegExp) => {
    const error = (await run(process.execPath, [CLI, 'train', ...args], { timeout: 120_000 }).then(
      () => assert.fail(`expected ${args.join(' ')} to fail`),
      (e: { code: number; stderr: string }) => e,
    )) as { code: number; stderr: string };
    assert.equal(error.code, 1);
    assert.match(error.stderr, message);
  };
  await fail(['--data', data, ...common, '--device', 'cuda:0'], /argument 'cuda:0' is invalid\. This build runs on the CPU only/);
  await fail(['--data', join(tmp, 'missing.yaml'), ...common], /missing\.yaml does not exist/);
  await fail(['--data', data, '--img', '64', '--project', join(tmp, 'runs')], /nothing to train/);
  await fail(['--data', data, ...common, '--hyp', 'hyp.nonexistent'], /hyperparameter file 'hyp\.nonexistent' not found/);
  await fail(['--resume', join(tmp, 'nothing.safetensors')], /nothing\.safetensors/);
});
