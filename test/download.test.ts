// Weights and datasets by name, offline: a local HTTP server on 127.0.0.1 stands in for the release assets (a good
// file, a corrupt one, a stalled one), and a closed port for a refused connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { zipSync } from 'fflate';
import { downloadFile } from '../src/util/download.js';
import { cachedWeightsPath, OFFICIAL_WEIGHTS, resolveWeights } from '../src/checkpoint/official-weights.js';
import { prepareDataset } from '../src/data/dataset-download.js';
import { loadDatasetConfig } from '../src/data/dataset-config.js';

const run = promisify(execFile);
const CLI = resolve('dist/cli/main.js');
const tmp = mkdtempSync(join(tmpdir(), 'download-'));
process.env.YOLOV5_TS_CACHE = join(tmp, 'cache');

const good = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
const corrupt = Buffer.from(good.map((b, i) => (i === 12345 ? b ^ 1 : b)));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const asset = { size: good.length, sha256: sha256(good) };

// A tiny dataset archive as ultralytics publishes them: the dataset's own folder at the top.
const datasetZip = zipSync({ 'tiny/images/val/a.jpg': new Uint8Array([1, 2, 3]), 'tiny/labels/val/a.txt': new TextEncoder().encode('0 0.5 0.5 0.1 0.1\n') }, { level: 0 });
// The same archive with one byte of a stored entry's data changed: its CRC-32 no longer matches.
const damagedZip = datasetZip.slice();
damagedZip[Buffer.from(damagedZip).indexOf('0 0.5 0.5')]! ^= 0x01;

