import type { Command } from 'commander';
import { benchmark } from '../../api/benchmark.js';
import { benchmarkOptions, type BenchmarkCommandOptions } from '../../options/benchmark.js';
import { declaredCommand } from '../declared-options.js';

export function benchmarkCommand(): Command {
  const description = 'latency per stage and FPS of a model on libtorch and ONNX Runtime (batch 1, one letterboxed image)';
  return declaredCommand(benchmarkOptions, description).action(async (options: BenchmarkCommandOptions) => {
    await benchmark(options);
  });
}
