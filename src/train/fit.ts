/**
 * `fit`: the training loop, Keras-style. Per batch it clears the gradients, runs the model and the
 * loss, reads the loss as a number, backpropagates and steps the optimizer; after each epoch it
 * evaluates the validation data under `noGrad` in eval mode, steps the LR scheduler and calls the
 * callbacks. Returns a `History` of per-epoch logs.
 * @module
 */
import { noGrad } from '../autograd/grad-mode.js';
import { ValueError } from '../core/errors.js';
import { fmt } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import type { Module } from '../nn/module.js';
import { callModule } from '../nn/modules/container.js';
import type { CallbackLike } from './callbacks.js';
import { getMetric, type Metric } from './metrics.js';
import { ProgressBar, type ProgressBarOptions } from './progress.js';
import {
  type FitContext,
  type FitParams,
  History,
  type Logs,
  type LossLike,
  NonFiniteLossError,
  type OptimizerLike,
  type SchedulerLike,
  TrainingError,
} from './types.js';

/** Batches of [input, target, ...] tensors, e.g. a `data.DataLoader` over a `TensorDataset(x, y)`. */
export type Batches = Iterable<readonly Tensor[]>;

/** Options of `fit`. */
export interface FitOptions {
  /** Training batches [x, y]; iterated once per epoch (an iterator that is not re-iterable is continued across epochs). */
  train: Batches;
  /** Validation batches [x, y], evaluated after every epoch (logged as `val_loss`, `val_<metric>`). */
  val?: Batches;
  /** The loss: a function (output, target) => scalar tensor, or a loss module (mean over the batch). */
  loss: LossLike;
  /** The optimizer stepping the model's parameters. */
  optimizer: OptimizerLike;
  /** Index one past the last epoch to run (with `initialEpoch` 0, the number of epochs). */
  epochs: number;
  /** Metrics by name (`'accuracy'`, `'top5_accuracy'`, `'mae'`, `'mse'`, `'f1'`, ...) or `Metric` objects. */
  metrics?: readonly (string | Metric)[];
  /** Callbacks, called in order; a `ProgressBar` is appended unless verbose is 0 or one is given. */
  callbacks?: readonly CallbackLike[];
  /** LR scheduler, stepped once per epoch (default) or per batch (`schedulerInterval: 'batch'`). */
  scheduler?: SchedulerLike;
  /** When to step the scheduler: 'epoch' (default; after validation) or 'batch' (after each optimizer step, e.g. OneCycleLR). */
  schedulerInterval?: 'epoch' | 'batch';
  /** Logged value passed to schedulers that need a metric (ReduceLROnPlateau): default `val_loss`, or `loss` without val data. */
  schedulerMonitor?: string;
  /** 0: silent, 1: progress bar (default), 2: one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Options of the default progress bar (e.g. `stream`). */
  progress?: ProgressBarOptions;
  /** Train on at most this many batches per epoch. */
  stepsPerEpoch?: number;
  /** Validate on at most this many batches. */
  validationSteps?: number;
  /** Index of the first epoch (to resume a run; default 0). */
  initialEpoch?: number;
}

/**
 * Trains `model` and returns its `History` (`history.loss`, `history.val_loss`, `history.accuracy`,
 * `history.lr`, ... one value per epoch). Loss and metric values of an epoch are averages over its
 * samples (batches weighted by their size). A NaN or infinite loss throws `NonFiniteLossError`
 * (naming the 1-based epoch and step) before that batch's optimizer step, unless a callback such
 * as `TerminateOnNaN` handles it. An error thrown by the model or the loss (a wrong shape, a label
 * out of range) keeps its class and gets the phase, epoch and step in front of its message, e.g.
 * `fit: train epoch 1, step 3: crossEntropy: target 5 is out of bounds for 3 classes`.
 * The model's train/eval mode is restored when fit returns.
 *
 * @example
 * const history = fit(model, { train: loader, val: valLoader, loss: nn.functional.crossEntropy,
 *   optimizer: new optim.Adam(model.parameters(), { lr: 1e-3 }), epochs: 10, metrics: ['accuracy'],
 *   callbacks: [new EarlyStopping({ patience: 3, restoreBestWeights: true })] });
 */