const requests: string[] = [];
let server: Server;
let base = '';
let refused = '';
test.before(async () => {
  server = createServer((req, res) => {
    requests.push(req.url!);
    const file = req.url === '/official/yolov5n.pt' ? 'official' : req.url!.split('/').pop()!;
    if (file === 'stall.bin') {
      // Headers, a first piece, then nothing: the downloader must give up on its own.
      res.writeHead(200, { 'content-length': String(good.length) });
      res.write(good.subarray(0, 1000));
      return;
    }
    const body = {
      'good.bin': good,
      'yolov5n.pt': good,
      'corrupt.bin': corrupt,
      'yolov5s.pt': corrupt,
      'tiny.zip': datasetZip,
      'damaged.zip': damagedZip,
      // The official yolov5n.pt's size with other bytes: the CLI test's hash mismatch.
      official: Buffer.alloc(OFFICIAL_WEIGHTS['yolov5n.pt']!.size, 7),
    }[file];
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A port that was just free: nothing listens there, so connecting is refused.
  const closed = createServer();
  await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
  refused = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise((done) => closed.close(done));
});
test.after(() => {
  server.closeAllConnections();
  server.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Progress output collected instead of printed. */
function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (chunks.push(String(chunk)), done()) });
  return { stream, text: () => chunks.join('') };
}

const leftovers = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.part')) : []);

test('a good file is downloaded, verified and renamed into place', async () => {
  const dest = join(tmp, 'a', 'good.bin');
  const out = sink();
  const result = await downloadFile({ url: `${base}/good.bin`, dest, ...asset, progress: out.stream });
  assert.deepEqual(readFileSync(dest), good);
  assert.equal(result.sha256, asset.sha256);
  assert.match(out.text(), /Downloaded good\.bin \(0\.3 MB, SHA-256 verified\)/);
  assert.deepEqual(leftovers(join(tmp, 'a')), []);
});

test('a corrupt file fails on its SHA-256, naming file and URL, and nothing is kept', async () => {
  const dest = join(tmp, 'b', 'corrupt.bin');
  await assert.rejects(
    downloadFile({ url: `${base}/corrupt.bin`, dest, ...asset, progress: sink().stream }),
    (error: Error) => {
      assert.match(error.message, new RegExp(`^cannot download corrupt\\.bin from ${base}/corrupt\\.bin: the file received does not match corrupt\\.bin's SHA-256 \\(expected ${asset.sha256}, got [0-9a-f]{64}\\)\\. Nothing was kept\\. Download it by hand and put it at ${dest}\\.$`));
      return true;
    },
  );
  assert.ok(!existsSync(dest));
  assert.deepEqual(leftovers(join(tmp, 'b')), []);
});

test('a wrong size announced by the server fails before the body is read', async () => {
  const dest = join(tmp, 'c', 'good.bin');
  await assert.rejects(downloadFile({ url: `${base}/good.bin`, dest, size: 1234, progress: sink().stream }), /the server offers 300000 bytes, but good\.bin has 1234/);
  assert.ok(!existsSync(dest));
});

test('a refused connection, a 404 and a stalled server each fail within seconds', async () => {
  const dest = join(tmp, 'd', 'x.bin');
  const started = Date.now();
  await assert.rejects(downloadFile({ url: `${refused}/x.bin`, dest, progress: sink().stream }), /^Error: cannot download x\.bin from http:\/\/127\.0\.0\.1:\d+\/x\.bin: connection refused \(ECONNREFUSED\)\./);
  await assert.rejects(downloadFile({ url: `${base}/missing.bin`, dest, progress: sink().stream }), /: the server answered HTTP 404 Not Found\./);
  await assert.rejects(
    downloadFile({ url: `${base}/stall.bin`, dest, timeoutMs: 300, progress: sink().stream }),
    /stall\.bin: the transfer broke off after 1000 bytes: no answer from the server for 0\.3 s\./,
  );
  assert.ok(Date.now() - started < 5000);
  assert.ok(!existsSync(dest));
  assert.deepEqual(leftovers(join(tmp, 'd')), []);
});

test('resolveWeights: a local file or an unknown name as given; an official name from the cache, downloaded once', async () => {
  const assets = { 'yolov5n.pt': asset, 'yolov5s.pt': asset };
  process.env.YOLOV5_TS_ASSETS_URL = base;
  try {
    assert.equal(await resolveWeights('my-weights.pt', assets), 'my-weights.pt');
    assert.equal(await resolveWeights('models/yolov5n.pt', assets), 'models/yolov5n.pt');
    const before = requests.length;
    const path = await resolveWeights('yolov5n.pt', assets);
    assert.equal(path, cachedWeightsPath('yolov5n.pt'));
    assert.equal(path, join(tmp, 'cache', 'weights', 'v7.0', 'yolov5n.pt'));
    assert.deepEqual(readFileSync(path), good);
    assert.equal(await resolveWeights('yolov5n.pt', assets), path);
    assert.deepEqual(requests.slice(before), ['/yolov5n.pt']);
    // yolov5s.pt is served corrupt: an error, and no file in the cache.
    await assert.rejects(resolveWeights('yolov5s.pt', assets), (error: Error) => {
      assert.match(error.message, /^cannot download yolov5s\.pt from http:\/\/127\.0\.0\.1:\d+\/yolov5s\.pt: the file received does not match/);
      assert.match(error.message, new RegExp(`Download it by hand \\(${base}/yolov5s\\.pt\\) and put it at ${cachedWeightsPath('yolov5s.pt')}, or pass the path of a local copy to --weights\\.$`));
      return true;
    });
    assert.ok(!existsSync(cachedWeightsPath('yolov5s.pt')));
  } finally {
    delete process.env.YOLOV5_TS_ASSETS_URL;
  }
});

test('the official table: every v7.0 detection checkpoint, each with a size and a full SHA-256', () => {
  const names = ['n', 's', 'm', 'l', 'x'].flatMap((s) => [`yolov5${s}.pt`, `yolov5${s}6.pt`]).sort();
  assert.deepEqual(Object.keys(OFFICIAL_WEIGHTS).sort(), names);
  for (const { size, sha256 } of Object.values(OFFICIAL_WEIGHTS)) {
    assert.ok(Number.isInteger(size) && size > 1e6);
    assert.match(sha256, /^[0-9a-f]{64}$/);
  }
});

test('CLI: an official name offline, or served corrupt, is one clear line within seconds, and nothing is cached', async () => {
  const cwd = join(tmp, 'cli');
  mkdirSync(cwd);
  writeFileSync(join(cwd, 'bus.jpg'), 'the weights fail first'); // --source must exist
  const env = { ...process.env, YOLOV5_TS_CACHE: join(tmp, 'cli-cache') };
  for (const [url, problem] of [
    [refused, 'connection refused \\(ECONNREFUSED\\)'],
    [`${base}/official`, "the file received does not match yolov5n\\.pt's SHA-256"],
  ] as const) {
    const started = Date.now();
    const failed = await run(process.execPath, [CLI, 'detect', '--weights', 'yolov5n.pt', '--source', 'bus.jpg'], {
      cwd,
      env: { ...env, YOLOV5_TS_ASSETS_URL: url },
      timeout: 60_000,
    }).then(
      () => assert.fail('detect should fail'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(failed.code, 1);
    const errors = failed.stderr.split('\n').filter((l) => l.startsWith('yolov5: '));
    assert.equal(errors.length, 1, failed.stderr);
    assert.match(errors[0]!, new RegExp(`^yolov5: cannot download yolov5n\\.pt from ${url}/yolov5n\\.pt: ${problem}.* put it at ${join(tmp, 'cli-cache', 'weights', 'v7.0', 'yolov5n.pt')}`));
    assert.doesNotMatch(failed.stderr, /^\s+at /m);
    assert.ok(Date.now() - started < 20_000);
    assert.deepEqual(readdirSync(join(tmp, 'cli-cache', 'weights', 'v7.0')), []);
  }
});

function writeDatasetYaml(dir: string, download: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'tiny.yaml');
  writeFileSync(file, `path: ../datasets/tiny\ntrain: images/val\nval: images/val\nnames: [thing]\ndownload: ${download}\n`);
  return file;
}

test('a dataset yaml whose images are missing gets its download: zip unpacked beside its path', async () => {
  const yaml = writeDatasetYaml(join(tmp, 'ds1', 'project'), `${base}/tiny.zip`);
  assert.equal(await prepareDataset(yaml), yaml);
  const root = join(tmp, 'ds1', 'datasets', 'tiny');
  assert.deepEqual(readFileSync(join(root, 'images', 'val', 'a.jpg')), Buffer.from([1, 2, 3]));
  assert.deepEqual(readdirSync(join(tmp, 'ds1', 'datasets')), ['tiny']);
  assert.equal(loadDatasetConfig(yaml).root, root);
  // Present now: a second call downloads nothing.
  const before = requests.length;
  await prepareDataset(yaml);
  assert.equal(requests.length, before);
});

test('a damaged dataset zip, a refused download or a download script: clear errors, nothing unpacked', async () => {
  const damaged = writeDatasetYaml(join(tmp, 'ds2', 'project'), `${base}/damaged.zip`);
  await assert.rejects(prepareDataset(damaged), /damaged\.zip \(saved as .*\): damaged archive \(.*CRC/);
  assert.deepEqual(readdirSync(join(tmp, 'ds2', 'datasets')), []);

  const offline = writeDatasetYaml(join(tmp, 'ds3', 'project'), `${refused}/tiny.zip`);
  await assert.rejects(prepareDataset(offline), /cannot download tiny\.zip from .*: connection refused \(ECONNREFUSED\)\. Nothing was kept\. Download it by hand \(.*\) and unpack it in .*ds3\/datasets, so that .*ds3\/datasets\/tiny holds the dataset\.$/);
  assert.deepEqual(readdirSync(join(tmp, 'ds3', 'datasets')), []);

  const script = writeDatasetYaml(join(tmp, 'ds4', 'project'), 'bash data/scripts/get_coco.sh');
  await assert.rejects(prepareDataset(script), /tiny\.yaml: the dataset is not at .*ds4\/datasets\/tiny \(missing .*\); its download is a script, which yolov5-ts does not run/);
});

test('coco128.yaml by name: the shipped yaml, copied into the cache with its download URL', async () => {
  const cwd = process.cwd();
  const elsewhere = join(tmp, 'empty');
  mkdirSync(elsewhere);
  process.chdir(elsewhere);
  try {
    // The shipped yaml points at ultralytics.com, which a test must not reach: the dataset is put in place first.
    const images = join(tmp, 'cache', 'datasets', 'coco128', 'images', 'train2017');
    mkdirSync(images, { recursive: true });
    const yaml = await prepareDataset('coco128.yaml');
    assert.equal(yaml, join(tmp, 'cache', 'datasets', 'coco128.yaml'));
    const config = loadDatasetConfig(yaml);
    assert.equal(config.root, join(tmp, 'cache', 'datasets', 'coco128'));
    assert.equal(config.names.length, 80);
    assert.match(readFileSync(yaml, 'utf8'), /^download: https:\/\/ultralytics\.com\/assets\/coco128\.zip$/m);
  } finally {
    process.chdir(cwd);
  }
});
