// Training over several processes and machines with torchrun's conventions: `--nproc-per-node N` starts N workers
// of the same command, each told its place by RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (so
// workers started by torchrun or another launcher work too). The launcher watches its workers: when one fails,
// it stops the others at once instead of leaving them waiting for a peer that will never answer.
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { spellings, type OptionSpec } from '../options/declare.js';
import { processes } from '../options/common.js';
import { workerPlace } from '../train/worker-place.js';

export interface LaunchOptions {
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort: number;
}

/** The launcher's own flags: they are not passed on to the workers. */
const LAUNCH_FLAGS = (['nprocPerNode', 'nnodes', 'nodeRank', 'masterAddr', 'masterPort'] as const).flatMap((name) => spellings(name, processes[name] as OptionSpec));

/** Seconds a worker has to exit after SIGTERM before it is killed. */
const GRACE_SECONDS = 5;

/** `args` without the launcher's flags and their values (`--flag v` and `--flag=v` alike). */
export function workerArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const flag = LAUNCH_FLAGS.find((f) => arg === f || arg.startsWith(`${f}=`));
    if (!flag) out.push(arg);
    else if (arg === flag) i++;
  }
  return out;
}

/**
 * Starts this node's workers running `args` (this CLI's arguments without the launcher's flags) and resolves to
 * the exit code: 0 when all succeed, else the first failure's. Workers share the terminal's output.
 */
export function launchWorkers(args: readonly string[], options: LaunchOptions, log = (line: string) => console.error(line)): Promise<number> {
  const { nprocPerNode, nnodes, nodeRank, masterAddr, masterPort } = options;
  if (nodeRank >= nnodes) throw new Error(`--node-rank ${nodeRank} must be below --nnodes ${nnodes}`);
  const worldSize = nprocPerNode * nnodes;
  // Each worker's libtorch gets its share of the cores (torchrun sets 1), unless the user says otherwise.
  const threads = String(Math.max(1, Math.floor(availableParallelism() / nprocPerNode)));
  const script = process.argv[1]!;
  const children: ChildProcess[] = [];
  let failure: { code: number } | undefined;
  let running = nprocPerNode;
  let interrupted = false;

  return new Promise((resolve) => {
    const stopOthers = () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      setTimeout(() => {
        for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, GRACE_SECONDS * 1000).unref();
    };
    // The terminal's Ctrl-C reaches the workers by itself; a launcher ended otherwise (SIGTERM, SIGHUP) takes
    // its workers with it.
    const onExit = () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    };
    process.on('exit', onExit);
    // Ctrl-C in the terminal reaches every worker, and each stops after the epoch; the launcher waits for them.
    const onInterrupt = () => {
      interrupted = true;
      log('yolov5: the workers stop after this epoch (Ctrl-C again quits them at once)');
    };
    process.on('SIGINT', onInterrupt);
    for (let localRank = 0; localRank < nprocPerNode; localRank++) {
      const rank = nodeRank * nprocPerNode + localRank;
      const env = {
        ...process.env,
        RANK: String(rank),
        LOCAL_RANK: String(localRank),
        WORLD_SIZE: String(worldSize),
        LOCAL_WORLD_SIZE: String(nprocPerNode),
        GROUP_RANK: String(nodeRank),
        MASTER_ADDR: masterAddr,
        MASTER_PORT: String(masterPort),
        OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? threads,
      };
      const child = spawn(process.execPath, [...process.execArgv, script, ...args], { env, stdio: 'inherit' });
      children.push(child);
      log(`yolov5: started worker rank ${rank} of ${worldSize} (local rank ${localRank}, pid ${child.pid})`);
      child.on('exit', (code, signal) => {
        running--;
        // 130 after a Ctrl-C is a worker stopping as asked, not a failure to stop the others for.
        if (interrupted && code === 130) failure ??= { code };
        else if ((code !== 0 || signal) && !failure) {
          const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
          log(`yolov5: worker rank ${rank} (pid ${child.pid}) ${how}; stopping the other workers of this node`);
          failure = { code: code ?? 1 };
          stopOthers();
        }
        if (running === 0) {
          process.off('exit', onExit);
          process.off('SIGINT', onInterrupt);
          resolve(failure?.code ?? 0);
        }
      });
    }
  });
}

/**
 * With --nproc-per-node, starts this node's workers running the same command without the launcher's flags, waits
 * for them and sets the exit code: then this process's work is done (true). Without it, false: this process runs.
 */
export async function launchIfAsked(options: Partial<LaunchOptions> & Omit<LaunchOptions, 'nprocPerNode'>, command: Command): Promise<boolean> {
  const { nprocPerNode, ...launch } = options;
  if (nprocPerNode === undefined) return false;
  if (workerPlace()) throw new Error('--nproc-per-node: this process is already a worker (WORLD_SIZE is set); start it without the flag');
  const args = workerArgs(process.argv.slice(process.argv.indexOf(command.name())));
  process.exitCode = await launchWorkers(args, { nprocPerNode, ...launch });
  return true;
}
