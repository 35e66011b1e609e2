/**
 * Types shared by `fit`, the callbacks and the metrics: the structural shapes of the optimizer, LR
 * scheduler and loss that `fit` drives, the per-epoch logs, the fit context callbacks see, and
 * the errors training throws.
 * @module
 */
import { NeuriteError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { Module } from '../nn/module.js';

/** What `fit` needs from an optimizer (`optim.SGD`, `optim.Adam`, ... all fit). */
export interface OptimizerLike {
  /** Updates the parameters from their gradients. */
  step(): void;
  /** Clears the gradients of the optimized parameters. */
  zeroGrad(): void;
  /** Parameter groups; `fit` reads and `LearningRateScheduler` writes their `lr`. */
  paramGroups: { lr: number }[];
}

/** What `fit` needs from a learning-rate scheduler (`optim.lrScheduler.*`). */
export interface SchedulerLike {
  /** Advances the schedule; ReduceLROnPlateau takes the monitored metric. */
  step(metric?: number): void;
  /** The learning rates of the last step, one per parameter group. */
  getLastLr?(): number[];
  /** Set to true on schedulers whose `step` needs the monitored metric (like ReduceLROnPlateau). */
  needsMetric?: boolean;
}

/** A loss: a function of (output, target), or a loss module with `forward(output, target)`. */
export type LossLike =
  | ((output: Tensor, target: Tensor) => Tensor)
  | { forward(output: Tensor, target: Tensor): Tensor };

/** Values logged for a batch or an epoch, by name (`loss`, `accuracy`, `val_loss`, `lr`, ...). */
export type Logs = Record<string, number>;

/** The settings of a `fit` run, as callbacks see them. */
export interface FitParams {
  /** Index one past the last epoch (the `epochs` option). */
  epochs: number;
  /** Index of the first epoch (the `initialEpoch` option, 0 by default). */
  initialEpoch: number;
  /** Batches per epoch when known (the `stepsPerEpoch` option or the train loader's length). */
  steps: number | undefined;
  /** Validation batches per epoch when known. */
  valSteps: number | undefined;
  /** Verbosity (0 silent, 1 progress bar, 2 one line per epoch). */
  verbose: 0 | 1 | 2;
  /** Names of the metrics (as they appear in the logs, without the `val_` prefix). */
  metrics: string[];
}

/**
 * The state of a running `fit`, handed to every callback hook (and to `Callback.context`).
 * Set `stopTraining` to end training after the current batch (and its epoch's validation);
 * set `stopReason` to record why (it ends up in `History.stopReason`).
 */
export interface FitContext {
  /** The model being trained. */
  readonly model: Module;
  /** The optimizer. */
  readonly optimizer: OptimizerLike;
  /** The LR scheduler, if any. */
  readonly scheduler: SchedulerLike | undefined;
  /** The settings of this run. */
  readonly params: FitParams;
  /** The history being built. */
  readonly history: History;
  /** Current epoch index (0-based, as in `History.epoch`). */
  epoch: number;
  /** Current batch index within the epoch (0-based). */
  step: number;
  /** Batches trained so far over the whole run. */
  globalStep: number;
  /** Set by a callback to end training. */
  stopTraining: boolean;
  /** Why training stopped early (set together with `stopTraining`). */
  stopReason: string | null;
}

/** What `fit` returns: per-epoch logs like Keras' `History`. */
export class History {
  /** Epoch indices (0-based) in the order they ran. */
  readonly epoch: number[] = [];
  /** One array per logged name (`loss`, `accuracy`, `val_loss`, `val_accuracy`, `lr`, ...), aligned with `epoch`. */
  readonly history: Record<string, number[]> = {};
  /** Why training ended before `epochs` (EarlyStopping, TerminateOnNaN, ...), or null. */
  stopReason: string | null = null;

  constructor(
    /** The settings of the run. */
    readonly params: FitParams,
  ) {}

  /** Appends one epoch's logs; names missing on either side are filled with NaN so arrays stay aligned. */
  append(epoch: number, logs: Logs): void {
    const n = this.epoch.length;
    for (const [k, v] of Object.entries(logs)) {
      let arr = this.history[k];
      if (!arr) {
        arr = new Array<number>(n).fill(Number.NaN);
        this.history[k] = arr;
      }
      arr.push(v);
    }
    for (const arr of Object.values(this.history)) if (arr.length === n) arr.push(Number.NaN);
    this.epoch.push(epoch);
  }

  /** The last logged value of `key`, or undefined. */
  last(key: string): number | undefined {
    const arr = this.history[key];
    return arr?.length ? arr[arr.length - 1] : undefined;
  }
}

/** Training failed (bad data, a loss of the wrong shape, ...). */
export class TrainingError extends NeuriteError {}

/**
 * The loss became NaN or ±Infinity. The message names the epoch and step (both 1-based, as shown
 * by the progress bar), e.g. `fit: loss became NaN at epoch 3, step 17`. The optimizer step of
 * that batch is skipped, so the model keeps the weights from before it.
 */
export class NonFiniteLossError extends TrainingError {
  constructor(
    /** The non-finite loss value. */
    readonly value: number,
    /** Epoch index (0-based). */
    readonly epoch: number,
    /** Batch index within the epoch (0-based). */
    readonly step: number,
  ) {
    super(`fit: loss became ${value} at epoch ${epoch + 1}, step ${step + 1}`);
  }
}
