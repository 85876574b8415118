// nn.Module bookkeeping, the standard layers, and the optimizers against PyTorch's update formulas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  F,
  Tensor,
  manualSeed,
  nn,
  noGrad,
  optim,
  parseSafetensors,
  randn,
  serializeSafetensors,
  tensor,
  tidy,
} from '../src/torch/index.js';
import { assertTensor, assertValues } from './helpers/tensor-assert.js';

class Net extends nn.Module {
  readonly conv = this.registerModule('conv', new nn.Conv2d(1, 2, 3));
  readonly bn = this.registerModule('bn', new nn.BatchNorm2d(2));
  readonly head = this.registerModule('head', new nn.Sequential(new nn.Linear(8, 3), new nn.SiLU(), new nn.Linear(3, 2)));
  forward(x: Tensor): Tensor {
    return this.head.forward(this.bn.forward(this.conv.forward(x)).flatten(1));
  }
}

test('a module names its parameters, buffers and submodules by path', () => {
  const net = new Net();
  assert.deepEqual(
    [...net.namedParameters()].map(([name]) => name),
    ['conv.weight', 'conv.bias', 'bn.weight', 'bn.bias', 'head.0.weight', 'head.0.bias', 'head.2.weight', 'head.2.bias'],
  );
  assert.deepEqual([...net.namedBuffers()].map(([name]) => name), ['bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked']);
  assert.deepEqual([...net.namedModules()].map(([name]) => name), ['', 'conv', 'bn', 'head', 'head.0', 'head.1', 'head.2']);
  assert.deepEqual([...net.children()].map(([name]) => name), ['conv', 'bn', 'head']);
  assert.equal(net.numParameters(), 2 * 9 + 2 + 2 + 2 + 8 * 3 + 3 + 3 * 2 + 2);
  assert.ok(net.parameters().every((p) => p.requiresGrad));
  assert.ok([...net.namedBuffers()].every(([, b]) => !b.requiresGrad));
  assert.equal(net.conv.parameter('weight'), net.conv.weight);
  assert.throws(() => net.conv.parameter('nope'), /no parameter named 'nope'/);
  assert.throws(() => net.bn.buffer('nope'), /no buffer named 'nope'/);
  const replacement = new nn.Linear(3, 2);
  net.head.setModule('2', replacement);
  assert.deepEqual([...net.head.children()].map(([name, m]) => [name, m === replacement]), [['0', false], ['1', false], ['2', true]]);
  assert.equal(net.head.child('2'), replacement);
  net.head.setModule('1', null);
  assert.deepEqual([...net.head.children()].map(([name]) => name), ['0', '2']);
});

test('parameters survive tidy scopes; train() and eval() switch every submodule; apply() visits all', () => {
  const net = tidy(() => new Net());
  assert.ok(net.parameters().every((p) => !p.disposed));
  net.eval();
  assert.ok([...net.namedModules()].every(([, m]) => !m.training));
  net.train();
  assert.ok([...net.namedModules()].every(([, m]) => m.training));
  const visited: string[] = [];
  net.apply((m, name) => {
    visited.push(name);
    if (m instanceof nn.BatchNorm2d) m.eps = 1e-3;
  });
  assert.deepEqual(visited, ['', 'conv', 'bn', 'head', 'head.0', 'head.1', 'head.2']);
  assert.equal(net.bn.eps, 1e-3);
});

test('BatchNorm2d updates its running statistics and batch count only in training', () =>
  tidy(() => {
    const bn = new nn.BatchNorm2d(1);
    // One channel holding 1, 3, 5, 7: mean 4, unbiased variance 20/3.
    const x = tensor([1, 3, 5, 7], [2, 1, 1, 2]);
    bn.forward(x);
    assertTensor(bn.runningMean, [1], [0.4]);
    assertTensor(bn.runningVar, [1], [0.9 + (0.1 * 20) / 3]);
    assertTensor(bn.buffer('num_batches_tracked'), [], [1]);
    bn.eval();
    const y = bn.forward(x);
    assertTensor(bn.runningMean, [1], [0.4]);
    assertTensor(bn.buffer('num_batches_tracked'), [], [1]);
    const sd = Math.sqrt(0.9 + (0.1 * 20) / 3 + 1e-5);
    assertTensor(y, [2, 1, 1, 2], [1, 3, 5, 7].map((v) => (v - 0.4) / sd), 1e-5);
  }));

