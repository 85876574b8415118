import type { Command } from 'commander';
import { runDetect } from '../../api/detect.js';
import { detectOptions, type DetectCommandOptions } from '../../options/detect.js';
import { declaredCommand } from '../declared-options.js';

export function detectCommand(): Command {
  const description = 'detect objects in images, folders, globs, videos, streams or list files (as YOLOv5 detect.py)';
  return declaredCommand(detectOptions, description).action(async (options: DetectCommandOptions) => {
    // Ctrl-C ends a stream cleanly: the current video file is finished and the summary printed; twice quits now
    // (ffmpeg children are ended on exit either way). Exit code 130 as for any command stopped by Ctrl-C.
    const stop = new AbortController();
    const onInterrupt = () => {
      if (stop.signal.aborted) process.exit(130);
      stop.abort();
    };
    process.on('SIGINT', onInterrupt);
    try {
      const summary = await runDetect({ ...options, signal: stop.signal });
      if (summary.interrupted) process.exitCode = 130;
    } finally {
      process.removeListener('SIGINT', onInterrupt);
    }
  });
}
