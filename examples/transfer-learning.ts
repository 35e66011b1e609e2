/**
 * Transfer learning with the MNIST CNN:
 *
 * 1. Pre-train the CNN on the digits 0-4.
 * 2. Freeze its convolutional feature extractor (`model.features.requiresGrad_(false)`, and keep its
 *    batch norm layers in eval mode so their running statistics stay fixed), replace the last layer
 *    with a new `Linear(hidden, 5)` for the digits 5-9, and fine-tune the dense head on a small
 *    labelled subset of 5-9.
 * 3. Train the same architecture from scratch on the same small subset (100 digits, 20 per class),
 *    with the same epochs, batches and optimizer, and compare both on all held-out test digits 5-9.
 *    This is repeated on a few different subsets and averaged.
 *
 * With few labels and a short training budget the features learned on 0-4 (strokes, curves,
 * junctions) give the fine-tuned model a large head start: after one epoch over the 100 digits it is
 * about 70% accurate, the from-scratch CNN about 40%. With more epochs the from-scratch CNN catches up
 * (on MNIST even random convolution features with batch norm are good, and the dense layer learned
 * from the few labels is the limit), so the example prints the accuracy of both after every epoch.
 * Run it with `npx tsx examples/transfer-learning.ts`.
 * @module
 */
import { pathToFileURL } from 'node:url';
import { MnistCnn, type MnistCnnConfig } from '../src/models/mnist-cnn.js';
import { data, loadMnist, manualSeed, nn, noGrad, optim, type Tensor, tensor } from '../src/node/index.js';

/** Options of `runTransferLearning`. */
export interface TransferOptions {
  /** Digits 0-4 used for pre-training (the first N of the train split that are 0-4; default 3000). */
  pretrainSize?: number;
  /** Pre-training epochs (default 2). */
  pretrainEpochs?: number;
  /** Labelled digits per class (5-9) in each small fine-tuning subset (default 20: 100 digits). */
  perClass?: number;
  /** Epochs over the small subset, for both models; both are evaluated after every epoch (default 4). */
  fewShotEpochs?: number;
  /** Number of different small subsets to average over (default 3). */
  trials?: number;
  /** Test digits per group to compare on (first N of the test split that are 5-9, and 0-4; default 600). */
  testSize?: number;
  /** Model configuration overrides (e.g. fewer channels for a quicker run). */
  model?: Partial<MnistCnnConfig>;
  /** Seed (default 0). */
  seed?: number;
  /** Progress messages. */
  log?: (message: string) => void;
}

/** What `runTransferLearning` returns. */
export interface TransferResult {
  /** Accuracy of the pre-trained model on test digits 0-4 (its own task). */
  pretrainAccuracy: number;
  /**
   * After each fine-tuning epoch, the mean accuracy over the trials on test digits 5-9 of the
   * frozen-features model with the new head (`transfer`) and of the same CNN trained from scratch on
   * the same subset (`scratch`).
   */
  curve: { transfer: number; scratch: number }[];
  /** `curve`'s last entry: mean accuracy of the transfer model after the last epoch. */
  transferAccuracy: number;
  /** `curve`'s last entry: mean accuracy of the from-scratch model after the last epoch. */
  scratchAccuracy: number;
  /** Parameters updated during fine-tuning. */
  trainableParams: number;
  /** All parameters of the model. */
  totalParams: number;
}

/** The samples of `images`/`labels` whose label is in [lo, hi], first `n` of them, with labels shifted by -lo. */
export function selectDigits(
  images: Tensor,
  labels: Tensor,
  lo: number,
  hi: number,
  n: number,
): { x: Tensor; y: Tensor } {
  const ys = labels.dataSync();
  const idx: number[] = [];
  for (let i = 0; i < ys.length && idx.length < n; i++) if (ys[i]! >= lo && ys[i]! <= hi) idx.push(i);
  const sel = tensor(idx, { dtype: 'int32' });
  return { x: images.indexSelect(0, sel), y: labels.indexSelect(0, sel).sub(lo).int() };
}

/**
 * A class-balanced subset: for each class c in [lo, hi], its samples number `skip * k` to
 * `skip * k + k - 1` (in split order); labels shifted by -lo.
 */
export function balancedDigits(
  images: Tensor,
  labels: Tensor,
  lo: number,
  hi: number,
  k: number,
  skip = 0,
): { x: Tensor; y: Tensor } {
  const ys = labels.dataSync();
  const idx: number[] = [];
  for (let c = lo; c <= hi; c++) {
    let seen = 0;
    for (let i = 0; i < ys.length && seen < (skip + 1) * k; i++) {
      if (ys[i] !== c) continue;
      if (seen >= skip * k) idx.push(i);
      seen++;
    }
  }
  const sel = tensor(idx, { dtype: 'int32' });
  return { x: images.indexSelect(0, sel), y: labels.indexSelect(0, sel).sub(lo).int() };
}

/**
 * A plain PyTorch-style training loop. With `freezeFeatures`, the feature extractor stays in eval mode
 * (fixed batch-norm statistics) while the head trains.
 */
export function trainLoop(
  model: MnistCnn,
  loader: data.DataLoader<Tensor[]>,
  optimizer: optim.Optimizer,
  epochs: number,
  freezeFeatures: boolean,
): void {
  for (let e = 0; e < epochs; e++) {
    model.train();
    if (freezeFeatures) model.features.eval();
    for (const [x, y] of loader) {
      optimizer.zeroGrad();
      nn.functional.crossEntropy(model.forward(x!), y!).backward();
      optimizer.step();
    }
  }
}

