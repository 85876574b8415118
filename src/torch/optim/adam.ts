import { Tensor, zeros, zerosLike } from '../tensor.js';
import { Optimizer } from './optimizer.js';

export type AdamHyper = { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean };

/** Adam (L2 weight decay added to the gradient) or, with `decoupled`, AdamW (decay applied to the weights). */
export class Adam extends Optimizer<AdamHyper> {
  constructor(params: ConstructorParameters<typeof Optimizer<AdamHyper>>[0], options: Partial<AdamHyper> & { lr: number }) {
    super(params, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, ...options });
  }

  protected update(p: Tensor, grad: Tensor, hp: AdamHyper, state: Map<string, Tensor>): void {
    // A float32 count whatever the parameter's dtype (as PyTorch keeps it): float16 would stop counting at 2048.
    const step = this.stateTensor(state, 'step', () => zeros([]));
    step.add_(1);
    const n = step.item();
    let g = grad;
    if (hp.weightDecay !== 0) {
      if (hp.decoupled) p.mul_(1 - hp.lr * hp.weightDecay);
      else g = grad.add(p, hp.weightDecay);
    }
    const m = this.stateTensor(state, 'exp_avg', () => zerosLike(p));
    const v = this.stateTensor(state, 'exp_avg_sq', () => zerosLike(p));
    m.lerp_(g, 1 - hp.beta1);
    v.mul_(hp.beta2).addcmul_(g, g, 1 - hp.beta2);
    const biasCorrection1 = 1 - hp.beta1 ** n;
    const biasCorrection2 = 1 - hp.beta2 ** n;
    const denom = v.sqrt().div_(Math.sqrt(biasCorrection2)).add_(hp.eps);
    p.addcdiv_(m, denom, -hp.lr / biasCorrection1);
  }
}

/** AdamW: Adam with decoupled weight decay (Loshchilov & Hutter). */
export class AdamW extends Adam {
  constructor(params: ConstructorParameters<typeof Optimizer<AdamHyper>>[0], options: Partial<AdamHyper> & { lr: number }) {
    super(params, { weightDecay: 0.01, ...options, decoupled: true });
  }
}
