// Choosing the channels to keep: by a threshold on importance, a global share of channels, or a budget of FLOPs or
// estimated CPU latency.
// Every plan respects a floor of channels per group and can round kept counts to a multiple for faster kernels.
import { nn } from '../torch/index.js';
import { convFlops, convLatencyCost, convOutputSizes } from '../model/summary.js';
import type { DetectionModel } from '../model/yolo.js';
import type { ChannelGroup, DependencyGraph } from './dependency.js';
import { number } from '../util/check.js';

export type Criterion = 'gate' | 'bn';

/** Per group, one importance per channel: the largest |coefficient| over the group's members. */
export type Importance = Map<ChannelGroup, Float32Array>;

export function groupImportance(graph: DependencyGraph, criterion: Criterion): Importance {
  const result: Importance = new Map();
  for (const group of graph.groups) {
    if (group.fixed) continue;
    const scores = new Float32Array(group.channels);
    for (const { name, conv } of group.members) {
      const source = criterion === 'gate' ? conv.gate?.weight : conv.bn?.weight;
      if (!source) {
        throw new Error(
          criterion === 'gate'
            ? `${name} has no gate: insert gates (sparsity training) before pruning by gate, or use --criterion bn`
            : `${name} has no BatchNorm (fused model?): pruning by BN scale needs an unfused model`,
        );
      }
      const values = source.data() as Float32Array;
      values.forEach((v, i) => (scores[i] = Math.max(scores[i]!, Math.abs(v))));
    }
    result.set(group, scores);
  }
  return result;
}

/** The channels a plan keeps of a group, in the group's indexing (all of them if the plan leaves it whole). */
export function keptOf(plan: PrunePlan, group: ChannelGroup): number[] {
  return plan.keep.get(group) ?? Array.from({ length: group.channels }, (_, i) => i);
}

/**
 * For each layer's output, the channels a plan keeps, in the unpruned layer's indexing: the pruned model's channel
 * i of that layer is channel result[i] of the model the plan was made for.
 */
export function keptLayerChannels(graph: DependencyGraph, plan: PrunePlan): Map<number, number[]> {
  const result = new Map<number, number[]>();
  for (const [layer, segments] of graph.layerOutputs) {
    const kept: number[] = [];
    let offset = 0;
    for (const { group, channels } of segments) {
      for (const c of keptOf(plan, group)) kept.push(offset + c);
      offset += channels;
    }
    result.set(layer, kept);
  }
  return result;
}

export interface PlanOptions {
  /** Floor of channels per group (default 8, or the group's width if smaller). 0 allows emptying, which is an error. */
  minChannels?: number;
  /** Round kept counts up to a multiple of this (default 1). */
  round?: number;
}

export interface PrunePlan {
  /** Channel indices kept per prunable group, ascending. Groups not listed keep everything. */
  keep: Map<ChannelGroup, number[]>;
}

function describeGroup(group: ChannelGroup): string {
  return `group ${group.id} (${group.members.map((m) => m.name).join(', ')}; ${group.channels} channels)`;
}

/**
 * The channels one group keeps: those not `removed`, raised to the floor and rounded up to the multiple by taking
 * back the most important removed ones.
 */
function keepFor(group: ChannelGroup, scores: Float32Array, removed: (channel: number) => boolean, options: PlanOptions): number[] {
  const order = Array.from(scores.keys()).sort(
    (a, b) => Number(removed(a)) - Number(removed(b)) || scores[b]! - scores[a]! || a - b,
  );
  let count = order.filter((i) => !removed(i)).length;
  const floor = Math.min(options.minChannels ?? 8, group.channels);
  count = Math.max(count, floor);
  const multiple = options.round ?? 1;
  if (multiple > 1) count = Math.min(group.channels, Math.ceil(count / multiple) * multiple);
  if (count === 0) throw new Error(`the plan would remove every channel of ${describeGroup(group)}; raise --min-channels or lower the threshold`);
  return order.slice(0, count).sort((a, b) => a - b);
}

export function planByThreshold(importance: Importance, threshold: number, options: PlanOptions = {}): PrunePlan {
  const keep = new Map<ChannelGroup, number[]>();
  for (const [group, scores] of importance) keep.set(group, keepFor(group, scores, (c) => scores[c]! < threshold, options));
  return { keep };
}

/** Removes `ratio` of all prunable channels (ties aside), the globally least important first. */
export function planByRatio(importance: Importance, ratio: number, options: PlanOptions = {}): PrunePlan {
  number('--ratio', ratio, { min: 0, max: 1, maxExclusive: true });
  const all = [...importance.values()].flatMap((s) => Array.from(s)).sort((a, b) => a - b);
  const cut = Math.floor(all.length * ratio);
  return planByThreshold(importance, cut === 0 ? -Infinity : all[cut]!, options);
}

