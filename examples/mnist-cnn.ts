/**
 * The default MNIST CNN (src/models/mnist-cnn.ts: two conv + batch norm + ReLU + max-pool blocks,
 * dropout and a dense head) trained with `fit` on a subset of the bundled digits, then evaluated on
 * held-out digits with accuracy and a confusion matrix. (`neurite train mnist` / `npm start` trains
 * it on all 8,000 training digits.) Run it with `npx tsx examples/mnist-cnn.ts`.
 * @module
 */
import { pathToFileURL } from 'node:url';
import { MnistCnn, type MnistCnnConfig } from '../src/models/mnist-cnn.js';
import {
  cat,
  confusionMatrix,
  data,
  fit,
  formatConfusionMatrix,
  loadMnist,
  manualSeed,
  nn,
  noGrad,
  optim,
  type Tensor,
} from '../src/node/index.js';

/** Options of `trainMnistCnn`. */
export interface MnistCnnOptions {
  /** Training digits, the first N of the train split (default 3000). */
  trainSize?: number;
  /** Test digits, the first N of the test split (default 1000). */
  testSize?: number;
  /** Epochs (default 2). */
  epochs?: number;
  /** Mini-batch size (default 64). */
  batchSize?: number;
  /** Peak learning rate of the one-cycle schedule (default 0.002). */
  lr?: number;
  /** Seed (default 0). */
  seed?: number;
  /** Model configuration overrides (e.g. fewer channels for a quicker run). */
  model?: Partial<MnistCnnConfig>;
  /** 0: silent (default), 1: progress bar, 2: one line per epoch. */
  verbose?: 0 | 1 | 2;
}

/** What `trainMnistCnn` returns. */
export interface MnistCnnResult {
  /** Accuracy on the test digits. */
  testAccuracy: number;
  /** Training loss per epoch. */
  losses: number[];
  /** Confusion matrix [10, 10] on the test digits (rows: true digit). */
  confusion: Tensor;
  /** The trained model. */
  model: MnistCnn;
}

/** Trains the CNN on a subset of MNIST and evaluates it. Deterministic for a seed. */
export function trainMnistCnn(options: MnistCnnOptions = {}): MnistCnnResult {
  manualSeed(options.seed ?? 0);
  const train = loadMnist({ split: 'train' });
  const test = loadMnist({ split: 'test' });
  const nTrain = Math.min(options.trainSize ?? 3000, train.images.shape[0]!);
  const nTest = Math.min(options.testSize ?? 1000, test.images.shape[0]!);
  const epochs = options.epochs ?? 2;

  const model = new MnistCnn(options.model);
  const loader = new data.DataLoader(
    new data.TensorDataset(train.images.narrow(0, 0, nTrain), train.labels.narrow(0, 0, nTrain)),
    { batchSize: options.batchSize ?? 64, shuffle: true },
  );
  const lr = options.lr ?? 2e-3;
  const optimizer = new optim.Adam(model.parameters(), { lr });
  const scheduler = new optim.lrScheduler.OneCycleLR(optimizer, {
    maxLr: lr,
    epochs,
    stepsPerEpoch: loader.length,
    pctStart: 0.25,
  });
  const history = fit(model, {
    train: loader,
    loss: nn.functional.crossEntropy,
    optimizer,
    scheduler,
    schedulerInterval: 'batch',
    epochs,
    metrics: ['accuracy'],
    verbose: options.verbose ?? 0,
  });

  // evaluate in eval mode (batch norm uses its running statistics, dropout is off), in batches
  model.eval();
  const xTest = test.images.narrow(0, 0, nTest);
  const yTest = test.labels.narrow(0, 0, nTest);
  const logits: Tensor[] = [];
  noGrad(() => {
    for (let s = 0; s < nTest; s += 500)
      logits.push(model.forward(xTest.narrow(0, s, Math.min(500, nTest - s))));
  });
  const cm = confusionMatrix(cat(logits, 0), yTest, 10);
  const diag = (cm.toArray() as number[][]).reduce((a, row, i) => a + row[i]!, 0);
  return { testAccuracy: diag / nTest, losses: history.history.loss ?? [], confusion: cm, model };
}

function main(): void {
  const t0 = performance.now();
  console.log('MNIST CNN on 3,000 training digits, 2 epochs (npm start trains on all 8,000)');
  const r = trainMnistCnn({ verbose: 1 });
  console.log(`test accuracy on 1,000 held-out digits: ${(100 * r.testAccuracy).toFixed(2)}%`);
  console.log(formatConfusionMatrix(r.confusion));
  console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