test('layers compute what their functional forms do; constructors validate their arguments', () =>
  tidy(() => {
    manualSeed(1);
    const x = randn([2, 4, 6, 6]);
    const conv = new nn.Conv2d(4, 6, 3, { stride: 2, padding: 1, groups: 2, bias: false });
    assert.equal(conv.bias, null);
    assert.deepEqual(conv.weight.shape, [6, 2, 3, 3]);
    assertValues(conv.forward(x).toArray(), F.conv2d(x, conv.weight, null, { stride: 2, padding: 1, groups: 2 }).toArray());
    const linear = new nn.Linear(6, 3);
    const flat = randn([5, 6]);
    assertValues(linear.forward(flat).toArray(), flat.matmul(linear.parameter('weight').transpose(0, 1)).add(linear.parameter('bias')).toArray(), 1e-5);
    assertValues(new nn.MaxPool2d(2).forward(x).toArray(), F.maxPool2d(x, 2).toArray());
    assertValues(new nn.Upsample(2).forward(x).toArray(), F.upsampleNearest(x, 2).toArray());
    assert.equal(new nn.Identity().forward(x), x);
    assertValues(new nn.SiLU().forward(x).toArray(), x.silu().toArray());
    assertValues(new nn.ReLU().forward(x).toArray(), x.relu().toArray());
    assertValues(new nn.LeakyReLU(0.2).forward(x).toArray(), x.leakyRelu(0.2).toArray());
    assertValues(new nn.Hardswish().forward(x).toArray(), x.hardswish().toArray());
    assertValues(new nn.Sigmoid().forward(x).toArray(), x.sigmoid().toArray());
    assertValues(new nn.Sequential(new nn.ReLU(), new nn.MaxPool2d(3)).forward(x).toArray(), F.maxPool2d(x.relu(), 3).toArray());
    assert.throws(() => new nn.Conv2d(3, 4, 3, { groups: 2 }), RangeError);
    assert.throws(() => new nn.Conv2d(1.5, 4, 3), TypeError);
    assert.throws(() => new nn.Linear(0, 4), TypeError);
    assert.throws(() => new nn.Upsample(2, 'bilinear' as 'nearest'), TypeError);
  }));

test('default initialisation is reproducible under manualSeed and bounded by 1/√fan_in', () => {
  manualSeed(5);
  const a = new nn.Conv2d(3, 8, 3);
  manualSeed(5);
  const b = new nn.Conv2d(3, 8, 3);
  assert.deepEqual(a.weight.toArray(), b.weight.toArray());
  assert.deepEqual(a.bias!.toArray(), b.bias!.toArray());
  const bound = 1 / Math.sqrt(3 * 9);
  assert.ok(a.weight.abs().max().item() <= bound);
  assert.ok(a.weight.abs().max().item() > bound * 0.8, 'uses the whole range');
});

function outputsEqual(a: nn.Module, b: nn.Module, input: Tensor): void {
  assert.deepEqual(tidy(() => (a.forward(input) as Tensor).toArray()), tidy(() => (b.forward(input) as Tensor).toArray()));
}

test('stateDict holds the module’s own tensors; loadStateDict copies values and checks names and shapes', () =>
  tidy(() => {
    manualSeed(2);
    const source = new Net();
    const target = new Net();
    const input = randn([3, 1, 4, 4]);
    source.eval();
    target.eval();
    const state = source.stateDict();
    assert.deepEqual([...state.keys()], [...[...source.namedParameters()].map(([n]) => n), ...[...source.namedBuffers()].map(([n]) => n)]);
    assert.equal(state.get('conv.weight'), source.conv.weight);
    assert.deepEqual(target.loadStateDict(state), { missing: [], unexpected: [] });
    outputsEqual(source, target, input);

    const before = target.conv.weight.toArray();
    const wrongShape: nn.StateDict = new Map(state);
    wrongShape.set('conv.weight', randn([2, 1, 3, 3]).mul(5));
    wrongShape.set('head.0.weight', randn([3, 5]));
    assert.throws(() => target.loadStateDict(wrongShape), /'head\.0\.weight' has shape \[3, 5\] but the model expects \[3, 8\]/);
    assert.deepEqual(target.conv.weight.toArray(), before, 'nothing is loaded when a shape is wrong');

    const partial: nn.StateDict = new Map(state);
    partial.delete('bn.running_var');
    partial.set('extra.weight', randn([1]));
    assert.throws(() => target.loadStateDict(partial), /missing keys bn\.running_var; unexpected keys extra\.weight/);
    assert.deepEqual(target.loadStateDict(partial, { strict: false }), { missing: ['bn.running_var'], unexpected: ['extra.weight'] });
  }));

