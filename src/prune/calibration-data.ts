// Calibration images for pruning: a fixed, evenly spread subset of the training split, letterboxed without
// augmentation, in rectangular batches.
import { evenlySpread, loadDatasetConfig, splitImageFiles } from '../data/dataset-config.js';
import { scanDataset } from '../data/dataset-scan.js';
import { ValLoader } from '../data/val-loader.js';
import { imagesToTensor } from '../data/batch-tensor.js';
import type { Tensor } from '../torch/index.js';

export interface CalibrationOptions {
  imgsz: number;
  stride: number;
  batchSize?: number;
  maxImages?: number;
}

/** A source of calibration batches; each call starts a fresh pass over the same images. */
export type CalibrationSource = () => AsyncIterable<Tensor>;

export async function calibrationSource(dataYaml: string, options: CalibrationOptions): Promise<CalibrationSource> {
  const config = loadDatasetConfig(dataYaml);
  const scan = await scanDataset(splitImageFiles(config, 'train'), { nc: config.nc });
  const images = evenlySpread(scan.images, options.maxImages ?? 256);
  const loader = new ValLoader(images, { imgsz: options.imgsz, batchSize: options.batchSize ?? 16, stride: options.stride, pad: 0.5 });
  return async function* batches() {
    for await (const batch of loader) {
      const images = imagesToTensor(batch.items.map((item) => item.input));
      try {
        yield images;
      } finally {
        images.dispose();
      }
    }
  };
}
