// The safetensors format: round trips of every dtype with metadata, the byte layout, and clear errors for bad files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Tensor,
  arange,
  liveTensors,
  loadSafetensors,
  parseSafetensors,
  saveSafetensors,
  serializeSafetensors,
  tensor,
  tidy,
  zeros,
  type DType,
} from '../src/torch/index.js';
import { loadModel, saveCheckpoint } from '../src/checkpoint/index.js';
import { loadModelConfig } from '../src/model/config.js';
import { DetectionModel } from '../src/model/yolo.js';

const values: Record<DType, number[]> = {
  float64: [1.5, -2.25e-300, 3],
  float32: [1.5, -2.25, 3],
  float16: [0.5, -2, 65504],
  int64: [2 ** 40, -7, 0],
  int32: [2 ** 31 - 1, -(2 ** 31), 5],
  int16: [-32768, 32767, 1],
  int8: [-128, 127, 0],
  uint8: [0, 255, 17],
  bool: [1, 0, 1],
};

function sample(): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  for (const [dtype, v] of Object.entries(values)) tensors.set(`layer.${dtype}`, tensor(v, [3, 1], { dtype: dtype as DType }));
  tensors.set('scalar', tensor([4], [], { dtype: 'float32' }));
  tensors.set('empty', zeros([0, 3]));
  tensors.set('transposed', arange(6).float().reshape([2, 3]).transpose(0, 1));
  return tensors;
}

function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'yolov5-ts-safetensors-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('every dtype, scalars, empty and non-contiguous tensors and metadata survive a file round trip', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'weights.safetensors');
    const original = sample();
    const metadata = { format: 'pt', epoch: '12', note: 'ünïcödé' };
    await saveSafetensors(path, original, metadata);
    assert.deepEqual(readdirSync(dir), ['weights.safetensors'], 'no temporary file is left behind');
    const loaded = await loadSafetensors(path);
    assert.deepEqual(loaded.metadata, metadata);
    assert.deepEqual([...loaded.tensors.keys()], [...original.keys()]);
    for (const [name, t] of original) {
      const back = loaded.tensors.get(name)!;
      assert.equal(back.dtype, t.dtype, name);
      assert.deepEqual(back.shape, t.shape, name);
      assert.deepEqual(back.toArray(), t.toArray(), name);
    }
    assert.deepEqual(loaded.tensors.get('layer.float16')!.toArray(), [0.5, -2, 65504]);
    assert.deepEqual(loaded.tensors.get('transposed')!.toArray(), [0, 3, 1, 4, 2, 5]);
  }));

test('the layout is the reference one: LE header length, JSON header, 8-byte aligned row-major data', () =>
  tidy(() => {
    const bytes = serializeSafetensors(new Map([['w', tensor([1, 2], [2], { dtype: 'int16' })]]), { k: 'v' });
    const headerLength = Number(bytes.readBigUInt64LE(0));
    assert.equal((8 + headerLength) % 8, 0);
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
    assert.deepEqual(header, { __metadata__: { k: 'v' }, w: { dtype: 'I16', shape: [2], data_offsets: [0, 4] } });
    assert.deepEqual([...bytes.subarray(8 + headerLength)], [1, 0, 2, 0]);
    assert.deepEqual(parseSafetensors(serializeSafetensors(new Map())), { tensors: new Map(), metadata: {} });
  }));

/** A valid file's bytes with the header replaced. */
function withHeader(header: unknown, data = Buffer.alloc(8)): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([size, json, data]);
}

test('truncated and corrupt files give clear errors naming the file', () =>
  withTempDir(async (dir) => {
    const good = tidy(() => serializeSafetensors(sample()));
    const path = join(dir, 'cut.safetensors');
    writeFileSync(path, good.subarray(0, good.length - 3));
    await assert.rejects(loadSafetensors(path), new RegExp(`${path}: the tensors cover \\d+ bytes of data but the file holds \\d+; the file is truncated`));
    writeFileSync(path, good.subarray(0, 100));
    await assert.rejects(loadSafetensors(path), /header length \d+ exceeds the file size; the file is truncated or not safetensors/);
    writeFileSync(path, Buffer.from([1, 2, 3]));
    await assert.rejects(loadSafetensors(path), /cut\.safetensors: file too short to be safetensors \(3 bytes\)/);
    await assert.rejects(loadSafetensors(join(dir, 'missing.safetensors')), /cannot read .*missing\.safetensors: ENOENT/);

    const cases: [Buffer, RegExp][] = [
      [Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{nop')]), /header is not valid JSON/],
      [withHeader([1, 2]), /header is not a JSON object/],
      [withHeader({ w: { dtype: 'BF16', shape: [4], data_offsets: [0, 8] } }), /tensor 'w' has unsupported dtype BF16/],
      [withHeader({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }), /tensor 'w' byte range \[0, 8\) does not match its shape/],
      [withHeader({ w: { dtype: 'F32', shape: [2] } }), /tensor 'w' needs a dtype, a shape of non-negative integers and data_offsets/],
      [withHeader({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }), /tensor 'w' needs a dtype/],
      [withHeader({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }), /tensor 'w' needs a dtype/],
      [withHeader({ w: 'F32' }), /tensor 'w' needs a dtype/],
      [withHeader({ __metadata__: { epoch: 3 } }), /__metadata__ must map strings to strings/],
    ];
    for (const [bytes, message] of cases) assert.throws(() => parseSafetensors(bytes, 'bad.safetensors'), message);

    // Tensors read before the bad entry are freed.
    const before = liveTensors();
    const partlyGood = withHeader({ a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] }, b: { dtype: 'F32', shape: [9], data_offsets: [1, 37] } }, Buffer.alloc(36));
    assert.throws(() => parseSafetensors(partlyGood), /the tensors cover 37 bytes of data but the file holds 36/);
    assert.equal(liveTensors(), before);
  }));

