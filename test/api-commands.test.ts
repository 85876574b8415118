// The commands as library calls (train, val, exportModel): the same run folders, files and defaults as the
// command line, with typed results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { generateSynthDataset } from '../src/data/synth.js';
import { exportModel, train, val } from '../src/index.js';
import { COCO32, WEIGHTS } from './helpers/fixtures.js';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'api-commands-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)).map((f) => join(e.name, f)) : [e.name]))
    .sort();

test('train() for one epoch writes the run folder `yolov5 train` writes, and returns its checkpoints and metrics', async () => {
  const { yaml } = await generateSynthDataset({ out: join(tmp, 'synth'), images: 16, valImages: 4, classes: 2, imgsz: 64, seed: 5 });
  const common = { data: yaml, cfg: 'yolov5n', imgsz: 64, batchSize: 8, epochs: 1, workers: 1 };
  const lines: string[] = [];
  const result = await train({ ...common, project: join(tmp, 'lib'), log: (line) => lines.push(line) });
  assert.equal(result.evolved, false);
  if (result.evolved) return;
  assert.equal(result.saveDir, join(tmp, 'lib', 'exp'));
  assert.ok(existsSync(result.bestPath) && existsSync(result.lastPath));
  assert.equal(result.epochs.length, 1);
  assert.ok(result.final && Number.isFinite(result.final.map), 'the final validation of the best weights');
  assert.match(lines[0]!, new RegExp(`^train: data=${yaml}, weights=, cfg=yolov5n, hyp=hyp.scratch-low, imgsz=64, batch_size=8, nominal_batch=64, epochs=1, device=cpu, project=${join(tmp, 'lib')}, name=exp, `));

  const args = ['--data', yaml, '--cfg', 'yolov5n', '--img', '64', '--batch-size', '8', '--epochs', '1', '--workers', '1', '--project', join(tmp, 'cli')];
  const { stdout } = await run(process.execPath, ['dist/cli/main.js', 'train', ...args], { timeout: 300_000 });
  assert.equal(stdout.split('\n')[0], lines[0]!.replace(join(tmp, 'lib'), join(tmp, 'cli')), 'the same settings line');
  const cliDir = join(tmp, 'cli', 'exp');
  // The run folder's lock is this process's until it exits, as in any program that runs one run after another.
  assert.deepEqual(files(result.saveDir).filter((f) => f !== '.lock'), files(cliDir), 'the same files');
  const opt = (dir: string) => {
    const { save_dir: _saveDir, project: _project, ...rest } = parse(readFileSync(join(dir, 'opt.yaml'), 'utf8')) as Record<string, unknown>;
    return rest;
  };
  assert.deepEqual(opt(result.saveDir), opt(cliDir), 'the same settings in opt.yaml');
});

test('val() returns the metrics and the run folder; exportModel() writes a verified .onnx', async () => {
  const lines: string[] = [];
  const validated = await val({ weights: [WEIGHTS], data: COCO32, imgsz: 160, batchSize: 8, project: join(tmp, 'val'), log: (line) => lines.push(line) });
  assert.equal(validated.task, 'val');
  if (validated.task !== 'val') return;
  assert.equal(validated.saveDir, join(tmp, 'val', 'exp'));
  assert.equal(validated.result.seen, 32);
  assert.ok(validated.result.map50 > 0 && validated.result.map50 <= 1 && validated.result.map <= validated.result.map50);
  assert.ok(existsSync(join(validated.saveDir, 'confusion_matrix.png')));
  assert.match(lines[0]!, /^val: weights=\[.*yolov5n\.pt\], data=.*, imgsz=160, batch_size=8, conf_thres=0.001, iou_thres=0.6, max_det=300, task=val, /);

  const output = join(tmp, 'yolov5n-160.onnx');
  const exported = await exportModel({ weights: WEIGHTS, imgsz: 160, output, log: () => undefined });
  assert.equal(exported.file, output);
  assert.ok(statSync(output).size > 1e6);
  assert.deepEqual(exported.onnx.inputShape, [1, 3, 160, 160]);
  assert.equal(exported.onnx.opset, 12, 'the default opset, as the command');
  assert.ok(exported.verification!.every((r) => r.ok), 'checked against libtorch');
});
