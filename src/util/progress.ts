// Progress of a long loop (a training epoch, a validation pass): a bar on a terminal; otherwise, as when the output
// goes to a log file, a plain line every YOLOV5_PROGRESS_INTERVAL_MS (10 s by default), so that the log shows the
// loop moving and when it will end. A loop shorter than the interval prints no line.
import cliProgress from 'cli-progress';

export interface Progress {
  /** `done` steps of the total are finished; `status` replaces the bar's leading text (e.g. running losses). */
  update(done: number, status?: string): void;
  increment(): void;
  stop(): void;
}

export interface ProgressOptions {
  /** What the loop is; it leads the plain lines (`Epoch 3/99`) and, without a status, the bar. */
  title: string;
  total: number;
  /** What a step is, in the plural (`batches`). */
  unit: string;
  /** The bar's leading text at the start (default: the title). */
  status?: string;
  /** false: no progress at all, for callers that report otherwise. */
  show?: boolean;
  /** Where plain lines go (default console.log). */
  log?: (line: string) => void;
}

const DEFAULT_INTERVAL_MS = 10_000;

function intervalMs(): number {
  const value = process.env.YOLOV5_PROGRESS_INTERVAL_MS;
  if (value === undefined || value.trim() === '') return DEFAULT_INTERVAL_MS;
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`YOLOV5_PROGRESS_INTERVAL_MS=${value}: expected a number of milliseconds ≥ 0`);
  return ms;
}

/** Whether progress shows as a bar: cli-progress draws on stderr, and only where that is a terminal. */
export function progressBarShown(): boolean {
  return process.stderr.isTTY === true;
}

/** `45s`, `2m10s`, `1h05m`: an ETA short enough for a log line. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function progress(options: ProgressOptions): Progress {
  if (options.show === false) return { update: () => {}, increment: () => {}, stop: () => {} };
  return progressBarShown() ? bar(options) : plainLines(options);
}

function bar(options: ProgressOptions): Progress {
  const started = performance.now();
  const rate = (done: number) => (done / Math.max((performance.now() - started) / 1000, 1e-3)).toFixed(2);
  const shown = new cliProgress.SingleBar(
    { format: '{status} {bar} {value}/{total} [{duration_formatted}<{eta_formatted}, {rate} it/s]', hideCursor: true, barsize: 20 },
    cliProgress.Presets.shades_classic,
  );
  let status = options.status ?? options.title;
  let done = 0;
  shown.start(options.total, 0, { status, rate: '0' });
  const update = (value: number, next?: string) => {
    done = value;
    status = next ?? status;
    shown.update(done, { status, rate: rate(done) });
  };
  return { update, increment: () => update(done + 1), stop: () => shown.stop() };
}

function plainLines(options: ProgressOptions): Progress {
  const log = options.log ?? ((line: string) => console.log(line));
  const interval = intervalMs();
  const started = performance.now();
  let last = started;
  let done = 0;
  const update = (value: number) => {
    done = value;
    const now = performance.now();
    if (now - last < interval || done <= 0) return;
    last = now;
    const { total } = options;
    const eta = ((now - started) / 1000 / done) * Math.max(total - done, 0);
    log(`  ${options.title}: ${done}/${total} ${options.unit}, ${Math.floor((100 * done) / Math.max(total, 1))}%, ETA ${formatDuration(eta)}`);
  };
  return { update, increment: () => update(done + 1), stop: () => {} };
}
