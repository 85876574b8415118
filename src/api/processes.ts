// A library call as one process of several (train, prune): started by `--nproc-per-node`, torchrun or another
// launcher, which set WORLD_SIZE, RANK and MASTER_ADDR/PORT; this process learns its place and joins the group.
import { ProcessGroup } from '../torch/distributed.js';
import { workerPlace, type WorkerPlace } from '../train/worker-place.js';

/** This process's place and its joined group, or undefined when it runs alone. */
export async function joinProcesses(options: { nprocPerNode?: number; ddpTimeout: number }): Promise<{ place: WorkerPlace; group: ProcessGroup } | undefined> {
  if (options.nprocPerNode !== undefined) {
    throw new Error("option '--nproc-per-node <n>' starts processes of the yolov5 command; a library caller is started by torchrun (or another launcher) instead");
  }
  const place = workerPlace();
  if (!place) return undefined;
  const group = await ProcessGroup.create({
    ...place,
    timeoutMs: options.ddpTimeout * 1000,
    ...(process.env.GLOO_SOCKET_IFNAME ? { iface: process.env.GLOO_SOCKET_IFNAME } : {}),
  });
  return { place, group };
}
