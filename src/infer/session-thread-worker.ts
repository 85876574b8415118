// The worker thread of session-thread.ts: one ONNX Runtime session, its requests answered in the order they came.
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { RowFilter, SessionReply, SessionRequest } from './session-thread.js';

let session: InferenceSession | null = null;

async function handle(request: SessionRequest): Promise<SessionReply> {
  switch (request.kind) {
    case 'create': {
      session = await InferenceSession.create(request.bytes, request.options);
      const { inputNames, outputNames, inputMetadata, outputMetadata } = session;
      return { kind: 'created', inputNames, outputNames, inputMetadata, outputMetadata };
    }
    case 'run': {
      const started = performance.now();
      const outputs = await session!.run({ [session!.inputNames[0]!]: new Tensor('float32', request.data, request.dims) });
      const ms = performance.now() - started;
      const output = outputs[session!.outputNames[0]!]!;
      const dims = [...output.dims];
      const kept = request.rowsAbove && dims.length === 3 ? keepRows(output.data as Float32Array, dims, request.rowsAbove) : { data: output.data as Float32Array };
      return { kind: 'ran', ...kept, dims, ms, ...(request.handOver ? { input: request.data } : {}) };
    }
    case 'release':
      await session?.release();
      session = null;
      return { kind: 'released' };
  }
}

/** The rows of each batch item whose value in the filter's column is above its threshold, in order. */
function keepRows(data: Float32Array, [batch, count, length]: number[], filter: RowFilter): { data: Float32Array; rows: number[] } {
  const wanted: number[] = [];
  const rows = Array.from({ length: batch! }, (_, b) => {
    const before = wanted.length;
    for (let r = b * count!; r < (b + 1) * count!; r++) if (data[r * length! + filter.column]! > filter.threshold) wanted.push(r);
    return wanted.length - before;
  });
  const kept = new Float32Array(wanted.length * length!);
  wanted.forEach((r, k) => kept.set(data.subarray(r * length!, (r + 1) * length!), k * length!));
  return { data: kept, rows };
}

// Chained, so that a request starts only when the one before it has finished.
let queue = Promise.resolve();
parentPort!.on('message', (request: SessionRequest) => {
  queue = queue.then(async () => {
    let reply: SessionReply;
    try {
      reply = await handle(request);
    } catch (error) {
      reply = { kind: 'failed', message: (error as Error).message };
    }
    // The output is this thread's own, and a handed-over input goes back: moved, not copied.
    const moved = reply.kind === 'ran' ? [reply.data.buffer as ArrayBuffer, ...(reply.input ? [reply.input.buffer as ArrayBuffer] : [])] : [];
    parentPort!.postMessage(reply, moved);
  });
});
