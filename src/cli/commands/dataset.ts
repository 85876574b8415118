import { Command } from 'commander';
import { generateSynthDataset } from '../../data/synth.js';
import { resolveOptions, type OptionsOf } from '../../options/declare.js';
import { synthOptions } from '../../options/dataset.js';
import { progress, type Progress } from '../../util/progress.js';
import { declaredCommand } from '../declared-options.js';

function synthCommand(): Command {
  const description = 'generate the built-in synthetic shapes dataset (YOLO format: images/, labels/, data.yaml)';
  return declaredCommand(synthOptions, description).action(async (given: OptionsOf<typeof synthOptions>) => {
    const options = resolveOptions(synthOptions, given);
    const started = Date.now();
    // The total is known once generation starts (the default validation share is the generator's).
    let bar: Progress | undefined;
    let dataset;
    try {
      dataset = await generateSynthDataset({
        out: options.out,
        images: options.images,
        ...(options.valImages === undefined ? {} : { valImages: options.valImages }),
        classes: options.classes,
        imgsz: options.imgsz,
        seed: options.seed,
        onProgress: (done, total) => {
          bar ??= progress({ title: 'synth', total, unit: 'images' });
          bar.update(done);
        },
      });
    } finally {
      bar?.stop();
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`${dataset.train} train + ${dataset.val} val images, classes ${dataset.names.join(', ')}, in ${seconds}s`);
    console.log(`dataset YAML: ${dataset.yaml}`);
  });
}

export function datasetCommand(): Command {
  return new Command('dataset').description('make datasets').addCommand(synthCommand());
}
