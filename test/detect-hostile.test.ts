// Hostile and odd inputs to `yolov5 detect` through the built CLI (dist/cli/main.js): a degenerate image, streams
// that stall or stay silent (served by the test on 127.0.0.1), and Ctrl-C while a stream hangs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { saveCheckpoint } from '../src/checkpoint/index.js';
import { loadModelConfig } from '../src/model/config.js';
import { DetectionModel } from '../src/model/yolo.js';

const CLI = 'dist/cli/main.js';
const tmp = mkdtempSync(join(tmpdir(), 'detect-hostile-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

// An untrained yolov5n with 2 classes: what it detects does not matter here, only that every input is handled.
const weights = join(tmp, 'tiny.safetensors');
const clip = join(tmp, 'clip.ts');
test.before(async () => {
  await saveCheckpoint(weights, new DetectionModel(loadModelConfig('yolov5n'), { nc: 2, names: ['a', 'b'] }));
  // 15 s of 64x48 video at 2 fps as MPEG-TS: longer than ffprobe's 5 s analysis window, so probing a stalled copy
  // succeeds, and few frames, so that a busy machine gets through them quickly.
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=2', '-frames:v', '30', '-c:v', 'mpeg4', '-f', 'mpegts', clip]);
});

/** Runs the CLI to its end: exit code and output, whatever the code (so that a failure shows what was printed). */
function detect(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { timeout: 900_000 }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

const args = (source: string, name: string, ...more: string[]) => [CLI, 'detect', '--weights', weights, '--img', '64', '--project', join(tmp, 'runs'), '--name', name, '--source', source, ...more];

/** Processes whose command line mentions `text` (ffmpeg children left behind would show up here). */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(text)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

function frameCount(video: string): number {
  return Number(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', video], { encoding: 'utf8' }).trim());
}

/** An HTTP server that sends the clip and then stalls with the connection open, as a hung camera does. */
async function stallingServer(): Promise<{ url: string; close: () => void }> {
  const data = readFileSync(clip);
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'video/mp2t' });
    response.write(data);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/cam.ts`, close: () => server.close() && server.closeAllConnections() };
}

test('a degenerate image (1x8000) is a warning and a skip; the sources after it are still processed', async () => {
  const folder = join(tmp, 'images');
  mkdirSync(folder);
  const pixels = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: { r: 90, g: 140, b: 200 } } });
  await pixels(64, 48).jpeg().toFile(join(folder, 'a.jpg'));
  await pixels(1, 8000).png().toFile(join(folder, 'b-thin.png'));
  await pixels(48, 64).jpeg().toFile(join(folder, 'c.jpg'));
  const { code, stdout, stderr } = await detect(args(folder, 'thin'));
  assert.equal(code, 0, stdout + stderr);
  assert.match(stdout, /WARNING: skipping .*b-thin\.png: image size 1x8000 is smaller than 10 pixels/);
  assert.match(stdout, /^image 1\/3 .*a\.jpg: /m);
  assert.match(stdout, /^image 3\/3 .*c\.jpg: /m);
});

test('a stream that stalls with the connection open is given up after --read-timeout; its video is finished', async () => {
  const server = await stallingServer();
  try {
    // 10 s, not less: on a busy machine the start-up of ffprobe and ffmpeg counts against the timeout.
    const { code, stdout, stderr } = await detect(args(server.url, 'stall', '--read-timeout', '10'));
    assert.equal(code, 0, stdout + stderr);
    const frames = stdout.split('\n').filter((l) => l.startsWith('stream 1/1 (frame ')).length;
    assert.ok(frames > 0, stdout);
    assert.match(stdout, new RegExp(`WARNING: skipping ${server.url}: stopped after frame ${frames}: no data for 10 s, giving up \\(the stream stalled\\)`));
    assert.equal(frameCount(join(tmp, 'runs', 'stall', 'cam.mp4')), frames);
    assert.deepEqual(processesMentioning(server.url), []);
  } finally {
    server.close();
  }
});

test('Ctrl-C on a stalled stream finishes the video, ends ffmpeg and exits with 130', async () => {
  const server = await stallingServer();
  try {
    // In a process group of its own, so that SIGINT goes to the whole group as a terminal's Ctrl-C does.
    // A long --read-timeout: this test waits for the stall itself, and a starved machine must not time out first.
    const child = spawn(process.execPath, args(server.url, 'interrupted', '--read-timeout', '600'), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let lastOutput = Date.now();
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      lastOutput = Date.now();
    });
    child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    let ended = false;
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    void exited.then(() => (ended = true));
    // Wait until frames came and then stopped coming: the stream has stalled (the default timeout is 30 s).
    const deadline = Date.now() + 900_000;
    while (!(stdout.includes('(frame ') && Date.now() - lastOutput > 1500)) {
      assert.ok(Date.now() < deadline && !ended, `no stall seen: ${stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    process.kill(-child.pid!, 'SIGINT');
    // Generous: tearing down a libtorch process can take many seconds on a starved machine.
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 300_000);
    const [code] = await exited;
    clearTimeout(timer);
    assert.equal(code, 130, stdout);
    assert.doesNotMatch(stdout, /WARNING/);
    const frames = stdout.split('\n').filter((l) => l.startsWith('stream 1/1 (frame ')).length;
    assert.match(stdout, /Results saved to /);
    assert.equal(frameCount(join(tmp, 'runs', 'interrupted', 'cam.mp4')), frames);
    assert.deepEqual(processesMentioning(server.url), []);
  } finally {
    server.close();
  }
});

test('a stream server that accepts and stays silent is given up with a message saying so', async () => {
  const sockets: Socket[] = [];
  const server = createTcpServer((socket) => sockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/live`;
  try {
    const { code, stdout, stderr } = await detect(args(url, 'silent', '--read-timeout', '1'));
    assert.equal(code, 1, stdout + stderr);
    assert.match(stdout, new RegExp(`WARNING: skipping ${url}: ffprobe found no video within 1 s`));
    assert.match(stderr, /no image or video frame of .* could be processed/);
    assert.deepEqual(processesMentioning(url), []);
  } finally {
    sockets.forEach((s) => s.destroy());
    server.close();
  }
});
