// Exponential moving average of the model's weights (official ModelEMA): validation and the saved checkpoints use
// the average, which is steadier than the raw weights. The decay ramps up from 0 so early updates dominate.
import { isFloating, noGrad } from '../torch/index.js';
import type { DetectionModel } from '../model/yolo.js';

export interface EmaOptions {
  /** Asymptotic decay. */
  decay?: number;
  /** Updates over which the decay ramps up (e-folding). */
  tau?: number;
  /** Updates already made (when resuming). */
  updates?: number;
}

export class ModelEMA {
  readonly ema: DetectionModel;
  updates: number;
  private readonly maxDecay: number;
  private readonly tau: number;

  constructor(model: DetectionModel, options: EmaOptions = {}) {
    this.ema = model.clone().eval();
    for (const p of this.ema.parameters()) p.requiresGrad_(false);
    this.updates = options.updates ?? 0;
    this.maxDecay = options.decay ?? 0.9999;
    this.tau = options.tau ?? 2000;
  }

  /** The decay used by update number `updates`. */
  decay(updates: number): number {
    return this.maxDecay * (1 - Math.exp(-updates / this.tau));
  }

  /** Moves every floating-point tensor (weights and BatchNorm statistics) towards the model's; copies the rest. */
  update(model: DetectionModel): void {
    this.updates += 1;
    const d = this.decay(this.updates);
    const source = model.stateDict();
    noGrad(() => {
      for (const [name, average] of this.ema.stateDict()) {
        const current = source.get(name);
        if (!current) throw new Error(`EMA: the model has no tensor '${name}' (architectures differ)`);
        if (isFloating(average.dtype)) average.lerp_(current, 1 - d);
        else average.copy_(current);
      }
    });
  }
}
