// Image inputs given as http(s) URLs, served by the test itself on 127.0.0.1: results as from the file, and clear
// errors for an HTTP error, a page that is no image, a download past its deadline or its size cap, no server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { load, runDetect, type Detector } from '../src/index.js';
import { BUS, WEIGHTS, ZIDANE } from './helpers/fixtures.js';
import { freePort } from './helpers/free-port.js';

const bus = readFileSync(BUS);
let server: Server;
let base: string;
let detector: Detector;

test.before(async () => {
  server = createServer((request, response) => {
    switch (request.url) {
      case '/images/bus.jpg?size=full':
        response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': bus.length }).end(bus);
        return;
      case '/chunked/bus.jpg':
        // No Content-Length: the size cap must be kept while reading.
        response.writeHead(200, { 'content-type': 'image/jpeg' });
        response.write(bus.subarray(0, 50_000));
        response.end(bus.subarray(50_000));
        return;
      case '/page.html':
        response.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>not an image</body></html>');
        return;
      case '/slow.jpg':
        // Headers, part of the body, then silence.
        response.writeHead(200, { 'content-type': 'image/jpeg' });
        response.write(bus.subarray(0, 1000));
        return;
      default:
        response.writeHead(404, { 'content-type': 'text/plain' }).end('no such image');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  detector = await load(WEIGHTS, { runtime: 'onnxruntime' });
});

test.after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await detector.dispose();
});

test('a URL string or URL object gives the detections of the file, its source the URL', async () => {
  const url = `${base}/images/bus.jpg?size=full`;
  const [fromFile, fromString, fromUrl] = [await detector.detect(BUS), await detector.detect(url), await detector.detect(new URL(url))];
  assert.equal(fromFile.boxes.length, 5);
  assert.deepEqual(fromString.boxes, fromFile.boxes);
  assert.deepEqual(fromUrl.boxes, fromFile.boxes);
  assert.equal(fromString.source, url);
  assert.equal(fromUrl.source, url);
  assert.ok(fromString.timings.decode > 0);
  // A file: URL is a path.
  assert.deepEqual((await detector.detect(pathToFileURL(ZIDANE))).boxes, (await detector.detect(ZIDANE)).boxes);
  // URLs mix with other inputs in a batch.
  const [a, b] = await detector.detect([url, BUS]);
  assert.deepEqual(a!.boxes, b!.boxes);
});

test('the size cap holds with and without a Content-Length', async () => {
  const options = { fetch: { maxBytes: 100_000 } };
  await assert.rejects(detector.detect(`${base}/images/bus.jpg?size=full`, options), (error: Error) => {
    assert.equal(error.message, `${base}/images/bus.jpg?size=full: the image is 0.5 MB, over the 0.1 MB limit`);
    return true;
  });
  await assert.rejects(detector.detect(`${base}/chunked/bus.jpg`, options), new RegExp(`^Error: ${base}/chunked/bus\\.jpg: the image is over the 0\\.1 MB limit$`));
  assert.equal((await detector.detect(`${base}/chunked/bus.jpg`)).boxes.length, 5);
});

test('HTTP errors, pages that are no image, timeouts and absent servers are named with their URL', async () => {
  await assert.rejects(detector.detect(`${base}/absent.jpg`), new RegExp(`^Error: ${base}/absent\\.jpg: HTTP 404 Not Found$`));
  await assert.rejects(detector.detect(`${base}/page.html`), new RegExp(`^Error: ${base}/page\\.html \\(38 bytes, Content-Type text/html\\): cannot decode image`));
  const started = Date.now();
  await assert.rejects(detector.detect(`${base}/slow.jpg`, { fetch: { timeoutMs: 300 } }), new RegExp(`^Error: ${base}/slow\\.jpg: no complete answer within 300 ms \\(timeout\\)$`));
  assert.ok(Date.now() - started < 5000);
  const closed = `http://127.0.0.1:${await freePort()}/bus.jpg`;
  await assert.rejects(detector.detect(closed), new RegExp(`^Error: ${closed.replace(/[.?]/g, '\\$&')}: cannot fetch \\(ECONNREFUSED\\)$`));
  await assert.rejects(detector.detect(new URL('ftp://127.0.0.1/bus.jpg')), /^Error: ftp:\/\/127\.0\.0\.1\/bus\.jpg: only http, https and file URLs can be read$/);
  await assert.rejects(detector.detect(`${base}/absent.jpg`, { fetch: { timeoutMs: -1 } }), /fetch\.timeoutMs must be a positive integer, got -1/);
  await assert.rejects(detector.detect([BUS, `${base}/absent.jpg`]), /^Error: inputs\[1\]: http:\/\/127\.0\.0\.1:\d+\/absent\.jpg: HTTP 404 Not Found$/);
});

test('detect --source with an image URL fetches it as a file (as YOLOv5 does), names its outputs after the URL path', async () => {
  const project = mkdtempSync(join(tmpdir(), 'detect-url-'));
  try {
    const lines: string[] = [];
    const summary = await runDetect({ weights: WEIGHTS, source: `${base}/images/bus.jpg?size=full`, project, saveTxt: true, log: (line) => lines.push(line) });
    assert.equal(summary.processed, 1);
    assert.deepEqual(summary.skipped, []);
    assert.match(lines.join('\n'), /image 1\/1 http:\/\/127\.0\.0\.1:\d+\/images\/bus\.jpg\?size=full: \d+x\d+ 4 persons, 1 bus/);
    assert.ok(existsSync(join(summary.saveDir, 'bus.jpg')));
    assert.ok(existsSync(join(summary.saveDir, 'labels', 'bus.txt')));
    // A missing image is skipped with the HTTP status, and nothing else to process is an error naming the source.
    await assert.rejects(runDetect({ weights: WEIGHTS, source: `${base}/missing.jpg`, project, log: () => undefined }), /no image or video frame of http:\/\/127\.0\.0\.1:\d+\/missing\.jpg could be processed/);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});
