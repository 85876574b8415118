// Downloads one file over HTTP(S) so that the destination is either the complete, verified file or absent: the
// bytes go to a temporary name beside it, are checked (size, SHA-256 where known) and only then renamed into place.
// Every failure (no network, refused connection, a stalled server, a wrong file) is one Error naming the file, the
// URL and where to put the file by hand, raised within seconds; the temporary file is removed.
import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import cliProgress from 'cli-progress';

export interface DownloadRequest {
  url: string;
  /** The final path; written only once the download is complete and verified. */
  dest: string;
  /** Expected size in bytes, where known. */
  size?: number;
  /** Expected SHA-256 (hex), where known. */
  sha256?: string;
  /** What to tell the user to do instead, appended to every error (default: put the file at `dest` by hand). */
  manualHint?: string;
  /** Most milliseconds to wait for the server's answer, and for each further piece of the body. Default 15 000. */
  timeoutMs?: number;
  /** Progress output (default process.stderr); a terminal gets a bar with ETA, anything else a line every few seconds. */
  progress?: NodeJS.WriteStream | NodeJS.WritableStream;
}

export interface DownloadResult {
  dest: string;
  bytes: number;
  sha256: string;
}

const MB = 1024 * 1024;
const megabytes = (bytes: number) => (bytes / MB).toFixed(1);

/** The reason a fetch failed, in words: Node reports network errors as "fetch failed" with the system error as cause. */
function networkReason(error: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no answer from the server for ${timeoutMs / 1000} s`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (error as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found (offline?)',
    EAI_AGAIN: 'host name lookup failed (offline?)',
    ECONNRESET: 'connection reset',
    ENETUNREACH: 'network unreachable (offline?)',
    EHOSTUNREACH: 'host unreachable',
    UND_ERR_SOCKET: 'connection closed by the server',
  };
  if (code && words[code]) return `${words[code]} (${code})`;
  return cause?.message ?? (error as Error).message;
}

/** A bar with ETA on a terminal, otherwise a line every 5 seconds, so that logs show the download moving. */
function progressReporter(out: NodeJS.WriteStream | NodeJS.WritableStream, name: string, total: number | undefined) {
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  if (tty && total) {
    const bar = new cliProgress.SingleBar(
      { stream: out as NodeJS.WriteStream, format: `${name} {bar} {percentage}% | {done}/{size} MB | {speed} MB/s | ETA {eta_formatted}`, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    const started = Date.now();
    bar.start(total, 0, { done: '0.0', size: megabytes(total), speed: '0.0' });
    return {
      update: (bytes: number) => bar.update(bytes, { done: megabytes(bytes), speed: (bytes / MB / Math.max((Date.now() - started) / 1000, 1e-3)).toFixed(1) }),
      stop: () => bar.stop(),
    };
  }
  const started = Date.now();
  let last = started;
  return {
    update: (bytes: number) => {
      const now = Date.now();
      if (now - last < 5000) return;
      last = now;
      const rate = bytes / ((now - started) / 1000);
      const eta = total && rate > 0 ? `, ETA ${Math.ceil((total - bytes) / rate)} s` : '';
      const share = total ? `${Math.floor((100 * bytes) / total)}% (${megabytes(bytes)}/${megabytes(total)} MB)` : `${megabytes(bytes)} MB`;
      out.write(`${name}: ${share}, ${(rate / MB).toFixed(1)} MB/s${eta}\n`);
    },
    stop: () => {},
  };
}

/** Downloads `url` to `dest` (see the module comment); resolves once `dest` holds the verified file. */
export async function downloadFile(request: DownloadRequest): Promise<DownloadResult> {
  const { url, dest } = request;
  const name = basename(dest);
  const timeoutMs = request.timeoutMs ?? 15_000;
  const out = request.progress ?? process.stderr;
  const hint = request.manualHint ?? `Download it by hand and put it at ${dest}.`;
  const fail = (problem: string): never => {
    throw new Error(`cannot download ${name} from ${url}: ${problem}. Nothing was kept. ${hint}`);
  };

  await mkdir(dirname(dest), { recursive: true });
  // Beside the destination (same file system, so the rename is atomic), named per process so that two runs
  // fetching the same file at once do not write into each other's copy.
  const temp = join(dirname(dest), `.${name}.${process.pid}.part`);
  const abort = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, timeoutMs);
  };

  out.write(`Downloading ${url} to ${dest}\n`);
  let file;
  let reporter: ReturnType<typeof progressReporter> | undefined;
  try {
    arm();
    let response: Response;
    try {
      response = await fetch(url, { signal: abort.signal, redirect: 'follow' });
    } catch (error) {
      return fail(networkReason(error, timedOut, timeoutMs));
    }
    if (!response.ok || !response.body) return fail(`the server answered HTTP ${response.status} ${response.statusText}`.trim());
    const announced = Number(response.headers.get('content-length') ?? NaN);
    if (request.size !== undefined && Number.isFinite(announced) && announced !== request.size) {
      return fail(`the server offers ${announced} bytes, but ${name} has ${request.size}`);
    }
    const total = request.size ?? (Number.isFinite(announced) ? announced : undefined);
    reporter = progressReporter(out, name, total);
    const hash = createHash('sha256');
    file = await open(temp, 'w');
    let bytes = 0;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        arm();
        bytes += chunk.byteLength;
        if (request.size !== undefined && bytes > request.size) return fail(`the server sent more than the expected ${request.size} bytes`);
        hash.update(chunk);
        await file.write(chunk);
        reporter.update(bytes);
      }
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('cannot download')) throw error;
      return fail(`the transfer broke off after ${bytes} bytes: ${networkReason(error, timedOut, timeoutMs)}`);
    }
    clearTimeout(timer);
    reporter.stop();
    reporter = undefined;
    await file.close();
    file = undefined;
    if (request.size !== undefined && bytes !== request.size) return fail(`received ${bytes} bytes, but ${name} has ${request.size}`);
    const digest = hash.digest('hex');
    if (request.sha256 !== undefined && digest !== request.sha256.toLowerCase()) {
      return fail(`the file received does not match ${name}'s SHA-256 (expected ${request.sha256.toLowerCase()}, got ${digest})`);
    }
    await rename(temp, dest);
    out.write(`Downloaded ${name} (${megabytes(bytes)} MB${request.sha256 ? ', SHA-256 verified' : request.size !== undefined ? ', size verified' : ''})\n`);
    return { dest, bytes, sha256: digest };
  } finally {
    clearTimeout(timer);
    abort.abort(); // releases the connection when the body was left unread (an HTTP error, a wrong size)
    reporter?.stop();
    await file?.close().catch(() => {});
    await rm(temp, { force: true });
  }
}
