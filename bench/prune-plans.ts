// How the plan's budget and rounding turn into ONNX Runtime latency (`node dist-test/bench/prune-plans.js --weights W`):
// one gated (sparsity-trained) checkpoint pruned by several plans, each pruned model's inference measured against
// the original's with runs alternating. The channels removed are the same kind of choice the pipeline makes; no
// fine-tuning, so only the speed is meaningful here.
// Options: --weights runs/prune/exp/round1/weights/last.safetensors  --fraction 0.5  --runs 40  --threads 1
import { parseArgs } from 'node:util';
import { loadModel } from '../src/checkpoint/index.js';
import { compareOnnxLatency } from '../src/infer/benchmark.js';
import { gflops, latencyCost } from '../src/model/summary.js';
import { analyzeDependencies } from '../src/prune/dependency.js';
import { groupImportance, planByBudget, type CostMeasure } from '../src/prune/plan.js';
import { applyPlan } from '../src/prune/surgery.js';

const { values } = parseArgs({
  options: {
    weights: { type: 'string' },
    fraction: { type: 'string', default: '0.5' },
    runs: { type: 'string', default: '40' },
    threads: { type: 'string', default: '1' },
  },
});
if (!values.weights) throw new Error('--weights: a checkpoint with gates (e.g. a prune run\'s round1/weights/last.safetensors)');
const fraction = Number(values.fraction);
const { model } = await loadModel(values.weights);
const variants: { measure: CostMeasure; round: number }[] = [
  { measure: 'flops', round: 8 },
  { measure: 'flops', round: 16 },
  { measure: 'latency', round: 8 },
  { measure: 'latency', round: 16 },
];
const graph = analyzeDependencies(model);
const importance = groupImportance(graph, 'gate');
const pruned = variants.map(({ measure, round }) => applyPlan(model, graph, planByBudget(model, graph, importance, fraction, { measure, round, imgsz: 640 })));
const [original, ...measured] = await compareOnnxLatency([model, ...pruned], { imgsz: 640, runs: Number(values.runs), warmup: 5, threads: Number(values.threads) });
console.log(`${values.weights}: budget ${fraction} of the original, ONNX Runtime ${values.threads} thread(s), ${values.runs} alternating runs`);
console.log(`original: ${gflops(model).toFixed(2)} GFLOPs, inference ${original!.inference.median.toFixed(2)} ms`);
console.log('budget    round  GFLOPs  est. latency  inference ms  ratio');
variants.forEach(({ measure, round }, k) => {
  const m = pruned[k]!;
  const row = [
    measure.padEnd(8),
    String(round).padStart(6),
    (gflops(m) / gflops(model)).toFixed(3).padStart(7),
    (latencyCost(m) / latencyCost(model)).toFixed(3).padStart(13),
    measured[k]!.inference.median.toFixed(2).padStart(13),
    (measured[k]!.inference.median / original!.inference.median).toFixed(3).padStart(6),
  ];
  console.log(row.join('  '));
});
