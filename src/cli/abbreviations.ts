// Flags shortened as argparse allows: YOLOv5's commands are argparse programs, and pasted commands rely on it
// (`detect.py --conf 0.25` for --conf-thres, `train.py --batch 16` for --batch-size). A word that is not a flag of
// the command but begins exactly one of its options is that option; one that begins several is an error naming them.
import type { Command } from 'commander';

/** The long spellings of each option of a command (`--img`, `--imgsz`, `--img-size` for one option). */
function longFlags(command: Command): { attribute: string; words: string[] }[] {
  return command.options.map((option) => ({ attribute: option.attributeName(), words: option.flags.split(/[ ,|]+/).filter((w) => w.startsWith('--')) }));
}

/** The subcommand the arguments name (`dataset synth` included), or null. */
function subcommandOf(program: Command, args: readonly string[]): { command: Command; rest: number } | null {
  let command = program;
  let at = 0;
  while (at < args.length) {
    const next = command.commands.find((c) => c.name() === args[at] || c.aliases().includes(args[at]!));
    if (!next) break;
    command = next;
    at++;
  }
  return command === program ? null : { command, rest: at };
}

/**
 * The user's arguments (process.argv without node and the script) with every unambiguous prefix of a long flag
 * written out. Words after `--` are left alone, as are values that happen to start with `--`.
 */
export function expandAbbreviations(program: Command, args: readonly string[]): string[] {
  const found = subcommandOf(program, args);
  if (!found) return [...args];
  const options = longFlags(found.command);
  const exact = new Set(options.flatMap((o) => o.words).concat(['--help']));
  const out = [...args];
  for (let i = found.rest; i < out.length; i++) {
    const word = out[i]!;
    if (word === '--') break;
    if (!word.startsWith('--')) continue;
    const [flag, value] = word.includes('=') ? [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('='))] : [word, ''];
    if (exact.has(flag)) continue;
    const matches = options.filter((o) => o.words.some((w) => w.startsWith(flag)));
    const attributes = new Set(matches.map((o) => o.attribute));
    if (attributes.size > 1) {
      const words = matches.flatMap((o) => o.words.filter((w) => w.startsWith(flag)));
      throw new Error(`ambiguous option: ${flag} could match ${words.join(', ')}`);
    }
    if (matches.length > 0) out[i] = matches[0]!.words.find((w) => w.startsWith(flag))! + value;
  }
  return out;
}