export function fit(model: Module, options: FitOptions): History {
  const o = checkOptions(options);
  const metrics = (o.metrics ?? []).map(getMetric);
  const names = metrics.map((m) => m.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i || n === 'loss');
  if (dup !== undefined)
    throw new ValueError(`fit: metric name '${dup}' is used twice (or clashes with 'loss')`);
  const verbose = o.verbose ?? 1;
  const callbacks: CallbackLike[] = [...(o.callbacks ?? [])];
  if (verbose > 0 && !callbacks.some((c) => c instanceof ProgressBar)) {
    callbacks.push(new ProgressBar({ mode: verbose === 2 ? 'epoch' : 'bar', ...o.progress }));
  }
  const handlesNaN = callbacks.some((c) => c.handlesNonFiniteLoss === true);
  const initialEpoch = o.initialEpoch ?? 0;
  const params: FitParams = {
    epochs: o.epochs,
    initialEpoch,
    steps: minDefined(o.stepsPerEpoch, lengthOf(o.train)),
    valSteps: o.val ? minDefined(o.validationSteps, lengthOf(o.val)) : undefined,
    verbose,
    metrics: names,
  };
  const history = new History(params);
  const ctx: FitContext = {
    model,
    optimizer: o.optimizer,
    scheduler: o.scheduler,
    params,
    history,
    epoch: initialEpoch,
    step: 0,
    globalStep: 0,
    stopTraining: false,
    stopReason: null,
  };
  const wasTraining = model.training;
  const perBatchScheduler = o.schedulerInterval === 'batch';
  const trainSource = new BatchSource(o.train);
  const call = (f: (cb: CallbackLike) => void) => {
    for (const cb of callbacks) f(cb);
  };

  try {
    call((cb) => cb.setContext?.(ctx));
    call((cb) => cb.onTrainBegin?.({}, ctx));
    let lastLogs: Logs = {};
    for (let epoch = initialEpoch; epoch < o.epochs && !ctx.stopTraining; epoch++) {
      ctx.epoch = epoch;
      ctx.step = 0;
      call((cb) => cb.onEpochBegin?.(epoch, {}, ctx));
      model.train();
      for (const m of metrics) m.reset();
      let lossSum = 0;
      let count = 0;
      let lr = currentLr(o.optimizer);
      let step = 0;
      const it = trainSource.start();
      for (; o.stepsPerEpoch === undefined || step < o.stepsPerEpoch; step++) {
        const next = it.next();
        if (next.done) break;
        const [x, y] = unpack('train', next.value, epoch, step);
        const size = batchSize(y);
        ctx.step = step;
        call((cb) => cb.onBatchBegin?.(step, { size }, ctx));
        o.optimizer.zeroGrad();
        const out = forward(model, x, 'train', epoch, step);
        const lossT = computeLoss(o.loss, out, y, 'train', epoch, step);
        const lv = lossT.item();
        if (Number.isFinite(lv)) {
          lossT.backward();
          lr = currentLr(o.optimizer);
          o.optimizer.step();
          if (perBatchScheduler) o.scheduler?.step();
        } else if (!handlesNaN) {
          throw new NonFiniteLossError(lv, epoch, step);
        }
        lossSum += lv * size;
        count += size;
        const logs: Logs = { loss: lossSum / count };
        const detached = out.detach();
        for (const m of metrics) {
          m.update(detached, y);
          logs[m.name] = m.compute();
        }
        logs.batchLoss = lv;
        logs.size = size;
        logs.lr = lr;
        call((cb) => cb.onBatchEnd?.(step, logs, ctx));
        ctx.globalStep++;
        if (ctx.stopTraining) {
          step++;
          break;
        }
      }
      if (step === 0) {
        if (trainSource.reiterable) {
          throw new TrainingError(`fit: the train data yielded no batches in epoch ${epoch + 1}`);
        }
        ctx.stopTraining = true;
        ctx.stopReason = `fit: the train data ran out at the start of epoch ${epoch + 1}`;
        break;
      }
      const logs: Logs = { loss: lossSum / count };
      for (const m of metrics) logs[m.name] = m.compute();
      if (o.val)
        Object.assign(logs, evaluateInternal(model, o.val, o.loss, metrics, o.validationSteps, epoch));
      logs.lr = lr;
      if (o.scheduler && !perBatchScheduler) stepScheduler(o.scheduler, logs, o);
      call((cb) => cb.onEpochEnd?.(epoch, logs, ctx));
      history.append(epoch, logs);
      lastLogs = logs;
    }
    history.stopReason = ctx.stopReason;
    call((cb) => cb.onTrainEnd?.(lastLogs, ctx));
    return history;
  } catch (e) {
    for (const cb of callbacks) {
      try {
        cb.onTrainError?.(e, ctx);
      } catch {
        // a failing cleanup hook must not hide the original error
      }
    }
    throw e;
  } finally {
    model.train(wasTraining);
  }
}

