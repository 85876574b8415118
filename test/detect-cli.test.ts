// End to end through the built CLI (dist/cli/main.js, built by `make setup`): a folder with a broken file, and a video.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { loadModel } from '../src/checkpoint/index.js';
import { exportOnnx } from '../src/export/index.js';
import { IMAGES, WEIGHTS } from './helpers/fixtures.js';

const run = promisify(execFile);
const CLI = 'dist/cli/main.js';
const tmp = mkdtempSync(join(tmpdir(), 'detect-cli-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const onnx = join(tmp, 'yolov5n.onnx');
test.before(async () => {
  const { model } = await loadModel(WEIGHTS);
  writeFileSync(onnx, exportOnnx(model, { dynamic: true }).bytes);
});

async function detect(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [CLI, 'detect', '--weights', onnx, '--project', join(tmp, 'runs'), ...args], { timeout: 120_000 });
}

test('detect on a folder: annotated images and label files for the good images, one warning for the broken file', async () => {
  const folder = join(tmp, 'images');
  mkdirSync(folder);
  for (const name of ['bus.jpg', 'zidane.jpg']) copyFileSync(join(IMAGES, name), join(folder, name));
  writeFileSync(join(folder, 'broken.jpg'), 'this is not a JPEG');

  const { stdout } = await detect(['--source', folder, '--save-txt', '--save-conf']);
  const lines = stdout.split('\n');
  const warnings = lines.filter((l) => l.startsWith('WARNING'));
  assert.equal(warnings.length, 1, stdout);
  assert.match(warnings[0]!, /broken\.jpg: cannot decode image/);
  assert.ok(lines.some((l) => new RegExp(`^image 2/3 ${join(folder, 'bus.jpg')}: 640x480 4 persons, 1 bus, [\\d.]+ms$`).test(l)), stdout);
  assert.ok(lines.some((l) => /^image 3\/3 .*zidane\.jpg: 384x640 2 persons, 1 tie, [\d.]+ms$/.test(l)), stdout);
  assert.match(stdout, /^Speed: [\d.]+ms pre-process, [\d.]+ms inference, [\d.]+ms NMS per image at shape \(1, 3, 640, 640\)$/m);
  const saveDir = join(tmp, 'runs', 'exp');
  assert.match(stdout, new RegExp(`Results saved to ${saveDir}\\n2 labels saved to ${join(saveDir, 'labels')}`));

  for (const [name, width, height, boxes] of [['bus', 810, 1080, 5], ['zidane', 1280, 720, 3]] as const) {
    const meta = await sharp(join(saveDir, `${name}.jpg`)).metadata();
    assert.deepEqual([meta.width, meta.height], [width, height]);
    const labels = readFileSync(join(saveDir, 'labels', `${name}.txt`), 'utf8').trim().split('\n');
    assert.equal(labels.length, boxes);
    for (const line of labels) {
      const values = line.split(' ').map(Number);
      assert.equal(values.length, 6, line);
      assert.ok(values.slice(1).every((v) => v >= 0 && v <= 1), line);
    }
  }
  assert.ok(!existsSync(join(saveDir, 'broken.jpg')));
});

test('detect on a video: an annotated video with every frame, through ffmpeg', async () => {
  const video = join(tmp, 'clip.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-loop', '1', '-i', join(IMAGES, 'bus.jpg'), '-frames:v', '4', '-r', '10', '-vf', 'scale=240:320', '-pix_fmt', 'yuv420p', video]);

  const { stdout } = await detect(['--source', video, '--img', '320', '--name', 'video']);
  const frames = stdout.split('\n').filter((l) => l.startsWith('video 1/1 (frame '));
  assert.deepEqual(frames.map((l) => /\(frame (\d)\/4\)/.exec(l)?.[1]), ['1', '2', '3', '4'], stdout);
  assert.match(frames[0]!, /: 320x256 /);
  const output = join(tmp, 'runs', 'video', 'clip.mp4');
  const probe = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,width,height', '-of', 'csv=p=0', output], {
    encoding: 'utf8',
  });
  assert.equal(probe.trim(), '240,320,4');
});

test('detect fails with a clear message for a missing source and for a video ffmpeg cannot open', async () => {
  await assert.rejects(detect(['--source', join(tmp, 'absent.jpg')]), (e: { stderr: string; code: number }) => {
    assert.equal(e.code, 1);
    assert.match(e.stderr, /--source .*absent\.jpg: no such file or folder/);
    return true;
  });
  const fake = join(tmp, 'fake.mp4');
  writeFileSync(fake, 'not a video');
  await assert.rejects(detect(['--source', fake, '--name', 'fake']), (e: { stdout: string; stderr: string }) => {
    assert.match(e.stdout, /WARNING: skipping .*fake\.mp4: ffmpeg cannot open the video/);
    assert.match(e.stderr, /no image or video frame of .*fake\.mp4 could be processed/);
    return true;
  });
});

test('detect --weights a b --augment: an ensemble of checkpoints with test-time augmentation', async () => {
  const { stdout } = await run(
    process.execPath,
    [CLI, 'detect', '--weights', WEIGHTS, WEIGHTS, '--augment', '--source', join(IMAGES, 'bus.jpg'), '--project', join(tmp, 'runs'), '--name', 'ensemble'],
    { timeout: 120_000 },
  );
  assert.match(stdout, new RegExp(`Loaded ${WEIGHTS} \\+ ${WEIGHTS} with test-time augmentation for libtorch inference`));
  assert.match(stdout, /bus\.jpg: 640x480 \d+ persons?, 1 bus/);
});
