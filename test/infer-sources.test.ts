import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandGlob, resolveSource, streamStem } from '../src/infer/sources.js';

const tmp = mkdtempSync(join(tmpdir(), 'infer-sources-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const touch = (...parts: string[]) => {
  const file = join(tmp, ...parts);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, '');
  return file;
};

const a = touch('media', 'a.jpg');
const b = touch('media', 'b.PNG');
const clip = touch('media', 'clip.mp4');
const notes = touch('media', 'notes.md');
touch('media', '.hidden.jpg');
const deep = touch('media', 'sub', 'c.webp');

test('a folder lists its files in order; files of other types are reported, hidden files ignored', () => {
  const entries = resolveSource(join(tmp, 'media'));
  assert.deepEqual(entries.slice(0, 3), [
    { kind: 'image', path: a },
    { kind: 'image', path: b },
    { kind: 'video', path: clip },
  ]);
  assert.equal(entries.length, 4);
  const other = entries[3]!;
  assert.ok(other.kind === 'invalid' && other.path === notes);
  assert.match(other.reason, /^not an image or video file \(supported: bmp, jpeg/);
});

test('globs: *, ?, [..] within a folder and ** across folders', () => {
  assert.deepEqual(expandGlob(join(tmp, 'media', '*.jpg')), [a]);
  assert.deepEqual(expandGlob(join(tmp, 'media', '?.*')), [a, b]);
  assert.deepEqual(expandGlob(join(tmp, 'media', '[b-c]*')), [b, clip]);
  assert.deepEqual(expandGlob(join(tmp, '**', '*.webp')), [deep]);
  assert.deepEqual(resolveSource(join(tmp, 'media', '*.mp4')), [{ kind: 'video', path: clip }]);
  assert.throws(() => resolveSource(join(tmp, 'media', '*.gif')), /the glob matches no files/);
});

test('a list file names sources one per line; bad lines are reported, not fatal', () => {
  const list = join(tmp, 'list.txt');
  writeFileSync(list, `${a}\n\n# a comment\n${clip}\nrtsp://camera.local/live/main\n${join(tmp, 'gone.jpg')}\n`);
  const entries = resolveSource(list);
  assert.deepEqual(entries.slice(0, 3), [
    { kind: 'image', path: a },
    { kind: 'video', path: clip },
    { kind: 'stream', url: 'rtsp://camera.local/live/main' },
  ]);
  assert.equal(entries[3]!.kind, 'invalid');
  assert.match((entries[3] as { reason: string }).reason, /gone\.jpg: no such file or folder/);
});

test('single sources: image, video, stream URL, image and video URLs; clear errors for missing or unsupported ones', () => {
  assert.deepEqual(resolveSource(b), [{ kind: 'image', path: b }]);
  assert.deepEqual(resolveSource('http://example.com/video.m3u8'), [{ kind: 'stream', url: 'http://example.com/video.m3u8' }]);
  // A URL whose path names an image is that image (YOLOv5 downloads it; a query does not hide it); a video URL may
  // be live, so it stays a stream.
  assert.deepEqual(resolveSource('https://example.com/img/bus.JPG?s=1'), [{ kind: 'image', path: 'https://example.com/img/bus.JPG?s=1' }]);
  assert.deepEqual(resolveSource('https://example.com/clip.mp4'), [{ kind: 'stream', url: 'https://example.com/clip.mp4' }]);
  assert.deepEqual(resolveSource('rtsp://example.com/cam.mp4'), [{ kind: 'stream', url: 'rtsp://example.com/cam.mp4' }]);
  assert.throws(() => resolveSource(join(tmp, 'missing.jpg')), /--source .*missing\.jpg: no such file or folder/);
  assert.throws(() => resolveSource(notes), /notes\.md: not an image or video file/);
  mkdirSync(join(tmp, 'empty'));
  assert.throws(() => resolveSource(join(tmp, 'empty')), /the folder is empty/);
  // A number is a camera, as in YOLOv5: /dev/video<n>, read through ffmpeg's v4l2 input.
  const camera = join('/dev', 'video7');
  if (existsSync(camera)) assert.deepEqual(resolveSource('7'), [{ kind: 'camera', device: camera, number: '7' }]);
  else assert.throws(() => resolveSource('7'), /^Error: --source 7: no camera \/dev\/video7 on this machine$/);
  assert.equal(streamStem('rtsp://camera.local/live/main.sdp'), 'main');
  assert.equal(streamStem('rtmp://host:1935'), 'host');
});

test('only regular files are read: a FIFO named like an image is reported, never opened (no hang)', () => {
  const folder = join(tmp, 'with-fifo');
  mkdirSync(folder);
  const good = touch('with-fifo', 'a.jpg');
  const fifo = join(folder, 'x.jpg');
  execFileSync('mkfifo', [fifo]);
  symlinkSync('/dev/zero', join(folder, 'zero.png'));
  const notRegular = /^a FIFO \(named pipe\), not a regular file; only regular files are read$/;
  const entries = resolveSource(folder);
  assert.deepEqual(entries[0], { kind: 'image', path: good });
  assert.ok(entries[1]!.kind === 'invalid' && entries[1]!.path === fifo && notRegular.test(entries[1]!.reason), JSON.stringify(entries));
  assert.ok(entries[2]!.kind === 'invalid' && /^a device, not a regular file/.test(entries[2]!.reason), JSON.stringify(entries));
  const globbed = resolveSource(join(folder, 'x.*'))[0]!;
  assert.ok(globbed.kind === 'invalid' && notRegular.test(globbed.reason));
  assert.throws(() => resolveSource(fifo), /--source .*x\.jpg: a FIFO \(named pipe\), not a regular file/);
  const listFifo = join(tmp, 'list-fifo.txt');
  execFileSync('mkfifo', [listFifo]);
  assert.throws(() => resolveSource(listFifo), /list-fifo\.txt: a FIFO \(named pipe\), not a regular file/);
});
