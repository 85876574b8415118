// Fixed-size frames cut from a byte stream (raw video on ffmpeg's stdout), read a bounded number of frames ahead of
// the consumer: the decoder goes on while the current frame is processed, and once the consumer falls that far
// behind the stream is paused, which holds ffmpeg back through the full pipe instead of buffering without end.
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { seconds } from '../util/duration.js';
import { BufferPool } from '../util/buffer-pool.js';

export interface FrameReaderOptions {
  /** Whole frames held before the stream is paused (at least 1). */
  ahead: number;
  /** Fail when the stream sends nothing for this long while it is read; the time it is paused does not count. */
  timeoutMs: number;
  /** Where frames' memory comes from; a consumer that gives frames back to it saves an allocation a frame. */
  memory?: BufferPool;
}

export class FrameReader {
  private readonly ready: Uint8Array[] = [];
  private partial: Uint8Array | null = null;
  private filled = 0;
  private ended = false;
  private failure: Error | null = null;
  private paused = false;
  private lastData = 0;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | null = null;
  private readonly memory: BufferPool;

  constructor(
    private readonly stream: Readable,
    private readonly frameBytes: number,
    private readonly options: FrameReaderOptions,
  ) {
    this.memory = options.memory ?? new BufferPool();
    stream.on('data', (chunk: Buffer) => this.take(chunk));
    stream.once('end', () => this.end());
    stream.once('error', (error) => this.fail(error));
    this.watch();
  }

  /**
   * The next frame, or null at the end of the stream (a partial last frame is dropped) and once stopped. Frames read
   * before a failure are all returned before it is thrown.
   */
  async next(): Promise<Uint8Array | null> {
    while (this.ready.length === 0 && !this.failure && !this.ended) await new Promise<void>((resolve) => (this.wake = resolve));
    const frame = this.ready.shift();
    if (frame) {
      this.resumeIfRoom();
      return frame;
    }
    if (this.failure) throw this.failure;
    return null;
  }

  /** Ends the frames now, without an error: those read ahead are dropped. */
  stop(): void {
    this.ready.length = 0;
    this.failure = null;
    this.end();
  }

  private take(chunk: Buffer): void {
    if (this.ended) return;
    this.lastData = performance.now();
    for (let offset = 0; offset < chunk.length; ) {
      // Memory of its own per frame, left uninitialised (every byte is written): the frame outlives the chunks.
      this.partial ??= new Uint8Array(this.memory.take(this.frameBytes), 0, this.frameBytes);
      const n = Math.min(chunk.length - offset, this.frameBytes - this.filled);
      this.partial.set(chunk.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.frameBytes) {
        this.ready.push(this.partial);
        this.partial = null;
        this.filled = 0;
      }
    }
    if (this.ready.length >= this.options.ahead && !this.paused) {
      this.paused = true;
      this.stream.pause();
      clearTimeout(this.timer);
    }
    this.notify();
  }

  private resumeIfRoom(): void {
    if (!this.paused || this.ended || this.ready.length >= this.options.ahead) return;
    this.paused = false;
    this.stream.resume();
    this.watch();
  }

  /** One timer for the stall timeout, moved on only when it fires: not a timer per chunk. */
  private watch(): void {
    this.lastData = performance.now();
    clearTimeout(this.timer);
    const check = () => {
      if (this.paused || this.ended) return;
      const idle = performance.now() - this.lastData;
      if (idle >= this.options.timeoutMs) this.fail(new Error(`no data for ${seconds(this.options.timeoutMs)}, giving up (the stream stalled)`));
      else this.timer = setTimeout(check, this.options.timeoutMs - idle);
    };
    this.timer = setTimeout(check, this.options.timeoutMs);
  }

  private fail(error: Error): void {
    if (this.ended) return;
    this.failure ??= error;
    this.end();
  }

  private end(): void {
    this.ended = true;
    clearTimeout(this.timer);
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
