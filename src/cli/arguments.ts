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
