// Thread count for tests made of many tiny operations.
import { after, before } from 'node:test';
import { availableParallelism } from 'node:os';
import { setNumThreads } from '../../src/torch/index.js';

/**
 * Runs the tests of the calling file on one libtorch thread, restoring the default afterwards. Tiny tensors gain
 * nothing from a second thread, and on a busy machine OpenMP's spin-waiting between thousands of small parallel
 * regions can make them a hundred times slower; these tests check values, not threading.
 */
export function oneThreadForTinyOps(): void {
  before(() => setNumThreads(1));
  after(() => setNumThreads(availableParallelism()));
}
