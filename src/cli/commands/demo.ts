import { Command } from 'commander';
import { trainQuadrantNet } from '../../demo/engine-demo.js';
import { positiveInteger } from '../arguments.js';

export function demoCommand(): Command {
  return new Command('demo')
    .description('run the built-in demo (for now: a small CNN trained by the libtorch engine on a synthetic task)')
    .option('--steps <n>', 'training steps', positiveInteger, 300)
    .action((options: { steps: number }) => {
      const started = Date.now();
      const { losses } = trainQuadrantNet(options.steps, (step, loss) => {
        if (step % 25 === 0 || step === options.steps - 1) console.log(`step ${String(step).padStart(4)}  loss ${loss.toFixed(4)}`);
      });
      const first = losses.slice(0, 10).reduce((a, b) => a + b, 0) / Math.min(10, losses.length);
      const last = losses.slice(-10).reduce((a, b) => a + b, 0) / Math.min(10, losses.length);
      console.log(`loss ${first.toFixed(3)} → ${last.toFixed(3)} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    });
}
