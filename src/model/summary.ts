// Model size figures like the official model_info(): parameters, gradients and GFLOPs from the layer shapes.
import { nn, noGrad, tidy, zeros, type Tensor } from '../torch/index.js';
import type { DetectionModel } from './yolo.js';

/** Output height × width of every convolution for an input of height × width, from a probe at the largest stride. */
export function convOutputSizes(model: DetectionModel, imgsz: number | [number, number] = 640): Map<nn.Conv2d, number> {
  const [height, width] = typeof imgsz === 'number' ? [imgsz, imgsz] : imgsz;
  const probe = Math.max(...model.stride, 32);
  const scale = (height / probe) * (width / probe);
  const sizes = new Map<nn.Conv2d, number>();
  const convs = [...model.namedModules()].map(([, m]) => m).filter((m): m is nn.Conv2d => m instanceof nn.Conv2d);
  const wasTraining = model.training;
  try {
    model.eval();
    nn.withForwardHooks(
      convs,
      (module, _inputs, output) => {
        const [, , h, w] = (output as Tensor).shape as [number, number, number, number];
        sizes.set(module as nn.Conv2d, h * w * scale);
      },
      () => noGrad(() => tidy(() => void model.forward(zeros([1, model.inputChannels, probe, probe])))),
    );
  } finally {
    model.train(wasTraining);
  }
  return sizes;
}

/** FLOPs of one convolution: 2 × multiply-accumulates, bias adds included, as the official thop-based count. */
export function convFlops(conv: nn.Conv2d, inChannels: number, outChannels: number, outputPixels: number): number {
  const perOutput = (inChannels / conv.groups) * conv.kernelSize[0] * conv.kernelSize[1] + (conv.hasBias ? 1 : 0);
  return 2 * outChannels * outputPixels * perOutput;
}

/**
 * Multiply-add equivalents of one output element beyond its multiply-adds: writing it, its activation and the
 * Concat / Add / Upsample copies that follow convolutions. Fitted to ONNX Runtime's own profile of yolov5n and a
 * pruned yolov5n at 640×384 on one AVX-512 core (bench/onnx-profile.ts): ~79 G multiply-adds/s in convolutions and
 * 0.8–1.1 ns (64–86 multiply-adds) per output element for everything else; rounded up because thin layers also run
 * their multiply-adds at a lower rate. The estimated latency ratio of a pruned model then comes within ~0.05.
 */
export const ELEMENT_COST_IN_MACS = 96;

/**
 * Estimated CPU inference cost of one convolution in multiply-add equivalents: its multiply-adds plus a cost per
 * output element. Thin high-resolution layers cost far more time than their FLOPs say; only ratios are meaningful.
 */
export function convLatencyCost(conv: nn.Conv2d, inChannels: number, outChannels: number, outputPixels: number): number {
  return convFlops(conv, inChannels, outChannels, outputPixels) / 2 + ELEMENT_COST_IN_MACS * outChannels * outputPixels;
}

/** The estimated CPU cost of a model (see convLatencyCost), in multiply-add equivalents; compare models by ratio. */
export function latencyCost(model: DetectionModel, imgsz: number | [number, number] = 640): number {
  let cost = 0;
  for (const [conv, pixels] of convOutputSizes(model, imgsz)) cost += convLatencyCost(conv, conv.inChannels, conv.outChannels, pixels);
  return cost;
}

/** GFLOPs of one image of size imgsz (every convolution; pooling and activations are not counted, as official). */
export function gflops(model: DetectionModel, imgsz: number | [number, number] = 640): number {
  let flops = 0;
  for (const [conv, pixels] of convOutputSizes(model, imgsz)) flops += convFlops(conv, conv.inChannels, conv.outChannels, pixels);
  return flops / 1e9;
}

export interface ModelInfo {
  layers: number;
  parameters: number;
  gradients: number;
  gflops: number;
}

export function modelInfo(model: DetectionModel, imgsz: number | [number, number] = 640): ModelInfo {
  const params = model.parameters();
  return {
    layers: [...model.namedModules()].length,
    parameters: params.reduce((n, p) => n + p.numel, 0),
    gradients: params.filter((p) => p.requiresGrad).reduce((n, p) => n + p.numel, 0),
    gflops: gflops(model, imgsz),
  };
}

/** The one-line summary: `name summary: L layers, P parameters, G gradients, F GFLOPs`. */
export function summaryLine(model: DetectionModel, name = 'Model', imgsz: number | [number, number] = 640): string {
  const info = modelInfo(model, imgsz);
  return `${name} summary: ${info.layers} layers, ${info.parameters} parameters, ${info.gradients} gradients, ${info.gflops.toFixed(1)} GFLOPs`;
}

/** The per-layer table printed when a model is built (from, n, params, module, arguments). */
export function layerTable(model: DetectionModel): string {
  const header = `${''.padStart(3)}${'from'.padStart(18)}${'n'.padStart(3)}${'params'.padStart(10)}  ${'module'.padEnd(40)}arguments`;
  const rows = model.layers.map((layer) => {
    const relative = layer.from.map((f) => (f === layer.index - 1 ? -1 : f));
    const from = relative.length === 1 ? String(relative[0]) : JSON.stringify(relative);
    const params = layer.module.numParameters();
    return `${String(layer.index).padStart(3)}${from.padStart(18)}${String(layer.repeats).padStart(3)}${String(params).padStart(10)}  ${layer.type.padEnd(40)}${JSON.stringify(layer.args)}`;
  });
  return [header, ...rows].join('\n');
}
