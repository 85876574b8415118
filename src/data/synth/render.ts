// Rasterises a scene: SVG through sharp, then Gaussian pixel noise from the scene's own seeded stream.
import sharp from 'sharp';
import { createRng } from './random.js';
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

function addNoise(pixels: Buffer, sigma: number, seed: number): void {
  if (sigma <= 0) return;
  const rng = createRng(seed);
  for (let i = 0; i < pixels.length; i++) {
    pixels[i] = Math.max(0, Math.min(255, Math.round(pixels[i]! + sigma * rng.normal())));
  }
}

export function encodeJpeg(image: RawImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}
