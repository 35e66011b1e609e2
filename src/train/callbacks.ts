/**
 * Callbacks for `fit`: the `Callback` base class and `EarlyStopping`, `TerminateOnNaN` and
 * `LearningRateScheduler`. The progress bar is in `progress.ts`; callbacks that write files
 * (`ModelCheckpoint`, `CSVLogger`, `JSONLinesLogger`) are Node-only, in `neurite/node`.
 *
 * Epochs and steps passed to hooks are 0-based indices (as in `History.epoch`); messages meant for
 * people count from 1, like the progress bar ("Epoch 3/10").
 * @module
 */
import { noGrad } from '../autograd/grad-mode.js';
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { FitContext, Logs } from './types.js';

/**
 * What `fit` calls on a callback; every hook is optional, so a plain object literal works
 * (`{ onEpochEnd: (epoch, logs) => ... }`). Each hook also receives the fit context last.
 */
export interface CallbackLike {
  /** Called once before `onTrainBegin` with the context of the run. */
  setContext?(ctx: FitContext): void;
  /** Before the first epoch. */
  onTrainBegin?(logs: Logs, ctx: FitContext): void;
  /** After the last epoch (or after a callback stopped training), with the last epoch's logs. */
  onTrainEnd?(logs: Logs, ctx: FitContext): void;
  /** When `fit` throws (the error is rethrown afterwards); lets callbacks clean up, e.g. end a progress line. */
  onTrainError?(error: unknown, ctx: FitContext): void;
  /** Before each epoch (0-based index). */
  onEpochBegin?(epoch: number, logs: Logs, ctx: FitContext): void;
  /**
   * After each epoch with its logs (`loss`, metrics, `val_*`, `lr`); entries added to `logs` here
   * end up in the history.
   */
  onEpochEnd?(epoch: number, logs: Logs, ctx: FitContext): void;
  /** Before each training batch (0-based index within the epoch); logs hold `size`. */
  onBatchBegin?(step: number, logs: Logs, ctx: FitContext): void;
  /**
   * After each training batch. Logs hold the epoch's running `loss` and metrics, the batch's own
   * loss `batchLoss`, its `size` and the `lr` it was trained with.
   */
  onBatchEnd?(step: number, logs: Logs, ctx: FitContext): void;
  /**
   * When true, a NaN/Inf loss does not throw `NonFiniteLossError`: the batch's optimizer step is
   * skipped and this callback decides what happens (see `TerminateOnNaN`).
   */
  readonly handlesNonFiniteLoss?: boolean;
}

/**
 * Base class of callbacks: override the hooks you need. `context` is the running fit's state
 * (set `context.stopTraining = true` to stop).
 */
export class Callback implements CallbackLike {
  private ctx: FitContext | null = null;

  /** The state of the running `fit` (throws outside of one). */
  get context(): FitContext {
    if (!this.ctx) throw new ValueError(`${this.constructor.name}: context is only available during fit`);
    return this.ctx;
  }
  setContext(ctx: FitContext): void {
    this.ctx = ctx;
  }
  onTrainBegin(_logs: Logs, _ctx: FitContext): void {}
  onTrainEnd(_logs: Logs, _ctx: FitContext): void {}
  onTrainError(_error: unknown, _ctx: FitContext): void {}
  onEpochBegin(_epoch: number, _logs: Logs, _ctx: FitContext): void {}
  onEpochEnd(_epoch: number, _logs: Logs, _ctx: FitContext): void {}
  onBatchBegin(_step: number, _logs: Logs, _ctx: FitContext): void {}
  onBatchEnd(_step: number, _logs: Logs, _ctx: FitContext): void {}
}

/** Whether larger or smaller values of a monitored quantity are better. */
export type MonitorMode = 'min' | 'max' | 'auto';

/**
 * Tracks the best value of a logged quantity (shared by EarlyStopping and ModelCheckpoint).
 * Mode 'auto' means 'max' for names containing acc, f1, precision, recall or auc, else 'min'.
 */
export class Monitor {
  /** The resolved direction. */
  readonly mode: 'min' | 'max';
  /** Best value so far (±Infinity before the first). */
  best: number;

