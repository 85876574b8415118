import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { liveTensors, type Tensor } from '../src/torch/index.js';
import { PyObject, unpickle } from '../src/checkpoint/pickle.js';
import { readCheckpointStateDict, readOfficialCheckpoint } from '../src/checkpoint/pt-reader.js';
import { BUS, WEIGHTS } from './helpers/fixtures.js';

const scratch = mkdtempSync(join(tmpdir(), 'pt-reader-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

function disposeAll(stateDict: Map<string, Tensor>): void {
  for (const t of stateDict.values()) t.dispose();
}

/** Writes a zip of `entries` (stored, like torch.save) into the scratch folder and returns its path. */
function writeZip(name: string, entries: Record<string, Uint8Array>): string {
  const zippable: Zippable = {};
  for (const [entry, data] of Object.entries(entries)) zippable[entry] = [data, { level: 0 }];
  const path = join(scratch, name);
  writeFileSync(path, zipSync(zippable));
  return path;
}

test('yolov5n.pt: config, names, stride, anchors and a float32 state dict with PyTorch names', async () => {
  const before = liveTensors();
  const ckpt = await readOfficialCheckpoint(WEIGHTS);
  // Only the returned tensors stay alive: every intermediate of the conversion is freed.
  assert.equal(liveTensors() - before, ckpt.stateDict.size);
  try {
    assert.equal(ckpt.entry, 'model'); // the released file has ema = None
    assert.equal(ckpt.modelClass, 'models.yolo.Model');
    assert.equal(ckpt.epoch, -1);

    assert.equal(ckpt.yaml.depth_multiple, 0.33);
    assert.equal(ckpt.yaml.width_multiple, 0.25);
    assert.ok(Array.isArray(ckpt.yaml.backbone) && ckpt.yaml.backbone.length > 0);
    assert.ok(Array.isArray(ckpt.yaml.head) && ckpt.yaml.head.length > 0);

    assert.equal(ckpt.names.length, 80);
    assert.equal(ckpt.names[0], 'person');
    assert.equal(ckpt.names[79], 'toothbrush');
    assert.equal(ckpt.nc, 80);
    assert.deepEqual(ckpt.stride, [8, 16, 32]);

    // Anchors are stored in stride units: times the stride they are the yaml's pixel anchors.
    const yamlAnchors = ckpt.yaml.anchors as number[][];
    assert.equal(ckpt.anchors.length, 3);
    ckpt.anchors.forEach((level, i) => {
      assert.deepEqual(level.flat().map((a) => a * ckpt.stride[i]!), yamlAnchors[i]);
    });

    const shape = (name: string) => ckpt.stateDict.get(name)?.shape;
    assert.deepEqual(shape('model.0.conv.weight'), [16, 3, 6, 6]);
    assert.deepEqual(shape('model.24.m.0.weight'), [255, 64, 1, 1]);
    assert.deepEqual(shape('model.24.m.0.bias'), [255]);
    assert.deepEqual(shape('model.24.anchors'), [3, 3, 2]);
    assert.deepEqual(shape('model.0.bn.running_var'), [16]);
    assert.equal(ckpt.stateDict.get('model.0.bn.num_batches_tracked')?.dtype, 'int64');
    // state_dict() order: a module's parameters, then its buffers, then its children.
    assert.deepEqual([...ckpt.stateDict.keys()].slice(0, 6), [
      'model.0.conv.weight',
      'model.0.bn.weight',
      'model.0.bn.bias',
      'model.0.bn.running_mean',
      'model.0.bn.running_var',
      'model.0.bn.num_batches_tracked',
    ]);

    // Parameters counted from the module tree agree with the state dict minus BN statistics and anchors.
    let fromModules = 0;
    for (const [path, info] of ckpt.modules) {
      for (const name of info.parameters) fromModules += ckpt.stateDict.get(path ? `${path}.${name}` : name)!.numel;
    }
    let fromNames = 0;
    for (const [name, t] of ckpt.stateDict) {
      if (!/(running_mean|running_var|num_batches_tracked|anchors)$/.test(name)) fromNames += t.numel;
    }
    assert.equal(fromModules, 1_872_157);
    assert.equal(fromNames, 1_872_157);

    for (const [name, t] of ckpt.stateDict) {
      if (name.endsWith('num_batches_tracked')) continue;
      assert.equal(t.dtype, 'float32', name);
      assert.ok((t.data() as Float32Array).every(Number.isFinite), `${name} has non-finite values`);
    }
    // A float16 weight widened exactly (first value of model.0.conv.weight is -0.003936767578125 in half precision).
    assert.equal(ckpt.stateDict.get('model.0.conv.weight')!.data()[0], -0.003936767578125);

    const conv = ckpt.modules.get('model.0.conv')!;
    assert.equal(conv.className, 'torch.nn.modules.conv.Conv2d');
    assert.deepEqual(conv.attributes.stride, [2, 2]);
    assert.deepEqual(conv.attributes.padding, [2, 2]);
    const detect = ckpt.modules.get('model.24')!;
    assert.equal(detect.className, 'models.yolo.Detect');
    assert.deepEqual(detect.buffers, ['anchors']);
    assert.equal(ckpt.modules.get('model.0.bn')!.attributes.eps, 0.001);
    assert.equal(ckpt.extras.date, '2022-02-08T18:24:20.515893');
    assert.equal('optimizer' in ckpt.extras, false);
  } finally {
    disposeAll(ckpt.stateDict);
  }
});

test('the EMA model is preferred when the checkpoint has one', async () => {
  const entries = unzipSync(new Uint8Array(readFileSync(WEIGHTS)));
  const pkl = entries['archive/data.pkl']!;
  // Rewrite the trailing `'ema': None` as `'ema': <memo 5>`, the pickled model object.
  const key = Buffer.from(pkl).indexOf(Buffer.from('X\x03\x00\x00\x00ema', 'latin1'));
  assert.ok(key > 0);
  let none = key + 8;
  none += pkl[none] === 0x71 ? 2 : pkl[none] === 0x72 ? 5 : 0; // the key's BINPUT or LONG_BINPUT
  assert.equal(pkl[none], 0x4e);
  entries['archive/data.pkl'] = new Uint8Array(Buffer.concat([pkl.subarray(0, none), Buffer.from([0x68, 5]), pkl.subarray(none + 1)]));
  const ckpt = await readCheckpointStateDict(writeZip('with-ema.pt', entries));
  try {
    assert.equal(ckpt.entry, 'ema');
    assert.deepEqual(ckpt.stateDict.get('model.24.m.2.weight')?.shape, [255, 256, 1, 1]);
  } finally {
    disposeAll(ckpt.stateDict);
  }
});

// ---- hand-assembled torch pickles ----

const op = { mark: 0x28, tuple: 0x74, emptyTuple: 0x29, reduce: 0x52, binpersid: 0x51, false: 0x89, setitems: 0x75, emptyDict: 0x7d, stop: 0x2e };
const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
const str = (s: string) => [0x58, ...u32(Buffer.byteLength(s)), ...Buffer.from(s)];
const int = (n: number) => [0x4a, ...u32(n >>> 0)];
const global = (module: string, name: string) => [0x63, ...Buffer.from(`${module}\n${name}\n`)];
const tuple = (...items: number[][]) => [op.mark, ...items.flat(), op.tuple];

/** `_rebuild_tensor_v2(storage(type, key, numel), offset, size, stride, False, OrderedDict())` */
function tensorOps(storageType: string, key: string, numel: number, offset: number, size: number[], stride: number[]): number[] {
  return [
    ...global('torch._utils', '_rebuild_tensor_v2'),
    op.mark,
    ...tuple(str('storage'), global('torch', storageType), str(key), str('cpu'), int(numel)),
    op.binpersid,
    ...int(offset),
    ...tuple(...size.map(int)),
    ...tuple(...stride.map(int)),
    op.false,
    ...global('collections', 'OrderedDict'),
    op.emptyTuple,
    op.reduce,
    op.tuple,
    op.reduce,
  ];
}

/** A pickled `{key: value, ...}` with protocol 2's header. */
function dictPickle(items: [string, number[]][]): Uint8Array {
  return Uint8Array.from([0x80, 2, op.emptyDict, op.mark, ...items.flatMap(([k, v]) => [...str(k), ...v]), op.setitems, op.stop]);
}

test('a bare state_dict checkpoint: strided views of shared storages, float16 and big-endian storages', async () => {
  const floats = new Float32Array([0, 1, 2, 3, 4, 5, 6, 7]);
  const halves = new Uint16Array([0x3c00, 0xc000, 0x3800]); // 1, -2, 0.5
  const stateDict = [
    ...global('collections', 'OrderedDict'),
    op.emptyTuple,
    op.reduce,
    op.mark,
    // a transposed 2x3 view starting at element 1: element [i][j] = storage[1 + i + 2j]
    ...str('view'), ...tensorOps('FloatStorage', '0', 8, 1, [2, 3], [1, 2]),
    ...str('tail'), ...tensorOps('FloatStorage', '0', 8, 6, [2], [1]),
    ...str('half'), ...tensorOps('HalfStorage', '1', 3, 0, [3], [1]),
    op.setitems,
  ];
  const pickle = dictPickle([['model', stateDict]]);
  const expectView = [[1, 3, 5], [2, 4, 6]];

  const little = await readCheckpointStateDict(
    writeZip('state-dict.pt', {
      'ckpt/data.pkl': pickle,
      'ckpt/data/0': new Uint8Array(floats.buffer),
      'ckpt/data/1': new Uint8Array(halves.buffer),
    }),
  );
  const bigEndian = (a: Float32Array | Uint16Array) => {
    const bytes = new Uint8Array(a.buffer.slice(0));
    for (let i = 0; i < bytes.length; i += a.BYTES_PER_ELEMENT) bytes.subarray(i, i + a.BYTES_PER_ELEMENT).reverse();
    return bytes;
  };
  const big = await readCheckpointStateDict(
    writeZip('state-dict-big-endian.pt', {
      'ckpt/data.pkl': pickle,
      'ckpt/byteorder': Buffer.from('big'),
      'ckpt/data/0': bigEndian(floats),
      'ckpt/data/1': bigEndian(halves),
    }),
  );
  try {
    for (const { stateDict: sd } of [little, big]) {
      assert.deepEqual([...sd.keys()], ['view', 'tail', 'half']);
      assert.deepEqual(sd.get('view')!.shape, [2, 3]);
      assert.deepEqual(sd.get('view')!.toArray(), expectView.flat());
      assert.deepEqual(sd.get('tail')!.toArray(), [6, 7]);
      assert.equal(sd.get('half')!.dtype, 'float32');
      assert.deepEqual(sd.get('half')!.toArray(), [1, -2, 0.5]);
    }
    assert.equal(little.entry, 'model');
  } finally {
    disposeAll(little.stateDict);
    disposeAll(big.stateDict);
  }

  const path = writeZip('state-dict-only.pt', { 'ckpt/data.pkl': pickle, 'ckpt/data/0': new Uint8Array(floats.buffer), 'ckpt/data/1': new Uint8Array(halves.buffer) });
  await assert.rejects(readOfficialCheckpoint(path), (e: Error) => e.message.includes(path) && /bare state_dict/.test(e.message));
});

test('a view reaching past its storage is rejected', async () => {
  const pickle = dictPickle([['model', [...global('collections', 'OrderedDict'), op.emptyTuple, op.reduce, op.mark, ...str('w'), ...tensorOps('FloatStorage', '0', 4, 2, [3], [1]), op.setitems]]]);
  const path = writeZip('overrun.pt', { 'a/data.pkl': pickle, 'a/data/0': new Uint8Array(16) });
  await assert.rejects(readCheckpointStateDict(path), (e: Error) => e.message.startsWith(path) && /needs 5 float32 elements but storage '0' holds 4/.test(e.message));
});

// ---- broken files ----

async function assertReadFails(path: string, problem: RegExp): Promise<void> {
  await assert.rejects(readOfficialCheckpoint(path), (error: Error) => {
    assert.ok(error.message.startsWith(`${path}: `), `message should name the file: ${error.message}`);
    assert.match(error.message, problem);
    return true;
  });
}

test('a JPEG is not a checkpoint', async () => {
  await assertReadFails(BUS, /not a PyTorch zip checkpoint: not a zip archive \(starts with bytes ff d8 ff/);
});

test('a missing file', async () => {
  await assertReadFails(join(scratch, 'nowhere.pt'), /cannot read checkpoint: no such file/);
});

test('a truncated checkpoint', async () => {
  const bytes = readFileSync(WEIGHTS);
  const path = join(scratch, 'truncated.pt');
  writeFileSync(path, bytes.subarray(0, bytes.length >> 1));
  await assertReadFails(path, /truncated or corrupt/);
});

test('a checkpoint with a damaged entry fails its CRC check', async () => {
  const bytes = Buffer.from(readFileSync(WEIGHTS));
  // The first entry is archive/data.pkl; flip a byte inside its (stored) data.
  assert.equal(bytes.readUInt32LE(0), 0x04034b50);
  const dataStart = 30 + bytes.readUInt16LE(26) + bytes.readUInt16LE(28);
  bytes[dataStart + 1000] ^= 0xff;
  const path = join(scratch, 'corrupt.pt');
  writeFileSync(path, bytes);
  await assertReadFails(path, /entry 'archive\/data\.pkl' is corrupt \(CRC-32 mismatch\)/);
});

test('a zip without data.pkl', async () => {
  await assertReadFails(writeZip('no-pickle.pt', { 'weights/readme.txt': Buffer.from('hello') }), /expected one '<name>\/data\.pkl'.*found none/);
});

test('a pickle that is not a YOLOv5 checkpoint', async () => {
  await assertReadFails(writeZip('no-model.pt', { 'x/data.pkl': dictPickle([['epoch', int(3)]]) }), /not a YOLOv5 checkpoint: no 'model'.*keys: epoch/);
  const list = Uint8Array.from([0x80, 2, 0x5d, op.stop]);
  await assertReadFails(writeZip('list.pt', { 'x/data.pkl': list }), /not a YOLOv5 checkpoint: it holds a list/);
});

test('a truncated pickle and the legacy non-zip format', async () => {
  const pickle = dictPickle([['epoch', int(3)]]);
  await assertReadFails(writeZip('cut-pickle.pt', { 'x/data.pkl': pickle.subarray(0, 12) }), /x\/data\.pkl is not a valid checkpoint pickle: unexpected end of pickle data/);
  const legacy = join(scratch, 'legacy.pt');
  writeFileSync(legacy, pickle);
  await assertReadFails(legacy, /legacy \(pre-1\.6, non-zip\) PyTorch serialization/);
});

// ---- the pickle machine against CPython's own output ----

// pickle.dumps(v, protocol=p) in CPython 3.11 for
// v = {'ints': [0, -1, 255, 65535, -2**31, 2**40, -2**70], 'floats': (0.5, -1e300), 'text': 'yolo ✓', 'bytes': b'\x00\xff',
//      'set': {3}, 'none': None, 'flags': (True, False), 'od': OrderedDict([('b', 1), ('a', 2)]), 'point': shapes.Point(1, 2.5),
//      'shared': (lst, lst)} with lst = [1, 2] and Point a plain class setting x and y in __init__.
const CPYTHON_PICKLES: Record<number, string> = {
  2:
    '80027d7100285804000000696e747371015d7102284b004affffffff4bff4dffff4a000000808a060000000000018a090000000000000000c0655806000000666c6f6174737103473fe000000000000047fe37e43c8800759c86710458040000007465787471055808000000796f6c6f20e29c937106580500000062797465737107635f636f646563730a656e636f64650a7108580300000000c3bf710958060000006c6174696e31710a86710b52710c5803000000736574710d635f5f6275696c74696e5f5f0a7365740a710e5d710f4b036185711052711158040000006e6f6e6571124e5805000000666c6167737113888986711458020000006f64711563636f6c6c656374696f6e730a4f726465726564446963740a7116295271172858010000006271184b0158010000006171194b02755805000000706f696e74711a637368617065730a506f696e740a711b2981711c7d711d28580100000078711e4b01580100000079711f4740040000000000007562580600000073686172656471205d7121284b014b02656821867122752e',
  4:
    '8004950f010000000000007d94288c04696e7473945d94284b004affffffff4bff4dffff4a000000808a060000000000018a090000000000000000c0658c06666c6f61747394473fe000000000000047fe37e43c8800759c86948c0474657874948c08796f6c6f20e29c93948c05627974657394430200ff948c03736574948f94284b03908c046e6f6e65944e8c05666c61677394888986948c026f64948c0b636f6c6c656374696f6e73948c0b4f72646572656444696374949394295294288c0162944b018c0161944b02758c05706f696e74948c06736861706573948c05506f696e749493942981947d94288c0178944b018c01799447400400000000000075628c06736861726564945d94284b014b0265681e8694752e',
};

for (const [protocol, hex] of Object.entries(CPYTHON_PICKLES)) {
  test(`unpickle reads CPython protocol ${protocol} output`, () => {
    const value = unpickle(Buffer.from(hex, 'hex')) as Map<string, unknown>;
    assert.deepEqual([...value.keys()], ['ints', 'floats', 'text', 'bytes', 'set', 'none', 'flags', 'od', 'point', 'shared']);
    assert.deepEqual(value.get('ints'), [0, -1, 255, 65535, -(2 ** 31), 2 ** 40, -(2n ** 70n)]);
    assert.deepEqual(value.get('floats'), [0.5, -1e300]);
    assert.equal(value.get('text'), 'yolo ✓');
    assert.deepEqual(value.get('bytes'), Uint8Array.from([0, 255]));
    assert.deepEqual(value.get('set'), new Set([3]));
    assert.equal(value.get('none'), null);
    assert.deepEqual(value.get('flags'), [true, false]);
    assert.deepEqual([...(value.get('od') as Map<string, number>)], [['b', 1], ['a', 2]]);
    const point = value.get('point');
    assert.ok(point instanceof PyObject);
    assert.equal(point.className, 'shapes.Point');
    assert.equal(point.attribute('x'), 1);
    assert.equal(point.attribute('y'), 2.5);
    const [first, second] = value.get('shared') as unknown[][];
    assert.equal(first, second); // memoized objects stay shared
  });
}

test('a deflated entry whose header claims more than deflate can produce is refused before allocating it', async () => {
  const bytes = Buffer.from(zipSync({ 'x/data.pkl': [new Uint8Array(4096), { level: 9 }] }));
  // Claim 1.5 GB in the central directory's uncompressed size field.
  const central = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  bytes.writeUInt32LE(1_500_000_000, central + 24);
  const path = join(scratch, 'bomb.pt');
  writeFileSync(path, bytes);
  await assertReadFails(path, /entry 'x\/data\.pkl' claims 1500000000 bytes from \d+ compressed, more than deflate can produce/);
});
