// A library call as one process of several (train, prune): started by `--nproc-per-node`, torchrun or another
// launcher, which set WORLD_SIZE, RANK and MASTER_ADDR/PORT; this process learns its place and joins the group.
import { processes } from '../options/common.js';
import { ProcessGroup } from '../torch/distributed.js';
import { workerPlace } from '../train/worker-place.js';

type ProcessKey = keyof typeof processes;

/** Whether this process speaks (its settings, its progress): alone, or rank 0 of a launcher's group. */
export function speaks(): boolean {
  const place = workerPlace();
  return !place || place.rank === 0;
}

/** A command's options without the launcher's and the group's (`processes` in options/common.ts). */
export function withoutProcessOptions<T extends object>(options: T): Omit<T, ProcessKey> {
  return Object.fromEntries(Object.entries(options).filter(([key]) => !Object.hasOwn(processes, key))) as Omit<T, ProcessKey>;
}

/**
 * Runs `body` with this process's group joined when a launcher started it (WORLD_SIZE > 1), else alone (undefined).
 * An error names this process's rank — which process failed matters when several share a terminal — and the
 * group is closed afterwards either way.
 */
export async function inProcesses<T>(options: { nprocPerNode?: number; ddpTimeout: number }, body: (group: ProcessGroup | undefined) => Promise<T>): Promise<T> {
  if (options.nprocPerNode !== undefined) {
    throw new Error("option '--nproc-per-node <n>' starts processes of the yolov5 command; a library caller is started by torchrun (or another launcher) instead");
  }
  const place = workerPlace();
  let group: ProcessGroup | undefined;
  try {
    if (place) {
      group = await ProcessGroup.create({
        ...place,
        timeoutMs: options.ddpTimeout * 1000,
        ...(process.env.GLOO_SOCKET_IFNAME ? { iface: process.env.GLOO_SOCKET_IFNAME } : {}),
      });
    }
    return await body(group);
  } catch (error) {
    if (place) throw new Error(`rank ${place.rank}: ${(error as Error).message}`, { cause: error });
    throw error;
  } finally {
    group?.destroy();
  }
}
