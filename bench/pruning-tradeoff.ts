// Accuracy against cost of several pruning runs of one base model, in one plot and one table
// (`node dist-test/bench/pruning-tradeoff.js --data D --control C --pipeline r75/report.json r50/report.json …`):
// the control (the base trained as long as the pipeline, nothing pruned), the pipeline at several targets, and for
// comparison BatchNorm-γ slimming and one-shot pruning (reports of `yolov5 prune --criterion bn` and `--epochs 0`).
// GFLOPs are relative to the base model's. Options: --data D --imgsz 320 --control W --pipeline R… --bn R…
// --oneshot R… --out docs/results/highway/tradeoff.png
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadModel } from '../src/checkpoint/index.js';
import { gflops } from '../src/model/summary.js';
import { validate } from '../src/val/validator.js';
import { saveFigure } from '../src/plot/render.js';
import { legendWidth, type Series } from '../src/plot/figure.js';
import type { ModelFigures, PruneReport } from '../src/prune/report.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    imgsz: { type: 'string', default: '320' },
    control: { type: 'string' },
    pipeline: { type: 'string', multiple: true, default: [] },
    bn: { type: 'string', multiple: true, default: [] },
    oneshot: { type: 'string', multiple: true, default: [] },
    out: { type: 'string', default: 'docs/results/highway/tradeoff.png' },
  },
});
if (!values.data || !values.control) throw new Error('--data and --control are required');
const imgsz = Number(values.imgsz);
const read = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as PruneReport;
const groups = { pipeline: values.pipeline.map(read), bn: values.bn.map(read), oneshot: values.oneshot.map(read) };
const base = [...groups.pipeline, ...groups.bn, ...groups.oneshot][0]?.original;
if (!base) throw new Error('give at least one prune report');

const { model } = await loadModel(values.control);
const metrics = await validate(model, { data: values.data, imgsz, batchSize: 32, quiet: true });
const control: ModelFigures = { parameters: model.numParameters(), gflops: gflops(model, imgsz), latencyCost: 0, map50: metrics.map50, map: metrics.map };

const share = (m: ModelFigures) => (100 * m.gflops) / base.gflops;
const byCost = (reports: PruneReport[]) => [...reports].sort((a, b) => a.final.gflops - b.final.gflops);
const series = (label: string, points: ModelFigures[], colour: string, dashed = false): Series => ({
  label,
  x: points.map(share),
  y: points.map((m) => m.map),
  colour,
  markers: true,
  dashed,
});
const budget = groups.pipeline[0]?.settings.epochs;
const lines: Series[] = [
  series('base', [base], '#7f7f7f'),
  series('control (base trained on, nothing pruned)', [control], '#000000'),
  series(`sparsity training + pruning${budget !== undefined ? ` (${budget} epochs)` : ''}`, [...byCost(groups.pipeline).map((r) => r.final), control], '#1f77b4'),
  series('BN-γ slimming, same budget', byCost(groups.bn).map((r) => r.final), '#ff7f0e'),
  series('one-shot, no training', byCost(groups.oneshot).map((r) => r.final), '#d62728', true),
].filter((s) => s.x.length > 0);
// The legend beside the plot: inside it would cover the base and control at 100%.
const legend = legendWidth(lines.map((s) => s.label ?? ''));
await saveFigure(
  [{ kind: 'lines', title: 'mAP50-95 against GFLOPs', xLabel: '% of the base model\'s GFLOPs', yLabel: 'mAP50-95 (val)', series: lines, xRange: { min: 0, max: 105 }, legend: 'outside' }],
  values.out,
  { panelWidth: 700 + legend, panelHeight: 480, margin: { right: legend + 24 } },
);

console.log('| model | GFLOPs | % | parameters | mAP50 | mAP50-95 |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
const row = (name: string, m: ModelFigures) =>
  console.log(`| ${name} | ${m.gflops.toFixed(3)} | ${share(m).toFixed(1)} | ${m.parameters} | ${m.map50.toFixed(4)} | ${m.map.toFixed(4)} |`);
row('base', base);
row('control', control);
for (const [name, reports] of Object.entries(groups)) for (const r of byCost(reports)) row(`${name} (${String(r.settings.targetFlops ?? '')})`, r.final);
console.log(`Wrote ${values.out}`);