/** Options of `evaluate`. */
export interface EvaluateOptions {
  /** The loss (as in `fit`). */
  loss?: LossLike;
  /** Metrics by name or as `Metric` objects. */
  metrics?: readonly (string | Metric)[];
  /** Evaluate at most this many batches. */
  steps?: number;
}

/**
 * Evaluates `model` on `data` under `noGrad` in eval mode and returns the sample-weighted mean
 * `loss` (when a loss is given) and metrics. The model's train/eval mode is restored afterwards.
 */
export function evaluate(model: Module, data: Batches, options: EvaluateOptions = {}): Logs {
  const metrics = (options.metrics ?? []).map(getMetric);
  const wasTraining = model.training;
  try {
    const logs = evaluateInternal(model, data, options.loss, metrics, options.steps, undefined);
    const out: Logs = {};
    for (const [k, v] of Object.entries(logs)) out[k.slice(4)] = v;
    return out;
  } finally {
    model.train(wasTraining);
  }
}

/** Runs the model over `data` without gradients; returns `val_`-prefixed logs. */
function evaluateInternal(
  model: Module,
  data: Batches,
  loss: LossLike | undefined,
  metrics: readonly Metric[],
  maxSteps: number | undefined,
  epoch: number | undefined,
): Logs {
  model.eval();
  for (const m of metrics) m.reset();
  let lossSum = 0;
  let count = 0;
  let step = 0;
  noGrad(() => {
    const it = data[Symbol.iterator]();
    for (; maxSteps === undefined || step < maxSteps; step++) {
      const next = it.next();
      if (next.done) break;
      const [x, y] = unpack('val', next.value, epoch, step);
      const out = forward(model, x, 'val', epoch, step);
      if (loss) {
        const size = batchSize(y);
        lossSum += computeLoss(loss, out, y, 'val', epoch, step).item() * size;
        count += size;
      }
      for (const m of metrics) m.update(out, y);
    }
  });
  if (step === 0) {
    throw new TrainingError(
      epoch === undefined
        ? 'evaluate: the data yielded no batches'
        : `fit: the val data yielded no batches in epoch ${epoch + 1}`,
    );
  }
  const logs: Logs = {};
  if (loss) logs.val_loss = lossSum / count;
  for (const m of metrics) logs[`val_${m.name}`] = m.compute();
  return logs;
}

/** Steps an epoch-level scheduler, passing the monitored value to those that need one. */
function stepScheduler(s: SchedulerLike, logs: Logs, o: FitOptions): void {
  const needsMetric = s.needsMetric === true || s.constructor?.name === 'ReduceLROnPlateau';
  if (!needsMetric) {
    s.step();
    return;
  }
  const key = o.schedulerMonitor ?? (o.val ? 'val_loss' : 'loss');
  const v = logs[key];
  if (v === undefined) {
    throw new ValueError(
      `fit: the scheduler needs the monitored '${key}', which is not in the epoch logs (have: ${Object.keys(logs).join(', ')})`,
    );
  }
  s.step(v);
}

/** Pulls batches from the train data, re-iterating per epoch unless it is a one-shot iterator. */
class BatchSource {
  /** False for an iterator whose `[Symbol.iterator]()` returns itself (a generator): it is continued across epochs. */
  readonly reiterable: boolean;
  private shared: Iterator<readonly Tensor[]> | null = null;

