// The package where libtorch is absent and no addon can be compiled: the install step skips both addons and says
// why, ONNX models still work (CLI and library, images pre-processed in JS), and a libtorch feature fails with one
// line naming what is missing. The package is laid out as npm installs it (package.json, dist/, cfg/, data/, native/
// without build/) in a temporary folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { saveCheckpoint } from '../src/checkpoint/index.js';
import { exportOnnx } from '../src/export/index.js';
import { loadModelConfig } from '../src/model/config.js';
import { DetectionModel } from '../src/model/yolo.js';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'onnx-only-'));
const pkg = join(tmp, 'pkg');
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.before(async () => {
  mkdirSync(join(pkg, 'native'), { recursive: true });
  for (const entry of ['package.json', 'dist', 'cfg', 'data']) cpSync(entry, join(pkg, entry), { recursive: true });
  for (const file of ['binding.gyp', 'find-libtorch.mjs', 'install.mjs', 'image/binding.gyp', 'image/image.cc', 'image/resample.h']) {
    cpSync(join('native', file), join(pkg, 'native', file));
  }
  // The node-gyp npm hands to install scripts, standing in for a machine without a compiler.
  writeFileSync(join(tmp, 'no-compiler.mjs'), "console.error('gyp: no C++ compiler here'); process.exit(1);\n");
  // The package's dependencies: this repository's.
  symlinkSync(resolve('node_modules'), join(pkg, 'node_modules'));
  // A small random yolov5n, as ONNX and as a checkpoint, and a small image.
  const model = new DetectionModel(loadModelConfig('yolov5n')).eval();
  writeFileSync(join(tmp, 'tiny.onnx'), exportOnnx(model, { imgsz: 64 }).bytes);
  await saveCheckpoint(join(tmp, 'tiny.safetensors'), model);
  await sharp({ create: { width: 80, height: 60, channels: 3, background: { r: 200, g: 120, b: 40 } } }).jpeg().toFile(join(tmp, 'image.jpg'));
});

test('install without libtorch or a compiler: no builds, notes saying why, exit 0', async () => {
  const env = { ...process.env, LIBTORCH: join(tmp, 'no-libtorch'), INIT_CWD: tmp, npm_config_node_gyp: join(tmp, 'no-compiler.mjs') };
  const { stdout } = await run(process.execPath, [join(pkg, 'native', 'install.mjs')], { cwd: pkg, env });
  const imageLog = join(pkg, 'native', 'image', 'build.log');
  assert.ok(stdout.includes(`yolov5-ts: the image addon was not built (the compiler's output is in ${imageLog}); images are pre-processed in JS`), stdout);
  assert.match(readFileSync(imageLog, 'utf8'), /gyp: no C\+\+ compiler here/);
  assert.ok(!existsSync(join(pkg, 'native', 'image', 'build')));
  assert.match(stdout, /yolov5-ts: the libtorch addon was not built: LIBTORCH=.*no-libtorch does not contain include\/ATen\/ATen\.h/);
  assert.match(readFileSync(join(pkg, 'native', 'install-note.txt'), 'utf8'), /does not contain include\/ATen\/ATen\.h/);
  assert.ok(!existsSync(join(pkg, 'native', 'build')));
});

test('ONNX-only: detect on the CLI and load() in the library work without the addons, pre-processing in JS', async () => {
  const cli = join(pkg, 'dist', 'cli', 'main.js');
  const { stdout } = await run(process.execPath, [cli, 'detect', '--weights', 'tiny.onnx', '--source', 'image.jpg', '--img', '64', '--project', 'runs'], { cwd: tmp, timeout: 60_000 });
  assert.match(stdout, /^image 1\/1 .*image\.jpg: 64x64 /m);
  assert.ok(existsSync(join(tmp, 'runs', 'exp', 'image.jpg')));
  const script = `import { load } from './pkg/dist/index.js'; const d = await load('tiny.onnx'); const r = await d.detect('image.jpg'); console.log(d.runtime, r.boxes.length >= 0);`;
  const lib = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: tmp, timeout: 60_000 });
  assert.equal(lib.stdout.trim(), 'onnxruntime true');
  const why = `import { jsFallbackReason, preprocessor } from './pkg/dist/data/preprocess.js'; console.log(preprocessor.backend, jsFallbackReason);`;
  const fallback = await run(process.execPath, ['--input-type=module', '-e', why], { cwd: tmp, timeout: 60_000 });
  assert.equal(fallback.stdout.trim(), `js the image addon is not built (its build failed, see ${join(pkg, 'native', 'image', 'build.log')})`);
});

test('ONNX-only: a libtorch model fails with one line saying what is missing and why', async () => {
  const cli = join(pkg, 'dist', 'cli', 'main.js');
  const failed = await run(process.execPath, [cli, 'detect', '--weights', 'tiny.safetensors', '--source', 'image.jpg'], { cwd: tmp, timeout: 60_000 }).then(
    () => assert.fail('a .safetensors model needs libtorch'),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(failed.code, 1);
  assert.match(
    failed.stderr.trim(),
    /^yolov5: yolov5-ts: this needs libtorch \(.*\), but the libtorch addon is not built: LIBTORCH=.* does not contain include\/ATen\/ATen\.h[^.]*\. Install libtorch .* then run `npm rebuild yolov5-ts`.*ONNX models \(\.onnx\) run without libtorch\.$/,
  );
});
