// The ffmpeg pipes of src/infer/video.ts on their own: long videos must not pile up listeners.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRgbImage } from '../src/data/image.js';
import { VideoWriter } from '../src/infer/video.js';

const tmp = mkdtempSync(join(tmpdir(), 'infer-video-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('writing many frames that fill the pipe adds no listener per frame (no MaxListenersExceededWarning)', async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
  process.on('warning', onWarning);
  try {
    const file = join(tmp, 'long.mp4');
    // 640x360 RGB is 675 KiB a frame, far over a pipe's buffer: every write waits for ffmpeg to drain it.
    const writer = await VideoWriter.open(file, 640, 360, 25);
    for (let i = 0; i < 40; i++) await writer.write(createRgbImage(640, 360, (i * 6) % 256));
    await writer.close();
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    assert.deepEqual(warnings, []);
    const frames = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file], { encoding: 'utf8' });
    assert.equal(frames.trim(), '40');
  } finally {
    process.off('warning', onWarning);
  }
});
