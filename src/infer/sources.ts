// What `detect --source` can name, resolved to a list of media: an image or video file, a folder, a glob, a
// stream URL (rtsp, rtmp, http), a camera number, or a .txt file listing any of these one per line.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join, sep } from 'node:path';
import { irregularReason } from '../io/regular-file.js';

/** File suffixes read as images (as the official IMG_FORMATS, minus those sharp cannot decode). */
export const IMAGE_FORMATS = ['bmp', 'jpeg', 'jpg', 'png', 'tif', 'tiff', 'webp'];
/** File suffixes read as videos through ffmpeg (the official VID_FORMATS). */
export const VIDEO_FORMATS = ['asf', 'avi', 'gif', 'm4v', 'mkv', 'mov', 'mp4', 'mpeg', 'mpg', 'ts', 'wmv'];

export type MediaEntry =
  /** A file, or an http(s) URL whose path ends in an image suffix (fetched). */
  | { kind: 'image'; path: string }
  | { kind: 'video'; path: string }
  | { kind: 'stream'; url: string }
  /** A local camera, read through ffmpeg's video4linux2 input; `number` as given (`0`). */
  | { kind: 'camera'; device: string; number: string }
  /** Found but unusable (reported and skipped). */
  | { kind: 'invalid'; path: string; reason: string };

const STREAM_URL = /^(rtsp|rtmp|https?):\/\//i;
/** YOLOv5 reads a numeric source as a camera (OpenCV's index), before any file of that name. */
const CAMERA_NUMBER = /^\d+$/;
const GLOB_CHARS = /[*?[]/;

function suffix(path: string): string {
  return extname(path).slice(1).toLowerCase();
}

/** False for a missing path (a broken link included): such entries are reported when read. */
function isFolder(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function fileEntry(path: string): MediaEntry {
  const stats = statSync(path, { throwIfNoEntry: false });
  const irregular = stats && irregularReason(stats);
  if (irregular) return { kind: 'invalid', path, reason: irregular };
  const ext = suffix(path);
  if (IMAGE_FORMATS.includes(ext)) return { kind: 'image', path };
  if (VIDEO_FORMATS.includes(ext)) return { kind: 'video', path };
  return {
    kind: 'invalid',
    path,
    reason: `not an image or video file (supported: ${IMAGE_FORMATS.join(', ')}; ${VIDEO_FORMATS.join(', ')})`,
  };
}

function globToRegExp(segment: string): RegExp {
  let pattern = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') pattern += '[^/]*';
    else if (c === '?') pattern += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 1);
      if (close < 0) pattern += '\\[';
      else {
        const body = segment.slice(i + 1, close);
        pattern += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`;
        i = close;
      }
    } else pattern += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${pattern}$`);
}

/** Files matching a glob: `*`, `?`, `[abc]` within one path segment, `**` for any depth of folders. */
export function expandGlob(pattern: string): string[] {
  const absolute = pattern.startsWith(sep);
  const segments = pattern.split(/[\\/]+/).filter((s) => s !== '');
  const firstWild = segments.findIndex((s) => GLOB_CHARS.test(s));
  const base = segments.slice(0, firstWild).join(sep);
  const root = absolute ? sep + base : base || '.';
  const results: string[] = [];
  const walk = (dir: string, rest: string[]): void => {
    if (rest.length === 0) return;
    const [head, ...tail] = rest;
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    if (head === '**') {
      walk(dir, tail);
      for (const name of names) if (!name.startsWith('.') && isFolder(join(dir, name))) walk(join(dir, name), rest);
      return;
    }
    const matcher = globToRegExp(head!);
    for (const name of names) {
      if (name.startsWith('.') && !head!.startsWith('.')) continue;
      if (!matcher.test(name)) continue;
      const path = dir === '.' && !absolute && !base ? name : join(dir, name);
      const isDir = isFolder(path);
      if (tail.length === 0) {
        if (!isDir) results.push(path);
      } else if (isDir) walk(path, tail);
    }
  };
  walk(root, segments.slice(firstWild));
  return [...new Set(results)].sort();
}

/** Resolves a --source argument to media entries, in order. Throws when it names nothing usable at all. */
export function resolveSource(source: string): MediaEntry[] {
  const trimmed = source.trim();
  if (STREAM_URL.test(trimmed)) {
    // As YOLOv5: a URL naming an image file by its suffix is that image, fetched. A video URL stays a stream, read
    // by ffmpeg with the stream's read timeout: `.ts`, `.mp4` over http are as often live as finished files.
    const named = /^https?:/i.test(trimmed) ? suffix(new URL(trimmed).pathname) : '';
    if (IMAGE_FORMATS.includes(named)) return [{ kind: 'image', path: trimmed }];
    return [{ kind: 'stream', url: trimmed }];
  }
  if (CAMERA_NUMBER.test(trimmed)) {
    const device = `/dev/video${Number(trimmed)}`;
    if (!existsSync(device)) throw new Error(`--source ${source}: no camera ${device} on this machine`);
    return [{ kind: 'camera', device, number: trimmed }];
  }
  if (GLOB_CHARS.test(trimmed) && !existsSync(trimmed)) {
    const files = expandGlob(trimmed);
    if (files.length === 0) throw new Error(`--source ${source}: the glob matches no files`);
    return files.map(fileEntry);
  }
  if (!existsSync(trimmed)) throw new Error(`--source ${source}: no such file or folder`);
  if (isFolder(trimmed)) {
    // Subfolders are not searched; anything else that is not a regular file (a FIFO, a socket) is reported.
    const names = readdirSync(trimmed)
      .filter((n) => !n.startsWith('.') && !isFolder(join(trimmed, n)))
      .sort();
    if (names.length === 0) throw new Error(`--source ${source}: the folder is empty`);
    return names.map((n) => fileEntry(join(trimmed, n)));
  }
  if (suffix(trimmed) === 'txt') {
    const irregular = irregularReason(statSync(trimmed));
    if (irregular) throw new Error(`--source ${source}: ${irregular}`);
    const lines = readFileSync(trimmed, 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    if (lines.length === 0) throw new Error(`--source ${source}: the list file names no sources`);
    return lines.flatMap((line) => {
      try {
        return resolveSource(line);
      } catch (error) {
        return [{ kind: 'invalid' as const, path: line, reason: (error as Error).message.replace(/^--source /, '') }];
      }
    });
  }
  const entry = fileEntry(trimmed);
  if (entry.kind === 'invalid') throw new Error(`--source ${source}: ${entry.reason}`);
  return [entry];
}

/** A file-system-safe stem for a stream's results: the URL's last path segment, else its host (`rtsp://h/cam/live` → `live`). */
export function streamStem(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'stream';
  }
  const last = parsed.pathname.split('/').filter(Boolean).pop() ?? parsed.hostname;
  return basename(last, extname(last)).replace(/[^\w.-]+/g, '_') || 'stream';
}
