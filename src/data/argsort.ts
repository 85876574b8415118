// NumPy's default argsort of a float64 array (kind 'quicksort', an introsort), step for step, so that equal keys
// come out in the same order as in YOLOv5, which sorts images by aspect ratio with it before batching them: ties
// are common (every 640×480 photo has the same ratio) and decide which images share a batch and its padded shape.
// This is the portable algorithm of numpy/_core/src/npysort/quicksort.cpp (aquicksort_ with aheapsort_ as the depth
// fallback). NumPy 1.25 and later replace it with x86-simd-sort on AVX-512 (and 2.x on AVX2) machines, which
// orders ties differently; the official reference numbers were taken with NumPy 1.24, which has no such path.

/** Partitions this small or smaller are finished by insertion sort (numpy's SMALL_QUICKSORT). */
const SMALL = 15;

/** NumPy's order on doubles: NaN after everything. */
function less(a: number, b: number): boolean {
  return a < b || (b !== b && a === a);
}

/** Index of the highest set bit (npy_get_msb). */
function msb(n: number): number {
  let depth = 0;
  while ((n >>= 1) > 0) depth++;
  return depth;
}

/** aheapsort_ on tosort[start, start + n), comparing v at the indices held there. */
function heapsort(v: ArrayLike<number>, tosort: number[], start: number, n: number): void {
  // Heap positions count from 1.
  const a = (k: number): number => tosort[start + k - 1]!;
  const set = (k: number, value: number): void => {
    tosort[start + k - 1] = value;
  };
  const siftDown = (top: number, size: number, item: number): void => {
    let i = top;
    for (let j = top * 2; j <= size; ) {
      if (j < size && less(v[a(j)]!, v[a(j + 1)]!)) j += 1;
      if (!less(v[item]!, v[a(j)]!)) break;
      set(i, a(j));
      i = j;
      j += j;
    }
    set(i, item);
  };
  for (let l = n >> 1; l > 0; l--) siftDown(l, n, a(l));
  for (; n > 1; ) {
    const item = a(n);
    set(n, a(1));
    n -= 1;
    siftDown(1, n, item);
  }
}

/** The indices that sort `values` ascending, in exactly the order numpy.argsort(values) gives (float64, default kind). */
export function numpyArgsort(values: ArrayLike<number>): number[] {
  const v = values;
  const t = Array.from({ length: v.length }, (_, i) => i);
  const swap = (i: number, j: number): void => {
    const x = t[i]!;
    t[i] = t[j]!;
    t[j] = x;
  };
  if (t.length < 2) return t;
  let pl = 0;
  let pr = t.length - 1;
  // The larger partition waits on the stack with the depth budget left when it was split off.
  const stack: [number, number, number][] = [];
  let depth = msb(t.length) * 2;
  for (;;) {
    if (depth < 0) {
      heapsort(v, t, pl, pr - pl + 1);
    } else {
      while (pr - pl > SMALL) {
        // Median of three moved to pr - 1; the pivot then ends at pi.
        const pm = pl + ((pr - pl) >> 1);
        if (less(v[t[pm]!]!, v[t[pl]!]!)) swap(pm, pl);
        if (less(v[t[pr]!]!, v[t[pm]!]!)) swap(pr, pm);
        if (less(v[t[pm]!]!, v[t[pl]!]!)) swap(pm, pl);
        const vp = v[t[pm]!]!;
        let pi = pl;
        let pj = pr - 1;
        swap(pm, pj);
        for (;;) {
          do pi++;
          while (less(v[t[pi]!]!, vp));
          do pj--;
          while (less(vp, v[t[pj]!]!));
          if (pi >= pj) break;
          swap(pi, pj);
        }
        swap(pi, pr - 1);
        depth -= 1;
        if (pi - pl < pr - pi) {
          stack.push([pi + 1, pr, depth]);
          pr = pi - 1;
        } else {
          stack.push([pl, pi - 1, depth]);
          pl = pi + 1;
        }
      }
      for (let i = pl + 1; i <= pr; i++) {
        const vi = t[i]!;
        const key = v[vi]!;
        let j = i;
        while (j > pl && less(key, v[t[j - 1]!]!)) {
          t[j] = t[j - 1]!;
          j--;
        }
        t[j] = vi;
      }
    }
    const next = stack.pop();
    if (!next) break;
    [pl, pr, depth] = next;
  }
  return t;
}
