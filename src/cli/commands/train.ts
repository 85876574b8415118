import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { evolve } from '../../train/evolve.js';
import { train, type TrainOptions } from '../../train/trainer.js';
import { incrementPath } from '../../io/run-dir.js';
import { OPTIMIZERS, type OptimizerName } from '../../train/optimizer.js';
import { batchSizeOption, collect, deviceOption, fractionBelowOne, imgSizeOption, integer, integerInRange, nominalBatchOption, nonNegativeInteger, positiveInteger } from '../arguments.js';
import { settingsLine } from '../settings-line.js';
import { prepareDataset } from '../../data/dataset-download.js';
import { ProcessGroup } from '../../torch/distributed.js';
import { launchWorkers, workerArgs, workerPlace } from '../launch.js';

/** Generations of a bare --evolve, as YOLOv5's. */
const EVOLVE_GENERATIONS = 300;

interface TrainCliOptions {
  data: string;
  weights: string;
  cfg?: string;
  hyp: string;
  imgsz: number;
  batchSize: number;
  nominalBatch: number;
  epochs: number;
  project?: string;
  name: string;
  existOk: boolean;
  resume: string | boolean;
  patience: number;
  savePeriod: number;
  workers: number;
  seed: number;
  optimizer: OptimizerName;
  cosLr: boolean;
  rect: boolean;
  cache?: string | boolean;
  freeze?: number[];
  singleCls: boolean;
  multiScale: boolean;
  noval: boolean;
  nosave: boolean;
  noplots: boolean;
  noautoanchor: boolean;
  labelSmoothing: number;
  evolve?: number | true;
  nprocPerNode?: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort: number;
  syncBn: boolean;
  ddpTimeout: number;
}

