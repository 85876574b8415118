// Parsers for command-line values, shared by every subcommand: each rejects bad input with one clear message.
import { InvalidArgumentError, Option } from 'commander';
import { NOMINAL_BATCH } from '../train/schedule.js';

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

export function integer(value: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
}

/** A parser for integers from min to max inclusive. */
export function integerInRange(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return n;
  };
}

/** A number in [0, 1]. */
export function fraction(value: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x < 0 || x > 1) throw new InvalidArgumentError('expected a number from 0 to 1');
  return x;
}

/** A number in [0, 1), for shares that must leave something (e.g. label smoothing). */
export function fractionBelowOne(value: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x < 0 || x >= 1) throw new InvalidArgumentError('expected a number from 0 to below 1');
  return x;
}

export function positiveNumber(value: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x <= 0) throw new InvalidArgumentError('expected a positive number');
  return x;
}

export function nonNegativeNumber(value: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x < 0) throw new InvalidArgumentError('expected a number ≥ 0');
  return x;
}

/** A repeatable or variadic option: each value parsed and appended. */
export function collect<T>(parse: (value: string) => T): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => [...(previous ?? []), parse(value)];
}

/** The values of a variadic `--img <size...>` option, one size (square) or height and width, as [height, width]. */
export function heightAndWidth(sizes: readonly number[]): [number, number] {
  if (sizes.length < 1 || sizes.length > 2) throw new InvalidArgumentError(`--img takes one size or height and width, got ${sizes.length} values`);
  return [sizes[0]!, sizes[1] ?? sizes[0]!];
}

/** `--nominal-batch`, shared by train and prune. */
export function nominalBatchOption(): Option {
  return new Option('--nominal-batch <n>', 'images per optimizer step: batches accumulate gradients up to it (64 as YOLOv5; on a small dataset a smaller one gives more steps per epoch)')
    .argParser(positiveInteger)
    .default(NOMINAL_BATCH);
}

/**
 * An option with more than commander's two long spellings. YOLOv5's argparse declares `--imgsz`, `--img` and
 * `--img-size` as one option and pasted commands use all three; commander finds the option for a word through
 * `is()` (not in its typings), so the extra spellings are answered there.
 */
class AliasedOption extends Option {
  private readonly aliases: string[];

  constructor(spellings: [string, string, ...string[]], argument: string, description: string) {
    super(`${spellings[0]}, ${spellings[1]} ${argument}`, description);
    this.aliases = spellings.slice(2);
    this.flags = `${spellings.join(', ')} ${argument}`;
  }

  is(arg: string): boolean {
    return arg === this.short || arg === this.long || this.aliases.includes(arg);
  }
}

const IMG_SPELLINGS: [string, string, string] = ['--img', '--imgsz', '--img-size'];

/** `--img` / `--imgsz` / `--img-size <pixels>`, one size (train, val, prune, benchmark); the value is `imgsz`. */
export function imgSizeOption(description: string, defaultValue = 640): Option {
  return new AliasedOption(IMG_SPELLINGS, '<pixels>', description).argParser(positiveInteger).default(defaultValue);
}

/**
 * The same spellings taking one size or height and width (detect, export), as `imgsz`; no default, since
 * commander would append the values given to it (see heightAndWidth).
 */
export function imgSizesOption(description: string): Option {
  return new AliasedOption(IMG_SPELLINGS, '<size...>', description).argParser(collect(positiveInteger));
}

/** `--batch` / `--batch-size <n>`: argparse takes `--batch` as an abbreviation, and tutorials write it so. */
export function batchSizeOption(description: string, defaultValue: number): Option {
  return new Option('--batch, --batch-size <n>', description).argParser(positiveInteger).default(defaultValue);
}

/** YOLOv5's `--device` takes cpu, 0, 0,1, cuda:0 or mps; the libtorch this addon is built with has the CPU only. */
function cpuDevice(value: string): 'cpu' {
  // YOLOv5 reads an empty --device as "the best there is", which here is the CPU.
  if (['cpu', ''].includes(value.trim().toLowerCase())) return 'cpu';
  throw new InvalidArgumentError('This build runs on the CPU only (libtorch without CUDA or MPS); --device cpu is the choice.');
}

/** `--device`, accepted by every command that runs a model so that pasted YOLOv5 commands work. */
export function deviceOption(): Option {
  return new Option('--device <device>', 'cpu (the only device of this build; cuda devices and mps are refused)').argParser(cpuDevice).default('cpu');
}