/** What a budget counts: the official GFLOPs, or the estimated CPU latency (see convLatencyCost). */
export type CostMeasure = 'flops' | 'latency';

const CONV_COST = { flops: convFlops, latency: convLatencyCost } as const;

/** The cost (FLOPs, or estimated latency) of the model as the plan would leave it, for one image. */
export function planCost(graph: DependencyGraph, plan: PrunePlan, pixels: Map<nn.Conv2d, number>, measure: CostMeasure = 'flops'): number {
  const kept = (group: ChannelGroup) => plan.keep.get(group)?.length ?? group.channels;
  let cost = 0;
  for (const consumer of graph.consumers) {
    const inChannels = consumer.segments.reduce((n, s) => n + (plan.keep.get(s.group)?.length ?? s.channels), 0);
    const outChannels = consumer.block ? kept(graph.groupOf.get(consumer.block)!) : consumer.conv.outChannels;
    cost += CONV_COST[measure](consumer.conv, inChannels, outChannels, pixels.get(consumer.conv) ?? 0);
  }
  return cost;
}

/**
 * What one channel of each group costs, relative to the average channel: the saving of removing one channel of
 * the group alone. A latency budget removes, among channels of similar importance, the costly ones first
 * (importance per unit of cost, the greedy answer to the knapsack).
 */
function relativeChannelCost(graph: DependencyGraph, importance: Importance, pixels: Map<nn.Conv2d, number>, measure: CostMeasure): Map<ChannelGroup, number> {
  const full = planCost(graph, { keep: new Map() }, pixels, measure);
  const saving = new Map<ChannelGroup, number>();
  for (const group of importance.keys()) {
    const oneLess = { keep: new Map([[group, Array.from({ length: group.channels - 1 }, (_, i) => i)]]) };
    saving.set(group, full - planCost(graph, oneLess, pixels, measure));
  }
  const mean = [...saving.values()].reduce((a, b) => a + b, 0) / Math.max(1, saving.size);
  return new Map([...saving].map(([group, v]) => [group, mean > 0 ? Math.max(v, 1e-9) / mean : 1]));
}

export interface BudgetOptions extends PlanOptions {
  imgsz?: number;
  /** What the budget counts (default flops). */
  measure?: CostMeasure;
}

/**
 * The least pruning that brings the cost (GFLOPs, or estimated CPU latency) to at most `fraction` of the current
 * model's: channels in order of importance — per unit of cost for a latency budget — as many as needed, found by
 * bisection over their count.
 */
export function planByBudget(model: DetectionModel, graph: DependencyGraph, importance: Importance, fraction: number, options: BudgetOptions = {}): PrunePlan {
  const measure = options.measure ?? 'flops';
  const flag = measure === 'flops' ? '--target-flops' : '--target-latency';
  number(flag, fraction, { min: 0, minExclusive: true, max: 1 });
  const pixels = convOutputSizes(model, options.imgsz ?? 640);
  const cost = (plan: PrunePlan) => planCost(graph, plan, pixels, measure);
  const full = cost({ keep: new Map() });
  const budget = full * fraction;
  const weight = measure === 'latency' ? relativeChannelCost(graph, importance, pixels, measure) : null;
  // Every prunable channel, least important first. Ties (e.g. gates still all at 1) are broken by group and index,
  // so removing the first k channels is a finer step than any threshold on tied values.
  const order = [...importance].flatMap(([group, scores]) =>
    Array.from(scores, (score, channel) => ({ group, channel, score: weight ? score / weight.get(group)! : score })),
  );
  order.sort((a, b) => a.score - b.score || a.group.id - b.group.id || a.channel - b.channel);
  const at = (k: number): PrunePlan => {
    const removed = new Map<ChannelGroup, Set<number>>();
    for (const { group, channel } of order.slice(0, k)) {
      let set = removed.get(group);
      if (!set) removed.set(group, (set = new Set()));
      set.add(channel);
    }
    const keep = new Map<ChannelGroup, number[]>();
    for (const [group, scores] of importance) keep.set(group, keepFor(group, scores, (c) => removed.get(group)?.has(c) ?? false, options));
    return { keep };
  };
  const strongest = at(order.length);
  const minimum = cost(strongest);
  if (minimum > budget) {
    throw new Error(
      `cannot reach ${(fraction * 100).toFixed(0)}% of the ${measure === 'flops' ? 'GFLOPs' : 'estimated latency'}: the channel floor (--min-channels ${options.minChannels ?? 8}` +
        `${options.round && options.round > 1 ? `, --round ${options.round}` : ''}) keeps at least ${((minimum / full) * 100).toFixed(1)}%`,
    );
  }
  let [lo, hi] = [0, order.length]; // the plan removing hi channels meets the budget; find the smallest such count
  if (cost(at(0)) <= budget) return at(0);
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (cost(at(mid)) <= budget) hi = mid;
    else lo = mid;
  }
  return at(hi);
}
