// How far V8 lets the JS heap grow before its next full collection. V8 sizes that limit from the live heap and its
// own speed estimates; with the few megabytes of JS objects this program keeps (tensors, frames and images live
// outside the JS heap), the limit it chose sat 16 MB above a 10 MB heap — no more than the young generation holds —
// so during a video it started marking at nearly every check. A fixed growth factor of 4, V8's own largest: `yolov5
// detect` on a 606-frame 1280×720 video (yolov5n, ONNX) runs 2 full collections instead of 67 (`node --trace-gc`),
// and it took detect on the bench video (yolov5n, 1 ONNX Runtime thread) from 36.1 / 35.2 to 43.7 / 49.1 frames per
// second, node's CPU from 42 to 33 ms a frame.
import { setFlagsFromString } from 'node:v8';

const FLAG = '--heap-growing-percent';

/**
 * Sets V8's heap growth factor to 4 (300% growth) for this process, unless node was started with its own (node
 * takes it only on its command line, not from NODE_OPTIONS). Returns whether it set it.
 */
export function growHeapFreely(): boolean {
  const given = process.execArgv.some((arg) => arg.replace(/_/g, '-').startsWith(FLAG));
  if (!given) setFlagsFromString(`${FLAG}=300`);
  return !given;
}
