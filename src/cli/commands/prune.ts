import type { Command } from 'commander';
import { prune } from '../../api/prune.js';
import { pruneOptions, type PruneOptions } from '../../options/prune.js';
import { declaredCommand } from '../declared-options.js';

export function pruneCommand(): Command {
  const description =
    "structured channel pruning: rounds of sparsity training (L1 on the smallest half of each layer's gates) and " +
    'pruning, then fine-tuning; writes runs/prune/exp/report.md. Options marked "chosen" are picked from the ' +
    'epoch budget, the target, the data and the checkpoint when left out, and printed with their reasons at the start';
  return declaredCommand(pruneOptions, description).action(async (options: PruneOptions) => {
    await prune(options);
  });
}
