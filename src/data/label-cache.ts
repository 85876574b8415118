// A dataset scan saved as JSON next to the labels, reused while no image or label file changed (YOLOv5's
// `labels.cache`). A cache that cannot be written is reported, not fatal: datasets are often read-only.
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { labelPathFor } from './dataset-config.js';
import { scanDataset, type DatasetScan, type ScanOptions } from './dataset-scan.js';

const CACHE_VERSION = 1;

interface CacheFile {
  version: number;
  fingerprint: string;
  scan: Omit<DatasetScan, 'images'> & { images: (Omit<DatasetScan['images'][number], 'labels'> & { labels: number[] })[] };
}

function statKey(file: string): string {
  try {
    const s = statSync(file);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return '-';
  }
}

/** Changes when a file is added, removed, resized or touched, or when the class count changes. */
export function scanFingerprint(imageFiles: readonly string[], nc: number): string {
  const hash = createHash('sha256').update(`v${CACHE_VERSION} nc=${nc}\n`);
  for (const file of imageFiles) hash.update(`${file}\t${statKey(file)}\t${statKey(labelPathFor(file))}\n`);
  return hash.digest('hex');
}

function readCache(cacheFile: string, fingerprint: string): DatasetScan | undefined {
  let cache: CacheFile;
  try {
    cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as CacheFile;
  } catch {
    return undefined;
  }
  if (cache.version !== CACHE_VERSION || cache.fingerprint !== fingerprint) return undefined;
  return { ...cache.scan, images: cache.scan.images.map((image) => ({ ...image, labels: Float32Array.from(image.labels) })) };
}

/** Where YOLOv5 keeps the cache: beside the first image's label folder, e.g. `labels/train2017.cache`. */
export function defaultCacheFile(imageFiles: readonly string[]): string {
  if (imageFiles.length === 0) throw new Error('defaultCacheFile: no images');
  return `${dirname(labelPathFor(imageFiles[0]!))}.cache`;
}

export interface CachedScan {
  scan: DatasetScan;
  fromCache: boolean;
  /** Why the cache could not be written, if it could not. */
  cacheWarning?: string;
}

/** Scans the dataset, or reuses `cacheFile` when it matches the files on disk; writes the cache after a scan. */
export async function scanDatasetCached(imageFiles: readonly string[], cacheFile: string, options: ScanOptions): Promise<CachedScan> {
  const fingerprint = scanFingerprint(imageFiles, options.nc);
  const cached = readCache(cacheFile, fingerprint);
  if (cached) return { scan: cached, fromCache: true };
  const scan = await scanDataset(imageFiles, options);
  const file: CacheFile = {
    version: CACHE_VERSION,
    fingerprint,
    scan: { ...scan, images: scan.images.map((image) => ({ ...image, labels: Array.from(image.labels) })) },
  };
  try {
    writeFileSync(cacheFile, JSON.stringify(file));
    return { scan, fromCache: false };
  } catch (error) {
    return { scan, fromCache: false, cacheWarning: `cache ${cacheFile} not written: ${(error as Error).message}` };
  }
}
