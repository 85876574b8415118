// demo(): `yolov5 demo` as a library call, with the same options, defaults, messages and output folder.
import { runDemo } from '../demo/pipeline.js';
import type { DemoResult } from '../demo/result.js';
import { resolveOptions } from '../options/declare.js';
import { demoOptions, type DemoOptions } from '../options/dataset.js';
import { defaultLog, type RunControl } from './run-control.js';

export type { DemoOptions, DemoResult };

/**
 * The project end to end on data it makes itself, as `yolov5 demo`: a synthetic dataset, a small YOLOv5 trained
 * from scratch, pruned to about half its GFLOPs and fine-tuned, both models exported to ONNX (the pruned one also
 * to INT8), timed in ONNX Runtime and run on held-out images. The options are the command's flags in camelCase
 * with the same defaults and messages (see docs/options.md#demo); `fast: true` runs every stage on a tiny plan.
 * Writes everything under `out` (default runs/demo) and returns each stage's files, figures and time.
 *
 * @example
 * const { original, pruned } = await demo({ out: 'runs/demo', fast: true });
 * console.log(original.map50, pruned.map50, pruned.gflops / original.gflops);
 */
export async function demo(options: DemoOptions & Pick<RunControl, 'log'>): Promise<DemoResult> {
  const { log = defaultLog, ...given } = options;
  return runDemo({ ...resolveOptions(demoOptions, given), log });
}
