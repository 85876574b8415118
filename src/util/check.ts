// Argument checks for the library's functions and classes, with one error class and one message format:
// `<name> must be <expectation>, got <value>`. Command options have their own checker (src/options/values.ts),
// which names the option; these are for values that reach the library's inner parts directly.
// Imports nothing from the project, so any module may use it.

export interface Bounds {
  min?: number;
  max?: number;
  /** `min` itself is refused. */
  minExclusive?: boolean;
  /** `max` itself is refused. */
  maxExclusive?: boolean;
  /** Why the bounds are what they are, where the caller's settings narrow them; added to the expectation. */
  why?: string;
}

/** The value as written in source: JSON, except for what JSON has no word for (NaN, Infinity, undefined, bigints, symbols). */
function shown(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || typeof value === 'symbol' || value === undefined) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Throws the RangeError every check throws: `<name> must be <expectation>, got <value>`. For checks no other function here makes. */
export function fail(name: string, expectation: string, value: unknown): never {
  throw new RangeError(`${name} must be ${expectation}, got ${shown(value)}`);
}

function within(value: number, b: Bounds): boolean {
  const aboveMin = b.min === undefined || (b.minExclusive ? value > b.min : value >= b.min);
  const belowMax = b.max === undefined || (b.maxExclusive ? value < b.max : value <= b.max);
  return aboveMin && belowMax;
}

/** "from 0 to 1", "above 0 and at most 1", "≥ 32", "below 1"; empty without bounds. */
function range(b: Bounds): string {
  const { min, max } = b;
  if (min !== undefined && max !== undefined) {
    if (b.minExclusive) return `above ${min} and ${b.maxExclusive ? 'below' : 'at most'} ${max}`;
    return `from ${min} to ${b.maxExclusive ? 'below ' : ''}${max}`;
  }
  if (min !== undefined) return b.minExclusive ? `above ${min}` : `≥ ${min}`;
  if (max !== undefined) return b.maxExclusive ? `below ${max}` : `≤ ${max}`;
  return '';
}

function expectation(kind: 'integer' | 'number', b: Bounds): string {
  // Lower bounds alone read as words where the words are exact: "a positive integer" is ≥ 1, "a positive number" > 0.
  const onlyMin = b.max === undefined ? b.min : undefined;
  const positive = onlyMin === 0 ? b.minExclusive : kind === 'integer' && onlyMin === 1 && !b.minExclusive;
  const text = positive
    ? `a positive ${kind}`
    : kind === 'integer' && onlyMin === 0
      ? 'a non-negative integer'
      : [kind === 'integer' ? 'an integer' : 'a number', range(b)].filter(Boolean).join(' ');
  return b.why ? `${text} (${b.why})` : text;
}

/** `value` if it is a safe integer within `bounds` (inclusive unless marked exclusive). */
export function integer(name: string, value: unknown, bounds: Bounds = {}): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && within(value, bounds)) return value;
  return fail(name, expectation('integer', bounds), value);
}

/** `value` if it is a finite number within `bounds` (inclusive unless marked exclusive). */
export function number(name: string, value: unknown, bounds: Bounds = {}): number {
  if (typeof value === 'number' && Number.isFinite(value) && within(value, bounds)) return value;
  return fail(name, expectation('number', bounds), value);
}
