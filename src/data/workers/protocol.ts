// Messages between the training loader (main thread) and its sample workers.
import type { AugmentHyp } from '../augment/hyp.js';
import type { SampleShape } from '../augment/sample.js';
import type { Size } from '../letterbox.js';

/** The worker's compiled module, next to this one in whichever build runs (dist/ or dist-test/). */
export function loaderWorkerUrl(): URL {
  return new URL('./loader-worker.js', import.meta.url);
}

/** Everything a worker needs to build any sample; sent once as workerData. */
export interface WorkerSetup {
  imageFiles: string[];
  /** Per image: a JPEG without end marker, to be decoded leniently. */
  lenient: boolean[];
  /** All label rows (class, cx, cy, w, h) back to back; image i owns rows labelOffsets[i]..labelOffsets[i+1]. */
  labels: Float32Array;
  labelOffsets: Int32Array;
  imgsz: number;
  augment: boolean;
  mosaic: boolean;
  hyp: AugmentHyp;
  seed: number;
}

/** An image decoded and fitted to the training size, in memory every worker can read. */
export interface SharedImage {
  pixels: SharedArrayBuffer;
  width: number;
  height: number;
  originalSize: Size;
}

export type WorkerRequest =
  | { kind: 'sample'; id: number; epoch: number; index: number; target: Size }
  | { kind: 'decode'; id: number; index: number };

/** Not answered: from now on images come from this table. */
export interface UseCacheMessage {
  kind: 'use-cache';
  images: SharedImage[];
}

export interface SampleResult {
  /** The image as planes (CHW), RGB, 8-bit. */
  pixels: ArrayBuffer;
  width: number;
  height: number;
  /** Normalised [class, cx, cy, w, h] rows. */
  labels: Float32Array;
  shape: SampleShape | null;
}

export type WorkerReply = { id: number; ok: true; value: SampleResult | SharedImage } | { id: number; ok: false; message: string };

/** Key that separates the per-sample random streams from the loader's other streams (e.g. shuffling). */
export const SAMPLE_STREAM = 0x5a4d50;
export const SHUFFLE_STREAM = 0x534846;
