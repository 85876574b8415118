// The pruning pipeline (`yolov5 prune`): rounds of sparsity training then pruning, fine-tuning without the
// penalty, every round validated and checkpointed, resumable; ends with a report comparing original and pruned.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DetectionModel } from '../model/yolo.js';
import { gflops, latencyCost } from '../model/summary.js';
import { loadModel, readCheckpoint, saveCheckpoint } from '../checkpoint/index.js';
import { validate } from '../val/validator.js';
import { compareOnnxLatency } from '../infer/benchmark.js';
import { incrementPath } from '../io/run-dir.js';
import { insertGates } from './gates.js';
import type { DependencyGraph } from './dependency.js';
import { calibrationSource } from './calibration-data.js';
import { pruneStep } from './round.js';
import { planFromFading } from './fade.js';
import { chooseRecipe } from './recipe.js';
import { checkImgSize } from '../data/letterbox.js';
import { onnxLatencyOf, plotGateHistograms, writeReport, type Int8Figures, type ModelFigures, type OnnxLatency, type PruneReport } from './report.js';
import { describeErrors, exportInt8File } from '../export/int8.js';
import { validateOnnxFile } from '../infer/backend.js';
import { describeTarget, givenSettings, recipeFacts, roundSparsity, roundTarget, type PruneOptions, type Settings } from './settings.js';
import { beginSession, loadState, saveState, type PipelineState } from './state.js';
import { fineTune, sparsityTraining, taylorImportance, type StageRun } from './stages.js';
import type { PruneTarget } from './round.js';
import type { ProcessGroup } from '../torch/distributed.js';

export type { PruneOptions } from './settings.js';

/** Over several processes: the group, and the trainer's settings for it (see StageRun). */
export type PruneProcesses = Omit<StageRun, 'log'> & { group: ProcessGroup };

/**
 * What rank 0 tells the other ranks before each training stage, and at the end. Rank 0 alone validates, prunes
 * and writes; the others join the stages' training, reading the stage's model from the run folder (one machine, or
 * a folder all machines share).
 */
type StageMessage =
  | { stage: 'sparsity'; round: number; model: string; share?: number; fadeTarget?: PruneTarget; settings: Settings; state: PipelineState }
  | { stage: 'finetune'; model: string; settings: Settings; parent?: PipelineState['parent'] }
  | { stage: 'done'; result: PruneResult };

/** A rank other than 0: trains each stage rank 0 announces, with no output of its own; returns rank 0's result. */
async function followStages(processes: PruneProcesses): Promise<PruneResult> {
  const run: StageRun = { ...processes, log: () => undefined };
  for (;;) {
    const message = JSON.parse(await processes.group.broadcastText('')) as StageMessage;
    if (message.stage === 'done') return message.result;
    const { model } = await readCheckpoint(message.model);
    if (message.stage === 'finetune') {
      await fineTune(model, message.settings, message.parent, run);
      continue;
    }
    if (message.settings.criterion === 'gate') insertGates(model);
    await sparsityTraining(model, message.settings, message.state, message.round, message.share, message.fadeTarget, run);
  }
}

async function figures(model: DetectionModel, s: Pick<Settings, 'data' | 'imgsz' | 'batchSize'>, log: (line: string) => void): Promise<ModelFigures> {
  const metrics = await validate(model, { data: s.data, imgsz: s.imgsz, batchSize: s.batchSize, quiet: true, progress: true, log });
  const result: ModelFigures = {
    parameters: model.numParameters(),
    gflops: gflops(model, s.imgsz),
    latencyCost: latencyCost(model, s.imgsz) / 1e9,
    map50: metrics.map50,
    map: metrics.map,
  };
  log(`  ${result.parameters} parameters, ${result.gflops.toFixed(2)} GFLOPs, mAP50 ${result.map50.toFixed(4)}, mAP50-95 ${result.map.toFixed(4)}`);
  return result;
}


/** The pruned model quantized to INT8 and validated in ONNX Runtime at the pipeline's settings. */
async function quantized(model: DetectionModel, s: Settings, log: (line: string) => void): Promise<Int8Figures> {
  const file = join(s.saveDir, 'pruned-int8.onnx');
  log(`\nINT8: quantizing the pruned model, activations calibrated on ${s.calibImages} training images...`);
  const result = await exportInt8File(model, file, { data: s.data, imgsz: s.imgsz, dynamic: true, calibImages: s.calibImages });
  log(`  output difference from the float model: ${describeErrors(result.errors)}`);
  const metrics = await validateOnnxFile(file, { data: s.data, imgsz: s.imgsz, batchSize: s.batchSize, quiet: true, progress: true, log });
  log(`  ${file}: mAP50 ${metrics.map50.toFixed(4)}, mAP50-95 ${metrics.map.toFixed(4)}`);
  return { file, map50: metrics.map50, map: metrics.map };
}