/** Accuracy of `model` on x/y, in eval mode, in batches. */
export function accuracyOf(model: MnistCnn, x: Tensor, y: Tensor): number {
  model.eval();
  const n = x.shape[0]!;
  const truth = y.dataSync();
  let correct = 0;
  noGrad(() => {
    for (let s = 0; s < n; s += 500) {
      const len = Math.min(500, n - s);
      const pred = model
        .forward(x.narrow(0, s, len))
        .argmax(1)
        .dataSync();
      for (let i = 0; i < len; i++) if (pred[i] === truth[s + i]) correct++;
    }
  });
  return correct / n;
}

function count(params: readonly Tensor[]): number {
  return params.reduce((a, p) => a + p.numel(), 0);
}

/** Runs the three stages (see the module doc). Deterministic for a seed. */
export function runTransferLearning(options: TransferOptions = {}): TransferResult {
  const seed = options.seed ?? 0;
  const log = options.log ?? (() => {});
  const cfg = { ...options.model, numClasses: 5 };
  const k = options.perClass ?? 20;
  const fewEpochs = options.fewShotEpochs ?? 4;
  const nTrials = options.trials ?? 3;
  const train = loadMnist({ split: 'train' });
  const test = loadMnist({ split: 'test' });
  const pre = selectDigits(train.images, train.labels, 0, 4, options.pretrainSize ?? 3000);
  const preTest = selectDigits(test.images, test.labels, 0, 4, options.testSize ?? 600);
  const target = selectDigits(test.images, test.labels, 5, 9, options.testSize ?? 600);

  // 1. pre-train on 0-4
  manualSeed(seed);
  const pretrained = new MnistCnn(cfg);
  const preLoader = new data.DataLoader(new data.TensorDataset(pre.x, pre.y), {
    batchSize: 64,
    shuffle: true,
  });
  log(`pre-training on ${pre.x.shape[0]} digits 0-4 ...`);
  trainLoop(
    pretrained,
    preLoader,
    new optim.Adam(pretrained.parameters(), { lr: 2e-3 }),
    options.pretrainEpochs ?? 2,
    false,
  );
  const pretrainAccuracy = accuracyOf(pretrained, preTest.x, preTest.y);
  log(`  accuracy on test digits 0-4: ${(100 * pretrainAccuracy).toFixed(1)}%`);
  const weights = pretrained.stateDict();

  const sums = Array.from({ length: fewEpochs }, () => ({ transfer: 0, scratch: 0 }));
  let trainableParams = 0;
  let totalParams = 0;
  for (let t = 0; t < nTrials; t++) {
    // a different small labelled subset of 5-9 per trial (pre-training never saw a 5-9)
    const few = balancedDigits(train.images, train.labels, 5, 9, k, t);
    const fewLoader = () =>
      new data.DataLoader(new data.TensorDataset(few.x, few.y), { batchSize: 16, shuffle: true });

    // 2. frozen features + new head, fine-tuned on the subset
    manualSeed(seed + 1 + t);
    const model = new MnistCnn(cfg);
    model.loadStateDict(weights);
    model.features.requiresGrad_(false);
    model.classifier.set(4, new nn.Linear(model.config.hidden, 5));
    const trainable = model.parameters().filter((p) => p.requiresGrad);
    trainableParams = count(trainable);
    totalParams = count(model.parameters());
    const loader = fewLoader();
    const opt = new optim.Adam(trainable, { lr: 2e-3 });
    for (let e = 0; e < fewEpochs; e++) {
      trainLoop(model, loader, opt, 1, true);
      sums[e]!.transfer += accuracyOf(model, target.x, target.y);
    }

    // 3. the same architecture from scratch on the same subset, same epochs and batch order
    manualSeed(seed + 1 + t);
    const scratch = new MnistCnn(cfg);
    const scratchLoader = fewLoader();
    const scratchOpt = new optim.Adam(scratch.parameters(), { lr: 2e-3 });
    for (let e = 0; e < fewEpochs; e++) {
      trainLoop(scratch, scratchLoader, scratchOpt, 1, false);
      sums[e]!.scratch += accuracyOf(scratch, target.x, target.y);
    }
    log(`trial ${t + 1}/${nTrials} on ${few.x.shape[0]} labelled digits 5-9 done`);
  }
  const curve = sums.map((s) => ({ transfer: s.transfer / nTrials, scratch: s.scratch / nTrials }));
  return {
    pretrainAccuracy,
    curve,
    transferAccuracy: curve[curve.length - 1]!.transfer,
    scratchAccuracy: curve[curve.length - 1]!.scratch,
    trainableParams,
    totalParams,
  };
}

function main(): void {
  const t0 = performance.now();
  console.log('Transfer learning: CNN features learned on digits 0-4, reused for digits 5-9');
  const r = runTransferLearning({ log: (m) => console.log(m) });
  console.log(
    `fine-tuned ${r.trainableParams} of ${r.totalParams} parameters (the conv features are frozen)`,
  );
  console.log('mean test accuracy on digits 5-9 after each epoch over the 100 labelled digits:');
  console.log('  epoch   frozen features + new head   from scratch');
  r.curve.forEach((c, e) => {
    const pct = (v: number) => `${(100 * v).toFixed(1)}%`.padStart(6);
    console.log(
      `  ${String(e + 1).padStart(5)}   ${pct(c.transfer).padStart(26)}   ${pct(c.scratch).padStart(12)}`,
    );
  });
  console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
