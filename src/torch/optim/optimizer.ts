// The shape every optimizer shares: parameter groups with their own hyperparameters, and per-parameter state.
import { Tensor } from '../tensor.js';
import { keep, noGrad, tidy } from '../scope.js';

export interface ParamGroup<H> {
  params: Tensor[];
  hyper: H;
}

export interface OptimizerState {
  /** Hyperparameters of each group, in group order (lr and momentum change during warmup). */
  groups: Record<string, number | boolean>[];
  /** Per-parameter state tensors keyed `groupIndex.paramIndex.name`. */
  tensors: Map<string, Tensor>;
}

export abstract class Optimizer<H extends Record<string, number | boolean>> {
  readonly paramGroups: ParamGroup<H>[] = [];
  protected readonly state = new Map<Tensor, Map<string, Tensor>>();

  constructor(
    groups: Tensor[] | { params: Tensor[]; hyper?: Partial<H> }[],
    protected readonly defaults: H,
  ) {
    const list = groups.length > 0 && groups[0] instanceof Tensor ? [{ params: groups as Tensor[] }] : (groups as { params: Tensor[]; hyper?: Partial<H> }[]);
    for (const g of list) this.addParamGroup(g.params, 'hyper' in g ? g.hyper : undefined);
  }

  addParamGroup(params: Tensor[], hyper: Partial<H> = {}): void {
    this.paramGroups.push({ params, hyper: { ...this.defaults, ...hyper } });
  }

  /** Clears gradients (sets them to undefined, which is cheaper than writing zeros). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.zeroGrad();
  }

  step(): void {
    // Temporaries die with the scope; state tensors are kept by stateTensor().
    noGrad(() =>
      tidy(() => {
        for (const group of this.paramGroups) {
          for (const p of group.params) {
            const grad = p.grad;
            if (grad === null) continue;
            let s = this.state.get(p);
            if (!s) this.state.set(p, (s = new Map()));
            this.update(p, grad, group.hyper, s);
          }
        }
      }),
    );
  }

  /** Applies one update to `param` in place. State tensors stored in `state` must be kept (not scoped). */
  protected abstract update(param: Tensor, grad: Tensor, hyper: H, state: Map<string, Tensor>): void;

  protected stateTensor(state: Map<string, Tensor>, name: string, init: () => Tensor): Tensor {
    let t = state.get(name);
    if (!t) state.set(name, (t = keep(init())));
    return t;
  }

  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    this.paramGroups.forEach((group, gi) =>
      group.params.forEach((p, pi) => {
        for (const [name, value] of this.state.get(p) ?? []) tensors.set(`${gi}.${pi}.${name}`, value);
      }),
    );
    return { groups: this.paramGroups.map((g) => ({ ...g.hyper })), tensors };
  }

  loadStateDict(saved: OptimizerState): void {
    if (saved.groups.length !== this.paramGroups.length) {
      throw new Error(`optimizer state has ${saved.groups.length} parameter groups, this optimizer has ${this.paramGroups.length}`);
    }
    // Everything is checked and copied before the current state is replaced, so a bad entry changes nothing and an
    // optimizer can load its own stateDict().
    const entries = [...saved.tensors].map(([key, value]) => {
      const [gi, pi, name] = key.split('.') as [string, string, string];
      const param = this.paramGroups[Number(gi)]?.params[Number(pi)];
      if (!param) throw new Error(`optimizer state entry '${key}' has no matching parameter`);
      return { param, name, value };
    });
    const copies = noGrad(() => entries.map(({ value }) => keep(value.clone())));
    for (const s of this.state.values()) for (const t of s.values()) t.dispose();
    this.state.clear();
    entries.forEach(({ param, name }, i) => {
      let s = this.state.get(param);
      if (!s) this.state.set(param, (s = new Map()));
      s.set(name, copies[i]!);
    });
    this.paramGroups.forEach((g, gi) => Object.assign(g.hyper, saved.groups[gi]));
  }
}
