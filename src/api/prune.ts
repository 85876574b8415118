// prune(): `yolov5 prune` as a library call, with the same options, defaults, messages and run folders.
import { resolveWeights } from '../checkpoint/index.js';
import { prepareDataset } from '../data/dataset-download.js';
import { resolveOptions, settingsLine } from '../options/declare.js';
import { pruneOptions, type PruneOptions } from '../options/prune.js';
import { prunePipeline, type PruneResult } from '../prune/pipeline.js';
import { inProcesses, speaks, withoutProcessOptions } from './processes.js';
import { defaultLog } from './run-control.js';

export type { PruneOptions, PruneResult };

/**
 * Prunes a trained model's channels, as `yolov5 prune`: rounds of sparsity training and pruning to a target
 * (`targetFlops`, `targetLatency`, `ratio` or `threshold`) within an epoch budget (`epochs`), then fine-tuning.
 * The options are the command's flags in camelCase (`cache: false` for `--no-cache`), each listed with its help in
 * docs/options.md#prune; those left out are chosen by the recipe and printed with their reasons. Writes
 * `runs/prune/exp` (or `project/name`): report.md and `pruned.safetensors`. Returns the run folder, the report
 * (original and pruned figures, each round) and the pruned checkpoint's path as `weights`.
 *
 * A process started by torchrun (WORLD_SIZE, RANK, ... set) runs the sparsity training and fine-tuning as one of the
 * group; rank 0 alone validates, prunes and writes, and every rank returns its result.
 *
 * @example
 * const { weights, report } = await prune({ weights: 'best.safetensors', data: 'data.yaml', targetFlops: 0.5, epochs: 12 });
 */
export async function prune(options: PruneOptions & { log?: (line: string) => void }): Promise<PruneResult> {
  const { log = defaultLog, ...given } = options;
  const o = resolveOptions(pruneOptions, given);
  if (speaks()) log(settingsLine(pruneOptions, o));
  if (!o.resume && (!o.weights || !o.data)) throw new Error('prune needs --weights and --data (or --resume)');
  const settings = withoutProcessOptions(o);
  return inProcesses(o, async (group) => {
    const pipelineOptions = {
      ...settings,
      weights: settings.weights ? await resolveWeights(settings.weights) : '',
      data: settings.data ? await prepareDataset(settings.data) : '',
      log,
    };
    return prunePipeline(pipelineOptions, group && { group, syncBn: o.syncBn, bucketCapMb: o.bucketCapMb });
  });
}
