// Forward hooks (like torch.nn.Module.register_forward_hook): observe a module's inputs and output.
import type { Module } from './module.js';

export type ForwardHook = (module: Module, inputs: unknown[], output: unknown) => void;

/** Calls `hook` after every forward of `module` until the returned function is called. */
export function registerForwardHook(module: Module, hook: ForwardHook): () => void {
  const own = Object.prototype.hasOwnProperty.call(module, 'forward');
  const original = module.forward;
  module.forward = function hooked(this: Module, ...inputs: unknown[]) {
    const output = original.apply(this, inputs);
    hook(this, inputs, output);
    return output;
  };
  return () => {
    if (own) module.forward = original;
    else delete (module as { forward?: unknown }).forward;
  };
}

/**
 * Runs `fn` with `hook` registered on each of `modules`, removing the hooks when it finishes (or, for an async
 * `fn`, when its promise settles), even on error.
 */
export function withForwardHooks<T>(modules: Iterable<Module>, hook: ForwardHook, fn: () => T): T {
  const removers = [...modules].map((m) => registerForwardHook(m, hook));
  const removeAll = () => removers.reverse().forEach((remove) => remove());
  let result: T;
  try {
    result = fn();
  } catch (error) {
    removeAll();
    throw error;
  }
  if (result instanceof Promise) return result.finally(removeAll) as T;
  removeAll();
  return result;
}
