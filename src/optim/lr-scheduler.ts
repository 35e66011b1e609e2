/**
 * Learning-rate schedulers (exported as `optim.lrScheduler`): `StepLR`, `MultiStepLR`,
 * `ExponentialLR`, `CosineAnnealingLR`, `LinearLR`, `OneCycleLR` and `ReduceLROnPlateau`.
 *
 * They follow PyTorch 1.13's chainable form: construction performs the first step (epoch 0), each
 * `step()` moves to the next epoch and writes the new rate into every parameter group's `lr`, reading
 * the current `lr` so that several schedulers can be chained on one optimizer. Call `step()` after
 * `optimizer.step()`. `stateDict()` gives a plain JSON object; `loadStateDict` restores it.
 * @module
 */
import { ValueError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { Optimizer, type ParamGroup } from './optimizer.js';

/** A JSON value. */
export type JsonValue = number | string | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The state of a scheduler: a plain JSON object. */
export type SchedulerState = Record<string, JsonValue>;

function checkOptimizer(name: string, optimizer: unknown): Optimizer {
  if (!(optimizer instanceof Optimizer)) {
    const what = optimizer === null ? 'null' : typeof optimizer;
    throw new ValueError(`${name}: expected an Optimizer as first argument, got ${what}`);
  }
  return optimizer;
}

function invalid(name: string, option: string, value: unknown, expected: string): ValueError {
  const shown = typeof value === 'number' ? String(value) : JSON.stringify(value);
  return new ValueError(`${name}: invalid ${option} ${shown} (expected ${expected})`);
}

function checkNum(
  name: string,
  option: string,
  v: unknown,
  ok: (x: number) => boolean,
  expected: string,
): void {
  if (typeof v !== 'number' || Number.isNaN(v) || !ok(v)) throw invalid(name, option, v, expected);
}

/** `value` per parameter group: a number for all groups, or one per group. */
function perGroup(
  name: string,
  option: string,
  optimizer: Optimizer,
  value: number | readonly number[],
): number[] {
  const n = optimizer.paramGroups.length;
  if (typeof value === 'number') return new Array<number>(n).fill(value);
  if (!Array.isArray(value) || value.length !== n) {
    throw new ValueError(
      `${name}: expected ${n} values for ${option} (one per parameter group), got ${Array.isArray(value) ? value.length : JSON.stringify(value)}`,
    );
  }
  return value.slice();
}

/** Copies `state[key]` into `target[key]` for each key, checking that every key is known. */
function restore(name: string, target: object, keys: readonly string[], state: SchedulerState): void {
  if (!state || typeof state !== 'object')
    throw new ValueError(`${name}.loadStateDict: expected a state object`);
  for (const k of Object.keys(state)) {
    if (!keys.includes(k)) throw new ValueError(`${name}.loadStateDict: unknown key '${k}'`);
  }
  const t = target as Record<string, unknown>;
  for (const k of keys) if (k in state) t[k] = structuredClone(state[k]);
}

function snapshot(target: object, keys: readonly string[]): SchedulerState {
  const t = target as Record<string, unknown>;
  const out: SchedulerState = {};
  for (const k of keys) out[k] = structuredClone(t[k]) as JsonValue;
  return out;
}

/** Options every epoch-based scheduler accepts. */
export interface SchedulerOptions {
  /**
   * Index of the last epoch (default -1: start fresh, recording each group's `lr` as `initialLr`).
   * When resuming (>= 0) the groups must already have `initialLr`.
   */
  lastEpoch?: number;
}

/** Base class of the epoch-based schedulers (PyTorch's `_LRScheduler`). */
export abstract class LRScheduler {
  /** The optimizer whose groups' `lr` this scheduler sets. */
  readonly optimizer: Optimizer;
  /** The epoch of the last `step()` (0 after construction). */
  lastEpoch = -1;
  /** Each group's `initialLr`. */
  baseLrs: number[] = [];
  /** Number of `step()` calls (including the one made by the constructor). */
  stepCount = 0;
  /** The learning rates set by the last step. */
  protected lastLr: number[] = [];

  protected constructor(
    /** The scheduler's name, for error messages. */
    readonly name: string,
    optimizer: Optimizer,
  ) {
    this.optimizer = checkOptimizer(name, optimizer);
  }

  /** Records the base rates and performs the first step; subclasses call it at the end of their constructor. */
  protected start(lastEpoch = -1): void {
    checkNum(this.name, 'lastEpoch', lastEpoch, (x) => Number.isInteger(x) && x >= -1, 'an integer >= -1');
    const groups = this.optimizer.paramGroups;
    groups.forEach((g, i) => {
      if (lastEpoch === -1) {
        if (g.initialLr === undefined) g.initialLr = g.lr;
      } else if (typeof g.initialLr !== 'number') {
        throw new ValueError(
          `${this.name}: initialLr is not set in param group ${i}; it is needed when resuming with lastEpoch ${lastEpoch}`,
        );
      }
    });
    this.baseLrs = groups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
    this.stepCount = 0;
    this.step();
  }

  /** The rates for epoch `lastEpoch` (chainable form: usually computed from the groups' current `lr`). */
  protected abstract computeLr(): number[];

  /** The keys of this scheduler's state dict (besides the base ones). */
  protected abstract readonly stateKeys: readonly string[];

  /** Advances one epoch and sets every group's `lr`. */
  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    const values = this.computeLr();
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = values[i]!;
    });
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rate of each parameter group set by the last step. */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** The current `lr` of each group. */
  protected groupLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  private allKeys(): string[] {
    return ['lastEpoch', 'baseLrs', 'stepCount', 'lastLr', ...this.stateKeys];
  }

  /** The scheduler's state as a plain JSON object. */
  stateDict(): SchedulerState {
    return snapshot(this, this.allKeys());
  }

  /** Restores a state made by `stateDict` (the optimizer's lrs are restored by its own state dict). */
  loadStateDict(state: SchedulerState): void {
    restore(this.name, this, this.allKeys(), state);
  }
}

