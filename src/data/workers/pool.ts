// A fixed set of worker threads serving request/reply tasks. Each worker takes a few tasks at once so its thread
// keeps augmenting while decodes wait in sharp's thread pool. Idle workers are unref'd: a pool nobody closed does
// not keep the process alive, and a busy one does.
import { Worker, type TransferListItem } from 'node:worker_threads';
import { integer } from '../../util/check.js';

interface Task {
  message: { id: number };
  transfer: readonly TransferListItem[];
  group: object | undefined;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  running: Map<number, Task>;
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };

export class TaskCancelled extends Error {
  override name = 'TaskCancelled';
}

export class WorkerPool {
  private readonly slots: Slot[];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private failure: Error | undefined;
  private closed = false;

  constructor(
    url: URL,
    size: number,
    workerData: unknown,
    private readonly tasksPerWorker = 2,
  ) {
    integer('worker count', size, { min: 1 });
    this.slots = Array.from({ length: size }, () => {
      // Node flags pass on to workers, except one that only makes sense for the main script's source.
      const execArgv = process.execArgv.filter((flag) => !flag.startsWith('--input-type'));
      const slot: Slot = { worker: new Worker(url, { workerData, execArgv }), running: new Map() };
      slot.worker.on('message', (reply: Reply) => this.settle(slot, reply));
      slot.worker.on('error', (error) => this.fail(new Error(`loader worker failed: ${error.message}`, { cause: error })));
      slot.worker.on('exit', (code) => {
        if (!this.closed) this.fail(new Error(`loader worker exited unexpectedly (code ${code})`));
      });
      slot.worker.unref();
      return slot;
    });
  }

  get size(): number {
    return this.slots.length;
  }

  /** Tasks that run at once when every worker is busy. */
  get capacity(): number {
    return this.slots.length * this.tasksPerWorker;
  }

  /** Runs one task; `id` is assigned here. Tasks sharing a `group` can be cancelled together while queued. */
  run<T>(message: Record<string, unknown>, options: { transfer?: readonly TransferListItem[]; group?: object } = {}): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        message: { ...message, id: this.nextId++ },
        transfer: options.transfer ?? [],
        group: options.group,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.dispatch();
    });
  }

  /** Sends a message to every worker, after everything sent before it. */
  broadcast(message: unknown): void {
    for (const slot of this.slots) slot.worker.postMessage(message);
  }

  /** Drops the group's tasks that have not started; they reject with TaskCancelled. Started ones finish. */
  cancel(group: object): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const task = this.queue[i]!;
      if (task.group !== group) continue;
      this.queue.splice(i, 1);
      task.reject(new TaskCancelled('task cancelled'));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.rejectAll(new Error('worker pool closed'));
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let best: Slot | undefined;
      for (const slot of this.slots) {
        if (slot.running.size < this.tasksPerWorker && (!best || slot.running.size < best.running.size)) best = slot;
      }
      if (!best) return;
      const task = this.queue.shift()!;
      if (best.running.size === 0) best.worker.ref();
      best.running.set(task.message.id, task);
      best.worker.postMessage(task.message, task.transfer);
    }
  }

  private settle(slot: Slot, reply: Reply): void {
    const task = slot.running.get(reply.id);
    if (!task) return;
    slot.running.delete(reply.id);
    if (slot.running.size === 0) slot.worker.unref();
    if (reply.ok) task.resolve(reply.value);
    else task.reject(new Error(reply.message));
    this.dispatch();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.rejectAll(this.failure);
  }

  private rejectAll(error: Error): void {
    for (const slot of this.slots) {
      for (const task of slot.running.values()) task.reject(error);
      slot.running.clear();
      slot.worker.unref();
    }
    for (const task of this.queue.splice(0)) task.reject(error);
  }
}
