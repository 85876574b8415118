// A prune run's progress on disk (state.json), written after every stage so an interrupted run resumes where it
// stopped, with its wall time and peak memory adding up over the sessions.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FadingChannels } from './fade.js';
import type { ModelFigures, RoundRecord } from './report.js';
import type { Settings } from './settings.js';

export interface PipelineState {
  settings: Settings;
  /** λ now (adapted with a target sparsity). */
  lambda: number;
  original: ModelFigures;
  rounds: RoundRecord[];
  /** The checkpoint the next stage starts from. */
  current: string;
  /** The channels fading in the round in progress, once its plan was made (so a resumed round fades the same). */
  fade?: { round: number; channels: FadingChannels };
  /** The sparsity-trained checkpoint of the round in progress, once its training finished. */
  sparsityTrained?: { round: number; path: string; map50?: number };
  /**
   * The checkpoint the current model was pruned from (the last round's sparsity-trained model) and, per layer, the
   * channel of it behind each of the current model's (feature distillation's targets).
   */
  parent?: { path: string; keptChannels: Record<string, number[]>; map50?: number };
  finetuned?: string;
  /** Wall seconds of the run's finished sessions (a resumed run adds up), and the largest RSS seen, in bytes. */
  wallSeconds?: number;
  maxRss?: number;
  done: boolean;
}

/** When this process took up a run, and the run's wall time before: a resumed run's time adds up. */
const sessions = new WeakMap<PipelineState, { start: number; prior: number }>();

/** This process takes up the run at `start` (ms since the epoch). */
export function beginSession(state: PipelineState, start: number): void {
  sessions.set(state, { start, prior: state.wallSeconds ?? 0 });
}

export function saveState(saveDir: string, state: PipelineState): void {
  const session = sessions.get(state);
  if (session) state.wallSeconds = session.prior + (Date.now() - session.start) / 1000;
  state.maxRss = Math.max(state.maxRss ?? 0, process.resourceUsage().maxRSS * 1024);
  const path = join(saveDir, 'state.json');
  writeFileSync(`${path}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${path}.tmp`, path);
}

export function loadState(resumeFrom: string): PipelineState {
  const path = resumeFrom.endsWith('.json') ? resumeFrom : join(resumeFrom, 'state.json');
  if (!existsSync(path)) throw new Error(`cannot resume: ${path} does not exist (give a runs/prune/exp folder)`);
  const state = JSON.parse(readFileSync(path, 'utf8')) as PipelineState & { settings: { calibrationImages?: number } };
  // A run started before the option took export's name (--calib-images) saved it as calibrationImages.
  const { calibrationImages, ...settings } = state.settings;
  return calibrationImages === undefined ? state : { ...state, settings: { ...settings, calibImages: calibrationImages } };
}
