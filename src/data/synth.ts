// The built-in synthetic detection dataset: shapes (circle, square, triangle, …) on varied backgrounds, written
// as an ordinary YOLO dataset (images/, labels/, data.yaml) that every command can read. Deterministic by seed:
// each image has its own PRNG stream keyed by (seed, split, index), so files are byte-identical across runs
// whatever order the concurrent render jobs finish in.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { createRng } from '../util/random.js';
import { encodeJpeg, renderScene } from './synth/render.js';
import { sampleScene, type Scene } from './synth/scene.js';
import { MAX_CLASSES, SHAPE_CLASSES } from './synth/shapes.js';
import { integer } from '../util/check.js';

export { MAX_CLASSES, SHAPE_CLASSES } from './synth/shapes.js';

export interface SynthDatasetOptions {
  /** Output folder; created if missing. It must be empty, or hold an earlier synthetic dataset (which is replaced). */
  out: string;
  /** Number of training images. */
  images: number;
  /** Number of validation images; default 20% of `images` (at least 1). */
  valImages?: number;
  /** Number of classes K (1..8); the classes are the first K of SHAPE_CLASSES. */
  classes: number;
  /** Image side in pixels (square images). */
  imgsz: number;
  seed: number;
  /** Called after each image is written. */
  onProgress?: (done: number, total: number) => void;
}

export interface SynthDataset {
  /** Absolute path of the dataset's data.yaml. */
  yaml: string;
  train: number;
  val: number;
  names: string[];
}

export const MIN_IMGSZ = 32;
export const MAX_IMGSZ = 4096;
const YAML_MARKER = '# Synthetic shapes dataset made by `yolov5 dataset synth`';
const SPLITS = ['train', 'val'] as const;

/** One label line per object: `class cx cy w h`, normalised to the image side, 6 decimals. */
export function labelLines(scene: Scene): string {
  const s = scene.size;
  return scene.objects
    .map(({ classId, box }) => {
      const values = [(box.x0 + box.x1) / 2 / s, (box.y0 + box.y1) / 2 / s, (box.x1 - box.x0) / s, (box.y1 - box.y0) / s];
      return `${classId} ${values.map((v) => v.toFixed(6)).join(' ')}\n`;
    })
    .join('');
}

/** The scene of one image of the dataset (exported so tests and tools can inspect what a file shows). */
export function synthScene(seed: number, split: 'train' | 'val', index: number, imgsz: number, classes: number): Scene {
  return sampleScene(createRng(seed, SPLITS.indexOf(split), index), { size: imgsz, classes });
}

async function prepareOutput(out: string): Promise<void> {
  const entries = await readdir(out).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw new Error(`synthetic dataset: cannot read output folder ${out}: ${error.message}`);
  });
  if (entries.length === 0) return;
  const yamlText = await readFile(join(out, 'data.yaml'), 'utf8').catch(() => '');
  if (!yamlText.startsWith(YAML_MARKER)) {
    throw new Error(`synthetic dataset: output folder ${out} is not empty and holds no earlier synthetic dataset; choose a new or empty folder`);
  }
  // Only the parts this generator writes, so a stale larger dataset leaves no extra images behind.
  for (const part of ['images', 'labels', 'data.yaml']) await rm(join(out, part), { recursive: true, force: true });
}

export async function generateSynthDataset(options: SynthDatasetOptions): Promise<SynthDataset> {
  const { images, classes, imgsz, seed } = options;
  const valImages = options.valImages ?? Math.max(1, Math.round(images * 0.2));
  integer('synthetic dataset: images', images, { min: 1 });
  integer('synthetic dataset: val images', valImages, { min: 1 });
  integer('synthetic dataset: classes', classes, { min: 1, max: MAX_CLASSES });
  integer('synthetic dataset: image size', imgsz, { min: MIN_IMGSZ, max: MAX_IMGSZ });
  integer('synthetic dataset: seed', seed);
  const out = resolve(options.out);
  await prepareOutput(out);
  for (const split of SPLITS) {
    await mkdir(join(out, 'images', split), { recursive: true });
    await mkdir(join(out, 'labels', split), { recursive: true });
  }

  const counts = { train: images, val: valImages };
  const jobs = SPLITS.flatMap((split) => Array.from({ length: counts[split] }, (_, index) => ({ split, index })));
  const digits = Math.max(6, String(Math.max(images, valImages) - 1).length);
  let next = 0;
  let done = 0;
  // A few jobs in flight keep both libvips and the JS side busy without piling up buffers.
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const { split, index } = jobs[next++]!;
      const scene = synthScene(seed, split, index, imgsz, classes);
      const stem = String(index).padStart(digits, '0');
      try {
        const jpeg = await encodeJpeg(await renderScene(scene));
        await writeFile(join(out, 'images', split, `${stem}.jpg`), jpeg);
        await writeFile(join(out, 'labels', split, `${stem}.txt`), labelLines(scene));
      } catch (error) {
        next = jobs.length; // stop the other workers too
        throw new Error(`synthetic dataset: writing ${split} image ${stem} in ${out} failed: ${(error as Error).message}`);
      }
      options.onProgress?.(++done, jobs.length);
    }
  };
  const concurrency = Math.min(jobs.length, 2 * availableParallelism());
  await Promise.all(Array.from({ length: concurrency }, worker));

  const names = SHAPE_CLASSES.slice(0, classes).map((c) => c.name);
  const header = `${YAML_MARKER} (seed ${seed}, ${imgsz} px).\n# Relative paths resolve against the folder of this file.\n`;
  const yamlPath = join(out, 'data.yaml');
  await writeFile(yamlPath, header + stringify({ path: '.', train: 'images/train', val: 'images/val', nc: classes, names }));
  return { yaml: yamlPath, train: images, val: valImages, names };
}
