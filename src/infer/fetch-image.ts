// Image inputs given as http(s) URLs: the bytes fetched with Node's fetch, bounded in time and size.

import { integer } from '../util/check.js';

export interface FetchOptions {
  /** The whole download, answer and body, must end within this many milliseconds. Default 30 000. */
  timeoutMs?: number;
  /** Largest body accepted, in bytes. Default 64 MiB. */
  maxBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** Whether a string names an http or https URL (anything else is taken for a path). */
export function isHttpUrl(input: string): boolean {
  return /^https?:\/\//i.test(input);
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** The body of a successful answer, read up to the size cap: a server may send no Content-Length, or a wrong one. */
async function readCapped(response: Response, url: string, maxBytes: number): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw new Error(`${url}: the image is ${megabytes(declared)}, over the ${megabytes(maxBytes)} limit`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body ?? []) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new Error(`${url}: the image is over the ${megabytes(maxBytes)} limit`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/**
 * The bytes at an http(s) URL, with its Content-Type. Errors name the URL and the problem: an HTTP status, a timeout,
 * a size over the cap, or the network error.
 */
export async function fetchImageBytes(url: string, options: FetchOptions = {}): Promise<{ bytes: Buffer; contentType: string | null }> {
  const timeoutMs = integer('fetch.timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS, { min: 1 });
  const maxBytes = integer('fetch.maxBytes', options.maxBytes ?? DEFAULT_MAX_BYTES, { min: 1 });
  // One signal for the answer and the body: a server that trickles its body is cut off at the same deadline.
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, { signal });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`${url}: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
    }
    return { bytes: await readCapped(response, url, maxBytes), contentType: response.headers.get('content-type') };
  } catch (error) {
    if (signal.aborted) throw new Error(`${url}: no complete answer within ${timeoutMs} ms (timeout)`);
    const message = (error as Error).message;
    if (message.startsWith(`${url}: `)) throw error;
    // fetch says only "fetch failed"; the cause holds the reason (ECONNREFUSED, ENOTFOUND, ...).
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`${url}: cannot fetch (${cause?.code ?? cause?.message ?? message})`);
  }
}
