// A small CNN learning a synthetic task: which quadrant of a 16×16 image holds a bright square.
// It exercises conv, batch norm, SiLU, pooling, a linear head, cross entropy and an optimizer end to end.
import { F, nn, optim, Tensor, tensor, tidy, manualSeed } from '../torch/index.js';

export class QuadrantNet extends nn.Module {
  readonly features: nn.Sequential;
  readonly head: nn.Linear;
  constructor() {
    super();
    this.features = this.registerModule(
      'features',
      new nn.Sequential(
        new nn.Conv2d(1, 8, 3, { padding: 1, bias: false }),
        new nn.BatchNorm2d(8),
        new nn.SiLU(),
        new nn.MaxPool2d(2),
        new nn.Conv2d(8, 16, 3, { padding: 1, bias: false }),
        new nn.BatchNorm2d(16),
        new nn.SiLU(),
        new nn.MaxPool2d(2),
      ),
    );
    this.head = this.registerModule('head', new nn.Linear(16 * 4 * 4, 4));
  }
  forward(x: Tensor): Tensor {
    return this.head.forward(this.features.forward(x).flatten(1));
  }
}

/** A batch of images with one 4×4 square at a random position, labelled by the quadrant holding it. */
export function quadrantBatch(size: number, random: () => number): { images: Tensor; labels: Tensor } {
  const pixels = new Float32Array(size * 16 * 16);
  const labels: number[] = [];
  for (let n = 0; n < size; n++) {
    for (let i = 0; i < 256; i++) pixels[n * 256 + i] = random() * 0.3;
    const quadrant = Math.floor(random() * 4);
    const y0 = (quadrant >> 1) * 8 + Math.floor(random() * 5);
    const x0 = (quadrant & 1) * 8 + Math.floor(random() * 5);
    for (let y = y0; y < y0 + 4; y++) for (let x = x0; x < x0 + 4; x++) pixels[n * 256 + y * 16 + x] = 1;
    labels.push(quadrant);
  }
  return { images: tensor(pixels, [size, 1, 16, 16]), labels: tensor(labels, [size], { dtype: 'int64' }) };
}

/** Deterministic uniform numbers on [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface EngineDemoResult {
  losses: number[];
  model: nn.Module;
}

export function trainQuadrantNet(steps: number, onStep?: (step: number, loss: number) => void): EngineDemoResult {
  manualSeed(0);
  const random = seededRandom(1);
  const model = new QuadrantNet();
  const optimizer = new optim.Adam(model.parameters(), { lr: 0.01 });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const loss = tidy(() => {
      const { images, labels } = quadrantBatch(32, random);
      const l = F.crossEntropy(model.forward(images), labels);
      optimizer.zeroGrad();
      l.backward();
      optimizer.step();
      return l.item();
    });
    losses.push(loss);
    onStep?.(step, loss);
  }
  return { losses, model };
}
