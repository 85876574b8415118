// YOLOv5's optimizer: three parameter groups (biases, weights with decay, normalisation weights without), plus a
// fourth for channel gates, which sparsity training drives on their own learning rate; SGD with Nesterov momentum,
// Adam or AdamW; and gradient-norm clipping.
import { nn, noGrad, optim, stack, tidy, type Tensor } from '../torch/index.js';
import { ChannelGate } from '../model/common.js';

export const OPTIMIZERS = ['SGD', 'Adam', 'AdamW'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Parameters in the optimizer's group order: 0 biases, 1 weights with decay, 2 weights without decay, 3 gates. */
export interface ParameterGroups {
  bias: Tensor[];
  decay: Tensor[];
  noDecay: Tensor[];
  /** Channel-gate coefficients (no decay; a sparsity penalty drives them instead). */
  gate: Tensor[];
  /** Parameter names per group, same order, for reports and tests. */
  names: { bias: string[]; decay: string[]; noDecay: string[]; gate: string[] };
}

type GroupName = keyof ParameterGroups['names'];

/**
 * Sorts a model's parameters into the four groups. BatchNorm weights take no weight decay, nor do gates (their own
 * group); `noDecay` adds names of other parameters to exempt.
 */
export function groupParameters(model: nn.Module, noDecay?: (name: string) => boolean): ParameterGroups {
  const groups: ParameterGroups = { bias: [], decay: [], noDecay: [], gate: [], names: { bias: [], decay: [], noDecay: [], gate: [] } };
  const put = (group: GroupName, name: string, p: Tensor) => {
    groups[group].push(p);
    groups.names[group].push(name);
  };
  for (const [moduleName, module] of model.namedModules()) {
    for (const [localName, p] of module.namedParameters()) {
      if (localName.includes('.')) continue; // owned by a child module, visited there
      const name = moduleName ? `${moduleName}.${localName}` : localName;
      if (localName === 'bias') put('bias', name, p);
      else if (module instanceof ChannelGate) put('gate', name, p);
      else if ((localName === 'weight' && module instanceof nn.BatchNorm2d) || noDecay?.(name)) put('noDecay', name, p);
      else put('decay', name, p);
    }
  }
  return groups;
}

export type TrainOptimizer = optim.SGD | optim.Adam;

/** The optimizer over the four groups; `weightDecay` applies to group 1 only. */
export function createOptimizer(
  name: OptimizerName,
  groups: ParameterGroups,
  settings: { lr: number; momentum: number; weightDecay: number },
): TrainOptimizer {
  const { lr, momentum, weightDecay } = settings;
  const list = [
    { params: groups.bias, hyper: { weightDecay: 0 } },
    { params: groups.decay, hyper: { weightDecay } },
    { params: groups.noDecay, hyper: { weightDecay: 0 } },
    { params: groups.gate, hyper: { weightDecay: 0 } },
  ];
  switch (name) {
    case 'SGD':
      return new optim.SGD(list, { lr, momentum, nesterov: true });
    case 'Adam':
      // YOLOv5 takes beta1 from the momentum hyperparameter.
      return new optim.Adam(list, { lr, beta1: momentum, beta2: 0.999 });
    case 'AdamW':
      return new optim.AdamW(list, { lr, beta1: momentum, beta2: 0.999 });
    default:
      throw new Error(`unknown optimizer '${String(name)}' (expected ${OPTIMIZERS.join(', ')})`);
  }
}

/** Sets the learning rate of each group, in group order (and SGD's momentum), for the coming step. */
export function setOptimizerHyper(optimizer: TrainOptimizer, lrs: readonly number[], momentum: number): void {
  if (lrs.length !== optimizer.paramGroups.length) throw new RangeError(`${lrs.length} learning rates for ${optimizer.paramGroups.length} parameter groups`);
  optimizer.paramGroups.forEach((group, i) => {
    group.hyper.lr = lrs[i]!;
    if (optimizer instanceof optim.SGD) (group.hyper as optim.SGDHyper).momentum = momentum;
  });
}

/** Scales gradients so their global L2 norm is at most maxNorm (torch.nn.utils.clip_grad_norm_); returns the norm before. */
export function clipGradNorm(parameters: readonly Tensor[], maxNorm: number): number {
  return noGrad(() =>
    tidy(() => {
      const grads = parameters.map((p) => p.grad).filter((g): g is Tensor => g !== null);
      if (grads.length === 0) return 0;
      const total = stack(grads.map((g) => g.square().sum())).sum().sqrt().item();
      const coefficient = maxNorm / (total + 1e-6);
      if (coefficient < 1) for (const g of grads) g.mul_(coefficient);
      return total;
    }),
  );
}
