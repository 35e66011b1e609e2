/**
 * The CLI's commands: `train mnist`, `eval` and `predict`. Each writes its report to `io.stdout`
 * and throws `CliError` (or a library error) for the caller to report on one line.
 * @module
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../autograd/grad-mode.js';
import { getBackend } from '../backends/backend.js';
import { getNumThreads, wasmThreadPool } from '../backends/wasm/index.js';
import { compiledKernelBuilds } from '../backends/wasm/kernels.js';
import { tensor } from '../core/creation.js';
import { manualSeed } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';
import { DataLoader } from '../data/dataloader.js';
import { TensorDataset } from '../data/dataset.js';
import { DEFAULT_MNIST_CNN_CONFIG, MnistCnn, type MnistCnnConfig } from '../models/mnist-cnn.js';
import { crossEntropy } from '../nn/functional/loss.js';
import { loadMnist } from '../node/datasets.js';
import { loadCheckpoint, saveCheckpoint } from '../node/io.js';
import { Adagrad } from '../optim/adagrad.js';
import { Adam, AdamW } from '../optim/adam.js';
import { OneCycleLR } from '../optim/lr-scheduler.js';
import type { Optimizer } from '../optim/optimizer.js';
import { RMSprop } from '../optim/rmsprop.js';
import { SGD } from '../optim/sgd.js';
import type { CallbackLike } from '../train/callbacks.js';
import { fit } from '../train/fit.js';
import { confusionMatrix, formatConfusionMatrix } from '../train/metrics.js';
import type { OutputStream } from '../train/progress.js';
import { describeAllocator } from './allocator.js';
import { CliError, firstLine, loadModel, saveModel } from './model-file.js';
import { DEFAULT_LR, type OptimizerName } from './options.js';
import { readDigitPng } from './png.js';

/** Where a command writes. */
export interface CliIo {
  /** Normal output (reports, progress). */
  stdout: OutputStream;
  /** Error messages. */
  stderr: OutputStream;
}

/** Options of `neurite train mnist`. */
export interface TrainOptions {
  /** Total number of epochs (default 4). */
  epochs?: number;
  /** Mini-batch size (default 64). */
  batchSize?: number;
  /** Optimizer (default adam). */
  optimizer?: OptimizerName;
  /** Peak learning rate of the one-cycle schedule (default per optimizer, see DEFAULT_LR). */
  lr?: number;
  /** Seed of the weights, shuffling and dropout (default 0). */
  seed?: number;
  /** Output folder (default `./neurite-mnist`). */
  out?: string;
  /** Checkpoint file, or a folder whose latest `checkpoint-epoch-N.safetensors` is used. */
  resume?: string;
  /** Train on the first N training digits only (hidden; for tests and quick runs). */
  limit?: number;
  /** Evaluate on the first N test digits only (hidden). */
  testLimit?: number;
  /** Model configuration overrides (programmatic use only). */
  model?: Partial<MnistCnnConfig>;
}

/** Default settings of `neurite train mnist`. */
export const TRAIN_DEFAULTS = {
  epochs: 4,
  batchSize: 64,
  optimizer: 'adam' as OptimizerName,
  seed: 0,
  out: 'neurite-mnist',
};

/** What `trainMnist` returns. */
export interface TrainReport {
  /** Test accuracy in [0, 1]. */
  accuracy: number;
  /** Paths written. */
  modelPath: string;
  /** Path of config.json. */
  configPath: string;
  /** Checkpoints written by this run. */
  checkpoints: string[];
  /** Epochs completed in total (including resumed ones). */
  epochs: number;
  /** Wall time in seconds. */
  seconds: number;
}

/** Settings stored in checkpoints (so a resumed run trains the same way). */
interface RunSettings {
  config: MnistCnnConfig;
  optimizer: OptimizerName;
  lr: number;
  batchSize: number;
  epochs: number;
  seed: number;
  limit: number | null;
}

/** The checkpoint file name after `epoch` completed epochs. */
export function checkpointName(epoch: number): string {
  return `checkpoint-epoch-${String(epoch).padStart(3, '0')}.safetensors`;
}

const CKPT_RE = /^checkpoint-epoch-(\d+)\.safetensors$/;

