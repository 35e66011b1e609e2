/**
 * Finite-difference gradient checking in float64.
 * @module
 */
import { tensor } from '../core/creation.js';
import { AutogradError, DTypeError } from '../core/errors.js';
import { Generator } from '../core/random.js';
import { fmt } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { autogradGrad } from './functional.js';
import { enableGrad, noGrad } from './grad-mode.js';

/** Options of `gradcheck`. */
export interface GradcheckOptions {
  /** Finite-difference step. */
  eps?: number;
  /** Absolute tolerance. */
  atol?: number;
  /** Relative tolerance. */
  rtol?: number;
  /** Throw an error describing the mismatch (default) instead of returning false. */
  raiseException?: boolean;
  /** Seed of the random projection vector. */
  seed?: number;
}

/**
 * Compares the analytic gradient of `f` at `inputs` with central finite differences. Checks the
 * vector-Jacobian product with a random vector v: for every input element, d(v·f)/dx analytically
 * vs. (v·f(x+eps) - v·f(x-eps)) / 2eps. Inputs must be float64 tensors; those with
 * `requiresGrad` are checked.
 */
export function gradcheck(
  f: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): boolean {
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-3;
  const raise = options.raiseException ?? true;
  for (const [i, x] of inputs.entries()) {
    if (x.requiresGrad && x.dtype !== 'float64') {
      throw new DTypeError(
        `gradcheck: input ${i} is ${x.dtype}; use float64 inputs (x.double()) for finite differences`,
      );
    }
  }
  const checked = inputs.map((x, i) => [x, i] as const).filter(([x]) => x.requiresGrad);
  if (!checked.length) throw new AutogradError('gradcheck: no input requires grad');
  const out = f(...inputs);
  const gen = new Generator(options.seed ?? 0);
  const vData = new Float64Array(out.numel());
  for (let i = 0; i < vData.length; i++) vData[i] = gen.random() * 2 - 1;
  const v = tensor(vData, { shape: out.shape, dtype: out.dtype });
  const analytic = out.requiresGrad
    ? autogradGrad(
        [out],
        checked.map(([x]) => x),
        { gradOutputs: [v], allowUnused: true },
      )
    : checked.map(() => null);
  const project = (args: Tensor[]): number => {
    const y = noGrad(() => f(...args)).dataSync();
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i]! * vData[i]!;
    return s;
  };
  for (let c = 0; c < checked.length; c++) {
    const [x, idx] = checked[c]!;
    const base = Float64Array.from(x.dataSync());
    const a = analytic[c] ? analytic[c]!.dataSync() : new Float64Array(base.length);
    for (let j = 0; j < base.length; j++) {
      const at = (delta: number): number => {
        const d = base.slice();
        d[j]! += delta;
        const args = inputs.slice();
        args[idx] = tensor(d, { shape: x.shape, dtype: 'float64' });
        return project(args);
      };
      const num = (at(eps) - at(-eps)) / (2 * eps);
      const an = a[j]!;
      if (!(Math.abs(num - an) <= atol + rtol * Math.abs(num))) {
        const msg =
          `gradcheck: gradient mismatch for input ${idx} (shape ${fmt(x.shape)}) at flat index ${j}: ` +
          `analytic ${an}, numerical ${num}`;
        if (raise) throw new AutogradError(msg);
        return false;
      }
    }
  }
  return true;
}

/**
 * Second-order check: gradchecks the function inputs -> v·(df/dinputs) built with `createGraph`,
 * so the backward pass itself is verified to be differentiable and correct.
 */
export function gradgradcheck(
  f: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): boolean {
  const gen = new Generator((options.seed ?? 0) + 1);
  const out = f(...inputs);
  const vData = new Float64Array(out.numel());
  for (let i = 0; i < vData.length; i++) vData[i] = gen.random() * 2 - 1;
  const v = tensor(vData, { shape: out.shape, dtype: 'float64' });
  const idx = inputs.map((x, i) => (x.requiresGrad ? i : -1)).filter((i) => i >= 0);
  const g = (...raw: Tensor[]): Tensor =>
    enableGrad(() => {
      const args = raw.map((t, i) =>
        idx.includes(i) && !t.requiresGrad ? t.detach().requiresGrad_(true) : t,
      );
      const y = f(...args);
      const gs = autogradGrad(
        [y],
        idx.map((i) => args[i]!),
        { gradOutputs: [v], createGraph: true, allowUnused: true },
      );
      let s: Tensor | null = null;
      for (const gi of gs) if (gi) s = s ? s.add(gi.mul(gi).sum()) : gi.mul(gi).sum();
      if (!s) throw new AutogradError('gradgradcheck: f does not depend on any input');
      return s;
    });
  return gradcheck(g, inputs, options);
}
