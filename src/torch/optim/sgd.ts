import { Tensor } from '../tensor.js';
import { Optimizer } from './optimizer.js';

export type SGDHyper = { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean };

/** Stochastic gradient descent with PyTorch's momentum, dampening, Nesterov and L2 weight-decay semantics. */
export class SGD extends Optimizer<SGDHyper> {
  constructor(params: ConstructorParameters<typeof Optimizer<SGDHyper>>[0], options: Partial<SGDHyper> & { lr: number }) {
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...options });
  }

  protected update(p: Tensor, grad: Tensor, hp: SGDHyper, state: Map<string, Tensor>): void {
    let d = hp.weightDecay !== 0 ? grad.add(p, hp.weightDecay) : grad;
    if (hp.momentum !== 0) {
      const fresh = !state.has('momentum_buffer');
      const buf = this.stateTensor(state, 'momentum_buffer', () => d.clone());
      if (!fresh) buf.mul_(hp.momentum).add_(d, 1 - hp.dampening);
      d = hp.nesterov ? d.add(buf, hp.momentum) : buf;
    }
    p.add_(d, -hp.lr);
  }
}
