// YOLOv5 sorts images by aspect ratio with numpy.argsort (default kind: an introsort, not stable) before cutting
// them into rect batches, so images of equal ratio land in batches in numpy's order; at batch 16 on the whole of
// COCO128 val a stable sort puts 8 of 8 batches together differently and moves mAP50 by up to 0.005.
// The expected orders below were computed once with numpy 2.4.6 and NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4
// AVX512_ICL", which runs the portable introsort of numpy ≤ 1.24 (the version the official reference numbers were
// taken with; later versions sort with SIMD code on AVX2/AVX-512 machines and order ties differently):
//   order = numpy.argsort(numpy.array([h / w for w, h in sizes]))
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { numpyArgsort } from '../src/data/argsort.js';
import { planRectBatches } from '../src/data/rect-batches.js';
import { loadDatasetConfig, splitImageFiles } from '../src/data/dataset-config.js';
import { scanDataset } from '../src/data/dataset-scan.js';
import { ValLoader } from '../src/data/val-loader.js';
import { COCO32 } from './helpers/fixtures.js';

const stableArgsort = (values: number[]): number[] => values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);

test('numpy argsort order of photo aspect ratios with many ties (quicksort partitions, then insertion sort)', () => {
  // 40 photos of 7 common sizes: the ties of 640×480 and 640×427 span several partitions.
  const sizes = [
    [480, 640], [427, 640], [640, 360], [640, 480], [640, 427], [427, 640], [640, 480], [640, 360], [640, 360], [640, 427],
    [640, 427], [640, 480], [640, 480], [640, 427], [640, 427], [480, 640], [500, 375], [640, 360], [480, 640], [500, 375],
    [640, 480], [640, 480], [480, 640], [640, 480], [640, 480], [640, 427], [640, 427], [427, 640], [480, 640], [640, 427],
    [640, 427], [640, 480], [640, 480], [640, 480], [640, 640], [640, 480], [640, 427], [640, 480], [640, 360], [640, 480],
  ] as const;
  const numpyOrder = [
    2, 38, 7, 8, 17, 25, 36, 4, 26, 9, 10, 29, 13, 14, 30, 19, 32, 24, 33, 35, 37, 31, 23, 39, 21, 20, 16, 12, 11, 6, 3, 34, 18, 28, 15, 22, 0, 27, 5, 1,
  ];
  const aspect = sizes.map(([w, h]) => h / w);
  assert.deepEqual(numpyArgsort(aspect), numpyOrder);

  // Batches of 8 follow it: four of the five hold other images than after a stable sort.
  const batches = planRectBatches(sizes.map(([width, height]) => ({ width, height })), { imgsz: 640, batchSize: 8, stride: 32 });
  assert.deepEqual(batches.map((b) => b.indices), [0, 8, 16, 24, 32].map((start) => numpyOrder.slice(start, start + 8)));
  const members = (indices: number[]): string => [...indices].sort((a, b) => a - b).join();
  const stable = stableArgsort(aspect);
  const differ = batches.filter((b, i) => members(b.indices) !== members(stable.slice(i * 8, i * 8 + 8)));
  assert.equal(differ.length, 4);
});

test('numpy argsort falls back to heapsort where quicksort recurses too deep, in numpy order', () => {
  // McIlroy's adversary against median-of-three quicksort, played against this algorithm for 40 items, values
  // halved to make ties: partitioning exhausts the depth budget (2·floor(log2 40) = 10) and heapsort finishes.
  const values = [0, 10, 1, 11, 2, 20, 3, 18, 4, 19, 5, 18, 6, 17, 7, 17, 8, 16, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 15, 14, 14, 13, 13, 12, 12, 16, 11];
  const numpyOrder = [0, 19, 2, 20, 4, 21, 6, 22, 8, 23, 10, 24, 12, 25, 14, 26, 16, 27, 18, 28, 1, 29, 3, 39, 36, 37, 35, 34, 33, 32, 31, 30, 17, 38, 15, 13, 11, 7, 9, 5];
  assert.deepEqual(numpyArgsort(values), numpyOrder);
  assert.notDeepEqual(numpyOrder, stableArgsort(values));
});

test('numpy argsort: NaN last, infinity before it, small arrays in insertion (stable) order', () => {
  assert.deepEqual(numpyArgsort([3, NaN, 1, Infinity, 1, 0.5]), [5, 2, 4, 0, 3, 1]);
  assert.deepEqual(numpyArgsort([]), []);
  assert.deepEqual(numpyArgsort([2]), [0]);
});

test('validation batches of the 32 COCO128 fixture images at batch 16 hold the images the official batches hold', async () => {
  // The official val at 640, batch 16, on these images (P 0.6596, R 0.5081) is matched only with this order
  // (test/val-parity.test.ts); a stable sort swaps two 640×480 images for two others of ratio 0.75 (P 0.570).
  const config = loadDatasetConfig(COCO32);
  const scan = await scanDataset(splitImageFiles(config, 'val'), { nc: config.nc });
  const loader = new ValLoader(scan.images, { imgsz: 640, batchSize: 16, stride: 32 });
  const numpyOrder = [14, 27, 21, 5, 20, 0, 29, 26, 25, 23, 8, 10, 24, 22, 18, 16, 15, 9, 31, 2, 13, 17, 7, 1, 12, 3, 30, 28, 4, 19, 11, 6];
  assert.deepEqual(loader.batches.map((b) => b.indices), [numpyOrder.slice(0, 16), numpyOrder.slice(16)]);
  assert.deepEqual(loader.batches.map((b) => b.shape), [{ width: 672, height: 512 }, { width: 672, height: 672 }]);
});
