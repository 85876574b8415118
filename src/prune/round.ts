// One pruning step: importance → plan → surgery with least-squares reconstruction → BatchNorm recalibration.
import type { DetectionModel } from '../model/yolo.js';
import { gflops } from '../model/summary.js';
import { Conv } from '../model/common.js';
import { analyzeDependencies, type DependencyGraph } from './dependency.js';
import { groupImportance, keptLayerChannels, keptOf, planByBudget, planByRatio, planByThreshold, type Criterion, type Importance, type PlanOptions, type PrunePlan } from './plan.js';
import { applyPlan } from './surgery.js';
import { measureBatchNormInputs, measureInputStatistics, shiftBatchNormStatistics } from './calibrate.js';
import type { CalibrationSource } from './calibration-data.js';

/** How much to prune in one step: exactly one of these (fractions of the model entering the step). */
export type PruneTarget = { threshold: number } | { ratio: number } | { flopsFraction: number } | { latencyFraction: number };

export interface PruneStepOptions {
  criterion: Criterion;
  target: PruneTarget;
  minChannels?: number;
  round?: number;
  imgsz?: number;
  calibration: CalibrationSource;
  /** Images for the input statistics of the reconstruction and for the BatchNorm statistics (default 256). */
  calibImages?: number;
  /** The plan itself, made before this step (a fade's): then importance and target only describe it. */
  plan?: (graph: DependencyGraph) => PrunePlan;
  /** Channel importance per group of the model's graph; by default the criterion's coefficients. */
  importance?: (graph: DependencyGraph) => Importance | Promise<Importance>;
}

export interface LayerChannels {
  name: string;
  before: number;
  after: number;
}

export interface PruneStepResult {
  model: DetectionModel;
  plan: PrunePlan;
  channels: LayerChannels[];
  /** Per layer, which of its output channels the pruned model kept (see keptLayerChannels). */
  keptChannels: Map<number, number[]>;
  parameters: { before: number; after: number };
  gflops: { before: number; after: number };
}

/** Output channels of every Conv block, by module name. */
export function convChannels(model: DetectionModel): Map<string, number> {
  return new Map(
    [...model.namedModules()].filter((e): e is [string, Conv] => e[1] instanceof Conv).map(([name, conv]) => [name, conv.outChannels]),
  );
}

/** The channels a target keeps, given each group's importance. */
export function planFor(model: DetectionModel, graph: DependencyGraph, importance: Importance, target: PruneTarget, options: PlanOptions & { imgsz: number }): PrunePlan {
  const { imgsz, ...planOptions } = options;
  if ('threshold' in target) return planByThreshold(importance, target.threshold, planOptions);
  if ('ratio' in target) return planByRatio(importance, target.ratio, planOptions);
  if ('flopsFraction' in target) return planByBudget(model, graph, importance, target.flopsFraction, { ...planOptions, imgsz });
  return planByBudget(model, graph, importance, target.latencyFraction, { ...planOptions, imgsz, measure: 'latency' });
}

export async function pruneStep(model: DetectionModel, options: PruneStepOptions): Promise<PruneStepResult> {
  const imgsz = options.imgsz ?? 640;
  const graph = analyzeDependencies(model);
  const plan = options.plan
    ? options.plan(graph)
    : planFor(model, graph, options.importance ? await options.importance(graph) : groupImportance(graph, options.criterion), options.target, { minChannels: options.minChannels ?? 8, round: options.round ?? 1, imgsz });
  const images = options.calibImages ?? 256;
  const inputStatistics = await measureInputStatistics(model, options.calibration(), images);
  const statsBefore = await measureBatchNormInputs(model, options.calibration(), images);
  const pruned = applyPlan(model, graph, plan, { inputStatistics });
  const statsAfter = await measureBatchNormInputs(pruned, options.calibration(), images);
  const blocks = new Map([...model.namedModules()].filter((e): e is [string, Conv] => e[1] instanceof Conv));
  shiftBatchNormStatistics(model, statsBefore, pruned, statsAfter, (bnName) => {
    const block = blocks.get(bnName.replace(/\.bn$/, ''))!;
    const group = graph.groupOf.get(block)!;
    return keptOf(plan, group);
  });
  const before = convChannels(model);
  const after = convChannels(pruned);
  return {
    model: pruned,
    plan,
    channels: [...before].map(([name, channels]) => ({ name, before: channels, after: after.get(name) ?? channels })),
    keptChannels: keptLayerChannels(graph, plan),
    parameters: { before: model.numParameters(), after: pruned.numParameters() },
    gflops: { before: gflops(model, imgsz), after: gflops(pruned, imgsz) },
  };
}
