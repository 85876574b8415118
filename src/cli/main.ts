#!/usr/bin/env node
// The `yolov5` command line.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { commands } from './commands/index.js';
import { expandAbbreviations } from './abbreviations.js';
import { growHeapFreely } from '../util/heap-growth.js';

growHeapFreely();

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('yolov5')
  .description('YOLOv5 object detection in TypeScript — train, validate, detect, export, and prune for real-time CPU inference')
  .version(pkg.version, '-v, --version')
  .showHelpAfterError();
for (const make of commands) program.addCommand(make());

// Node's default SIGTERM and SIGHUP (terminal closed) end the process without its 'exit' handlers, which end
// ffmpeg children and release run-folder locks; exiting through process.exit runs them (128 + signal number).
process.once('SIGTERM', () => process.exit(143));
process.once('SIGHUP', () => process.exit(129));

const fail = (error: unknown) => {
  console.error(`yolov5: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
};
try {
  program.parseAsync(expandAbbreviations(program, process.argv.slice(2)), { from: 'user' }).catch(fail);
} catch (error) {
  fail(error);
}
