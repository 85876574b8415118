import type { Command } from 'commander';
import { prune } from '../../api/prune.js';
import { pruneOptions, type PruneOptions } from '../../options/prune.js';
import { resolveOptions } from '../../options/declare.js';
import { declaredCommand } from '../declared-options.js';
import { launchIfAsked } from '../launch.js';

export function pruneCommand(): Command {
  const description =
    "structured channel pruning: rounds of sparsity training (L1 on the smallest half of each layer's gates) and " +
    'pruning, then fine-tuning; writes runs/prune/exp/report.md. Options marked "chosen" are picked from the ' +
    'epoch budget, the target, the data and the checkpoint when left out, and printed with their reasons at the start';
  return declaredCommand(pruneOptions, description).action(async (options: PruneOptions, command: Command) => {
    if (await launchIfAsked(resolveOptions(pruneOptions, options), command)) return;
    await prune(options);
  });
}
