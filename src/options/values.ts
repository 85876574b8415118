// The kinds of option values: each reads a command-line word and checks a library value by the same rule, so
// `--epochs -1` and `train({ epochs: -1 })` are refused with the same reason.

/** Why a value is refused; the option's name is added by whoever knows it (see declare.ts). */
export class OptionValueError extends Error {}

export interface ValueType<T, In = T> {
  /**
   * One command-line word as the value `check` takes, refused early with the same reason (of a variadic option:
   * one element, the words collected into the list `check` takes).
   */
  readonly parse: (text: string) => unknown;
  /** A library value as the value the run uses, or OptionValueError with the reason. */
  readonly check: (value: In) => T;
  /** What a value must be, in words for the options reference (docs/options.md): `a positive integer`. */
  readonly description: string;
  /** The allowed words, listed in help. */
  readonly choices?: readonly string[];
  /** Takes several words (`--classes 0 2`). */
  readonly variadic?: boolean;
}

function refuse(reason: string): never {
  throw new OptionValueError(reason);
}

/** Numbers checked by `accepts`, integers only when `integral` (words with a sign or digits only). */
function numberType(description: string, accepts: (n: number) => boolean, integral: boolean): ValueType<number> {
  const reason = `expected ${description}`;
  const check = (value: number): number => {
    const ok = typeof value === 'number' && Number.isFinite(value) && (!integral || Number.isSafeInteger(value)) && accepts(value);
    return ok ? value : refuse(reason);
  };
  return {
    parse: (text) => {
      const word = text.trim();
      if (word === '' || (integral && !/^-?\d+$/.test(word))) refuse(reason);
      return check(Number(word));
    },
    check,
    description,
  };
}

export const positiveInteger = numberType('a positive integer', (n) => n >= 1, true);
export const nonNegativeInteger = numberType('a non-negative integer', (n) => n >= 0, true);
export const integer = numberType('an integer', () => true, true);
export const integerInRange = (min: number, max: number) => numberType(`an integer from ${min} to ${max}`, (n) => n >= min && n <= max, true);
/** A number in [0, 1]. */
export const fraction = numberType('a number from 0 to 1', (x) => x >= 0 && x <= 1, false);
/** A number in [0, 1), for shares that must leave something (e.g. label smoothing). */
export const fractionBelowOne = numberType('a number from 0 to below 1', (x) => x >= 0 && x < 1, false);
export const positiveNumber = numberType('a positive number', (x) => x > 0, false);
export const nonNegativeNumber = numberType('a number ≥ 0', (x) => x >= 0, false);

export const text: ValueType<string> = {
  parse: (word) => word,
  check: (value) => (typeof value === 'string' ? value : refuse('expected a string')),
  description: 'a string',
};

/** A switch: present or not. */
export const flag: ValueType<boolean> = {
  parse: () => true,
  check: (value) => (typeof value === 'boolean' ? value : refuse('expected true or false')),
  description: 'true or false',
};

/** One of `words`; the reason is commander's for its choices, so both paths read alike. */
export function choice<const W extends string>(words: readonly W[]): ValueType<W> {
  const check = (value: W): W => (words.includes(value) ? value : refuse(`Allowed choices are ${words.join(', ')}.`));
  return { parse: (word) => check(word as W), check, choices: words, description: `one of ${words.map((w) => `'${w}'`).join(', ')}` };
}

/** Several values (`--classes 0 2`; `classes: [0, 2]`, or one value alone: `weights: 'yolov5n.pt'`). */
export function listOf<T, In>(type: ValueType<T, In>): ValueType<T[], In | In[]> {
  return {
    parse: type.parse,
    check: (value) => {
      const values = Array.isArray(value) ? value : [value];
      if (values.length === 0) refuse('expected at least one value');
      return values.map((v) => type.check(v));
    },
    description: `${type.description}, or a list of them`,
    ...(type.choices ? { choices: type.choices } : {}),
    variadic: true,
  };
}

/** An option whose argument may be left out (`--evolve` or `--evolve 50`): true stands for the bare flag. */
export function orBare<T>(type: ValueType<T>): ValueType<T | true, T | boolean> {
  return {
    parse: (word) => type.parse(word),
    check: (value) => (value === true ? true : value === false ? refuse('expected true or a value') : type.check(value)),
    description: `true (the bare flag) or ${type.description}`,
  };
}

/** A string, or true/false (`--resume` alone, `--resume path`, or not at all). */
export const textOrBoolean: ValueType<string | boolean> = {
  parse: (word) => word,
  check: (value) => (typeof value === 'string' || typeof value === 'boolean' ? value : refuse('expected a path, true or false')),
  description: 'a path, true or false',
};

/** One size (square) or height and width: `--img 640`, `--img 384 640`; `imgsz: 640` or `[384, 640]`. */
export const imageSize: ValueType<[number, number], number | number[]> = {
  parse: positiveInteger.parse,
  check: (value) => {
    const sizes = typeof value === 'number' ? [value] : Array.isArray(value) ? value : refuse('expected one size or height and width');
    if (sizes.length < 1 || sizes.length > 2) refuse(`expected one size or height and width, got ${sizes.length} values`);
    const [height, width = height] = sizes.map((v) => positiveInteger.check(v));
    return [height!, width!];
  },
  description: 'a positive integer, or [height, width]',
  variadic: true,
};

/** YOLOv5's `--device` takes cpu, 0, 0,1, cuda:0 or mps; the libtorch this addon is built with has the CPU only. */
export const cpuDevice: ValueType<'cpu', string> = {
  parse: (word) => cpuDevice.check(word),
  check: (value) => {
    // YOLOv5 reads an empty --device as "the best there is", which here is the CPU.
    if (typeof value === 'string' && ['cpu', ''].includes(value.trim().toLowerCase())) return 'cpu';
    return refuse('This build runs on the CPU only (libtorch without CUDA or MPS); --device cpu is the choice.');
  },
  description: "'cpu'",
};
