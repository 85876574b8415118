// Options several commands share, declared once: YOLOv5's spellings of the size and batch flags, --device, the
// run folder, and the flags of training in several processes.
import { NOMINAL_BATCH } from '../train/schedule.js';
import type { OptionSpec } from './declare.js';
import { cpuDevice, flag, imageSize, integerInRange, nonNegativeInteger, positiveInteger, positiveNumber, text } from './values.js';

/** YOLOv5's argparse declares `--imgsz`, `--img` and `--img-size` as one option, and pasted commands use all three. */
export const IMG_FLAGS = ['--img', '--imgsz', '--img-size'] as const;

/** One size in pixels (train, val, prune, benchmark). */
export const imgsz = (help: string) => ({ type: positiveInteger, default: 640, flags: IMG_FLAGS, argument: '<pixels>', help }) as const;

/** One size (square) or height and width (detect, export). */
export const imgszPair = (help: string) =>
  ({ type: imageSize, default: [640, 640] as [number, number], flags: IMG_FLAGS, argument: '<size...>', help }) as const;

/** argparse takes `--batch` as an abbreviation of `--batch-size`, and tutorials write it so. */
export const batchSize = (help: string, defaultValue: number) =>
  ({ type: positiveInteger, default: defaultValue, flags: ['--batch', '--batch-size'], argument: '<n>', help }) as const;

/**
 * Training images that calibrate a model (prune: the reconstruction, BatchNorm statistics, Taylor importance and
 * INT8; export: INT8). `--calibration-images` was prune's name for it and stays accepted.
 */
export const calibImages = (help: string, defaultValue: number) =>
  ({ type: positiveInteger, default: defaultValue, flags: ['--calib-images', '--calibration-images'], argument: '<n>', help }) as const;

/** Accepted by every command that runs a model, so that pasted YOLOv5 commands work. */
export const device = { type: cpuDevice, default: 'cpu', argument: '<device>', help: 'cpu (the only device of this build; cuda devices and mps are refused)' } as const satisfies OptionSpec<'cpu', string>;

/** Shared by train and prune. */
export const nominalBatch = {
  type: positiveInteger,
  default: NOMINAL_BATCH,
  argument: '<n>',
  help: 'images per optimizer step: batches accumulate gradients up to it (64 as YOLOv5; on a small dataset a smaller one gives more steps per epoch)',
} as const;

/** Where a run writes: project/name, then name2, name3, ... unless existOk. */
export const runFolder = (project: string) =>
  ({
    project: { type: text, default: project, argument: '<dir>', help: 'save to project/name' },
    name: { type: text, default: 'exp', argument: '<name>', help: 'save to project/name' },
    existOk: { type: flag, default: false, help: 'reuse an existing project/name instead of incrementing' },
  }) as const;

/**
 * Training over several processes and machines with torchrun's flags (train, and prune's training stages): each
 * process trains on its share of every batch, gradients are averaged over all.
 */
export const processes = {
  nprocPerNode: {
    type: positiveInteger,
    argument: '<n>',
    help: "run in this many processes on this machine (torchrun's flag; --batch-size is split among all processes; command line only: a library caller starts its processes under torchrun)",
  },
  nnodes: { type: positiveInteger, default: 1, argument: '<n>', help: 'machines taking part, each running the same command with its own --node-rank' },
  nodeRank: { type: nonNegativeInteger, default: 0, argument: '<r>', help: "this machine's index, 0 for the machine at --master-addr" },
  masterAddr: { type: text, default: '127.0.0.1', argument: '<address>', help: 'address of node 0, reachable from every machine' },
  masterPort: { type: integerInRange(1, 65535), default: 29500, argument: '<port>', help: 'a free port on node 0 for the rendezvous' },
  syncBn: { type: flag, default: false, help: 'synchronized BatchNorm: batch statistics over all processes (otherwise each its own)' },
  bucketCapMb: {
    type: positiveNumber,
    default: 25,
    argument: '<MiB>',
    help: "gradients travel in buckets of this size, each all-reduced as soon as backward has produced it (DDP's bucket_cap_mb)",
  },
  ddpTimeout: { type: positiveInteger, default: 1800, argument: '<seconds>', help: 'how long a process waits for the others (joining, each collective)' },
} as const;