// ---- optimizers: three steps on f(p) = ½‖p‖² + c·p, whose gradient is p + c, against PyTorch's formulas ----

const start = [1, -2, 0.5];
const c = [0.5, 1, -3];

/** Runs `steps` optimizer steps on a float64 parameter and returns its values. */
function optimize(make: (p: Tensor) => optim.Optimizer<Record<string, number | boolean>>, steps: number): number[] {
  return tidy(() => {
    const p = tensor(start, [3], { dtype: 'float64', requiresGrad: true });
    const shift = tensor(c, [3], { dtype: 'float64' });
    const optimizer = make(p);
    for (let i = 0; i < steps; i++) {
      tidy(() => {
        optimizer.zeroGrad();
        p.square().sum().mul(0.5).add(p.mul(shift).sum()).backward();
        optimizer.step();
      });
    }
    return p.toArray();
  });
}

/** PyTorch's SGD (torch/optim/sgd.py), one element at a time. */
function sgdReference(steps: number, o: { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }): number[] {
  return start.map((p0, i) => {
    let p = p0;
    let buf: number | undefined;
    for (let s = 0; s < steps; s++) {
      let d = p + c[i]! + (o.weightDecay ?? 0) * p;
      if (o.momentum) {
        buf = buf === undefined ? d : o.momentum * buf + (1 - (o.dampening ?? 0)) * d;
        d = o.nesterov ? d + o.momentum * buf : buf;
      }
      p -= o.lr * d;
    }
    return p;
  });
}

/** PyTorch's Adam / AdamW (torch/optim/adam.py, adamw.py), one element at a time. */
function adamReference(steps: number, o: { lr: number; weightDecay: number; decoupled: boolean }): number[] {
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  return start.map((p0, i) => {
    let [p, m, v] = [p0, 0, 0];
    for (let t = 1; t <= steps; t++) {
      let g = p + c[i]!;
      if (o.decoupled) p *= 1 - o.lr * o.weightDecay;
      else g += o.weightDecay * p;
      m = beta1 * m + (1 - beta1) * g;
      v = beta2 * v + (1 - beta2) * g * g;
      const denominator = Math.sqrt(v) / Math.sqrt(1 - beta2 ** t) + eps;
      p -= (o.lr / (1 - beta1 ** t)) * (m / denominator);
    }
    return p;
  });
}

test('SGD: plain, momentum with dampening, Nesterov, weight decay', () => {
  const configs = [
    { lr: 0.1 },
    { lr: 0.1, momentum: 0.9 },
    { lr: 0.05, momentum: 0.8, dampening: 0.3 },
    { lr: 0.1, momentum: 0.9, nesterov: true },
    { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 },
    { lr: 0.2, weightDecay: 0.1 },
  ];
  for (const config of configs) {
    assertValues(optimize((p) => new optim.SGD([p], config), 3), sgdReference(3, config), 1e-12);
  }
});

