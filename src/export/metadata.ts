// Model metadata in an ONNX file's metadata_props, in the official export's vocabulary so that either side can
// read the other's files: `stride` is the largest stride as an integer, `names` a Python dict literal
// ({0: 'person', 1: 'bicycle'}), which the official loader eval()s. Readers here also accept JSON.

export interface ExportMetadata {
  stride: number;
  names: string[];
}

function pythonString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

export function formatNames(names: string[]): string {
  return `{${names.map((n, i) => `${i}: ${pythonString(n)}`).join(', ')}}`;
}

/** Parses `names` written as a Python dict/list literal of strings or as JSON (list or index → name object). */
export function parseNames(text: string, source: string): string[] {
  const trimmed = text.trim();
  try {
    const json: unknown = JSON.parse(trimmed);
    if (Array.isArray(json) && json.every((n) => typeof n === 'string')) return json;
    if (json && typeof json === 'object' && Object.values(json).every((n) => typeof n === 'string')) {
      return fromIndexed(Object.entries(json as Record<string, string>), source);
    }
  } catch {
    // not JSON: try the Python literal below
  }
  const entry = /\s*(?:(\d+)\s*:\s*)?(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*(,|$)/y;
  const open = trimmed[0];
  const close = open === '{' ? '}' : open === '[' ? ']' : '';
  if (!close || !trimmed.endsWith(close)) throw new Error(`${source}: class names '${trimmed.slice(0, 60)}' are neither JSON nor a Python dict/list`);
  const body = trimmed.slice(1, -1).trim();
  const entries: [string, string][] = [];
  entry.lastIndex = 0;
  while (entry.lastIndex < body.length) {
    const m = entry.exec(body);
    if (!m || (open === '{') !== (m[1] !== undefined)) throw new Error(`${source}: cannot parse class names near '${body.slice(entry.lastIndex, entry.lastIndex + 40)}'`);
    const raw = m[2] ?? m[3]!;
    entries.push([m[1] ?? String(entries.length), raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))]);
  }
  return fromIndexed(entries, source);
}

function fromIndexed(entries: [string, string][], source: string): string[] {
  const names: string[] = [];
  for (const [key, name] of entries) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0) throw new Error(`${source}: class index '${key}' is not a non-negative integer`);
    names[index] = name;
  }
  if (names.length === 0 || names.some((n) => n === undefined) || names.length !== entries.length) {
    throw new Error(`${source}: class names must cover the indices 0..n-1 without gaps`);
  }
  return names;
}

export function metadataProps(meta: ExportMetadata): { key: string; value: string }[] {
  return [
    { key: 'stride', value: String(meta.stride) },
    { key: 'names', value: formatNames(meta.names) },
  ];
}

/** Larger than any YOLOv5 stride (8 to 64); the input size is rounded up to a multiple of it, so it must stay small. */
const MAX_STRIDE = 1024;

export function readMetadata(props: { key: string; value: string }[], source: string): ExportMetadata {
  const map = new Map(props.map((p) => [p.key, p.value]));
  const missing = ['stride', 'names'].filter((key) => !map.has(key));
  if (missing.length) {
    throw new Error(`${source}: ONNX metadata lacks ${missing.map((k) => `'${k}'`).join(' and ')} (export the model with 'yolov5 export' or the official export.py)`);
  }
  const text = map.get('stride')!.trim();
  const stride = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(stride >= 1 && stride <= MAX_STRIDE)) {
    throw new Error(`${source}: ONNX metadata 'stride' is '${text.slice(0, 40)}', not a whole number from 1 to ${MAX_STRIDE}`);
  }
  return { stride, names: parseNames(map.get('names')!, source) };
}
