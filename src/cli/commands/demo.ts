import { Command } from 'commander';
import { demo } from '../../api/demo.js';
import { FAST_PLAN, FULL_PLAN } from '../../demo/plan.js';
import { demoOptions, type DemoOptions } from '../../options/dataset.js';
import { declaredCommand } from '../declared-options.js';

const STAGES = `
Stages (everything from data the project makes itself: no downloads, no pretrained weights):
  1. dataset    synthetic shapes on cluttered backgrounds (${FULL_PLAN.images} + ${FULL_PLAN.valImages} images, ${FULL_PLAN.classes} classes, ${FULL_PLAN.imgsz} px), out/data
  2. train      ${FULL_PLAN.cfg} from scratch for ${FULL_PLAN.epochs} epochs, out/train
  3. prune      sparsity training, pruning to ${FULL_PLAN.targetFlops * 100}% of the GFLOPs (channels in multiples of ${FULL_PLAN.round}),
                fine-tuning; out/prune/report.md, report.json, mAP_vs_GFLOPs.png, round*_gates.png
  4. export     out/original.onnx and out/pruned.onnx, each checked against libtorch
  5. benchmark  both files in ONNX Runtime, batch 1, a 1280×720 frame letterboxed to 640×384
  6. detect     both files on held-out images, out/detections/{original,pruned}/*.jpg
It ends with a table of parameters, GFLOPs, mAP, latency and FPS, original vs pruned (also out/summary.md).
The full demo takes about five minutes on two CPU cores; --fast runs every stage on a tiny plan
(${FAST_PLAN.images} images, ${FAST_PLAN.epochs} epochs) to check the pipeline, not to get a useful model.`;

export function demoCommand(): Command {
  const description = 'the whole promise in one run: train a small YOLOv5 on synthetic data, prune it, export and compare both in ONNX Runtime';
  return declaredCommand(demoOptions, description)
    .addHelpText('after', STAGES)
    .action(async (options: DemoOptions) => {
      await demo(options);
    });
}
