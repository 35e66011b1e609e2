/**
 * `Adam` and `AdamW` (decoupled weight decay), with the AMSGrad variant; PyTorch 1.13's update rules
 * including the per-parameter step counter and bias corrections.
 * @module
 */

import { wasmAdamStep } from '../backends/wasm/optim.js';
import type { FloatArray, TypedArray } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import {
  checkNumber,
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
  wasmUpdate,
} from './optimizer.js';

/** Options of `Adam` and `AdamW`. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment averages, each in [0, 1) (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay rate (default 1e-2). */
  weightDecay: number;
  /** Use the AMSGrad variant (the maximum of past second moments; default false). */
  amsgrad: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** Options accepted by the constructors (all optional). */
export type AdamInput = Partial<Omit<AdamOptions, 'betas'>> & { betas?: readonly [number, number] };

function validate(name: string, g: Readonly<AdamOptions>, where: string): void {
  validateOptions(name, where, g, { lr: NON_NEGATIVE, eps: NON_NEGATIVE });
  if (!Array.isArray(g.betas) || g.betas.length !== 2) {
    throw new ValueError(
      `${name}: invalid betas ${JSON.stringify(g.betas)} in ${where} (expected [beta1, beta2])`,
    );
  }
  checkNumber(name, 'betas[0]', where, g.betas[0], { min: 0, below: 1 });
  checkNumber(name, 'betas[1]', where, g.betas[1], { min: 0, below: 1 });
  validateOptions(name, where, g, { weightDecay: NON_NEGATIVE, amsgrad: 'bool', maximize: 'bool' });
}

function defaults(o: AdamInput, weightDecay: number): AdamOptions {
  const b = o.betas ?? [0.9, 0.999];
  return {
    lr: o.lr ?? 1e-3,
    betas: b.slice() as [number, number],
    eps: o.eps ?? 1e-8,
    weightDecay: o.weightDecay ?? weightDecay,
    amsgrad: o.amsgrad ?? false,
    maximize: o.maximize ?? false,
  };
}

/** Per-step scalars of the Adam kernels. */
interface AdamCoeffs {
  /** -1 to maximise. */
  sign: number;
  /** L2 weight decay added to the gradient (0 for AdamW). */
  wd: number;
  /** Factor applied to p before the update (1 - lr·wd for AdamW, else 1). */
  decay: number;
  beta1: number;
  beta2: number;
  /** 1 - beta1 and 1 - beta2. */
  c1: number;
  c2: number;
  /** sqrt(1 - beta2^t). */
  bc2sqrt: number;
  eps: number;
  /** lr / (1 - beta1^t). */
  stepSize: number;
}

// The element loops are separate small functions without per-element branches on options, so that
// they stay fast whatever mix of variants and dtypes the process uses. Values are read back from the
// arrays after writing so float32 state rounds like PyTorch's. Large float32 parameters of the wasm
// backend go through `adamStep` of assembly/optim.ts instead, which computes exactly what adamF32 and
// adamL2F32 compute (bit-identical results, test/optim/float32-kernels.test.ts): change both together.

/** Adam/AdamW update without an L2 term. */
function adamKernel(pa: FloatArray, g: TypedArray, m: FloatArray, v: FloatArray, k: AdamCoeffs): void {
  const { sign, decay, beta1, beta2, c1, c2, bc2sqrt, eps, stepSize } = k;
  const n = pa.length;
  for (let i = 0; i < n; i++) {
    const gi = sign * g[i]!;
    const p = pa[i]! * decay;
    m[i] = m[i]! * beta1 + c1 * gi;
    v[i] = v[i]! * beta2 + c2 * gi * gi;
    pa[i] = p - stepSize * (m[i]! / (Math.sqrt(v[i]!) / bc2sqrt + eps));
  }
}

/** Adam update with the L2 term wd·p added to the gradient. */
function adamL2Kernel(pa: FloatArray, g: TypedArray, m: FloatArray, v: FloatArray, k: AdamCoeffs): void {
  const { sign, wd, beta1, beta2, c1, c2, bc2sqrt, eps, stepSize } = k;
  const n = pa.length;
  for (let i = 0; i < n; i++) {
    const p = pa[i]!;
    const gi = sign * g[i]! + wd * p;
    m[i] = m[i]! * beta1 + c1 * gi;
    v[i] = v[i]! * beta2 + c2 * gi * gi;
    pa[i] = p - stepSize * (m[i]! / (Math.sqrt(v[i]!) / bc2sqrt + eps));
  }
}

/**
 * `adamKernel` for float32 arrays (the common case): monomorphic element accesses, and the new moments
 * rounded with Math.fround instead of being read back from the arrays (the same values).
 */
function adamF32(pa: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, k: AdamCoeffs): void {
  const { sign, decay, beta1, beta2, c1, c2, bc2sqrt, eps, stepSize } = k;
  const n = pa.length;
  for (let i = 0; i < n; i++) {
    const gi = sign * g[i]!;
    const mi = Math.fround(m[i]! * beta1 + c1 * gi);
    const vi = Math.fround(v[i]! * beta2 + c2 * gi * gi);
    m[i] = mi;
    v[i] = vi;
    pa[i] = pa[i]! * decay - stepSize * (mi / (Math.sqrt(vi) / bc2sqrt + eps));
  }
}

