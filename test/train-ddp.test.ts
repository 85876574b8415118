// Training over several processes (`yolov5 train --nproc-per-node`, --nnodes) through the built CLI, on a
// synthetic dataset made here: the same parameters as one process with the whole batch, two "nodes" on the
// loopback interface, a dead worker ending the run, and the pruning pipeline's training stages in two processes,
// interrupted and resumed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { parse, stringify } from 'yaml';
import { readCheckpoint, saveCheckpoint } from '../src/checkpoint/format.js';
import { DetectionModel } from '../src/model/yolo.js';
import { loadModelConfig } from '../src/model/config.js';
import { generateSynthDataset } from '../src/data/synth.js';
import { createTrainLoader } from '../src/data/train-loader.js';
import { loadDatasetConfig } from '../src/data/dataset-config.js';
import { freePort } from './helpers/free-port.js';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'train-ddp-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const CLI = 'dist/cli/main.js';
const IMAGES = 32;

/**
 * YOLOv5's box and class losses are means over the batch's matched targets, so a batch split in two gives the same
 * gradient only when both halves match as many targets: every image here has one object of the same size at the
 * same place (their pixels and classes differ), and no augmentation moves it.
 */
async function uniformDataset(): Promise<{ yaml: string; hyp: string }> {
  const root = join(tmp, 'uniform');
  for (const split of ['train', 'val']) {
    mkdirSync(join(root, 'images', split), { recursive: true });
    mkdirSync(join(root, 'labels', split), { recursive: true });
  }
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < IMAGES + 4; i++) {
    const split = i < IMAGES ? 'train' : 'val';
    const cls = i % 2;
    const pixels = Buffer.alloc(64 * 64 * 3);
    for (let p = 0; p < pixels.length; p++) pixels[p] = Math.floor(random() * 96);
    for (let y = 24; y < 40; y++) for (let x = 24; x < 40; x++) pixels.fill(cls ? 220 : 140, (y * 64 + x) * 3, (y * 64 + x) * 3 + 3);
    await sharp(pixels, { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(join(root, 'images', split, `${i}.png`));
    writeFileSync(join(root, 'labels', split, `${i}.txt`), `${cls} 0.5 0.5 0.25 0.25\n`);
  }
  const yaml = join(root, 'data.yaml');
  writeFileSync(yaml, stringify({ path: root, train: 'images/train', val: 'images/val', names: ['dark', 'bright'] }));
  const hyp = parse(readFileSync('cfg/hyps/hyp.scratch-low.yaml', 'utf8')) as Record<string, number>;
  for (const key of ['hsv_h', 'hsv_s', 'hsv_v', 'degrees', 'translate', 'scale', 'shear', 'perspective', 'flipud', 'fliplr', 'mosaic', 'mixup', 'copy_paste']) hyp[key] = 0;
  const hypFile = join(root, 'hyp.yaml');
  writeFileSync(hypFile, stringify(hyp));
  return { yaml, hyp: hypFile };
}

const uniform = uniformDataset();
const common = (project: string) => [
  '--cfg', 'yolov5n', '--img', '64', '--batch-size', '16', '--nominal-batch', '16', '--epochs', '3', '--workers', '1',
  '--noval', '--noplots', '--noautoanchor', '--project', join(tmp, project), '--name', 'exp',
];

async function weights(path: string): Promise<Map<string, number[]>> {
  const { model } = await readCheckpoint(path);
  return new Map([...model.stateDict()].filter(([, t]) => t.dtype === 'float32').map(([name, t]) => [name, t.toArray() as number[]]));
}

test('each rank trains on its own shard of the epoch, as DistributedSampler', async () => {
  const { yaml } = await uniform;
  const dataset = loadDatasetConfig(yaml);
  const loaders = await Promise.all(
    [0, 1, 2].map((rank) => createTrainLoader({ dataset, imgsz: 64, batchSize: 4, workers: 1, labelCache: false, shard: { rank, worldSize: 3 } })),
  );
  try {
    const whole = await createTrainLoader({ dataset, imgsz: 64, batchSize: 12, workers: 1, labelCache: false });
    const order = whole.plan(5).flatMap((b) => b.indices);
    await whole.close();
    const shards = loaders.map((loader) => loader.plan(5).flatMap((b) => b.indices));
    // 32 images padded to 33: rank r takes positions r, r + 3, …; the pad repeats the epoch's first image.
    assert.deepEqual(shards.map((shard) => shard.length), [11, 11, 11]);
    shards.forEach((shard, rank) => assert.deepEqual(shard, [...order, order[0]!].filter((_, k) => k % 3 === rank)));
    assert.equal(new Set(shards.flat()).size, IMAGES);
    assert.deepEqual(loaders.map((loader) => loader.length), [3, 3, 3]);
  } finally {
    await Promise.all(loaders.map((loader) => loader.close()));
  }
});

test('2 processes × batch 8 with --sync-bn, gradients reduced bucket by bucket during backward, end with the parameters of 1 process × batch 16', async () => {
  const { yaml, hyp } = await uniform;
  const args = ['train', '--data', yaml, '--hyp', hyp, '--sync-bn'];
  await run(process.execPath, [CLI, ...args, ...common('one')], { timeout: 300_000 });
  const port = await freePort();
  // Small buckets: many all-reduces start while backward runs, interleaved with synchronized BatchNorm's own.
  const two = ['--nproc-per-node', '2', '--master-port', String(port), '--bucket-cap-mb', '0.25'];
  const { stdout } = await run(process.execPath, [CLI, ...args, ...common('two'), ...two], { timeout: 300_000 });
  const buckets = Number(/Training in 2 processes \(8 images a batch each\), synchronized BatchNorm, gradients averaged in (\d+) buckets during backward/.exec(stdout)?.[1]);
  // yolov5n's 7 MB of gradients: 23 buckets of at most 0.25 MiB (a large tensor is a bucket of its own).
  assert.ok(buckets > 20, `${buckets} buckets`);
  // Every parameter has a gradient, so every bucket (the first layers' last) starts before backward has finished.
  const started = [...stdout.matchAll(/\(([\d.]+) of (\d+) buckets started during backward\)/g)];
  assert.equal(started.length, 3, 'an epoch line for each epoch');
  for (const [, count, of] of started) assert.ok(Number(count) === Number(of), `${count} of ${of} buckets started during backward`);
  assert.equal(stdout.match(/Starting training/g)?.length, 1, 'rank 0 alone logs');
  // 2 batches an epoch, an optimizer step each, 3 epochs: 6 steps (the checkpoint holds their EMA).
  const [alone, together] = [await weights(join(tmp, 'one/exp/weights/last.safetensors')), await weights(join(tmp, 'two/exp/weights/last.safetensors'))];
  assert.deepEqual([...together.keys()], [...alone.keys()]);
  let worst = 0;
  for (const [name, a] of alone) {
    const b = together.get(name)!;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  }
  console.log(`largest parameter difference, 2 × 8 against 1 × 16: ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-5, `largest difference ${worst}`);
});

test('two "nodes" on the loopback interface train together; rank 0 of node 0 saves', async () => {
  const data = (await generateSynthDataset({ out: join(tmp, 'synth'), images: 16, valImages: 4, classes: 2, imgsz: 64, seed: 3 })).yaml;
  const port = String(await freePort());
  const node = (rank: number) =>
    run(
      process.execPath,
      [CLI, 'train', '--data', data, ...common(`nodes${rank}`), '--epochs', '1', '--nproc-per-node', '1', '--nnodes', '2', '--node-rank', String(rank), '--master-addr', '127.0.0.1', '--master-port', port],
      { timeout: 300_000 },
    );
  const [zero, one] = await Promise.all([node(0), node(1)]);
  assert.match(zero.stdout, /Training in 2 processes \(8 images a batch each\)/);
  assert.match(zero.stdout, /1 epochs completed/);
  assert.doesNotMatch(one.stdout, /Starting training/);
  const { model } = await readCheckpoint(join(tmp, 'nodes0/exp/weights/last.safetensors'));
  assert.equal(model.names.length, 2);
});

test('a worker that dies ends the run within seconds, saying which', async () => {
  const data = (await generateSynthDataset({ out: join(tmp, 'synth-kill'), images: 16, valImages: 4, classes: 2, imgsz: 64, seed: 4 })).yaml;
  const port = String(await freePort());
  const child = spawn(process.execPath, [CLI, 'train', '--data', data, ...common('killed'), '--epochs', '300', '--nproc-per-node', '2', '--master-port', port]);
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    while (!/Epoch/.test(output)) {
      if (child.exitCode !== null) assert.fail(`the run ended early:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const pid = Number(/worker rank 1 of 2 \(local rank 1, pid (\d+)\)/.exec(output)![1]);
    const killed = performance.now();
    process.kill(pid, 'SIGKILL');
    const code = await exited;
    const seconds = (performance.now() - killed) / 1000;
    assert.notEqual(code, 0);
    assert.match(output, new RegExp(`worker rank 1 \\(pid ${pid}\\) was killed by SIGKILL; stopping the other workers`));
    assert.ok(seconds < 10, `ended ${seconds.toFixed(1)} s after the kill`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('yolov5 prune --nproc-per-node 2: both processes train every stage, rank 0 alone prunes, speaks and writes', async () => {
  const data = (await generateSynthDataset({ out: join(tmp, 'synth-prune'), images: 16, valImages: 4, classes: 2, imgsz: 64, seed: 5 })).yaml;
  const weights = join(tmp, 'prune-start.safetensors');
  await saveCheckpoint(weights, new DetectionModel({ ...loadModelConfig('yolov5n'), nc: 2 }));
  const project = join(tmp, 'prune-runs');
  const args = [
    'prune', '--weights', weights, '--data', data, '--img', '64', '--batch-size', '8', '--workers', '1', '--rounds', '1', '--epochs-per-round', '1',
    '--finetune-epochs', '1', '--target-flops', '0.6', '--calib-images', '4', '--no-benchmark', '--project', project,
    '--nproc-per-node', '2', '--master-port', String(await freePort()),
    // The untrained start is a weak teacher (the recipe would leave feature distillation off): asked for explicitly.
    '--feature-distill', '2',
  ];
  // Every rank leaves when rank 0 says the run is done: a rank left waiting would hold the launcher past the timeout.
  const { stdout } = await run(process.execPath, [CLI, ...args], { timeout: 300_000 });
  assert.equal(stdout.match(/^prune: /gm)?.length, 1, 'rank 0 alone prints the settings');
  assert.equal(stdout.match(/Training in 2 processes \(4 images a batch each\)/g)?.length, 2, 'sparsity training and fine-tuning, each in both processes');
  assert.equal(stdout.match(/===== round 1\/1: pruning/g)?.length, 1);
  // Fine-tuning learns the features of the sparsity-trained model at the channels the plan kept, in both processes
  // (the untrained parent is below the recipe's bar: the given gain is used as given).
  assert.equal(stdout.match(/distilling the features of 24 layers from the model before pruning \(weight 2\)/g)?.length, 1);
  const state = JSON.parse(readFileSync(join(project, 'exp', 'state.json'), 'utf8'));
  assert.equal(state.parent.path, join(project, 'exp', 'round1', 'weights', 'last.safetensors'));
  assert.equal(Object.keys(state.parent.keptChannels).length, 24);
  // The parent's accuracy after sparsity training is recorded for the recipe's bar; a given gain passes it anyway.
  assert.equal(typeof state.parent.map50, 'number');
  assert.equal(state.parent.map50, state.sparsityTrained.map50);
  const report = JSON.parse(readFileSync(join(project, 'exp', 'report.json'), 'utf8'));
  assert.ok(report.final.gflops <= 0.6 * report.original.gflops + 1e-9, `GFLOPs ${report.final.gflops} of ${report.original.gflops}`);
  const { model } = await readCheckpoint(join(project, 'exp', 'pruned.safetensors'));
  assert.ok(model.numParameters() < report.original.parameters);
});

test('an interrupted prune in 2 processes resumes in 2 processes from its last fine-tuning epoch', async () => {
  const data = (await generateSynthDataset({ out: join(tmp, 'synth-resume'), images: 16, valImages: 4, classes: 2, imgsz: 64, seed: 6 })).yaml;
  const weights = join(tmp, 'resume-start.safetensors');
  await saveCheckpoint(weights, new DetectionModel({ ...loadModelConfig('yolov5n'), nc: 2 }));
  const project = join(tmp, 'resume-runs');
  const epochs = 30;
  const first = spawn(process.execPath, [
    CLI, 'prune', '--weights', weights, '--data', data, '--img', '64', '--batch-size', '8', '--workers', '1', '--rounds', '1', '--epochs-per-round', '1',
    '--finetune-epochs', String(epochs), '--target-flops', '0.6', '--calib-images', '4', '--no-benchmark', '--project', project,
    '--nproc-per-node', '2', '--master-port', String(await freePort()),
  ]);
  const exited = new Promise((resolve) => first.on('exit', resolve));
  const last = join(project, 'exp', 'finetune', 'weights', 'last.safetensors');
  try {
    // Stopped (launcher and workers) once fine-tuning has saved its first epoch.
    while (!existsSync(last)) {
      if (first.exitCode !== null) assert.fail('the first run ended before fine-tuning saved an epoch');
      await new Promise((r) => setTimeout(r, 50));
    }
    first.kill('SIGTERM');
    await exited;
  } finally {
    if (first.exitCode === null) first.kill('SIGKILL');
  }
  const done = readFileSync(join(project, 'exp', 'finetune', 'results.csv'), 'utf8').trim().split('\n').length - 1;
  assert.ok(done < epochs, `${done} epochs were done before the stop`);
  const { stdout } = await run(process.execPath, [CLI, 'prune', '--resume', join(project, 'exp'), '--nproc-per-node', '2', '--master-port', String(await freePort())], { timeout: 300_000 });
  assert.match(stdout, /Resuming training from .*finetune\/weights\/last\.safetensors at epoch \d+ of 30/);
  assert.match(stdout, /Training in 2 processes/);
  assert.equal(readFileSync(join(project, 'exp', 'finetune', 'results.csv'), 'utf8').trim().split('\n').length - 1, epochs);
  assert.ok(existsSync(join(project, 'exp', 'pruned.safetensors')));
});