/** Options of `StepLR`. */
export interface StepLROptions extends SchedulerOptions {
  /** Period of the decay in epochs (a positive integer). */
  stepSize: number;
  /** Multiplicative factor of the decay (default 0.1). */
  gamma?: number;
}

/** Multiplies each group's rate by `gamma` every `stepSize` epochs. */
export class StepLR extends LRScheduler {
  /** Period of the decay in epochs. */
  stepSize: number;
  /** Multiplicative factor. */
  gamma: number;
  protected readonly stateKeys = ['stepSize', 'gamma'];

  constructor(optimizer: Optimizer, options: StepLROptions) {
    super('StepLR', optimizer);
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    checkNum(this.name, 'stepSize', this.stepSize, (x) => Number.isInteger(x) && x > 0, 'a positive integer');
    checkNum(this.name, 'gamma', this.gamma, (x) => x >= 0, 'a number >= 0');
    this.start(options.lastEpoch);
  }

  protected computeLr(): number[] {
    const lrs = this.groupLrs();
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return lrs;
    return lrs.map((lr) => lr * this.gamma);
  }
}

/** Options of `MultiStepLR`. */
export interface MultiStepLROptions extends SchedulerOptions {
  /** Epochs at which to decay (non-negative integers; a repeated milestone decays once per repeat). */
  milestones: readonly number[];
  /** Multiplicative factor of the decay (default 0.1). */
  gamma?: number;
}

/** Multiplies each group's rate by `gamma` when the epoch reaches one of the milestones. */
export class MultiStepLR extends LRScheduler {
  /** Milestones, sorted. */
  milestones: number[];
  /** Multiplicative factor. */
  gamma: number;
  protected readonly stateKeys = ['milestones', 'gamma'];

  constructor(optimizer: Optimizer, options: MultiStepLROptions) {
    super('MultiStepLR', optimizer);
    if (!Array.isArray(options.milestones)) {
      throw invalid(this.name, 'milestones', options.milestones, 'an array of epochs');
    }
    for (const m of options.milestones) {
      checkNum(this.name, 'milestone', m, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer');
    }
    this.milestones = options.milestones.slice().sort((a, b) => a - b);
    this.gamma = options.gamma ?? 0.1;
    checkNum(this.name, 'gamma', this.gamma, (x) => x >= 0, 'a number >= 0');
    this.start(options.lastEpoch);
  }

  protected computeLr(): number[] {
    let count = 0;
    for (const m of this.milestones) if (m === this.lastEpoch) count++;
    const lrs = this.groupLrs();
    if (count === 0) return lrs;
    return lrs.map((lr) => lr * this.gamma ** count);
  }
}

/** Options of `ExponentialLR`. */
export interface ExponentialLROptions extends SchedulerOptions {
  /** Multiplicative factor per epoch. */
  gamma: number;
}

/** Multiplies each group's rate by `gamma` every epoch. */
export class ExponentialLR extends LRScheduler {
  /** Multiplicative factor. */
  gamma: number;
  protected readonly stateKeys = ['gamma'];

