#!/usr/bin/env node
// Locates libtorch for the native build, in the documented order:
// 1. LIBTORCH=/path (a LibTorch download with include/ and lib/)
// 2. an installed Python torch (python3 -c "import torch")
// 3. the Debian package libtorch-dev (/usr/include/torch, /usr/lib/<triplet>/libtorch.so)
// Prints the requested field for binding.gyp: `include`, `lib`, or `rpath`.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

function fromEnv() {
  const root = process.env.LIBTORCH;
  if (!root) return undefined;
  const include = [join(root, 'include'), join(root, 'include/torch/csrc/api/include')];
  const lib = join(root, 'lib');
  if (!existsSync(join(include[0], 'ATen/ATen.h'))) {
    fail(`LIBTORCH=${root} does not contain include/ATen/ATen.h; point it at an unpacked LibTorch download.`);
  }
  return { include, lib };
}

function fromPython() {
  try {
    const root = execFileSync('python3', ['-c', 'import torch, os; print(os.path.dirname(torch.__file__))'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (root && existsSync(join(root, 'include/ATen/ATen.h'))) {
      return { include: [join(root, 'include'), join(root, 'include/torch/csrc/api/include')], lib: join(root, 'lib') };
    }
  } catch {
    // no Python torch: fall through to the system package
  }
  return undefined;
}

function fromDebian() {
  const candidates = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'];
  const lib = candidates.find((dir) => existsSync(join(dir, 'libtorch.so')));
  if (lib && existsSync('/usr/include/ATen/ATen.h')) {
    return { include: ['/usr/include', '/usr/include/torch/csrc/api/include'], lib };
  }
  return undefined;
}

function fail(message) {
  process.stderr.write(`yolov5-ts: ${message}\n`);
  process.exit(1);
}

const found = fromEnv() ?? fromPython() ?? fromDebian();
if (!found) {
  fail(
    'libtorch not found. Install it with `apt-get install libtorch-dev` (Debian/Ubuntu), ' +
      'or `pip install torch`, or download LibTorch from https://pytorch.org and set LIBTORCH=/path/to/libtorch.',
  );
}
const field = process.argv[2];
// Gloo's headers (c10d's CPU transport) come with LibTorch and pip's torch; Debian ships them as libgloo-dev.
const gloo = [...found.include, '/usr/include'].some((dir) => existsSync(join(dir, 'gloo', 'config.h')));
if (field === 'include') process.stdout.write(found.include.join(' '));
else if (field === 'defines') process.stdout.write(gloo ? 'YOLOV5_GLOO' : '');
else if (field === 'lib') process.stdout.write(found.lib);
else process.stdout.write(JSON.stringify(found));
