// Channel dependency analysis: which convolution outputs must keep the same channel set, and how every
// convolution's input channels map onto those sets. Built by tracing the model's channel flow, so any config
// made of traceable blocks (a custom YAML included) is analysed the same way.
import { nn } from '../torch/index.js';
import { Conv } from '../model/common.js';
import type { ChannelTracer } from '../model/trace.js';
import type { DetectionModel } from '../model/yolo.js';

/** A set of channels produced together: one Conv's output, or several joined by residual adds (after union). */
class Space {
  parent: Space = this;
  fixed = false;
  readonly producers: Conv[] = [];
  constructor(
    readonly id: number,
    readonly channels: number,
  ) {}
  root(): Space {
    let s: Space = this;
    while (s.parent !== s) s = s.parent = s.parent.parent;
    return s;
  }
}

/** A tensor's channels as consecutive segments, each a whole space (concatenation makes several). */
type Layout = Space[];

export interface ChannelGroup {
  id: number;
  channels: number;
  /** The Conv blocks whose outputs form this channel set (more than one when joined by residual adds). */
  members: { name: string; conv: Conv }[];
  /** Channels that cannot be removed (network input, grouped convolutions, unmatched adds). */
  fixed: boolean;
}

export interface ChannelConsumer {
  name: string;
  /** The convolution reading the channels. */
  conv: nn.Conv2d;
  /** The Conv block it belongs to (null for Detect heads, whose outputs are fixed). */
  block: Conv | null;
  /** Its input channels as segments of groups, in order. */
  segments: Segment[];
}

export interface DependencyGraph {
  groups: ChannelGroup[];
  consumers: ChannelConsumer[];
  /** The group each Conv block's output belongs to. */
  groupOf: Map<Conv, ChannelGroup>;
  /** Module name of every Conv block. */
  nameOf: Map<nn.Module, string>;
  /** Each layer's output channels as segments of groups, by layer index (Detect's outputs are fixed: not listed). */
  layerOutputs: Map<number, Segment[]>;
}

/** Consecutive channels of a tensor that belong to one group. */
export interface Segment {
  group: ChannelGroup;
  channels: number;
}

class Builder implements ChannelTracer<Layout> {
  readonly spaces: Space[] = [];
  readonly reads: { conv: nn.Conv2d; block: Conv | null; layout: Layout }[] = [];
  readonly spaceOf = new Map<Conv, Space>();

  space(channels: number): Space {
    const s = new Space(this.spaces.length, channels);
    this.spaces.push(s);
    return s;
  }
  input(channels: number): Layout {
    const s = this.space(channels);
    s.fixed = true;
    return [s];
  }
  conv(block: nn.Module & { conv: nn.Conv2d }, input: Layout): Layout {
    if (!(block instanceof Conv)) throw new Error(`channel analysis expects Conv blocks, got ${block.constructor.name}`);
    const out = this.space(block.outChannels);
    out.producers.push(block);
    this.spaceOf.set(block, out);
    if (block.conv.groups !== 1) {
      // A grouped convolution ties input and output channels group by group: keep both whole.
      input.forEach((s) => (s.fixed = true));
      out.fixed = true;
    }
    this.reads.push({ conv: block.conv, block, layout: input });
    return [out];
  }
  head(conv: nn.Conv2d, input: Layout): void {
    if (conv.groups !== 1) input.forEach((s) => (s.fixed = true));
    this.reads.push({ conv, block: null, layout: input });
  }
  add(a: Layout, b: Layout): Layout {
    const sameShape = a.length === b.length && a.every((s, i) => s.channels === b[i]!.channels);
    if (!sameShape) {
      // Segment boundaries differ: the channel correspondence is not one set per segment, so keep them whole.
      [...a, ...b].forEach((s) => (s.fixed = true));
      return a;
    }
    a.forEach((s, i) => union(s, b[i]!));
    return a;
  }
  cat(inputs: Layout[]): Layout {
    return inputs.flat();
  }
  same(input: Layout): Layout {
    return input;
  }
}

function union(a: Space, b: Space): void {
  const [ra, rb] = [a.root(), b.root()];
  if (ra === rb) return;
  rb.parent = ra;
  ra.fixed ||= rb.fixed;
  ra.producers.push(...rb.producers);
}

export function analyzeDependencies(model: DetectionModel): DependencyGraph {
  const builder = new Builder();
  const layouts = new Map<number, Layout>();
  model.trace(builder, builder.input(model.inputChannels), (layer, output) => {
    if (layer.module !== model.detect) layouts.set(layer.index, output);
  });
  const nameOf = new Map<nn.Module, string>([...model.namedModules()].map(([name, m]) => [m, name]));
  const groups = new Map<Space, ChannelGroup>();
  const groupFor = (space: Space): ChannelGroup => {
    const root = space.root();
    let group = groups.get(root);
    if (!group) {
      const fixed = root.fixed || builder.spaces.some((s) => s.root() === root && s.fixed);
      group = {
        id: groups.size,
        channels: root.channels,
        members: root.producers.map((conv) => ({ name: nameOf.get(conv)!, conv })),
        fixed,
      };
      groups.set(root, group);
    }
    return group;
  };
  const groupOf = new Map<Conv, ChannelGroup>();
  for (const [conv, space] of builder.spaceOf) groupOf.set(conv, groupFor(space));
  const segments = (layout: Layout): Segment[] => layout.map((s) => ({ group: groupFor(s), channels: s.channels }));
  const consumers = builder.reads.map(({ conv, block, layout }) => ({ name: nameOf.get(block ?? conv)!, conv, block, segments: segments(layout) }));
  const layerOutputs = new Map([...layouts].map(([index, layout]) => [index, segments(layout)]));
  return { groups: [...new Set(groups.values())], consumers, groupOf, nameOf, layerOutputs };
}
