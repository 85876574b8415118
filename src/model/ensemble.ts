// Several detectors as one (YOLOv5's Ensemble): every model's decoded boxes for the same input, concatenated so
// that one NMS chooses among them. With `augment`, each model runs YOLOv5's test-time augmentation.
import { cat, type Tensor } from '../torch/index.js';
import { augmentedInfer } from './augment.js';
import type { DetectionModel } from './yolo.js';

export interface EnsembleMember {
  model: DetectionModel;
  /** Where the model came from, for error messages. */
  source: string;
}

export interface EnsembleOptions {
  /** Test-time augmentation: three scales, one mirrored. */
  augment?: boolean;
}

export class ModelEnsemble {
  readonly models: DetectionModel[];
  readonly augment: boolean;

  constructor(members: readonly EnsembleMember[], options: EnsembleOptions = {}) {
    const [first, ...others] = members;
    if (!first) throw new Error('an ensemble needs at least one model');
    for (const other of others) {
      const problem =
        other.model.nc !== first.model.nc || other.model.names.some((name, i) => name !== first.model.names[i])
          ? `classes [${other.model.names.join(', ')}] differ from [${first.model.names.join(', ')}]`
          : other.model.stride.join() !== first.model.stride.join()
            ? `strides ${other.model.stride.join(', ')} differ from ${first.model.stride.join(', ')}`
            : null;
      if (problem) throw new Error(`cannot ensemble ${other.source} with ${first.source}: ${problem}`);
    }
    this.models = members.map((m) => m.model);
    this.augment = options.augment ?? false;
  }

  get names(): string[] {
    return this.models[0]!.names;
  }
  get stride(): number[] {
    return this.models[0]!.stride;
  }

  /** The one model this ensemble runs as it is, or null (several models, or test-time augmentation). */
  get single(): DetectionModel | null {
    return this.models.length === 1 && !this.augment ? this.models[0]! : null;
  }

  eval(): this {
    for (const model of this.models) model.eval();
    return this;
  }

  /** Decoded predictions [batch, boxes, 5 + nc] of every model, boxes in input pixels. */
  infer(x: Tensor): Tensor {
    const outputs = this.models.map((model) => (this.augment ? augmentedInfer(model, x) : model.infer(x)));
    return outputs.length === 1 ? outputs[0]! : cat(outputs, 1);
  }
}
