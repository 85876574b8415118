// Output folders of a run: <project>/<name>, then <name>2, <name>3, … so earlier results are never overwritten.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const MAX_RUNS = 9999;

/**
 * Creates and returns the run folder: `project/name` if it is free (or `existOk`), otherwise the first free
 * `project/name2`, `project/name3`, …. Creating the folder reserves it, so two runs started together get different ones.
 */
export function incrementPath(project: string, name: string, existOk = false): string {
  mkdirSync(project, { recursive: true });
  const first = join(project, name);
  if (existOk) {
    mkdirSync(first, { recursive: true });
    return first;
  }
  for (let n = 1; n <= MAX_RUNS; n++) {
    const candidate = n === 1 ? first : `${first}${n}`;
    if (existsSync(candidate)) continue;
    try {
      mkdirSync(candidate);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error(`no free run folder left for ${first} (tried up to ${first}${MAX_RUNS})`);
}
