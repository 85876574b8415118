// Model configs in the YOLOv5 YAML vocabulary, plus one extension for pruned models: `channels`,
// explicit output channels per layer and convolution path (e.g. {"2": {"cv1": 8, "m.0.cv1": 4}}).
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export type LayerFrom = number | number[];
export type LayerRow = [LayerFrom, number, string, unknown[]];

export interface ModelConfig {
  nc: number;
  depth_multiple: number;
  width_multiple: number;
  /** Per level: [w0, h0, w1, h1, ...] in input pixels; or a count of anchors per level (placeholders until AutoAnchor). */
  anchors: number[][] | number;
  backbone: LayerRow[];
  head: LayerRow[];
  ch?: number;
  /** e.g. "nn.SiLU()" (default), "nn.LeakyReLU(0.1)", "nn.ReLU()", "nn.Hardswish()". */
  activation?: string;
  /** Explicit output channels (pruned models): layer index → convolution path inside the layer → channels. */
  channels?: Record<string, Record<string, number>>;
}

const knownKeys = new Set(['nc', 'depth_multiple', 'width_multiple', 'anchors', 'backbone', 'head', 'ch', 'activation', 'channels']);

/** The folder of shipped model configs (cfg/models at the package root). */
export function shippedConfigDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'cfg', 'models'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the shipped cfg/models folder');
    dir = parent;
  }
  return join(dir, 'cfg', 'models');
}

/** Loads a config from a YAML path, or a shipped name such as `yolov5s` / `yolov5s.yaml`. */
export function loadModelConfig(pathOrName: string): ModelConfig {
  let path = pathOrName;
  if (!existsSync(path)) {
    const shipped = join(shippedConfigDir(), pathOrName.endsWith('.yaml') ? pathOrName : `${pathOrName}.yaml`);
    if (!existsSync(shipped)) throw new Error(`model config '${pathOrName}' not found (neither a file nor a shipped config)`);
    path = shipped;
  }
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${resolve(path)}: not valid YAML (${(error as Error).message})`);
  }
  return validateModelConfig(raw, resolve(path));
}

function fail(source: string, message: string): never {
  throw new Error(`${source}: ${message}`);
}

/** Checks a parsed config object and returns it typed; `source` names it in errors. */
export function validateModelConfig(raw: unknown, source: string): ModelConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(source, 'a model config must be a mapping');
  const c = raw as Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (!knownKeys.has(key)) fail(source, `unknown key '${key}' (expected one of ${[...knownKeys].join(', ')})`);
  }
  for (const key of ['nc', 'depth_multiple', 'width_multiple', 'anchors', 'backbone', 'head']) {
    if (!(key in c)) fail(source, `missing key '${key}'`);
  }
  if (!Number.isInteger(c.nc) || (c.nc as number) < 1) fail(source, `'nc' must be a positive integer, got ${JSON.stringify(c.nc)}`);
  for (const key of ['depth_multiple', 'width_multiple']) {
    if (typeof c[key] !== 'number' || (c[key] as number) <= 0) fail(source, `'${key}' must be a positive number`);
  }
  const anchors = c.anchors;
  const anchorsOk =
    (Number.isInteger(anchors) && (anchors as number) > 0) ||
    (Array.isArray(anchors) &&
      anchors.length > 0 &&
      anchors.every((a) => Array.isArray(a) && a.length >= 2 && a.length % 2 === 0 && a.every((v) => typeof v === 'number' && v > 0)));
  if (!anchorsOk) fail(source, `'anchors' must be a list of [w, h, w, h, ...] per level, or an anchor count`);
  for (const section of ['backbone', 'head']) {
    const rows = c[section];
    if (!Array.isArray(rows)) fail(source, `'${section}' must be a list of [from, number, module, args] rows`);
    rows.forEach((row, i) => {
      const ok =
        Array.isArray(row) &&
        row.length === 4 &&
        (Number.isInteger(row[0]) || (Array.isArray(row[0]) && row[0].every(Number.isInteger))) &&
        Number.isInteger(row[1]) &&
        typeof row[2] === 'string' &&
        Array.isArray(row[3]);
      if (!ok) fail(source, `${section} row ${i} must be [from, number, module, args], got ${JSON.stringify(row)}`);
    });
  }
  if (c.ch !== undefined && (!Number.isInteger(c.ch) || (c.ch as number) < 1)) fail(source, `'ch' must be a positive integer`);
  if (c.channels !== undefined) {
    const ok =
      typeof c.channels === 'object' &&
      c.channels !== null &&
      Object.values(c.channels).every(
        (m) => typeof m === 'object' && m !== null && Object.values(m).every((v) => Number.isInteger(v) && (v as number) > 0),
      );
    if (!ok) fail(source, `'channels' must map layer index → {conv path: positive integer}`);
  }
  return c as unknown as ModelConfig;
}

/** A deep copy safe to modify (configs are plain data). */
export function cloneConfig(config: ModelConfig): ModelConfig {
  return structuredClone(config);
}
