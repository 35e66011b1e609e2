/**
 * `SGD`: stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight
 * decay (PyTorch 1.13's update rule).
 * @module
 */

import { wasmSgdMomentumStep, wasmSgdStep } from '../backends/wasm/optim.js';
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
  wasmUpdate,
  withDefaults,
} from './optimizer.js';

// The element loops are small separate functions without per-element branches on options; float32
// parameters with float32 gradients (the common case) get their own copies so that their element
// accesses stay monomorphic whatever other dtypes the process updates. Large float32 parameters of the
// wasm backend go through `sgdStep`/`sgdMomentumStep` of assembly/optim.ts instead, which compute
// exactly what sgdF32, sgdWdF32 and sgdMomentumF32 compute (bit-identical results,
// test/optim/float32-kernels.test.ts): change both together.

/**
 * Plain SGD without weight decay, float32: p -= slr·g (slr = ±lr, negative to maximise). Unrolled by
 * eight, which V8 runs about 1.5x faster than the plain loop (fewer loop and bounds checks).
 */
function sgdF32(pa: Float32Array, g: Float32Array, slr: number): void {
  const n = pa.length;
  let i = 0;
  for (; i + 7 < n; i += 8) {
    pa[i] = pa[i]! - slr * g[i]!;
    pa[i + 1] = pa[i + 1]! - slr * g[i + 1]!;
    pa[i + 2] = pa[i + 2]! - slr * g[i + 2]!;
    pa[i + 3] = pa[i + 3]! - slr * g[i + 3]!;
    pa[i + 4] = pa[i + 4]! - slr * g[i + 4]!;
    pa[i + 5] = pa[i + 5]! - slr * g[i + 5]!;
    pa[i + 6] = pa[i + 6]! - slr * g[i + 6]!;
    pa[i + 7] = pa[i + 7]! - slr * g[i + 7]!;
  }
  for (; i < n; i++) pa[i] = pa[i]! - slr * g[i]!;
}

/** Plain SGD without weight decay, any float dtypes: p -= slr·g. */
function sgdAny(pa: FloatArray, g: TypedArray, slr: number): void {
  const n = pa.length;
  for (let i = 0; i < n; i++) pa[i] = pa[i]! - slr * g[i]!;
}

/** Plain SGD with weight decay, float32: p -= lr·(±g + wd·p). */
function sgdWdF32(pa: Float32Array, g: Float32Array, sign: number, wd: number, lr: number): void {
  const n = pa.length;
  for (let i = 0; i < n; i++) {
    const p = pa[i]!;
    pa[i] = p - lr * (sign * g[i]! + wd * p);
  }
}

/** Plain SGD with weight decay, any float dtypes: p -= lr·(±g + wd·p). */
function sgdWdAny(pa: FloatArray, g: TypedArray, sign: number, wd: number, lr: number): void {
  const n = pa.length;
  for (let i = 0; i < n; i++) {
    const p = pa[i]!;
    pa[i] = p - lr * (sign * g[i]! + wd * p);
  }
}

/** Plain SGD: p -= lr·(±g + wd·p). (lr·(±g) equals (±lr)·g exactly, so the sign is folded into lr.) */
function sgdKernel(pa: FloatArray, g: TypedArray, sign: number, wd: number, lr: number): void {
  const f32 = pa instanceof Float32Array && g instanceof Float32Array;
  if (wd === 0) {
    if (f32) sgdF32(pa, g, sign * lr);
    else sgdAny(pa, g, sign * lr);
  } else if (f32) sgdWdF32(pa, g, sign, wd, lr);
  else sgdWdAny(pa, g, sign, wd, lr);
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

/**
 * `sgdMomentumKernel` for float32 arrays: monomorphic element accesses, and the new buffer value
 * rounded with Math.fround instead of being read back from the array (the same value).
 */
function sgdMomentumF32(pa: Float32Array, g: Float32Array, b: Float32Array, k: MomentumCoeffs): void {
  const { sign, wd, lr, momentum, keep, nesterov, first } = k;
  const n = pa.length;
  for (let i = 0; i < n; i++) {
    const p = pa[i]!;
    const d = wd === 0 ? sign * g[i]! : sign * g[i]! + wd * p;
    const bi = Math.fround(first ? d : b[i]! * momentum + keep * d);
    b[i] = bi;
    pa[i] = p - lr * (nesterov ? d + momentum * bi : bi);
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
    const params = group.params;
    for (let j = 0; j < params.length; j++) {
      const p = params[j]!;
      const g = this.gradData(p, `parameter ${j}`);
      if (!g) continue;
      const s = this.stateOf(p, () => ({}));
      const pa = openFloat(p);
      // the WebAssembly kernels for large float32 parameters of the wasm backend (the same results)
      const wasm = wasmUpdate(p, pa.length) && pa instanceof Float32Array && g instanceof Float32Array;
      if (momentum === 0) {
        if (!(wasm && wasmSgdStep(pa, g, sign, wd, lr))) sgdKernel(pa, g, sign, wd, lr);
      } else {
        const first = s.momentumBuffer === undefined;
        const bt = first ? stateLike(p) : (s.momentumBuffer as Tensor);
        s.momentumBuffer = bt;
        const b = openFloat(bt);
        const k: MomentumCoeffs = { sign, wd, lr, momentum, keep: 1 - dampening, nesterov, first };
        const done = wasm && b instanceof Float32Array && wasmSgdMomentumStep(pa, g, b, k);
        if (!done) {
          if (pa instanceof Float32Array && g instanceof Float32Array && b instanceof Float32Array) {
            sgdMomentumF32(pa, g, b, k);
          } else {
            sgdMomentumKernel(pa, g, b, k);
          }
        }
        commit(bt, b);
      }
      commit(p, pa);
    }
  }
}
