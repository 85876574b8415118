// What a detector accepts as an image: a file path, an http(s) URL, an encoded file in memory, or raw pixels.
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { decodeImage, type RgbImage } from '../data/image.js';
import { fetchImageBytes, isHttpUrl, type FetchOptions } from './fetch-image.js';
import { streamStem } from './sources.js';
import { fail, integer } from '../util/check.js';

/** Raw 8-bit pixels, rows of interleaved RGB (or RGBA, alpha ignored). */
export interface RawPixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  /** 3 (RGB, default) or 4 (RGBA). */
  channels?: 3 | 4;
}

/**
 * A path to an image file, an `http://` or `https://` URL (a string or a URL object; `file:` URLs are paths), an
 * encoded image (JPEG, PNG, WebP, BMP, TIFF) in a Buffer, or raw pixels.
 */
export type ImageInput = string | URL | Buffer | RawPixels;

/** How in-memory inputs are named in results and errors. */
const BUFFER_SOURCE = 'image buffer';
const RAW_SOURCE = 'raw pixels';

export interface DecodedInput {
  image: RgbImage;
  /** The path, or a description for in-memory inputs. */
  source: string;
}

function isRawPixels(input: unknown): input is RawPixels {
  return typeof input === 'object' && input !== null && !Buffer.isBuffer(input) && 'width' in input && 'height' in input && 'data' in input;
}

/** `source` names the bytes in errors; `detail` says more about them (where they came from) when decoding fails. */
async function decodeBuffer(buffer: Buffer, source: string, detail = ''): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(buffer, { failOn: 'warning', ignoreIcc: true })
      .autoOrient()
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (error) {
    throw new Error(`${source} (${buffer.length} bytes${detail}): cannot decode image (${(error as Error).message})`);
  }
}

function fromRawPixels(input: RawPixels): RgbImage {
  const { width, height, data } = input;
  const channels = input.channels ?? 3;
  integer('raw pixels: width', width, { min: 1 });
  integer('raw pixels: height', height, { min: 1 });
  if (channels !== 3 && channels !== 4) fail('raw pixels: channels', '3 (RGB) or 4 (RGBA)', channels);
  if (data.length !== width * height * channels) {
    throw new Error(`raw pixels: ${data.length} bytes for ${width}x${height}x${channels} (expected ${width * height * channels})`);
  }
  const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (channels === 3) return { data: pixels, width, height };
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0, s = 0; p < rgb.length; p += 3, s += 4) rgb.set(pixels.subarray(s, s + 3), p);
  return { data: rgb, width, height };
}

async function decodeUrl(url: string, options: FetchOptions): Promise<RgbImage> {
  const { bytes, contentType } = await fetchImageBytes(url, options);
  return decodeBuffer(bytes, url, contentType ? `, Content-Type ${contentType}` : '');
}

/** Decodes any ImageInput; `fetch` bounds the download of URL inputs. */
export async function decodeInput(input: ImageInput, options: { fetch?: FetchOptions } = {}): Promise<DecodedInput> {
  if (input instanceof URL) {
    if (input.protocol === 'file:') return decodeInput(fileURLToPath(input), options);
    if (!isHttpUrl(input.href)) throw new Error(`${input.href}: only http, https and file URLs can be read`);
    return { image: await decodeUrl(input.href, options.fetch ?? {}), source: input.href };
  }
  if (typeof input === 'string') {
    const image = isHttpUrl(input) ? await decodeUrl(input, options.fetch ?? {}) : await decodeImage(input);
    return { image, source: input };
  }
  if (Buffer.isBuffer(input)) return { image: await decodeBuffer(input, BUFFER_SOURCE), source: BUFFER_SOURCE };
  if (isRawPixels(input)) return { image: fromRawPixels(input), source: RAW_SOURCE };
  throw new Error('an image input must be a file path, an http(s) URL, a Buffer holding an encoded image, or raw pixels {data, width, height}');
}

/**
 * The file name stem of a result's source, for files saved from it (crops): a path's or URL's last name without its
 * extension (`bus.jpg`, `https://host/img/bus.jpg?s=1` → `bus`), `image` for in-memory inputs.
 */
export function sourceStem(source: string): string {
  if (source === BUFFER_SOURCE || source === RAW_SOURCE) return 'image';
  if (/^[a-z][a-z\d+.-]*:\/\//i.test(source)) return streamStem(source);
  return basename(source, extname(source)) || 'image';
}
