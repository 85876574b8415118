// The demo's detection stage: an exported ONNX model run by ONNX Runtime on held-out images, each saved with its
// boxes drawn (enlarged, so that small synthetic pictures stay readable), and the labelled objects it found counted.
import { mkdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import { parseLabels } from '../data/labels.js';
import { labelPathFor } from '../data/dataset-config.js';
import { ROW, xywhnToPixelXyxy } from '../data/augment/boxes.js';
import { boxIouAt } from '../val/boxes.js';
import type { RgbImage } from '../data/image.js';
import { annotateImage } from '../plot/draw.js';
import { load } from '../infer/predictor.js';
import type { Box, Detections } from '../infer/results.js';

/** Annotated images are enlarged by a whole factor until their longer side reaches this. */
const DISPLAY_SIDE = 384;
/** A detection finds a labelled object when the classes agree and the boxes overlap at least this much. */
const MATCH_IOU = 0.5;

export interface ImageDetections {
  image: string;
  /** The annotated picture written. */
  annotated: string;
  boxes: Box[];
  /** Labelled objects in the image, and how many of them a detection found. */
  labelled: number;
  found: number;
}

export interface DetectionRun {
  images: ImageDetections[];
  labelled: number;
  found: number;
  detections: number;
}

/** Ground-truth rows [class, x1, y1, x2, y2] of an image, in its pixels. */
async function labelRows(image: string, size: { width: number; height: number }, classes: number): Promise<Float64Array> {
  const file = labelPathFor(image);
  // The generator writes a label file for every image; none would mean a background image.
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw new Error(`demo: cannot read labels ${file}: ${error.message}`);
  });
  return xywhnToPixelXyxy(parseLabels(text, file, classes).boxes, size.width, size.height);
}

/** Labelled objects found: greedily, most confident detection first, each object matched at most once. */
function countFound(detections: readonly Box[], labels: Float64Array): number {
  const corners = labels.subarray(1); // row i's corners start at i·ROW + 1
  const taken = new Set<number>();
  for (const d of [...detections].sort((p, q) => q.confidence - p.confidence)) {
    const box = Float64Array.of(d.x1, d.y1, d.x2, d.y2);
    let best = -1;
    let bestIou = MATCH_IOU;
    for (let i = 0; i < labels.length / ROW; i++) {
      if (taken.has(i) || labels[i * ROW] !== d.classId) continue;
      const overlap = boxIouAt(box, 0, corners, i, 4, ROW);
      if (overlap >= bestIou) [best, bestIou] = [i, overlap];
    }
    if (best >= 0) taken.add(best);
  }
  return taken.size;
}

async function enlarged(image: RgbImage, factor: number): Promise<RgbImage> {
  if (factor === 1) return image;
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(image.width * factor, image.height * factor)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

async function saveAnnotated(result: Detections, file: string): Promise<void> {
  const factor = Math.max(1, Math.ceil(DISPLAY_SIDE / Math.max(result.image.width, result.image.height)));
  const boxes = result
    .annotationBoxes()
    .reverse() // weakest first, so the most confident boxes are drawn on top
    .map((b) => ({ ...b, x1: b.x1 * factor, y1: b.y1 * factor, x2: b.x2 * factor, y2: b.y2 * factor }));
  await annotateImage(await enlarged(result.image, factor), boxes).jpeg({ quality: 90 }).toFile(file);
}

/** Runs an ONNX model on `images` at `imgsz`, writing `<outDir>/<stem>.jpg` for each. */
export async function detectAndDraw(onnxFile: string, images: readonly string[], outDir: string, imgsz: number): Promise<DetectionRun> {
  await mkdir(outDir, { recursive: true });
  const detector = await load(onnxFile);
  try {
    const run: DetectionRun = { images: [], labelled: 0, found: 0, detections: 0 };
    for (const image of images) {
      const result = await detector.detect(image, { imgsz });
      const annotated = join(outDir, `${basename(image, extname(image))}.jpg`);
      await saveAnnotated(result, annotated);
      const labels = await labelRows(image, result.imageSize, detector.names.length);
      const labelled = labels.length / ROW;
      const found = countFound(result.boxes, labels);
      run.images.push({ image, annotated, boxes: result.boxes, labelled, found });
      run.labelled += labelled;
      run.found += found;
      run.detections += result.boxes.length;
    }
    return run;
  } finally {
    await detector.dispose();
  }
}
