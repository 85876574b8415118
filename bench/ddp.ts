// Training in 1 process against 2 (`yolov5 train --nproc-per-node 2`) on this machine: seconds per epoch and the
// milliseconds per optimizer step spent waiting for gradient all-reduces after backward, from the CLI's own epoch
// lines (the first epoch, which includes warm-up of the data workers, is left out). The global batch is the same in
// every run; 2 processes run twice, with DDP's 25 MiB buckets (yolov5n's gradients fill about one, reduced when
// backward is nearly done) and with small ones (many, most reduced while backward goes on).
// Usage: node dist-test/bench/ddp.js [--cfg yolov5n] [--img 128] [--images 128] [--batch 16] [--epochs 3] [--sync-bn]
//        [--small-buckets 0.5]
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
    'small-buckets': { type: 'string', default: '0.5' },
  },
});
const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'bench-ddp-'));

interface Measured {
  epochSeconds: number;
  reduceMs?: number;
  buckets?: string;
}

async function measure(processes: number, data: string, bucketMb = 25): Promise<Measured> {
  const args = [
    'dist/cli/main.js', 'train', '--data', data, '--cfg', values.cfg, '--img', values.img, '--batch-size', values.batch,
    '--epochs', values.epochs, '--noval', '--noplots', '--noautoanchor', '--project', join(tmp, 'runs'), '--name', `p${processes}-${bucketMb}`,
    ...(values['sync-bn'] ? ['--sync-bn'] : []),
    ...(processes > 1 ? ['--nproc-per-node', String(processes), '--master-port', String(await freePort()), '--bucket-cap-mb', String(bucketMb)] : []),
  ];
  const { stdout } = await run(process.execPath, args, { maxBuffer: 64 << 20 });
  const epochs = [...stdout.matchAll(/batches in ([\d.]+)s(?:, gradient all-reduce waited ([\d.]+) ms a step \(([\d.]+ of \d+) buckets)?/g)].slice(1);
  if (epochs.length === 0) throw new Error(`no epoch lines after the first in:\n${stdout}`);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const reduce = epochs.filter((m) => m[2] !== undefined).map((m) => Number(m[2]));
  const buckets = epochs.at(-1)?.[3];
  return { epochSeconds: mean(epochs.map((m) => Number(m[1]))), ...(reduce.length ? { reduceMs: mean(reduce) } : {}), ...(buckets ? { buckets } : {}) };
}

try {
  const { yaml } = await generateSynthDataset({ out: join(tmp, 'data'), images: Number(values.images), valImages: 4, classes: 4, imgsz: Number(values.img), seed: 1 });
  console.log(`${values.cfg} at ${values.img} px, ${values.images} images, global batch ${values.batch}${values['sync-bn'] ? ', --sync-bn' : ''}, epochs 2..${values.epochs} averaged`);
  const small = Number(values['small-buckets']);
  const one = await measure(1, yaml);
  const two = await measure(2, yaml);
  const twoSmall = await measure(2, yaml, small);
  console.log(`1 process:   ${one.epochSeconds.toFixed(2)} s an epoch`);
  for (const [measured, mb] of [[two, 25], [twoSmall, small]] as const) {
    console.log(
      `2 processes, ${mb} MiB buckets: ${measured.epochSeconds.toFixed(2)} s an epoch (${(measured.epochSeconds / one.epochSeconds).toFixed(2)}× one), ` +
        `waiting ${measured.reduceMs?.toFixed(1)} ms a step for all-reduces after backward (${measured.buckets} buckets started during backward)`,
    );
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
