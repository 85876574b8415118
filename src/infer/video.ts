// Video frames in and out through the system ffmpeg: decoding to raw RGB (rgb24) on a pipe, and encoding
// annotated RGB frames back to an MP4 through a second ffmpeg.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import type { RgbImage } from '../data/image.js';
import { seconds } from '../util/duration.js';
import { FrameReader } from './frame-reader.js';
import type { BufferPool } from '../util/buffer-pool.js';

const run = promisify(execFile);

/**
 * Frames decoded before the consumer asks for them: two keep ffmpeg busy through the time one frame is detected on
 * (2.6 MiB each at 1280×720), without holding much memory on an endless stream.
 */
export const FRAMES_AHEAD = 2;

/** How long a video or stream may send nothing before it is given up (a camera that stalls with the connection open). */
export const DEFAULT_READ_TIMEOUT_MS = 30_000;

export interface ReadOptions {
  /** Give up when no data arrives for this long; default DEFAULT_READ_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Stops reading: the frames end early, without an error. */
  signal?: AbortSignal;
  /** ffmpeg's input format, for sources it cannot guess from the name (`v4l2` for a camera device). */
  format?: string;
}

export interface FrameOptions extends ReadOptions {
  /** Frames decoded before the consumer asks for them; default FRAMES_AHEAD. */
  ahead?: number;
  /**
   * Told when ffmpeg finishes normally but reported errors on the way (a truncated or damaged file): frames after the
   * damage may be missing.
   */
  warn?: (message: string) => void;
  /** Where frames' memory comes from; the consumer gives a frame's buffer back once done with it. */
  memory?: BufferPool;
}

const inputFormat = (options: ReadOptions): string[] => (options.format ? ['-f', options.format] : []);

// Children run in their own process group: Ctrl-C in a terminal then reaches node alone, which stops reading and
// finishes the video itself, instead of ffmpeg quitting mid-frame with exit code 255 under it.
const OWN_GROUP = { detached: true } as const;

// Every ffmpeg/ffprobe still running, so that none outlives node: a decoder blocked on a stalled network read
// can ignore SIGTERM, and once node is gone it would be re-parented to PID 1 and run on.
const running = new Set<ChildProcess>();
process.on('exit', () => running.forEach((child) => child.kill('SIGKILL')));

function track<T extends ChildProcess>(child: T): T {
  running.add(child);
  child.once('close', () => running.delete(child));
  return child;
}

export interface VideoInfo {
  /** Displayed size (rotation metadata applied, as ffmpeg outputs the frames). */
  width: number;
  height: number;
  fps: number;
  /** Frame count from the container, null when unknown (streams, some containers). */
  frames: number | null;
}

function missingTool(tool: string, error: unknown): Error | null {
  return (error as NodeJS.ErrnoException).code === 'ENOENT'
    ? new Error(`${tool} not found: install ffmpeg (which provides ${tool}) to read or write videos and streams`)
    : null;
}

function lastLines(text: string, n = 3): string {
  return text.trim().split('\n').slice(-n).join(' / ') || 'no details';
}

function parseRate(rate: string | undefined): number | null {
  const [num, den] = (rate ?? '').split('/').map(Number);
  const fps = den ? num! / den : num!;
  return Number.isFinite(fps) && fps > 0 ? fps : null;
}

/** Size, frame rate and frame count of the first video stream. */
export async function probeVideo(source: string, options: ReadOptions = {}): Promise<VideoInfo> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  let stdout: string;
  try {
    const probe = run(
      'ffprobe',
      ['-v', 'error', ...inputFormat(options), '-select_streams', 'v:0', '-show_entries', 'stream=width,height,r_frame_rate,avg_frame_rate,nb_frames:stream_side_data=rotation', '-of', 'json', source],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20, signal: options.signal, ...OWN_GROUP },
    );
    track(probe.child);
    ({ stdout } = await probe);
  } catch (error) {
    const failed = error as { stderr?: string; killed?: boolean; name?: string };
    if (failed.name === 'AbortError') throw new Error(`${source}: interrupted while probing`);
    if (failed.killed) throw new Error(`${source}: ffprobe found no video within ${seconds(timeoutMs)} (nothing or too little was received)`);
    throw missingTool('ffprobe', error) ?? new Error(`${source}: ffmpeg cannot open the video (${lastLines(failed.stderr ?? (error as Error).message)})`);
  }
  const stream = (JSON.parse(stdout) as { streams?: Record<string, unknown>[] }).streams?.[0];
  if (!stream || !(Number(stream.width) > 0) || !(Number(stream.height) > 0)) throw new Error(`${source}: no video stream found`);
  const rotation = Number((stream.side_data_list as { rotation?: number }[] | undefined)?.find((d) => d.rotation !== undefined)?.rotation ?? 0);
  const turned = Math.abs(rotation) % 180 === 90;
  const frames = Number(stream.nb_frames);
  return {
    width: Number(turned ? stream.height : stream.width),
    height: Number(turned ? stream.width : stream.height),
    fps: parseRate(stream.avg_frame_rate as string) ?? parseRate(stream.r_frame_rate as string) ?? 30,
    frames: Number.isInteger(frames) && frames > 0 ? frames : null,
  };
}

/** Collects a child's stderr (bounded) for error messages. */
function stderrOf(child: ChildProcess): () => string {
  let text = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-4000);
  });
  return () => text;
}

