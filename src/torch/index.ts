// yolov5-ts's tensor engine: libtorch tensors, autograd, nn and optim, with PyTorch's vocabulary.
export * from './tensor.js';
export * from './dtype.js';
export { tidy, keep, noGrad, enableGrad, isGradEnabled, type Disposable } from './scope.js';
export * as F from './functional.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * from './safetensors.js';
export { ProcessGroup, GradientReducer, BUCKET_BYTES, type ProcessGroupOptions } from './distributed.js';
