/**
 * `Adagrad`: per-element learning rates scaled by the accumulated squared gradients (PyTorch 1.13's
 * update rule, with learning-rate decay).
 * @module
 */
import type { FloatArray, TypedArray } from '../core/dtype.js';
import type { Tensor } from '../core/tensor.js';
import {
  commit,
  NON_NEGATIVE,
  nextStep,
  Optimizer,
  openFloat,
  type ParamGroup,
  type ParamGroupInput,
  type ParamsInput,
  stateLike,
  stateTensor,
  validateOptions,
  withDefaults,
} from './optimizer.js';

/** The Adagrad element loop: sum += g², p -= clr·g/(sqrt(sum) + eps). */
function adagradKernel(
  pa: FloatArray,
  g: TypedArray,
  sum: FloatArray,
  sign: number,
  wd: number,
  clr: number,
  eps: number,
): void {
  const n = pa.length;
  for (let i = 0; i < n; i++) {
    const gi = wd === 0 ? sign * g[i]! : sign * g[i]! + wd * pa[i]!;
    sum[i] = sum[i]! + gi * gi;
    pa[i] = pa[i]! - clr * (gi / (Math.sqrt(sum[i]!) + eps));
  }
}

/** Options of `Adagrad`. */
export interface AdagradOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Learning-rate decay: step t uses lr / (1 + (t-1)·lrDecay) (default 0). */
  lrDecay: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Starting value of the squared-gradient sums (default 0). */
  initialAccumulatorValue: number;
  /** Added to the denominator for numerical stability (default 1e-10). */
  eps: number;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/**
 * Adagrad. Per step t: `g += λp`, `sum += g²`, `p -= lr/(1 + (t-1)·lrDecay) · g / (sqrt(sum) + eps)`.
 *
 * State per parameter: `step` and `sum` (created when the optimizer is, like PyTorch's).
 */
export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: ParamsInput<AdagradOptions>, options: Partial<AdagradOptions> = {}) {
    super(
      'Adagrad',
      params,
      withDefaults<AdagradOptions>(options, {
        lr: 1e-2,
        lrDecay: 0,
        weightDecay: 0,
        initialAccumulatorValue: 0,
        eps: 1e-10,
        maximize: false,
      }),
    );
  }

  /** Adds a group and creates its parameters' state (the accumulators start at initialAccumulatorValue). */
  override addParamGroup(group: ParamGroupInput<AdagradOptions>): void {
    super.addParamGroup(group);
    const g = this.paramGroups[this.paramGroups.length - 1]!;
    for (const p of g.params) this.initState(p, g.initialAccumulatorValue);
  }

  private initState(p: Tensor, init: number): void {
    this.stateOf(p, () => ({ step: 0, sum: stateLike(p, init) }));
  }

  protected validateGroup(g: Readonly<AdagradOptions>, where: string): void {
    validateOptions('Adagrad', where, g, {
      lr: NON_NEGATIVE,
      lrDecay: NON_NEGATIVE,
      weightDecay: NON_NEGATIVE,
      initialAccumulatorValue: NON_NEGATIVE,
      eps: NON_NEGATIVE,
      maximize: 'bool',
    });
  }

  protected updateGroup(group: ParamGroup<AdagradOptions>): void {
    const { lr, lrDecay, weightDecay: wd, eps, maximize } = group;
    const sign = maximize ? -1 : 1;
    this.forEachGrad(group, (p, g) => {
      const s = this.stateOf(p, () => ({ step: 0, sum: stateLike(p, group.initialAccumulatorValue) }));
      const st = stateTensor(s, 'sum', () => stateLike(p, group.initialAccumulatorValue));
      const step = nextStep(s);
      const clr = lr / (1 + (step - 1) * lrDecay);
      const pa = openFloat(p);
      const sum = openFloat(st);
      adagradKernel(pa, g, sum, sign, wd, clr, eps);
      commit(st, sum);
      commit(p, pa);
    });
  }
}
