// Pre-processing for the network: resize with OpenCV's sampling rules, pad, and lay out the float input. Two
// implementations give the same pixels, bit for bit: the image addon (native/image, one pass over the pixels, no
// libtorch) and the JS path (src/data/resize.ts, then padding and conversion), which runs where the addon is not
// built. The choice is made once, when this module loads; YOLOV5_PREPROCESS=js forces the JS path.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../io/package-root.js';
import { createRgbImage, type RgbImage } from './image.js';
import { resizeImage, type Interpolation } from './resize.js';
import { integer } from '../util/check.js';
import { BufferPool } from '../util/buffer-pool.js';

/** Where a resized image goes: a `width`×`height` output holding it with its top-left corner at (left, top), the rest `pad`. */
export interface Placement {
  width: number;
  height: number;
  left: number;
  top: number;
  /** 0..255, the same in all three channels. */
  pad: number;
}

export interface Preprocessor {
  readonly backend: 'native' | 'js';
  /** `image` resized to width×height as new 8-bit RGB pixels: alone, or placed in a padded output. */
  toRgb(image: RgbImage, width: number, height: number, interpolation: Interpolation, placement?: Placement): RgbImage;
  /**
   * The same as the network input: float planes (CHW, R then G then B) of value / 255, written to `out`, which holds
   * 3 × the output's width × height floats (a view into a batch works). Every element is written.
   */
  toInput(image: RgbImage, width: number, height: number, interpolation: Interpolation, out: Float32Array, placement?: Placement): void;
}

/** The addon's functions (native/image/image.cc); both write into `out` and check every argument. */
interface ImageAddon {
  resizeToRgb(...args: AddonArguments<Uint8Array>): void;
  resizeToInput(...args: AddonArguments<Float32Array>): void;
}

type AddonArguments<Out> = [
  src: Uint8Array,
  srcWidth: number,
  srcHeight: number,
  width: number,
  height: number,
  interpolation: Interpolation,
  out: Out,
  outWidth: number,
  outHeight: number,
  left: number,
  top: number,
  pad: number,
];

const isCount = (n: number, min: number): boolean => Number.isInteger(n) && n >= min;

/** The placement, checked: the image must fit in it (the addon checks the same; this keeps the JS path's errors alike). */
function placed(image: RgbImage, width: number, height: number, placement: Placement | undefined): Placement {
  integer('resize: target width', width, { min: 1 });
  integer('resize: target height', height, { min: 1 });
  if (image.data.length !== 3 * image.width * image.height) {
    throw new RangeError(`resize: a ${image.width}x${image.height} RGB image needs ${3 * image.width * image.height} bytes, it has ${image.data.length}`);
  }
  const at = placement ?? { width, height, left: 0, top: 0, pad: 0 };
  if (!isCount(at.left, 0) || !isCount(at.top, 0) || !isCount(at.width, 1) || !isCount(at.height, 1) || at.left + width > at.width || at.top + height > at.height) {
    throw new RangeError(`resize: a ${width}x${height} image at (${at.left}, ${at.top}) does not fit in a ${at.width}x${at.height} output`);
  }
  integer('resize: the padding value', at.pad, { min: 0, max: 255 });
  return at;
}

function checkInput(out: Float32Array, at: Placement): void {
  const expected = 3 * at.width * at.height;
  if (out.length !== expected) throw new RangeError(`resize: the network input for a ${at.width}x${at.height} output holds ${expected} floats, got ${out.length}`);
}

function fromAddon(addon: ImageAddon): Preprocessor {
  return {
    backend: 'native',
    toRgb(image, width, height, interpolation, placement) {
      const at = placed(image, width, height, placement);
      const out = new Uint8Array(3 * at.width * at.height);
      addon.resizeToRgb(image.data, image.width, image.height, width, height, interpolation, out, at.width, at.height, at.left, at.top, at.pad);
      return { data: out, width: at.width, height: at.height };
    },
    toInput(image, width, height, interpolation, out, placement) {
      const at = placed(image, width, height, placement);
      checkInput(out, at);
      addon.resizeToInput(image.data, image.width, image.height, width, height, interpolation, out, at.width, at.height, at.left, at.top, at.pad);
    },
  };
}