  constructor(
    /** The monitored log name. */
    readonly monitor: string,
    mode: MonitorMode = 'auto',
    /** Smallest change that counts as an improvement. */
    readonly minDelta = 0,
    private readonly owner = 'Monitor',
  ) {
    if (mode !== 'min' && mode !== 'max' && mode !== 'auto') {
      throw new ValueError(`${owner}: mode must be 'min', 'max' or 'auto', got '${mode}'`);
    }
    if (!(minDelta >= 0)) throw new ValueError(`${owner}: minDelta must be >= 0, got ${minDelta}`);
    this.mode = mode === 'auto' ? (/acc|f1|precision|recall|auc/i.test(monitor) ? 'max' : 'min') : mode;
    this.best = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  /** Forgets the best value. */
  reset(): void {
    this.best = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  /** The monitored value in `logs`; throws a ValueError naming the available keys when it is missing. */
  read(logs: Logs): number {
    const v = logs[this.monitor];
    if (v === undefined) {
      const have = Object.keys(logs).join(', ') || 'none';
      const hint = this.monitor.startsWith('val_')
        ? ' (pass val data to fit, or monitor a training value)'
        : '';
      throw new ValueError(
        `${this.owner}: monitored '${this.monitor}' is not in the epoch logs (have: ${have})${hint}`,
      );
    }
    return v;
  }

  /** True when `v` beats `ref` (default: the best so far) by more than minDelta. NaN never improves. */
  improves(v: number, ref = this.best): boolean {
    return this.mode === 'min' ? v < ref - this.minDelta : v > ref + this.minDelta;
  }
}

/** Options of `EarlyStopping`. */
export interface EarlyStoppingOptions {
  /** Logged value to watch (default 'val_loss'). */
  monitor?: string;
  /** 'min', 'max' or 'auto' (default; see `Monitor`). */
  mode?: MonitorMode;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Keep a copy of the weights of the best epoch and load them back when training ends (default false). */
  restoreBestWeights?: boolean;
  /** Stop unless the value beats this baseline within `patience` epochs. */
  baseline?: number;
}

/** Stops training when a monitored value stops improving; optionally restores the best weights at the end. */
export class EarlyStopping extends Callback {
  /** Epochs since the last improvement. */
  wait = 0;
  /** Epoch (0-based) of the best value, -1 before any. */
  bestEpoch = -1;
  /** Epoch (0-based) at which it stopped training, -1 when it did not. */
  stoppedEpoch = -1;
  private readonly tracker: Monitor;
  private readonly patience: number;
  private bestWeights: Map<string, Tensor> | null = null;

  constructor(private readonly options: EarlyStoppingOptions = {}) {
    super();
    this.patience = options.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0) {
      throw new ValueError(`EarlyStopping: patience must be a non-negative integer, got ${options.patience}`);
    }
    this.tracker = new Monitor(
      options.monitor ?? 'val_loss',
      options.mode,
      options.minDelta ?? 0,
      'EarlyStopping',
    );
  }

  /** Best monitored value seen. */
  get best(): number {
    return this.tracker.best;
  }

  override onTrainBegin(): void {
    this.wait = 0;
    this.bestEpoch = -1;
    this.stoppedEpoch = -1;
    this.bestWeights = null;
    this.tracker.reset();
  }

  override onEpochEnd(epoch: number, logs: Logs, ctx: FitContext): void {
    const v = this.tracker.read(logs);
    this.wait++;
    if (this.tracker.improves(v)) {
      this.tracker.best = v;
      this.bestEpoch = epoch;
      if (this.options.restoreBestWeights) this.bestWeights = snapshot(ctx.model.stateDict());
      const { baseline } = this.options;
      if (baseline === undefined || this.tracker.improves(v, baseline)) this.wait = 0;
      return;
    }
    // stop once `patience` epochs in a row brought no improvement (never after the run's first epoch)
    if (this.wait >= this.patience && epoch > ctx.params.initialEpoch) {
      this.stoppedEpoch = epoch;
      ctx.stopTraining = true;
      const best = this.bestEpoch >= 0 ? ` (best ${this.best} at epoch ${this.bestEpoch + 1})` : '';
      const n = `${this.wait} epoch${this.wait === 1 ? '' : 's'}`;
      ctx.stopReason = `EarlyStopping: ${this.tracker.monitor} did not improve for ${n}${best}`;
    }
  }

  override onTrainEnd(_logs: Logs, ctx: FitContext): void {
    if (this.bestWeights) {
      ctx.model.loadStateDict(this.bestWeights);
      this.bestWeights = null;
    }
  }
}

/** Detached copies of a state dict's tensors. */
function snapshot(state: Map<string, Tensor>): Map<string, Tensor> {
  return noGrad(() => new Map([...state].map(([k, t]) => [k, t.detach().clone()])));
}

/**
 * Stops training at the first NaN or ±Infinity loss instead of throwing: the bad batch's optimizer
 * step is skipped, and `History.stopReason` records `TerminateOnNaN: loss became NaN at epoch 3, step 17`.
 */
export class TerminateOnNaN extends Callback {
  readonly handlesNonFiniteLoss = true;
  /** Where it stopped (0-based epoch and step) and the bad value, or null. */
  stoppedAt: { epoch: number; step: number; value: number } | null = null;

  override onTrainBegin(): void {
    this.stoppedAt = null;
  }

  override onBatchEnd(step: number, logs: Logs, ctx: FitContext): void {
    const v = logs.batchLoss ?? logs.loss;
    if (v === undefined || Number.isFinite(v)) return;
    this.stoppedAt = { epoch: ctx.epoch, step, value: v };
    ctx.stopTraining = true;
    ctx.stopReason = `TerminateOnNaN: loss became ${v} at epoch ${ctx.epoch + 1}, step ${step + 1}`;
  }
}

/**
 * Sets the learning rate of every parameter group at the start of each epoch to
 * `schedule(epoch, currentLr)` (epoch 0-based), like Keras' LearningRateScheduler.
 */
export class LearningRateScheduler extends Callback {
  constructor(private readonly schedule: (epoch: number, lr: number) => number) {
    super();
    if (typeof schedule !== 'function')
      throw new ValueError('LearningRateScheduler: schedule must be a function');
  }

  override onEpochBegin(epoch: number, _logs: Logs, ctx: FitContext): void {
    for (const g of ctx.optimizer.paramGroups) {
      const lr = this.schedule(epoch, g.lr);
      if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
        throw new ValueError(
          `LearningRateScheduler: the schedule returned ${String(lr)} for epoch ${epoch}; expected a finite number >= 0`,
        );
      }
      g.lr = lr;
    }
  }
}
