// hyp.yaml and opt.yaml, written into a run folder when training starts (as YOLOv5's train.py): the
// hyperparameters as given, and every setting of the run under YOLOv5's option names.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { RunSettings } from './train-checkpoint.js';

/** camelCase → snake_case, which turns our setting names into YOLOv5's (batchSize → batch_size, cosLr → cos_lr). */
const snakeCase = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Writes hyp.yaml and opt.yaml into `saveDir`; `initial` names what the model started from. */
export function writeRunFiles(saveDir: string, settings: RunSettings, initial: { weights?: string; cfg?: string }): void {
  writeFileSync(join(saveDir, 'hyp.yaml'), stringify(settings.hyp));
  const opt = Object.fromEntries([
    ['weights', initial.weights ?? ''],
    ['cfg', initial.cfg ?? ''],
    ...Object.entries(settings).map(([key, value]) => [snakeCase(key), value]),
  ]);
  writeFileSync(join(saveDir, 'opt.yaml'), stringify(opt));
}
