// The demo's closing summary: original vs pruned side by side, where everything was written, how long each stage took.
import { dirname, isAbsolute, join, relative } from 'node:path';
import type { DemoModel, DemoResult } from './result.js';
import { BENCHMARK_INPUT } from './plan.js';

/** A path relative to the working directory when it lies below it (shorter to read), else absolute. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

const percent = (part: number, whole: number) => `${((part / whole) * 100).toFixed(1)}%`;

function table(rows: string[][], rightAligned: boolean[]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (rightAligned[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('   ').trimEnd());
}

export function formatSummary(result: DemoResult): string {
  const { original: o, pruned: p, int8: q, plan } = result;
  const [h, w] = BENCHMARK_INPUT;
  const row = (name: string, m: DemoModel) => [
    name,
    m.parameters.toLocaleString('en-US'),
    m.gflops.toFixed(3),
    m.map50.toFixed(3),
    m.map.toFixed(3),
    m.latency.inference.median.toFixed(1),
    m.latency.total.median.toFixed(1),
    m.latency.fps.toFixed(1),
  ];
  const lines = table(
    [
      ['', 'parameters', `GFLOPs (${plan.imgsz} px)`, 'mAP50', 'mAP50-95', 'inference ms', 'total ms', 'FPS'],
      row('original', o),
      row('pruned', p),
      [
        'pruned / original',
        percent(p.parameters, o.parameters),
        percent(p.gflops, o.gflops),
        percent(p.map50, o.map50),
        percent(p.map, o.map),
        percent(p.latency.inference.median, o.latency.inference.median),
        percent(p.latency.total.median, o.latency.total.median),
        `${(p.latency.fps / o.latency.fps).toFixed(2)}×`,
      ],
      row('pruned + INT8', { ...p, ...q }),
    ],
    [false, true, true, true, true, true, true, true],
  );
  const found = (m: DemoModel) => `${m.detections.found} of ${m.detections.labelled}`;
  const stages = result.stages.map((s) => `${s.stage} ${s.seconds.toFixed(0)} s`).join(', ');
  return [
    '## yolov5 demo: original vs pruned',
    '',
    ...lines,
    '',
    `mAP on the ${result.dataset.val} synthetic validation images at ${plan.imgsz} px. ONNX Runtime (${o.latency.threads} threads), ` +
      `batch 1, a 1280×720 frame letterboxed to ${w}×${h}: median of ${o.latency.runs} runs, total = pre-process + inference + NMS; ` +
      `GFLOPs at that size ${o.benchmarkGflops.toFixed(2)} → ${p.benchmarkGflops.toFixed(2)}. ` +
      `INT8: the pruned network quantized (ONNX QDQ, calibrated on training images), its mAP from ONNX Runtime.`,
    `Held-out images: the original found ${found(o)} labelled objects, the pruned model ${found(p)} (same class, IoU ≥ 0.5).`,
    '',
    `pruning report     ${shown(result.prune.report)} (and report.json)`,
    `plots              ${[result.prune.plot, ...result.prune.gates].map(shown).join(', ')}`,
    `ONNX models        ${shown(o.onnx)}, ${shown(p.onnx)}, ${shown(q.onnx)} (INT8)`,
    `annotated images   ${[o, p].map((m) => join(shown(dirname(m.detections.images[0]!.annotated)), '*.jpg')).join(', ')}`,
    `weights            ${shown(result.trainWeights)} (trained), ${shown(result.prune.weights)} (pruned)`,
    '',
    `Time: ${stages}; total ${(result.seconds / 60).toFixed(1)} min.`,
  ].join('\n');
}
