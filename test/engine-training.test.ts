import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainQuadrantNet } from '../src/demo/engine-demo.js';
import { oneThreadForTinyOps } from './helpers/threads.js';

oneThreadForTinyOps();

test('a small CNN (conv, batch norm, SiLU, pooling, linear) learns a synthetic task', () => {
  const { losses } = trainQuadrantNet(300);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const start = losses[0]!;
  const end = mean(losses.slice(-20));
  assert.ok(start > 1.0, `initial loss ${start} should be near ln 4 ≈ 1.39`);
  assert.ok(end < 0.05, `final loss ${end} should fall below 0.05`);
});
