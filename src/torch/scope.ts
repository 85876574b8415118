// Deterministic tensor lifetimes and grad mode.
// tidy(fn) frees every tensor created inside fn except what fn returns (which moves to the enclosing scope).
import { native } from './native.js';

/** Anything that owns native memory and can free it now. */
export interface Disposable {
  dispose(): void;
  readonly disposed: boolean;
}

const scopes: Set<Disposable>[] = [];

/** Called by every tensor at creation. */
export function track(t: Disposable): void {
  const top = scopes[scopes.length - 1];
  if (top) top.add(t);
}

/** Removes a tensor from the current scopes so it outlives them (e.g. parameters, cached grids). */
export function keep<T extends Disposable>(t: T): T {
  for (const scope of scopes) scope.delete(t);
  return t;
}

function collect(value: unknown, into: Set<Disposable>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (typeof (value as Disposable).dispose === 'function' && 'disposed' in (value as object)) {
    into.add(value as Disposable);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, into, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, into, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, into, seen);
  }
}

function close(scope: Set<Disposable>, result: unknown): void {
  const kept = new Set<Disposable>();
  collect(result, kept);
  scopes.pop();
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (kept.has(t)) parent?.add(t);
    else t.dispose();
  }
}

/** Runs fn and frees every tensor it created, except the tensors inside its return value. */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    close(scope, undefined);
    throw error;
  }
  if (result instanceof Promise) {
    // Close the scope anyway: left open, it would capture (and never free) every tensor created afterwards.
    close(scope, undefined);
    throw new TypeError('tidy(fn): fn must be synchronous (it returned a Promise); call tidy inside each synchronous step');
  }
  close(scope, result);
  return result;
}

/** Runs fn with autograd recording off (like torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  const previous = native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(previous);
  }
}

/** Runs fn with autograd recording on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  const previous = native.setGradEnabled(true);
  try {
    return fn();
  } finally {
    native.setGradEnabled(previous);
  }
}

export function isGradEnabled(): boolean {
  return native.setGradEnabled();
}
