// Parity of `yolov5 val` with the official implementation on the whole of COCO128 val, an acceptance check too
// long for `make test` (whose test/val-parity.test.ts covers the 32 fixture images):
//   node dist-test/bench/val-parity.js --data <folder>/coco128/coco128.yaml [--tolerance 0.002]
// Runs every official setting of the reference file's `coco128_val.results` (image size, batch size), prints
// ours against theirs and exits 1 when any metric differs by more than the tolerance.
import { parseArgs } from 'node:util';
import { loadModel } from '../src/checkpoint/index.js';
import { validate } from '../src/val/validator.js';
import { metricPairs, readOfficialReference } from '../test/helpers/official-val.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    weights: { type: 'string', default: 'test/fixtures/yolov5n.pt' },
    reference: { type: 'string', default: 'test/fixtures/reference/yolov5n-val-official.json' },
    tolerance: { type: 'string', default: '0.002' },
  },
});
if (!values.data) throw new Error('--data: the COCO128 dataset yaml (e.g. <shared data>/datasets/coco128/coco128.yaml)');
const tolerance = Number(values.tolerance);

const official = readOfficialReference(values.reference).coco128_val.results;
const { model } = await loadModel(values.weights);

let worst = 0;
for (const expected of official) {
  const started = performance.now();
  const result = await validate(model, { data: values.data, imgsz: expected.imgsz, batchSize: expected.batch_size, confThres: 0.001, iouThres: 0.6, maxDet: 300, quiet: true });
  const cells = metricPairs(result, expected).map(([name, ours, theirs]) => {
    worst = Math.max(worst, Math.abs(ours - theirs));
    return `${name} ${ours.toFixed(4)} (official ${theirs.toFixed(4)}, ${(ours - theirs >= 0 ? '+' : '') + (ours - theirs).toFixed(4)})`;
  });
  console.log(`imgsz ${expected.imgsz} batch ${expected.batch_size}, ${result.seen} images: ${cells.join(', ')}; ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
console.log(`largest difference ${worst.toFixed(4)}, tolerance ${tolerance}`);
if (worst > tolerance) process.exitCode = 1;
