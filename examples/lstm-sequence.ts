/**
 * An LSTM learns to predict the next value of noisy sine waves. Each sequence is
 * sin(f·t + phase) + noise with a random frequency f in [0.15, 0.45] and a random phase; the model
 * sees 24 steps (one feature per step), reads the LSTM's last hidden state through a linear layer,
 * and predicts step 25. It has to infer the frequency and phase from the window, so it beats the
 * naive "repeat the last value" forecast by a wide margin.
 * Run it with `npx tsx examples/lstm-sequence.ts`.
 * @module
 */
import { pathToFileURL } from 'node:url';
import { Generator, manualSeed, nn, noGrad, optim, type Tensor, tensor } from '../src/node/index.js';

/** Options of `trainLstm`. */
export interface LstmOptions {
  /** Optimizer steps (default 300). */
  steps?: number;
  /** Sequences per step (default 32). */
  batchSize?: number;
  /** Input steps per sequence (default 24). */
  seqLen?: number;
  /** Hidden units (default 32). */
  hidden?: number;
  /** Standard deviation of the observation noise (default 0.05). */
  noise?: number;
  /** Adam learning rate (default 0.01). */
  lr?: number;
  /** Seed (default 0). */
  seed?: number;
  /** Called every `logEvery` steps with the step and the mean loss since the last call. */
  onLog?: (step: number, loss: number) => void;
  /** Logging interval (default steps / 10). */
  logEvery?: number;
}

/** What `trainLstm` returns. */
export interface LstmResult {
  /** Training loss (MSE) of every step. */
  losses: number[];
  /** Test MSE of the LSTM's next-value prediction. */
  testMse: number;
  /** Test MSE of predicting the last observed value (the naive baseline). */
  naiveMse: number;
  /** The trained model. */
  model: NextValueLstm;
}

/** One LSTM layer and a linear read-out of its last hidden state. */
export class NextValueLstm extends nn.Module {
  lstm: nn.LSTM;
  head: nn.Linear;
  constructor(hidden: number) {
    super();
    this.lstm = new nn.LSTM(1, hidden, { batchFirst: true });
    this.head = new nn.Linear(hidden, 1);
  }
  /** x [B, T, 1] -> prediction of the next value [B, 1]. */
  override forward(x: Tensor): Tensor {
    const [, [h]] = this.lstm.forward(x);
    // h: [numLayers=1, B, hidden]
    return this.head.forward(h.squeeze(0));
  }
}

/** A batch of noisy sine windows [B, T, 1] and their next values [B, 1], drawn from `g`. */
export function sineBatch(
  g: Generator,
  batch: number,
  seqLen: number,
  noise: number,
): { x: Tensor; y: Tensor; last: Tensor } {
  const xs = new Float32Array(batch * seqLen);
  const ys = new Float32Array(batch);
  const last = new Float32Array(batch);
  for (let b = 0; b < batch; b++) {
    const f = 0.15 + 0.3 * g.random();
    const phase = 2 * Math.PI * g.random();
    for (let t = 0; t <= seqLen; t++) {
      // Box-Muller noise from the same generator keeps batches reproducible
      const n = noise * Math.sqrt(-2 * Math.log(1 - g.random())) * Math.cos(2 * Math.PI * g.random());
      const v = Math.sin(f * t + phase) + n;
      if (t < seqLen) xs[b * seqLen + t] = v;
      else ys[b] = v;
    }
    last[b] = xs[b * seqLen + seqLen - 1]!;
  }
  return {
    x: tensor(xs, { shape: [batch, seqLen, 1] }),
    y: tensor(ys, { shape: [batch, 1] }),
    last: tensor(last, { shape: [batch, 1] }),
  };
}

/** Trains the LSTM on freshly drawn batches and evaluates it on 256 held-out sequences. */
export function trainLstm(options: LstmOptions = {}): LstmResult {
  const seed = options.seed ?? 0;
  const steps = options.steps ?? 300;
  const batch = options.batchSize ?? 32;
  const seqLen = options.seqLen ?? 24;
  const noise = options.noise ?? 0.05;
  const logEvery = options.logEvery ?? Math.max(1, Math.floor(steps / 10));
  manualSeed(seed);
  const model = new NextValueLstm(options.hidden ?? 32);
  const optimizer = new optim.Adam(model.parameters(), { lr: options.lr ?? 0.01 });
  const data = new Generator(seed + 1);
  const losses: number[] = [];
  let window = 0;
  for (let step = 1; step <= steps; step++) {
    const { x, y } = sineBatch(data, batch, seqLen, noise);
    optimizer.zeroGrad();
    const loss = nn.functional.mseLoss(model.forward(x), y);
    loss.backward();
    optimizer.step();
    const l = loss.item();
    losses.push(l);
    window += l;
    if (step % logEvery === 0 || step === steps) {
      options.onLog?.(step, window / (step % logEvery || logEvery));
      window = 0;
    }
  }
  const test = sineBatch(new Generator(seed + 2), 256, seqLen, noise);
  const pred = noGrad(() => model.forward(test.x));
  return {
    losses,
    testMse: nn.functional.mseLoss(pred, test.y).item(),
    naiveMse: nn.functional.mseLoss(test.last, test.y).item(),
    model,
  };
}

function main(): void {
  const t0 = performance.now();
  console.log('LSTM(1 -> 32) + Linear: next value of noisy sine waves (24-step windows)');
  const r = trainLstm({
    onLog: (s, l) => console.log(`  step ${String(s).padStart(4)}  loss ${l.toFixed(5)}`),
  });
  console.log(`test MSE: LSTM ${r.testMse.toFixed(5)}, repeat-last-value baseline ${r.naiveMse.toFixed(5)}`);
  console.log(`(the noise alone has variance ${(0.05 ** 2).toFixed(4)})`);
  console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
