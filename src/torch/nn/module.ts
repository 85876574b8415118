// nn.Module: a tree of named parameters, buffers and child modules.
import { Tensor } from '../tensor.js';
import { keep, noGrad } from '../scope.js';
import type { DType } from '../dtype.js';

const FLOATING = new Set<DType>(['float16', 'float32', 'float64']);

export type StateDict = Map<string, Tensor>;

export abstract class Module {
  training = true;
  readonly #parameters = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #modules = new Map<string, Module>();

  /** Registers (or replaces) a learnable tensor; it requires grad and outlives any tidy() scope. */
  protected registerParameter(name: string, value: Tensor): Tensor {
    keep(value);
    if (!value.requiresGrad) value.requiresGrad_(true);
    this.#parameters.set(name, value);
    return value;
  }
  protected registerBuffer(name: string, value: Tensor): Tensor {
    keep(value);
    this.#buffers.set(name, value);
    return value;
  }
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.#modules.set(name, module);
    return module;
  }

  /** Adds, replaces (keeping its position) or, with null, removes a child module — for fusion and surgery. */
  setModule(name: string, module: Module | null): void {
    if (module === null) this.#modules.delete(name);
    else this.#modules.set(name, module);
  }

  child(name: string): Module | undefined {
    return this.#modules.get(name);
  }
  hasParameter(name: string): boolean {
    return this.#parameters.has(name);
  }
  parameter(name: string): Tensor {
    const p = this.#parameters.get(name);
    if (!p) throw new Error(`no parameter named '${name}'`);
    return p;
  }
  buffer(name: string): Tensor {
    const b = this.#buffers.get(name);
    if (!b) throw new Error(`no buffer named '${name}'`);
    return b;
  }

  abstract forward(...inputs: unknown[]): unknown;

  *children(): IterableIterator<[string, Module]> {
    yield* this.#modules.entries();
  }
  *namedModules(prefix = ''): IterableIterator<[string, Module]> {
    yield [prefix, this];
    for (const [name, child] of this.#modules) yield* child.namedModules(prefix ? `${prefix}.${name}` : name);
  }
  *namedParameters(prefix = ''): IterableIterator<[string, Tensor]> {
    for (const [name, module] of this.namedModules(prefix)) {
      for (const [p, value] of module.#parameters) yield [name ? `${name}.${p}` : p, value];
    }
  }
  *namedBuffers(prefix = ''): IterableIterator<[string, Tensor]> {
    for (const [name, module] of this.namedModules(prefix)) {
      for (const [b, value] of module.#buffers) yield [name ? `${name}.${b}` : b, value];
    }
  }
  parameters(): Tensor[] {
    return Array.from(this.namedParameters(), ([, p]) => p);
  }
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.numel, 0);
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  apply(fn: (m: Module, name: string) => void): this {
    for (const [name, m] of this.namedModules()) fn(m, name);
    return this;
  }
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Parameters and buffers by dotted name; the tensors are the module's own (not copies). */
  stateDict(): StateDict {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /** Copies values into the module's tensors. Shapes must match; with strict, names must match exactly. */
  loadStateDict(state: StateDict, options: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    if ((options.strict ?? true) && (missing.length || unexpected.length)) {
      throw new Error(
        `loadStateDict: ${missing.length ? `missing keys ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}` : ''}` +
          `${missing.length && unexpected.length ? '; ' : ''}` +
          `${unexpected.length ? `unexpected keys ${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ', …' : ''}` : ''}`,
      );
    }
    // Every shape and dtype is checked before anything is copied, so a mismatch leaves the module as it was.
    // Floating point converts to floating point (float16 checkpoints, as official weights are stored); any other
    // difference is refused: int32 data where float32 belongs is a damaged or forged file, not a value to cast.
    for (const [name, target] of own) {
      const source = state.get(name);
      if (!source) continue;
      const [a, b] = [target.shape, source.shape];
      if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
        throw new Error(`loadStateDict: '${name}' has shape [${b.join(', ')}] but the model expects [${a.join(', ')}]`);
      }
      if (source.dtype !== target.dtype && !(FLOATING.has(source.dtype) && FLOATING.has(target.dtype))) {
        throw new Error(`loadStateDict: '${name}' has dtype ${source.dtype} but the model expects ${target.dtype}`);
      }
    }
    noGrad(() => {
      for (const [name, target] of own) {
        const source = state.get(name);
        if (source) target.copy_(source);
      }
    });
    return { missing, unexpected };
  }
}