/** A file whose header is exactly `json` (to write what JSON.stringify cannot, such as a repeated key). */
function withRawHeader(json: string, data = Buffer.alloc(8)): Buffer {
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([size, Buffer.from(json), data]);
}

test('files whose header lies are rejected naming the tensor: repeated keys, overlapping, gapped or short byte ranges', () => {
  const f32 = (begin: number) => ({ dtype: 'F32', shape: [1], data_offsets: [begin, begin + 4] });
  const cases: [Buffer, RegExp][] = [
    [withRawHeader('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'), /bad\.safetensors: header names 'w' twice/],
    [withRawHeader('{"__metadata__":{"yolov5ts":"{}","yolov5ts":"{}"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'), /header names '__metadata__\.yolov5ts' twice/],
    [withHeader({ a: f32(0), b: f32(2) }), /tensor 'b' bytes \[2, 6\) overlap those of 'a' \[0, 4\)/],
    [withHeader({ a: f32(0), b: f32(0) }), /tensor '[ab]' bytes \[0, 4\) overlap those of '[ab]' \[0, 4\)/],
    [withHeader({ a: f32(4) }), /bytes \[0, 4\) before tensor 'a' belong to no tensor/],
    [withHeader({ a: f32(0) }), /the tensors cover 4 bytes of data but the file holds 8/],
  ];
  for (const [bytes, message] of cases) assert.throws(() => parseSafetensors(bytes, 'bad.safetensors'), message);
  // Strings holding quotes, braces and commas do not confuse the repeated-key check.
  const tricky = withRawHeader('{"__metadata__":{"k":"{\\"w\\": 1, \\"w\\": [2]}"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}');
  tidy(() => assert.deepEqual(parseSafetensors(tricky).metadata, { k: '{"w": 1, "w": [2]}' }));
});

/** A yolov5n checkpoint at `path` whose JSON header `forge` rewrote (it must change it); the length prefix follows. */
async function forgedCheckpoint(path: string, forge: (header: string) => string): Promise<void> {
  await saveCheckpoint(path, new DetectionModel(loadModelConfig('yolov5n'), { nc: 2 }));
  const bytes = readFileSync(path);
  const headerEnd = 8 + Number(bytes.readBigUInt64LE(0));
  const header = bytes.subarray(8, headerEnd).toString('utf8');
  const forged = Buffer.from(forge(header));
  assert.notEqual(forged.toString('utf8'), header);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(forged.length));
  writeFileSync(path, Buffer.concat([length, forged, bytes.subarray(headerEnd)]));
}

test('a checkpoint whose tensor dtype was changed (F32 to I32, same bytes) is rejected naming the tensor', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'forged.safetensors');
    await forgedCheckpoint(path, (header) => header.replace('"model.0.conv.weight":{"dtype":"F32"', '"model.0.conv.weight":{"dtype":"I32"'));
    await assert.rejects(loadModel(path), new RegExp(`${path}: weights do not fit the stored architecture: loadStateDict: 'model\\.0\\.conv\\.weight' has dtype int32 but the model expects float32`));
  }));

test('a checkpoint whose config was widened a thousandfold is refused before the model is built', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'wide.safetensors');
    // The config is JSON inside the metadata's JSON string: its quotes are escaped.
    await forgedCheckpoint(path, (header) => header.replace(/(\\"width_multiple\\":)[\d.]+/, '$1250'));
    const before = process.memoryUsage().rss;
    await assert.rejects(loadModel(path), new RegExp(`${path}: its model config describes a network larger than its \\d+ stored weights .*a damaged or forged file`));
    assert.ok(process.memoryUsage().rss - before < 512 * 2 ** 20, 'refused before allocating');
  }));

test('a write removes the temporaries that killed writers left behind, not those of live ones', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'last.safetensors');
    const gone = Number(execFileSync(process.execPath, ['-p', 'process.pid'], { encoding: 'utf8' }).trim());
    for (const pid of [gone, process.ppid]) writeFileSync(`${path}.tmp-${pid}`, 'half a file');
    writeFileSync(join(dir, 'other.safetensors.tmp-1'), 'not ours to judge');
    const w = tensor([1], [1]);
    await saveSafetensors(path, new Map([['w', w]]));
    w.dispose();
    assert.deepEqual(readdirSync(dir).sort(), ['last.safetensors', `last.safetensors.tmp-${process.ppid}`, 'other.safetensors.tmp-1']);
  }));
