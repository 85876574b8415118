// Output folders of a run: <project>/<name>, then <name>2, <name>3, … so earlier results are never overwritten.
// A folder is locked while a run writes to it, so that two runs never mix their files in one folder.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isProcessRunning } from './process-alive.js';

const MAX_RUNS = 9999;
const LOCK_FILE = '.lock';

/** Lock files this process holds; removed when it exits (a killed process leaves one, taken over once it is gone). */
const held = new Set<string>();
process.on('exit', () => held.forEach((file) => rmSync(file, { force: true })));

/**
 * Marks `dir` as written by this process until it exits. Throws, naming the process, when another live process
 * holds it (two runs with the same --name --exist-ok); a lock left by a process that is gone is taken over. The
 * same process may lock a folder again (runs one after another in one program).
 */
export function lockRunDir(dir: string): void {
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      held.add(file);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let owner = NaN;
    try {
      owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
    } catch {
      continue; // removed meanwhile: try again
    }
    if (owner === process.pid) return;
    if (isProcessRunning(owner)) {
      throw new Error(`${dir} is in use by process ${owner}, another run writing there; choose another --name, or wait for it to end (or delete ${file} if that process is not a run)`);
    }
    rmSync(file, { force: true });
  }
  throw new Error(`${dir}: cannot lock the run folder (${file} keeps changing)`);
}

/**
 * Creates, locks and returns the run folder: `project/name` if it is free (or `existOk`), otherwise the first free
 * `project/name2`, `project/name3`, …. Creating the folder reserves it, so two runs started together get different ones.
 */
export function incrementPath(project: string, name: string, existOk = false): string {
  mkdirSync(project, { recursive: true });
  const first = join(project, name);
  if (existOk) {
    mkdirSync(first, { recursive: true });
    lockRunDir(first);
    return first;
  }
  for (let n = 1; n <= MAX_RUNS; n++) {
    const candidate = n === 1 ? first : `${first}${n}`;
    if (existsSync(candidate)) continue;
    try {
      mkdirSync(candidate);
      lockRunDir(candidate);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error(`no free run folder left for ${first} (tried up to ${first}${MAX_RUNS})`);
}
