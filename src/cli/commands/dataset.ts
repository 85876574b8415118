import { Command } from 'commander';
import { synth } from '../../api/synth.js';
import { synthOptions, type SynthOptions } from '../../options/dataset.js';
import { declaredCommand } from '../declared-options.js';

function synthCommand(): Command {
  const description = 'generate the built-in synthetic shapes dataset (YOLO format: images/, labels/, data.yaml)';
  return declaredCommand(synthOptions, description).action(async (options: SynthOptions) => {
    await synth(options);
  });
}

export function datasetCommand(): Command {
  return new Command('dataset').description('make datasets').addCommand(synthCommand());
}
