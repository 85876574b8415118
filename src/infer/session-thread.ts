// An ONNX Runtime session in a worker thread of its own. onnxruntime-node's run() computes on the thread that calls
// it: on the main thread it would stop everything else for the length of an inference — reading the next video
// frame from ffmpeg's pipe, pre-processing it, drawing and encoding the last one. In a worker those go on meanwhile,
// and runs asked for while one computes wait in the worker, so that it starts the next as soon as one ends.
import { Worker } from 'node:worker_threads';
import type { InferenceSession } from 'onnxruntime-node';

export type SessionRequest =
  | { kind: 'create'; bytes: Uint8Array; options: InferenceSession.SessionOptions }
  | { kind: 'run'; data: Float32Array; dims: number[]; handOver: boolean; rowsAbove?: RowFilter }
  | { kind: 'release' };

type SessionMetadata = Pick<InferenceSession, 'inputNames' | 'outputNames' | 'inputMetadata' | 'outputMetadata'>;

/** Rows of a [batch, rows, row length] output whose value in `column` is above `threshold`: the rows wanted. */
export interface RowFilter {
  column: number;
  threshold: number;
}

/** The first output of a run, and the milliseconds ONNX Runtime computed for (not the time it waited its turn). */
export interface SessionOutput {
  data: Float32Array;
  /** The output's shape as ONNX Runtime gave it. */
  dims: number[];
  /** With a RowFilter: `data` holds only the rows wanted, this many of each batch item, one item's after the other's. */
  rows?: number[];
  ms: number;
  /** A handed-over input's memory, back from the worker. */
  input?: Float32Array;
}

export type SessionReply =
  | ({ kind: 'created' } & SessionMetadata)
  | ({ kind: 'ran' } & SessionOutput)
  | { kind: 'released' }
  | { kind: 'failed'; message: string };

interface Waiting {
  resolve: (reply: SessionReply) => void;
  reject: (error: Error) => void;
}

export class SessionThread implements SessionMetadata {
  private readonly waiting: Waiting[] = [];
  private stopped: Error | null = null;
  inputNames: readonly string[] = [];
  outputNames: readonly string[] = [];
  inputMetadata: SessionMetadata['inputMetadata'] = [];
  outputMetadata: SessionMetadata['outputMetadata'] = [];

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: SessionReply) => {
      const next = this.waiting.shift()!;
      this.idleUnlessWaiting();
      next.resolve(reply);
    });
    worker.on('error', (error) => this.stop(new Error(`ONNX Runtime's thread failed: ${error.message}`)));
    worker.on('exit', (code) => this.stop(new Error(`ONNX Runtime's thread ended (exit code ${code})`)));
  }

  /** A session over the model's bytes; throws ONNX Runtime's message when it cannot load them. */
  static async create(bytes: Uint8Array, options: InferenceSession.SessionOptions): Promise<SessionThread> {
    // None of node's own options: the worker needs none, and some that a program may be started with stop it from
    // starting at all (`node --input-type=module -e …`).
    const thread = new SessionThread(new Worker(new URL('./session-thread-worker.js', import.meta.url), { execArgv: [] }));
    try {
      const reply = (await thread.request({ kind: 'create', bytes, options })) as Extract<SessionReply, { kind: 'created' }>;
      Object.assign(thread, { inputNames: reply.inputNames, outputNames: reply.outputNames, inputMetadata: reply.inputMetadata, outputMetadata: reply.outputMetadata });
      return thread;
    } catch (error) {
      await thread.worker.terminate();
      throw error;
    }
  }

  /**
   * Runs the model on one float32 input. The input is copied, and the caller's array stays usable; or, with
   * `handOver` and an array over the whole of its memory, that memory moves to the worker and comes back as the
   * output's `input` (a new array over it; the caller's own is left empty), saving a copy and an allocation a frame.
   * With `rowsAbove`, only the rows wanted come back: the worker need not pass the whole output over (yolov5n's
   * 5 MB at 640×384, every frame of a video), which is what made V8 collect its heap every few frames.
   */
  async run(data: Float32Array, dims: number[], handOver = false, rowsAbove?: RowFilter): Promise<SessionOutput> {
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    // A view is sent with all of the memory under it: only its own part is.
    const own = whole ? data : data.slice();
    const moved = handOver && whole;
    const request: SessionRequest = { kind: 'run', data: own, dims, handOver: moved, ...(rowsAbove ? { rowsAbove } : {}) };
    const reply = (await this.request(request, moved ? [own.buffer as ArrayBuffer] : [])) as Extract<SessionReply, { kind: 'ran' }>;
    return { data: reply.data, dims: reply.dims, ms: reply.ms, ...(reply.rows ? { rows: reply.rows } : {}), ...(reply.input ? { input: reply.input } : {}) };
  }

  /** Releases the session once the runs asked for before have ended, and ends the thread; later runs fail. */
  async release(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.request({ kind: 'release' });
    } finally {
      this.stop(new Error('the ONNX Runtime session was released'));
      await this.worker.terminate();
    }
  }

  private request(request: SessionRequest, transfer: ArrayBuffer[] = []): Promise<SessionReply> {
    if (this.stopped) return Promise.reject(this.stopped);
    // Held by node only while it has work: a session nobody released must not keep the process from exiting.
    this.worker.ref();
    const reply = new Promise<SessionReply>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.worker.postMessage(request, transfer);
    return reply.then((r) => (r.kind === 'failed' ? Promise.reject(new Error(r.message)) : r));
  }

  private idleUnlessWaiting(): void {
    if (this.waiting.length === 0) this.worker.unref();
  }

  private stop(reason: Error): void {
    this.stopped ??= reason;
    for (const waiting of this.waiting.splice(0)) waiting.reject(reason);
  }
}
