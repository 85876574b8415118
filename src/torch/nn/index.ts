export { Module, type StateDict } from './module.js';
export * from './layers.js';
