// The Detect head: a 1×1 convolution per level producing, for each anchor, box (4), objectness (1) and class (nc) logits.
import { nn, arange, cat, keep, noGrad, stack, tensor, type Tensor } from '../torch/index.js';
import type { ChannelTracer } from './trace.js';

export class Detect extends nn.Module {
  readonly nc: number;
  readonly no: number;
  readonly nl: number;
  readonly na: number;
  readonly heads: nn.Conv2d[];
  /** Strides of the levels in input pixels, set by the model after a probe forward. */
  stride: number[] = [];
  private readonly grids = new Map<string, { grid: Tensor; anchorGrid: Tensor }>();

  /** @param anchors per level [w0, h0, w1, h1, ...] in input pixels; @param ch input channels per level */
  constructor(nc: number, anchors: number[][], ch: number[]) {
    super();
    this.nc = nc;
    this.no = nc + 5;
    this.nl = anchors.length;
    this.na = anchors[0]!.length / 2;
    if (ch.length !== this.nl) throw new Error(`Detect: ${ch.length} input levels but ${this.nl} anchor levels`);
    // Stored in pixels until the model divides by the strides (official layout: [nl, na, 2] in stride units).
    this.registerBuffer('anchors', tensor(anchors.flat(), [this.nl, this.na, 2]));
    const heads = new nn.Sequential(...ch.map((c) => new nn.Conv2d(c, this.no * this.na, 1)));
    this.registerModule('m', heads);
    this.heads = heads.layers as nn.Conv2d[];
  }

  get anchors(): Tensor {
    return this.buffer('anchors');
  }

  /** Input channels per level (pruning narrows them; the outputs stay anchors × (5 + nc)). */
  get inChannels(): number[] {
    return this.heads.map((h) => h.inChannels);
  }

  /** Raw per-level predictions, each [batch, anchors, ny, nx, 5 + nc] (logits). */
  forward(xs: Tensor[]): Tensor[] {
    return xs.map((x, i) => {
      const y = this.heads[i]!.forward(x);
      const [bs, , ny, nx] = y.shape as [number, number, number, number];
      return y.view([bs, this.na, this.no, ny, nx]).permute([0, 1, 3, 4, 2]).contiguous();
    });
  }

  /** The heads read each level's channels; their outputs (anchors × (5 + nc)) are fixed. Returns the first level. */
  trace<N>(g: ChannelTracer<N>, xs: N[]): N {
    xs.forEach((x, i) => g.head(this.heads[i]!, x));
    return xs[0]!;
  }

  /** Decodes raw level outputs into [batch, boxes, 5 + nc]: cx, cy, w, h in input pixels, objectness, class scores. */
  decode(raw: Tensor[]): Tensor {
    const levels = raw.map((x, i) => {
      const [bs, , ny, nx] = x.shape as [number, number, number, number, number];
      const { grid, anchorGrid } = this.grid(nx, ny, i);
      const [xy, wh, conf] = x.sigmoid().split([2, 2, this.nc + 1], 4) as [Tensor, Tensor, Tensor];
      const boxXY = xy.mul(2).add(grid).mul(this.stride[i]!);
      const boxWH = wh.mul(2).pow(2).mul(anchorGrid);
      return cat([boxXY, boxWH, conf], 4).view([bs, this.na * ny * nx, this.no]);
    });
    return cat(levels, 1);
  }

  /** Cell offsets (minus 0.5) and anchor sizes in pixels for one level, cached per feature-map size. */
  private grid(nx: number, ny: number, level: number): { grid: Tensor; anchorGrid: Tensor } {
    const key = `${level}:${ny}x${nx}`;
    let entry = this.grids.get(key);
    if (!entry) {
      entry = noGrad(() => {
        const ys = arange(ny, undefined, 1, { dtype: 'float32' }).view([ny, 1]).expand([ny, nx]);
        const xs = arange(nx, undefined, 1, { dtype: 'float32' }).view([1, nx]).expand([ny, nx]);
        const grid = keep(stack([xs, ys], 2).expand([1, this.na, ny, nx, 2]).sub(0.5).contiguous());
        const anchorGrid = keep(
          this.anchors.select(0, level).mul(this.stride[level]!).view([1, this.na, 1, 1, 2]).expand([1, this.na, ny, nx, 2]).contiguous(),
        );
        return { grid, anchorGrid };
      });
      this.grids.set(key, entry);
    }
    return entry;
  }

  /** Forgets cached grids (after anchors or strides change). */
  clearGridCache(): void {
    for (const { grid, anchorGrid } of this.grids.values()) {
      grid.dispose();
      anchorGrid.dispose();
    }
    this.grids.clear();
  }

  /**
   * YOLOv5's prior for the output biases: objectness ≈ 8 objects per 640² image per level, class ≈ 0.6/(nc-1).
   */
  initializeBiases(): void {
    noGrad(() => {
      this.heads.forEach((head, i) => {
        const s = this.stride[i]!;
        const bias = head.bias!.view([this.na, this.no]);
        bias.select(1, 4).add_(Math.log(8 / (640 / s) ** 2));
        bias.slice(1, 5, this.no).add_(Math.log(0.6 / (this.nc - 0.99999)));
      });
    });
  }
}
