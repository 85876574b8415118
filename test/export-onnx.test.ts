import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadModel } from '../src/checkpoint/index.js';
import { exportOnnx, exportOnnxFile, readMetadata } from '../src/export/index.js';
import { formatNames, parseNames } from '../src/export/metadata.js';
import { decodeModel, encodeModel, type ModelMessage } from '../src/export/onnx-proto.js';
import { Conv } from '../src/model/common.js';
import { loadModelConfig, validateModelConfig } from '../src/model/config.js';
import { DetectionModel } from '../src/model/yolo.js';
import { load } from '../src/infer/predictor.js';
import { manualSeed, nn, noGrad, rand, randn } from '../src/torch/index.js';
import { WEIGHTS } from './helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'export-onnx-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const ops = (m: ModelMessage) => m.graph.node.map((n) => n.op_type);
const count = (m: ModelMessage, op: string) => ops(m).filter((o) => o === op).length;
const dims = (m: ModelMessage, which: 'input' | 'output') =>
  m.graph[which][0]!.type.tensor_type.shape!.dim.map((d) => ('dim_value' in d ? d.dim_value : d.dim_param));

/** Non-trivial BatchNorm statistics, so that folding them into the convolutions is actually exercised. */
function randomizeBatchNorm(model: DetectionModel): void {
  noGrad(() => {
    for (const [, m] of model.namedModules()) {
      if (!(m instanceof nn.BatchNorm2d)) continue;
      const c = m.numFeatures;
      m.weight.copy_(rand([c]).add(0.5));
      m.bias.copy_(randn([c]).mul(0.1));
      m.runningMean.copy_(randn([c]).mul(0.1));
      m.runningVar.copy_(rand([c]).add(0.5));
    }
  });
}

/** A custom architecture with explicit (pruned-style) channel counts and the less common modules. */
const NARROW_YAML = `
nc: 3
depth_multiple: 1.0
width_multiple: 0.25
activation: nn.LeakyReLU(0.1)
anchors:
  - [10,13, 16,30, 33,23]
  - [30,61, 62,45, 59,119]
backbone:
  [[-1, 1, Focus, [64, 3]],
   [-1, 1, Conv, [128, 3, 2]],
   [-1, 2, C3, [128]],
   [-1, 1, Conv, [256, 3, 2]],
   [-1, 1, Bottleneck, [256]],
   [-1, 1, Conv, [512, 3, 2]],
   [-1, 1, SPP, [512, [3, 5]]],
  ]
head:
  [[-1, 1, Conv, [256, 1, 1]],
   [-1, 1, nn.Upsample, [None, 2, 'nearest']],
   [[-1, 4], 1, Concat, [1]],
   [-1, 1, C3, [256, False]],
   [[10, 7], 1, Detect, [nc, anchors]],
  ]
channels:
  '0': { conv: 12 }
  '1': { '': 20 }
  '2': { cv1: 8, cv2: 6, m.0.cv1: 5, m.1.cv1: 3, cv3: 24 }
  '3': { '': 40 }
  '4': { cv1: 11 }
  '5': { '': 72 }
  '6': { cv1: 30, cv2: 100 }
  '7': { '': 36 }
  '10': { cv1: 17, cv2: 9, m.0.cv1: 7, m.0.cv2: 13, cv3: 50 }
`;

