// The safetensors file format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length, a JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian data.
import { readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isProcessRunning } from '../io/process-alive.js';
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

/** The reference implementation's limit: a larger header is not a real file, and parsing it costs memory and time. */
const MAX_HEADER_BYTES = 100_000_000;

export function parseSafetensors(bytes: Buffer, source = 'safetensors data'): SafetensorsContent {
  if (bytes.length < 8) throw new Error(`${source}: file too short to be safetensors (${bytes.length} bytes)`);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (headerLength > bytes.length - 8) {
    throw new Error(`${source}: header length ${headerLength} exceeds the file size; the file is truncated or not safetensors`);
  }
  if (headerLength > MAX_HEADER_BYTES) throw new Error(`${source}: header of ${headerLength} bytes is over the ${MAX_HEADER_BYTES}-byte limit`);
  const text = bytes.subarray(8, 8 + headerLength).toString('utf8');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: header is not valid JSON (${(error as Error).message})`);
  }
  if (!isRecord(header)) throw new Error(`${source}: header is not a JSON object`);
  // JSON.parse keeps the last of two equal keys without a word; a file naming a tensor twice is ambiguous.
  const duplicate = duplicateKey(text);
  if (duplicate) throw new Error(`${source}: header names '${duplicate}' twice`);
  const { entries, metadata } = readEntries(header, source);
  checkLayout(entries, bytes.length - 8 - headerLength, source);
  const base = 8 + headerLength;
  const tensors = new Map<string, Tensor>();
  try {
    for (const { name, dtype, shape, begin, end } of entries) {
      // Copy into an aligned buffer: typed arrays need element alignment.
      const aligned = new ArrayBuffer(end - begin);
      new Uint8Array(aligned).set(bytes.subarray(base + begin, base + end));
      tensors.set(name, tensor(typedArrayFor(dtype, aligned), shape, { dtype }));
    }
  } catch (error) {
    for (const t of tensors.values()) t.dispose();
    throw error;
  }
  return { tensors, metadata };
}

/**
 * The first key that occurs twice in one object of a valid JSON text (dotted path for nested objects), or null.
 * A small scanner, since JSON.parse cannot tell.
 */
function duplicateKey(text: string): string | null {
  // One entry per open object (its keys so far) or array (null); `key` is true where the next string is a key.
  const stack: { keys: Set<string> | null; key: boolean; path: string; last: string }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (top?.keys && top.key) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const path = top.path ? `${top.path}.${key}` : key;
        if (top.keys.has(key)) return path;
        top.keys.add(key);
        top.key = false;
        top.last = path;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      stack.push({ keys: c === '{' ? new Set() : null, key: c === '{', path: top?.last ?? '', last: '' });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',' && top?.keys) {
      top.key = true;
    }
  }
  return null;
}

interface EntrySpec {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * The byte ranges must tile the data section exactly, as the reference implementation requires: overlapping
 * tensors would share (and silently corrupt) each other's data, and gaps or trailing bytes mean a damaged file.
 */
function checkLayout(entries: EntrySpec[], dataBytes: number, source: string): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: EntrySpec | null = null;
  for (const entry of sorted) {
    if (entry.begin < covered) {
      throw new Error(`${source}: tensor '${entry.name}' bytes [${entry.begin}, ${entry.end}) overlap those of '${previous!.name}' [${previous!.begin}, ${previous!.end})`);
    }
    if (entry.begin > covered) throw new Error(`${source}: bytes [${covered}, ${entry.begin}) before tensor '${entry.name}' belong to no tensor`);
    covered = entry.end;
    previous = entry;
  }
  if (covered !== dataBytes) {
    throw new Error(`${source}: the tensors cover ${covered} bytes of data but the file holds ${dataBytes}${covered > dataBytes ? '; the file is truncated' : ''}`);
  }
}

/** Checks every tensor entry of the header (nothing is allocated yet); returns them and the metadata. */
function readEntries(header: Record<string, unknown>, source: string): { entries: EntrySpec[]; metadata: Record<string, string> } {
  let metadata: Record<string, string> = {};
  const entries: EntrySpec[] = [];
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
    if (end - begin !== count * bytesPerElement(dtype)) {
      throw new Error(`${source}: tensor '${name}' byte range [${begin}, ${end}) does not match its shape [${shape.join(', ')}] of ${code}`);
    }
    entries.push({ name, dtype, shape, begin, end });
  }
  return { entries, metadata };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIndexList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => Number.isSafeInteger(v) && v >= 0);
}

/**
 * Writes atomically: a temporary file first, then a rename, so a crash never leaves a half-written file. Temporaries
 * of earlier writes whose process was killed mid-write are removed, and a failed write removes its own.
 */
export async function saveSafetensors(path: string, tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): Promise<void> {
  await removeOrphanedTemporaries(path);
  const temporary = `${path}${TEMPORARY}${process.pid}`;
  try {
    await writeFile(temporary, serializeSafetensors(tensors, metadata));
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

const TEMPORARY = '.tmp-';

async function removeOrphanedTemporaries(path: string): Promise<void> {
  const prefix = basename(path) + TEMPORARY;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    const id = name.slice(prefix.length);
    if (!name.startsWith(prefix) || !/^\d+$/.test(id)) continue;
    const pid = Number(id);
    if (pid !== process.pid && !isProcessRunning(pid)) await rm(join(dirname(path), name), { force: true });
  }
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
