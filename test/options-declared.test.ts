// One declaration per command (src/options): the command line and the library take the same names, defaults and
// messages, every default passes its own check, and the declarations stay below the library and the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { commands } from '../src/cli/commands/index.js';
import { flagsText, resolveOptions, settingsLine, type Declaration, type OptionSpec } from '../src/options/declare.js';
import { benchmarkOptions } from '../src/options/benchmark.js';
import { demoOptions, synthOptions } from '../src/options/dataset.js';
import { detectOptions } from '../src/options/detect.js';
import { exportOptions } from '../src/options/export.js';
import { pruneOptions } from '../src/options/prune.js';
import { loadState } from '../src/prune/state.js';
import { trainOptions } from '../src/options/train.js';
import { valOptions } from '../src/options/val.js';
import { train, val, prune, exportModel, runDetect, benchmark, synth, demo } from '../src/index.js';

const run = promisify(execFile);
const CLI = 'dist/cli/main.js';

const declarations: [Declaration, string[]][] = [
  [trainOptions, ['train']],
  [valOptions, ['val']],
  [pruneOptions, ['prune']],
  [exportOptions, ['export']],
  [detectOptions, ['detect']],
  [benchmarkOptions, ['benchmark']],
  [synthOptions, ['dataset', 'synth']],
  [demoOptions, ['demo']],
];

function cliCommand(path: string[]): Command {
  let command = commands.map((make) => make()).find((c) => c.name() === path[0])!;
  for (const name of path.slice(1)) command = command.commands.find((c) => c.name() === name)!;
  return command;
}