test('official yolov5n exports to ONNX that matches libtorch, with BN folded and the official metadata', async () => {
  const { model } = await loadModel(WEIGHTS);
  const file = join(tmp, 'yolov5n.onnx');
  const { onnx, verification } = await exportOnnxFile(model, file, { imgsz: 640 });
  assert.equal(verification.length, 1);
  assert.ok(verification[0]!.ok, `max abs diff ${verification[0]!.maxAbsDiff}`);
  assert.ok(verification[0]!.maxAbsDiff < 2e-3, `max abs diff ${verification[0]!.maxAbsDiff}`);

  const decoded = decodeModel(readFileSync(file));
  assert.deepEqual(dims(decoded, 'input'), [1, 3, 640, 640]);
  assert.deepEqual(dims(decoded, 'output'), [1, 25200, 85]);
  assert.equal(decoded.graph.input[0]!.name, 'images');
  assert.equal(decoded.graph.output[0]!.name, 'output0');
  assert.deepEqual(decoded.opset_import.map((o) => o.version), [12]);
  const convs = [...model.namedModules()].filter(([, m]) => m instanceof nn.Conv2d).length;
  assert.equal(count(decoded, 'Conv'), convs);
  assert.ok(!ops(decoded).includes('BatchNormalization'));
  assert.equal(count(decoded, 'Resize'), 2);
  assert.equal(count(decoded, 'MaxPool'), 3);
  assert.equal(count(decoded, 'Sigmoid'), convs, 'one Sigmoid per SiLU (all convs but the 3 heads), one per Detect level');
  const meta = readMetadata(decoded.metadata_props, file);
  assert.equal(meta.stride, 32);
  assert.deepEqual(meta.names, model.names);
  assert.ok(decoded.metadata_props.find((p) => p.key === 'names')!.value.startsWith("{0: 'person', 1: 'bicycle', 2: 'car'"));
  assert.equal(onnx.gates.mulNodes + onnx.gates.foldedIntoConvs, 0);
});

test('a narrow custom config (explicit channels, Focus, SPP, Bottleneck, LeakyReLU) exports with dynamic axes', async () => {
  manualSeed(1);
  const config = validateModelConfig(parse(NARROW_YAML), 'narrow.yaml');
  const model = new DetectionModel(config);
  randomizeBatchNorm(model);
  assert.equal(model.layers[2]!.outChannels, 24, 'the explicit channels are in effect');
  const { onnx, verification } = await exportOnnxFile(model, join(tmp, 'narrow.onnx'), { imgsz: [96, 128], dynamic: true, opset: 13 });
  assert.deepEqual(onnx.inputShape, ['batch', 3, 'height', 'width']);
  assert.deepEqual(onnx.outputShape, ['batch', 'anchors', 8]);
  assert.deepEqual(
    verification.map((r) => [r.batch, r.height, r.width]),
    [
      [1, 96, 128],
      [2, 64, 96],
    ],
  );
  for (const r of verification) assert.ok(r.ok, `max abs diff ${r.maxAbsDiff} at [${r.batch}, 3, ${r.height}, ${r.width}]`);
  const decoded = decodeModel(onnx.bytes);
  assert.ok(ops(decoded).includes('LeakyRelu') && ops(decoded).includes('Range'), 'leaky activations; the grid computed in the graph');
  assert.equal(count(decoded, 'MaxPool'), 2);
});

test('channel gates fold into the consuming convolutions; Mul nodes remain only where folding is not exact', async () => {
  manualSeed(2);
  const config = validateModelConfig(parse(NARROW_YAML), 'narrow.yaml');
  const model = new DetectionModel(config);
  randomizeBatchNorm(model);
  const convs = [...model.namedModules()].map(([, m]) => m).filter((m): m is Conv => m instanceof Conv);
  for (const conv of convs) {
    const gate = conv.addGate();
    noGrad(() => gate.weight.copy_(rand([conv.outChannels]).mul(1.5).add(0.1)));
  }
  const positive = exportOnnx(model, { imgsz: 64 });
  const { verification } = await exportOnnxFile(model, join(tmp, 'gated.onnx'), { imgsz: 64 });
  assert.ok(verification[0]!.ok, `max abs diff ${verification[0]!.maxAbsDiff}`);
  // Gated tensors read by residual Adds cannot absorb their gates: in layer 2 (C3 with 2 bottlenecks) the C3's
  // cv1 output and both residual branches, in layer 4 (Bottleneck) its input and its branch. Everything else folds.
  assert.equal(positive.gates.mulNodes, 5);
  assert.ok(positive.gates.foldedIntoConvs >= convs.length - positive.gates.mulNodes);
  const decoded = decodeModel(positive.bytes);
  const gateMuls = decoded.graph.node.filter((n) => n.op_type === 'Mul' && n.input.some((i) => i.endsWith('_scale')));
  assert.equal(gateMuls.length, 5);

  // A negative gate before max pooling does not commute with it: the pooled input is scaled explicitly.
  noGrad(() => convs.forEach((conv) => conv.gate!.weight.copy_(rand([conv.outChannels]).mul(2).sub(1))));
  const mixed = await exportOnnxFile(model, join(tmp, 'gated-signed.onnx'), { imgsz: 64, dynamic: true });
  for (const r of mixed.verification) assert.ok(r.ok, `max abs diff ${r.maxAbsDiff}`);
  assert.ok(mixed.onnx.gates.mulNodes > 5);
});