/** `adamL2Kernel` for float32 arrays (see `adamF32`). */
function adamL2F32(pa: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, k: AdamCoeffs): void {
  const { sign, wd, beta1, beta2, c1, c2, bc2sqrt, eps, stepSize } = k;
  const n = pa.length;
  for (let i = 0; i < n; i++) {
    const p = pa[i]!;
    const gi = sign * g[i]! + wd * p;
    const mi = Math.fround(m[i]! * beta1 + c1 * gi);
    const vi = Math.fround(v[i]! * beta2 + c2 * gi * gi);
    m[i] = mi;
    v[i] = vi;
    pa[i] = p - stepSize * (mi / (Math.sqrt(vi) / bc2sqrt + eps));
  }
}

/** AMSGrad variant (any weight decay): normalises by the running maximum x of v. */
function adamAmsgradKernel(
  pa: FloatArray,
  g: TypedArray,
  m: FloatArray,
  v: FloatArray,
  x: FloatArray,
  k: AdamCoeffs,
): void {
  const { sign, wd, decay, beta1, beta2, c1, c2, bc2sqrt, eps, stepSize } = k;
  const n = pa.length;
  for (let i = 0; i < n; i++) {
    const p = pa[i]! * decay;
    const gi = wd === 0 ? sign * g[i]! : sign * g[i]! + wd * p;
    m[i] = m[i]! * beta1 + c1 * gi;
    v[i] = v[i]! * beta2 + c2 * gi * gi;
    const vi = v[i]!;
    if (vi > x[i]! || Number.isNaN(vi)) x[i] = vi;
    pa[i] = p - stepSize * (m[i]! / (Math.sqrt(x[i]!) / bc2sqrt + eps));
  }
}

/** The shared implementation of `Adam` and `AdamW` (they differ in how weight decay is applied). */
abstract class AdamBase extends Optimizer<AdamOptions> {
  /** True for AdamW's decoupled weight decay. */
  protected abstract readonly decoupled: boolean;

  protected validateGroup(g: Readonly<AdamOptions>, where: string): void {
    validate(this.name, g, where);
  }

  protected updateGroup(group: ParamGroup<AdamOptions>): void {
    const { lr, eps, weightDecay: wd, amsgrad, maximize } = group;
    const [beta1, beta2] = group.betas;
    const decoupled = this.decoupled;
    const sign = maximize ? -1 : 1;
    const decay = 1 - lr * wd;
    this.forEachGrad(group, (p, g) => {
      const s = this.stateOf(p, () => ({ step: 0, expAvg: stateLike(p), expAvgSq: stateLike(p) }));
      const mt = stateTensor(s, 'expAvg', () => stateLike(p));
      const vt = stateTensor(s, 'expAvgSq', () => stateLike(p));
      const xt = amsgrad ? stateTensor(s, 'maxExpAvgSq', () => stateLike(p)) : null;
      const step = nextStep(s);
      const bc1 = 1 - beta1 ** step;
      const bc2sqrt = Math.sqrt(1 - beta2 ** step);
      const stepSize = lr / bc1;
      const pa = openFloat(p);
      const m = openFloat(mt);
      const v = openFloat(vt);
      // AdamW shrinks p before the update; Adam adds wd·p to the gradient (when wd is 0 the term is left out).
      const k: AdamCoeffs = {
        sign,
        wd: decoupled ? 0 : wd,
        decay: decoupled ? decay : 1,
        beta1,
        beta2,
        c1: 1 - beta1,
        c2: 1 - beta2,
        bc2sqrt,
        eps,
        stepSize,
      };
      if (xt) {
        const x = openFloat(xt);
        adamAmsgradKernel(pa, g, m, v, x, k);
        commit(xt, x);
      } else if (
        pa instanceof Float32Array &&
        g instanceof Float32Array &&
        m instanceof Float32Array &&
        v instanceof Float32Array
      ) {
        // large parameters of the wasm backend: the WebAssembly kernel (the same float32 results)
        const done = wasmUpdate(p, pa.length) && wasmAdamStep(pa, g, m, v, k);
        if (!done) {
          if (k.wd === 0) adamF32(pa, g, m, v, k);
          else adamL2F32(pa, g, m, v, k);
        }
      } else if (k.wd === 0) {
        adamKernel(pa, g, m, v, k);
      } else {
        adamL2Kernel(pa, g, m, v, k);
      }
      commit(mt, m);
      commit(vt, v);
      commit(p, pa);
    });
  }
}

/**
 * Adam. Per step t (counted per parameter): `g += λp` (weight decay), `m = β1·m + (1-β1)g`,
 * `v = β2·v + (1-β2)g²`, `p -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps)` (AMSGrad uses the
 * running maximum of v).
 *
 * State per parameter: `step`, `expAvg`, `expAvgSq` and, with amsgrad, `maxExpAvgSq`.
 */
export class Adam extends AdamBase {
  protected readonly decoupled = false;

  constructor(params: ParamsInput<AdamOptions>, options: AdamInput = {}) {
    super('Adam', params, defaults(options, 0));
  }
}

/**
 * AdamW: Adam with decoupled weight decay (`p *= 1 - lr·λ` before the Adam update instead of adding
 * λp to the gradient). Weight decay defaults to 1e-2. Same state as `Adam`.
 */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;

  constructor(params: ParamsInput<AdamOptions>, options: AdamInput = {}) {
    super('AdamW', params, defaults(options, 1e-2));
  }
}
