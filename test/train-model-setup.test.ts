import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conv } from '../src/model/common.js';
import { DetectionModel } from '../src/model/yolo.js';
import { loadModelConfig } from '../src/model/config.js';
import { loadModel } from '../src/checkpoint/index.js';
import { freezeLayers, prepareModel, rebuildModel } from '../src/train/model-setup.js';
import { WEIGHTS } from './helpers/fixtures.js';

test('official weights transfer onto a 2-class model: every tensor but the class-dependent head convs', async () => {
  const { model: official } = await loadModel(WEIGHTS);
  const { model, pretrained, message } = await prepareModel({ weights: WEIGHTS }, { nc: 2, names: ['a', 'b'] });
  assert.ok(pretrained);
  const total = model.stateDict().size;
  assert.equal(message, `Transferred ${total - 6}/${total} items from ${WEIGHTS}`);
  assert.equal(model.nc, 2);
  assert.deepEqual(model.names, ['a', 'b']);
  const same = (name: string) => assert.deepEqual(model.stateDict().get(name)!.toArray(), official.stateDict().get(name)!.toArray(), name);
  same('model.0.conv.weight');
  same('model.23.cv3.bn.running_var');
  same('model.24.anchors');
  assert.deepEqual(model.detect.heads[0]!.weight.shape, [21, 64, 1, 1]);
});

test('same classes keep the loaded model itself; a config keeps its own anchors; nothing to train is an error', async () => {
  const coco = (await loadModel(WEIGHTS)).model.names;
  const kept = await prepareModel({ weights: WEIGHTS }, { nc: 80, names: coco });
  assert.match(kept.message, /^Transferred (\d+)\/\1 items/);
  const withCfg = await prepareModel({ weights: WEIGHTS, cfg: 'yolov5n' }, { nc: 80, names: coco }, 3);
  // hyp anchors: 3 → placeholder anchors that AutoAnchor replaces; not overwritten by the checkpoint's.
  assert.notDeepEqual(withCfg.model.detect.anchors.toArray(), kept.model.detect.anchors.toArray());
  const scratch = await prepareModel({ cfg: 'yolov5n' }, { nc: 3, names: ['a', 'b', 'c'] });
  assert.equal(scratch.pretrained, false);
  await assert.rejects(prepareModel({}, { nc: 1, names: ['a'] }), /nothing to train/);
});

test('a given (e.g. pruned, gated) model is trained as it is and must match the class count', async () => {
  const model = new DetectionModel(loadModelConfig('yolov5n'), { nc: 2 });
  (new Map(model.namedModules()).get('model.1') as Conv).addGate();
  const prepared = await prepareModel({ model }, { nc: 2, names: ['x', 'y'] });
  assert.equal(prepared.model, model);
  assert.deepEqual(model.names, ['x', 'y']);
  await assert.rejects(prepareModel({ model }, { nc: 3, names: ['x', 'y', 'z'] }), /has 2 classes but the dataset has 3/);
  const rebuilt = rebuildModel(model, { nc: 5 });
  assert.ok((new Map(rebuilt.namedModules()).get('model.1') as Conv).gate !== null, 'rebuilding keeps gates');
  assert.equal(rebuilt.nc, 5);
});

test('--freeze N freezes layers 0..N-1; a list freezes exactly those layers', () => {
  const model = new DetectionModel(loadModelConfig('yolov5n'), { nc: 1 });
  const frozen = freezeLayers(model, [10]);
  assert.ok(frozen.length > 0 && frozen.every((name) => /^model\.[0-9]\./.test(name)));
  const byName = new Map(model.namedParameters());
  assert.equal(byName.get('model.9.cv2.conv.weight')!.requiresGrad, false);
  assert.equal(byName.get('model.10.conv.weight')!.requiresGrad, true);
  const listed = freezeLayers(model, [1, 24]);
  assert.ok(listed.every((name) => name.startsWith('model.1.') || name.startsWith('model.24.')));
  assert.equal(byName.get('model.9.cv2.conv.weight')!.requiresGrad, true, 'refreezing starts from all trainable');
  assert.deepEqual(freezeLayers(model, [0]), []);
});
