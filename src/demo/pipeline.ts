// `yolov5 demo`: the project's promise end to end, on data it makes itself — a synthetic dataset, a small YOLOv5
// trained from scratch, pruned to about half its GFLOPs and fine-tuned, both models exported to ONNX, timed side
// by side in ONNX Runtime (with the pruned model quantized to INT8 as a third) and run on held-out images — ending
// with one table comparing them.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { generateSynthDataset } from '../data/synth.js';
import { loadDatasetConfig, splitImageFiles } from '../data/dataset-config.js';
import { train } from '../train/trainer.js';
import { DEFAULT_HYP, loadHyp } from '../train/hyp.js';
import { prunePipeline } from '../prune/pipeline.js';
import { onnxLatencyOf, writeReport, type ModelFigures } from '../prune/report.js';
import { loadModel } from '../checkpoint/index.js';
import { gflops } from '../model/summary.js';
import { exportOnnxFile } from '../export/index.js';
import { exportInt8File } from '../export/int8.js';
import { validateOnnxFile } from '../infer/backend.js';
import { compareOnnxLatency } from '../infer/benchmark.js';
import { detectAndDraw } from './detections.js';
import { BENCHMARK_IMGSZ, BENCHMARK_INPUT, FAST_PLAN, FULL_PLAN } from './plan.js';
import { formatSummary } from './summary.js';
import type { DemoModel, DemoResult, StageTime } from './result.js';
import { progress } from '../util/progress.js';

export interface DemoOptions {
  /** Output folder (default runs/demo); a folder holding anything but an earlier demo is refused. */
  out?: string;
  /** The reduced plan: every stage, tiny sizes. */
  fast?: boolean;
  seed?: number;
  /** Progress of the long loops: a bar on a terminal, else a line every 10 s (util/progress); false: none. */
  progress?: boolean;
  log?: (line: string) => void;
}

/** Loader threads: the demo's images are small, so two keep the training step fed without crowding two cores. */
const LOADER_WORKERS = 2;

/** Marks a folder as the demo's, so a rerun may replace it and no other folder is ever written into. */
const MARKER = 'demo.json';

