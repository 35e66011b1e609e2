/**
 * `SGD`: stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight
 * decay (PyTorch 1.13's update rule).
 * @module
 */

import type { FloatArray, TypedArray } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import {
  commit,
  NON_NEGATIVE,
  Optimizer,
  openFloat,
  type ParamGroup,
  type ParamsInput,
  stateLike,
  validateOptions,
  withDefaults,
} from './optimizer.js';

/** Plain SGD: p -= lr·(±g + wd·p). */
function sgdKernel(pa: FloatArray, g: TypedArray, sign: number, wd: number, lr: number): void {
  const n = pa.length;
  for (let i = 0; i < n; i++) {
    const d = wd === 0 ? sign * g[i]! : sign * g[i]! + wd * pa[i]!;
    pa[i] = pa[i]! - lr * d;
  }
}

/** Per-step scalars of the momentum kernel. */
interface MomentumCoeffs {
  sign: number;
  wd: number;
  lr: number;
  momentum: number;
  /** 1 - dampening. */
  keep: number;
  nesterov: boolean;
  /** First step: the buffer starts as the gradient. */
  first: boolean;
}

/** SGD with momentum (buffer b). */
function sgdMomentumKernel(pa: FloatArray, g: TypedArray, b: FloatArray, k: MomentumCoeffs): void {
  const { sign, wd, lr, momentum, keep, nesterov, first } = k;
  const n = pa.length;
  for (let i = 0; i < n; i++) {
    const d = wd === 0 ? sign * g[i]! : sign * g[i]! + wd * pa[i]!;
    b[i] = first ? d : b[i]! * momentum + keep * d;
    const step = nesterov ? d + momentum * b[i]! : b[i]!;
    pa[i] = pa[i]! - lr * step;
  }
}

/** Options of `SGD`. */
export interface SGDOptions {
  /** Learning rate (required). */
  lr: number;
  /** Momentum factor (default 0: plain SGD). */
  momentum: number;
  /** Dampening of the momentum (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/**
 * Stochastic gradient descent. With momentum μ, dampening τ and weight decay λ, each step does
 * `d = g + λp; b = μb + (1-τ)d` (b = d on the first step); `d = nesterov ? d + μb : b; p -= lr·d`.
 *
 * State per parameter: `momentumBuffer` (only with momentum).
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, options: Partial<SGDOptions> & { lr: number }) {
    super(
      'SGD',
      params,
      withDefaults<SGDOptions>(options, {
        lr: options.lr,
        momentum: 0,
        dampening: 0,
        weightDecay: 0,
        nesterov: false,
        maximize: false,
      }),
    );
  }

  protected validateGroup(g: Readonly<SGDOptions>, where: string): void {
    validateOptions('SGD', where, g, {
      lr: NON_NEGATIVE,
      momentum: NON_NEGATIVE,
      dampening: {},
      weightDecay: NON_NEGATIVE,
      nesterov: 'bool',
      maximize: 'bool',
    });
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      throw new ValueError(
        `SGD: nesterov momentum requires a momentum > 0 and zero dampening (${where} has momentum ` +
          `${g.momentum}, dampening ${g.dampening})`,
      );
    }
  }

  protected updateGroup(group: ParamGroup<SGDOptions>): void {
    const { lr, momentum, dampening, weightDecay: wd, nesterov, maximize } = group;
    const sign = maximize ? -1 : 1;
    this.forEachGrad(group, (p, g) => {
      const s = this.stateOf(p, () => ({}));
      const pa = openFloat(p);
      if (momentum === 0) {
        sgdKernel(pa, g, sign, wd, lr);
      } else {
        const first = s.momentumBuffer === undefined;
        const bt = first ? stateLike(p) : (s.momentumBuffer as Tensor);
        s.momentumBuffer = bt;
        const b = openFloat(bt);
        sgdMomentumKernel(pa, g, b, { sign, wd, lr, momentum, keep: 1 - dampening, nesterov, first });
        commit(bt, b);
      }
      commit(p, pa);
    });
  }
}
