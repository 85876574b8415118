// Datasets by name and by `download:`, as ultralytics users expect: `--data coco128.yaml` with no such file here
// uses the yaml shipped in data/, and a yaml whose val images are missing but which names a .zip under `download:`
// gets it downloaded and unpacked beside its `path` (the zip holds the dataset's folder, e.g. coco128/).
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { cacheDir } from '../util/cache-dir.js';
import { downloadFile } from '../util/download.js';
import { ZipArchive } from '../util/zip.js';
import { loadDatasetConfig } from './dataset-config.js';

/** The data/ folder shipped with the package (dataset yamls such as coco128.yaml). */
function shippedDataDir(): string | undefined {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'cfg', 'models'))) return join(dir, 'data');
  }
  return undefined;
}

/** The names of the dataset yamls shipped with the package. */
export function shippedDatasets(): string[] {
  const dir = shippedDataDir();
  return dir && existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort() : [];
}

/**
 * Unpacks a zip into `into`, all or nothing: entries go to a temporary folder first and its top-level entries are
 * then renamed into place. Every entry's CRC-32 is checked (ZipArchive.read), which is what vouches for a dataset
 * archive: the datasets' publishers give no digest for them.
 */
export function unpackZip(bytes: Uint8Array, into: string, what: string): void {
  const temp = join(into, `.unpack-${process.pid}`);
  rmSync(temp, { recursive: true, force: true });
  try {
    let archive: ZipArchive;
    try {
      archive = new ZipArchive(bytes);
    } catch (error) {
      throw new Error(`${what}: not a valid zip archive (${(error as Error).message})`);
    }
    for (const name of archive.names) {
      if (name.startsWith('__MACOSX/')) continue; // macOS's resource forks, not part of the dataset
      // An entry must stay inside the folder: no absolute paths, no `..` (a "zip slip").
      const target = normalize(join(temp, name));
      if (isAbsolute(name) || !target.startsWith(temp + sep)) throw new Error(`${what}: entry '${name}' points outside the folder it unpacks into`);
      if (name.endsWith('/')) {
        mkdirSync(target, { recursive: true });
        continue;
      }
      let data: Uint8Array;
      try {
        data = archive.read(name);
      } catch (error) {
        throw new Error(`${what}: damaged archive (${(error as Error).message})`);
      }
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, data);
    }
    for (const top of readdirSync(temp)) {
      const dest = join(into, top);
      if (existsSync(dest)) throw new Error(`${what}: ${dest} already exists but lacks the dataset's images; remove it and run again`);
      renameSync(join(temp, top), dest);
    }
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/**
 * The dataset yaml to use for `data`, with its images in place: a local yaml as it is, or a shipped one by name
 * (copied into the cache folder, so that its relative `path` lands there); missing val images are downloaded
 * when the yaml names a .zip under `download:`. Anything else is left to loadDatasetConfig's own errors.
 */
export async function prepareDataset(data: string): Promise<string> {
  let file = data;
  const shipped = shippedDataDir();
  if (!existsSync(data) && basename(data) === data && shipped && existsSync(join(shipped, data))) {
    file = join(cacheDir(), 'datasets', data);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, readFileSync(join(shipped, data)));
  }
  if (!existsSync(file)) return file;
  const config = loadDatasetConfig(file);
  const missing = config.splits.val.filter((p) => !existsSync(p));
  if (missing.length === 0) return file;

  const download = (parse(readFileSync(config.file, 'utf8')) as { download?: unknown }).download;
  const lacking = `${config.file}: the dataset is not at ${config.root} (missing ${missing.join(', ')})`;
  if (typeof download !== 'string' || download.trim() === '') throw new Error(`${lacking}, and the yaml names no download`);
  const url = download.trim();
  if (!/^https?:\/\/\S+\.zip$/i.test(url)) {
    throw new Error(`${lacking}; its download is a script, which yolov5-ts does not run: fetch the dataset by hand into ${config.root}`);
  }
  // As ultralytics: the archive holds the dataset's own folder and is unpacked into the folder above `path`.
  const parent = dirname(config.root);
  const zip = join(parent, basename(new URL(url).pathname));
  await downloadFile({
    url,
    dest: zip,
    manualHint: `Download it by hand (${url}) and unpack it in ${parent}, so that ${config.root} holds the dataset.`,
  });
  try {
    unpackZip(readFileSync(zip), parent, `${url} (saved as ${zip})`);
  } finally {
    rmSync(zip, { force: true });
  }
  const still = config.splits.val.filter((p) => !existsSync(p));
  if (still.length) throw new Error(`${config.file}: ${url} was unpacked into ${parent}, but ${still.join(', ')} is still missing`);
  return file;
}