/**
 * Decoded frames of a video file or stream, in order, as RGB images of `info`'s size, decoded ahead of the consumer.
 * Only the time spent waiting for data counts against the timeout, not the time the consumer takes per frame.
 */
export async function* readFrames(source: string, info: VideoInfo, options: FrameOptions = {}): AsyncGenerator<RgbImage> {
  const child = track(
    spawn('ffmpeg', ['-v', 'error', '-nostdin', ...inputFormat(options), '-i', source, '-map', '0:v:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...OWN_GROUP,
    }),
  );
  const stderr = stderrOf(child);
  const exited = once(child, 'close') as Promise<[number | null, string | null]>;
  const spawnError = once(child, 'error').then(([e]) => e as Error);
  const frames = new FrameReader(child.stdout!, info.width * info.height * 3, {
    ahead: options.ahead ?? FRAMES_AHEAD,
    timeoutMs: options.timeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
    ...(options.memory ? { memory: options.memory } : {}),
  });
  const stop = () => frames.stop();
  if (options.signal?.aborted) stop();
  options.signal?.addEventListener('abort', stop, { once: true });
  let finished = false;
  try {
    for (;;) {
      let frame: Uint8Array | null;
      try {
        frame = await frames.next();
      } catch (error) {
        throw new Error(`${source}: ${(error as Error).message}`);
      }
      if (frame === null) break;
      yield { data: frame, width: info.width, height: info.height };
    }
    if (options.signal?.aborted) return;
    const [code] = await Promise.race([exited, spawnError.then((e) => Promise.reject(missingTool('ffmpeg', e) ?? e))]);
    finished = true;
    if (code !== 0) throw new Error(`${source}: ffmpeg failed while decoding (exit code ${code}: ${lastLines(stderr())})`);
    // At -v error, anything ffmpeg wrote is an error it decoded past.
    if (stderr().trim()) options.warn?.(`${source}: ffmpeg reported errors while decoding, frames may be missing (${lastLines(stderr())})`);
  } finally {
    options.signal?.removeEventListener('abort', stop);
    // Stopped early (error, timeout, abort, or the consumer broke off): its output is no longer wanted, and a
    // decoder blocked on a network read may ignore SIGTERM.
    if (!finished) child.kill('SIGKILL');
  }
}

let encoderChoice: Promise<string> | undefined;

/**
 * Quality settings per encoder. x264's veryfast preset: the encoder runs beside detection, and at its default quality
 * (CRF 23) it took 0.56× the CPU of the default preset (medium) for 1280×720 frames here, the file about as large.
 */
const ENCODER_SETTINGS: Record<string, string[]> = { libx264: ['-preset', 'veryfast'], mpeg4: ['-q:v', '3'] };

/** H.264 when this ffmpeg has libx264, else MPEG-4 part 2 (always built in). */
function videoEncoder(): Promise<string> {
  encoderChoice ??= run('ffmpeg', ['-hide_banner', '-encoders'], { maxBuffer: 1 << 22 })
    .then(({ stdout }) => (/\slibx264\s/.test(stdout) ? 'libx264' : 'mpeg4'))
    .catch((error: unknown) => {
      throw missingTool('ffmpeg', error) ?? error;
    });
  return encoderChoice;
}

/** Writes RGB frames of one size to a video file (MP4 by default) through ffmpeg. */
export class VideoWriter {
  /** Settles when ffmpeg exits; one promise for the writer's life, not a listener per write. */
  private readonly closed: Promise<[number | null]>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly stderr: () => string,
    readonly path: string,
    readonly width: number,
    readonly height: number,
  ) {
    this.closed = once(child, 'close') as Promise<[number | null]>;
  }

  static async open(path: string, width: number, height: number, fps: number): Promise<VideoWriter> {
    const encoder = await videoEncoder();
    const child = track(spawn(
      'ffmpeg',
      [
        '-v', 'error', '-y',
        '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0',
        // yuv420p (playable everywhere) needs even sides.
        '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', '-c:v', encoder, '-pix_fmt', 'yuv420p', ...ENCODER_SETTINGS[encoder]!,
        path,
      ],
      { stdio: ['pipe', 'ignore', 'pipe'], ...OWN_GROUP },
    ));
    // A broken pipe (ffmpeg quit) surfaces through the exit code in write()/close(), not as an uncaught error.
    child.stdin!.on('error', () => {});
    const writer = new VideoWriter(child, stderrOf(child), path, width, height);
    await Promise.race([once(child, 'spawn'), once(child, 'error').then(([e]) => Promise.reject(missingTool('ffmpeg', e) ?? e))]);
    return writer;
  }

  async write(frame: RgbImage): Promise<void> {
    if (frame.width !== this.width || frame.height !== this.height) {
      throw new Error(`${this.path}: frame ${frame.width}x${frame.height} differs from the video's ${this.width}x${this.height}`);
    }
    const stdin = this.child.stdin!;
    if (!stdin.write(frame.data)) {
      await Promise.race([once(stdin, 'drain'), this.closed.then(() => Promise.reject(this.failure()))]);
    }
  }

  private failure(): Error {
    return new Error(`${this.path}: ffmpeg stopped while encoding (${lastLines(this.stderr())})`);
  }

  /** Finishes the file; throws if ffmpeg failed. */
  async close(): Promise<void> {
    this.child.stdin!.end();
    const [code] = await this.closed;
    if (code !== 0) throw this.failure();
  }
}
