// What a model trains on, made one way for the trainer and for whatever measures a model on training batches as
// the trainer would (the pruning's Taylor importance): augmented batches of the training split at the model's
// stride, and the detection loss with its gains scaled to the model's levels, classes and image size.
import type { DatasetConfig } from '../data/dataset-config.js';
import { createTrainLoader, type TrainLoader, type TrainLoaderOptions } from '../data/train-loader.js';
import type { DetectionModel } from '../model/yolo.js';
import { scaleLossGains, type Hyp } from './hyp.js';
import { YoloLoss } from './loss.js';

/** Training batches of `data`'s train split for `model`, augmented as `hyp` says. */
export function trainingBatches(
  model: DetectionModel,
  data: DatasetConfig,
  options: Pick<TrainLoaderOptions, 'imgsz' | 'batchSize' | 'workers' | 'seed' | 'rect' | 'cache' | 'singleCls' | 'shard'> & { hyp: Hyp },
): Promise<TrainLoader> {
  return createTrainLoader({ ...options, dataset: data, split: 'train', stride: Math.max(...model.stride, 32), augment: true });
}

/** The detection loss of `model` at `imgsz`, and the hyperparameters with the gains it uses. */
export function detectionLoss(model: DetectionModel, hyp: Hyp, imgsz: number): { loss: YoloLoss; hyp: Hyp } {
  const scaled = scaleLossGains(hyp, { nl: model.detect.nl, nc: model.detect.nc, imgsz });
  return { loss: new YoloLoss(model, scaled), hyp: scaled };
}
