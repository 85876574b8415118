// Model size figures like the official model_info(): parameters, gradients and GFLOPs from the layer shapes.
import { nn, noGrad, tidy, zeros, type Tensor } from '../torch/index.js';
import type { DetectionModel } from './yolo.js';

/**
 * Floating-point operations (2 × multiply-accumulates of every convolution, bias adds included) for one image
 * of size height × width. Shapes come from a probe forward at the largest stride, scaled like the official count.
 */
export function gflops(model: DetectionModel, imgsz: number | [number, number] = 640): number {
  const [height, width] = typeof imgsz === 'number' ? [imgsz, imgsz] : imgsz;
  const probe = Math.max(...model.stride, 32);
  let macs = 0;
  const convs = [...model.namedModules()].map(([, m]) => m).filter((m): m is nn.Conv2d => m instanceof nn.Conv2d);
  const originals = convs.map((conv) => conv.forward);
  convs.forEach((conv) => {
    conv.forward = (x: Tensor) => {
      const y = nn.Conv2d.prototype.forward.call(conv, x);
      const [, out, h, w] = y.shape as [number, number, number, number];
      const perOutput = (conv.inChannels / conv.groups) * conv.kernelSize[0] * conv.kernelSize[1] + (conv.hasBias ? 1 : 0);
      macs += out * h * w * perOutput;
      return y;
    };
  });
  const wasTraining = model.training;
  try {
    model.eval();
    noGrad(() => tidy(() => void model.forward(zeros([1, model.inputChannels, probe, probe]))));
  } finally {
    convs.forEach((conv, i) => (conv.forward = originals[i]!));
    model.train(wasTraining);
  }
  return ((2 * macs) / 1e9) * ((height / probe) * (width / probe));
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
