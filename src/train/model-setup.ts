// The model a run trains: a model passed in (e.g. pruned), weights (official .pt or ours) transferred onto the
// dataset's classes, or a fresh model from a config; plus layer freezing.
import { noGrad } from '../torch/index.js';
import { Conv } from '../model/common.js';
import { DetectionModel } from '../model/yolo.js';
import { cloneConfig, loadModelConfig, type ModelConfig } from '../model/config.js';
import { gatedConvs, loadModel } from '../checkpoint/index.js';

/** A new model with `model`'s architecture (explicit channels, gates), optionally another class count; fresh weights. */
export function rebuildModel(model: DetectionModel, options: { nc?: number; names?: string[] } = {}): DetectionModel {
  const nc = options.nc ?? model.nc;
  // Without names for a new class count, the model names them class0, class1, ...
  const names = options.names ?? (nc === model.nc ? [...model.names] : undefined);
  const copy = new DetectionModel(model.architecture(), { nc, names });
  const modules = new Map(copy.namedModules());
  for (const name of gatedConvs(model)) (modules.get(name) as Conv).addGate();
  return copy;
}

/** Copies every tensor whose name and shape both match (the rest keep their initial values); returns the count. */
export function transferWeights(from: DetectionModel, to: DetectionModel, exclude: (name: string) => boolean = () => false): number {
  const target = to.stateDict();
  let copied = 0;
  noGrad(() => {
    for (const [name, source] of from.stateDict()) {
      const destination = target.get(name);
      if (!destination || exclude(name)) continue;
      const [a, b] = [source.shape, destination.shape];
      if (a.length !== b.length || a.some((d, i) => d !== b[i])) continue;
      destination.copy_(source);
      copied++;
    }
  });
  to.detect.clearGridCache();
  return copied;
}

export interface ModelSource {
  /** Official .pt or yolov5-ts .safetensors; '' or undefined for none. */
  weights?: string;
  /** Model config (path or shipped name). */
  cfg?: string;
  /** An already-built model, trained exactly as it is (pruned models); its class count must fit the dataset. */
  model?: DetectionModel;
}

export interface PreparedModel {
  model: DetectionModel;
  /** Whether weights were loaded (pretrained) rather than initialised. */
  pretrained: boolean;
  message: string;
}

function configFor(cfg: string, anchorsPerLevel: number | undefined): ModelConfig {
  const config = cloneConfig(loadModelConfig(cfg));
  if (anchorsPerLevel) config.anchors = Math.round(anchorsPerLevel);
  return config;
}

/**
 * The model to train for a dataset with `nc` classes named `names`. With weights and a different class count
 * (or a config), the architecture is built for `nc` and every tensor whose name and shape match is transferred.
 * `anchorsPerLevel` (hyp `anchors`) replaces the config's anchors by that many placeholders per level.
 */
export async function prepareModel(source: ModelSource, dataset: { nc: number; names: string[] }, anchorsPerLevel?: number): Promise<PreparedModel> {
  const { nc, names } = dataset;
  if (source.model) {
    if (source.model.nc !== nc) {
      throw new Error(`the model to train has ${source.model.nc} classes but the dataset has ${nc}; build it for the dataset's classes first`);
    }
    source.model.names = [...names];
    return { model: source.model, pretrained: true, message: 'Training the given model' };
  }
  if (source.weights) {
    const { model: loaded } = await loadModel(source.weights);
    if (!source.cfg && !anchorsPerLevel && loaded.nc === nc) {
      loaded.names = [...names];
      const items = loaded.stateDict().size;
      return { model: loaded, pretrained: true, message: `Transferred ${items}/${items} items from ${source.weights}` };
    }
    const model = source.cfg
      ? new DetectionModel(configFor(source.cfg, anchorsPerLevel), { nc, names, source: source.cfg })
      : rebuildModel(loaded, { nc, names });
    // New anchors (from a config or the hyp) are kept rather than overwritten by the checkpoint's.
    const keepAnchors = Boolean(source.cfg || anchorsPerLevel);
    const copied = transferWeights(loaded, model, (name) => keepAnchors && name.endsWith('anchors'));
    return { model, pretrained: true, message: `Transferred ${copied}/${model.stateDict().size} items from ${source.weights}` };
  }
  if (source.cfg) {
    const model = new DetectionModel(configFor(source.cfg, anchorsPerLevel), { nc, names, source: source.cfg });
    return { model, pretrained: false, message: `Training ${source.cfg} from scratch` };
  }
  throw new Error('nothing to train: give weights (a .pt or .safetensors file), a model config (--cfg), or both');
}

/**
 * Freezes layers (no gradients): `[n]` freezes layers 0..n-1 (n = 0 freezes nothing), a longer list freezes
 * exactly those layer indices, as YOLOv5's --freeze. Returns the frozen parameter names.
 */
export function freezeLayers(model: DetectionModel, freeze: readonly number[]): string[] {
  const layers = freeze.length > 1 ? freeze : Array.from({ length: freeze[0] ?? 0 }, (_, i) => i);
  const prefixes = layers.map((i) => `model.${i}.`);
  const frozen: string[] = [];
  for (const [name, p] of model.namedParameters()) {
    const freezeIt = prefixes.some((prefix) => name.startsWith(prefix));
    p.requiresGrad_(!freezeIt);
    if (freezeIt) frozen.push(name);
  }
  return frozen;
}
