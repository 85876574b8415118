// A command's options on the command line, made from its declaration (options/): the spellings, argument,
// default and help as declared, each word parsed by the option's value type.
import { Command, InvalidArgumentError, Option } from 'commander';
import { spellings, type Declaration, type OptionSpec } from '../options/declare.js';
import { OptionValueError } from '../options/values.js';

/**
 * An option under its declared name, with all its spellings. commander takes at most two long spellings and
 * finds the option for a word through `is()` (not in its typings), so the others are answered there.
 */
class DeclaredOption extends Option {
  constructor(
    private readonly key: string,
    private readonly words: readonly string[],
    spec: OptionSpec,
  ) {
    super(`${words.slice(0, 2).join(', ')}${spec.argument ? ` ${spec.argument}` : ''}`, spec.help);
    this.flags = `${words.join(', ')}${spec.argument ? ` ${spec.argument}` : ''}`;
  }

  override attributeName(): string {
    return this.key;
  }

  is(arg: string): boolean {
    return this.words.includes(arg);
  }
}

/** commander reports an InvalidArgumentError with the option and the word, as resolveOptions does. */
function parser(spec: OptionSpec): (word: string, previous: unknown) => unknown {
  const parse = (word: string) => {
    try {
      return spec.type.parse(word);
    } catch (error) {
      throw error instanceof OptionValueError ? new InvalidArgumentError(error.message) : error;
    }
  };
  if (!spec.type.variadic) return parse;
  // commander hands the default to the first word as `previous`: the words given replace it.
  return (word, previous) => [...(previous === spec.default || previous === undefined ? [] : (previous as unknown[])), parse(word)];
}

/**
 * The commander options of one declared option: one, or for a switch spelled both ways (`--fade`, `--no-fade`)
 * one each, so that leaving both out leaves the value undefined (commander defaults a lone `--no-x` to true).
 */
function commanderOptions(name: string, spec: OptionSpec): Option[] {
  const words = spellings(name, spec);
  const negative = words.filter((word) => word.startsWith('--no-'));
  if (spec.argument || negative.length === 0 || negative.length === words.length) return [commanderOption(name, words, spec)];
  const positive = words.filter((word) => !negative.includes(word));
  return [commanderOption(name, positive, spec), commanderOption(name, negative, { ...spec, help: `the opposite of ${positive.join(', ')}` })];
}

function commanderOption(name: string, words: readonly string[], spec: OptionSpec): Option {
  const option = new DeclaredOption(name, words, spec);
  if (spec.type.choices) option.choices(spec.type.choices);
  else if (spec.argument) option.argParser(parser(spec));
  if (spec.default !== undefined) option.default(spec.default);
  if (spec.required) option.makeOptionMandatory();
  return option;
}

/** A subcommand with the declaration's options, in the order declared. */
export function declaredCommand(declaration: Declaration, description: string): Command {
  const command = new Command(declaration.command).description(description);
  for (const [name, spec] of Object.entries(declaration.specs)) for (const option of commanderOptions(name, spec)) command.addOption(option);
  return command;
}
