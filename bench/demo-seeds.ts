// The fast demo's outcome over seeds, to see how far its test's threshold sits from the spread (test/demo.test.ts):
//   node dist-test/bench/demo-seeds.js 0 1 2 3
// Prints per seed the original's and the pruned model's mAP50, their ratio and the stage times.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../src/demo/pipeline.js';

const seeds = process.argv.slice(2).map(Number);
if (seeds.length === 0 || !seeds.every(Number.isInteger)) throw new Error('give the seeds as integers, e.g. 0 1 2 3');
for (const seed of seeds) {
  const root = mkdtempSync(join(tmpdir(), 'demo-seeds-'));
  try {
    const r = await runDemo({ out: join(root, 'demo'), fast: true, seed, progress: false, log: () => {} });
    const stages = r.stages.map((s) => `${s.stage} ${s.seconds.toFixed(0)} s`).join(', ');
    console.log(`seed ${seed}: mAP50 ${r.original.map50.toFixed(4)} → ${r.pruned.map50.toFixed(4)} (${(r.pruned.map50 / r.original.map50).toFixed(2)}); ${stages}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
