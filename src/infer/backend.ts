// The runtimes a detector can run on, behind one interface: ONNX Runtime (an .onnx file, or any of our models
// exported in memory) and libtorch (official .pt and our .safetensors through the model code).
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { InferenceSession } from 'onnxruntime-node';
import type { NetworkInput } from '../data/batch-tensor.js';
import { recycleFloats } from '../data/preprocess.js';
import { exportOnnx } from '../export/onnx-export.js';
import { readMetadata } from '../export/metadata.js';
import { decodeMetadataProps } from '../export/onnx-proto.js';
import { assertRegularFile } from '../io/regular-file.js';
import { ModelEnsemble } from '../model/ensemble.js';
import { DetectionModel } from '../model/yolo.js';
import { noGrad, tensor, tidy } from '../torch/index.js';
import { validate, type ValidateOptions, type ValidationResult } from '../val/validator.js';
import { SessionThread, type SessionOutput } from './session-thread.js';

export type RuntimeName = 'onnxruntime' | 'libtorch';

/** Sizes a model's input must have; null where any size (a multiple of the size step) is accepted. */
export interface InputShape {
  batch: number | null;
  height: number | null;
  width: number | null;
}

export interface Inference {
  /** Decoded predictions [batch, boxes, 5 + nc], flattened; only the rows wanted when `rows` is given. */
  predictions: Float32Array;
  /** With RunOptions.minObjectness honoured: the rows kept of each image, one image's after the other's. */
  rows?: number[];
  /** Milliseconds the network ran for, not counting the time the run waited for the runs asked for before it. */
  ms: number;
}

export interface Backend {
  readonly runtime: RuntimeName;
  readonly names: string[];
  /** Largest stride of the model. */
  readonly stride: number;
  readonly input: InputShape;
  /**
   * The predictions for a batch of letterboxed images (see imagesToInput). Several runs may be asked for at once
   * (they take their turns), so that the next input is ready when a run ends.
   */
  run(input: NetworkInput, options?: RunOptions): Promise<Inference>;
  dispose(): Promise<void>;
}

export interface RunOptions {
  /**
   * The input's data is the backend's: nothing may use it afterwards, and its memory may serve a later input
   * (uninitialisedFloats).
   */
  handOver?: boolean;
  /**
   * Only rows whose objectness is above this are wanted (NMS drops the others first): a backend may leave the others
   * out and say how many rows of each image it kept (Inference.rows).
   */
  minObjectness?: number;
}

export interface BackendOptions {
  /** Intra-op threads (ONNX Runtime); default all cores. */
  threads?: number;
  /**
   * Other work runs on the same cores while the model runs — a video's decoding, drawing and encoding: ONNX
   * Runtime's waiting threads then sleep instead of spinning. Default false.
   */
  sharedCores?: boolean;
}

/**
 * How every ONNX Runtime session here is made: `threads` intra-op threads (default: all cores), operators in turn.
 * Within a run, threads waiting for the next operator's share spin, and they stop when the run returns, so that the
 * work between runs — and other sessions taking turns — keep the cores: on the 2-vCPU machine here, 2 threads that
 * slept between operators left the Highway yolov5n 22% slower (13.8 against 11.3 ms at 640×384) and its model pruned
 * to 50% 25–28% slower (9.7 against 7.6–7.8 ms; bench/latency.ts). Where other work shares the cores during runs
 * (`sharedCores`: detect's decoding, drawing and encoding of a video), they sleep: spinning there made a saved video
 * 11% slower at 2 threads (bench/detect-video.ts).
 */
export function sessionOptions({ threads = availableParallelism(), sharedCores = false }: BackendOptions = {}): InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: sharedCores ? '0' : '1' }, force_spinning_stop: '1' } },
  };
}

export class OnnxBackend implements Backend {
  readonly runtime = 'onnxruntime';
  private constructor(
    private readonly session: SessionThread,
    readonly names: string[],
    readonly stride: number,
    readonly input: InputShape,
    private readonly source: string,
  ) {}

