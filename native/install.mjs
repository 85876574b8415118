#!/usr/bin/env node
// The package's `install` step: builds the image addon (native/image: pre-processing, no libtorch needed), then the
// libtorch addon where libtorch is found (see find-libtorch.mjs), and otherwise leaves the package usable for ONNX
// models only. It never fails the install: without the image addon images are pre-processed in JS (same pixels,
// slower), ONNX Runtime needs no libtorch, and the reason the libtorch addon is missing is kept in
// native/install-note.txt, which the error raised when a libtorch feature is first used quotes (npm hides a
// dependency's install output unless the install fails).
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(nativeDir);
const note = join(nativeDir, 'install-note.txt');

// `npm install` / `npm ci` inside a clone of the repository itself: `make` builds the addon there (and only when
// its sources change), so building here too would only double the wait.
if (process.env.INIT_CWD && resolve(process.env.INIT_CWD) === root && existsSync(join(root, 'Makefile'))) process.exit(0);

rmSync(note, { force: true });

// npm runs install scripts with its own node-gyp at hand: npm_config_node_gyp names its script, and a `node-gyp`
// command is on PATH. node-gyp needs the Node.js headers; it downloads them once unless they are cached already.
const gyp = process.env.npm_config_node_gyp;
const [command, prefix] = gyp && existsSync(gyp) ? [process.execPath, [gyp]] : ['node-gyp', []];

/** `node-gyp rebuild` in `dir`, its output kept in dir/build.log; on failure the partial build is removed. */
function build(dir) {
  const result = spawnSync(command, [...prefix, 'rebuild', '--directory', dir, '-j', String(availableParallelism()), '--loglevel=warn'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const log = join(dir, 'build.log');
  writeFileSync(log, `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`);
  if (result.status !== 0) rmSync(join(dir, 'build'), { recursive: true, force: true });
  return { ok: result.status === 0, log };
}

process.stdout.write('yolov5-ts: building the image addon (pre-processing; no libtorch needed)...\n');
const image = build(join(nativeDir, 'image'));
process.stdout.write(
  image.ok
    ? 'yolov5-ts: the image addon is built.\n'
    : `yolov5-ts: the image addon was not built (the compiler's output is in ${image.log}); images are pre-processed in JS: the same pixels, about ten times slower.\n`,
);

function skip(reason) {
  writeFileSync(note, reason + '\n');
  process.stdout.write(`yolov5-ts: the libtorch addon was not built: ${reason}\nyolov5-ts: ONNX models (.onnx) work; .pt/.safetensors models, training, validation, export and pruning need libtorch.\n`);
  process.exit(0);
}

const probe = spawnSync(process.execPath, [join(nativeDir, 'find-libtorch.mjs'), 'lib'], { encoding: 'utf8' });
if (probe.status !== 0) skip((probe.stderr || 'libtorch not found').trim().replace(/^yolov5-ts: /, ''));

process.stdout.write(`yolov5-ts: building the libtorch addon against ${probe.stdout.trim()} (about a minute per core)...\n`);
const torch = build(nativeDir);
if (!torch.ok) skip(`building it against the libtorch in ${probe.stdout.trim()} failed (the compiler's output is in ${torch.log})`);
process.stdout.write('yolov5-ts: the libtorch addon is built.\n');
