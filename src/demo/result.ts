// What a demo run gives back: the figures of each model and the run's stages, read by the summary table.
import type { SynthDataset } from '../data/synth.js';
import type { RuntimeBenchmark } from '../infer/benchmark.js';
import type { DetectionRun } from './detections.js';
import type { DemoPlan } from './plan.js';

export interface DemoModel {
  parameters: number;
  /** At the demo's image size (as the pruning report gives them). */
  gflops: number;
  /** At the benchmark input, 640×384. */
  benchmarkGflops: number;
  map50: number;
  map: number;
  onnx: string;
  latency: RuntimeBenchmark;
  detections: DetectionRun;
}

/** The pruned model quantized to INT8: the same network, so parameters and GFLOPs are the pruned model's. */
export interface DemoInt8 {
  map50: number;
  map: number;
  onnx: string;
  latency: RuntimeBenchmark;
}

export interface StageTime {
  stage: string;
  seconds: number;
}

export interface DemoResult {
  out: string;
  plan: DemoPlan;
  dataset: SynthDataset;
  /** The trained (unpruned) checkpoint. */
  trainWeights: string;
  train: { map50: number; map: number };
  prune: { saveDir: string; report: string; reportJson: string; plot: string; gates: string[]; weights: string };
  original: DemoModel;
  int8: DemoInt8;
  pruned: DemoModel;
  stages: StageTime[];
  seconds: number;
}
