// The parts of detect's overlapping video pipeline on their own: frames cut from a pipe and read a bounded number
// ahead, tasks started ahead with their results in order, ONNX Runtime in a thread of its own, and outputs saved
// one at a time behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { exportOnnx } from '../src/export/onnx-export.js';
import { OnnxBackend } from '../src/infer/backend.js';
import { FrameReader } from '../src/infer/frame-reader.js';
import { uninitialisedFloats } from '../src/data/preprocess.js';
import { BufferPool } from '../src/util/buffer-pool.js';
import { loadModelConfig } from '../src/model/config.js';
import { DetectionModel } from '../src/model/yolo.js';
import { mapAhead } from '../src/util/map-ahead.js';
import { OrderedJobs } from '../src/util/ordered-jobs.js';

/** Fails the test on any unhandled rejection while `body` runs (and a tick after). */
async function noUnhandledRejection(body: () => Promise<void>): Promise<void> {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', onRejection);
  try {
    await body();
    await sleep(20);
  } finally {
    process.off('unhandledRejection', onRejection);
  }
  assert.deepEqual(seen, []);
}

/** 0..count-1, recording how many were taken and whether the source was closed. */
function counting(count: number, failAt = -1) {
  const state = { taken: 0, closed: false };
  async function* items(): AsyncGenerator<number> {
    try {
      for (let i = 0; i < count; i++) {
        await sleep(1);
        if (i === failAt) throw new Error(`source failed at ${i}`);
        state.taken++;
        yield i;
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, items: items() };
}

test('mapAhead: results in the source order whichever task ends first, at most `depth` started ahead', async () => {
  const { items } = counting(12);
  let running = 0;
  let most = 0;
  const results: number[] = [];
  const task = async (i: number) => {
    most = Math.max(most, ++running);
    await sleep(i % 3 === 0 ? 15 : 1);
    running--;
    return i * 10;
  };
  for await (const r of mapAhead(items, task, 3)) results.push(r);
  assert.deepEqual(results, Array.from({ length: 12 }, (_, i) => i * 10));
  assert.equal(most, 3);
});

test('mapAhead: a failing task or source throws in its place, the results before it come first, the source is closed', async () => {
  await noUnhandledRejection(async () => {
    const failing = counting(10);
    const results: number[] = [];
    const task = async (i: number) => {
      await sleep(i === 2 ? 10 : 1);
      if (i === 2 || i === 3) throw new Error(`task ${i} failed`);
      return i;
    };
    await assert.rejects(
      (async () => {
        for await (const r of mapAhead(failing.items, task, 2)) results.push(r);
      })(),
      /task 2 failed/,
    );
    assert.deepEqual(results, [0, 1]);
    await sleep(10);
    assert.ok(failing.state.closed && failing.state.taken <= 5, `taken ${failing.state.taken}`);

    const broken = counting(10, 4);
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const r of mapAhead(broken.items, async (i) => i, 2)) seen.push(r);
      })(),
      /source failed at 4/,
    );
    assert.deepEqual(seen, [0, 1, 2, 3]);
  });
});

test('mapAhead: a consumer that stops taking results stops the reading; breaking off closes the source', async () => {
  const { state, items } = counting(100);
  const results = mapAhead(items, async (i) => i, 2);
  assert.deepEqual(await results.next(), { value: 0, done: false });
  await sleep(30);
  assert.ok(state.taken <= 4, `read ${state.taken} items for one result`);
  await results.return(undefined);
  await sleep(10);
  assert.ok(state.closed);
});

test('OrderedJobs: one at a time in order, add() waits at the limit, a failure stops the rest and is thrown', async () => {
  const jobs = new OrderedJobs(2);
  const log: string[] = [];
  const job = (name: string, ms: number) => async () => {
    log.push(`start ${name}`);
    await sleep(ms);
    log.push(`end ${name}`);
  };
  await jobs.add(job('a', 20));
  await jobs.add(job('b', 1));
  log.push('added a, b');
  await jobs.add(job('c', 1));
  log.push('added c');
  await jobs.drain();
  assert.deepEqual(log, ['start a', 'added a, b', 'end a', 'start b', 'added c', 'end b', 'start c', 'end c']);

  await noUnhandledRejection(async () => {
    const failing = new OrderedJobs(3);
    const ran: string[] = [];
    await failing.add(async () => {
      await sleep(5);
      throw new Error('encoder died');
    });
    await failing.add(async () => void ran.push('after the failure'));
    await failing.settle();
    await assert.rejects(failing.add(async () => void ran.push('later')), /encoder died/);
    await assert.rejects(failing.drain(), /encoder died/);
    assert.deepEqual(ran, []);
  });
});

const FRAME = 10;
const bytes = (from: number, count: number) => Buffer.from(Array.from({ length: count }, (_, k) => (from + k) % 256));

test('FrameReader: chunks of any size cut into whole frames; a partial last frame is dropped', async () => {
  const stream = new PassThrough();
  const reader = new FrameReader(stream, FRAME, { ahead: 100, timeoutMs: 10_000 });
  // 3 bytes, 15 (ends frame 1, most of frame 2), 27 (frames 2 to 4 and 1 byte more).
  stream.write(bytes(0, 3));
  stream.write(bytes(3, 15));
  stream.end(bytes(18, 27));
  const frames: number[][] = [];
  for (let f = await reader.next(); f; f = await reader.next()) frames.push([...f]);
  assert.deepEqual(frames, [0, 1, 2, 3].map((k) => [...bytes(k * FRAME, FRAME)]));
});

