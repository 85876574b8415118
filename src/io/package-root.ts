// The installed package's own folder, where its native addons are built (under native/).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest folder above this module holding native/binding.gyp (dist/ or dist-test/ builds alike). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'native', 'binding.gyp'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('yolov5-ts: cannot find the package root (native/binding.gyp) above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}
