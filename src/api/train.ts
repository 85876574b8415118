// train(): `yolov5 train` as a library call, with the same options, defaults, messages and run folders.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { prepareDataset } from '../data/dataset-download.js';
import { incrementPath } from '../io/run-dir.js';
import { resolveOptions, settingsLine } from '../options/declare.js';
import { EVOLVE_GENERATIONS, trainOptions, type TrainOptions } from '../options/train.js';
import { inProcesses, speaks } from './processes.js';
import { evolve, type EvolveResult } from '../train/evolve.js';
import { train as runTraining, type TrainResult } from '../train/trainer.js';
import { defaultLog, type RunControl } from './run-control.js';

export type { TrainOptions };

/** What train() returns: the training's run, or with `evolve` the search's. */
export type TrainRun = ({ evolved: false } & TrainResult) | ({ evolved: true; saveDir: string } & EvolveResult);

/**
 * Trains a detector, as `yolov5 train` (YOLOv5's train.py): the options are the command's flags in camelCase
 * with the same defaults (`batchSize` for `--batch-size`, `cosLr` for `--cos-lr`, ...), checked with the same
 * messages; each is listed with its help in docs/options.md#train. Writes `runs/train/exp` (or `project/name`)
 * with opt.yaml, results.csv, pictures and `weights/last.safetensors` and `best.safetensors`. Returns the run
 * folder, both checkpoints, each epoch's losses and metrics and the final validation; with `evolve`, the search's
 * best hyperparameters and files instead.
 *
 * A process started by torchrun (WORLD_SIZE, RANK, ... set) trains as one of the group; `nprocPerNode` is the
 * command line's launcher and is refused here.
 *
 * @example
 * const run = await train({ data: 'data.yaml', weights: 'yolov5n.pt', epochs: 3, batchSize: 8 });
 * if (!run.evolved) console.log(run.bestPath, run.final?.map);
 */
export async function train(options: TrainOptions & RunControl): Promise<TrainRun> {
  const { log = defaultLog, signal, ...given } = options;
  const o = resolveOptions(trainOptions, given);
  const project = o.project ?? (o.evolve === undefined ? 'runs/train' : 'runs/evolve');
  const generations = o.evolve === true ? EVOLVE_GENERATIONS : o.evolve;
  if (speaks()) log(settingsLine(trainOptions, { ...o, project, evolve: generations }));
  if (!o.resume && !o.data) throw new Error('--data is required (unless resuming)');
  return inProcesses(o, async (group) => {
    if (group && generations !== undefined) throw new Error('--evolve trains one generation at a time: run it in one process');
    // The trainer takes the options it knows by the same names; the launcher's and --device are done with here.
    const settings = {
      ...o,
      data: o.data ? await prepareDataset(o.data) : o.data,
      cache: o.cache ? ('ram' as const) : (false as const),
      project,
      signal,
      log,
      group,
    };
    if (generations === undefined) return { evolved: false as const, ...(await runTraining(settings)) };
    if (o.resume) throw new Error('--evolve continues by itself: rerun the same command instead of --resume');
    // An existing search in project/name is continued; otherwise a new folder (exp, exp2, ...) starts one.
    const continuing = existsSync(join(project, o.name, 'evolve.csv'));
    const saveDir = incrementPath(project, o.name, continuing || o.existOk);
    const result = await evolve({ ...settings, saveDir, generations });
    log(`\nHyperparameter evolution finished: ${generations} generations in ${result.csv}, the best (mAP50-95 ${result.best.metrics[3].toFixed(4)}) in ${result.yaml}`);
    log(`Use it with: yolov5 train --hyp ${result.yaml}`);
    return { evolved: true as const, saveDir, ...result };
  });
}
