// Video frames in and out through the system ffmpeg: decoding to raw RGB (rgb24) on a pipe, and encoding
// annotated RGB frames back to an MP4 through a second ffmpeg.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import type { RgbImage } from '../data/image.js';

const run = promisify(execFile);

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
export async function probeVideo(source: string): Promise<VideoInfo> {
  let stdout: string;
  try {
    ({ stdout } = await run(
      'ffprobe',
      ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,r_frame_rate,avg_frame_rate,nb_frames:stream_side_data=rotation', '-of', 'json', source],
      { timeout: 30_000, maxBuffer: 1 << 20 },
    ));
  } catch (error) {
    throw missingTool('ffprobe', error) ?? new Error(`${source}: ffmpeg cannot open the video (${lastLines((error as { stderr?: string }).stderr ?? (error as Error).message)})`);
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

/** Decoded frames of a video file or stream, in order, as RGB images of `info`'s size. */
export async function* readFrames(source: string, info: VideoInfo): AsyncGenerator<RgbImage> {
  const child = spawn('ffmpeg', ['-v', 'error', '-nostdin', '-i', source, '-map', '0:v:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr = stderrOf(child);
  const exited = once(child, 'close') as Promise<[number | null, string | null]>;
  const spawnError = once(child, 'error').then(([e]) => e as Error);
  const frameBytes = info.width * info.height * 3;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let finished = false;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      while (pendingBytes >= frameBytes) {
        const all = Buffer.concat(pending, pendingBytes);
        const frame = new Uint8Array(all.subarray(0, frameBytes));
        pending = pendingBytes > frameBytes ? [all.subarray(frameBytes)] : [];
        pendingBytes -= frameBytes;
        yield { data: frame, width: info.width, height: info.height };
      }
    }
    const [code] = await Promise.race([exited, spawnError.then((e) => Promise.reject(missingTool('ffmpeg', e) ?? e))]);
    finished = true;
    if (code !== 0) throw new Error(`${source}: ffmpeg failed while decoding (exit code ${code}: ${lastLines(stderr())})`);
  } finally {
    // Stopped early (error, or the consumer broke off): do not leave ffmpeg running.
    if (!finished) child.kill('SIGTERM');
  }
}

let encoderChoice: Promise<string> | undefined;

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
  private constructor(
    private readonly child: ChildProcess,
    private readonly stderr: () => string,
    readonly path: string,
    readonly width: number,
    readonly height: number,
  ) {}

  static async open(path: string, width: number, height: number, fps: number): Promise<VideoWriter> {
    const encoder = await videoEncoder();
    const child = spawn(
      'ffmpeg',
      [
        '-v', 'error', '-y',
        '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0',
        // yuv420p (playable everywhere) needs even sides.
        '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', '-c:v', encoder, '-pix_fmt', 'yuv420p', ...(encoder === 'mpeg4' ? ['-q:v', '3'] : []),
        path,
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
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
      await Promise.race([once(stdin, 'drain'), once(this.child, 'close').then(() => Promise.reject(this.failure()))]);
    }
  }

  private failure(): Error {
    return new Error(`${this.path}: ffmpeg stopped while encoding (${lastLines(this.stderr())})`);
  }

  /** Finishes the file; throws if ffmpeg failed. */
  async close(): Promise<void> {
    const closed = once(this.child, 'close') as Promise<[number | null]>;
    this.child.stdin!.end();
    const [code] = await closed;
    if (code !== 0) throw this.failure();
  }
}
