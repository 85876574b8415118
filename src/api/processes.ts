// A library call as one process of several (train, prune): started by `--nproc-per-node`, torchrun or another
// launcher, which set WORLD_SIZE, RANK and MASTER_ADDR/PORT; this process learns its place and joins the group.
import { ProcessGroup } from '../torch/distributed.js';
import { workerPlace } from '../train/worker-place.js';

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
