export { Optimizer, type ParamGroup, type OptimizerState } from './optimizer.js';
export { SGD, type SGDHyper } from './sgd.js';
export { Adam, AdamW, type AdamHyper } from './adam.js';
