// The fade: once sparsity training has ranked the channels, the ones the round's plan will remove have their gates
// capped, and the cap falls linearly to zero over the round's last epochs. The network learns to do without those
// channels while they go (the teacher and the task both pull on what is left), so the pruning step that follows
// removes channels that contribute exactly nothing, instead of cutting live ones at once. A penalty alone could not
// be trusted with this on Highway: below a narrow band of λ no gate reached zero in three epochs (every pruning
// step cut live channels), above it a sixth of the gates collapsed within one epoch and the model with them.
import { noGrad, tensor, tidy, type Tensor } from '../torch/index.js';
import type { DetectionModel } from '../model/yolo.js';
import type { DependencyGraph } from './dependency.js';
import type { PrunePlan } from './plan.js';
import { gateLayers } from './gates.js';
import { number } from '../util/check.js';

/** Channel indices that fade out, per gate layer (the Conv's module name). */
export type FadingChannels = Record<string, number[]>;

/** The channels a plan removes, named by the gate layers that carry them (every member of a group). */
export function fadingChannels(plan: PrunePlan): FadingChannels {
  const result: FadingChannels = {};
  for (const [group, kept] of plan.keep) {
    const keep = new Set(kept);
    const removed = Array.from({ length: group.channels }, (_, i) => i).filter((i) => !keep.has(i));
    if (removed.length === 0) continue;
    for (const { name } of group.members) result[name] = removed;
  }
  return result;
}

/** The plan that removes exactly the faded channels, for the model's dependency graph. */
export function planFromFading(graph: DependencyGraph, channels: FadingChannels): PrunePlan {
  const keep: PrunePlan['keep'] = new Map();
  for (const group of graph.groups) {
    const removed = group.members.map(({ name }) => channels[name]).find((list) => list !== undefined);
    if (!removed) continue;
    if (group.fixed) throw new Error(`the fade names channels of ${group.members[0]!.name}, whose channels are fixed`);
    const gone = new Set(removed);
    keep.set(group, Array.from({ length: group.channels }, (_, i) => i).filter((i) => !gone.has(i)));
  }
  return { keep };
}

/** A bound above any gate: kept channels are never capped. */
const UNBOUNDED = 1e30;

/** Caps the gates of the fading channels of one or more models with the same layers (the trained model and its EMA). */
export class GateFade {
  /** Per gate layer: 1 for a fading channel, else 0; and UNBOUNDED for a kept channel, else 0. */
  private readonly bounds = new Map<string, { fading: Tensor; kept: Tensor }>();

  constructor(
    readonly channels: FadingChannels,
    model: DetectionModel,
  ) {
    const widths = new Map(gateLayers(model).map(({ name, gate }) => [name, gate.weight.numel]));
    for (const [name, removed] of Object.entries(channels)) {
      const width = widths.get(name);
      if (width === undefined) throw new Error(`the fade names ${name}, which has no gate in this model`);
      if (removed.some((i) => !(Number.isInteger(i) && i >= 0 && i < width))) throw new Error(`the fade names channels outside ${name}'s ${width}`);
      const fading = new Float32Array(width);
      for (const i of removed) fading[i] = 1;
      this.bounds.set(name, { fading: tensor(fading), kept: tensor(fading.map((v) => (v ? 0 : UNBOUNDED))) });
    }
  }

  /** How many channels fade, over how many gate layers. */
  get size(): { channels: number; layers: number } {
    const lists = Object.values(this.channels);
    return { channels: lists.reduce((n, list) => n + list.length, 0), layers: lists.length };
  }

  /** |gate| ≤ cap for every fading channel, in place. */
  apply(cap: number, models: DetectionModel[]): void {
    number('fade cap', cap, { min: 0, max: 1 });
    noGrad(() =>
      tidy(() => {
        for (const model of models) {
          for (const { name, gate } of gateLayers(model)) {
            const bound = this.bounds.get(name);
            if (!bound) continue;
            const weight = gate.weight;
            const limit = bound.fading.mul(cap).add(bound.kept);
            weight.copy_(weight.minimum(limit).maximum(limit.neg()));
          }
        }
      }),
    );
  }

  dispose(): void {
    for (const { fading, kept } of this.bounds.values()) {
      fading.dispose();
      kept.dispose();
    }
    this.bounds.clear();
  }
}

/** The cap at a step: 1 until the fade starts, then falling linearly to 0 at its last step. */
export function fadeCap(step: number, start: number, end: number): number {
  if (step < start) return 1;
  if (end <= start) return 0;
  return Math.max(0, 1 - (step - start + 1) / (end - start));
}
