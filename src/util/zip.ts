// A read-only zip archive over an in-memory buffer, as PyTorch writes them (stored or deflated entries, zip64 when large).
// We parse the central directory ourselves rather than use fflate's unzip so that every entry's bounds and CRC are
// checked: a damaged checkpoint must fail loudly instead of loading wrong weights.
import { inflateSync } from 'fflate';

const MAX_DEFLATE_RATIO = 1032;

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_EOCD_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const ZIP64_EXTRA_ID = 0x0001;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflated; others are rejected when read. */
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

/** Thrown for anything wrong with the archive's structure or contents; the message names the problem, not the file. */
export class ZipFormatError extends Error {
  override name = 'ZipFormatError';
}

export class ZipArchive {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #entries: Map<string, ZipEntry>;

  constructor(bytes: Uint8Array) {
    // A plain view, so that a Node Buffer's sharing slice() cannot leak into callers.
    this.#bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#entries = this.#readCentralDirectory();
  }

  get names(): string[] {
    return [...this.#entries.keys()];
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** The entry's uncompressed bytes, CRC-checked. */
  read(name: string): Uint8Array {
    const entry = this.#entries.get(name);
    if (!entry) throw new ZipFormatError(`no entry '${name}' in the archive`);
    const start = this.#dataStart(entry);
    const end = start + entry.compressedSize;
    if (end > this.#bytes.length) throw new ZipFormatError(`entry '${name}' runs past the end of the file (truncated?)`);
    const raw = this.#bytes.subarray(start, end);
    let data: Uint8Array;
    if (entry.method === 0) {
      data = raw;
    } else if (entry.method === 8) {
      // Deflate expands at most 1032-fold; a larger claim is a forged header, and the buffer is allocated up front.
      if (entry.size > raw.length * MAX_DEFLATE_RATIO + 1024) {
        throw new ZipFormatError(`entry '${name}' claims ${entry.size} bytes from ${raw.length} compressed, more than deflate can produce`);
      }
      try {
        data = inflateSync(raw, { out: new Uint8Array(entry.size) });
      } catch (error) {
        throw new ZipFormatError(`entry '${name}' does not inflate: ${(error as Error).message}`);
      }
    } else {
      throw new ZipFormatError(`entry '${name}' uses unsupported compression method ${entry.method}`);
    }
    if (data.length !== entry.size) {
      throw new ZipFormatError(`entry '${name}' holds ${data.length} bytes but its header says ${entry.size}`);
    }
    if (crc32(data) !== entry.crc32) throw new ZipFormatError(`entry '${name}' is corrupt (CRC-32 mismatch)`);
    return data;
  }

  #dataStart(entry: ZipEntry): number {
    const offset = entry.localHeaderOffset;
    if (offset + 30 > this.#bytes.length || this.#view.getUint32(offset, true) !== LOCAL_HEADER_SIGNATURE) {
      throw new ZipFormatError(`entry '${entry.name}' has no local header at byte ${offset}`);
    }
    return offset + 30 + this.#view.getUint16(offset + 26, true) + this.#view.getUint16(offset + 28, true);
  }

  #findEndOfCentralDirectory(): number {
    if (this.#bytes.length < EOCD_SIZE) {
      throw new ZipFormatError(`not a zip archive (only ${this.#bytes.length} bytes long)`);
    }
    const lowest = Math.max(0, this.#bytes.length - EOCD_SIZE - MAX_COMMENT);
    for (let at = this.#bytes.length - EOCD_SIZE; at >= lowest; at--) {
      if (this.#view.getUint32(at, true) === EOCD_SIGNATURE) return at;
    }
    const isZipStart = this.#bytes.length >= 4 && this.#view.getUint32(0, true) === LOCAL_HEADER_SIGNATURE;
    throw new ZipFormatError(
      isZipStart
        ? 'zip archive without an end-of-central-directory record (truncated or corrupt)'
        : `not a zip archive (starts with bytes ${hexPrefix(this.#bytes)})`,
    );
  }

  #readCentralDirectory(): Map<string, ZipEntry> {
    const eocd = this.#findEndOfCentralDirectory();
    let count = this.#view.getUint16(eocd + 10, true);
    let directorySize = this.#view.getUint32(eocd + 12, true);
    let directoryOffset = this.#view.getUint32(eocd + 16, true);
    if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
      const locator = eocd - 20;
      if (locator < 0 || this.#view.getUint32(locator, true) !== ZIP64_EOCD_LOCATOR_SIGNATURE) {
        throw new ZipFormatError('zip64 archive without its end-of-central-directory locator');
      }
      const record = this.#u64(locator + 8);
      if (record + 56 > this.#bytes.length || this.#view.getUint32(record, true) !== ZIP64_EOCD_SIGNATURE) {
        throw new ZipFormatError('zip64 end-of-central-directory record missing or damaged');
      }
      count = this.#u64(record + 32);
      directorySize = this.#u64(record + 40);
      directoryOffset = this.#u64(record + 48);
    }
    if (directoryOffset + directorySize > this.#bytes.length) {
      throw new ZipFormatError('central directory lies outside the file (truncated or corrupt)');
    }
    const entries = new Map<string, ZipEntry>();
    let at = directoryOffset;
    const decoder = new TextDecoder();
    for (let i = 0; i < count; i++) {
      if (at + 46 > this.#bytes.length || this.#view.getUint32(at, true) !== CENTRAL_HEADER_SIGNATURE) {
        throw new ZipFormatError(`central directory entry ${i} is damaged`);
      }
      const nameLength = this.#view.getUint16(at + 28, true);
      const extraLength = this.#view.getUint16(at + 30, true);
      const commentLength = this.#view.getUint16(at + 32, true);
      const name = decoder.decode(this.#bytes.subarray(at + 46, at + 46 + nameLength));
      const sizes = {
        size: this.#view.getUint32(at + 24, true),
        compressedSize: this.#view.getUint32(at + 20, true),
        localHeaderOffset: this.#view.getUint32(at + 42, true),
      };
      this.#applyZip64Extra(at + 46 + nameLength, extraLength, sizes);
      entries.set(name, {
        name,
        method: this.#view.getUint16(at + 10, true),
        crc32: this.#view.getUint32(at + 16, true),
        ...sizes,
      });
      at += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  }

  /** Replaces the 32-bit fields saturated at 0xffffffff with their 64-bit values, in the order the format defines. */
  #applyZip64Extra(
    start: number,
    length: number,
    sizes: { size: number; compressedSize: number; localHeaderOffset: number },
  ): void {
    const end = start + length;
    for (let at = start; at + 4 <= end; ) {
      const id = this.#view.getUint16(at, true);
      const fieldLength = this.#view.getUint16(at + 2, true);
      if (id === ZIP64_EXTRA_ID) {
        let field = at + 4;
        for (const key of ['size', 'compressedSize', 'localHeaderOffset'] as const) {
          if (sizes[key] === 0xffffffff) {
            sizes[key] = this.#u64(field);
            field += 8;
          }
        }
        return;
      }
      at += 4 + fieldLength;
    }
  }

  #u64(at: number): number {
    const value = this.#view.getBigUint64(at, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError(`zip64 field at byte ${at} is out of range`);
    return Number(value);
  }
}

function hexPrefix(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
