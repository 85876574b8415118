// A training process's place among several, from torchrun's environment (RANK, LOCAL_RANK, WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT): set by `yolov5 train --nproc-per-node`, torchrun or any other launcher.

/** What a worker learns from its environment. */
export interface WorkerPlace {
  rank: number;
  localRank: number;
  worldSize: number;
  masterAddr: string;
  masterPort: number;
}

function envInteger(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name}=${raw}: expected an integer ≥ ${min}`);
  return value;
}

/** This process's place in a multi-process training, or undefined when it trains alone (no WORLD_SIZE > 1). */
export function workerPlace(env: NodeJS.ProcessEnv = process.env): WorkerPlace | undefined {
  const worldSize = envInteger(env, 'WORLD_SIZE', 1);
  if (worldSize === undefined || worldSize === 1) return undefined;
  const rank = envInteger(env, 'RANK', 0);
  if (rank === undefined || rank >= worldSize) throw new Error(`WORLD_SIZE=${worldSize} needs RANK in 0..${worldSize - 1}, got ${env.RANK ?? 'none'}`);
  const masterPort = envInteger(env, 'MASTER_PORT', 1) ?? 29500;
  if (masterPort > 65535) throw new Error(`MASTER_PORT=${masterPort}: not a port`);
  return { rank, localRank: envInteger(env, 'LOCAL_RANK', 0) ?? 0, worldSize, masterAddr: env.MASTER_ADDR || '127.0.0.1', masterPort };
}

