// The yolov5 command's V8 heap setting (src/util/heap-growth.ts): set unless node was given its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const modulePath = fileURLToPath(new URL('../src/util/heap-growth.js', import.meta.url));
const script = `import { growHeapFreely } from ${JSON.stringify(modulePath)}; console.log(growHeapFreely());`;
const run = (...nodeFlags: string[]) => execFileSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', script], { encoding: 'utf8' }).trim();

test('the heap growth factor is set when node was started without one', () => {
  assert.equal(run(), 'true');
});

test("node's own --heap-growing-percent wins, in either spelling", () => {
  assert.equal(run('--heap-growing-percent=50'), 'false');
  assert.equal(run('--heap_growing_percent=50'), 'false');
});