const kebab = (name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

test('every declared option is a flag of its command: camelCase ↔ kebab-case, same default, help with the default', () => {
  for (const [declaration, path] of declarations) {
    const command = cliCommand(path);
    const help = command.helpInformation().replace(/\s+/g, ' ');
    const specs: [string, OptionSpec][] = Object.entries(declaration.specs);
    // A switch spelled both ways (--fade, --no-fade) is two commander options under one name.
    const names = command.options.map((o) => o.attributeName()).filter((name, i, all) => all[i - 1] !== name);
    assert.deepEqual(names, specs.map(([name]) => name), `${path.join(' ')}: the options in the order declared`);
    for (const [name, spec] of specs) {
      const options = command.options.filter((o) => o.attributeName() === name);
      const option = options[0]!;
      assert.equal(options.map((o) => o.flags).join(', '), flagsText(name, spec), `${name}`);
      assert.ok(option.flags.split(/[ ,]+/).includes(kebab(name)) || option.negate, `${name}: its flag is ${kebab(name)} (or an alias of it)`);
      assert.deepEqual(option.defaultValue, spec.default, `${path.join(' ')} ${name}: the same default`);
      for (const each of options) assert.ok(help.includes(each.flags), `${each.flags} in help`);
      if (spec.default !== undefined && !option.negate) {
        assert.ok(help.includes(`default: ${JSON.stringify(spec.default)})`), `${path.join(' ')} --help shows ${name}'s default ${JSON.stringify(spec.default)}`);
      }
    }
  }
});

test('every default passes its own check, and resolving nothing gives the defaults', () => {
  for (const [declaration] of declarations) {
    for (const [name, spec] of Object.entries(declaration.specs) as [string, OptionSpec][]) {
      if (spec.default !== undefined) assert.deepEqual(spec.type.check(spec.default), spec.default, `${declaration.command} ${name}`);
    }
  }
  const resolved = resolveOptions(valOptions, { weights: ['w.pt'], data: 'd.yaml' });
  assert.deepEqual(
    { imgsz: resolved.imgsz, batchSize: resolved.batchSize, confThres: resolved.confThres, iouThres: resolved.iouThres, task: resolved.task, project: resolved.project },
    { imgsz: 640, batchSize: 16, confThres: 0.001, iouThres: 0.6, task: 'val', project: 'runs/val' },
  );
  assert.deepEqual(resolveOptions(detectOptions, { weights: ['w.pt'], source: 'x', imgsz: 320 }).imgsz, [320, 320], 'one size is square');
  assert.equal(
    settingsLine(exportOptions, resolveOptions(exportOptions, { weights: 'w.pt', imgsz: [384, 640] })),
    'export: weights=w.pt, include=[onnx], imgsz=[384, 640], batch_size=1, dynamic=false, int8=false, calib_images=256, calib_method=percentile, device=cpu',
  );
});

test('the library and the command line refuse a bad value with the same message', async () => {
  const cases: { args: string[]; call: () => Promise<unknown> }[] = [
    { args: ['train', '--epochs', '-1'], call: () => train({ data: 'd.yaml', epochs: -1 }) },
    { args: ['train', '--label-smoothing', '1'], call: () => train({ data: 'd.yaml', labelSmoothing: 1 }) },
    { args: ['val', '--weights', 'w.pt', '--data', 'd.yaml', '--conf-thres', '2'], call: () => val({ weights: ['w.pt'], data: 'd.yaml', confThres: 2 }) },
    { args: ['prune', '--target-flops', '1.5'], call: () => prune({ targetFlops: 1.5 }) },
    { args: ['export', '--weights', 'w.pt', '--calib-method', 'average'], call: () => exportModel({ weights: 'w.pt', calibMethod: 'average' as 'minmax' }) },
    { args: ['detect', '--weights', 'w.pt', '--source', 'x.jpg', '--device', 'cuda:0'], call: () => runDetect({ weights: ['w.pt'], source: 'x.jpg', device: 'cuda:0' }) },
    { args: ['val', '--data', 'd.yaml'], call: () => val({ data: 'd.yaml' } as Parameters<typeof val>[0]) },
    { args: ['benchmark', '--weights', 'w.pt', '--runs', '0'], call: () => benchmark({ weights: 'w.pt', runs: 0 }) },
    { args: ['dataset', 'synth', '--out', 'o', '--classes', '9'], call: () => synth({ out: 'o', classes: 9 }) },
    { args: ['demo', '--seed', '-1'], call: () => demo({ seed: -1 }) },
  ];
  for (const { args, call } of cases) {
    const cli = await run(process.execPath, [CLI, ...args], { timeout: 60_000 }).then(
      () => assert.fail(`${args.join(' ')} should fail`),
      (e: { stderr: string }) => e.stderr.trim().split('\n')[0]!,
    );
    const library = await call().then(
      () => assert.fail(`the library call for ${args.join(' ')} should fail`),
      (e: Error) => e.message,
    );
    assert.equal(cli, `error: ${library}`, args.join(' '));
  }
  await assert.rejects(train({ data: 'd.yaml', epoch: 3 } as Parameters<typeof train>[0]), /train: unknown option epoch \(known: data, weights, /);
  await assert.rejects(benchmark({ weights: 'w.pt', run: 3 } as Parameters<typeof benchmark>[0]), /^Error: benchmark: unknown option run \(known: weights, imgsz, source, runs, warmup, threads, device\)$/);
  await assert.rejects(synth({ out: 'o', size: 64 } as Parameters<typeof synth>[0]), /^Error: synth: unknown option size \(known: out, images, valImages, classes, imgsz, seed\)$/);
  await assert.rejects(demo({ fast: true, quick: true } as Parameters<typeof demo>[0]), /^Error: demo: unknown option quick \(known: out, fast, seed\)$/);
});

test('old spellings stay aliases of the unified names', async () => {
  const parsed = async (path: string[], args: string[]) => {
    let options: Record<string, unknown> = {};
    await cliCommand(path)
      .exitOverride()
      .configureOutput({ writeErr: () => {} })
      .action((o: Record<string, unknown>) => void (options = o))
      .parseAsync(args, { from: 'user' });
    return options;
  };
  const detect = await parsed(['detect'], ['--weights', 'w.pt', '--source', 'x', '--conf-thres', '0.4', '--agnostic-nms', '--img', '384', '640']);
  assert.deepEqual([detect.confThres, detect.agnosticNms, detect.imgsz], [0.4, true, [384, 640]]);
  assert.equal((await parsed(['dataset', 'synth'], ['--out', 'o', '--img', '96'])).imgsz, 96, 'synth: --img is imgsz as everywhere');
  const prune = await parsed(['prune'], ['--no-cache', '--no-benchmark', '--calibration-images', '8']);
  assert.deepEqual([prune.cache, prune.benchmark, prune.calibImages], [false, false, 8]);
  for (const [path, args] of [[['prune'], []], [['export'], ['--weights', 'w.pt']]] as const) {
    assert.equal((await parsed([...path], [...args, '--calib-images', '8'])).calibImages, 8, `${path[0]}: --calib-images`);
  }
});

test('a prune run saved before calibrationImages became calibImages resumes with its value', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prune-state-'));
  try {
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ settings: { saveDir: dir, calibrationImages: 8 }, rounds: [], done: false }));
    const { settings } = loadState(dir);
    assert.equal(settings.calibImages, 8);
    assert.ok(!('calibrationImages' in settings));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the declarations sit below the library and the command line: nothing under src/options imports them', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  for (const file of files('src')) {
    const imports = [...readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
    const layer = file.split('/')[1]!;
    if (layer === 'options') assert.ok(!imports.some((i) => /\/(api|cli)\//.test(i)), `${file} imports the library or the command line`);
    else if (!['api', 'cli', 'index.ts'].includes(layer)) assert.ok(!imports.some((i) => /\/(options|api|cli)\//.test(i)), `${file} imports a layer above it`);
  }
});

test('a switch spelled both ways stays undefined when neither is given: prune --fade / --no-fade', () => {
  const parsed = (...words: string[]) => {
    const command = cliCommand(['prune']).exitOverride();
    command.action(() => undefined).parse(['--weights', 'w.pt', '--data', 'd.yaml', ...words], { from: 'user' });
    return command.opts().fade as boolean | undefined;
  };
  assert.equal(parsed(), undefined, 'left to the recipe');
  assert.equal(parsed('--fade'), true);
  assert.equal(parsed('--no-fade'), false);
  assert.equal(resolveOptions(pruneOptions, { weights: 'w.pt', data: 'd.yaml' }).fade, undefined);
});
