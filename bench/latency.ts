// ONNX Runtime latency of several trained or pruned models side by side (`node dist-test/bench/latency.js
// --weights control.safetensors pruned.safetensors`): batch 1, a 1280×720 frame letterboxed to 640×384, the models'
// runs alternating in one process so that a machine that speeds up or slows down affects all alike; once per
// thread count. Prints each model's median inference and end-to-end time (pre-process + inference + NMS), FPS,
// and its inference ratio to the first model.
// An .onnx file (e.g. an INT8 export at 640×384: `yolov5 export --int8 --img 384 640`) runs as it is.
// Options: --weights A B …  --threads 1,2  --runs 60
import { parseArgs } from 'node:util';
import { basename } from 'node:path';
import { loadModel } from '../src/checkpoint/index.js';
import { compareOnnxLatency } from '../src/infer/benchmark.js';
import { gflops } from '../src/model/summary.js';
import type { DetectionModel } from '../src/model/yolo.js';

const { values, positionals } = parseArgs({
  options: {
    weights: { type: 'string', multiple: true },
    threads: { type: 'string', default: '1,2' },
    runs: { type: 'string', default: '60' },
  },
  allowPositionals: true,
});
// `--weights A B` as the other commands take it: the paths after the first arrive as positionals.
const paths = [...(values.weights ?? []), ...positionals];
if (paths.length < 1) throw new Error('--weights: one or more checkpoints (.pt, .safetensors or .onnx); the first is the reference');
const models = await Promise.all(paths.map(async (path) => (path.toLowerCase().endsWith('.onnx') ? path : (await loadModel(path)).model)));
for (const threads of values.threads.split(',').map(Number)) {
  const measured = await compareOnnxLatency(models, { imgsz: 640, runs: Number(values.runs), warmup: 5, threads });
  console.log(`\nONNX Runtime, ${threads} thread(s), batch 1, 640×384, ${values.runs} alternating runs (medians)`);
  console.log('model                          GFLOPs@640  inference ms  end-to-end ms    FPS  inference ratio');
  measured.forEach((m, k) => {
    const row = [
      basename(paths[k]!).padEnd(30),
      (typeof models[k] === 'string' ? '-' : gflops(models[k] as DetectionModel).toFixed(2)).padStart(10),
      m.inference.median.toFixed(2).padStart(13),
      m.total.median.toFixed(2).padStart(14),
      (1000 / m.total.median).toFixed(1).padStart(6),
      (m.inference.median / measured[0]!.inference.median).toFixed(3).padStart(16),
    ];
    console.log(row.join(' '));
  });
}
