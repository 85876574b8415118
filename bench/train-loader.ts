// Training loader throughput: images per second with the default augmentation (mosaic), and the share of time a
// consumer would wait for data if each step took `--step-ms` of main-thread work.
// Usage: node dist-test/bench/train-loader.js [--data ../shared/datasets/coco128/coco128.yaml] [--imgsz 640]
//        [--batch 16] [--workers 2] [--batches 16] [--step-ms 0] [--cache ram]
import { parseArgs } from 'node:util';
import { loadDatasetConfig } from '../src/data/dataset-config.js';
import { createTrainLoader } from '../src/data/train-loader.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/datasets/coco128/coco128.yaml' },
    imgsz: { type: 'string', default: '640' },
    batch: { type: 'string', default: '16' },
    workers: { type: 'string', default: '2' },
    batches: { type: 'string', default: '16' },
    'step-ms': { type: 'string', default: '0' },
    cache: { type: 'string' },
  },
});
const imgsz = Number(values.imgsz);
const workers = Number(values.workers);
const wanted = Number(values.batches);
const stepMs = Number(values['step-ms']);

/** Stands in for a training step: the main thread is busy, workers keep going. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

const loader = await createTrainLoader({
  dataset: loadDatasetConfig(values.data),
  imgsz,
  batchSize: Number(values.batch),
  workers,
  seed: 0,
  labelCache: false,
  cache: values.cache === 'ram' ? 'ram' : false,
});
try {
  let images = 0;
  let batches = 0;
  const started = performance.now();
  for (let epoch = 0; batches < wanted; epoch++) {
    for await (const batch of loader.epoch(epoch)) {
      images += batch.images.shape[0]!;
      batch.images.dispose();
      batch.targets.dispose();
      busy(stepMs);
      if (++batches === wanted) break;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const { waitMs, collateMs } = loader.stats;
  console.log(
    `imgsz ${imgsz}, ${workers} workers, step ${stepMs} ms: ${(images / seconds).toFixed(1)} images/s; ` +
      `waiting for data ${((waitMs / 1000 / seconds) * 100).toFixed(1)}% of the time, ` +
      `collating ${(collateMs / batches).toFixed(1)} ms per batch`,
  );
} finally {
  await loader.close();
}
