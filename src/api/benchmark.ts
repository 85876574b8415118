// benchmark(): `yolov5 benchmark` as a library call, with the same options, defaults, messages and table.
import { basename } from 'node:path';
import { benchmarkModel, formatBenchmark, type RuntimeBenchmark } from '../infer/benchmark.js';
import { benchmarkOptions, type BenchmarkCommandOptions } from '../options/benchmark.js';
import { resolveOptions, settingsLine } from '../options/declare.js';
import { defaultLog, type RunControl } from './run-control.js';

export type { BenchmarkCommandOptions };

/**
 * Measures a model's latency per stage (pre-process, inference, NMS) and FPS at batch 1 on one letterboxed image,
 * as `yolov5 benchmark`: on libtorch and ONNX Runtime, or ONNX Runtime alone for `.onnx` weights. The options are
 * the command's flags in camelCase with the same defaults and messages (see docs/options.md#benchmark); the
 * settings line and the table go to `log`. Returns one result per runtime (medians and minima in ms, FPS).
 *
 * For a model in memory, or several models timed side by side, see benchmarkModel() and compareOnnxLatency().
 *
 * @example
 * const [torch, onnx] = await benchmark({ weights: 'yolov5n.pt', imgsz: 320, runs: 20 });
 * console.log(torch!.inference.median, onnx!.fps);
 */
export async function benchmark(options: BenchmarkCommandOptions & Pick<RunControl, 'log'>): Promise<RuntimeBenchmark[]> {
  const { log = defaultLog, ...given } = options;
  const o = resolveOptions(benchmarkOptions, given);
  log(settingsLine(benchmarkOptions, o));
  const onnxOnly = o.weights.toLowerCase().endsWith('.onnx');
  const results = await benchmarkModel(o.weights, {
    imgsz: o.imgsz,
    image: o.source,
    runs: o.runs,
    warmup: o.warmup,
    threads: o.threads,
    runtimes: onnxOnly ? ['onnxruntime'] : ['libtorch', 'onnxruntime'],
  });
  log(`Benchmark of ${o.weights} on ${o.source ?? 'a synthetic 1280x720 image'}: ${o.runs} runs after ${o.warmup} warm-up runs, batch 1`);
  log(formatBenchmark([{ name: basename(o.weights), results }]));
  const torch = results.find((r) => r.runtime === 'libtorch');
  const onnx = results.find((r) => r.runtime === 'onnxruntime');
  if (torch && onnx) log(`ONNX Runtime end-to-end / libtorch inference only (medians): ${(onnx.total.median / torch.inference.median).toFixed(2)}`);
  return results;
}
