// Choosing the channels to keep: by a threshold on importance, a global share of channels, or a FLOPs budget.
// Every plan respects a floor of channels per group and can round kept counts to a multiple for faster kernels.
import { nn } from '../torch/index.js';
import { convFlops, convOutputSizes } from '../model/summary.js';
import type { DetectionModel } from '../model/yolo.js';
import type { ChannelGroup, DependencyGraph } from './dependency.js';

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
  if (!(ratio >= 0 && ratio < 1)) throw new RangeError(`--ratio must be in [0, 1), got ${ratio}`);
  const all = [...importance.values()].flatMap((s) => Array.from(s)).sort((a, b) => a - b);
  const cut = Math.floor(all.length * ratio);
  return planByThreshold(importance, cut === 0 ? -Infinity : all[cut]!, options);
}

/** FLOPs of the model as the plan would leave it, for one image of size imgsz. */
export function planFlops(graph: DependencyGraph, plan: PrunePlan, pixels: Map<nn.Conv2d, number>): number {
  const kept = (group: ChannelGroup) => plan.keep.get(group)?.length ?? group.channels;
  let flops = 0;
  for (const consumer of graph.consumers) {
    const inChannels = consumer.segments.reduce((n, s) => n + (plan.keep.get(s.group)?.length ?? s.channels), 0);
    const outChannels = consumer.block ? kept(graph.groupOf.get(consumer.block)!) : consumer.conv.outChannels;
    flops += convFlops(consumer.conv, inChannels, outChannels, pixels.get(consumer.conv) ?? 0);
  }
  return flops;
}

/**
 * The least pruning that brings FLOPs to at most `fraction` of the current model's: the globally least important
 * channels, as many as needed, found by bisection over their count.
 */
export function planByFlops(
  model: DetectionModel,
  graph: DependencyGraph,
  importance: Importance,
  fraction: number,
  options: PlanOptions & { imgsz?: number } = {},
): PrunePlan {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`--target-flops must be in (0, 1], got ${fraction}`);
  const pixels = convOutputSizes(model, options.imgsz ?? 640);
  const full = planFlops(graph, { keep: new Map() }, pixels);
  const budget = full * fraction;
  // Every prunable channel, least important first. Ties (e.g. gates still all at 1) are broken by group and index,
  // so removing the first k channels is a finer step than any threshold on tied values.
  const order = [...importance].flatMap(([group, scores]) => Array.from(scores, (score, channel) => ({ group, channel, score })));
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
  const minimum = planFlops(graph, strongest, pixels);
  if (minimum > budget) {
    throw new Error(
      `cannot reach ${(fraction * 100).toFixed(0)}% of the GFLOPs: the channel floor (--min-channels ${options.minChannels ?? 8}` +
        `${options.round && options.round > 1 ? `, --round ${options.round}` : ''}) keeps at least ${((minimum / full) * 100).toFixed(1)}%`,
    );
  }
  let [lo, hi] = [0, order.length]; // the plan removing hi channels meets the budget; find the smallest such count
  if (planFlops(graph, at(0), pixels) <= budget) return at(0);
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (planFlops(graph, at(mid), pixels) <= budget) hi = mid;
    else lo = mid;
  }
  return at(hi);
}