async function prepareOut(out: string): Promise<void> {
  const entries = existsSync(out) ? readdirSync(out) : [];
  if (entries.length > 0 && !entries.includes(MARKER)) {
    throw new Error(`demo: ${out} is not empty and holds no earlier demo (no ${MARKER}); choose another --out`);
  }
  // An earlier demo's folder is replaced as a whole, so nothing stale is left to mistake for this run's output.
  for (const entry of entries) await rm(join(out, entry), { recursive: true, force: true });
  await mkdir(out, { recursive: true });
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const plan = options.fast ? FAST_PLAN : FULL_PLAN;
  const seed = options.seed ?? 0;
  const out = resolve(options.out ?? 'runs/demo');
  await prepareOut(out);
  await writeFile(join(out, MARKER), JSON.stringify({ plan, seed, finished: false }, null, 2));

  const started = performance.now();
  const stages: StageTime[] = [];
  const STAGES = 6;
  async function stage<T>(name: string, title: string, work: () => Promise<T>): Promise<T> {
    log(`\n━━━━ ${stages.length + 1}/${STAGES} ${name}: ${title} ━━━━`);
    const t0 = performance.now();
    const result = await work();
    const seconds = (performance.now() - t0) / 1000;
    stages.push({ stage: name, seconds });
    log(`━━━━ ${name} done in ${seconds.toFixed(1)} s ━━━━`);
    return result;
  }

  // The recipes, written down so that the run can be repeated with the separate commands.
  const hyps = { train: join(out, 'hyp.train.yaml'), prune: join(out, 'hyp.prune.yaml') };
  for (const [file, changes, what] of [
    [hyps.train, plan.hyp, `training from scratch (${plan.optimizer})`],
    [hyps.prune, plan.pruneHyp, `sparsity training and fine-tuning (${plan.pruneOptimizer})`],
  ] as const) {
    await writeFile(file, `# The demo's recipe for ${what}: ${DEFAULT_HYP} with changes\n${stringify({ ...loadHyp(DEFAULT_HYP), ...changes })}`);
  }

  const dataset = await stage(
    'dataset',
    `${plan.images} training + ${plan.valImages} validation synthetic images, ${plan.classes} ${plan.classes === 1 ? 'class' : 'classes'}, ${plan.imgsz}×${plan.imgsz} px`,
    async () => {
      const bar = progress({ title: 'dataset', total: plan.images + plan.valImages, unit: 'images', show: options.progress, log });
      try {
        const made = await generateSynthDataset({
          out: join(out, 'data'),
          images: plan.images,
          valImages: plan.valImages,
          classes: plan.classes,
          imgsz: plan.imgsz,
          seed,
          onProgress: (done) => bar.update(done),
        });
        log(`classes: ${made.names.join(', ')}; dataset ${made.yaml}`);
        return made;
      } finally {
        bar.stop();
      }
    },
  );

  const trained = await stage('train', `${plan.cfg} from scratch, ${plan.epochs} epochs at ${plan.imgsz} px`, async () => {
    const result = await train({
      data: dataset.yaml,
      cfg: plan.cfg,
      weights: '',
      hyp: hyps.train,
      optimizer: plan.optimizer,
      imgsz: plan.imgsz,
      batchSize: plan.batchSize,
      nominalBatch: plan.nominalBatch,
      epochs: plan.epochs,
      saveDir: join(out, 'train'),
      workers: LOADER_WORKERS,
      seed,
      cache: 'ram',
      patience: 0,
      progress: options.progress,
      log,
    });
    if (!result.final) throw new Error('demo: training was interrupted');
    return { weights: result.bestPath, map50: result.final.map50, map: result.final.map };
  });

  const pruned = await stage(
    'prune',
    `${plan.rounds} round${plan.rounds > 1 ? 's' : ''} of sparsity training and pruning to ${plan.targetFlops * 100}% of the GFLOPs, then fine-tuning`,
    () =>
      prunePipeline({
        weights: trained.weights,
        data: dataset.yaml,
        imgsz: plan.imgsz,
        batchSize: plan.batchSize,
        nominalBatch: plan.pruneNominalBatch,
        rounds: plan.rounds,
        sparsity: plan.sparsity,
        targetSparsity: plan.targetSparsity,
        threshold: plan.gateThreshold,
        criterion: plan.criterion,
        importance: plan.importance,
        minChannels: plan.minChannels,
        minWarmup: plan.minWarmup,
        epochsPerRound: plan.epochsPerRound,
        finetuneEpochs: plan.finetuneEpochs,
        targetFlops: plan.targetFlops,
        round: plan.round,
        optimizer: plan.pruneOptimizer,
        gateLr: plan.gateLr,
        distill: plan.distill,
        calibImages: plan.calibImages,
        hyp: hyps.prune,
        workers: LOADER_WORKERS,
        seed,
        project: out,
        name: 'prune',
        existOk: true,
        // Latency is measured on the exported files below, and added to the report then.
        benchmark: false,
        log,
      }),
  );

  const files = { original: join(out, 'original.onnx'), pruned: join(out, 'pruned.onnx'), int8: join(out, 'pruned-int8.onnx') };
  const models = await stage('export', 'both models to ONNX (dynamic input size), each checked against libtorch; the pruned one also to INT8', async () => {
    const original = (await loadModel(join(pruned.saveDir, 'original.safetensors'))).model;
    const final = (await loadModel(pruned.weights)).model;
    for (const [name, model] of [['original', original], ['pruned', final]] as const) {
      const { onnx } = await exportOnnxFile(model, files[name], { imgsz: plan.imgsz, dynamic: true });
      log(`${files[name]}: ${(onnx.bytes.length / 2 ** 20).toFixed(2)} MB, outputs match libtorch`);
    }
    const { onnx } = await exportInt8File(final, files.int8, { imgsz: plan.imgsz, dynamic: true, data: dataset.yaml, calibImages: plan.calibImages });
    log(`${files.int8}: ${(onnx.bytes.length / 2 ** 20).toFixed(2)} MB, activations calibrated on ${plan.calibImages} training images`);
    return { original: gflops(original, BENCHMARK_INPUT), pruned: gflops(final, BENCHMARK_INPUT) };
  });

  const int8Metrics = await stage('validate INT8', 'the INT8 model in ONNX Runtime on the validation images', async () => {
    const metrics = await validateOnnxFile(files.int8, { data: dataset.yaml, imgsz: plan.imgsz, batchSize: plan.batchSize, quiet: true });
    log(`INT8: mAP50 ${metrics.map50.toFixed(3)}, mAP50-95 ${metrics.map.toFixed(3)}`);
    return metrics;
  });

  const latency = await stage('benchmark', `ONNX Runtime latency, batch 1, 1280×720 frame letterboxed to ${BENCHMARK_INPUT[1]}×${BENCHMARK_INPUT[0]}`, async () => {
    const [originalRun, prunedRun, int8Run] = await compareOnnxLatency([files.original, files.pruned, files.int8], {
      imgsz: BENCHMARK_IMGSZ,
      runs: plan.benchmarkRuns,
      warmup: plan.benchmarkWarmup,
    });
    const measured = { original: originalRun!, pruned: prunedRun!, int8: int8Run! };
    for (const name of ['original', 'pruned', 'int8'] as const) {
      const r = measured[name];
      log(`${name}: inference ${r.inference.median.toFixed(1)} ms, end-to-end ${r.total.median.toFixed(1)} ms median over ${r.runs} runs (${r.fps.toFixed(1)} FPS, ${r.threads} threads)`);
    }
    const { report } = pruned;
    await writeReport(
      {
        ...report,
        original: { ...report.original, onnx: onnxLatencyOf(measured.original) },
        final: { ...report.final, onnx: onnxLatencyOf(measured.pruned) },
        int8: { file: files.int8, map50: int8Metrics.map50, map: int8Metrics.map, onnx: onnxLatencyOf(measured.int8) },
      },
      pruned.saveDir,
    );
    return measured;
  });

  const valImages = splitImageFiles(loadDatasetConfig(dataset.yaml), 'val').slice(0, plan.detectImages);
  const detections = await stage('detect', `both ONNX models on ${valImages.length} held-out images`, async () => {
    const run = async (name: 'original' | 'pruned') => {
      const result = await detectAndDraw(files[name], valImages, join(out, 'detections', name), plan.imgsz);
      log(`${name}: ${result.detections} detections, ${result.found} of ${result.labelled} labelled objects found; pictures in ${join(out, 'detections', name)}`);
      return result;
    };
    return { original: await run('original'), pruned: await run('pruned') };
  });

  const figures = (m: ModelFigures, name: 'original' | 'pruned'): DemoModel => ({
    parameters: m.parameters,
    gflops: m.gflops,
    benchmarkGflops: models[name],
    map50: m.map50,
    map: m.map,
    onnx: files[name],
    latency: latency[name],
    detections: detections[name],
  });
  const seconds = (performance.now() - started) / 1000;
  const result: DemoResult = {
    out,
    plan,
    dataset,
    trainWeights: trained.weights,
    train: { map50: trained.map50, map: trained.map },
    prune: {
      saveDir: pruned.saveDir,
      report: join(pruned.saveDir, 'report.md'),
      reportJson: join(pruned.saveDir, 'report.json'),
      plot: join(pruned.saveDir, 'mAP_vs_GFLOPs.png'),
      gates: readdirSync(pruned.saveDir)
        .filter((f) => /^round\d+_(gates|bn)\.png$/.test(f))
        .map((f) => join(pruned.saveDir, f)),
      weights: pruned.weights,
    },
    original: figures(pruned.report.original, 'original'),
    pruned: figures(pruned.report.final, 'pruned'),
    int8: { map50: int8Metrics.map50, map: int8Metrics.map, onnx: files.int8, latency: latency.int8 },
    stages,
    seconds,
  };
  const summary = formatSummary(result);
  await writeFile(join(out, 'summary.md'), `${summary}\n`);
  await writeFile(join(out, MARKER), JSON.stringify({ plan, seed, finished: true, stages, seconds }, null, 2));
  log(`\n${summary}`);
  return result;
}
