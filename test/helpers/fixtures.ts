// The tests' own data (test/fixtures, described in its README); tests run from the repository root.
import { resolve } from 'node:path';

const root = resolve('test', 'fixtures');

/** Official pretrained YOLOv5n. */
export const WEIGHTS = resolve(root, 'yolov5n.pt');
export const IMAGES = resolve(root, 'images');
export const BUS = resolve(IMAGES, 'bus.jpg');
export const ZIDANE = resolve(IMAGES, 'zidane.jpg');
/** The first 32 images of COCO128 val with their labels, the set of the official reference numbers. */
export const COCO32 = resolve(root, 'coco128-val32', 'coco128-val32.yaml');
export const REFERENCE = resolve(root, 'reference');
