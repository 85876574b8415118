// The YOLOv5 training loss (official utils/loss.py ComputeLoss): targets matched to anchors by width/height ratio
// and spread to neighbouring cells, CIoU box loss, objectness BCE against the detached IoU, class BCE.
// Everything is tensor algebra over all targets of a level at once.
import { F, arange, cat, full, noGrad, onesLike, stack, tensor, zeros, zerosLike, type Tensor } from '../torch/index.js';
import type { Hyp } from './hyp.js';

/** Per-level objectness weights: small objects (stride 8) count most. */
export function objectnessBalance(levels: number): number[] {
  return levels === 3 ? [4.0, 1.0, 0.4] : [4.0, 1.0, 0.25, 0.06, 0.02];
}

/** BCE targets for positives and negatives with label smoothing eps. */
export function smoothBce(eps: number): { cp: number; cn: number } {
  return { cp: 1 - 0.5 * eps, cn: 0.5 * eps };
}

const columns = (boxes: Tensor): Tensor[] => [0, 1, 2, 3].map((k) => boxes.select(1, k));

/**
 * Complete IoU of boxes given as [n, 4] (cx, cy, w, h), pairwise row by row → [n]. The aspect-ratio weight
 * alpha is a constant for autograd, as in the CIoU paper's reference implementation.
 */
export function bboxCiou(box1: Tensor, box2: Tensor, eps = 1e-7): Tensor {
  const [x1, y1, w1, h1] = columns(box1);
  const [x2, y2, w2, h2] = columns(box2);
  const [ax1, ax2, ay1, ay2] = [x1.sub(w1.div(2)), x1.add(w1.div(2)), y1.sub(h1.div(2)), y1.add(h1.div(2))];
  const [bx1, bx2, by1, by2] = [x2.sub(w2.div(2)), x2.add(w2.div(2)), y2.sub(h2.div(2)), y2.add(h2.div(2))];
  const inter = ax2.minimum(bx2).sub(ax1.maximum(bx1)).clamp(0).mul(ay2.minimum(by2).sub(ay1.maximum(by1)).clamp(0));
  const union = w1.mul(h1).add(w2.mul(h2)).sub(inter).add(eps);
  const iou = inter.div(union);
  const cw = ax2.maximum(bx2).sub(ax1.minimum(bx1));
  const ch = ay2.maximum(by2).sub(ay1.minimum(by1));
  const diagonal2 = cw.square().add(ch.square()).add(eps);
  const centre2 = bx1.add(bx2).sub(ax1).sub(ax2).square().add(by1.add(by2).sub(ay1).sub(ay2).square()).div(4);
  const v = w2.div(h2).atan().sub(w1.div(h1).atan()).square().mul(4 / Math.PI ** 2);
  const alpha = noGrad(() => v.detach().div(v.detach().sub(iou.detach()).add(1 + eps)));
  return iou.sub(centre2.div(diagonal2).add(v.mul(alpha)));
}

/** The targets assigned to one output level. */
export interface LevelTargets {
  /** Image in batch, anchor, grid row, grid column — each int64 [n]. */
  image: Tensor;
  anchor: Tensor;
  gj: Tensor;
  gi: Tensor;
  /** Box relative to its cell: [n, 4] (x, y offsets from the cell corner, w, h in grid units). */
  box: Tensor;
  /** The matched anchor's size in grid units, [n, 2]. */
  anchorWh: Tensor;
  /** Class index, int64 [n]. */
  cls: Tensor;
}

/** Offsets to the cell itself and its four neighbours (right, down, left, up), in half cells. */
const NEIGHBOURS = [
  [0, 0],
  [1, 0],
  [0, 1],
  [-1, 0],
  [0, -1],
];
const HALF = 0.5;

/**
 * Assigns targets [nt, 6] (image, class, cx, cy, w, h normalised) to anchors and cells of each level.
 * An anchor takes a target when neither side ratio exceeds `anchorT`; besides its own cell, the target also goes
 * to the two neighbouring cells nearest to its centre (when those lie inside the grid).
 * @param anchors [nl, na, 2] anchor sizes in grid units of each level
 * @param gridSizes [ny, nx] per level
 */
export function buildTargets(targets: Tensor, anchors: Tensor, gridSizes: [number, number][], anchorT: number): LevelTargets[] {
  const [nl, na] = anchors.shape as [number, number, number];
  const nt = targets.shape[0]!;
  const anchorIndex = arange(na, undefined, 1, { dtype: 'float32' }).view([na, 1]).repeat([1, nt]);
  const withAnchor = cat([targets.repeat([na, 1, 1]), anchorIndex.unsqueeze(2)], 2); // [na, nt, 7]
  const offsets = tensor(NEIGHBOURS.flat(), [NEIGHBOURS.length, 2]).mul(HALF);
  const levels: LevelTargets[] = [];
  for (let level = 0; level < nl; level++) {
    const [ny, nx] = gridSizes[level]!;
    const levelAnchors = anchors.select(0, level);
    const scaled = withAnchor.mul(tensor([1, 1, nx, ny, nx, ny, 1]));
    let t: Tensor;
    let shift: Tensor;
    if (nt > 0) {
      const ratio = scaled.slice(2, 4, 6).div(levelAnchors.unsqueeze(1));
      const matched = scaled.index([ratio.maximum(ratio.reciprocal()).amax(2).lt(anchorT)]); // [m, 7]
      const gxy = matched.slice(1, 2, 4);
      const gxyInverse = tensor([nx, ny]).sub(gxy);
      const nearLow = gxy.remainder(1).lt(HALF).logicalAnd(gxy.gt(1)); // left / top neighbour
      const nearHigh = gxyInverse.remainder(1).lt(HALF).logicalAnd(gxyInverse.gt(1)); // right / bottom
      const own = onesLike(nearLow.select(1, 0));
      const take = stack([own, nearLow.select(1, 0), nearLow.select(1, 1), nearHigh.select(1, 0), nearHigh.select(1, 1)]); // [5, m]
      t = matched.repeat([NEIGHBOURS.length, 1, 1]).index([take]);
      shift = zerosLike(gxy).unsqueeze(0).add(offsets.unsqueeze(1)).index([take]);
    } else {
      t = zeros([0, 7]);
      shift = zeros([0, 2]);
    }
    const gxy = t.slice(1, 2, 4);
    const cell = gxy.sub(shift).long();
    const anchor = t.select(1, 6).long();
    levels.push({
      image: t.select(1, 0).long(),
      anchor,
      gj: cell.select(1, 1).clamp(0, ny - 1),
      gi: cell.select(1, 0).clamp(0, nx - 1),
      box: cat([gxy.sub(cell), t.slice(1, 4, 6)], 1),
      anchorWh: levelAnchors.index([anchor]),
      cls: t.select(1, 1).long(),
    });
  }
  return levels;
}