test('Adam (L2 weight decay) and AdamW (decoupled weight decay)', () => {
  assertValues(optimize((p) => new optim.Adam([p], { lr: 0.1 }), 3), adamReference(3, { lr: 0.1, weightDecay: 0, decoupled: false }), 1e-12);
  assertValues(
    optimize((p) => new optim.Adam([p], { lr: 0.1, weightDecay: 0.05 }), 3),
    adamReference(3, { lr: 0.1, weightDecay: 0.05, decoupled: false }),
    1e-12,
  );
  assertValues(optimize((p) => new optim.AdamW([p], { lr: 0.1 }), 3), adamReference(3, { lr: 0.1, weightDecay: 0.01, decoupled: true }), 1e-12);
  assertValues(
    optimize((p) => new optim.AdamW([p], { lr: 0.01, weightDecay: 0.5 }), 2),
    adamReference(2, { lr: 0.01, weightDecay: 0.5, decoupled: true }),
    1e-12,
  );
});

test('parameter groups keep their own hyperparameters, changes apply at the next step, and gradless parameters stay put', () =>
  tidy(() => {
    const a = tensor([1], [1], { dtype: 'float64', requiresGrad: true });
    const b = tensor([1], [1], { dtype: 'float64', requiresGrad: true });
    const idle = tensor([1], [1], { dtype: 'float64', requiresGrad: true });
    const sgd = new optim.SGD([{ params: [a] }, { params: [b, idle], hyper: { lr: 0.5, weightDecay: 1 } }], { lr: 0.1 });
    assert.equal(sgd.paramGroups[1]!.hyper.momentum, 0);
    const step = (): void =>
      tidy(() => {
        sgd.zeroGrad();
        a.add(b).sum().backward();
        sgd.step();
      });
    step();
    // a: 1 − 0.1·1; b: 1 − 0.5·(1 + 1·1).
    assertTensor(a, [1], [0.9]);
    assertTensor(b, [1], [0]);
    assertTensor(idle, [1], [1]);
    assert.equal(idle.grad, null);
    sgd.paramGroups[0]!.hyper.lr = 1;
    step();
    assertTensor(a, [1], [-0.1]);
  }));

/** Trains a small model for `steps` Adam or SGD steps on fixed data. */
function train(model: nn.Module, optimizer: optim.Optimizer<Record<string, number | boolean>>, steps: number): void {
  const x = tidy(() => {
    manualSeed(9);
    return randn([8, 1, 4, 4]);
  });
  for (let i = 0; i < steps; i++) {
    tidy(() => {
      optimizer.zeroGrad();
      (model.forward(x) as Tensor).square().mean().backward();
      optimizer.step();
    });
  }
  x.dispose();
}

/** A copy of the optimizer state through the safetensors format and JSON, as a checkpoint stores it. */
function checkpoint(state: optim.OptimizerState): optim.OptimizerState {
  return {
    groups: JSON.parse(JSON.stringify(state.groups)),
    tensors: parseSafetensors(serializeSafetensors(state.tensors)).tensors,
  };
}

for (const [name, make] of [
  ['Adam', (params: Tensor[]) => new optim.Adam(params, { lr: 0.01, weightDecay: 1e-4 })],
  ['SGD with Nesterov momentum', (params: Tensor[]) => new optim.SGD(params, { lr: 0.01, momentum: 0.9, nesterov: true })],
] as const) {
  test(`${name}: a restored optimizer state continues exactly like the original`, () => {
    manualSeed(3);
    const original = new Net();
    const first = make(original.parameters());
    train(original, first, 3);
    const savedModel = new Map([...original.stateDict()].map(([k, v]) => [k, noGrad(() => v.clone())]));
    const savedOptimizer = checkpoint(first.stateDict());
    train(original, first, 2);

    const restored = new Net();
    restored.loadStateDict(savedModel);
    const second = make(restored.parameters());
    second.loadStateDict(savedOptimizer);
    train(restored, second, 2);
    for (const [key, value] of original.stateDict()) {
      assert.deepEqual(restored.stateDict().get(key)!.toArray(), value.toArray(), `${key} after resuming`);
    }
    // Loading an optimizer's own state is a no-op.
    second.loadStateDict(second.stateDict());
    assert.throws(
      () => second.loadStateDict({ groups: savedOptimizer.groups, tensors: new Map([['0.99.exp_avg', tensor([1])]]) }),
      /'0\.99\.exp_avg' has no matching parameter/,
    );
    assert.throws(() => second.loadStateDict({ groups: [], tensors: new Map() }), /0 parameter groups, this optimizer has 1/);
  });
}