  constructor(optimizer: Optimizer, options: ExponentialLROptions) {
    super('ExponentialLR', optimizer);
    this.gamma = options.gamma;
    checkNum(this.name, 'gamma', this.gamma, (x) => x >= 0, 'a number >= 0');
    this.start(options.lastEpoch);
  }

  protected computeLr(): number[] {
    const lrs = this.groupLrs();
    return this.lastEpoch === 0 ? lrs : lrs.map((lr) => lr * this.gamma);
  }
}

/** Options of `CosineAnnealingLR`. */
export interface CosineAnnealingLROptions extends SchedulerOptions {
  /** Half period of the cosine in epochs (> 0). */
  tMax: number;
  /** Minimum learning rate (default 0). */
  etaMin?: number;
}

/**
 * Cosine annealing from each group's initial rate down to `etaMin` over `tMax` epochs (and back up
 * over the next `tMax`, as in PyTorch; no restarts).
 */
export class CosineAnnealingLR extends LRScheduler {
  /** Half period in epochs. */
  tMax: number;
  /** Minimum learning rate. */
  etaMin: number;
  protected readonly stateKeys = ['tMax', 'etaMin'];

  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    super('CosineAnnealingLR', optimizer);
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    checkNum(this.name, 'tMax', this.tMax, (x) => x > 0, 'a number > 0');
    checkNum(this.name, 'etaMin', this.etaMin, (x) => x >= 0, 'a number >= 0');
    this.start(options.lastEpoch);
  }

