// SVG to image files through sharp (librsvg): PNG or JPEG by the file's extension.
import { extname } from 'node:path';
import sharp from 'sharp';
import { figureSvg, type FigureOptions, type Panel } from './figure.js';

/** Writes an SVG document as `path` (.png, .jpg or .jpeg). */
export async function saveSvg(svg: string, path: string): Promise<void> {
  const extension = extname(path).toLowerCase();
  const image = sharp(Buffer.from(svg), { density: 72 });
  if (extension === '.png') await image.png().toFile(path);
  else if (extension === '.jpg' || extension === '.jpeg') await image.flatten({ background: '#ffffff' }).jpeg({ quality: 90 }).toFile(path);
  else throw new Error(`cannot write a chart as ${path}: use a .png or .jpg file name`);
}

/** Renders panels (see figure.ts) into an image file. */
export async function saveFigure(panels: readonly (Panel | null)[], path: string, options: FigureOptions = {}): Promise<void> {
  await saveSvg(figureSvg(panels, options), path);
}