test('export rejects sizes off the stride grid and unsupported opsets with clear errors', () => {
  const model = new DetectionModel(validateModelConfig(parse(NARROW_YAML), 'narrow.yaml'));
  assert.throws(() => exportOnnx(model, { imgsz: 100 }), /image height must be a positive multiple of 32 .*, got 100/);
  assert.throws(() => exportOnnx(model, { opset: 9 }), /opset 9 is not supported/);
  assert.throws(() => exportOnnx(model, { batchSize: 0 }), /batch size must be a positive integer, got 0/);
});

test('class names in metadata: the official Python dict literal written, JSON and Python lists read', () => {
  const names = ['person', "it's", 'back\\slash', 'say "hi"'];
  const written = formatNames(names);
  assert.equal(written, "{0: 'person', 1: 'it\\'s', 2: 'back\\\\slash', 3: 'say \"hi\"'}");
  assert.deepEqual(parseNames(written, 'm.onnx'), names);
  assert.deepEqual(parseNames('["a", "b"]', 'm.onnx'), ['a', 'b']);
  assert.deepEqual(parseNames('{"1": "b", "0": "a"}', 'm.onnx'), ['a', 'b']);
  assert.deepEqual(parseNames("['a', \"b\"]", 'm.onnx'), ['a', 'b']);
  assert.throws(() => parseNames("{0: 'a', 2: 'c'}", 'm.onnx'), /m\.onnx: class names must cover the indices 0\.\.n-1 without gaps/);
  assert.throws(() => parseNames('person, car', 'm.onnx'), /m\.onnx: class names 'person, car' are neither JSON nor a Python dict\/list/);
  assert.throws(() => readMetadata([], 'm.onnx'), /m\.onnx: ONNX metadata lacks 'stride' and 'names'/);
  assert.throws(() => readMetadata([{ key: 'names', value: "['a']" }], 'm.onnx'), /m\.onnx: ONNX metadata lacks 'stride' \(export/);
  for (const stride of ['abc', '1e300', '0', '4096', '-32']) {
    assert.throws(() => readMetadata([{ key: 'stride', value: stride }, { key: 'names', value: "['a']" }], 'm.onnx'), new RegExp(`m\\.onnx: ONNX metadata 'stride' is '${stride}', not a whole number from 1 to 1024`));
  }
});

test('ONNX files with lying metadata or unusual inputs are refused at load, naming the file and the problem', async () => {
  const model = new DetectionModel({ ...loadModelConfig('yolov5n'), width_multiple: 0.125 }, { nc: 2, names: ['a', 'b'] });
  const base = exportOnnx(model.fuse().eval(), { imgsz: [64, 64] }).bytes;
  const variant = (name: string, edit: (m: ModelMessage) => void): string => {
    const m = decodeModel(base);
    edit(m);
    const file = join(tmp, `${name}.onnx`);
    writeFileSync(file, encodeModel(m));
    return file;
  };
  const input = (m: ModelMessage) => m.graph.input[0]!.type.tensor_type;
  const cases: [string, RegExp][] = [
    [variant('three-names', (m) => (m.metadata_props = [{ key: 'stride', value: '32' }, { key: 'names', value: "{0: 'a', 1: 'b', 2: 'c'}" }])), /three-names\.onnx: the metadata names 3 classes but the output has 7 columns per box \(2 classes\)/],
    [variant('uint8-input', (m) => (input(m).elem_type = 2)), /uint8-input\.onnx: ONNX Runtime cannot load the model \(.*uint8/],
    [variant('four-channels', (m) => (input(m).shape!.dim[1] = { dim_value: 4 })), /four-channels\.onnx: expected one image input \[batch, 3, height, width\] \(got \[1, 4, 64, 64\]\)/],
    [variant('huge-stride', (m) => (m.metadata_props = [{ key: 'stride', value: '1e300' }, { key: 'names', value: "['a', 'b']" }])), /huge-stride\.onnx: ONNX metadata 'stride' is '1e300'/],
  ];
  for (const [file, message] of cases) await assert.rejects(load(file), message);
});
