// `yolov5 val ...` run in the test's own process, for the val CLI tests.
import { valCommand } from '../../src/cli/commands/val.js';

/** Runs `yolov5 val <args>` and returns what it printed. */
export async function runVal(args: string[]): Promise<string> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...parts: unknown[]) => lines.push(parts.join(' '));
  try {
    await valCommand().exitOverride().parseAsync(args, { from: 'user' });
  } finally {
    console.log = original;
  }
  return lines.join('\n');
}
