// Only regular files are read. Opening a FIFO blocks until something writes to it (a hang), and a device such
// as /dev/zero never ends (unbounded memory), so paths a user passes are checked before anything opens them.
import { statSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** Why `stats` (of a path that exists) cannot be read as a file, or null for a regular file. */
export function irregularReason(stats: Stats): string | null {
  return stats.isFile() ? null : `${kindOf(stats)}, not a regular file; only regular files are read`;
}

/** Throws `path: <problem>` unless the path (symbolic links followed) is a regular file; missing files pass through to the caller's own read. */
export async function assertRegularFile(path: string): Promise<void> {
  const stats = await stat(path).catch(() => null);
  const reason = stats && irregularReason(stats);
  if (reason) throw new Error(`${path}: ${reason}`);
}

export function assertRegularFileSync(path: string): void {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch {
    return;
  }
  const reason = irregularReason(stats);
  if (reason) throw new Error(`${path}: ${reason}`);
}
