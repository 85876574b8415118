// Rasterises a scene: SVG through sharp, then Gaussian pixel noise from the scene's own seeded stream.
import sharp from 'sharp';
import { createRng } from '../../util/random.js';
import type { Scene } from './scene.js';
import { sceneToSvg } from './svg.js';

/** Interleaved 8-bit RGB. */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
}

export async function renderScene(scene: Scene): Promise<RawImage> {
  const { data, info } = await sharp(Buffer.from(sceneToSvg(scene))).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== scene.size || info.height !== scene.size || info.channels !== 3) {
    throw new Error(`synthetic scene rendered as ${info.width}x${info.height}x${info.channels}, expected ${scene.size}x${scene.size}x3`);
  }
  addNoise(data, scene.noise.sigma, scene.noise.seed);
  return { data, width: info.width, height: info.height };
}

// Standard deviation of the sum of four uniform bytes (each has variance (256² - 1) / 12).
const FOUR_BYTES_STD = Math.sqrt((4 * (256 * 256 - 1)) / 12);

/**
 * Adds near-Gaussian noise: the sum of the four bytes of one random word (Irwin–Hall), which is plenty for sensor
 * noise and several times faster than Box–Muller on the hundreds of thousands of samples per image.
 */
function addNoise(pixels: Buffer, sigma: number, seed: number): void {
  if (sigma <= 0) return;
  const rng = createRng(seed);
  const scale = sigma / FOUR_BYTES_STD;
  // A clamped view rounds and saturates on assignment.
  const view = new Uint8ClampedArray(pixels.buffer, pixels.byteOffset, pixels.length);
  for (let i = 0; i < view.length; i++) {
    const u = rng.uint32();
    const sum = (u & 255) + ((u >>> 8) & 255) + ((u >>> 16) & 255) + (u >>> 24);
    view[i] = view[i]! + scale * (sum - 510);
  }
}

export function encodeJpeg(image: RawImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}
