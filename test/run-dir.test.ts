// Run folders: incremented names, and the lock that keeps two live runs out of one folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { incrementPath } from '../src/io/run-dir.js';

const tmp = mkdtempSync(join(tmpdir(), 'run-dir-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('a run folder held by another live process is refused naming it; once that process is gone it is taken over', async () => {
  const project = join(tmp, 'runs');
  // Another program holding project/exp, as a second `--name exp --exist-ok` run would.
  const runDir = resolve('dist-test/src/io/run-dir.js');
  const holder = spawn(process.execPath, ['--input-type=module', '-e', `const { incrementPath } = await import(${JSON.stringify(runDir)}); incrementPath(${JSON.stringify(project)}, 'exp', true); console.log('held'); setInterval(() => {}, 1000);`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [line] = (await once(holder.stdout, 'data')) as [Buffer];
    assert.equal(line.toString().trim(), 'held');
    const dir = join(project, 'exp');
    assert.throws(() => incrementPath(project, 'exp', true), new RegExp(`${dir} is in use by process ${holder.pid}, another run writing there`));
    // Without --exist-ok the next free name is used as ever.
    assert.equal(incrementPath(project, 'exp'), join(project, 'exp2'));
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    assert.equal(readFileSync(join(dir, '.lock'), 'utf8').trim(), String(holder.pid), 'a killed run leaves its lock');
    assert.equal(incrementPath(project, 'exp', true), dir);
    assert.equal(readFileSync(join(dir, '.lock'), 'utf8').trim(), String(process.pid));
    // The same process may use its folder again (runs one after another).
    assert.equal(incrementPath(project, 'exp', true), dir);
  } finally {
    holder.kill('SIGKILL');
  }
});

test('a process removes its locks when it exits', async () => {
  const project = join(tmp, 'exiting');
  const runDir = resolve('dist-test/src/io/run-dir.js');
  const child = spawn(process.execPath, ['--input-type=module', '-e', `const { incrementPath } = await import(${JSON.stringify(runDir)}); incrementPath(${JSON.stringify(project)}, 'exp', true);`], { stdio: 'inherit' });
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 0);
  assert.ok(existsSync(join(project, 'exp')));
  assert.ok(!existsSync(join(project, 'exp', '.lock')));
});
