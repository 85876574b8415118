// Every `yolov5` subcommand, in the order `--help` lists them.
import type { Command } from 'commander';
import { datasetCommand } from './dataset.js';
import { demoCommand } from './demo.js';
import { trainCommand } from './train.js';
import { valCommand } from './val.js';

export const commands: (() => Command)[] = [demoCommand, datasetCommand, trainCommand, valCommand];