export function trainCommand(): Command {
  return new Command('train')
    .description('train a detector on a dataset (as YOLOv5 train.py): from official .pt or our weights, or a model config')
    .option('--data <yaml>', 'dataset yaml (coco128.yaml by name: shipped, downloaded on first use)')
    .option('--weights <path>', "initial weights (.pt or .safetensors); '' to train from --cfg", '')
    .option('--cfg <yaml>', 'model config (path or shipped name, e.g. yolov5n)')
    .option('--hyp <yaml>', 'hyperparameters (path or shipped hyp.scratch-low / -med / -high)', 'hyp.scratch-low')
    .addOption(imgSizeOption('train and val image size'))
    .addOption(batchSizeOption('batch size', 16))
    .addOption(nominalBatchOption())
    .option('--epochs <n>', 'epochs', positiveInteger, 100)
    .addOption(deviceOption())
    .option('--project <dir>', 'save to project/name (default: runs/train, runs/evolve with --evolve)')
    .option('--name <name>', 'save to project/name', 'exp')
    .option('--exist-ok', 'reuse an existing project/name instead of incrementing', false)
    .option('--resume [last]', 'continue a run from its last.safetensors (default: the most recent under --project)', false)
    .option('--patience <epochs>', 'stop after this many epochs without improvement (0: never)', integer, 100)
    .option('--save-period <epochs>', 'also save a checkpoint every this many epochs (< 1: never)', integer, -1)
    .option('--workers <n>', 'data loader worker threads', positiveInteger, 8)
    .option('--seed <n>', 'random seed', integer, 0)
    .addOption(new Option('--optimizer <name>', 'optimizer').choices([...OPTIMIZERS]).default('SGD'))
    .option('--cos-lr', 'cosine learning-rate schedule', false)
    .option('--rect', 'rectangular training batches', false)
    .option('--cache [ram]', 'cache decoded images in RAM')
    .option('--freeze <layers...>', 'freeze layers: N freezes the first N, several values freeze those indices', collect(nonNegativeInteger))
    .option('--single-cls', 'train multi-class data as a single class', false)
    .option('--multi-scale', 'vary the image size by ±50% per batch', false)
    .option('--noval', 'validate only the final epoch', false)
    .option('--nosave', 'save only the final checkpoint', false)
    .option('--noplots', 'save no pictures', false)
    .option('--noautoanchor', 'skip the AutoAnchor check', false)
    .option('--label-smoothing <eps>', 'class label smoothing epsilon', fractionBelowOne, 0)
    .option(
      '--evolve [generations]',
      `evolve hyperparameters for this many generations (default ${EVOLVE_GENERATIONS}), each a training validated at its last epoch; ` +
        'a rerun continues the evolve.csv in project/name',
      positiveInteger,
    )
    .option('--nproc-per-node <n>', 'train in this many processes on this machine (torchrun\'s flag; --batch-size is split among all processes)', positiveInteger)
    .option('--nnodes <n>', 'machines taking part, each running the same command with its own --node-rank', positiveInteger, 1)
    .option('--node-rank <r>', "this machine's index, 0 for the machine at --master-addr", nonNegativeInteger, 0)
    .option('--master-addr <address>', 'address of node 0, reachable from every machine', '127.0.0.1')
    .option('--master-port <port>', 'a free port on node 0 for the rendezvous', integerInRange(1, 65535), 29500)
    .option('--sync-bn', 'synchronized BatchNorm: batch statistics over all processes (otherwise each its own)', false)
    .option('--ddp-timeout <seconds>', 'how long a process waits for the others (joining, each collective)', positiveInteger, 1800)
    .action(async (options: TrainCliOptions, command: Command) => {
      if (options.nprocPerNode !== undefined) {
        if (workerPlace()) throw new Error('--nproc-per-node: this process is already a worker (WORLD_SIZE is set); start it without the flag');
        const args = workerArgs(process.argv.slice(process.argv.indexOf(command.name())));
        process.exitCode = await launchWorkers(args, {
          nprocPerNode: options.nprocPerNode,
          nnodes: options.nnodes,
          nodeRank: options.nodeRank,
          masterAddr: options.masterAddr,
          masterPort: options.masterPort,
        });
        return;
      }
      const place = workerPlace();
      // The launcher starts workers that print it; of those, rank 0 alone speaks.
      if (!place || place.rank === 0) {
        console.log(settingsLine(command, {
          project: options.project ?? (options.evolve === undefined ? 'runs/train' : 'runs/evolve'),
          ...(options.evolve === true ? { evolve: EVOLVE_GENERATIONS } : {}),
        }));
      }
      if (options.cache !== undefined && options.cache !== true && options.cache !== 'ram') {
        throw new Error(`--cache ${String(options.cache)}: only ram caching is supported`);
      }
      if (!options.resume && !options.data) throw new Error('--data is required (unless resuming)');
      // Ctrl-C finishes the current batch and stops, keeping the last finished epoch's checkpoint; twice quits now.
      const controller = new AbortController();
      const onSignal = () => {
        if (controller.signal.aborted) process.exit(130);
        console.error('\nStopping after this batch (Ctrl-C again to quit now); the last saved epoch is kept for --resume.');
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      let group: ProcessGroup | undefined;
      try {
        if (place) {
          if (options.evolve !== undefined) throw new Error('--evolve trains one generation at a time: run it in one process');
          group = await ProcessGroup.create({
            ...place,
            timeoutMs: options.ddpTimeout * 1000,
            ...(process.env.GLOO_SOCKET_IFNAME ? { iface: process.env.GLOO_SOCKET_IFNAME } : {}),
          });
        }
        const settings: TrainOptions = {
          data: options.data ? await prepareDataset(options.data) : options.data,
          weights: options.weights,
          cfg: options.cfg,
          hyp: options.hyp,
          imgsz: options.imgsz,
          batchSize: options.batchSize,
          nominalBatch: options.nominalBatch,
          epochs: options.epochs,
          project: options.project,
          name: options.name,
          existOk: options.existOk,
          resume: options.resume,
          patience: options.patience,
          savePeriod: options.savePeriod,
          workers: options.workers,
          seed: options.seed,
          optimizer: options.optimizer,
          cosLr: options.cosLr,
          rect: options.rect,
          cache: options.cache ? 'ram' : false,
          freeze: options.freeze,
          singleCls: options.singleCls,
          multiScale: options.multiScale,
          noval: options.noval,
          nosave: options.nosave,
          noplots: options.noplots,
          noautoanchor: options.noautoanchor,
          labelSmoothing: options.labelSmoothing,
          signal: controller.signal,
          group,
          syncBn: options.syncBn,
        };
        if (options.evolve !== undefined) {
          if (options.resume) throw new Error('--evolve continues by itself: rerun the same command instead of --resume');
          const project = options.project ?? 'runs/evolve';
          // An existing search in project/name is continued; otherwise a new folder (exp, exp2, ...) starts one.
          const continuing = existsSync(join(project, options.name, 'evolve.csv'));
          const saveDir = incrementPath(project, options.name, continuing || options.existOk);
          const generations = options.evolve === true ? EVOLVE_GENERATIONS : options.evolve;
          const { best, csv, yaml } = await evolve({ ...settings, saveDir, generations });
          console.log(`\nHyperparameter evolution finished: ${generations} generations in ${csv}, the best (mAP50-95 ${best.metrics[3].toFixed(4)}) in ${yaml}`);
          console.log(`Use it with: yolov5 train --hyp ${yaml}`);
          return;
        }
        const result = await train({ ...settings, project: options.project ?? 'runs/train' });
        if (result.interrupted) process.exitCode = 130;
      } catch (error) {
        // Which process failed matters when several share a terminal.
        if (place) throw new Error(`rank ${place.rank}: ${(error as Error).message}`, { cause: error });
        throw error;
      } finally {
        group?.destroy();
        process.off('SIGINT', onSignal);
      }
    });
}
