// Tensor lifetimes: tidy scopes, keep, dispose, garbage collection, and memory over a long training run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { F, keep, liveTensors, manualSeed, ones, optim, tidy, zeros, type Tensor } from '../src/torch/index.js';
import { QuadrantNet, quadrantBatch, seededRandom } from '../src/demo/engine-demo.js';
import { oneThreadForTinyOps } from './helpers/threads.js';

oneThreadForTinyOps();

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

test('tidy frees every tensor created inside except the returned ones', () => {
  const baseline = liveTensors();
  let inner: Tensor | undefined;
  const result = tidy(() => {
    inner = ones([2]);
    const doubled = inner.mul(2);
    doubled.add(1);
    return doubled;
  });
  assert.equal(liveTensors(), baseline + 1);
  assert.equal(inner!.disposed, true);
  assert.deepEqual(result.toArray(), [2, 2]);
  result.dispose();
  assert.equal(liveTensors(), baseline);
});

test('tidy keeps tensors inside returned arrays, plain objects and maps', () => {
  const baseline = liveTensors();
  const { list, record, map } = tidy(() => {
    zeros([1]);
    return { list: [ones([1]), ones([1])], record: { a: ones([1]) }, map: new Map([['b', ones([1])]]) };
  });
  assert.equal(liveTensors(), baseline + 4);
  for (const t of [...list, record.a, map.get('b')!]) t.dispose();
  assert.equal(liveTensors(), baseline);
});

test('nested tidy scopes hand returned tensors to the enclosing scope', () => {
  const baseline = liveTensors();
  let escaped: Tensor | undefined;
  const outer = tidy(() => {
    escaped = tidy(() => {
      ones([1]);
      return ones([1]).mul(3);
    });
    assert.equal(escaped.disposed, false);
    assert.equal(liveTensors(), baseline + 1);
    return escaped.add(1);
  });
  assert.equal(escaped!.disposed, true, 'the inner result belongs to the outer scope, which did not return it');
  assert.deepEqual(outer.toArray(), [4]);
  outer.dispose();
  assert.equal(liveTensors(), baseline);
});

test('tidy frees everything when fn throws, and later scopes work normally', () => {
  const baseline = liveTensors();
  assert.throws(
    () =>
      tidy(() => {
        ones([3]).mul(2);
        tidy(() => {
          ones([3]);
          throw new Error('boom');
        });
      }),
    /boom/,
  );
  assert.equal(liveTensors(), baseline);
  const outside = ones([1]);
  tidy(() => {
    ones([1]);
  });
  assert.equal(outside.disposed, false, 'no scope is left open after the exception');
  outside.dispose();
  assert.equal(liveTensors(), baseline);
});

test('tidy rejects an async fn without leaving its scope open', async () => {
  const baseline = liveTensors();
  assert.throws(() => tidy(async () => ones([1])), /must be synchronous/);
  const outside = ones([1]);
  tidy(() => undefined);
  assert.equal(outside.disposed, false);
  outside.dispose();
  assert.equal(liveTensors(), baseline);
});

test('keep() exempts a tensor from every enclosing scope; dispose() is idempotent and final', () => {
  const baseline = liveTensors();
  let kept: Tensor | undefined;
  tidy(() => {
    tidy(() => {
      kept = keep(ones([2]));
      ones([1]);
    });
    ones([1]);
  });
  assert.equal(liveTensors(), baseline + 1);
  assert.deepEqual(kept!.toArray(), [1, 1]);
  kept!.dispose();
  kept!.dispose();
  assert.equal(kept!.disposed, true);
  assert.throws(() => kept!.add(1), /tensor used after dispose\(\)/);
  assert.equal(liveTensors(), baseline);
});

test('tensors that are never disposed are reclaimed by garbage collection', async () => {
  const baseline = liveTensors();
  for (let i = 0; i < 200; i++) ones([4]).add(1);
  assert.ok(liveTensors() >= baseline + 200);
  // Node runs N-API finalizers after the collection, from the event loop.
  for (let attempt = 0; attempt < 20 && liveTensors() > baseline; attempt++) {
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(liveTensors(), baseline);
});

test('large tensors that are never disposed press the garbage collector by themselves', async () => {
  // V8 hears of tensor memory in steps (native/handle.cc); abandoned 32 MB tensors must still reach it, or their
  // small JS wrappers would never make it collect.
  const baseline = liveTensors();
  const made = 48;
  for (let i = 0; i < made; i++) {
    zeros([8 << 20]);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const stillHeld = liveTensors() - baseline;
  assert.ok(stillHeld < made / 2, `${stillHeld} of ${made} abandoned 32 MB tensors still held: garbage collection never ran`);
});

test('short-lived tensors do not start full garbage collections', async () => {
  // Told of every tensor as it came and went, V8 ran full collections on this churn alone (7 in these 30 passes).
  const majors: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { detail } = entry as PerformanceEntry & { detail?: { kind?: number } };
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors.push(entry.startTime);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  for (let pass = 0; pass < 30; pass++) tidy(() => zeros([4 << 20]).add(1).mul(2));
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  assert.ok(majors.length <= 2, `${majors.length} full collections in 30 passes of 48 MB of short-lived tensors`);
});

test('1,000 training steps of a small conv net keep tensors and memory flat', () => {
  manualSeed(0);
  const random = seededRandom(3);
  const model = new QuadrantNet();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  const step = (): number =>
    tidy(() => {
      const { images, labels } = quadrantBatch(16, random);
      const loss = F.crossEntropy(model.forward(images), labels);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      return loss.item();
    });
  for (let i = 0; i < 100; i++) step();
  collectGarbage();
  const tensorsBefore = liveTensors();
  const rssBefore = process.memoryUsage.rss();
  let last = Infinity;
  for (let i = 0; i < 1000; i++) last = step();
  collectGarbage();
  const grownMB = (process.memoryUsage.rss() - rssBefore) / 2 ** 20;
  assert.equal(liveTensors(), tensorsBefore, 'every temporary tensor of a step is freed');
  assert.ok(grownMB < 50, `RSS grew by ${grownMB.toFixed(1)} MB over 1,000 steps`);
  assert.ok(last < 0.5, `the net still learns (final loss ${last})`);
});

/** Minor page faults while `n` tensors of `bytes` are made, written and freed one after another. */
function faultsOfRepeatedTensors(n: number, bytes: number): number {
  const before = process.resourceUsage().minorPageFault;
  for (let i = 0; i < n; i++) zeros([bytes / 4]).dispose();
  return process.resourceUsage().minorPageFault - before;
}

// glibc only: elsewhere the allocator's own policy stands (see native/addon.cc).
const glibc = Boolean((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);

test('large tensors freed and made again reuse their memory instead of faulting in fresh pages', { skip: !glibc && 'not glibc' }, () => {
  const bytes = 64 * 2 ** 20;
  const pages = bytes / 4096;
  faultsOfRepeatedTensors(1, bytes);
  // Kept: the memory of the first tensor serves the next ones (glibc's default maps and unmaps each: 4 × pages).
  const faults = faultsOfRepeatedTensors(4, bytes);
  assert.ok(faults < pages, `${faults} page faults for 4 tensors of ${pages} pages`);
});
