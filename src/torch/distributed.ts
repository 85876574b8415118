// Collectives across processes and machines, as torch.distributed with the gloo backend: libtorch's own c10d
// (TCPStore rendezvous, ProcessGroupGloo) through the addon. Waiting for peers happens off the main thread.
import { native, type GroupHandle, type ReducerHandle } from './native.js';
import { Tensor, tensor } from './tensor.js';

export interface ProcessGroupOptions {
  rank: number;
  worldSize: number;
  /** Address and port of rank 0, which hosts the rendezvous store. */
  masterAddr: string;
  masterPort: number;
  /** How long joining and each collective may wait for the other ranks (default 30 minutes, as PyTorch). */
  timeoutMs?: number;
  /** Network interface for the collectives' traffic (default: the address this machine's hostname resolves to). */
  iface?: string;
}

/** DDP's bucket size: gradients are reduced in flat buckets of about this many bytes. */
export const BUCKET_BYTES = 25 * 2 ** 20;
/** DDP's first gradient bucket: small, so that communication starts early in the backward pass. */
export const FIRST_BUCKET_BYTES = 2 ** 20;

export class ProcessGroup {
  #handle: GroupHandle | null;

  private constructor(
    handle: GroupHandle,
    readonly rank: number,
    readonly worldSize: number,
  ) {
    this.#handle = handle;
  }

  /** Joins the group; resolves when every rank has joined, rejects with c10d's error when the timeout passes first. */
  static async create(options: ProcessGroupOptions): Promise<ProcessGroup> {
    const { rank, worldSize, masterAddr, masterPort } = options;
    const timeoutMs = options.timeoutMs ?? 30 * 60_000;
    const where = `${masterAddr}:${masterPort}`;
    try {
      const handle = await native.createGroup(masterAddr, masterPort, rank, worldSize, timeoutMs, options.iface ?? null);
      return new ProcessGroup(handle, rank, worldSize);
    } catch (error) {
      throw new Error(`rank ${rank} of ${worldSize} could not join the process group at ${where}: ${(error as Error).message}`);
    }
  }

  private get handle(): GroupHandle {
    if (this.#handle === null) throw new Error('process group used after destroy()');
    return this.#handle;
  }

  /** Sums the tensors in place over every rank. The tensors must not be used until it resolves. */
  allReduce(tensors: readonly Tensor[], bucketBytes = BUCKET_BYTES): Promise<void> {
    return native.allReduce(this.handle, tensors.map((t) => t.handle), bucketBytes);
  }

  /** Overwrites the tensors in place with rank `root`'s. */
  broadcast(tensors: readonly Tensor[], root = 0, bucketBytes = BUCKET_BYTES): Promise<void> {
    return native.broadcast(this.handle, tensors.map((t) => t.handle), root, bucketBytes);
  }

  /** Rank `root`'s text on every rank (what the others pass is ignored): a run folder, a JSON message. */
  async broadcastText(text: string, root = 0): Promise<string> {
    const bytes = new TextEncoder().encode(this.rank === root ? text : '');
    const length = tensor([bytes.length], undefined, { dtype: 'float64' });
    await this.broadcast([length], root);
    const n = length.item();
    length.dispose();
    if (n === 0) return '';
    const data = tensor(this.rank === root ? bytes : new Uint8Array(n));
    await this.broadcast([data], root);
    const received = new TextDecoder().decode(data.data() as Uint8Array);
    data.dispose();
    return received;
  }

  barrier(): Promise<void> {
    return native.barrier(this.handle);
  }

  /**
   * The sum of `t` over every rank, differentiable (its gradient is again summed over the ranks). It blocks until
   * every rank has called it, and every rank must call it in the same order: for synchronized BatchNorm.
   */
  allReduceSumWithGrad(t: Tensor): Tensor {
    return new Tensor(native.allReduceSumGrad(this.handle, t.handle));
  }

  /** Closes the connections; the group cannot be used after this. */
  destroy(): void {
    if (this.#handle === null) return;
    native.destroyGroup(this.#handle);
    this.#handle = null;
  }

  /** A reducer averaging these parameters' gradients over the ranks while backward runs (see GradientReducer). */
  gradientReducer(parameters: readonly Tensor[], bucketBytes = BUCKET_BYTES): GradientReducer {
    return new GradientReducer(native.createGradientReducer(this.handle, parameters.map((p) => p.handle), Math.min(FIRST_BUCKET_BYTES, bucketBytes), bucketBytes));
  }
}

/**
 * Averages gradients over the ranks, overlapped with the backward pass as DDP does: the parameters are split into
 * buckets in reverse order, and each bucket's all-reduce starts once backward has produced all its gradients.
 * Use: arm() before the backward whose gradients the optimizer will apply (not before the backward of batches
 * whose gradients only accumulate), then await finish() before the optimizer step. Every rank must arm the same
 * backward passes. A parameter this rank's backward gave no gradient contributes zeros.
 */
export class GradientReducer {
  #handle: ReducerHandle | null;

  constructor(handle: ReducerHandle) {
    this.#handle = handle;
  }

  private get handle(): ReducerHandle {
    if (this.#handle === null) throw new Error('gradient reducer used after dispose()');
    return this.#handle;
  }

  /** The next backward reduces its gradients bucket by bucket as they arrive. */
  arm(): void {
    native.reducerArm(this.handle);
  }

  /** Resolves when every gradient holds the mean over the ranks. The gradients must not be used before. */
  finish(): Promise<void> {
    return native.reducerFinish(this.handle);
  }

  /** Buckets; of the last finish(), the buckets backward started and the wait: communication backward did not hide. */
  get stats(): { buckets: number; startedInBackward: number; waitedMs: number } {
    return native.reducerStats(this.handle);
  }

  /** Leaves the hooks inert; the reducer cannot be used after this. */
  dispose(): void {
    if (this.#handle === null) return;
    native.disposeGradientReducer(this.#handle);
    this.#handle = null;
  }
}
