// The worker thread of session-thread.ts: one ONNX Runtime session, its requests answered in the order they came.
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { SessionReply, SessionRequest } from './session-thread.js';

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
      return { kind: 'ran', data: output.data as Float32Array, dims: [...output.dims], ms, ...(request.handOver ? { input: request.data } : {}) };
    }
    case 'release':
      await session?.release();
      session = null;
      return { kind: 'released' };
  }
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
