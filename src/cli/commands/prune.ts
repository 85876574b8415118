import { Command, Option } from 'commander';
import { prunePipeline, type ImportanceMeasure } from '../../prune/pipeline.js';
import { OPTIMIZERS, type OptimizerName } from '../../train/optimizer.js';
import { fraction, nominalBatchOption, nonNegativeInteger, nonNegativeNumber, positiveInteger } from '../arguments.js';
import { prepareDataset } from '../../data/dataset-download.js';
import { resolveWeights } from '../../checkpoint/index.js';

interface PruneCliOptions {
  weights?: string;
  data?: string;
  img: number;
  batchSize: number;
  nominalBatch: number;
  rounds: number;
  epochsPerRound: number;
  finetuneEpochs: number;
  sparsity?: number;
  targetSparsity?: number;
  gateLr?: number;
  minWarmup: number;
  distill: number;
  threshold?: number;
  ratio?: number;
  targetFlops?: number;
  targetLatency?: number;
  minChannels: number;
  round: number;
  criterion: 'gate' | 'bn';
  importance: ImportanceMeasure;
  hyp?: string;
  optimizer: OptimizerName;
  workers: number;
  seed: number;
  project: string;
  name: string;
  existOk: boolean;
  resume?: string;
  calibrationImages: number;
  benchmark: boolean;
}

export function pruneCommand(): Command {
  return new Command('prune')
    .description(
      'structured channel pruning: rounds of sparsity training (L1 on the smallest half of each layer\'s gates) and ' +
        'pruning, then fine-tuning; writes runs/prune/exp/report.md',
    )
    .option('--weights <path>', 'trained weights (official .pt or yolov5-ts .safetensors)')
    .option('--data <yaml>', 'dataset yaml (coco128.yaml by name: shipped, downloaded on first use)')
    .option('--img <pixels>', 'train and val image size', positiveInteger, 640)
    .option('--batch-size <n>', 'batch size', positiveInteger, 16)
    .addOption(nominalBatchOption())
    .option('--rounds <n>', 'rounds of sparsity training then pruning', positiveInteger, 2)
    .option('--epochs-per-round <n>', 'sparsity-training epochs per round', nonNegativeInteger, 3)
    .option('--finetune-epochs <n>', 'epochs of fine-tuning without the penalty after the last round', nonNegativeInteger, 3)
    .option('--sparsity <lambda>', 'sparsity strength λ per image (default 1e-3; the start value when --target-sparsity adapts it)', nonNegativeNumber)
    .option('--target-sparsity <share>', 'adapt λ between epochs so this share of gates falls below the threshold; the penalty pauses while it is met, and λ backs off while the training loss is over 10% above the round\'s best (default 1 − √(target FLOPs), or 0.4)', fraction)
    .option('--gate-lr <lr>', "the gates' learning rate in sparsity training: no warmup, decays with the schedule (default 0.05)", nonNegativeNumber)
    .option('--min-warmup <iterations>', 'fine-tuning warms up for at least this many iterations (100 as YOLOv5: 12 epochs of COCO128)', nonNegativeInteger, 100)
    .option('--distill <gain>', 'fine-tuning (and the training of every round after the first) also learns the original model\'s outputs on the same images, with this gain (0: off)', nonNegativeNumber, 0)
    .option('--threshold <t>', 'prune channels whose |gate| is below t (also the threshold of the gate statistics, default 0.1)', nonNegativeNumber)
    .option('--ratio <r>', 'remove this share of all prunable channels by the end', fraction)
    .option('--target-flops <f>', 'keep this fraction of the original GFLOPs by the end (default 0.6)', fraction)
    .option('--target-latency <f>', 'keep this fraction of the estimated CPU latency by the end, costly high-resolution channels first', fraction)
    .option('--min-channels <n>', 'never keep fewer channels per layer (or the layer width if smaller)', nonNegativeInteger, 8)
    .option('--round <n>', 'round kept channel counts up to a multiple of n: ONNX Runtime\'s channel block, 16 on AVX-512 CPUs, 8 on AVX2', positiveInteger, 1)
    .addOption(new Option('--criterion <c>', 'importance: channel gates (this method) or BatchNorm scales (network slimming)').choices(['gate', 'bn']).default('gate'))
    .addOption(
      new Option('--importance <m>', 'how the gate criterion ranks channels: |gate|, or the Taylor estimate of the loss change (gate × gradient, on training batches)')
        .choices(['magnitude', 'taylor'])
        .default('magnitude'),
    )
    .option('--hyp <yaml>', 'hyperparameters for sparsity training and fine-tuning (default hyp.scratch-low)')
    .addOption(new Option('--optimizer <name>', 'optimizer of sparsity training and fine-tuning; the gates share it (with Adam, give a --gate-lr near the lr0)').choices([...OPTIMIZERS]).default('SGD'))
    .option('--workers <n>', 'data loader worker threads', positiveInteger, 8)
    .option('--seed <n>', 'random seed', nonNegativeInteger, 0)
    .option('--calibration-images <n>', 'training images for the reconstruction of removed channels, BatchNorm statistics and Taylor importance', positiveInteger, 256)
    .option('--no-benchmark', 'skip the ONNX Runtime latency comparison')
    .option('--project <dir>', 'save to project/name', 'runs/prune')
    .option('--name <name>', 'save to project/name', 'exp')
    .option('--exist-ok', 'reuse an existing project/name folder', false)
    .option('--resume <dir>', 'continue an interrupted run (its runs/prune/expN folder)')
    .action(async (o: PruneCliOptions) => {
      if (!o.resume && (!o.weights || !o.data)) throw new Error('prune needs --weights and --data (or --resume)');
      await prunePipeline({
        weights: o.weights ? await resolveWeights(o.weights) : '',
        data: o.data ? await prepareDataset(o.data) : '',
        imgsz: o.img,
        batchSize: o.batchSize,
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
        ...(o.hyp ? { hyp: o.hyp } : {}),
        optimizer: o.optimizer,
        workers: o.workers,
        seed: o.seed,
        project: o.project,
        name: o.name,
        existOk: o.existOk,
        ...(o.resume ? { resume: o.resume } : {}),
        calibrationImages: o.calibrationImages,
        benchmark: o.benchmark,
      });
    });
}
