import { Command, Option } from 'commander';
import { prunePipeline } from '../../prune/pipeline.js';
import type { ImportanceMeasure } from '../../prune/recipe.js';
import { OPTIMIZERS, type OptimizerName } from '../../train/optimizer.js';
import { batchSizeOption, deviceOption, fraction, imgSizeOption, nonNegativeInteger, nonNegativeNumber, positiveInteger } from '../arguments.js';
import { settingsLine } from '../settings-line.js';
import { prepareDataset } from '../../data/dataset-download.js';
import { resolveWeights } from '../../checkpoint/index.js';

interface PruneCliOptions {
  weights?: string;
  data?: string;
  imgsz: number;
  batchSize: number;
  epochs?: number;
  nominalBatch?: number;
  rounds?: number;
  epochsPerRound?: number;
  finetuneEpochs?: number;
  sparsity?: number;
  targetSparsity?: number;
  gateLr?: number;
  minWarmup?: number;
  distill?: number;
  threshold?: number;
  ratio?: number;
  targetFlops?: number;
  targetLatency?: number;
  minChannels: number;
  round?: number;
  criterion: 'gate' | 'bn';
  importance?: ImportanceMeasure;
  fade?: boolean;
  hyp?: string;
  optimizer?: OptimizerName;
  cache: boolean;
  workers: number;
  seed: number;
  project: string;
  name: string;
  existOk: boolean;
  resume?: string;
  calibrationImages: number;
  benchmark: boolean;
  int8: boolean;
}

