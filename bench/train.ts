// Training throughput (`node dist-test/bench/train.js`): images per second of full training steps (forward, loss,
// backward, clipping, optimizer, EMA) for yolov5n at 640 on coco128 with the real augmenting loader, and the share
// of wall time the step loop spends waiting for data.
// Options: --batch 8,16  --steps 6  --workers <n>  --img 640  --weights ../shared/weights/yolov5n.pt
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { getNumThreads } from '../src/torch/index.js';
import { loadModel } from '../src/checkpoint/index.js';
import { loadDatasetConfig } from '../src/data/dataset-config.js';
import { createTrainLoader } from '../src/data/train-loader.js';
import { loadHyp, scaleLossGains } from '../src/train/hyp.js';
import { YoloLoss } from '../src/train/loss.js';
import { createOptimizer, groupParameters } from '../src/train/optimizer.js';
import { ModelEMA } from '../src/train/ema.js';
import { forwardBackward, optimizerStep } from '../src/train/step.js';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '8,16' },
    steps: { type: 'string', default: '6' },
    workers: { type: 'string', default: String(Math.min(availableParallelism(), 8)) },
    img: { type: 'string', default: '640' },
    weights: { type: 'string', default: '../shared/weights/yolov5n.pt' },
    data: { type: 'string', default: '../shared/datasets/coco128/coco128.yaml' },
  },
});
const batches = values.batch.split(',').map(Number);
const steps = Number(values.steps);
const workers = Number(values.workers);
const imgsz = Number(values.img);

const data = loadDatasetConfig(values.data);
const { model } = await loadModel(values.weights);
model.train();
const hyp = scaleLossGains(loadHyp(), { nl: model.detect.nl, nc: model.nc, imgsz });
const loss = new YoloLoss(model, hyp);
const optimizer = createOptimizer('SGD', groupParameters(model), { lr: 0.001, momentum: hyp.momentum, weightDecay: hyp.weight_decay });
const ema = new ModelEMA(model);
const parameters = model.parameters();

console.log(`training throughput: ${values.weights} at ${imgsz}, ${getNumThreads()} libtorch threads, ${workers} loader workers, ${steps} timed steps after 1 warm-up step`);
for (const batchSize of batches) {
  const loader = await createTrainLoader({ dataset: data, split: 'train', imgsz, batchSize, hyp, workers, seed: 0 });
  let epoch = 0;
  let done = 0;
  let images = 0;
  let waitMs = 0;
  let stepMs = 0;
  let stepEnded = 0;
  // Every batch is a full step followed by an optimizer update (no accumulation), the costlier case. The wait
  // is the time from the end of one step until the next batch is in hand; the first batch (workers starting) and
  // its step (allocator warm-up) are not timed.
  timing: while (true) {
    for await (const batch of loader.epoch(epoch)) {
      const arrived = performance.now();
      if (done > 0) waitMs += arrived - stepEnded;
      try {
        forwardBackward(model, loss, batch.images, batch.targets);
        optimizerStep(optimizer, [parameters], ema, model);
      } finally {
        batch.images.dispose();
        batch.targets.dispose();
      }
      stepEnded = performance.now();
      if (done > 0) {
        stepMs += stepEnded - arrived;
        images += batch.indices.length;
      }
      if (++done > steps) break timing;
    }
    epoch++;
  }
  await loader.close();
  const wall = stepMs + waitMs;
  console.log(
    `batch ${String(batchSize).padStart(3)}: ${((images / wall) * 1000).toFixed(2)} images/s, ` +
      `${(stepMs / steps / 1000).toFixed(2)} s/step, data wait ${((100 * waitMs) / wall).toFixed(1)}% of ${(wall / 1000).toFixed(1)} s`,
  );
}
