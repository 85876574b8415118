import { Command } from 'commander';
import { basename } from 'node:path';
import { benchmarkModel, formatBenchmark } from '../../infer/benchmark.js';
import { deviceOption, imgSizeOption, positiveInteger } from '../arguments.js';
import { settingsLine } from '../settings-line.js';

interface BenchmarkCliOptions {
  weights: string;
  imgsz: number;
  source?: string;
  runs: number;
  warmup: number;
  threads?: number;
}

export function benchmarkCommand(): Command {
  return new Command('benchmark')
    .description('latency per stage and FPS of a model on libtorch and ONNX Runtime (batch 1, one letterboxed image)')
    .requiredOption('--weights <path>', 'official .pt or yolov5-ts .safetensors (both runtimes), or .onnx (ONNX Runtime)')
    .addOption(imgSizeOption('inference size (long side)'))
    .option('--source <image>', 'image to run on (default: a synthetic 1280x720 picture, letterboxed to 640x384)')
    .option('--runs <n>', 'timed runs per runtime', positiveInteger, 50)
    .option('--warmup <n>', 'untimed runs first', positiveInteger, 5)
    .option('--threads <n>', 'intra-op threads of both runtimes (default: all cores for ONNX Runtime, libtorch default)', positiveInteger)
    .addOption(deviceOption())
    .action(async (o: BenchmarkCliOptions, command: Command) => {
      console.log(settingsLine(command));
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
