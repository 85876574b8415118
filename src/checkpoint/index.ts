// One entry point for every weight file a user has: official YOLOv5 `.pt` checkpoints and our `.safetensors`.
import { open } from 'node:fs/promises';
import { assertRegularFile } from '../io/regular-file.js';
import { noGrad } from '../torch/index.js';
import { DetectionModel } from '../model/yolo.js';
import { ModelEnsemble } from '../model/ensemble.js';
import { validateModelConfig } from '../model/config.js';
import { readOfficialCheckpoint } from './pt-reader.js';
import { buildDescribedModel, readCheckpoint, type CheckpointMeta } from './format.js';
import { resolveWeights } from './official-weights.js';

export { saveCheckpoint, readCheckpoint, gatedConvs, type CheckpointMeta, type LoadedCheckpoint } from './format.js';
export { readOfficialCheckpoint, type OfficialCheckpoint } from './pt-reader.js';
export { resolveWeights, cachedWeightsPath, officialAssetsUrl, OFFICIAL_WEIGHTS, OFFICIAL_RELEASE, type OfficialAsset } from './official-weights.js';

export interface LoadedModel {
  model: DetectionModel;
  /** 'official' for a PyTorch .pt, 'yolov5-ts' for ours. */
  source: 'official' | 'yolov5-ts';
  /** Our checkpoint's metadata (absent for official checkpoints). */
  meta?: CheckpointMeta;
}

async function magic(path: string): Promise<Buffer> {
  await assertRegularFile(path);
  let file;
  try {
    file = await open(path, 'r');
  } catch (error) {
    throw new Error(`cannot open weights ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    const bytes = Buffer.alloc(4);
    await file.read(bytes, 0, 4, 0);
    return bytes;
  } finally {
    await file.close();
  }
}

/** Builds the official checkpoint's architecture from its pickled yaml and loads its (EMA) weights. */
export async function loadOfficialModel(path: string): Promise<DetectionModel> {
  const ckpt = await readOfficialCheckpoint(path);
  const config = validateModelConfig(ckpt.yaml, `${path} (model yaml)`);
  const stored = [...ckpt.stateDict.values()].reduce((sum, t) => sum + t.numel, 0);
  const model = buildDescribedModel(config, { names: ckpt.names, nc: ckpt.nc, source: path }, stored);
  try {
    model.loadStateDict(ckpt.stateDict);
  } catch (error) {
    throw new Error(`${path}: weights do not fit the architecture its yaml describes: ${(error as Error).message}`);
  } finally {
    noGrad(() => ckpt.stateDict.forEach((t) => t.dispose()));
  }
  return model;
}

/**
 * Loads a detector from an official `.pt` (zip) or a yolov5-ts `.safetensors` checkpoint, recognised by content. An
 * official name such as `yolov5s.pt` that is not a local file is downloaded (see resolveWeights).
 */
export async function loadModel(weights: string): Promise<LoadedModel> {
  const path = await resolveWeights(weights);
  const head = await magic(path);
  if (head[0] === 0x50 && head[1] === 0x4b) return { model: await loadOfficialModel(path), source: 'official' };
  const { model, meta, extra } = await readCheckpoint(path);
  extra.forEach((t) => t.dispose());
  return { model, source: 'yolov5-ts', meta };
}

/**
 * Loads one or several checkpoints for inference (BatchNorm folded, eval mode) as one detector: their boxes are
 * pooled before NMS, and with `augment` each runs YOLOv5's test-time augmentation.
 */
export async function loadEnsemble(weights: string | readonly string[], options: { augment?: boolean } = {}): Promise<ModelEnsemble> {
  const list = typeof weights === 'string' ? [weights] : weights;
  const members = [];
  for (const source of list) members.push({ model: (await loadModel(source)).model.fuse().eval(), source });
  return new ModelEnsemble(members, options);
}
