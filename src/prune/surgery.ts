// Surgery: builds the narrower model a plan describes — a config with explicit channel counts plus sliced weights.
// What removed input channels carried is kept where calibration statistics allow: their least-squares
// reconstruction from the kept channels moves into the consumer's kept weights, and the remaining constant into
// its bias (or its BatchNorm running mean), so removing a constant channel, or one that copies kept ones, is exact.
import { nn, noGrad, tensor, tidy, type Tensor } from '../torch/index.js';
import { Conv } from '../model/common.js';
import { cloneConfig } from '../model/config.js';
import { DetectionModel } from '../model/yolo.js';
import type { ChannelConsumer, DependencyGraph } from './dependency.js';
import { keptOf, type PrunePlan } from './plan.js';
import { reconstruct, type InputStatistics } from './reconstruct.js';

export interface SurgeryOptions {
  /** Statistics of every convolution's input channels (original indexing), from calibration batches. */
  inputStatistics?: Map<nn.Conv2d, InputStatistics>;
}

/** The consumer's kept input channels, and the removed ones, in its original input indexing. */
function inputChannels(plan: PrunePlan, consumer: ChannelConsumer): { kept: number[]; removed: number[] } {
  const kept: number[] = [];
  const removed: number[] = [];
  let offset = 0;
  for (const { group, channels } of consumer.segments) {
    const keep = new Set(keptOf(plan, group));
    for (let c = 0; c < channels; c++) (keep.has(c) ? kept : removed).push(offset + c);
    offset += channels;
  }
  return { kept, removed };
}

/** Splits `model.<layer>[.<path>]` into the layer index and the path the config's `channels` map uses. */
function layerPath(name: string): { layer: string; path: string } {
  const match = /^model\.(\d+)(?:\.(.+))?$/.exec(name);
  if (!match) throw new Error(`unexpected module name '${name}' for a prunable convolution`);
  return { layer: match[1]!, path: match[2] ?? '' };
}

const indexTensor = (indices: number[]): Tensor => tensor(indices, [indices.length], { dtype: 'int64' });

/**
 * Applies `plan` to `model` (whose dependency graph is `graph`) and returns the pruned model. The original is
 * not modified. Gates stay where they were.
 */
export function applyPlan(model: DetectionModel, graph: DependencyGraph, plan: PrunePlan, options: SurgeryOptions = {}): DetectionModel {
  const config = cloneConfig(model.architecture());
  config.channels = { ...(config.channels ?? {}) };
  for (const [group, kept] of plan.keep) {
    for (const { name } of group.members) {
      const { layer, path } = layerPath(name);
      config.channels[layer] = { ...(config.channels[layer] ?? {}), [path]: kept.length };
    }
  }
  const pruned = new DetectionModel(config, { names: [...model.names] });
  const modules = new Map(pruned.namedModules());
  for (const [name, m] of model.namedModules()) {
    if (m instanceof Conv && m.gate) (modules.get(name) as Conv).addGate();
  }

  const state = noGrad(() =>
    tidy(() => {
      const result = new Map(model.stateDict());
      for (const consumer of graph.consumers) {
        const { kept, removed } = inputChannels(plan, consumer);
        const keepIn = indexTensor(kept);
        let weight = consumer.conv.weight;
        // Removed channel r ≈ Σ_k A[r, k]·x_k + b[r]: its weights W_r move onto the kept channels through A, and
        // Σ_r b[r]·ΣW_r is a constant added to every output.
        const stats = options.inputStatistics?.get(consumer.conv);
        let delta: Tensor | null = null;
        if (stats && removed.length) {
          const { a, b } = reconstruct(stats, kept, removed);
          const removedWeight = weight.indexSelect(1, indexTensor(removed));
          delta = removedWeight.sum([2, 3]).mul(tensor(Float32Array.from(b), [1, removed.length])).sum(1);
          const moved = removedWeight.permute([0, 2, 3, 1]).matmul(tensor(Float32Array.from(a), [removed.length, kept.length])).permute([0, 3, 1, 2]);
          weight = weight.indexSelect(1, keepIn).add(moved);
        } else {
          weight = weight.indexSelect(1, keepIn);
        }
        const prefix = consumer.name;
        if (consumer.block) {
          const group = graph.groupOf.get(consumer.block)!;
          const keepOut = indexTensor(keptOf(plan, group));
          const convName = `${prefix}.conv`;
          result.set(`${convName}.weight`, weight.indexSelect(0, keepOut));
          const bn = consumer.block.bn;
          if (bn) {
            for (const key of ['weight', 'bias', 'running_var']) result.set(`${prefix}.bn.${key}`, result.get(`${prefix}.bn.${key}`)!.indexSelect(0, keepOut));
            const mean = bn.runningMean;
            result.set(`${prefix}.bn.running_mean`, (delta ? mean.sub(delta) : mean).indexSelect(0, keepOut));
          }
          if (consumer.conv.hasBias) {
            const bias = consumer.conv.bias!;
            result.set(`${convName}.bias`, (delta && !bn ? bias.add(delta) : bias).indexSelect(0, keepOut));
          }
          if (consumer.block.gate) result.set(`${prefix}.gate.weight`, consumer.block.gate.weight.indexSelect(0, keepOut));
        } else {
          result.set(`${prefix}.weight`, weight);
          if (consumer.conv.hasBias) {
            const bias = consumer.conv.bias!;
            result.set(`${prefix}.bias`, delta ? bias.add(delta) : bias);
          }
        }
      }
      return result;
    }),
  );
  const original = model.stateDict();
  const made = [...state].filter(([name, t]) => t !== original.get(name));
  try {
    const broken = made.find(([, t]) => !(t.data() as Float32Array).every(Number.isFinite));
    if (broken) throw new Error(`pruning produced non-finite values in ${broken[0]}: the calibration statistics are degenerate (too few or constant calibration images?)`);
    try {
      pruned.loadStateDict(state);
    } catch (error) {
      throw new Error(`pruning produced weights that do not fit the pruned architecture: ${(error as Error).message}`);
    }
  } finally {
    noGrad(() => made.forEach(([, t]) => t.dispose()));
  }
  return pruned.train(model.training);
}
