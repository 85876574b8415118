import type { Command } from 'commander';
import { basename } from 'node:path';
import { benchmarkModel, formatBenchmark } from '../../infer/benchmark.js';
import { benchmarkOptions, type BenchmarkCommandOptions } from '../../options/benchmark.js';
import { resolveOptions, settingsLine } from '../../options/declare.js';
import { declaredCommand } from '../declared-options.js';

export function benchmarkCommand(): Command {
  const description = 'latency per stage and FPS of a model on libtorch and ONNX Runtime (batch 1, one letterboxed image)';
  return declaredCommand(benchmarkOptions, description).action(async (options: BenchmarkCommandOptions) => {
    const o = resolveOptions(benchmarkOptions, options);
    console.log(settingsLine(benchmarkOptions, o));
    const onnxOnly = o.weights.toLowerCase().endsWith('.onnx');
    const results = await benchmarkModel(o.weights, {
      imgsz: o.imgsz,
      image: o.source,
      runs: o.runs,
      warmup: o.warmup,
      threads: o.threads,
      runtimes: onnxOnly ? ['onnxruntime'] : ['libtorch', 'onnxruntime'],
    });
    console.log(`Benchmark of ${o.weights} on ${o.source ?? 'a synthetic 1280x720 image'}: ${o.runs} runs after ${o.warmup} warm-up runs, batch 1`);
    console.log(formatBenchmark([{ name: basename(o.weights), results }]));
    const torch = results.find((r) => r.runtime === 'libtorch');
    const onnx = results.find((r) => r.runtime === 'onnxruntime');
    if (torch && onnx) {
      const ratio = onnx.total.median / torch.inference.median;
      console.log(`ONNX Runtime end-to-end / libtorch inference only (medians): ${ratio.toFixed(2)}`);
    }
  });
}
