import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { labelPathFor, listImageFiles, loadDatasetConfig, splitImageFiles } from '../src/data/dataset-config.js';
import { COCO32 } from './helpers/fixtures.js';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'yolov5-dataset-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test('a COCO yaml: paths resolve against the yaml folder, names list gives nc', () => {
  const config = loadDatasetConfig(COCO32);
  assert.equal(config.nc, 80);
  assert.equal(config.names[0], 'person');
  assert.equal(config.names[79], 'toothbrush');
  assert.equal(config.splits.val[0], join(dirname(COCO32), 'images', 'val2017'));
  assert.deepEqual(config.splits.test, []);
  const files = splitImageFiles(config, 'val');
  assert.equal(files.length, 32);
  assert.deepEqual(files, [...files].sort());
});

test('names as a map, path relative to the yaml, list files and lists of sources', () => {
  const root = tree({
    'cfg/data.yaml': 'path: ../ds\ntrain: [images/a, train.txt]\nval: images/b\ntest: null\nnames:\n  1: dog\n  0: cat\n',
    'ds/images/a/x.jpg': '',
    'ds/images/a/sub/y.PNG': '',
    'ds/images/a/notes.txt': '',
    'ds/images/b/z.webp': '',
    'ds/train.txt': './images/extra/w.jpg\nimages/extra/v.bmp\n\n/abs/u.tif\nreadme.md\n',
  });
  const config = loadDatasetConfig(join(root, 'cfg/data.yaml'));
  assert.deepEqual(config.names, ['cat', 'dog']);
  assert.equal(config.nc, 2);
  assert.equal(config.root, join(root, 'ds'));
  assert.deepEqual(splitImageFiles(config, 'train'), [
    '/abs/u.tif',
    join(root, 'ds/images/a/sub/y.PNG'),
    join(root, 'ds/images/a/x.jpg'),
    join(root, 'ds/images/extra/v.bmp'),
    join(root, 'ds/images/extra/w.jpg'),
  ]);
  assert.deepEqual(splitImageFiles(config, 'val'), [join(root, 'ds/images/b/z.webp')]);
  assert.throws(() => splitImageFiles(config, 'test'), /data\.yaml: no 'test' split defined/);
});

test('missing or wrong keys name the yaml file and the key', () => {
  const root = tree({
    'no-val.yaml': 'train: a\nnames: [x]\n',
    'no-names.yaml': 'train: a\nval: a\n',
    'bad-nc.yaml': 'train: a\nval: a\nnc: 3\nnames: [x, y]\n',
    'bad-map.yaml': 'train: a\nval: a\nnames: {0: x, 2: y}\n',
    'bad-split.yaml': 'train: a\nval: [a, 3]\nnames: [x]\n',
    'not-a-map.yaml': '- a\n- b\n',
  });
  assert.throws(() => loadDatasetConfig(join(root, 'no-val.yaml')), (e: Error) => e.message.includes('no-val.yaml') && e.message.includes("missing key 'val'"));
  assert.throws(() => loadDatasetConfig(join(root, 'no-names.yaml')), /no-names\.yaml: missing key 'names'/);
  assert.throws(() => loadDatasetConfig(join(root, 'bad-nc.yaml')), /bad-nc\.yaml: key 'nc' is 3 but 'names' lists 2 classes/);
  assert.throws(() => loadDatasetConfig(join(root, 'bad-map.yaml')), /bad-map\.yaml: names must map the class indices 0\.\.1 to names, got key '2'/);
  assert.throws(() => loadDatasetConfig(join(root, 'bad-split.yaml')), /bad-split\.yaml: key 'val'\[1\] must be a path/);
  assert.throws(() => loadDatasetConfig(join(root, 'not-a-map.yaml')), /not-a-map\.yaml: expected a mapping/);
  assert.throws(() => loadDatasetConfig(join(root, 'absent.yaml')), /absent\.yaml does not exist/);
});

test('a missing image folder or an empty one is an error naming it', () => {
  const root = tree({ 'data.yaml': 'train: images/train\nval: images/none\nnames: [x]\n', 'images/train/readme.md': '' });
  const config = loadDatasetConfig(join(root, 'data.yaml'));
  assert.throws(() => splitImageFiles(config, 'val'), (e: Error) => e.message.includes(join(root, 'images/none')) && e.message.includes('does not exist'));
  assert.throws(() => splitImageFiles(config, 'train'), /no images .* found in .*images\/train/);
  assert.throws(() => listImageFiles([]), /no image folder or list given/);
});

test('label path: the last /images/ becomes /labels/, the extension .txt', () => {
  assert.equal(labelPathFor('/d/images/train/a.jpg'), '/d/labels/train/a.txt');
  assert.equal(labelPathFor('/images/x/images/b.v1.PNG'), '/images/x/labels/b.v1.txt');
  assert.equal(labelPathFor('/d/pics/c.jpeg'), '/d/pics/c.txt');
});
