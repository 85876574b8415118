// Surgery: builds the narrower model a plan describes — a config with explicit channel counts plus sliced weights.
// Removed input channels that carried a (near-)constant value are folded into the consumer's bias (or its
// BatchNorm running mean), so removing them is exact on that constant.
import { nn, noGrad, tensor, tidy, type Tensor } from '../torch/index.js';
import { Conv } from '../model/common.js';
import { cloneConfig } from '../model/config.js';
import { DetectionModel } from '../model/yolo.js';
import type { ChannelConsumer, ChannelGroup, DependencyGraph } from './dependency.js';
import type { PrunePlan } from './plan.js';

export interface SurgeryOptions {
  /** Mean of every input channel of each convolution (original indexing), from calibration batches. */
  inputMeans?: Map<nn.Conv2d, Float32Array>;
}

function keptOf(plan: PrunePlan, group: ChannelGroup): number[] {
  return plan.keep.get(group) ?? Array.from({ length: group.channels }, (_, i) => i);
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
        const weight = consumer.conv.weight;
        // Channels removed from the input contribute Σ_c mean_c · Σ_k W[:, c, k] to every output: keep that constant.
        const means = options.inputMeans?.get(consumer.conv);
        let delta: Tensor | null = null;
        if (means && removed.length) {
          const removedMeans = tensor(removed.map((c) => means[c]!), [1, removed.length]);
          delta = weight.indexSelect(1, indexTensor(removed)).sum([2, 3]).mul(removedMeans).sum(1);
        }
        const prefix = consumer.name;
        if (consumer.block) {
          const group = graph.groupOf.get(consumer.block)!;
          const keepOut = indexTensor(keptOf(plan, group));
          const convName = `${prefix}.conv`;
          result.set(`${convName}.weight`, weight.indexSelect(0, keepOut).indexSelect(1, keepIn));
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
          result.set(`${prefix}.weight`, weight.indexSelect(1, keepIn));
          if (consumer.conv.hasBias) {
            const bias = consumer.conv.bias!;
            result.set(`${prefix}.bias`, delta ? bias.add(delta) : bias);
          }
        }
      }
      return result;
    }),
  );
  try {
    pruned.loadStateDict(state);
  } catch (error) {
    throw new Error(`pruning produced weights that do not fit the pruned architecture: ${(error as Error).message}`);
  }
  const original = model.stateDict();
  noGrad(() => state.forEach((t, name) => t !== original.get(name) && t.dispose()));
  return pruned.train(model.training);
}
