// Worker thread of the training loader: decodes, augments and lays out samples, handing the pixels back as
// transferable buffers. Each sample's randomness comes from (seed, epoch, index), never from the worker's history,
// so the batches do not depend on which worker built what.
import { parentPort, workerData } from 'node:worker_threads';
import { buildTrainSample, type LoadedImage, type SampleSource } from '../augment/sample.js';
import { decodeImage, type RgbImage } from '../image.js';
import { fitLongSide } from '../letterbox.js';
import { createRng } from '../../util/random.js';
import { SAMPLE_STREAM, type SampleResult, type SharedImage, type UseCacheMessage, type WorkerReply, type WorkerRequest, type WorkerSetup } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('loader-worker must run as a worker thread');
const setup = workerData as WorkerSetup;
let cache: SharedImage[] | undefined;

async function decodeFitted(index: number): Promise<LoadedImage> {
  const file = setup.imageFiles[index];
  if (file === undefined) throw new RangeError(`image index ${index} out of range (0..${setup.imageFiles.length - 1})`);
  const decoded = await decodeImage(file, { lenient: setup.lenient[index] });
  return { image: fitLongSide(decoded, setup.imgsz, { augment: setup.augment }), originalSize: { width: decoded.width, height: decoded.height } };
}

const source: SampleSource = {
  count: setup.imageFiles.length,
  labels: (index) => setup.labels.slice(setup.labelOffsets[index]!, setup.labelOffsets[index + 1]!),
  load: async (index) => {
    const cached = cache?.[index];
    if (!cached) return decodeFitted(index);
    return { image: { data: new Uint8Array(cached.pixels), width: cached.width, height: cached.height }, originalSize: cached.originalSize };
  },
};

function toPlanes(image: RgbImage): ArrayBuffer {
  const plane = image.width * image.height;
  const out = new Uint8Array(3 * plane);
  const src = image.data;
  for (let p = 0, s = 0; p < plane; p++, s += 3) {
    out[p] = src[s]!;
    out[plane + p] = src[s + 1]!;
    out[2 * plane + p] = src[s + 2]!;
  }
  return out.buffer;
}

async function sample(request: Extract<WorkerRequest, { kind: 'sample' }>): Promise<{ value: SampleResult; transfer: ArrayBuffer[] }> {
  const rng = createRng(SAMPLE_STREAM, setup.seed, request.epoch, request.index);
  const built = await buildTrainSample(source, request.index, request.target, rng, setup);
  const pixels = toPlanes(built.image);
  const value = { pixels, width: built.image.width, height: built.image.height, labels: built.labels, shape: built.shape };
  return { value, transfer: [pixels, built.labels.buffer as ArrayBuffer] };
}

async function decodeShared(index: number): Promise<SharedImage> {
  const { image, originalSize } = await decodeFitted(index);
  const pixels = new SharedArrayBuffer(image.data.length);
  new Uint8Array(pixels).set(image.data);
  return { pixels, width: image.width, height: image.height, originalSize };
}

async function handle(request: WorkerRequest): Promise<void> {
  try {
    if (request.kind === 'sample') {
      const { value, transfer } = await sample(request);
      port!.postMessage({ id: request.id, ok: true, value } satisfies WorkerReply, transfer);
    } else {
      port!.postMessage({ id: request.id, ok: true, value: await decodeShared(request.index) } satisfies WorkerReply);
    }
  } catch (error) {
    port!.postMessage({ id: request.id, ok: false, message: (error as Error).message } satisfies WorkerReply);
  }
}

port.on('message', (message: WorkerRequest | UseCacheMessage) => {
  if (message.kind === 'use-cache') cache = message.images;
  else void handle(message);
});
