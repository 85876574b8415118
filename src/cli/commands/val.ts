import type { Command } from 'commander';
import { val } from '../../api/val.js';
import { valOptions, type ValOptions } from '../../options/val.js';
import { declaredCommand } from '../declared-options.js';

export function valCommand(): Command {
  const description = 'validate a trained detector on a dataset split: P, R, mAP50, mAP50-95 (as YOLOv5 val.py)';
  return declaredCommand(valOptions, description).action(async (options: ValOptions) => {
    await val(options);
  });
}
