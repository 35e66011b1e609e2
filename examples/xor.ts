/**
 * Fits a small two-layer MLP to XOR (and a noisy sine) with Neurite's autograd: plain tensors with
 * `requiresGrad`, `backward()`, and a hand-written in-place SGD step under `noGrad`. Run it with `npm start`.
 * @module
 */
import { pathToFileURL } from 'node:url';
import { manualSeed, noGrad, randn, type Tensor, tensor } from '../src/index.js';

/** Options of the training functions. */
export interface TrainOptions {
  /** Number of SGD steps. */
  steps?: number;
  /** Learning rate. */
  lr?: number;
  /** Hidden units. */
  hidden?: number;
  /** Seed for the initial weights (and the noise of the sine data). */
  seed?: number;
  /** Called every `logEvery` steps (and after the last) with the step number and the loss. */
  onLog?: (step: number, loss: number) => void;
  /** Logging interval in steps. */
  logEvery?: number;
}

/** What training returns. */
export interface TrainResult {
  /** Loss at every step. */
  losses: number[];
  /** Loss after the last step. */
  finalLoss: number;
  /** The model's outputs on the training inputs after training. */
  predictions: number[];
}

/** A two-layer perceptron: tanh(x W1 + b1) W2 + b2, with parameters as plain leaf tensors. */
class Mlp {
  readonly params: Tensor[];

  constructor(inputs: number, hidden: number, outputs: number) {
    // Xavier-like scaling keeps tanh out of saturation at the start.
    this.params = [
      randn([inputs, hidden]).mul(Math.sqrt(1 / inputs)),
      randn([hidden]).mul(0.1),
      randn([hidden, outputs]).mul(Math.sqrt(1 / hidden)),
      randn([outputs]).mul(0.1),
    ].map((p) => p.requiresGrad_());
  }

  forward(x: Tensor): Tensor {
    const [w1, b1, w2, b2] = this.params as [Tensor, Tensor, Tensor, Tensor];
    return x.matmul(w1).add(b1).tanh().matmul(w2).add(b2);
  }

  /** Plain SGD, in place under noGrad (like `with torch.no_grad(): p -= lr * p.grad`), then clears the grads. */
  step(lr: number): void {
    noGrad(() => {
      for (const p of this.params) p.sub_(p.grad!, { alpha: lr });
    });
    for (const p of this.params) p.grad = null;
  }
}

function train(x: Tensor, y: Tensor, out: (z: Tensor) => Tensor, opts: TrainOptions, defaults: TrainOptions) {
  const o = { ...defaults, ...opts };
  const steps = o.steps!;
  const logEvery = o.logEvery ?? Math.max(1, Math.floor(steps / 10));
  manualSeed(o.seed!);
  const model = new Mlp(x.shape[1]!, o.hidden!, 1);
  const losses: number[] = [];
  for (let i = 1; i <= steps; i++) {
    const loss = out(model.forward(x)).sub(y).square().mean();
    loss.backward();
    model.step(o.lr!);
    losses.push(loss.item());
    if (o.onLog && (i === 1 || i % logEvery === 0 || i === steps)) o.onLog(i, loss.item());
  }
  const pred = noGrad(() => out(model.forward(x)));
  const finalLoss = pred.sub(y).square().mean().item();
  return { model, result: { losses, finalLoss, predictions: Array.from(pred.dataSync()) } };
}

/** The four XOR inputs and their targets. */
export const XOR_X = [
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
];
/** XOR targets. */
export const XOR_Y = [0, 1, 1, 0];

/** Trains an MLP with a sigmoid output on XOR (mean squared error). Deterministic for a given seed. */
export function trainXor(options: TrainOptions = {}): TrainResult {
  const x = tensor(XOR_X, { dtype: 'float32' });
  const y = tensor(XOR_Y, { dtype: 'float32' }).reshape(4, 1);
  return train(x, y, (z) => z.sigmoid(), options, { steps: 2000, lr: 2, hidden: 8, seed: 0 }).result;
}

/** Trains an MLP on y = sin(x) + noise for 64 points in [-pi, pi]. Deterministic for a given seed. */
export function trainSine(options: TrainOptions = {}): TrainResult {
  manualSeed(options.seed ?? 0);
  const n = 64;
  const xs = Array.from({ length: n }, (_, i) => -Math.PI + (2 * Math.PI * i) / (n - 1));
  const noise = randn([n]).mul(0.05).dataSync();
  // inputs scaled to [-1, 1] keep the tanh units well conditioned
  const x = tensor(
    xs.map((v) => v / Math.PI),
    { dtype: 'float32' },
  ).reshape(n, 1);
  const y = tensor(
    xs.map((v, i) => Math.sin(v) + noise[i]!),
    { dtype: 'float32' },
  ).reshape(n, 1);
  return train(x, y, (z) => z, options, { steps: 3000, lr: 0.1, hidden: 16, seed: 1 }).result;
}

function main(): void {
  const t0 = performance.now();
  console.log('XOR: 2-8-1 MLP, tanh hidden layer, sigmoid output, SGD');
  const xor = trainXor({
    onLog: (s, l) => console.log(`  step ${String(s).padStart(4)}  loss ${l.toFixed(6)}`),
  });
  for (const [i, inp] of XOR_X.entries()) {
    console.log(`  ${inp.join(' xor ')} -> ${xor.predictions[i]!.toFixed(3)} (target ${XOR_Y[i]})`);
  }
  console.log('\nNoisy sine: 1-16-1 MLP, tanh hidden layer, SGD');
  const sine = trainSine({
    onLog: (s, l) => console.log(`  step ${String(s).padStart(4)}  loss ${l.toFixed(6)}`),
  });
  for (const i of [0, 16, 32, 48, 63]) {
    const xv = -Math.PI + (2 * Math.PI * i) / 63;
    console.log(
      `  sin(${xv.toFixed(2).padStart(5)}) = ${Math.sin(xv).toFixed(3).padStart(6)}, model ${sine.predictions[i]!.toFixed(3).padStart(6)}`,
    );
  }
  console.log(`\ndone in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
