// Gate insertion: a per-channel coefficient after the activation of every prunable Conv.
import { Conv, type ChannelGate } from '../model/common.js';
import type { DetectionModel } from '../model/yolo.js';
import { analyzeDependencies } from './dependency.js';

export interface GateLayer {
  name: string;
  conv: Conv;
  gate: ChannelGate;
}

/**
 * Adds a gate (all ones, so the output is unchanged) to every Conv whose channels can be pruned, and returns all
 * gate layers in model order. Convs that already have a gate keep it.
 */
export function insertGates(model: DetectionModel): GateLayer[] {
  const graph = analyzeDependencies(model);
  for (const group of graph.groups) {
    if (group.fixed) continue;
    for (const { conv } of group.members) if (!conv.gate) conv.addGate();
  }
  return gateLayers(model);
}

/** The gates a model carries, in model order. */
export function gateLayers(model: DetectionModel): GateLayer[] {
  return [...model.namedModules()]
    .filter((entry): entry is [string, Conv] => entry[1] instanceof Conv && entry[1].gate !== null)
    .map(([name, conv]) => ({ name, conv, gate: conv.gate! }));
}
