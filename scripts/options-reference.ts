// docs/options.md from the declarations (src/options/): every command's options with their library name, flags,
// value, default and help, so that a library user reads the help the command line prints. The option types are
// mapped from the declarations and a help string cannot become their TSDoc, so this page is how the help reaches
// the library; test/options-reference.test.ts fails while the committed page differs from what this writes.
//
//   make dist-test/.stamp && node dist-test/scripts/options-reference.js
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { benchmarkOptions } from '../src/options/benchmark.js';
import { demoOptions, synthOptions } from '../src/options/dataset.js';
import { flagsText, type Declaration, type OptionSpec } from '../src/options/declare.js';
import { detectOptions } from '../src/options/detect.js';
import { exportOptions } from '../src/options/export.js';
import { pruneOptions } from '../src/options/prune.js';
import { trainOptions } from '../src/options/train.js';
import { valOptions } from '../src/options/val.js';

export const REFERENCE_FILE = 'docs/options.md';

/** Each declaration with the command and the library function made from it, in the order of `yolov5 --help`. */
export const REFERENCED: readonly { declaration: Declaration; command: string; fn: string; type: string }[] = [
  { declaration: demoOptions, command: 'yolov5 demo', fn: 'demo', type: 'DemoOptions' },
  { declaration: synthOptions, command: 'yolov5 dataset synth', fn: 'synth', type: 'SynthOptions' },
  { declaration: trainOptions, command: 'yolov5 train', fn: 'train', type: 'TrainOptions' },
  { declaration: valOptions, command: 'yolov5 val', fn: 'val', type: 'ValOptions' },
  { declaration: pruneOptions, command: 'yolov5 prune', fn: 'prune', type: 'PruneOptions' },
  { declaration: exportOptions, command: 'yolov5 export', fn: 'exportModel', type: 'ExportModelOptions' },
  { declaration: detectOptions, command: 'yolov5 detect', fn: 'runDetect', type: 'DetectCommandOptions' },
  { declaration: benchmarkOptions, command: 'yolov5 benchmark', fn: 'benchmark', type: 'BenchmarkCommandOptions' },
];

const INTRO = `# Options of every command

Generated from the declarations in \`src/options/\` by \`scripts/options-reference.ts\`; do not edit by hand.

Each command's options are declared once: the flag of \`yolov5 <command>\` and the option of its library function
are the same option, with the same default and the same error message for a bad value. The library name is the
flag in camelCase (\`--conf-thres\` is \`confThres\`); a switch that is on by default and turned off by its \`--no-\`
flag (\`--no-cache\`) is \`false\` in the library (\`cache: false\`). Options without a default stay unset unless
given; their help says what happens then. Besides these, every function takes \`log\` (where the lines it prints
go; default \`console.log\`), and \`train()\` and \`runDetect()\` take \`signal\` (an \`AbortSignal\` that stops the run
as Ctrl-C does).`;

/** A default as a library caller writes it. */
function literal(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/** Help text inside a table cell: `|` would end the cell and `<word>` would read as an HTML tag. */
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('<', '&lt;');

function row(name: string, spec: OptionSpec): string {
  const fallback = spec.default !== undefined ? `\`${literal(spec.default)}\`` : spec.required ? '**required**' : '—';
  return `| \`${name}\` | \`${flagsText(name, spec)}\` | ${cell(spec.type.description)} | ${fallback} | ${cell(spec.help)} |`;
}

function section({ declaration, command, fn, type }: (typeof REFERENCED)[number]): string {
  const rows = Object.entries(declaration.specs).map(([name, spec]) => row(name, spec));
  return [
    `## ${declaration.command}`,
    '',
    `\`${command}\` · \`${fn}(options: ${type})\``,
    '',
    '| Option | Flags | Value | Default | Help |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** The page, as committed in docs/options.md. */
export function optionsReference(): string {
  const contents = REFERENCED.map(({ declaration, fn }) => `[${declaration.command}](#${declaration.command}) (\`${fn}()\`)`).join(' · ');
  return [INTRO, contents, ...REFERENCED.map(section)].join('\n\n') + '\n';
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(REFERENCE_FILE, optionsReference());
  console.log(`wrote ${REFERENCE_FILE}`);
}
