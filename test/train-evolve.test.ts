// Hyperparameter evolution: mutations stay in YOLOv5's search space, parents come from the best generations, and
// `yolov5 train --evolve` writes evolve.csv / hyp_evolve.yaml / evolve.png and continues a search when rerun.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { createRng } from '../src/util/random.js';
import { generateSynthDataset } from '../src/data/synth.js';
import { EVOLVE_METRICS, EVOLVE_SPACE, mutate, readGenerations, selectParent, type Generation } from '../src/train/evolve.js';
import { loadHyp, type Hyp } from '../src/train/hyp.js';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'train-evolve-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const base = loadHyp('hyp.scratch-low');

test('a mutation changes something, stays within the bounds and leaves unsearched values alone', () => {
  for (let seed = 0; seed < 200; seed++) {
    const child = mutate(base, createRng(seed));
    const changed = (Object.keys(base) as (keyof Hyp)[]).filter((k) => child[k] !== base[k]);
    assert.ok(changed.length > 0, `seed ${seed} changed nothing`);
    for (const k of changed) {
      const space = EVOLVE_SPACE[k];
      assert.ok(space && space[0] > 0, `${k} is not searched but changed`);
      assert.ok(child[k]! >= space[1] && child[k]! <= space[2], `${k} = ${child[k]} outside [${space[1]}, ${space[2]}]`);
      const ratio = child[k]! / base[k]!;
      const clipped = child[k] === space[1] || child[k] === space[2];
      assert.ok(clipped || (ratio >= 0.3 - 1e-4 && ratio <= 3 + 1e-4), `${k} moved by ${ratio}`);
    }
    assert.equal(child.label_smoothing, base.label_smoothing);
  }
  assert.deepEqual(mutate(base, createRng(7)), mutate(base, createRng(7)), 'the same stream, the same mutation');
});

test('parents come from the five fittest generations, weighted by fitness above the fifth', () => {
  const generations: Generation[] = Array.from({ length: 8 }, (_, i) => ({ metrics: [0, 0, i / 10, i / 10], hyp: { ...base, lr0: i + 1 } }));
  const drawn = new Map<number, number>();
  const rng = createRng(1);
  for (let i = 0; i < 2000; i++) {
    const lr0 = selectParent(generations, rng).lr0;
    drawn.set(lr0, (drawn.get(lr0) ?? 0) + 1);
  }
  // The weight is fitness minus the worst of the five: the fifth is (almost) never drawn.
  assert.ok([...drawn.keys()].every((lr0) => lr0 >= 4), `only the best five: ${[...drawn.keys()]}`);
  assert.ok(drawn.get(8)! > drawn.get(5)!, 'the fittest is drawn more often');
});

test('yolov5 train --evolve: evolve.csv, hyp_evolve.yaml and evolve.png; a rerun continues the search', async () => {
  const { yaml: data } = await generateSynthDataset({ out: join(tmp, 'data'), images: 16, valImages: 4, classes: 2, imgsz: 64, seed: 3 });
  const args = ['dist/cli/main.js', 'train', '--data', data, '--cfg', 'yolov5n', '--img', '64', '--batch-size', '8', '--workers', '1', '--epochs', '1', '--project', join(tmp, 'evolve')];
  const first = await run(process.execPath, [...args, '--evolve', '2'], { timeout: 300_000 });
  assert.match(first.stdout, /evolve: generation 2\/2/);
  const dir = join(tmp, 'evolve', 'exp');
  const csv = join(dir, 'evolve.csv');
  const keys = Object.keys(base);
  const header = readFileSync(csv, 'utf8').split('\n')[0]!.split(',');
  assert.deepEqual(header, [...EVOLVE_METRICS, ...keys]);
  const generations = readGenerations(csv, keys);
  assert.equal(generations.length, 2);
  assert.deepEqual(generations[0]!.hyp, base, 'the first generation trains the given hyperparameters');
  assert.notDeepEqual(generations[1]!.hyp, base, 'the second a mutation');
  const best = loadHyp(join(dir, 'hyp_evolve.yaml'));
  assert.ok(generations.some((g) => JSON.stringify(g.hyp) === JSON.stringify(best)), 'hyp_evolve.yaml holds one of the generations');
  assert.equal((await sharp(join(dir, 'evolve.png')).metadata()).format, 'png');
  assert.ok(!existsSync(join(dir, 'generation')), 'the generations\' training folder is removed at the end');

  const second = await run(process.execPath, [...args, '--evolve', '3'], { timeout: 300_000 });
  assert.match(second.stdout, /evolve: continuing .*evolve\.csv after 2 generations/);
  const continued = readGenerations(csv, keys);
  assert.equal(continued.length, 3);
  assert.deepEqual(continued.slice(0, 2), generations);
  assert.ok(!existsSync(join(tmp, 'evolve', 'exp2')), 'the same folder');
});
