// Where downloaded weights and datasets are kept between runs.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** YOLOV5_TS_CACHE if set, else $XDG_CACHE_HOME/yolov5-ts, else ~/.cache/yolov5-ts (the XDG default). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.YOLOV5_TS_CACHE) return resolve(env.YOLOV5_TS_CACHE);
  return join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'yolov5-ts');
}
