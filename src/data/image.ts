// Image files in and out of memory: header checks and decoding to RGB with EXIF orientation applied.
import { open } from 'node:fs/promises';
import sharp from 'sharp';
import { assertRegularFile } from '../io/regular-file.js';

/** An 8-bit RGB image, rows of interleaved R,G,B (HWC). */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface ImageInfo {
  /** Size as displayed, i.e. after the EXIF orientation is applied. */
  width: number;
  height: number;
  format: string;
  /** A JPEG whose end-of-image marker is missing: decodable, but only leniently. */
  truncatedJpeg: boolean;
}

const READABLE_FORMATS = new Set(['jpeg', 'png', 'webp', 'tiff', 'bmp']);

/** Smallest side the YOLOv5 tools accept; anything smaller is almost surely a broken file. */
export const MIN_IMAGE_SIDE = 10;

/** Why an image of this size is not worth detecting on (a side under MIN_IMAGE_SIDE), or null. */
export function degenerateSize(width: number, height: number): string | null {
  return width < MIN_IMAGE_SIDE || height < MIN_IMAGE_SIDE ? `image size ${width}x${height} is smaller than ${MIN_IMAGE_SIDE} pixels` : null;
}

export function createRgbImage(width: number, height: number, fill = 0): RgbImage {
  return { data: new Uint8Array(width * height * 3).fill(fill), width, height };
}

async function endsWithJpegMarker(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size < 2) return false;
    const tail = Buffer.alloc(2);
    await handle.read(tail, 0, 2, size - 2);
    return tail[0] === 0xff && tail[1] === 0xd9;
  } finally {
    await handle.close();
  }
}

/** Reads only the header: oriented size and format. Throws an Error naming the file if it is not a usable image. */
export async function readImageInfo(file: string): Promise<ImageInfo> {
  await assertRegularFile(file);
  const meta = await sharp(file)
    .metadata()
    .catch((error: Error) => {
      throw new Error(`${file}: unreadable image (${error.message})`);
    });
  const format = meta.format;
  if (!READABLE_FORMATS.has(format)) throw new Error(`${file}: unsupported image format '${format}'`);
  const { width, height } = meta.autoOrient;
  const degenerate = degenerateSize(width, height);
  if (degenerate) throw new Error(`${file}: ${degenerate}`);
  const truncatedJpeg = format === 'jpeg' && !(await endsWithJpegMarker(file));
  return { width, height, format, truncatedJpeg };
}

/**
 * Decodes to 8-bit RGB with the EXIF orientation applied (alpha dropped, grey expanded, 16-bit reduced).
 * `lenient` accepts a JPEG with a missing end marker, which strict decoding rejects.
 */
export async function decodeImage(file: string, options: { lenient?: boolean } = {}): Promise<RgbImage> {
  await assertRegularFile(file);
  try {
    // ignoreIcc: OpenCV (the reference pipeline) ignores embedded colour profiles; converting them shifts pixels.
    const { data, info } = await sharp(file, { failOn: options.lenient ? 'none' : 'warning', ignoreIcc: true })
      .autoOrient()
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (error) {
    throw new Error(`${file}: cannot decode image (${(error as Error).message})`);
  }
}
