// Dataset description files (the YOLOv5 `data.yaml`) and the image files a split names.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { assertRegularFileSync } from '../io/regular-file.js';

export const IMAGE_EXTENSIONS = ['bmp', 'jpeg', 'jpg', 'png', 'tif', 'tiff', 'webp'] as const;

export type SplitName = 'train' | 'val' | 'test';

export interface DatasetConfig {
  /** The yaml file this was read from (absolute). */
  file: string;
  /** Absolute dataset root (`path`, or the yaml's folder). */
  root: string;
  /** Each split as absolute image folders and/or list files; `test` may be empty. */
  splits: Record<SplitName, string[]>;
  nc: number;
  names: string[];
}

function fail(file: string, problem: string): never {
  throw new Error(`${file}: ${problem}`);
}

function readNames(file: string, raw: unknown): string[] {
  if (Array.isArray(raw)) {
    return raw.map((name, i) => {
      if (typeof name !== 'string' && typeof name !== 'number') fail(file, `names[${i}] must be a string, got ${JSON.stringify(name)}`);
      return String(name);
    });
  }
  if (raw !== null && typeof raw === 'object') {
    const entries = Object.entries(raw as Record<string, unknown>);
    const names: string[] = new Array<string>(entries.length);
    for (const [key, name] of entries) {
      const index = Number(key);
      if (!Number.isInteger(index) || index < 0 || index >= entries.length || names[index] !== undefined) {
        fail(file, `names must map the class indices 0..${entries.length - 1} to names, got key '${key}'`);
      }
      if (typeof name !== 'string' && typeof name !== 'number') fail(file, `names[${key}] must be a string, got ${JSON.stringify(name)}`);
      names[index] = String(name);
    }
    return names;
  }
  return fail(file, `key 'names' must be a list of class names or a map {0: name, ...}`);
}

function readSplit(file: string, root: string, key: SplitName, raw: unknown, required: boolean): string[] {
  if (raw === undefined || raw === null || raw === '') {
    if (required) fail(file, `missing key '${key}' (an image folder, a .txt list of images, or a list of these)`);
    return [];
  }
  const items = Array.isArray(raw) ? raw : [raw];
  return items.map((item, i) => {
    if (typeof item !== 'string' || item === '') fail(file, `key '${key}'${Array.isArray(raw) ? `[${i}]` : ''} must be a path, got ${JSON.stringify(item)}`);
    return resolve(root, item);
  });
}

/** Reads and checks a dataset yaml; relative paths resolve against its folder. */
export function loadDatasetConfig(yamlPath: string): DatasetConfig {
  const file = resolve(yamlPath);
  if (!existsSync(file)) throw new Error(`dataset file ${file} does not exist`);
  assertRegularFileSync(file);
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    fail(file, `not valid YAML: ${(error as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) fail(file, 'expected a mapping with keys path, train, val, names');
  const data = doc as Record<string, unknown>;

  const folder = dirname(file);
  if (data.path !== undefined && data.path !== null && typeof data.path !== 'string') fail(file, `key 'path' must be a folder path`);
  const root = typeof data.path === 'string' && data.path !== '' ? resolve(folder, data.path) : folder;

  if (data.names === undefined) fail(file, `missing key 'names' (a list of class names or a map {0: name, ...})`);
  const names = readNames(file, data.names);
  if (names.length === 0) fail(file, `key 'names' is empty`);
  if (data.nc !== undefined && data.nc !== null) {
    if (typeof data.nc !== 'number' || !Number.isInteger(data.nc) || data.nc <= 0) fail(file, `key 'nc' must be a positive integer, got ${JSON.stringify(data.nc)}`);
    if (data.nc !== names.length) fail(file, `key 'nc' is ${data.nc} but 'names' lists ${names.length} classes`);
  }

  return {
    file,
    root,
    splits: {
      train: readSplit(file, root, 'train', data.train, true),
      val: readSplit(file, root, 'val', data.val, true),
      test: readSplit(file, root, 'test', data.test, false),
    },
    nc: names.length,
    names,
  };
}

function isImageFile(path: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(extname(path).slice(1).toLowerCase());
}

function imagesUnder(folder: string, into: string[]): void {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) imagesUnder(path, into);
    else if (isImageFile(path)) into.push(path);
  }
}

function imagesListedIn(listFile: string): string[] {
  const folder = dirname(listFile);
  assertRegularFileSync(listFile);
  return readFileSync(listFile, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && isImageFile(line))
    .map((line) => (isAbsolute(line) ? line : resolve(folder, line)));
}

/**
 * The image files of a split, sorted. Each source is a folder (searched recursively) or a .txt file listing
 * images (relative entries resolve against the list's folder).
 */
export function listImageFiles(sources: readonly string[], what = 'split'): string[] {
  if (sources.length === 0) throw new Error(`${what}: no image folder or list given`);
  const files: string[] = [];
  for (const source of sources) {
    if (!existsSync(source)) throw new Error(`${what}: ${source} does not exist`);
    if (statSync(source).isDirectory()) imagesUnder(source, files);
    else files.push(...imagesListedIn(source));
  }
  if (files.length === 0) throw new Error(`${what}: no images (${IMAGE_EXTENSIONS.join(', ')}) found in ${sources.join(', ')}`);
  return [...new Set(files)].sort();
}

/** The images of one split of a dataset. */
export function splitImageFiles(config: DatasetConfig, split: SplitName): string[] {
  if (config.splits[split].length === 0) throw new Error(`${config.file}: no '${split}' split defined`);
  return listImageFiles(config.splits[split], `${config.file} '${split}'`);
}

/** Up to `max` of `items`, spread evenly over them (the same subset on every call): calibration images. */
export function evenlySpread<T>(items: readonly T[], max: number): T[] {
  const step = Math.max(1, items.length / max);
  return Array.from({ length: Math.min(max, items.length) }, (_, i) => items[Math.floor(i * step)]!);
}

/** YOLO convention: the last `/images/` becomes `/labels/` and the extension `.txt`. */
export function labelPathFor(imageFile: string): string {
  const marker = '/images/';
  const cut = imageFile.lastIndexOf(marker);
  const swapped = cut < 0 ? imageFile : `${imageFile.slice(0, cut)}/labels/${imageFile.slice(cut + marker.length)}`;
  const dot = swapped.lastIndexOf('.');
  return `${dot > swapped.lastIndexOf('/') ? swapped.slice(0, dot) : swapped}.txt`;
}