/** Deployment latency at the reference input (a 1280×720 frame letterboxed to 640×384, batch 1), runs alternating. */
async function onnxLatencies(models: (DetectionModel | string)[]): Promise<OnnxLatency[]> {
  return (await compareOnnxLatency(models, { imgsz: 640, runs: 40, warmup: 5 })).map(onnxLatencyOf);
}

export interface PruneResult {
  saveDir: string;
  report: PruneReport;
  /** The final pruned (and fine-tuned) checkpoint. */
  weights: string;
}

/**
 * Runs (or resumes) a prune run. With `processes`, sparsity training and fine-tuning run over the group's ranks:
 * call it on every rank; every rank resolves to rank 0's result.
 */
export async function prunePipeline(options: PruneOptions, processes?: PruneProcesses): Promise<PruneResult> {
  if (processes && processes.group.rank !== 0) return followStages(processes);
  const log = options.log ?? ((line: string) => console.log(line));
  const run: StageRun = { ...processes, log };
  const announce = async (message: StageMessage) => {
    if (processes) await processes.group.broadcastText(JSON.stringify(message));
  };
  const start = Date.now();
  let state: PipelineState;
  if (options.resume) {
    state = loadState(options.resume);
    log(`Resuming ${state.settings.saveDir}: ${state.rounds.length} of ${state.settings.rounds} rounds done`);
  } else {
    const { request, ...given } = givenSettings(options);
    const saveDir = resolve(incrementPath(given.project, options.name ?? 'exp', given.existOk));
    // A fresh run in a reused folder (--exist-ok) must not resume the stages of an older run.
    for (const entry of readdirSync(saveDir)) {
      if (/^(round\d+|finetune)$/.test(entry)) rmSync(join(saveDir, entry), { recursive: true, force: true });
    }
    const { model, meta } = await loadModel(given.weights);
    // As the trainer will (YOLOv5's train.py): a multiple of the largest stride, at least two strides; the GFLOPs
    // and mAP of the report are then measured at the size the stages train at.
    const gs = Math.max(...model.stride, 32);
    const checked = checkImgSize([given.imgsz], gs, 2 * gs);
    if (checked.warning) log(checked.warning);
    given.imgsz = checked.sizes[0]!;
    log(`Original model ${given.weights}:`);
    const original = await figures(model, given, log);
    const { reasons, ...recipe } = chooseRecipe(request, recipeFacts(given, meta, original.map50));
    log(`\nRecipe (flags override):\n${reasons.map((line) => `  ${line}`).join('\n')}`);
    // A given λ without a target stays fixed, as asked; otherwise the controller adapts it towards each round's target.
    const settings: Settings = { ...given, ...recipe, adaptLambda: request.sparsity === undefined || given.targetSparsity !== undefined, saveDir, recipe: reasons };
    const originalPath = join(saveDir, 'original.safetensors');
    await saveCheckpoint(originalPath, model);
    state = { settings, lambda: settings.sparsity, original, rounds: [], current: originalPath, done: false };
  }
  beginSession(state, start);
  saveState(state.settings.saveDir, state);
  const s = state.settings;
  mkdirSync(s.saveDir, { recursive: true });

  for (let r = state.rounds.length + 1; r <= s.rounds; r++) {
    log(`\n===== round ${r}/${s.rounds}: sparsity training (${s.epochsPerRound} epochs, ${s.criterion}) =====`);
    let { model } = await readCheckpoint(state.current);
    // Gates go in before training starts: the optimizer and the EMA copy must include them.
    if (s.criterion === 'gate') insertGates(model);
    if (s.epochsPerRound > 0) {
      if (state.sparsityTrained?.round !== r) {
        const target = roundTarget(s, r, state.original, model);
        const share = s.adaptLambda ? roundSparsity(s, target) : undefined;
        const fadeTarget = s.fade && !('threshold' in target) ? target : undefined;
        await announce({ stage: 'sparsity', round: r, model: state.current, ...(share !== undefined ? { share } : {}), ...(fadeTarget ? { fadeTarget } : {}), settings: s, state });
        const trained = await sparsityTraining(model, s, state, r, share, fadeTarget, run);
        if (trained.interrupted) throw new Error(`sparsity training interrupted; continue with: yolov5 prune --resume ${s.saveDir}`);
        state.sparsityTrained = { round: r, path: trained.lastPath, map50: trained.epochs.at(-1)?.map50 };
        saveState(s.saveDir, state);
      }
      model = (await readCheckpoint(state.sparsityTrained!.path)).model;
    }
    const calibration = await calibrationSource(s.data, { imgsz: s.imgsz, stride: Math.max(...model.stride, 32), maxImages: s.calibImages });
    const target = roundTarget(s, r, state.original, model);
    log(`\n===== round ${r}/${s.rounds}: pruning (${describeTarget(target)}) =====`);
    await plotGateHistograms(model, s.criterion, join(s.saveDir, `round${r}_${s.criterion === 'gate' ? 'gates' : 'bn'}.png`), `round ${r}: |coefficient| per layer before pruning`);
    const step = await pruneStep(model, {
      criterion: s.criterion,
      target,
      minChannels: s.minChannels,
      round: s.round,
      imgsz: s.imgsz,
      calibration,
      calibImages: s.calibImages,
      ...(s.importance === 'taylor' ? { importance: (graph: DependencyGraph) => taylorImportance(model, graph, s, log) } : {}),
      // After a fade, exactly its channels go: a fresh plan might keep some of them (zeros that still cost).
      ...(state.fade?.round === r ? { plan: (graph: DependencyGraph) => planFromFading(graph, state.fade!.channels) } : {}),
    });
    const path = join(s.saveDir, `round${r}.safetensors`);
    await saveCheckpoint(path, step.model);
    state.parent = {
      ...(s.epochsPerRound > 0 ? { path: state.sparsityTrained!.path, map50: state.sparsityTrained!.map50 } : { path: state.current, map50: (state.rounds.at(-1) ?? state.original).map50 }),
      keptChannels: Object.fromEntries(step.keptChannels),
    };
    const after = await figures(step.model, s, log);
    state.rounds.push({ round: r, lambda: state.lambda, target: describeTarget(target), channels: step.channels, ...after });
    state.current = path;
    saveState(s.saveDir, state);
  }

  if (!state.finetuned) {
    const { model } = await readCheckpoint(state.current);
    if (s.finetuneEpochs > 0) {
      log(`\n===== fine-tuning (${s.finetuneEpochs} epochs, no penalty) =====`);
      await announce({ stage: 'finetune', model: state.current, settings: s, ...(state.parent ? { parent: state.parent } : {}) });
      const tuned = await fineTune(model, s, state.parent, run);
      state.finetuned = tuned.bestPath;
    } else {
      state.finetuned = state.current;
    }
    saveState(s.saveDir, state);
  }

  const { model: original } = await readCheckpoint(join(s.saveDir, 'original.safetensors'));
  const { model: final } = await readCheckpoint(state.finetuned);
  log('\nFinal pruned model:');
  const finalFigures = await figures(final, s, log);
  const weights = join(s.saveDir, 'pruned.safetensors');
  await saveCheckpoint(weights, final);
  const int8 = s.int8 ? await quantized(final, s, log) : undefined;
  let originalLatency: OnnxLatency | undefined;
  let prunedLatency: OnnxLatency | undefined;
  let int8Latency: OnnxLatency | undefined;
  if (s.benchmark) {
    log(`\nMeasuring ONNX Runtime latency (batch 1, letterboxed 1280×720 → 640×384), original${int8 ? ', pruned and INT8' : ' and pruned'} runs alternating...`);
    [originalLatency, prunedLatency, int8Latency] = await onnxLatencies([original, final, ...(int8 ? [int8.file] : [])]);
  }
  const report: PruneReport = {
    settings: { ...s },
    original: { ...state.original, ...(originalLatency ? { onnx: originalLatency } : {}) },
    rounds: state.rounds,
    final: { ...finalFigures, ...(prunedLatency ? { onnx: prunedLatency } : {}) },
    ...(int8 ? { int8: { ...int8, ...(int8Latency ? { onnx: int8Latency } : {}) } } : {}),
    weights,
  };
  state.done = true;
  saveState(s.saveDir, state);
  report.wallSeconds = state.wallSeconds!;
  report.maxRssBytes = state.maxRss!;
  const text = await writeReport(report, s.saveDir);
  log(`\n${text}`);
  log(`Results saved to ${s.saveDir}`);
  const result = { saveDir: s.saveDir, report, weights };
  await announce({ stage: 'done', result });
  return result;
}
