// `yolov5 prune` through the built CLI (dist/cli/main.js): a one-shot prune by a latency budget in channel
// multiples of 16 writes its report and a pruned checkpoint that reloads narrower; a one-shot prune by Taylor
// importance meets its FLOPs budget; conflicting or meaningless settings fail clearly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from '../src/infer/predictor.js';
import { promisify } from 'node:util';
import { generateSynthDataset } from '../src/data/synth.js';
import { DetectionModel } from '../src/model/yolo.js';
import { loadModelConfig } from '../src/model/config.js';
import { latencyCost } from '../src/model/summary.js';
import { loadModel, saveCheckpoint } from '../src/checkpoint/index.js';
import { convChannels } from '../src/prune/round.js';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'prune-cli-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const CLI = 'dist/cli/main.js';

test('yolov5 prune --target-latency --round 16 --int8: report, a narrower checkpoint, multiples of 16, its INT8 row', async () => {
  const { yaml } = await generateSynthDataset({ out: join(tmp, 'data'), images: 8, valImages: 4, classes: 2, imgsz: 64, seed: 5 });
  const weights = join(tmp, 'start.safetensors');
  const original = new DetectionModel({ ...loadModelConfig('yolov5n'), nc: 2 });
  await saveCheckpoint(weights, original);
  const args = ['prune', '--weights', weights, '--data', yaml, '--img', '64', '--batch-size', '4', '--workers', '1', '--rounds', '1'];
  const oneShot = ['--epochs-per-round', '0', '--finetune-epochs', '0', '--calib-images', '4', '--no-benchmark'];
  const { stdout } = await run(process.execPath, [CLI, ...args, ...oneShot, '--target-latency', '0.7', '--round', '16', '--int8', '--project', join(tmp, 'runs')], { timeout: 300_000 });
  assert.match(stdout, /pruning \(keep 70\.0% of the estimated latency\)/);
  const dir = join(tmp, 'runs', 'exp');
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  assert.ok(report.final.latencyCost <= 0.7 * report.original.latencyCost + 1e-9, `estimated latency ${report.final.latencyCost} of ${report.original.latencyCost}`);
  const { model: pruned } = await loadModel(join(dir, 'pruned.safetensors'));
  assert.ok(latencyCost(pruned) / latencyCost(original) <= 0.7);
  // The INT8 file is a dynamic-axes ONNX model of the pruned network, validated in ONNX Runtime.
  assert.equal(report.int8.file, join(dir, 'pruned-int8.onnx'));
  assert.ok(report.int8.map >= 0 && report.int8.map <= 1 && report.int8.map50 >= report.int8.map);
  assert.deepEqual((await load(report.int8.file)).names, pruned.names);
  const markdown = readFileSync(join(dir, 'report.md'), 'utf8');
  assert.match(markdown, /\| pruned \+ INT8 \(ONNX Runtime\) \| \| \| [\d.]+ \| [\d.]+ \| n\/a \|/);
  assert.match(markdown, /\| \*\*pruned \(no fine-tuning\)\*\* \| \d+ \(/, 'a one-shot run does not call its model fine-tuned');
  const before = convChannels(original);
  for (const [name, channels] of convChannels(pruned)) {
    if (channels !== before.get(name)) assert.equal(channels % 16, 0, `${name}: ${channels} channels`);
  }

  await assert.rejects(
    run(process.execPath, [CLI, ...args, ...oneShot, '--target-latency', '0.7', '--target-flops', '0.5', '--project', join(tmp, 'runs')]),
    /give at most one of --ratio, --target-flops and --target-latency/,
  );
});

test('yolov5 prune --importance taylor: ranks by gate × gradient on training batches; needs gates and a budget', async () => {
  const { yaml } = await generateSynthDataset({ out: join(tmp, 'data-taylor'), images: 8, valImages: 4, classes: 2, imgsz: 64, seed: 6 });
  const weights = join(tmp, 'start-taylor.safetensors');
  const original = new DetectionModel({ ...loadModelConfig('yolov5n'), nc: 2 });
  await saveCheckpoint(weights, original);
  const args = ['prune', '--weights', weights, '--data', yaml, '--img', '64', '--batch-size', '4', '--workers', '1', '--rounds', '1', '--project', join(tmp, 'runs-taylor')];
  const oneShot = ['--epochs-per-round', '0', '--finetune-epochs', '0', '--calib-images', '4', '--no-benchmark'];
  const { stdout } = await run(process.execPath, [CLI, ...args, ...oneShot, '--importance', 'taylor', '--target-flops', '0.7', '--nominal-batch', '8'], { timeout: 300_000 });
  assert.match(stdout, /importance: first-order Taylor .* over 4 training images/);
  const report = JSON.parse(readFileSync(join(tmp, 'runs-taylor', 'exp', 'report.json'), 'utf8'));
  assert.equal(report.settings.importance, 'taylor');
  assert.equal(report.settings.nominalBatch, 8);
  assert.ok(report.final.gflops <= 0.7 * report.original.gflops + 1e-9, `GFLOPs ${report.final.gflops} of ${report.original.gflops}`);

  await assert.rejects(run(process.execPath, [CLI, ...args, ...oneShot, '--importance', 'taylor', '--criterion', 'bn']), /--importance taylor .* needs --criterion gate/);
  await assert.rejects(run(process.execPath, [CLI, ...args, ...oneShot, '--importance', 'taylor', '--threshold', '0.1']), /give --ratio, --target-flops or --target-latency/);
});

test('yolov5 prune with only a budget: prints the recipe it chose, runs its rounds, reports time and memory', async () => {
  const { yaml } = await generateSynthDataset({ out: join(tmp, 'data-recipe'), images: 8, valImages: 4, classes: 2, imgsz: 64, seed: 7 });
  const weights = join(tmp, 'start-recipe.safetensors');
  await saveCheckpoint(weights, new DetectionModel({ ...loadModelConfig('yolov5n'), nc: 2 }));
  const args = ['prune', '--weights', weights, '--data', yaml, '--img', '64', '--batch-size', '4', '--workers', '1', '--calib-images', '4', '--no-benchmark'];
  const { stdout } = await run(process.execPath, [CLI, ...args, '--epochs', '3', '--target-flops', '0.5', '--project', join(tmp, 'runs-recipe')], { timeout: 600_000 });
  // 50% of the GFLOPs is one round of ≥ 50%; half of a 3-epoch budget gives it 1 sparsity epoch, 2 fine-tuning.
  assert.match(stdout, /Recipe \(flags override\):\n {2}epochs 3 \(given\)\n {2}rounds 1: each keeps ≥ 50% of the cost entering it \(50% in all needs 1\)\n {2}epochs per round 1: .*\n {2}fine-tuning 2 epochs/);
  assert.match(stdout, /optimizer SGD: the one .*start-recipe\.safetensors was trained with|optimizer SGD: the checkpoint does not say/);
  assert.match(stdout, /λ \S+ per image at the start \(gate lr 0\.05\)/);
  assert.match(stdout, /no distillation: the original's mAP50 0\.\d+ is below 0\.5/);
  assert.match(stdout, /===== round 1\/1: sparsity training \(1 epochs, gate\) =====/);
  assert.match(stdout, /===== fine-tuning \(2 epochs, no penalty\) =====/);
  const dir = join(tmp, 'runs-recipe', 'exp');
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  assert.equal(report.settings.distill, 0);
  assert.ok(report.settings.recipe.length >= 9);
  assert.ok(report.wallSeconds > 0 && report.maxRssBytes > 100e6, `wall ${report.wallSeconds} s, RSS ${report.maxRssBytes} bytes`);
  assert.ok(report.final.gflops <= 0.5 * report.original.gflops + 1e-9);
  assert.match(readFileSync(join(dir, 'report.md'), 'utf8'), /Recipe \(chosen where not given\):[\s\S]*Wall time \d+\.\d min, max RSS \d+\.\d\d GB[\s\S]*\| \*\*pruned, fine-tuned\*\* \|/);
});
