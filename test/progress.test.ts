// util/progress off a terminal (as under node --test): plain lines at the interval, none for a short loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, progress, progressBarShown } from '../src/util/progress.js';

function withInterval<T>(ms: string | undefined, work: () => T): T {
  const saved = process.env.YOLOV5_PROGRESS_INTERVAL_MS;
  if (ms === undefined) delete process.env.YOLOV5_PROGRESS_INTERVAL_MS;
  else process.env.YOLOV5_PROGRESS_INTERVAL_MS = ms;
  try {
    return work();
  } finally {
    if (saved === undefined) delete process.env.YOLOV5_PROGRESS_INTERVAL_MS;
    else process.env.YOLOV5_PROGRESS_INTERVAL_MS = saved;
  }
}

test('ETAs read as 45s, 2m10s, 1h05m', () => {
  assert.deepEqual([0, 44.6, 130, 3599, 3900, 90_000].map(formatDuration), ['0s', '45s', '2m10s', '59m59s', '1h05m', '25h00m']);
});

test('off a terminal, a plain line per interval with count, share and ETA', () => {
  assert.equal(progressBarShown(), false, 'the test runner pipes stderr');
  const lines: string[] = [];
  withInterval('0', () => {
    const bar = progress({ title: 'Epoch 3/99', total: 350, unit: 'batches', log: (l) => lines.push(l) });
    bar.update(120, 'losses shown by the bar only');
    bar.increment();
    bar.stop();
  });
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^ {2}Epoch 3\/99: 120\/350 batches, 34%, ETA \d+s$/);
  assert.match(lines[1]!, /^ {2}Epoch 3\/99: 121\/350 batches, 34%, ETA \d+s$/);
});

test('a loop shorter than the interval (10 s by default) prints nothing; show: false prints nothing at all', () => {
  const lines: string[] = [];
  withInterval(undefined, () => {
    const bar = progress({ title: 'val', total: 3, unit: 'batches', log: (l) => lines.push(l) });
    for (let i = 0; i < 3; i++) bar.increment();
  });
  withInterval('0', () => progress({ title: 'val', total: 3, unit: 'batches', show: false, log: (l) => lines.push(l) }).update(2));
  assert.deepEqual(lines, []);
  assert.throws(() => withInterval('soon', () => progress({ title: 'val', total: 1, unit: 'batches' })), /YOLOV5_PROGRESS_INTERVAL_MS=soon: expected a number of milliseconds/);
});
