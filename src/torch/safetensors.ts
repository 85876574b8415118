// The safetensors file format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length, a JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian data.
import { readFile, writeFile, rename } from 'node:fs/promises';
import { assertRegularFile } from '../io/regular-file.js';
import { Tensor, tensor } from './tensor.js';
import { bytesPerElement, typedArrayFor, type DType } from './dtype.js';

const toSafe: Record<DType, string> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};
const fromSafe = new Map(Object.entries(toSafe).map(([k, v]) => [v, k as DType]));

export interface SafetensorsContent {
  tensors: Map<string, Tensor>;
  /** String-to-string metadata (`__metadata__`). */
  metadata: Record<string, string>;
}

export function serializeSafetensors(tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const data = Buffer.from(t.data().buffer);
    header[name] = { dtype: toSafe[t.dtype], shape: t.shape, data_offsets: [offset, offset + data.length] };
    chunks.push(data);
    offset += data.length;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  // The data section starts 8-byte aligned, as the reference implementation writes it.
  const padding = (8 - (json.length % 8)) % 8;
  if (padding) json = Buffer.concat([json, Buffer.alloc(padding, 0x20)]);
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([size, json, ...chunks]);
}

export function parseSafetensors(bytes: Buffer, source = 'safetensors data'): SafetensorsContent {
  if (bytes.length < 8) throw new Error(`${source}: file too short to be safetensors (${bytes.length} bytes)`);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (headerLength > bytes.length - 8) {
    throw new Error(`${source}: header length ${headerLength} exceeds the file size; the file is truncated or not safetensors`);
  }
  let header: unknown;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  } catch (error) {
    throw new Error(`${source}: header is not valid JSON (${(error as Error).message})`);
  }
  if (!isRecord(header)) throw new Error(`${source}: header is not a JSON object`);
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string>;
  try {
    metadata = readEntries(header, bytes, 8 + headerLength, source, tensors);
  } catch (error) {
    for (const t of tensors.values()) t.dispose();
    throw error;
  }
  return { tensors, metadata };
}

/** Reads every tensor of the header into `tensors`; returns the metadata. */
function readEntries(
  header: Record<string, unknown>,
  bytes: Buffer,
  base: number,
  source: string,
  tensors: Map<string, Tensor>,
): Record<string, string> {
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isRecord(entry) || !Object.values(entry).every((v) => typeof v === 'string')) {
        throw new Error(`${source}: __metadata__ must map strings to strings`);
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype: code, shape, data_offsets: offsets } = (isRecord(entry) ? entry : {}) as Record<string, unknown>;
    if (typeof code !== 'string' || !isIndexList(shape) || !isIndexList(offsets) || offsets.length !== 2 || offsets[0]! > offsets[1]!) {
      throw new Error(`${source}: tensor '${name}' needs a dtype, a shape of non-negative integers and data_offsets [begin, end]`);
    }
    const [begin, end] = offsets as [number, number];
    const dtype = fromSafe.get(code);
    if (!dtype) throw new Error(`${source}: tensor '${name}' has unsupported dtype ${code}`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * bytesPerElement(dtype) || base + end > bytes.length) {
      throw new Error(`${source}: tensor '${name}' byte range [${begin}, ${end}) does not match its shape or lies past the end of the file`);
    }
    // Copy into an aligned buffer: typed arrays need element alignment.
    const aligned = new ArrayBuffer(end - begin);
    new Uint8Array(aligned).set(bytes.subarray(base + begin, base + end));
    tensors.set(name, tensor(typedArrayFor(dtype, aligned), shape, { dtype }));
  }
  return metadata;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIndexList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => Number.isSafeInteger(v) && v >= 0);
}

/** Writes atomically: a temporary file first, then a rename, so a crash never leaves a half-written file. */
export async function saveSafetensors(path: string, tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, serializeSafetensors(tensors, metadata));
  await rename(temporary, path);
}

export async function loadSafetensors(path: string): Promise<SafetensorsContent> {
  await assertRegularFile(path);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseSafetensors(bytes, path);
}