test('FrameReader: reads `ahead` frames, then pauses the stream until one is taken; paused time is no stall', async () => {
  const stream = new PassThrough({ highWaterMark: FRAME });
  const reader = new FrameReader(stream, FRAME, { ahead: 2, timeoutMs: 60 });
  let written = 0;
  // Writes as long as the pipe takes it, as ffmpeg does until its write blocks.
  const fill = () => {
    while (written < 8 * FRAME && stream.write(bytes(written, FRAME))) written += FRAME;
  };
  stream.on('drain', () => {
    written += FRAME;
    fill();
  });
  fill();
  await sleep(120);
  assert.ok(stream.isPaused(), 'the stream should be paused');
  assert.ok(written <= 5 * FRAME, `${written / FRAME} frames written with two held`);
  for (let k = 0; k < 8; k++) assert.deepEqual([...(await reader.next())!], [...bytes(k * FRAME, FRAME)]);
  stream.end();
  assert.equal(await reader.next(), null);
});

test('FrameReader: a stall fails after the timeout, once the frames read before it are taken; stop() ends quietly', async () => {
  const stream = new PassThrough();
  const reader = new FrameReader(stream, FRAME, { ahead: 4, timeoutMs: 50 });
  stream.write(bytes(0, FRAME + 3));
  await sleep(100);
  assert.deepEqual([...(await reader.next())!], [...bytes(0, FRAME)]);
  await assert.rejects(reader.next(), /no data for 0\.05 s, giving up \(the stream stalled\)/);

  const quiet = new FrameReader(new PassThrough(), FRAME, { ahead: 4, timeoutMs: 10_000 });
  const pending = quiet.next();
  quiet.stop();
  assert.equal(await pending, null);
});

test('ONNX Runtime in its own thread: runs asked for at once come back in order, each with its own output', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'session-thread-'));
  try {
    const model = join(tmp, 'tiny.onnx');
    writeFileSync(model, exportOnnx(new DetectionModel(loadModelConfig('yolov5n')).eval(), { imgsz: 64, dynamic: true }).bytes);
    const backend = await OnnxBackend.create(model, { threads: 1 });
    const inputs = [0.1, 0.5, 0.9].map((v) => ({ data: new Float32Array(3 * 64 * 64).fill(v), shape: [1, 3, 64, 64] as [number, number, number, number] }));
    const oneByOne = [];
    for (const input of inputs) oneByOne.push((await backend.run(input)).predictions);
    const atOnce = await Promise.all(inputs.map((input) => backend.run(input)));
    assert.deepEqual(atOnce.map((r) => r.predictions), oneByOne);
    assert.notDeepEqual(oneByOne[0], oneByOne[1]);
    assert.ok(atOnce.every((r) => r.ms > 0));
    // A handed-over input moves to the worker and back into the memory of later inputs: the same predictions, no copy.
    const handed = { data: uninitialisedFloats(3 * 64 * 64).fill(0.5), shape: inputs[1]!.shape };
    assert.deepEqual((await backend.run(handed, { handOver: true })).predictions, oneByOne[1]);
    assert.equal(handed.data.length, 0, "the caller's array is left empty");
    // The next input of that size is made in the same memory, which still holds the last input's values.
    assert.ok(uninitialisedFloats(3 * 64 * 64).every((v) => v === 0.5));
    // Thrown in the worker thread, reported here.
    await assert.rejects(backend.run({ data: new Float32Array(100), shape: [1, 3, 64, 64] }), /ONNX Runtime failed on input \[1, 3, 64, 64\] \(.+\)/);
    await backend.dispose();
    await assert.rejects(backend.run(inputs[0]!), /the ONNX Runtime session was released/);

    // A session nobody releases must not keep node from exiting.
    const script = `import { OnnxBackend } from ${JSON.stringify(resolve('dist-test/src/infer/backend.js'))};
      const backend = await OnnxBackend.create(${JSON.stringify(model)});
      await backend.run({ data: new Float32Array(3 * 64 * 64), shape: [1, 3, 64, 64] });
      console.log('ran');`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
    assert.equal(stdout, 'ran\n');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('a buffer pool gives back memory of the size asked for, keeps a bounded number, and ignores moved memory', () => {
  const pool = new BufferPool(2);
  const [a, b, c] = [pool.take(16), pool.take(16), pool.take(32)];
  assert.notEqual(a, b);
  pool.give(a);
  pool.give(a);
  assert.equal(pool.take(16), a, 'a spare buffer of the size is taken again, once');
  assert.notEqual(pool.take(16), a);
  pool.give(a);
  pool.give(b);
  pool.give(c);
  assert.equal(pool.take(32), c);
  assert.notEqual(pool.take(16), a, 'the oldest spare buffer was dropped for the third');
  const moved = pool.take(8);
  structuredClone(moved, { transfer: [moved] });
  pool.give(moved);
  assert.equal(pool.take(8).byteLength, 8);

  // A reader drawing on the pool cuts frames into the memory given back.
  const frames = new BufferPool(4);
  const spare = frames.take(4);
  frames.give(spare);
  const stream = new PassThrough();
  const reader = new FrameReader(stream, 4, { ahead: 2, timeoutMs: 10_000, memory: frames });
  stream.end(Buffer.from([1, 2, 3, 4]));
  return reader.next().then((frame) => {
    assert.equal(frame!.buffer, spare);
    assert.deepEqual([...frame!], [1, 2, 3, 4]);
  });
});