  protected computeLr(): number[] {
    const e = this.lastEpoch;
    const T = this.tMax;
    const eta = this.etaMin;
    const lrs = this.groupLrs();
    if (e === 0) return lrs;
    if (this.stepCount === 1 && e > 0) {
      return this.baseLrs.map((b) => eta + ((b - eta) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    }
    if ((((e - 1 - T) % (2 * T)) + 2 * T) % (2 * T) === 0) {
      return lrs.map((lr, i) => lr + ((this.baseLrs[i]! - eta) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return lrs.map(
      (lr) =>
        ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (lr - eta) + eta,
    );
  }
}

/** Options of `LinearLR`. */
export interface LinearLROptions extends SchedulerOptions {
  /** Factor of the rate at epoch 0, in (0, 1] (default 1/3). */
  startFactor?: number;
  /** Factor of the rate from epoch `totalIters` on, in [0, 1] (default 1). */
  endFactor?: number;
  /** Number of epochs of the linear change (a positive integer, default 5). */
  totalIters?: number;
}

/** Scales each group's rate by a factor going linearly from `startFactor` to `endFactor` (warm-up). */
export class LinearLR extends LRScheduler {
  /** Starting factor. */
  startFactor: number;
  /** Final factor. */
  endFactor: number;
  /** Number of epochs of the change. */
  totalIters: number;
  protected readonly stateKeys = ['startFactor', 'endFactor', 'totalIters'];

  constructor(optimizer: Optimizer, options: LinearLROptions = {}) {
    super('LinearLR', optimizer);
    this.startFactor = options.startFactor ?? 1 / 3;
    this.endFactor = options.endFactor ?? 1;
    this.totalIters = options.totalIters ?? 5;
    checkNum(this.name, 'startFactor', this.startFactor, (x) => x > 0 && x <= 1, 'a number in (0, 1]');
    checkNum(this.name, 'endFactor', this.endFactor, (x) => x >= 0 && x <= 1, 'a number in [0, 1]');
    checkNum(
      this.name,
      'totalIters',
      this.totalIters,
      (x) => Number.isInteger(x) && x > 0,
      'a positive integer',
    );
    this.start(options.lastEpoch);
  }

  protected computeLr(): number[] {
    const lrs = this.groupLrs();
    const e = this.lastEpoch;
    if (e === 0) return lrs.map((lr) => lr * this.startFactor);
    if (e > this.totalIters) return lrs;
    const d = this.endFactor - this.startFactor;
    const f = 1 + d / (this.totalIters * this.startFactor + (e - 1) * d);
    return lrs.map((lr) => lr * f);
  }
}

/** Options of `OneCycleLR`. Give `totalSteps`, or `epochs` and `stepsPerEpoch`. */
export interface OneCycleLROptions extends SchedulerOptions {
  /** Peak learning rate (one for all groups, or one per group). */
  maxLr: number | readonly number[];
  /** Total number of steps in the cycle. */
  totalSteps?: number;
  /** Number of epochs (with `stepsPerEpoch`, instead of `totalSteps`). */
  epochs?: number;
  /** Steps per epoch (with `epochs`). */
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the rate (default 0.3). */
  pctStart?: number;
  /** Annealing shape (default 'cos'). */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle the momentum (SGD's `momentum`, Adam's `betas[0]`) inversely to the rate (default true). */
  cycleMomentum?: boolean;
  /** Lowest momentum (default 0.85). */
  baseMomentum?: number | readonly number[];
  /** Highest momentum (default 0.95). */
  maxMomentum?: number | readonly number[];
  /** The initial rate is maxLr / divFactor (default 25). */
  divFactor?: number;
  /** The final rate is the initial rate / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Use three phases (up, down to the initial rate, then down to the minimum), as in fast.ai (default false). */
  threePhase?: boolean;
}

interface Phase {
  endStep: number;
  startLr: string;
  endLr: string;
  startMomentum: string;
  endMomentum: string;
  [key: string]: JsonValue;
}

/**
 * The 1cycle policy: the rate rises from maxLr/divFactor to maxLr over the first `pctStart` of the
 * steps, then anneals to maxLr/(divFactor·finalDivFactor); the momentum moves the opposite way.
 * Step it after every batch; stepping past `totalSteps` throws.
 */
export class OneCycleLR extends LRScheduler {
  /** Total number of steps in the cycle. */
  totalSteps: number;
  /** Annealing shape. */
  annealStrategy: 'cos' | 'linear';
  /** Whether the momentum is cycled. */
  cycleMomentum: boolean;
  /** Whether the momentum is `betas[0]` (Adam-like optimizers) rather than `momentum`. */
  useBeta1: boolean;
  /** The phases of the schedule (keys name group entries). */
  phases: Phase[];
  protected readonly stateKeys = ['totalSteps', 'annealStrategy', 'cycleMomentum', 'useBeta1', 'phases'];

  constructor(optimizer: Optimizer, options: OneCycleLROptions) {
    super('OneCycleLR', optimizer);
    const name = this.name;
    const posInt = (x: number): boolean => Number.isInteger(x) && x > 0;
    if (options.totalSteps !== undefined) {
      checkNum(name, 'totalSteps', options.totalSteps, posInt, 'a positive integer');
      this.totalSteps = options.totalSteps;
    } else if (options.epochs !== undefined || options.stepsPerEpoch !== undefined) {
      checkNum(name, 'epochs', options.epochs, posInt, 'a positive integer');
      checkNum(name, 'stepsPerEpoch', options.stepsPerEpoch, posInt, 'a positive integer');
      this.totalSteps = options.epochs! * options.stepsPerEpoch!;
    } else {
      throw new ValueError(`${name}: you must give either totalSteps or (epochs and stepsPerEpoch)`);
    }
    const pct = options.pctStart ?? 0.3;
    checkNum(name, 'pctStart', pct, (x) => x >= 0 && x <= 1, 'a number in [0, 1]');
    const strategy = options.annealStrategy ?? 'cos';
    if (strategy !== 'cos' && strategy !== 'linear') {
      throw invalid(name, 'annealStrategy', strategy, "'cos' or 'linear'");
    }
    this.annealStrategy = strategy;
    const divFactor = options.divFactor ?? 25;
    const finalDivFactor = options.finalDivFactor ?? 1e4;
    checkNum(name, 'divFactor', divFactor, (x) => x > 0, 'a number > 0');
    checkNum(name, 'finalDivFactor', finalDivFactor, (x) => x > 0, 'a number > 0');
    const total = this.totalSteps;
    const up = pct * total - 1;
    this.phases = options.threePhase
      ? [
          {
            endStep: up,
            startLr: 'initialLr',
            endLr: 'maxLr',
            startMomentum: 'maxMomentum',
            endMomentum: 'baseMomentum',
          },
          {
            endStep: 2 * pct * total - 2,
            startLr: 'maxLr',
            endLr: 'initialLr',
            startMomentum: 'baseMomentum',
            endMomentum: 'maxMomentum',
          },
          {
            endStep: total - 1,
            startLr: 'initialLr',
            endLr: 'minLr',
            startMomentum: 'maxMomentum',
            endMomentum: 'maxMomentum',
          },
        ]
      : [
          {
            endStep: up,
            startLr: 'initialLr',
            endLr: 'maxLr',
            startMomentum: 'maxMomentum',
            endMomentum: 'baseMomentum',
          },
          {
            endStep: total - 1,
            startLr: 'maxLr',
            endLr: 'minLr',
            startMomentum: 'baseMomentum',
            endMomentum: 'maxMomentum',
          },
        ];
    const lastEpoch = options.lastEpoch ?? -1;
    const groups = this.optimizer.paramGroups;
    const maxLrs = perGroup(name, 'maxLr', this.optimizer, options.maxLr);
    maxLrs.forEach((m, i) => {
      checkNum(name, 'maxLr', m, (x) => x >= 0, 'a number >= 0');
      if (lastEpoch === -1) {
        const g = groups[i]!;
        const initial = m / divFactor;
        g.initialLr = initial;
        g.maxLr = m;
        g.minLr = initial / finalDivFactor;
      }
    });
    this.cycleMomentum = options.cycleMomentum ?? true;
    const defaults = this.optimizer.defaults as Record<string, unknown>;
    this.useBeta1 = 'betas' in defaults;
    if (this.cycleMomentum) {
      if (!('momentum' in defaults) && !this.useBeta1) {
        throw new ValueError(
          `${name}: the optimizer (${this.optimizer.name}) has no momentum or betas option; pass cycleMomentum: false`,
        );
      }
      const maxM = perGroup(name, 'maxMomentum', this.optimizer, options.maxMomentum ?? 0.95);
      const baseM = perGroup(name, 'baseMomentum', this.optimizer, options.baseMomentum ?? 0.85);
      if (lastEpoch === -1) {
        groups.forEach((g, i) => {
          this.setMomentum(g, maxM[i]!);
          g.maxMomentum = maxM[i]!;
          g.baseMomentum = baseM[i]!;
        });
      }
    }
    this.start(lastEpoch);
  }

  private setMomentum(g: ParamGroup, m: number): void {
    if (this.useBeta1) {
      const betas = g.betas as number[];
      g.betas = [m, ...betas.slice(1)];
    } else {
      g.momentum = m;
    }
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'cos') return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
    return (end - start) * pct + start;
  }

  protected computeLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new ValueError(
        `${this.name}: tried to step ${stepNum + 1} times; the specified number of total steps is ${this.totalSteps}`,
      );
    }
    return this.optimizer.paramGroups.map((g) => {
      let start = 0;
      let lr = 0;
      let momentum = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const ph = this.phases[i]!;
        if (stepNum <= ph.endStep || i === this.phases.length - 1) {
          const span = ph.endStep - start;
          const pct = span > 0 ? (stepNum - start) / span : 1;
          lr = this.anneal(g[ph.startLr] as number, g[ph.endLr] as number, pct);
          if (this.cycleMomentum) {
            momentum = this.anneal(g[ph.startMomentum] as number, g[ph.endMomentum] as number, pct);
          }
          break;
        }
        start = ph.endStep;
      }
      if (this.cycleMomentum) this.setMomentum(g, momentum);
      return lr;
    });
  }
}

/** Options of `ReduceLROnPlateau`. */
export interface ReduceLROnPlateauOptions {
  /** 'min': reduce when the metric stops decreasing; 'max': when it stops increasing (default 'min'). */
  mode?: 'min' | 'max';
  /** Factor the rate is multiplied by, in [0, 1) (default 0.1). */
  factor?: number;
  /** Number of epochs without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** Minimum change counted as an improvement (default 1e-4). */
  threshold?: number;
  /** 'rel': relative to the best value; 'abs': absolute (default 'rel'). */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again (default 0). */
  cooldown?: number;
  /** Lower bound of the rate (one for all groups, or one per group; default 0). */
  minLr?: number | readonly number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/** Reduces the rates by `factor` when a metric has stopped improving for `patience` epochs. */
export class ReduceLROnPlateau {
  /** The scheduler's name, for error messages. */
  readonly name = 'ReduceLROnPlateau';
  /** The optimizer whose groups' `lr` this scheduler sets. */
  readonly optimizer: Optimizer;
  /** Marks schedulers whose `step` needs the monitored metric (training loops check it). */
  readonly needsMetric = true;
  /** 'min' or 'max': the direction of improvement. */
  mode: 'min' | 'max';
  /** Factor the rate is multiplied by. */
  factor: number;
  /** Epochs without improvement tolerated before reducing. */
  patience: number;
  /** Minimum change counted as an improvement. */
  threshold: number;
  /** Whether `threshold` is relative or absolute. */
  thresholdMode: 'rel' | 'abs';
  /** Epochs to wait after a reduction. */
  cooldown: number;
  /** Lower bound of each group's rate. */
  minLrs: number[];
  /** Reductions smaller than this are skipped. */
  eps: number;
  /** Best metric so far (±Infinity before the first step). */
  best: number;
  /** Epochs since the last improvement. */
  numBadEpochs = 0;
  /** Epochs of cooldown left. */
  cooldownCounter = 0;
  /** Number of `step` calls. */
  lastEpoch = 0;
  private lastLr: number[];

  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    const name = this.name;
    this.optimizer = checkOptimizer(name, optimizer);
    this.mode = options.mode ?? 'min';
    this.factor = options.factor ?? 0.1;
    this.patience = options.patience ?? 10;
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? 'rel';
    this.cooldown = options.cooldown ?? 0;
    this.eps = options.eps ?? 1e-8;
    checkNum(name, 'factor', this.factor, (x) => x >= 0 && x < 1, 'a number in [0, 1)');
    checkNum(name, 'patience', this.patience, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer');
    checkNum(name, 'threshold', this.threshold, (x) => x >= 0, 'a number >= 0');
    checkNum(name, 'cooldown', this.cooldown, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer');
    checkNum(name, 'eps', this.eps, (x) => x >= 0, 'a number >= 0');
    this.minLrs = perGroup(name, 'minLr', this.optimizer, options.minLr ?? 0);
    for (const m of this.minLrs) checkNum(name, 'minLr', m, (x) => x >= 0, 'a number >= 0');
    this.checkModes();
    this.best = this.worst();
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  private checkModes(): void {
    if (this.mode !== 'min' && this.mode !== 'max')
      throw invalid(this.name, 'mode', this.mode, "'min' or 'max'");
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') {
      throw invalid(this.name, 'thresholdMode', this.thresholdMode, "'rel' or 'abs'");
    }
  }

  private worst(): number {
    return this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  private isBetter(a: number, best: number): boolean {
    const t = this.threshold;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - t) : a < best - t;
    return this.thresholdMode === 'rel' ? a > best * (t + 1) : a > best + t;
  }

  /** True while cooling down after a reduction. */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** Records one epoch's metric (a number or a one-element tensor) and reduces the rates if it has plateaued. */
  step(metric?: number | Tensor): void {
    const current = metric instanceof Tensor ? metric.item() : metric;
    if (typeof current !== 'number') {
      throw new ValueError(
        `${this.name}: step expects the monitored metric (a number or a one-element tensor), got ${typeof current}`,
      );
    }
    this.lastEpoch++;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.inCooldown) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const old = g.lr;
        const next = Math.max(old * this.factor, this.minLrs[i]!);
        if (old - next > this.eps) g.lr = next;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rate of each parameter group after the last step. */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  private static readonly KEYS = [
    'mode',
    'factor',
    'patience',
    'threshold',
    'thresholdMode',
    'cooldown',
    'minLrs',
    'eps',
    'best',
    'numBadEpochs',
    'cooldownCounter',
    'lastEpoch',
    'lastLr',
  ] as const;

  /** The scheduler's state as a plain JSON object (`best` is null while it is still ±Infinity). */
  stateDict(): SchedulerState {
    const s = snapshot(this, ReduceLROnPlateau.KEYS);
    if (!Number.isFinite(this.best)) s.best = null;
    return s;
  }

  /** Restores a state made by `stateDict`. */
  loadStateDict(state: SchedulerState): void {
    restore(this.name, this, ReduceLROnPlateau.KEYS, state);
    this.checkModes();
    if (typeof this.best !== 'number') this.best = this.worst();
  }
}
