// What the demo makes and how long it trains, in two sizes: the full demo (about five minutes on two CPU cores)
// and a reduced one that runs every stage in a fraction of that (for tests and a quick look).
import type { Hyp } from '../train/hyp.js';
import type { OptimizerName } from '../train/optimizer.js';

/** Batch 1, a 1280×720 frame letterboxed to 640×384: the deployment case the latency is quoted for. */
export const BENCHMARK_IMGSZ = 640;
export const BENCHMARK_INPUT: [number, number] = [384, 640];

export interface DemoPlan {
  /** Synthetic dataset: training and validation images, classes, image side in pixels (also the training size). */
  images: number;
  valImages: number;
  classes: number;
  imgsz: number;
  /** Model config, trained from scratch. */
  cfg: string;
  epochs: number;
  batchSize: number;
  /** Images per optimizer step. */
  nominalBatch: number;
  optimizer: OptimizerName;
  /** Changes to hyp.scratch-low for training from scratch. */
  hyp: Partial<Hyp>;
  /** Changes to hyp.scratch-low for sparsity training and fine-tuning (the pruning pipeline trains with SGD). */
  pruneHyp: Partial<Hyp>;
  /** Pruning: rounds of sparsity training then pruning, fine-tuning, the share of GFLOPs kept. */
  rounds: number;
  epochsPerRound: number;
  finetuneEpochs: number;
  targetFlops: number;
  /** Kept channel counts rounded up to a multiple of this (CPU kernels like multiples of 8). */
  round: number;
  calibrationImages: number;
  /** Held-out images the two models detect on. */
  detectImages: number;
  /** Timed ONNX Runtime runs per model, after `warmup` untimed ones. */
  benchmarkRuns: number;
  benchmarkWarmup: number;
}

export const FULL_PLAN: DemoPlan = {
  images: 1000,
  valImages: 200,
  classes: 3,
  imgsz: 128,
  cfg: 'yolov5n',
  epochs: 15,
  batchSize: 16,
  nominalBatch: 16,
  optimizer: 'AdamW',
  hyp: { lr0: 0.003, warmup_epochs: 1, warmup_bias_lr: 0 },
  pruneHyp: {},
  rounds: 1,
  epochsPerRound: 2,
  finetuneEpochs: 3,
  targetFlops: 0.5,
  round: 8,
  calibrationImages: 128,
  detectImages: 6,
  benchmarkRuns: 30,
  benchmarkWarmup: 5,
};

export const FAST_PLAN: DemoPlan = {
  images: 256,
  valImages: 32,
  classes: 1,
  imgsz: 64,
  cfg: 'yolov5n',
  epochs: 25,
  batchSize: 16,
  nominalBatch: 16,
  optimizer: 'AdamW',
  hyp: { lr0: 0.003, warmup_epochs: 1, warmup_bias_lr: 0 },
  pruneHyp: {},
  rounds: 1,
  epochsPerRound: 1,
  finetuneEpochs: 2,
  targetFlops: 0.5,
  round: 8,
  calibrationImages: 16,
  detectImages: 4,
  benchmarkRuns: 5,
  benchmarkWarmup: 1,
};