export function pruneCommand(): Command {
  return new Command('prune')
    .description(
      'structured channel pruning: rounds of sparsity training (L1 on the smallest half of each layer\'s gates) and ' +
        'pruning, then fine-tuning; writes runs/prune/exp/report.md. Options marked "chosen" are picked from the ' +
        'epoch budget, the target, the data and the checkpoint when left out, and printed with their reasons at the start',
    )
    .option('--weights <path>', 'trained weights (official .pt or yolov5-ts .safetensors)')
    .option('--data <yaml>', 'dataset yaml (coco128.yaml by name: shipped, downloaded on first use)')
    .addOption(imgSizeOption('train and val image size'))
    .addOption(batchSizeOption('batch size', 16))
    .option('--epochs <n>', 'epochs in all: every round\'s sparsity training plus fine-tuning (chosen from the dataset size; 0: one-shot pruning)', nonNegativeInteger)
    .option('--nominal-batch <n>', 'images per optimizer step: batches accumulate gradients up to it (chosen: the checkpoint\'s, or 64 as YOLOv5, smaller when an epoch would have under 16 steps)', positiveInteger)
    .option('--rounds <n>', 'rounds of sparsity training then pruning (chosen: each keeps ≥ 70% of the cost entering it)', positiveInteger)
    .option('--epochs-per-round <n>', 'sparsity-training epochs per round (chosen)', nonNegativeInteger)
    .option('--finetune-epochs <n>', 'epochs of fine-tuning without the penalty after the last round (chosen: the rest of the budget)', nonNegativeInteger)
    .option('--sparsity <lambda>', 'sparsity strength λ per image, the start value the controller adapts (chosen: with SGD, enough to move an undefended gate by 0.5 in one round); alone, a fixed λ', nonNegativeNumber)
    .option('--target-sparsity <share>', 'adapt λ between epochs so this share of gates falls below the threshold; the penalty pauses while it is met, and λ backs off while the training loss is over 10% above the round\'s best (default per round: 1 − √(the round\'s cost fraction))', fraction)
    .option('--gate-lr <lr>', "the gates' learning rate in sparsity training: no warmup, decays with the schedule (chosen: 0.05 with SGD; with Adam, a travel of 0.5 in one round)", nonNegativeNumber)
    .option('--min-warmup <iterations>', 'training stages warm up for at least this many iterations (default 0: the recipe\'s one-epoch warmup)', nonNegativeInteger)
    .option('--distill <gain>', 'sparsity training and fine-tuning also learn the original model\'s outputs on the same images, with this gain (chosen: 3 when the original\'s mAP50 ≥ 0.5, else 0)', nonNegativeNumber)
    .option('--threshold <t>', 'prune channels whose |gate| is below t (also the threshold of the gate statistics, default 0.1)', nonNegativeNumber)
    .option('--ratio <r>', 'remove this share of all prunable channels by the end', fraction)
    .option('--target-flops <f>', 'keep this fraction of the original GFLOPs by the end (default 0.6)', fraction)
    .option('--target-latency <f>', 'keep this fraction of the estimated CPU latency by the end, costly high-resolution channels first', fraction)
    .option('--min-channels <n>', 'never keep fewer channels per layer (or the layer width if smaller)', nonNegativeInteger, 8)
    .option('--round <n>', 'round kept channel counts up to a multiple of n (chosen: ONNX Runtime\'s channel block on this CPU, 16 with AVX-512, 8 with AVX2)', positiveInteger)
    .addOption(new Option('--criterion <c>', 'importance: channel gates (this method) or BatchNorm scales (network slimming)').choices(['gate', 'bn']).default('gate'))
    .addOption(
      new Option('--importance <m>', 'how the gate criterion ranks channels: |gate|, or the Taylor estimate of the loss change (gate × gradient, on training batches) (chosen: taylor for one-shot pruning, else magnitude)')
        .choices(['magnitude', 'taylor']),
    )
    .option('--fade', 'fade out the channels each round\'s plan removes over its later sparsity epochs, gates capped by a bound falling to zero (chosen: on for the gate criterion with a target and ≥ 2 epochs a round)')
    .option('--no-fade', 'prune each round\'s channels at once after its sparsity training')
    .option('--hyp <yaml>', 'hyperparameters for sparsity training and fine-tuning, used as given (chosen: the checkpoint\'s, or hyp.scratch-low, with a one-epoch warmup)')
    .addOption(new Option('--optimizer <name>', 'optimizer of sparsity training and fine-tuning; the gates share it (chosen: the checkpoint\'s, or SGD)').choices([...OPTIMIZERS]))
    .option('--no-cache', 'do not cache decoded training images in RAM (by default they are, when they fit)')
    .option('--workers <n>', 'data loader worker threads', positiveInteger, 8)
    .option('--seed <n>', 'random seed', nonNegativeInteger, 0)
    .option('--calibration-images <n>', 'training images for the reconstruction of removed channels, BatchNorm statistics and Taylor importance', positiveInteger, 256)
    .option('--no-benchmark', 'skip the ONNX Runtime latency comparison')
    .option('--int8', 'also quantize the pruned model to INT8 (pruned-int8.onnx) and report its mAP and latency', false)
    .option('--project <dir>', 'save to project/name', 'runs/prune')
    .option('--name <name>', 'save to project/name', 'exp')
    .option('--exist-ok', 'reuse an existing project/name folder', false)
    .option('--resume <dir>', 'continue an interrupted run (its runs/prune/expN folder)')
    .addOption(deviceOption())
    .action(async (o: PruneCliOptions, command: Command) => {
      console.log(settingsLine(command));
      if (!o.resume && (!o.weights || !o.data)) throw new Error('prune needs --weights and --data (or --resume)');
      await prunePipeline({
        weights: o.weights ? await resolveWeights(o.weights) : '',
        data: o.data ? await prepareDataset(o.data) : '',
        imgsz: o.imgsz,
        batchSize: o.batchSize,
        epochs: o.epochs,
        nominalBatch: o.nominalBatch,
        rounds: o.rounds,
        epochsPerRound: o.epochsPerRound,
        finetuneEpochs: o.finetuneEpochs,
        ...(o.sparsity !== undefined ? { sparsity: o.sparsity } : {}),
        ...(o.targetSparsity !== undefined ? { targetSparsity: o.targetSparsity } : {}),
        ...(o.gateLr !== undefined ? { gateLr: o.gateLr } : {}),
        minWarmup: o.minWarmup,
        distill: o.distill,
        ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
        ...(o.ratio !== undefined ? { ratio: o.ratio } : {}),
        ...(o.targetFlops !== undefined ? { targetFlops: o.targetFlops } : {}),
        ...(o.targetLatency !== undefined ? { targetLatency: o.targetLatency } : {}),
        minChannels: o.minChannels,
        round: o.round,
        criterion: o.criterion,
        importance: o.importance,
        ...(o.fade !== undefined ? { fade: o.fade } : {}),
        ...(o.hyp ? { hyp: o.hyp } : {}),
        optimizer: o.optimizer,
        cache: o.cache,
        workers: o.workers,
        seed: o.seed,
        project: o.project,
        name: o.name,
        existOk: o.existOk,
        ...(o.resume ? { resume: o.resume } : {}),
        calibrationImages: o.calibrationImages,
        benchmark: o.benchmark,
        int8: o.int8,
      });
    });
}
