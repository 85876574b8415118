// One declaration per command: each option's name, value type, default and help. The command line's options
// (cli/declared-options.ts) and the library's option types and checks (resolveOptions) are both made from it, so a
// flag and its library option share a name, a default and an error message.
import { OptionValueError, type ValueType } from './values.js';

export interface OptionSpec<T = unknown, In = T> {
  readonly type: ValueType<T, In>;
  readonly help: string;
  /** The value when the option is left out; without one the option stays undefined (help says what happens then). */
  readonly default?: T;
  readonly required?: boolean;
  /**
   * The command-line spellings when they are more than `--kebab-case-name`: YOLOv5's aliases (`--img`, `--imgsz`,
   * `--img-size`), or `--no-name` for a switch that is on by default.
   */
  readonly flags?: readonly string[];
  /** The argument in help: `<yaml>`, `<size...>` (several words), `[generations]` (may be left out); none for a switch. */
  readonly argument?: string;
}

// `any` lets each option keep its own value type; defineOptions' `const` keeps which have defaults.
type Specs = Readonly<Record<string, OptionSpec<any, any>>>;

export interface Declaration<S extends Specs = Specs> {
  /** The command's name, which starts its settings line. */
  readonly command: string;
  readonly specs: S;
}

export function defineOptions<const S extends Specs>(command: string, specs: S): Declaration<S> {
  return { command, specs };
}

type Value<O> = O extends { type: ValueType<infer T, infer _In> } ? T : never;
type Input<O> = O extends { type: ValueType<infer _T, infer In> } ? In : never;
type KeysWhere<S, Condition> = { [K in keyof S]: S[K] extends Condition ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type RequiredKeys<S> = KeysWhere<S, { required: true }>;
type ResolvedKeys<S> = RequiredKeys<S> | KeysWhere<S, { default: unknown }>;

/** What a library caller passes: the required options, any others, in the types a caller writes. */
export type OptionsOf<D extends Declaration> = Simplify<
  { [K in RequiredKeys<D['specs']>]: Input<D['specs'][K]> } & { [K in Exclude<keyof D['specs'], RequiredKeys<D['specs']>>]?: Input<D['specs'][K]> }
>;

/** The options a run uses: checked, defaults filled in. */
export type ResolvedOptionsOf<D extends Declaration> = Simplify<
  { [K in ResolvedKeys<D['specs']>]: Value<D['specs'][K]> } & { [K in Exclude<keyof D['specs'], ResolvedKeys<D['specs']>>]?: Value<D['specs'][K]> }
>;

const kebabCase = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The option's command-line spellings, the long name last as commander takes it. */
export function spellings(name: string, spec: OptionSpec): readonly string[] {
  return spec.flags ?? [`--${kebabCase(name)}`];
}

/** The option as help and error messages show it: `--batch, --batch-size <n>`. */
export function flagsText(name: string, spec: OptionSpec): string {
  return `${spellings(name, spec).join(', ')}${spec.argument ? ` ${spec.argument}` : ''}`;
}

const shown = (value: unknown): string => (Array.isArray(value) ? value.join(' ') : String(value));

/** A refused value in commander's words, so that the library's message is the command line's. */
export function invalidValueMessage(name: string, spec: OptionSpec, value: unknown, reason: string): string {
  return `option '${flagsText(name, spec)}' argument '${shown(value)}' is invalid. ${reason}`;
}

/**
 * The options a run uses from what a caller gave (a library call, or the command line's parsed words): every
 * value checked by its type, defaults filled in; unknown names and missing required options are refused.
 */
export function resolveOptions<D extends Declaration>(declaration: D, given: Readonly<Record<string, unknown>>): ResolvedOptionsOf<D> {
  const specs: Specs = declaration.specs;
  const unknown = Object.keys(given).filter((key) => !(key in specs));
  if (unknown.length > 0) {
    throw new Error(`${declaration.command}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${Object.keys(specs).join(', ')})`);
  }
  const resolved: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const value = given[name];
    if (value === undefined) {
      if (spec.required) throw new Error(`required option '${flagsText(name, spec)}' not specified`);
      // A copy, so that a run changing its lists leaves the declaration's default alone.
      if (spec.default !== undefined) resolved[name] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
      continue;
    }
    try {
      resolved[name] = spec.type.check(value);
    } catch (error) {
      if (error instanceof OptionValueError) throw new Error(invalidValueMessage(name, spec, value, error.message));
      throw error;
    }
  }
  return resolved as ResolvedOptionsOf<D>;
}

function format(value: unknown): string {
  return Array.isArray(value) ? `[${value.map(format).join(', ')}]` : String(value);
}

/**
 * The line each command starts with, as YOLOv5's print_args (`train: weights=yolov5n.pt, data=data.yaml, ...`), so
 * that a log shows what the run was asked for, defaults included, in the names YOLOv5 users know: the options in
 * the order declared, those without a value left out.
 */
export function settingsLine<D extends Declaration>(declaration: D, options: ResolvedOptionsOf<D>): string {
  const values = options as Record<string, unknown>;
  const settings = Object.keys(declaration.specs)
    .filter((name) => values[name] !== undefined)
    .map((name) => `${snakeCase(name)}=${format(values[name])}`);
  return `${declaration.command}: ${settings.join(', ')}`;
}
