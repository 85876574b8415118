import type { Command } from 'commander';
import { train } from '../../api/train.js';
import { resolveOptions } from '../../options/declare.js';
import { trainOptions, type TrainOptions } from '../../options/train.js';
import { declaredCommand } from '../declared-options.js';
import { launchIfAsked } from '../launch.js';

export function trainCommand(): Command {
  const description = 'train a detector on a dataset (as YOLOv5 train.py): from official .pt or our weights, or a model config';
  return declaredCommand(trainOptions, description).action(async (options: TrainOptions, command: Command) => {
    if (await launchIfAsked(resolveOptions(trainOptions, options), command)) return;
    // Ctrl-C finishes the current batch and stops, keeping the last finished epoch's checkpoint; twice quits now.
    const controller = new AbortController();
    const onSignal = () => {
      if (controller.signal.aborted) process.exit(130);
      console.error('\nStopping after this batch (Ctrl-C again to quit now); the last saved epoch is kept for --resume.');
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    try {
      const run = await train({ ...options, signal: controller.signal });
      if (!run.evolved && run.interrupted) process.exitCode = 130;
    } finally {
      process.off('SIGINT', onSignal);
    }
  });
}
