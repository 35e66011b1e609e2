/**
 * `RMSprop`: gradients divided by a running root-mean-square, optionally centered and with momentum
 * (PyTorch 1.13's update rule).
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
  type ParamsInput,
  stateLike,
  stateTensor,
  validateOptions,
  withDefaults,
} from './optimizer.js';

/** Per-step scalars of the RMSprop kernel. */
interface RMSpropCoeffs {
  sign: number;
  wd: number;
  alpha: number;
  /** 1 - alpha. */
  c: number;
  eps: number;
  lr: number;
  /** Momentum factor; 0: no momentum buffer. */
  momentum: number;
  centered: boolean;
}

/** Stand-in for state arrays a variant does not use. */
const NONE = new Float64Array(0);

/** The RMSprop element loop (v: square average, a: gradient average, b: momentum buffer). */
function rmspropKernel(
  pa: FloatArray,
  g: TypedArray,
  v: FloatArray,
  a: FloatArray,
  b: FloatArray,
  k: RMSpropCoeffs,
): void {
  const { sign, wd, alpha, c, eps, lr, momentum, centered } = k;
  const useMomentum = momentum > 0;
  const n = pa.length;
  for (let i = 0; i < n; i++) {
    const gi = wd === 0 ? sign * g[i]! : sign * g[i]! + wd * pa[i]!;
    v[i] = v[i]! * alpha + c * gi * gi;
    let avg: number;
    if (centered) {
      a[i] = a[i]! * alpha + c * gi;
      avg = Math.sqrt(v[i]! - a[i]! * a[i]!) + eps;
    } else {
      avg = Math.sqrt(v[i]!) + eps;
    }
    if (useMomentum) {
      b[i] = b[i]! * momentum + gi / avg;
      pa[i] = pa[i]! - lr * b[i]!;
    } else {
      pa[i] = pa[i]! - lr * (gi / avg);
    }
  }
}

/** Options of `RMSprop`. */
export interface RMSpropOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha: number;
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Normalise by the estimated variance (subtract the squared mean gradient; default false). */
  centered: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/**
 * RMSprop. Per step: `g += λp`, `v = α·v + (1-α)g²`; centered: `a = α·a + (1-α)g`, `v̂ = v - a²`;
 * `d = sqrt(v̂) + eps`; with momentum μ: `b = μb + g/d`, `p -= lr·b`, else `p -= lr·g/d`.
 *
 * State per parameter: `step`, `squareAvg`, and `momentumBuffer` (momentum > 0), `gradAvg` (centered).
 */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: ParamsInput<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    super(
      'RMSprop',
      params,
      withDefaults<RMSpropOptions>(options, {
        lr: 1e-2,
        alpha: 0.99,
        eps: 1e-8,
        weightDecay: 0,
        momentum: 0,
        centered: false,
        maximize: false,
      }),
    );
  }

  protected validateGroup(g: Readonly<RMSpropOptions>, where: string): void {
    validateOptions('RMSprop', where, g, {
      lr: NON_NEGATIVE,
      alpha: { min: 0, max: 1 },
      eps: NON_NEGATIVE,
      weightDecay: NON_NEGATIVE,
      momentum: NON_NEGATIVE,
      centered: 'bool',
      maximize: 'bool',
    });
  }

  protected updateGroup(group: ParamGroup<RMSpropOptions>): void {
    const { lr, alpha, eps, weightDecay: wd, momentum, centered, maximize } = group;
    const sign = maximize ? -1 : 1;
    const c = 1 - alpha;
    this.forEachGrad(group, (p, g) => {
      const s = this.stateOf(p, () => {
        const init: Record<string, Tensor | number> = { step: 0, squareAvg: stateLike(p) };
        if (momentum > 0) init.momentumBuffer = stateLike(p);
        if (centered) init.gradAvg = stateLike(p);
        return init;
      });
      nextStep(s);
      const vt = stateTensor(s, 'squareAvg', () => stateLike(p));
      const bt = momentum > 0 ? stateTensor(s, 'momentumBuffer', () => stateLike(p)) : null;
      const at = centered ? stateTensor(s, 'gradAvg', () => stateLike(p)) : null;
      const pa = openFloat(p);
      const v = openFloat(vt);
      const b = bt ? openFloat(bt) : NONE;
      const a = at ? openFloat(at) : NONE;
      rmspropKernel(pa, g, v, a, b, { sign, wd, alpha, c, eps, lr, momentum, centered: at !== null });
      commit(vt, v);
      if (bt) commit(bt, b);
      if (at) commit(at, a);
      commit(p, pa);
    });
  }
}
