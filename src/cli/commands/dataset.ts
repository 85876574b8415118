import { Command } from 'commander';
import { generateSynthDataset, MAX_CLASSES, MIN_IMGSZ, MAX_IMGSZ } from '../../data/synth.js';
import { integer, integerInRange, positiveInteger } from '../arguments.js';
import { progress, type Progress } from '../../util/progress.js';

interface SynthOptions {
  out: string;
  images: number;
  valImages?: number;
  classes: number;
  img: number;
  seed: number;
}

function synthCommand(): Command {
  return new Command('synth')
    .description('generate the built-in synthetic shapes dataset (YOLO format: images/, labels/, data.yaml)')
    .requiredOption('--out <dir>', 'output folder (new, empty, or an earlier synthetic dataset to replace)')
    .option('--images <n>', 'training images', positiveInteger, 1000)
    .option('--val-images <n>', 'validation images (default: 20% of --images)', positiveInteger)
    .option('--classes <k>', `number of shape classes, 1 to ${MAX_CLASSES}`, integerInRange(1, MAX_CLASSES), 4)
    .option('--img <size>', `image size in pixels, ${MIN_IMGSZ} to ${MAX_IMGSZ}`, integerInRange(MIN_IMGSZ, MAX_IMGSZ), 128)
    .option('--seed <n>', 'random seed (same seed, same files)', integer, 0)
    .action(async (options: SynthOptions) => {
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
          imgsz: options.img,
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
