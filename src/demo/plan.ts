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
  /** Sparsity strength λ; absent: the pipeline's default, adapted towards its target sparsity. */
  sparsity?: number;
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

// Sizes chosen by measurement: a training step of 16 images at 96 px costs about 0.24 s of one core (forward,
// backward, optimizer, EMA, loader), so about 900 steps of training and 300 of pruning fit the five minutes.
// AdamW with higher objectness and class gains learned fastest of the recipes tried in so few steps.
const FROM_SCRATCH: Partial<Hyp> = { lr0: 0.003, warmup_epochs: 1, warmup_bias_lr: 0, obj: 3, cls: 3 };

export const FULL_PLAN: DemoPlan = {
  images: 1000,
  valImages: 200,
  classes: 3,
  imgsz: 96,
  cfg: 'yolov5n',
  epochs: 14,
  batchSize: 16,
  nominalBatch: 16,
  optimizer: 'AdamW',
  hyp: FROM_SCRATCH,
  // The same loss balance as training; otherwise hyp.scratch-low's SGD recipe.
  pruneHyp: { obj: 3, cls: 3 },
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

// One class at 64 px: the easiest task the generator makes, so that a few hundred steps give a model that
// finds objects, and the pruned one still does after a short fine-tuning at a higher learning rate.
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
  hyp: FROM_SCRATCH,
  pruneHyp: { obj: 3, cls: 3, lr0: 0.02, warmup_bias_lr: 0.02, warmup_momentum: 0.937 },
  rounds: 1,
  // A strong λ moves the gates within these few steps (the default barely does), so pruning removes channels
  // the model has already learned to do without; fine-tuning past the 100-step warmup then recovers most of the mAP.
  sparsity: 0.02,
  epochsPerRound: 3,
  finetuneEpochs: 10,
  targetFlops: 0.5,
  round: 8,
  calibrationImages: 32,
  detectImages: 6,
  benchmarkRuns: 5,
  benchmarkWarmup: 1,
};
