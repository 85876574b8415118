// Every `yolov5` subcommand, in the order `--help` lists them.
import type { Command } from 'commander';
import { datasetCommand } from './dataset.js';
import { benchmarkCommand } from './benchmark.js';
import { demoCommand } from './demo.js';
import { detectCommand } from './detect.js';
import { exportCommand } from './export.js';
import { trainCommand } from './train.js';
import { valCommand } from './val.js';
import { pruneCommand } from './prune.js';

export const commands: (() => Command)[] = [demoCommand, datasetCommand, trainCommand, valCommand, pruneCommand, exportCommand, detectCommand, benchmarkCommand];
