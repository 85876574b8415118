// Where ONNX Runtime spends a model's inference time (`node dist-test/bench/onnx-profile.js --weights W`): kernel
// time per operator type and the slowest nodes, from ONNX Runtime's own profiler, at batch 1 on a 640×384 input.
// Pruning shrinks convolutions and activations; what does not shrink (the stem, the Detect decode) bounds the
// latency a pruned model can reach.
// Options: --weights ../shared/weights/yolov5n.pt  --runs 20  --threads 1  --top 15
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { loadModel } from '../src/checkpoint/index.js';
import { exportOnnx } from '../src/export/index.js';

const { values } = parseArgs({
  options: {
    weights: { type: 'string', default: '../shared/weights/yolov5n.pt' },
    runs: { type: 'string', default: '20' },
    threads: { type: 'string', default: '1' },
    top: { type: 'string', default: '15' },
  },
});
const runs = Number(values.runs);
const { model } = await loadModel(values.weights);
const onnx = exportOnnx(model.fuse().eval(), { imgsz: [384, 640] });
const dir = mkdtempSync(join(tmpdir(), 'onnx-profile-'));
const session = await InferenceSession.create(onnx.bytes, {
  intraOpNumThreads: Number(values.threads),
  enableProfiling: true,
  profileFilePrefix: join(dir, 'profile'),
});
const input = new OrtTensor('float32', new Float32Array(3 * 384 * 640).fill(0.5), [1, 3, 384, 640]);
for (let i = 0; i < runs; i++) await session.run({ [session.inputNames[0]!]: input });
session.endProfiling();
await session.release();

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  args: { op_name?: string };
}
const file = readdirSync(dir).find((f) => f.endsWith('.json'))!;
const events = (JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[]).filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
rmSync(dir, { recursive: true, force: true });

const sum = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
const byType = new Map<string, number>();
const byNode = new Map<string, number>();
let total = 0;
for (const e of events) {
  sum(byType, e.args.op_name ?? '?', e.dur);
  sum(byNode, e.name.replace(/_kernel_time$/, ''), e.dur);
  total += e.dur;
}
const ms = (us: number) => (us / runs / 1000).toFixed(2).padStart(8);
console.log(`${values.weights}: ${ms(total)} ms kernel time per run (${runs} runs, ${values.threads} thread(s), 1×3×384×640)`);
for (const [type, us] of [...byType].sort((a, b) => b[1] - a[1])) console.log(`${type.padEnd(20)}${ms(us)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%`);
console.log(`slowest nodes:`);
for (const [node, us] of [...byNode].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`${node.padEnd(44)}${ms(us)} ms`);
