// Training in 1 process against 2 (`yolov5 train --nproc-per-node 2`) on this machine: seconds per epoch and the
// gradient all-reduce's milliseconds per optimizer step, from the CLI's own epoch lines (the first epoch, which
// includes warm-up of the data workers, is left out). The global batch is the same in both runs.
// Usage: node dist-test/bench/ddp.js [--cfg yolov5n] [--img 128] [--images 128] [--batch 16] [--epochs 3] [--sync-bn]
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { generateSynthDataset } from '../src/data/synth.js';
import { freePort } from '../test/helpers/free-port.js';

const { values } = parseArgs({
  options: {
    cfg: { type: 'string', default: 'yolov5n' },
    img: { type: 'string', default: '128' },
    images: { type: 'string', default: '128' },
    batch: { type: 'string', default: '16' },
    epochs: { type: 'string', default: '3' },
    'sync-bn': { type: 'boolean', default: false },
  },
});
const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'bench-ddp-'));

interface Measured {
  epochSeconds: number;
  reduceMs?: number;
}

async function measure(processes: number, data: string): Promise<Measured> {
  const args = [
    'dist/cli/main.js', 'train', '--data', data, '--cfg', values.cfg, '--img', values.img, '--batch-size', values.batch,
    '--epochs', values.epochs, '--noval', '--noplots', '--noautoanchor', '--project', join(tmp, 'runs'), '--name', `p${processes}`,
    ...(values['sync-bn'] ? ['--sync-bn'] : []),
    ...(processes > 1 ? ['--nproc-per-node', String(processes), '--master-port', String(await freePort())] : []),
  ];
  const { stdout } = await run(process.execPath, args, { maxBuffer: 64 << 20 });
  const epochs = [...stdout.matchAll(/batches in ([\d.]+)s(?:, gradient all-reduce ([\d.]+) ms a step)?/g)].slice(1);
  if (epochs.length === 0) throw new Error(`no epoch lines after the first in:\n${stdout}`);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const reduce = epochs.filter((m) => m[2] !== undefined).map((m) => Number(m[2]));
  return { epochSeconds: mean(epochs.map((m) => Number(m[1]))), ...(reduce.length ? { reduceMs: mean(reduce) } : {}) };
}

try {
  const { yaml } = await generateSynthDataset({ out: join(tmp, 'data'), images: Number(values.images), valImages: 4, classes: 4, imgsz: Number(values.img), seed: 1 });
  console.log(`${values.cfg} at ${values.img} px, ${values.images} images, global batch ${values.batch}${values['sync-bn'] ? ', --sync-bn' : ''}, epochs 2..${values.epochs} averaged`);
  const one = await measure(1, yaml);
  const two = await measure(2, yaml);
  console.log(`1 process:   ${one.epochSeconds.toFixed(2)} s an epoch`);
  console.log(`2 processes: ${two.epochSeconds.toFixed(2)} s an epoch (${(two.epochSeconds / one.epochSeconds).toFixed(2)}× one), gradient all-reduce ${two.reduceMs?.toFixed(1)} ms a step`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
