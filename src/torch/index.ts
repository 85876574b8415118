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

// One intra-op thread per core, unless OMP_NUM_THREADS says otherwise (as PyTorch honours it): several jobs sharing
// a machine each take fewer.
const requested = Number.parseInt(process.env.OMP_NUM_THREADS ?? '', 10);
setNumThreads(requested > 0 ? requested : availableParallelism());