  constructor(private readonly data: Batches) {
    if (data === null || typeof (data as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
      throw new ValueError('fit: train must be an iterable of [x, y] batches (e.g. a data.DataLoader)');
    }
    const it = data[Symbol.iterator]();
    this.reiterable = (it as unknown) !== data;
    if (!this.reiterable) this.shared = it;
  }

  start(): Iterator<readonly Tensor[]> {
    return this.shared ?? this.data[Symbol.iterator]();
  }
}

function checkOptions(o: FitOptions): FitOptions {
  if (!o || typeof o !== 'object')
    throw new ValueError('fit: options are required ({ train, loss, optimizer, epochs })');
  if (!Number.isInteger(o.epochs) || o.epochs < 0) {
    throw new ValueError(`fit: epochs must be a non-negative integer, got ${o.epochs}`);
  }
  const ini = o.initialEpoch ?? 0;
  if (!Number.isInteger(ini) || ini < 0) {
    throw new ValueError(`fit: initialEpoch must be a non-negative integer, got ${o.initialEpoch}`);
  }
  for (const k of ['stepsPerEpoch', 'validationSteps'] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
      throw new ValueError(`fit: ${k} must be a positive integer, got ${v}`);
    }
  }
  if (!o.optimizer || typeof o.optimizer.step !== 'function' || typeof o.optimizer.zeroGrad !== 'function') {
    throw new ValueError(
      'fit: optimizer must have step() and zeroGrad() (e.g. new optim.SGD(model.parameters(), {lr}))',
    );
  }
  const l = o.loss as unknown;
  if (typeof l !== 'function' && !(l && typeof (l as { forward?: unknown }).forward === 'function')) {
    throw new ValueError(
      'fit: loss must be a function (output, target) => Tensor or a loss module with forward',
    );
  }
  if (o.verbose !== undefined && o.verbose !== 0 && o.verbose !== 1 && o.verbose !== 2) {
    throw new ValueError(`fit: verbose must be 0, 1 or 2, got ${o.verbose}`);
  }
  if (
    o.schedulerInterval !== undefined &&
    o.schedulerInterval !== 'epoch' &&
    o.schedulerInterval !== 'batch'
  ) {
    throw new ValueError(`fit: schedulerInterval must be 'epoch' or 'batch', got '${o.schedulerInterval}'`);
  }
  return o;
}

function where(phase: string, epoch: number | undefined, step: number): string {
  return epoch === undefined ? `${phase} step ${step + 1}` : `${phase} epoch ${epoch + 1}, step ${step + 1}`;
}

function unpack(phase: string, batch: unknown, epoch: number | undefined, step: number): [Tensor, Tensor] {
  const op = epoch === undefined ? 'evaluate' : 'fit';
  if (
    !Array.isArray(batch) ||
    batch.length < 2 ||
    !(batch[0] instanceof Tensor) ||
    !(batch[1] instanceof Tensor)
  ) {
    const got = Array.isArray(batch)
      ? `an array of ${batch.length} (${batch.map((b) => (b instanceof Tensor ? `Tensor${fmt(b.shape)}` : typeof b)).join(', ')})`
      : typeof batch;
    throw new ValueError(
      `${op}: ${where(phase, epoch, step)}: expected a batch [x, y] of tensors, got ${got}`,
    );
  }
  return [batch[0], batch[1]];
}

/**
 * Runs `f`; an error it throws gets the phase, epoch and step in front of its message (same class),
 * e.g. `fit: train epoch 2, step 7: crossEntropy: target 5 is out of bounds for 3 classes`.
 */
function located<T>(f: () => T, phase: string, epoch: number | undefined, step: number): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof Error) {
      const op = epoch === undefined ? 'evaluate' : 'fit';
      e.message = `${op}: ${where(phase, epoch, step)}: ${e.message}`;
    }
    throw e;
  }
}

function forward(model: Module, x: Tensor, phase: string, epoch: number | undefined, step: number): Tensor {
  const out = located(() => callModule(model, x), phase, epoch, step);
  if (!(out instanceof Tensor)) {
    const op = epoch === undefined ? 'evaluate' : 'fit';
    throw new ValueError(
      `${op}: ${where(phase, epoch, step)}: the model returned ${typeof out}, expected a Tensor`,
    );
  }
  return out;
}

function computeLoss(
  loss: LossLike,
  out: Tensor,
  y: Tensor,
  phase: string,
  epoch: number | undefined,
  step: number,
): Tensor {
  const l = located(
    () => (typeof loss === 'function' ? loss(out, y) : loss.forward(out, y)),
    phase,
    epoch,
    step,
  );
  if (!(l instanceof Tensor) || l.numel() !== 1) {
    const op = epoch === undefined ? 'evaluate' : 'fit';
    const got = l instanceof Tensor ? `a tensor of shape ${fmt(l.shape)}` : typeof l;
    throw new ValueError(
      `${op}: ${where(phase, epoch, step)}: the loss must return a one-element tensor, got ${got} (use reduction 'mean')`,
    );
  }
  return l;
}

function batchSize(y: Tensor): number {
  return y.ndim > 0 ? y.shape[0]! : 1;
}

function currentLr(opt: OptimizerLike): number {
  return opt.paramGroups?.[0]?.lr ?? Number.NaN;
}

function lengthOf(data: unknown): number | undefined {
  const n = (data as { length?: unknown }).length;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
