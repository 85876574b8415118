// yolov5-ts's tensor engine: libtorch tensors, autograd, nn and optim, with PyTorch's vocabulary.
import { availableParallelism } from 'node:os';
import { setNumThreads } from './tensor.js';

export * from './tensor.js';
export * from './dtype.js';
export { tidy, keep, noGrad, enableGrad, isGradEnabled, type Disposable } from './scope.js';
export * as F from './functional.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * from './safetensors.js';

setNumThreads(availableParallelism());
