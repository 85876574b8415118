// Mirror flips of an image and its normalised [class, cx, cy, w, h] label rows, both in place.
import type { RgbImage } from '../image.js';
import { ROW } from './boxes.js';

/** Left-right mirror. */
export function flipLeftRight(image: RgbImage, labels: Float32Array): void {
  const { data, width, height } = image;
  for (let y = 0; y < height; y++) {
    let left = y * width * 3;
    let right = left + (width - 1) * 3;
    for (; left < right; left += 3, right -= 3) {
      for (let c = 0; c < 3; c++) {
        const t = data[left + c]!;
        data[left + c] = data[right + c]!;
        data[right + c] = t;
      }
    }
  }
  for (let i = 0; i < labels.length; i += ROW) labels[i + 1] = 1 - labels[i + 1]!;
}

/** Up-down mirror. */
export function flipUpDown(image: RgbImage, labels: Float32Array): void {
  const { data, width, height } = image;
  const rowBytes = width * 3;
  const spare = new Uint8Array(rowBytes);
  for (let top = 0, bottom = height - 1; top < bottom; top++, bottom--) {
    const a = data.subarray(top * rowBytes, (top + 1) * rowBytes);
    const b = data.subarray(bottom * rowBytes, (bottom + 1) * rowBytes);
    spare.set(a);
    a.set(b);
    b.set(spare);
  }
  for (let i = 0; i < labels.length; i += ROW) labels[i + 2] = 1 - labels[i + 2]!;
}