  /** A session over an ONNX file or its bytes; `source` names it in errors. */
  static async create(model: string | Uint8Array, options: BackendOptions = {}, source = typeof model === 'string' ? model : 'ONNX model'): Promise<OnnxBackend> {
    if (typeof model === 'string') await assertRegularFile(model);
    let bytes: Uint8Array;
    try {
      bytes = typeof model === 'string' ? await readFile(model) : model;
    } catch (error) {
      throw new Error(`cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    let meta;
    try {
      meta = readMetadata(decodeMetadataProps(bytes), source);
    } catch (error) {
      throw new Error(`${source}: ${(error as Error).message.replace(`${source}: `, '')}`);
    }
    let session: SessionThread;
    try {
      session = await SessionThread.create(bytes, sessionOptions(options));
    } catch (error) {
      throw new Error(`${source}: ONNX Runtime cannot load the model (${(error as Error).message})`);
    }
    const info = session.inputMetadata[0];
    const dims = info && info.isTensor ? info.shape : [];
    const type = info && info.isTensor ? info.type : 'not a tensor';
    const output = session.outputMetadata[0];
    const columns = output && output.isTensor ? output.shape[2] : undefined;
    let problem: string | null = null;
    if (session.inputNames.length !== 1 || session.outputNames.length < 1 || dims.length !== 4 || dims[1] !== 3) {
      problem = `expected one image input [batch, 3, height, width] (got [${dims.join(', ')}]) and a detection output`;
    } else if (type !== 'float32') {
      problem = `the image input is ${type}; expected float32 (pixels scaled to 0..1)`;
    } else if (typeof columns === 'number' && columns !== meta.names.length + 5) {
      problem = `the metadata names ${meta.names.length} classes but the output has ${columns} columns per box (${columns - 5} classes)`;
    }
    if (problem) {
      await session.release();
      throw new Error(`${source}: ${problem}`);
    }
    const fixed = (d: number | string | undefined) => (typeof d === 'number' && d > 0 ? d : null);
    return new OnnxBackend(session, meta.names, meta.stride, { batch: fixed(dims[0]), height: fixed(dims[2]), width: fixed(dims[3]) }, source);
  }

  async run(input: NetworkInput, options: RunOptions = {}): Promise<Inference> {
    const [count, , height, width] = input.shape;
    const fixedBatch = this.input.batch ?? count;
    if (count > fixedBatch) throw new Error(`${this.source}: the model takes batches of ${fixedBatch}, got ${count} images`);
    // A model exported with a fixed batch larger than the images given: fill the other slots with zeros.
    const data = fixedBatch === count ? input.data : new Float32Array(fixedBatch * 3 * height * width);
    if (data !== input.data) data.set(input.data);
    let output: SessionOutput;
    try {
      const rowsAbove = options.minObjectness === undefined ? undefined : { column: 4, threshold: options.minObjectness };
      output = await this.session.run(data, [fixedBatch, 3, height, width], options.handOver ?? false, rowsAbove);
    } catch (error) {
      throw new Error(`${this.source}: ONNX Runtime failed on input [${fixedBatch}, 3, ${height}, ${width}] (${(error as Error).message})`);
    }
    const [, boxes, columns] = output.dims;
    if (output.dims.length !== 3 || columns !== this.names.length + 5) {
      throw new Error(`${this.source}: output shape [${output.dims.join(', ')}] does not fit ${this.names.length} classes ([batch, boxes, ${this.names.length + 5}])`);
    }
    if (output.input) recycleFloats(output.input);
    if (output.rows) {
      // The filler images' rows (a fixed batch larger than the images) come last.
      const rows = output.rows.slice(0, count);
      return { predictions: output.data.subarray(0, rows.reduce((a, b) => a + b, 0) * columns!), rows, ms: output.ms };
    }
    const predictions = fixedBatch === count ? output.data : output.data.subarray(0, count * boxes! * columns!);
    return { predictions, ms: output.ms };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** An ONNX file validated in ONNX Runtime (see validate()), its session released after. */
export async function validateOnnxFile(file: string, options: ValidateOptions): Promise<ValidationResult> {
  const backend = await OnnxBackend.create(file);
  try {
    return await validate(backend, options);
  } finally {
    await backend.dispose();
  }
}

/** A copy of the model for inference (BatchNorm folded, eval mode); the caller's model is left untouched. */
export function inferenceCopy(model: DetectionModel): DetectionModel {
  return model.clone().fuse().eval();
}

export class TorchBackend implements Backend {
  readonly runtime = 'libtorch';
  readonly input: InputShape = { batch: null, height: null, width: null };
  readonly names: string[];
  readonly stride: number;
  private readonly ensemble: ModelEnsemble;

  /** Runs `model` as given (call fuse() and eval() first for speed, or use inferenceCopy). */
  constructor(model: DetectionModel | ModelEnsemble) {
    this.ensemble = model instanceof ModelEnsemble ? model : new ModelEnsemble([{ model, source: 'model' }]);
    this.names = this.ensemble.names;
    this.stride = Math.max(...this.ensemble.stride);
  }

  async run(input: NetworkInput): Promise<Inference> {
    const started = performance.now();
    const predictions = noGrad(() => tidy(() => this.ensemble.infer(tensor(input.data, input.shape)).data() as Float32Array));
    return { predictions, ms: performance.now() - started };
  }

  async dispose(): Promise<void> {
    // The model's tensors belong to the model; nothing else is held.
  }

  /**
   * An ONNX Runtime backend for the same model, exported in memory: with dynamic axes, or for one input size
   * ([height, width], batch 1) as `yolov5 export` writes by default, which lets ONNX Runtime plan every shape ahead.
   */
  async toOnnx(options: BackendOptions & { size?: [number, number] } = {}): Promise<OnnxBackend> {
    const model = this.ensemble.single;
    if (!model) throw new Error('ensembles and test-time augmentation run on libtorch only: ONNX Runtime takes one model as exported');
    const { bytes } = exportOnnx(model, options.size ? { imgsz: options.size } : { dynamic: true });
    return OnnxBackend.create(bytes, options, 'in-memory ONNX export');
  }
}