/** Resolves `--resume`: a checkpoint file, or a folder (its highest-epoch checkpoint). */
function resolveResume(path: string): string {
  if (!existsSync(path)) throw new CliError(`checkpoint not found: ${path}`);
  if (!statSync(path).isDirectory()) return path;
  let best: { epoch: number; name: string } | null = null;
  for (const name of readdirSync(path)) {
    const m = CKPT_RE.exec(name);
    if (m && (!best || Number(m[1]) > best.epoch)) best = { epoch: Number(m[1]), name };
  }
  if (!best) throw new CliError(`no checkpoint-epoch-N.safetensors files in folder ${path}`);
  return join(path, best.name);
}

function makeOptimizer(name: OptimizerName, params: Tensor[], lr: number): Optimizer {
  switch (name) {
    case 'adam':
      return new Adam(params, { lr });
    case 'adamw':
      return new AdamW(params, { lr, weightDecay: 1e-2 });
    case 'sgd':
      return new SGD(params, { lr, momentum: 0.9, nesterov: true });
    case 'rmsprop':
      return new RMSprop(params, { lr });
    case 'adagrad':
      return new Adagrad(params, { lr });
  }
}

function percent(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

/** Accuracy, counts and confusion matrix of a classifier on images [N, 1, 28, 28] / labels [N]. */
export function evaluateClassifier(
  model: MnistCnn,
  images: Tensor,
  labels: Tensor,
  batchSize = 500,
): { accuracy: number; correct: number; total: number; confusion: Tensor } {
  const n = images.shape[0]!;
  const wasTraining = model.training;
  model.eval();
  const preds = new Int32Array(n);
  try {
    noGrad(() => {
      for (let s = 0; s < n; s += batchSize) {
        const len = Math.min(batchSize, n - s);
        const p = model
          .forward(images.narrow(0, s, len))
          .argmax(1)
          .dataSync();
        preds.set(p, s);
      }
    });
  } finally {
    model.train(wasTraining);
  }
  const truth = labels.dataSync();
  let correct = 0;
  for (let i = 0; i < n; i++) if (preds[i] === truth[i]) correct++;
  const confusion = confusionMatrix(tensor(preds, { dtype: 'int32' }), labels, model.config.numClasses);
  return { accuracy: n > 0 ? correct / n : 0, correct, total: n, confusion };
}

function writeEvaluation(io: CliIo, r: ReturnType<typeof evaluateClassifier>): void {
  io.stdout.write(`Test accuracy: ${percent(r.accuracy)} (${r.correct}/${r.total})\n`);
  io.stdout.write('Confusion matrix (rows: true digit, columns: predicted digit):\n');
  io.stdout.write(`${formatConfusionMatrix(r.confusion)}\n`);
}

function loadSplit(split: 'train' | 'test', limit: number | undefined): { images: Tensor; labels: Tensor } {
  const d = loadMnist({ split });
  if (limit === undefined || limit >= d.images.shape[0]!) return d;
  return {
    images: d.images.narrow(0, 0, limit).contiguous(),
    labels: d.labels.narrow(0, 0, limit).contiguous(),
  };
}

/**
 * The current backend and how it runs, for the CLI's start-up line: e.g. `wasm (SIMD, relaxed FMA, 2
 * threads)` (relaxed FMA when the kernels compiled in this process are the relaxed-SIMD build; the
 * threads that large products use), or `cpu`.
 */
export function describeBackend(): string {
  const backend = getBackend();
  if (backend.name !== 'wasm') return backend.name;
  const relaxed = compiledKernelBuilds().some((b) => b.relaxed);
  const threads = wasmThreadPool(backend) === null ? 1 : getNumThreads();
  return `wasm (SIMD${relaxed ? ', relaxed FMA' : ''}, ${threads} thread${threads === 1 ? '' : 's'})`;
}

/** `neurite info`: the backend, its features and the runtime, one per line. */
export function printInfo(io: CliIo): void {
  io.stdout.write(`Backend: ${describeBackend()}\n`);
  io.stdout.write(`Runtime: Node ${process.version}\n`);
  io.stdout.write(`Allocator: ${describeAllocator()}\n`);
}

/** `neurite train mnist`: trains the default CNN, evaluates it, saves model, config and checkpoints. */
export function trainMnist(options: TrainOptions, io: CliIo): TrainReport {
  const t0 = performance.now();
  const out = options.out ?? TRAIN_DEFAULTS.out;
  let settings: RunSettings = {
    config: { ...DEFAULT_MNIST_CNN_CONFIG, ...options.model },
    optimizer: options.optimizer ?? TRAIN_DEFAULTS.optimizer,
    lr: options.lr ?? DEFAULT_LR[options.optimizer ?? TRAIN_DEFAULTS.optimizer],
    batchSize: options.batchSize ?? TRAIN_DEFAULTS.batchSize,
    epochs: options.epochs ?? TRAIN_DEFAULTS.epochs,
    seed: options.seed ?? TRAIN_DEFAULTS.seed,
    limit: options.limit ?? null,
  };
  let resumePath: string | null = null;
  if (options.resume !== undefined) {
    resumePath = resolveResume(options.resume);
    const saved = readSettings(resumePath);
    // the checkpoint fixes the model, optimizer, schedule and data; flags that contradict it are errors
    for (const key of ['epochs', 'optimizer', 'lr', 'batchSize', 'seed', 'limit'] as const) {
      const given = options[key];
      if (given !== undefined && given !== saved[key]) {
        throw new CliError(
          `cannot resume ${resumePath} with --${flagName(key)} ${given}: it was trained with ${saved[key]}`,
        );
      }
    }
    settings = saved;
  }

  mkdirSync(out, { recursive: true });
  manualSeed(settings.seed);
  const model = new MnistCnn(settings.config);
  const train = loadSplit('train', settings.limit ?? undefined);
  const test = loadSplit('test', options.testLimit);
  const loader = new DataLoader(new TensorDataset(train.images, train.labels), {
    batchSize: settings.batchSize,
    shuffle: true,
  });
  const optimizer = makeOptimizer(settings.optimizer, model.parameters(), settings.lr);
  const scheduler = new OneCycleLR(optimizer, {
    maxLr: settings.lr,
    epochs: settings.epochs,
    stepsPerEpoch: loader.length,
    pctStart: 0.25,
    cycleMomentum:
      settings.optimizer === 'sgd' || settings.optimizer === 'adam' || settings.optimizer === 'adamw',
  });

  let initialEpoch = 0;
  if (resumePath) {
    const info = loadCheckpoint(resumePath, {
      model,
      optimizer,
      scheduler,
      generators: { loader: loader.generator },
    });
    initialEpoch = info.epoch;
    io.stdout.write(`Resuming from ${resumePath} (epoch ${initialEpoch} of ${settings.epochs})\n`);
  }

  const nTrain = train.images.shape[0]!;
  const nTest = test.images.shape[0]!;
  io.stdout.write(`Backend: ${describeBackend()}\n`);
  io.stdout.write(
    `Training the MNIST CNN on ${nTrain} digits (${nTest} held out): ${settings.epochs} epochs, ` +
      `batch size ${settings.batchSize}, ${settings.optimizer} with one-cycle lr up to ${settings.lr}, seed ${settings.seed}\n`,
  );
  const checkpoints: string[] = [];
  const checkpointer: CallbackLike = {
    onEpochEnd: (epoch, _logs, ctx) => {
      const path = join(out, checkpointName(epoch + 1));
      saveCheckpoint(path, {
        model,
        optimizer,
        scheduler,
        epoch: epoch + 1,
        step: ctx.globalStep,
        extra: { settings },
        generators: { loader: loader.generator },
      });
      checkpoints.push(path);
    },
  };
  if (initialEpoch < settings.epochs) {
    fit(model, {
      train: loader,
      loss: crossEntropy,
      optimizer,
      scheduler,
      schedulerInterval: 'batch',
      epochs: settings.epochs,
      initialEpoch,
      metrics: ['accuracy'],
      callbacks: [checkpointer],
      progress: { stream: io.stdout },
    });
  } else {
    io.stdout.write(`The checkpoint already has ${initialEpoch} epochs; nothing to train.\n`);
  }
  if (checkpoints.length) io.stdout.write(`Checkpoints: ${checkpoints.join(', ')}\n`);

  const r = evaluateClassifier(model, test.images, test.labels);
  writeEvaluation(io, r);
  const seconds = (performance.now() - t0) / 1000;
  const paths = saveModel(out, model, {
    dataset: 'mnist',
    trainDigits: nTrain,
    testDigits: nTest,
    epochs: Math.max(initialEpoch, settings.epochs),
    batchSize: settings.batchSize,
    optimizer: settings.optimizer,
    lr: settings.lr,
    seed: settings.seed,
    testAccuracy: r.accuracy,
    seconds: Math.round(seconds * 10) / 10,
  });
  io.stdout.write(`Saved ${paths.model} and ${paths.config} (${seconds.toFixed(1)} s)\n`);
  return {
    accuracy: r.accuracy,
    modelPath: paths.model,
    configPath: paths.config,
    checkpoints,
    epochs: Math.max(initialEpoch, settings.epochs),
    seconds,
  };
}

function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Reads the run settings stored in a checkpoint (without loading its tensors into anything). */
function readSettings(path: string): RunSettings {
  // load into a throwaway model: loadCheckpoint returns `extra` after restoring the weights
  const probe = { stateDict: () => new Map<string, Tensor>(), loadStateDict: () => undefined };
  let extra: unknown;
  try {
    extra = loadCheckpoint(path, { model: probe, strict: false, restoreDefaultGenerator: false }).extra;
  } catch (e) {
    throw new CliError(`cannot read checkpoint ${path}: ${firstLine(e)}`);
  }
  const s = (extra as { settings?: RunSettings } | undefined)?.settings;
  if (!s || typeof s !== 'object' || !s.config) {
    throw new CliError(`${path} is not a checkpoint written by 'neurite train mnist'`);
  }
  return s;
}

/** Options of `neurite eval`. */
export interface EvalOptions {
  /** Evaluate on the first N test digits only (hidden). */
  limit?: number;
}

/** `neurite eval <model>`: accuracy and confusion matrix on the MNIST test split. */
export function evalModel(modelPath: string, options: EvalOptions, io: CliIo): number {
  const model = loadModel(modelPath);
  const test = loadSplit('test', options.limit);
  const r = evaluateClassifier(model, test.images, test.labels);
  io.stdout.write(`Model ${modelPath} on the MNIST test split (${r.total} digits)\n`);
  writeEvaluation(io, r);
  return r.accuracy;
}

/** Options of `neurite predict`. */
export interface PredictOptions {
  /** Print JSON instead of text. */
  json?: boolean;
}

/** What `predictDigit` returns. */
export interface Prediction {
  /** The most probable class. */
  digit: number;
  /** Softmax probabilities per class. */
  probabilities: number[];
  /** Whether the image was inverted (dark digit on a light background). */
  inverted: boolean;
}

/** `neurite predict <model> <image.png>`: the predicted digit and the class probabilities. */
export function predictDigit(
  modelPath: string,
  imagePath: string,
  options: PredictOptions,
  io: CliIo,
): Prediction {
  const model = loadModel(modelPath);
  const img = readDigitPng(imagePath);
  const probs = noGrad(() => model.forward(img.input).softmax(1));
  const probabilities = Array.from(probs.dataSync());
  let digit = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[digit]!) digit = i;
  const result: Prediction = { digit, probabilities, inverted: img.inverted };
  if (options.json) {
    io.stdout.write(`${JSON.stringify(result)}\n`);
    return result;
  }
  const notes = [`${img.width}x${img.height}`];
  if (img.width !== 28 || img.height !== 28) notes.push('resized to 28x28');
  if (img.inverted) notes.push('inverted: dark digit on a light background');
  io.stdout.write(`Image ${imagePath} (${notes.join(', ')})\n`);
  io.stdout.write(`Predicted digit: ${digit} (probability ${probabilities[digit]!.toFixed(4)})\n`);
  io.stdout.write('Class probabilities:\n');
  probabilities.forEach((p, i) => {
    const bar = '#'.repeat(Math.round(p * 40));
    io.stdout.write(`  ${i}: ${p.toFixed(4)} ${bar}\n`);
  });
  return result;
}
