// synth(): `yolov5 dataset synth` as a library call, with the same options, defaults and messages.
import { generateSynthDataset, type SynthDataset } from '../data/synth.js';
import { resolveOptions } from '../options/declare.js';
import { synthOptions, type SynthOptions } from '../options/dataset.js';
import { progress, type Progress } from '../util/progress.js';
import { defaultLog, type RunControl } from './run-control.js';

export type { SynthDataset, SynthOptions };

/**
 * Writes the built-in synthetic dataset, as `yolov5 dataset synth`: shapes on cluttered backgrounds as an ordinary
 * YOLO dataset (`images/`, `labels/`, `data.yaml`) that every command reads; the same seed gives the same files. The
 * options are the command's flags in camelCase with the same defaults and messages (see docs/options.md#synth).
 * Returns the path of its data.yaml, the image counts and the class names.
 *
 * @example
 * const { yaml, names } = await synth({ out: 'shapes', images: 200, classes: 3, imgsz: 128 });
 * await train({ data: yaml, cfg: 'yolov5n', imgsz: 128, epochs: 10 });
 */
export async function synth(options: SynthOptions & Pick<RunControl, 'log'>): Promise<SynthDataset> {
  const { log = defaultLog, ...given } = options;
  const o = resolveOptions(synthOptions, given);
  const started = Date.now();
  // The total is known once generation starts (the default validation share is the generator's).
  let bar: Progress | undefined;
  let dataset: SynthDataset;
  try {
    dataset = await generateSynthDataset({
      out: o.out,
      images: o.images,
      ...(o.valImages === undefined ? {} : { valImages: o.valImages }),
      classes: o.classes,
      imgsz: o.imgsz,
      seed: o.seed,
      onProgress: (done, total) => (bar ??= progress({ title: 'synth', total, unit: 'images', log })).update(done),
    });
  } finally {
    bar?.stop();
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  log(`${dataset.train} train + ${dataset.val} val images, classes ${dataset.names.join(', ')}, in ${seconds}s`);
  log(`dataset YAML: ${dataset.yaml}`);
  return dataset;
}
