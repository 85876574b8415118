// A command's options on the command line, made from its declaration (options/): the spellings, argument,
// default and help as declared, each word parsed by the option's value type.
import { Command, InvalidArgumentError, Option } from 'commander';
import { flagsText, spellings, type Declaration, type OptionSpec } from '../options/declare.js';
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
    this.flags = flagsText(key, spec);
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

function commanderOption(name: string, spec: OptionSpec): Option {
  const option = new DeclaredOption(name, spellings(name, spec), spec);
  if (spec.type.choices) option.choices(spec.type.choices);
  else if (spec.argument) option.argParser(parser(spec));
  if (spec.default !== undefined) option.default(spec.default);
  if (spec.required) option.makeOptionMandatory();
  return option;
}

/** A subcommand with the declaration's options, in the order declared. */
export function declaredCommand(declaration: Declaration, description: string): Command {
  const command = new Command(declaration.command).description(description);
  for (const [name, spec] of Object.entries(declaration.specs)) command.addOption(commanderOption(name, spec));
  return command;
}
