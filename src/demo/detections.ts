// The demo's detection stage: an exported ONNX model run by ONNX Runtime on held-out images, each saved with its
// boxes drawn (enlarged, so that small synthetic pictures stay readable), and the labelled objects it found counted.
import { mkdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import { parseLabels } from '../data/labels.js';
import { labelPathFor } from '../data/dataset-config.js';
import type { RgbImage } from '../data/image.js';
import { annotateImage } from '../infer/draw.js';
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

function iou(a: Box, b: Box): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  const inter = Math.max(iw, 0) * Math.max(ih, 0);
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/** Ground-truth boxes of an image, in its pixels. */
async function labelBoxes(image: string, size: { width: number; height: number }, names: string[]): Promise<Box[]> {
  const file = labelPathFor(image);
  // The generator writes a label file for every image; none would mean a background image.
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw new Error(`demo: cannot read labels ${file}: ${error.message}`);
  });
  const { boxes } = parseLabels(text, file, names.length);
  const out: Box[] = [];
  for (let r = 0; r < boxes.length; r += 5) {
    const [classId, cx, cy, w, h] = [boxes[r]!, boxes[r + 1]!, boxes[r + 2]!, boxes[r + 3]!, boxes[r + 4]!];
    const [x1, y1] = [(cx - w / 2) * size.width, (cy - h / 2) * size.height];
    out.push({ x1, y1, x2: x1 + w * size.width, y2: y1 + h * size.height, confidence: 1, classId, className: names[classId]! });
  }
  return out;
}

/** Labelled objects found: greedily, most confident detection first, each object matched at most once. */
export function countFound(detections: readonly Box[], labels: readonly Box[]): number {
  const taken = new Set<number>();
  for (const d of [...detections].sort((p, q) => q.confidence - p.confidence)) {
    let best = -1;
    let bestIou = MATCH_IOU;
    labels.forEach((l, i) => {
      if (taken.has(i) || l.classId !== d.classId) return;
      const overlap = iou(d, l);
      if (overlap >= bestIou) [best, bestIou] = [i, overlap];
    });
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
      const labels = await labelBoxes(image, result.imageSize, detector.names);
      const found = countFound(result.boxes, labels);
      run.images.push({ image, annotated, boxes: result.boxes, labelled: labels.length, found });
      run.labelled += labels.length;
      run.found += found;
      run.detections += result.boxes.length;
    }
    return run;
  } finally {
    await detector.dispose();
  }
}
