export { Module, type StateDict } from './module.js';
export * from './layers.js';
export { registerForwardHook, withForwardHooks, type ForwardHook } from './hooks.js';
