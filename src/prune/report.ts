// The pruning report: report.json (everything), report.md (tables), a plot of mAP50-95 against GFLOPs over the
// rounds, and per-round histograms of the coefficient magnitudes per layer.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { saveFigure } from '../plot/render.js';
import type { Panel } from '../plot/figure.js';
import type { DetectionModel } from '../model/yolo.js';
import { Conv } from '../model/common.js';
import type { Criterion } from './plan.js';
import type { LayerChannels } from './round.js';
import type { RuntimeBenchmark } from '../infer/benchmark.js';

export interface ModelFigures {
  parameters: number;
  gflops: number;
  /** Estimated CPU inference cost in G multiply-add equivalents (convLatencyCost): meaningful as a ratio. */
  latencyCost: number;
  map50: number;
  map: number;
  /** ONNX Runtime latency at batch 1 on a 1280×720 frame letterboxed to 640×384, measured in the same run. */
  onnx?: OnnxLatency;
}

export interface OnnxLatency {
  /** Median of the model's own run. */
  inferenceMs: number;
  /** Median of pre-process + inference + NMS. */
  totalMs: number;
}

/** The report's latency figures from an ONNX Runtime benchmark of the model. */
export function onnxLatencyOf(measured: RuntimeBenchmark): OnnxLatency {
  return { inferenceMs: measured.inference.median, totalMs: measured.total.median };
}

/** The pruned model quantized to INT8 (an ONNX file, validated in ONNX Runtime). */
export interface Int8Figures {
  file: string;
  map50: number;
  map: number;
  onnx?: OnnxLatency;
}

export interface RoundRecord extends ModelFigures {
  round: number;
  lambda: number;
  target: string;
  channels: LayerChannels[];
}

export interface PruneReport {
  settings: Record<string, unknown> & { recipe?: string[] };
  original: ModelFigures;
  rounds: RoundRecord[];
  final: ModelFigures;
  int8?: Int8Figures;
  weights: string;
  /** Wall time of the whole run (resumed sessions added up) and the largest resident memory seen. */
  wallSeconds?: number;
  maxRssBytes?: number;
}

const pct = (part: number, whole: number) => `${((part / whole) * 100).toFixed(1)}%`;

/** The report as markdown; also written to report.md next to report.json and mAP_vs_GFLOPs.png. */
export async function writeReport(report: PruneReport, saveDir: string): Promise<string> {
  const { original: o, final: f } = report;
  const latency = (m: Pick<ModelFigures, 'onnx'>) => (m.onnx ? `${m.onnx.inferenceMs.toFixed(1)} ms / ${m.onnx.totalMs.toFixed(1)} ms (${(1000 / m.onnx.totalMs).toFixed(1)} FPS)` : 'n/a');
  const lines = [
    '# Pruning report',
    '',
    `Settings: ${Object.entries(report.settings)
      .filter(([k, v]) => k !== 'saveDir' && typeof v !== 'object')
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
    '',
    ...(report.settings.recipe?.length ? ['Recipe (chosen where not given):', '', ...report.settings.recipe.map((line) => `- ${line}`), ''] : []),
    ...(report.wallSeconds !== undefined && report.maxRssBytes !== undefined
      ? [`Wall time ${(report.wallSeconds / 60).toFixed(1)} min, max RSS ${(report.maxRssBytes / 2 ** 30).toFixed(2)} GB.`, '']
      : []),
    '| model | parameters | GFLOPs | mAP50 | mAP50-95 | ONNX Runtime inference / end-to-end |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    `| original | ${o.parameters} | ${o.gflops.toFixed(2)} | ${o.map50.toFixed(4)} | ${o.map.toFixed(4)} | ${latency(o)} |`,
    ...report.rounds.map(
      (r) => `| round ${r.round} (${r.target}) | ${r.parameters} | ${r.gflops.toFixed(2)} | ${r.map50.toFixed(4)} | ${r.map.toFixed(4)} | |`,
    ),
    `| **${report.settings.finetuneEpochs === 0 ? 'pruned (no fine-tuning)' : 'pruned, fine-tuned'}** | ${f.parameters} (${pct(f.parameters, o.parameters)}) | ${f.gflops.toFixed(2)} (${pct(f.gflops, o.gflops)}) | ${f.map50.toFixed(4)} | ${f.map.toFixed(4)} | ${latency(f)} |`,
    ...(report.int8 ? [`| pruned + INT8 (ONNX Runtime) | | | ${report.int8.map50.toFixed(4)} | ${report.int8.map.toFixed(4)} | ${latency(report.int8)} |`] : []),
    '',
    f.onnx && o.onnx
      ? `Latency ratio pruned/original (batch 1, 640×384): inference ${(f.onnx.inferenceMs / o.onnx.inferenceMs).toFixed(3)}, ` +
        `end-to-end ${(f.onnx.totalMs / o.onnx.totalMs).toFixed(3)} (end-to-end adds the same image pre-processing and NMS to both)` +
        (report.int8?.onnx ? `; pruned + INT8/original: inference ${(report.int8.onnx.inferenceMs / o.onnx.inferenceMs).toFixed(3)}, end-to-end ${(report.int8.onnx.totalMs / o.onnx.totalMs).toFixed(3)}` : '')
      : '',
    '',
    ...report.rounds.flatMap((r) => [
      `## Round ${r.round}: channels per layer (λ ${r.lambda.toExponential(2)})`,
      '',
      '| layer | before | after |',
      '| --- | ---: | ---: |',
      ...r.channels.map((c) => `| ${c.name} | ${c.before} | ${c.after}${c.after < c.before ? '' : ' (kept)'} |`),
      '',
    ]),
    `Pruned weights: ${report.weights}`,
  ];
  const text = lines.join('\n');
  await writeFile(join(saveDir, 'report.md'), text);
  await writeFile(join(saveDir, 'report.json'), JSON.stringify(report, null, 2));
  const points = [o, ...report.rounds, f];
  const labels = ['original', ...report.rounds.map((r) => `round ${r.round}`), 'fine-tuned'];
  await saveFigure(
    [
      {
        kind: 'scatter',
        title: 'mAP50-95 vs GFLOPs',
        xLabel: 'GFLOPs',
        yLabel: 'mAP50-95',
        x: points.map((p) => p.gflops),
        y: points.map((p) => p.map),
        labels,
        radius: 5,
      },
    ],
    join(saveDir, 'mAP_vs_GFLOPs.png'),
    { panelWidth: 640, panelHeight: 420 },
  );
  return text;
}

/** A histogram of |gate| (or |BN scale|) per gated layer, in a grid, saved as one picture. */
export async function plotGateHistograms(model: DetectionModel, criterion: Criterion, path: string, title: string): Promise<void> {
  const panels: Panel[] = [];
  for (const [name, m] of model.namedModules()) {
    if (!(m instanceof Conv)) continue;
    const source = criterion === 'gate' ? m.gate?.weight : m.bn?.weight;
    if (!source) continue;
    const values = Float32Array.from(source.data() as Float32Array, Math.abs);
    panels.push({ kind: 'histogram', title: name.replace(/^model\./, ''), values, bins: 20, xRange: { min: 0, max: Math.max(1, ...values) } });
  }
  if (panels.length) await saveFigure(panels, path, { columns: 8, panelWidth: 220, panelHeight: 150, title });
}
