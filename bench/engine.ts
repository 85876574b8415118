// Tensor engine benchmark (`make bench`): the fixed cost of one operator call, and convolution training throughput.
// Prints best-of-N figures, since a shared machine only ever makes a run slower.
import { availableParallelism } from 'node:os';
import { getNumThreads, nn, noGrad, randn, tensor, tidy, type Tensor } from '../src/torch/index.js';

interface Timing {
  /** Elapsed seconds per unit. */
  wall: number;
  /** CPU seconds per unit used by this process (all its threads); unlike wall time, other processes barely move it. */
  cpu: number;
}

/** The best times per unit over `rounds` runs of `run`, which performs `units` units of work. */
function best(rounds: number, units: number, run: () => void): Timing {
  const fastest = { wall: Infinity, cpu: Infinity };
  for (let r = 0; r < rounds; r++) {
    const [start, startCpu] = [process.hrtime.bigint(), process.cpuUsage()];
    run();
    const cpu = process.cpuUsage(startCpu);
    fastest.wall = Math.min(fastest.wall, Number(process.hrtime.bigint() - start) / 1e9 / units);
    fastest.cpu = Math.min(fastest.cpu, (cpu.user + cpu.system) / 1e6 / units);
  }
  return fastest;
}

const micros = (t: Timing): string => `${(t.wall * 1e6).toFixed(2)} µs/call (CPU ${(t.cpu * 1e6).toFixed(2)} µs)`;

function callOverhead(): void {
  const a = tensor([1]);
  const b = tensor([2]);
  const calls = 100_000;
  const disposed = best(7, calls, () => {
    for (let i = 0; i < calls; i++) a.add(b).dispose();
  });
  const scoped = best(7, calls, () => {
    for (let i = 0; i < calls; i += 1000) {
      tidy(() => {
        for (let j = 0; j < 1000; j++) a.add(b);
      });
    }
  });
  const withoutGrad = best(7, calls, () =>
    noGrad(() => {
      for (let i = 0; i < calls; i++) a.add(b).dispose();
    }),
  );
  console.log('per-call overhead: add of two 1-element float32 tensors, handle created and freed');
  console.log(`  add + dispose()          ${micros(disposed)}`);
  console.log(`  add inside tidy()        ${micros(scoped)}`);
  console.log(`  add + dispose(), noGrad  ${micros(withoutGrad)}`);
}

/** A YOLO-sized block: 3×3 conv (64→64, stride 1, no bias) + BatchNorm + SiLU. */
class ConvBlock extends nn.Module {
  readonly conv = this.registerModule('conv', new nn.Conv2d(64, 64, 3, { padding: 1, bias: false }));
  readonly bn = this.registerModule('bn', new nn.BatchNorm2d(64));
  forward(x: Tensor): Tensor {
    return this.bn.forward(this.conv.forward(x)).silu();
  }
}

function convThroughput(): void {
  const [batch, channels, size, layers] = [8, 64, 80, 3];
  const model = new nn.Sequential(...Array.from({ length: layers }, () => new ConvBlock()));
  const input = randn([batch, channels, size, size]);
  // Multiply–accumulates of the convolutions; batch norm and SiLU are a rounding error next to them.
  const macs = layers * batch * channels * channels * 9 * size * size;
  const forwardFlops = 2 * macs;
  const step = (): void =>
    tidy(() => {
      model.forward(input).mean().backward();
      model.zeroGrad();
    });
  step();
  const seconds = best(3, 1, step).wall;
  const forwardSeconds = best(3, 1, () => noGrad(() => tidy(() => void model.forward(input)))).wall;
  console.log(
    `conv training throughput: ${layers} × (conv 3×3 ${channels}→${channels} + BN + SiLU) on ${batch}×${channels}×${size}×${size}, ` +
      `${(forwardFlops / 1e9).toFixed(2)} GFLOP forward`,
  );
  console.log(`  forward + backward       ${((3 * forwardFlops) / seconds / 1e9).toFixed(1)} GFLOP/s (${(seconds * 1e3).toFixed(0)} ms/step)`);
  console.log(`  forward only (noGrad)    ${(forwardFlops / forwardSeconds / 1e9).toFixed(1)} GFLOP/s (${(forwardSeconds * 1e3).toFixed(0)} ms)`);
}

console.log(`libtorch threads: ${getNumThreads()} (machine: ${availableParallelism()} cores)`);
callOverhead();
convThroughput();
