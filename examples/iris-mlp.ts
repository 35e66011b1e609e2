/**
 * A small MLP on Fisher's Iris flowers (the bundled fixed 120/30 split): features standardised with
 * the training statistics, 4 -> 16 -> 3 with ReLU, Adam, cross-entropy, trained with `fit`.
 * Run it with `npx tsx examples/iris-mlp.ts`.
 * @module
 */
import { pathToFileURL } from 'node:url';
import {
  accuracy,
  confusionMatrix,
  data,
  evaluate,
  fit,
  formatConfusionMatrix,
  IRIS_CLASSES,
  loadIris,
  manualSeed,
  nn,
  noGrad,
  optim,
  type Tensor,
} from '../src/node/index.js';

/** Options of `trainIrisMlp`. */
export interface IrisOptions {
  /** Training epochs (default 60). */
  epochs?: number;
  /** Hidden units (default 16). */
  hidden?: number;
  /** Adam learning rate (default 0.01). */
  lr?: number;
  /** Mini-batch size (default 16). */
  batchSize?: number;
  /** Seed of the weights and the shuffling (default 0). */
  seed?: number;
  /** 0: silent (default), 1: progress bar, 2: one line per epoch. */
  verbose?: 0 | 1 | 2;
}

/** What `trainIrisMlp` returns. */
export interface IrisResult {
  /** Accuracy on the 30 test flowers. */
  testAccuracy: number;
  /** Accuracy on the 120 training flowers. */
  trainAccuracy: number;
  /** Training loss per epoch. */
  losses: number[];
  /** Test confusion matrix [3, 3] (rows: true class). */
  confusion: Tensor;
  /** The trained model. */
  model: nn.Sequential;
}

/** Trains the MLP on the Iris train split and evaluates it on the test split. Deterministic for a seed. */
export function trainIrisMlp(options: IrisOptions = {}): IrisResult {
  const epochs = options.epochs ?? 60;
  manualSeed(options.seed ?? 0);
  const train = loadIris({ split: 'train' });
  const test = loadIris({ split: 'test' });
  // standardise with the training split's statistics only
  const mean = train.features.mean(0, { keepdim: true });
  const std = train.features.std(0, { keepdim: true });
  const xTrain = train.features.sub(mean).div(std);
  const xTest = test.features.sub(mean).div(std);

  const hidden = options.hidden ?? 16;
  const model = new nn.Sequential(new nn.Linear(4, hidden), new nn.ReLU(), new nn.Linear(hidden, 3));
  const loader = new data.DataLoader(new data.TensorDataset(xTrain, train.labels), {
    batchSize: options.batchSize ?? 16,
    shuffle: true,
  });
  const history = fit(model, {
    train: loader,
    loss: nn.functional.crossEntropy,
    optimizer: new optim.Adam(model.parameters(), { lr: options.lr ?? 0.01 }),
    epochs,
    metrics: ['accuracy'],
    verbose: options.verbose ?? 0,
  });
  const testLoader = new data.DataLoader(new data.TensorDataset(xTest, test.labels), { batchSize: 30 });
  const testLogs = evaluate(model, testLoader, { metrics: ['accuracy'] });
  model.eval();
  const [trainOut, testOut] = noGrad(() => [model.forward<Tensor>(xTrain), model.forward<Tensor>(xTest)]);
  return {
    testAccuracy: testLogs.accuracy!,
    trainAccuracy: accuracy(trainOut!, train.labels),
    losses: history.history.loss ?? [],
    confusion: confusionMatrix(testOut!, test.labels, 3),
    model,
  };
}

function main(): void {
  const t0 = performance.now();
  console.log('Iris: MLP 4-16-3 (ReLU), Adam, 120 train / 30 test flowers');
  const r = trainIrisMlp({ verbose: 2 });
  console.log(
    `train accuracy ${(100 * r.trainAccuracy).toFixed(1)}%, test accuracy ${(100 * r.testAccuracy).toFixed(1)}%`,
  );
  console.log(formatConfusionMatrix(r.confusion, { labels: IRIS_CLASSES }));
  console.log(`done in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