export type LossHyp = Pick<Hyp, 'box' | 'obj' | 'cls' | 'cls_pw' | 'obj_pw' | 'anchor_t' | 'fl_gamma' | 'label_smoothing'>;

export interface LossResult {
  /** The loss to back-propagate: (box + obj + cls) × batch size, as YOLOv5 scales it. */
  loss: Tensor;
  /** The three gained components for the batch, [box, obj, cls] (detached numbers). */
  items: [number, number, number];
}

/** What the loss needs of a model: Detect's anchors (grid units) and sizes. */
export interface LossModel {
  detect: { anchors: Tensor; nl: number; na: number; nc: number };
}

/** The YOLOv5 detection loss; `hyp` carries the already scaled gains (see scaleLossGains). */
export class YoloLoss {
  readonly balance: number[];
  private readonly cp: number;
  private readonly cn: number;

  constructor(
    private readonly model: LossModel,
    private readonly hyp: LossHyp,
  ) {
    this.balance = objectnessBalance(model.detect.nl);
    ({ cp: this.cp, cn: this.cn } = smoothBce(hyp.label_smoothing));
  }

  /** BCE with logits (mean), with positive weight and optional focal modulation. */
  private bce(logits: Tensor, target: Tensor, positiveWeight: number): Tensor {
    const posWeight = positiveWeight === 1 ? null : tensor([positiveWeight]);
    const gamma = this.hyp.fl_gamma;
    if (gamma <= 0) return F.binaryCrossEntropyWithLogits(logits, target, { posWeight });
    const loss = F.binaryCrossEntropyWithLogits(logits, target, { posWeight, reduction: 'none' });
    const p = logits.sigmoid();
    const pt = target.mul(p).add(target.neg().add(1).mul(p.neg().add(1)));
    const alpha = 0.25;
    const alphaFactor = target.mul(alpha).add(target.neg().add(1).mul(1 - alpha));
    return loss.mul(alphaFactor).mul(pt.neg().add(1).pow(gamma)).mean();
  }

  /**
   * @param predictions raw per-level outputs [B, na, ny, nx, 5 + nc] (DetectionModel.forward)
   * @param targets [nt, 6] (image in batch, class, cx, cy, w, h normalised)
   */
  compute(predictions: Tensor[], targets: Tensor): LossResult {
    const { detect } = this.model;
    const nc = detect.nc;
    const gridSizes = predictions.map((p) => [p.shape[2]!, p.shape[3]!] as [number, number]);
    const assigned = buildTargets(targets, detect.anchors.detach(), gridSizes, this.hyp.anchor_t);
    let lbox = zeros([]);
    let lobj = zeros([]);
    let lcls = zeros([]);
    predictions.forEach((p, level) => {
      const { image, anchor, gj, gi, box, anchorWh, cls } = assigned[level]!;
      const objTarget = zeros(p.shape.slice(0, 4));
      const n = image.shape[0]!;
      if (n > 0) {
        const where = [image, anchor, gj, gi];
        const [pxy, pwh, , pcls] = p.index(where).split([2, 2, 1, nc], 1) as [Tensor, Tensor, Tensor, Tensor];
        const predictedBox = cat([pxy.sigmoid().mul(2).sub(0.5), pwh.sigmoid().mul(2).square().mul(anchorWh)], 1);
        const iou = bboxCiou(predictedBox, box);
        lbox = lbox.add(iou.neg().add(1).mean());
        objTarget.indexPut_(where, iou.detach().clamp(0));
        if (nc > 1) {
          const classTarget = full([n, nc], this.cn);
          classTarget.indexPut_([arange(n), cls], full([n], this.cp));
          lcls = lcls.add(this.bce(pcls, classTarget, this.hyp.cls_pw));
        }
      }
      lobj = lobj.add(this.bce(p.select(4, 4), objTarget, this.hyp.obj_pw).mul(this.balance[level]!));
    });
    lbox = lbox.mul(this.hyp.box);
    lobj = lobj.mul(this.hyp.obj);
    lcls = lcls.mul(this.hyp.cls);
    const batchSize = predictions[0]!.shape[0]!;
    const items = stack([lbox, lobj, lcls]).detach().toArray() as [number, number, number];
    return { loss: lbox.add(lobj).add(lcls).mul(batchSize), items };
  }
}
