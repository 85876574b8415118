// Pairs every image of a split with its label file, checks both, and counts what was found — the result is plain
// data so training can cache it (see label-cache.ts).
import { readFile } from 'node:fs/promises';
import { labelPathFor } from './dataset-config.js';
import { assertRegularFile } from '../io/regular-file.js';
import { readImageInfo } from './image.js';
import { LabelError, parseLabels } from './labels.js';

export interface LabelledImage {
  imageFile: string;
  labelFile: string;
  /** Size as displayed (EXIF orientation applied). */
  width: number;
  height: number;
  /** Rows of [class, cx, cy, w, h], normalised; empty for a background image. */
  labels: Float32Array;
  /** JPEG without its end marker: decode leniently. */
  truncatedJpeg: boolean;
}

export interface DatasetScan {
  /** Usable images, in the order given; corrupt ones are left out. */
  images: LabelledImage[];
  /** Images with a non-empty label file. */
  found: number;
  /** Images without a label file (backgrounds). */
  missing: number;
  /** Images with an empty label file (backgrounds). */
  empty: number;
  /** Images skipped because the image or its labels are broken. */
  corrupt: number;
  /** Warnings, each naming the file (and line) concerned. */
  messages: string[];
}

export interface ScanOptions {
  /** Number of classes; labels outside 0..nc-1 make their image corrupt. */
  nc: number;
  /** Files checked at once. */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

type ScanOutcome =
  | { kind: 'ok'; image: LabelledImage; labelState: 'found' | 'missing' | 'empty'; warnings: string[] }
  | { kind: 'corrupt'; message: string };

async function readLabelText(labelFile: string): Promise<string | undefined> {
  await assertRegularFile(labelFile);
  try {
    return await readFile(labelFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LabelError(`${labelFile}: cannot read (${(error as Error).message})`);
  }
}

async function scanOne(imageFile: string, nc: number): Promise<ScanOutcome> {
  const labelFile = labelPathFor(imageFile);
  try {
    const info = await readImageInfo(imageFile);
    const warnings = info.truncatedJpeg ? [`${imageFile}: JPEG has no end marker, decoding it leniently`] : [];
    const text = await readLabelText(labelFile);
    const parsed = text === undefined ? undefined : parseLabels(text, labelFile, nc);
    const labels = parsed?.boxes ?? new Float32Array(0);
    warnings.push(...(parsed?.warnings ?? []));
    const labelState = text === undefined ? 'missing' : labels.length === 0 ? 'empty' : 'found';
    const image = { imageFile, labelFile, width: info.width, height: info.height, labels, truncatedJpeg: info.truncatedJpeg };
    return { kind: 'ok', image, labelState, warnings };
  } catch (error) {
    return { kind: 'corrupt', message: `ignoring corrupt image/label: ${(error as Error).message}` };
  }
}

/** Checks every image and label file; broken pairs are counted and reported, not thrown. */
export async function scanDataset(imageFiles: readonly string[], options: ScanOptions): Promise<DatasetScan> {
  const { nc, concurrency = 16, onProgress } = options;
  const outcomes = new Array<ScanOutcome>(imageFiles.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < imageFiles.length) {
      const i = next++;
      outcomes[i] = await scanOne(imageFiles[i]!, nc);
      onProgress?.(++done, imageFiles.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, imageFiles.length) }, worker));

  const scan: DatasetScan = { images: [], found: 0, missing: 0, empty: 0, corrupt: 0, messages: [] };
  for (const outcome of outcomes) {
    if (outcome.kind === 'corrupt') {
      scan.corrupt++;
      scan.messages.push(outcome.message);
    } else {
      scan.images.push(outcome.image);
      scan[outcome.labelState]++;
      scan.messages.push(...outcome.warnings);
    }
  }
  return scan;
}

/** The one-line summary YOLOv5 prints after scanning. */
export function describeScan(scan: DatasetScan): string {
  return `${scan.found} images, ${scan.missing + scan.empty} backgrounds, ${scan.corrupt} corrupt`;
}

/** Total number of labelled boxes. */
export function instanceCount(scan: DatasetScan): number {
  return scan.images.reduce((sum, image) => sum + image.labels.length / 5, 0);
}
