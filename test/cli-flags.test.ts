// Commands as pasted from ultralytics/yolov5 (issue 19): every spelling of the size and batch flags, --device,
// check_img_size's warning, --vid-stride, camera sources, the settings line and progress lines in a log.
// The spellings are checked on each command's parser (actions replaced); the runs go through dist/cli/main.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { Command } from 'commander';
import { commands } from '../src/cli/commands/index.js';
import { expandAbbreviations } from '../src/cli/abbreviations.js';
import { generateSynthDataset } from '../src/data/synth.js';
import { BUS, COCO32, WEIGHTS } from './helpers/fixtures.js';

const run = promisify(execFile);
const CLI = 'dist/cli/main.js';
const tmp = mkdtempSync(join(tmpdir(), 'cli-flags-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** The options a command parses from `args`, without running it. */
async function parsed(name: string, args: string[]): Promise<Record<string, unknown>> {
  const command = commands.map((make) => make()).find((c) => c.name() === name)!;
  let options: Record<string, unknown> = {};
  await command
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .action((o: Record<string, unknown>) => void (options = o))
    .parseAsync(args, { from: 'user' });
  return options;
}

const required: Record<string, string[]> = {
  train: [],
  val: ['--weights', 'w.pt', '--data', 'd.yaml'],
  detect: ['--weights', 'w.pt', '--source', 'x.jpg'],
  export: ['--weights', 'w.pt'],
  benchmark: ['--weights', 'w.pt'],
  prune: [],
};

test('--img, --imgsz and --img-size are one option on every command that takes a size', async () => {
  for (const [name, args] of Object.entries(required)) {
    const variadic = name === 'detect' || name === 'export';
    for (const spelling of ['--img', '--imgsz', '--img-size']) {
      const options = await parsed(name, [...args, spelling, '320']);
      assert.deepEqual(options.imgsz, variadic ? [320] : 320, `${name} ${spelling}`);
    }
    assert.deepEqual((await parsed(name, [...args, '--img-size=256'])).imgsz, variadic ? [256] : 256, `${name} --img-size=256`);
  }
  assert.deepEqual((await parsed('detect', [...required.detect!, '--img-size', '384', '640'])).imgsz, [384, 640]);
});

test('--batch and --batch-size are one option; --device cpu is accepted everywhere', async () => {
  for (const name of ['train', 'val', 'export', 'prune']) {
    assert.equal((await parsed(name, [...required[name]!, '--batch', '4'])).batchSize, 4, `${name} --batch`);
    assert.equal((await parsed(name, [...required[name]!, '--batch-size', '4'])).batchSize, 4, `${name} --batch-size`);
  }
  for (const [name, args] of Object.entries(required)) {
    assert.equal((await parsed(name, [...args, '--device', 'cpu'])).device, 'cpu', name);
    assert.equal((await parsed(name, args)).device, 'cpu', `${name}: cpu by default`);
  }
});

test('flags shortened as argparse allows: a unique prefix is the option, an ambiguous one an error naming the candidates', async () => {
  const program = new Command('yolov5');
  for (const make of commands) program.addCommand(make());
  const expand = (...args: string[]) => expandAbbreviations(program, args);
  assert.deepEqual(expand('detect', '--conf', '0.5', '--iou=0.4', '--agnostic'), ['detect', '--conf-thres', '0.5', '--iou-thres=0.4', '--agnostic-nms']);
  assert.deepEqual(expand('train', '--batch', '8', '--epo', '3'), ['train', '--batch', '8', '--epochs', '3'], 'exact spellings stay');
  assert.deepEqual(expand('dataset', 'synth', '--ima', '8'), ['dataset', 'synth', '--images', '8']);
  assert.deepEqual(expand('detect', '--source', 'x', '--', '--conf'), ['detect', '--source', 'x', '--', '--conf'], 'nothing after --');
  assert.throws(() => expand('val', '--save'), /ambiguous option: --save could match --save-txt, --save-conf, --save-hybrid/);
  assert.deepEqual((await parsed('detect', expand('detect', '--weights', 'w.pt', '--sou', 'x', '--conf', '0.5').slice(1))).confThres, 0.5);
  await assert.rejects(run(process.execPath, [CLI, 'val', '--save']), /yolov5: ambiguous option: --save could match/);
});

test('--device 0, cuda:0 or mps fails on every command, saying the build is CPU-only', async () => {
  const runs = Object.entries(required).map(([name, args], i) => {
    const device = ['0', 'cuda:0', 'mps'][i % 3]!;
    return run(process.execPath, [CLI, name, ...args, '--device', device], { timeout: 60_000 }).then(
      () => assert.fail(`${name} --device ${device} should fail`),
      (e: { code: number; stdout: string; stderr: string }) => {
        assert.equal(e.code, 1, name);
        assert.match(e.stderr, new RegExp(`'--device <device>' argument '${device}' is invalid\\. This build runs on the CPU only .*; --device cpu is the choice`), name);
        assert.equal(e.stdout, '', `${name} starts nothing`);
      },
    );
  });
  await Promise.all(runs);
});

test('train --batch 8 --imgsz 64 --device cpu: the settings line, and progress lines in a log', async () => {
  const { yaml } = await generateSynthDataset({ out: join(tmp, 'synth'), images: 16, valImages: 4, classes: 2, imgsz: 64, seed: 3 });
  const args = ['train', '--data', yaml, '--cfg', 'yolov5n', '--batch', '8', '--imgsz', '64', '--device', 'cpu', '--epochs', '1', '--workers', '1', '--noplots'];
  const { stdout } = await run(process.execPath, [CLI, ...args, '--project', join(tmp, 'train')], {
    timeout: 300_000,
    env: { ...process.env, YOLOV5_PROGRESS_INTERVAL_MS: '0' },
  });
  const first = stdout.split('\n')[0]!;
  assert.match(first, new RegExp(`^train: data=${yaml}, weights=, cfg=yolov5n, hyp=hyp.scratch-low, imgsz=64, batch_size=8, nominal_batch=64, epochs=1, device=cpu, project=${join(tmp, 'train')}, name=exp, `));
  assert.match(first, /, label_smoothing=0, nnodes=1, node_rank=0, master_addr=127.0.0.1, master_port=29500, sync_bn=false, bucket_cap_mb=25, ddp_timeout=1800$/);
  assert.match(stdout, /^ {2}Epoch 0\/0: 1\/2 batches, 50%, ETA \d+s$/m, 'a line per batch at interval 0');
  assert.match(stdout, /^ {2}val: 1\/1 batches, 100%, ETA 0s$/m);
  assert.ok(existsSync(join(tmp, 'train', 'exp', 'weights', 'best.safetensors')));
});

test('val --img-size 320 --batch 4 on four COCO images', async () => {
  const images = ['000000000139', '000000000285', '000000000632', '000000000724'].map((id) => join(dirname(COCO32), `images/val2017/${id}.jpg`));
  writeFileSync(join(tmp, 'few.txt'), `${images.join('\n')}\n`);
  const { names } = parse(readFileSync(COCO32, 'utf8')) as { names: string[] };
  const data = join(tmp, 'few.yaml');
  writeFileSync(data, stringify({ train: 'few.txt', val: 'few.txt', names }));
  const { stdout } = await run(process.execPath, [CLI, 'val', '--weights', WEIGHTS, '--data', data, '--img-size', '320', '--batch', '4', '--project', join(tmp, 'val')], {
    timeout: 120_000,
  });
  assert.match(stdout.split('\n')[0]!, new RegExp(`^val: weights=\\[${WEIGHTS}\\], data=${data}, imgsz=320, batch_size=4, conf_thres=0.001, `));
  assert.match(stdout, /^ +all +4 +\d+ /m);
  assert.match(stdout, /per image at shape \(4, 3, 320, 320\)/);
});

test('detect --img 300 --vid-stride 2: the size rounded to the stride with a warning, every second frame', async () => {
  const video = join(tmp, 'clip.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-loop', '1', '-i', BUS, '-frames:v', '5', '-r', '10', '-vf', 'scale=240:320', '-pix_fmt', 'yuv420p', video]);
  const { stdout } = await run(process.execPath, [CLI, 'detect', '--weights', WEIGHTS, '--source', video, '--img', '300', '--vid-stride', '2', '--project', join(tmp, 'detect')], {
    timeout: 120_000,
  });
  assert.match(stdout.split('\n')[0]!, /^detect: weights=\[.*yolov5n\.pt\], source=.*clip\.mp4, imgsz=\[300, 300\], .*, vid_stride=2, device=cpu$/);
  const warnings = stdout.split('\n').filter((l) => l.startsWith('WARNING'));
  assert.deepEqual(warnings, ['WARNING: --img 300 must be a multiple of max stride 32, updating to 320']);
  const frames = stdout.split('\n').filter((l) => l.startsWith('video 1/1 (frame '));
  assert.deepEqual(frames.map((l) => /\(frame (\d\/\d)\)/.exec(l)?.[1]), ['1/2', '2/2'], stdout);
  assert.match(frames[0]!, /: 320x256 /);
  assert.match(stdout, /^Speed: .* per image at shape \(1, 3, 320, 320\)$/m);
  const probe = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', join(tmp, 'detect', 'exp', 'clip.mp4')], {
    encoding: 'utf8',
  });
  assert.equal(probe.trim(), '2', 'the annotated video has the frames detected on');
});

test('detect --source 0 reads /dev/video0, and says so when there is no such camera', { skip: existsSync('/dev/video0') && 'this machine has a camera' }, async () => {
  await assert.rejects(run(process.execPath, [CLI, 'detect', '--weights', WEIGHTS, '--source', '0', '--project', join(tmp, 'camera')], { timeout: 60_000 }), (e: { code: number; stderr: string }) => {
    assert.equal(e.code, 1);
    assert.match(e.stderr, /^yolov5: --source 0: no camera \/dev\/video0 on this machine$/m);
    return true;
  });
});