/** The resized pixels; the image itself when the size is already right and the caller copies them anyway. */
function resizedView(image: RgbImage, width: number, height: number, interpolation: Interpolation): RgbImage {
  return width === image.width && height === image.height ? image : resizeImage(image, width, height, interpolation);
}

export const jsPreprocessor: Preprocessor = {
  backend: 'js',
  toRgb(image, width, height, interpolation, placement) {
    const at = placed(image, width, height, placement);
    if (!placement) return resizeImage(image, width, height, interpolation);
    const resized = resizedView(image, width, height, interpolation);
    const out = createRgbImage(at.width, at.height, at.pad);
    const rowBytes = width * 3;
    for (let y = 0; y < height; y++) {
      out.data.set(resized.data.subarray(y * rowBytes, (y + 1) * rowBytes), ((y + at.top) * at.width + at.left) * 3);
    }
    return out;
  },
  toInput(image, width, height, interpolation, out, placement) {
    const at = placed(image, width, height, placement);
    checkInput(out, at);
    const { data: src } = resizedView(image, width, height, interpolation);
    const plane = at.width * at.height;
    if (width !== at.width || height !== at.height) out.fill(at.pad / 255);
    for (let y = 0; y < height; y++) {
      let p = (y + at.top) * at.width + at.left;
      for (let x = 0, s = y * width * 3; x < width; x++, p++, s += 3) {
        out[p] = src[s]! / 255;
        out[plane + p] = src[s + 1]! / 255;
        out[2 * plane + p] = src[s + 2]! / 255;
      }
    }
  },
};

/** Memory of network inputs whose inference has ended (recycleFloats), for the next ones. */
const inputMemory = new BufferPool();

/**
 * A Float32Array whose contents are left as they were in memory, for outputs that `toInput` writes whole: a zeroed one
 * costs a tenth of the addon's time for a 640×384 input. Recycled memory of the same size is taken first.
 */
export function uninitialisedFloats(length: number): Float32Array {
  return new Float32Array(inputMemory.take(4 * length), 0, length);
}

/** Gives an array from uninitialisedFloats back once nothing reads or writes it any more (a video frame's input). */
export function recycleFloats(array: Float32Array): void {
  if (array.byteOffset === 0 && array.byteLength === array.buffer.byteLength) inputMemory.give(array.buffer as ArrayBuffer);
}

function loadAddon(): { addon: ImageAddon } | { why: string } {
  const dir = join(packageRoot(), 'native', 'image');
  const path = join(dir, 'build', 'Release', 'yolov5_image.node');
  if (!existsSync(path)) {
    // native/install.mjs keeps the compiler's output when the build fails at install.
    const log = join(dir, 'build.log');
    return { why: `the image addon is not built (${existsSync(log) ? `its build failed, see ${log}` : `${path} is missing`})` };
  }
  try {
    return { addon: createRequire(import.meta.url)(path) as ImageAddon };
  } catch (error) {
    return { why: `the image addon ${path} cannot be loaded (${(error as Error).message.split('\n')[0]})` };
  }
}

const forced = process.env.YOLOV5_PREPROCESS;
if (forced !== undefined && forced !== '' && forced !== 'js') {
  throw new Error(`YOLOV5_PREPROCESS=${forced}: the only value it takes is 'js' (pre-process in JS even where the image addon is built)`);
}
const loaded = loadAddon();

/** The image addon's pre-processing, or null where it is not built or cannot be loaded (see `jsFallbackReason`). */
export const nativePreprocessor: Preprocessor | null = 'addon' in loaded ? fromAddon(loaded.addon) : null;

/** What the library uses: the addon where it is available, else the JS path. */
export const preprocessor: Preprocessor = forced !== 'js' && nativePreprocessor ? nativePreprocessor : jsPreprocessor;

/** Why `preprocessor` is the JS path, or undefined when it is the addon. */
export const jsFallbackReason: string | undefined = forced === 'js' ? 'YOLOV5_PREPROCESS=js' : 'why' in loaded ? loaded.why : undefined;
