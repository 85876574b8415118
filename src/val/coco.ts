// COCO conventions for result files: the 80 detection classes and their ids among COCO's 91 category ids.

export const COCO_NAMES: readonly string[] = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
  'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard',
  'tennis racket', 'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple',
  'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch',
  'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone',
  'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear',
  'hair drier', 'toothbrush',
];

/** COCO category id of each of the 80 classes (COCO skips 11 of the ids 1..90). */
export const COCO80_TO_COCO91: readonly number[] = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33, 34,
  35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
  64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
];

/** True when the class list is COCO's 80 detection classes in the usual order. */
export function isCocoClassList(names: readonly string[]): boolean {
  return names.length === COCO_NAMES.length && names.every((name, i) => name === COCO_NAMES[i]);
}

/** One entry of a COCO results file. */
export interface CocoDetection {
  image_id: number | string;
  category_id: number;
  /** Top-left x, y, width, height in original image pixels. */
  bbox: [number, number, number, number];
  score: number;
}

/** COCO's image id convention: a numeric file stem is the id. */
export function cocoImageId(stem: string): number | string {
  return /^\d+$/.test(stem) ? Number(stem) : stem;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/**
 * COCO result entries for one image's detections (rows [x1, y1, x2, y2, score, class] in original pixels).
 * `categoryId(class)` gives the category id to write.
 */
export function toCocoDetections(imageId: number | string, detections: Float32Array, categoryId: (cls: number) => number): CocoDetection[] {
  const out: CocoDetection[] = [];
  for (let d = 0; d < detections.length / 6; d++) {
    const [x1, y1, x2, y2, score, cls] = detections.subarray(d * 6, d * 6 + 6);
    out.push({
      image_id: imageId,
      category_id: categoryId(cls!),
      bbox: [round(x1!, 3), round(y1!, 3), round(x2! - x1!, 3), round(y2! - y1!, 3)],
      score: round(score!, 5),
    });
  }
  return out;
}
