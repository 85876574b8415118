// The evidence of a pruning result that anyone can check without re-running it (`node dist-test/bench/highway-evidence.js
// --control C --pruned P --data D --out docs/results/highway`): both checkpoints stored in float16 (half the size,
// loadable by every command), and the two models' detections on a few validation photos, drawn side by side in one
// picture (control left, pruned right) with the labelled objects each found.
// Options: --control W --pruned W --data data.yaml --out DIR --images 6 --imgsz 320
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp, { type OverlayOptions } from 'sharp';
import { loadModel, saveCheckpoint } from '../src/checkpoint/index.js';
import { loadDatasetConfig, splitImageFiles } from '../src/data/dataset-config.js';
import { detectAndDraw } from '../src/demo/detections.js';

const { values } = parseArgs({
  options: {
    control: { type: 'string' },
    pruned: { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string', default: 'docs/results/highway' },
    images: { type: 'string', default: '6' },
    imgsz: { type: 'string', default: '320' },
  },
});
if (!values.control || !values.pruned || !values.data) throw new Error('--control, --pruned and --data are required');
mkdirSync(values.out, { recursive: true });
const models = { control: values.control, pruned: values.pruned };
for (const [name, path] of Object.entries(models)) {
  const { model } = await loadModel(path);
  await saveCheckpoint(join(values.out, `${name}.safetensors`), model, { half: true });
}

// Validation photos spread evenly over the split, so the picture is not one street scene six times.
const val = splitImageFiles(loadDatasetConfig(values.data), 'val');
const count = Number(values.images);
const images = Array.from({ length: count }, (_, k) => val[Math.floor(((k + 0.5) * val.length) / count)]!);
const work = join(values.out, '.detections');
const runs = {
  control: await detectAndDraw(join(values.out, 'control.safetensors'), images, join(work, 'control'), Number(values.imgsz)),
  pruned: await detectAndDraw(join(values.out, 'pruned.safetensors'), images, join(work, 'pruned'), Number(values.imgsz)),
};

const caption = (text: string, width: number) =>
  Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="36"><rect width="100%" height="100%" fill="#FFFFFF"/>` +
      `<text x="8" y="25" font-family="DejaVu Sans, Arial, sans-serif" font-size="20" fill="#000000">${text}</text></svg>`,
  );
const tiles = await Promise.all(
  images.map(async (_, k) => {
    const pair = [runs.control.images[k]!, runs.pruned.images[k]!];
    const metas = await Promise.all(pair.map((d) => sharp(d.annotated).metadata()));
    return { pair, width: metas[0]!.width!, height: metas[0]!.height! };
  }),
);
const tileWidth = tiles[0]!.width;
const rowHeight = Math.max(...tiles.map((t) => t.height)) + 36;
const gap = 8;
const composites: OverlayOptions[] = [];
tiles.forEach(({ pair }, row) => {
  pair.forEach((d, column) => {
    const left = column * (tileWidth + gap);
    const top = row * (rowHeight + gap);
    const boxes = `${d.boxes.length} box${d.boxes.length === 1 ? '' : 'es'}`;
    const label = `${column === 0 ? 'control' : 'pruned'}: ${boxes}, ${d.found} of ${d.labelled} labelled objects found`;
    composites.push({ input: caption(label, tileWidth), left, top }, { input: d.annotated, left, top: top + 36 });
  });
});
const picture = join(values.out, 'detections.jpg');
await sharp({ create: { width: 2 * tileWidth + gap, height: tiles.length * (rowHeight + gap) - gap, channels: 3, background: '#FFFFFF' } })
  .composite(composites)
  .jpeg({ quality: 85 })
  .toFile(picture);
rmSync(work, { recursive: true, force: true });
for (const [name, run] of Object.entries(runs)) console.log(`${name}: ${run.detections} boxes, ${run.found}/${run.labelled} labelled objects found on ${images.length} validation photos`);
console.log(`Wrote ${values.out}/control.safetensors, pruned.safetensors (float16) and ${picture}`);
