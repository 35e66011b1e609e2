/**
 * `nn.utils`: gradient clipping, weight penalties and flattening parameters into one vector.
 * @module
 */
import { noGrad } from '../autograd/grad-mode.js';
import { zeros } from '../core/creation.js';
import { ShapeError, ValueError } from '../core/errors.js';
import { fmt } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import '../ops/binary.js';
import '../ops/inplace.js';
import '../ops/reduce.js';
import { cat } from '../ops/shape.js';
import '../ops/unary.js';
import '../ops/views.js';

/** One tensor or several (e.g. `model.parameters()`). */
export type Params = Tensor | Iterable<Tensor>;

function list(params: Params): Tensor[] {
  return params instanceof Tensor ? [params] : [...params];
}

/** Options of `clipGradNorm_`. */
export interface ClipGradNormOptions {
  /** Order of the norm: any positive number (default 2) or Infinity (the largest |gradient|). */
  normType?: number;
  /** Throw a ValueError when the total norm is NaN or infinite (default false). */
  errorIfNonfinite?: boolean;
}

/**
 * Rescales the gradients of `params` in place so that their joint norm (the norm of all gradients
 * concatenated) is at most `maxNorm`, like `torch.nn.utils.clip_grad_norm_`: each gradient is
 * multiplied by min(1, maxNorm / (total + 1e-6)). Parameters without a gradient are skipped.
 * Returns the total norm before clipping, as a number.
 */
export function clipGradNorm_(params: Params, maxNorm: number, options: ClipGradNormOptions = {}): number {
  const p = options.normType ?? 2;
  if (!(p > 0)) throw new ValueError(`clipGradNorm_: normType must be positive or Infinity, got ${p}`);
  if (!(maxNorm >= 0)) throw new ValueError(`clipGradNorm_: maxNorm must be non-negative, got ${maxNorm}`);
  const grads = list(params)
    .map((t) => t.grad)
    .filter((g): g is Tensor => g !== null);
  if (!grads.length) return 0;
  let total = 0;
  for (const g of grads) {
    const d = g.dataSync();
    if (p === Number.POSITIVE_INFINITY) {
      for (let i = 0; i < d.length; i++) {
        const a = Math.abs(d[i]!);
        if (a > total || Number.isNaN(a)) total = a;
      }
    } else if (p === 2) {
      for (let i = 0; i < d.length; i++) total += d[i]! * d[i]!;
    } else if (p === 1) {
      for (let i = 0; i < d.length; i++) total += Math.abs(d[i]!);
    } else {
      for (let i = 0; i < d.length; i++) total += Math.abs(d[i]!) ** p;
    }
  }
  if (p !== Number.POSITIVE_INFINITY && p !== 1) total = p === 2 ? Math.sqrt(total) : total ** (1 / p);
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new ValueError(
      `clipGradNorm_: the total norm of order ${p} of the gradients is ${total}, so they cannot be clipped`,
    );
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1 || Number.isNaN(coef)) {
    noGrad(() => {
      for (const g of grads) g.mul_(coef);
    });
  }
  return total;
}

/** Clamps every gradient of `params` into [-clipValue, clipValue] in place. */
export function clipGradValue_(params: Params, clipValue: number): void {
  if (!(clipValue >= 0))
    throw new ValueError(`clipGradValue_: clipValue must be non-negative, got ${clipValue}`);
  noGrad(() => {
    for (const t of list(params)) t.grad?.clamp_(-clipValue, clipValue);
  });
}

function penalty(op: string, params: Params, term: (t: Tensor) => Tensor): Tensor {
  const ts = list(params);
  if (!ts.length) return zeros([]);
  let acc: Tensor | null = null;
  for (const t of ts) {
    const s = term(t).sum();
    acc = acc ? acc.add(s) : s;
  }
  if (!acc) throw new ValueError(`${op}: no parameters`);
  return acc;
}

/** Sum of |w| over all elements of `params` (differentiable; add `lambda * l1Penalty(...)` to a loss). */
export function l1Penalty(params: Params): Tensor {
  return penalty('l1Penalty', params, (t) => t.abs());
}

/** Sum of w² over all elements of `params` (differentiable; `lambda * l2Penalty(...)` is weight decay as a loss term). */
export function l2Penalty(params: Params): Tensor {
  return penalty('l2Penalty', params, (t) => t.mul(t));
}

/** All of `params` flattened and concatenated into one 1-d tensor (differentiable). */
export function parametersToVector(params: Params): Tensor {
  const ts = list(params);
  if (!ts.length) return zeros([0]);
  return cat(
    ts.map((t) => t.reshape([-1])),
    0,
  );
}

/** Copies consecutive slices of the 1-d `vec` into `params` (in place, without autograd). */
export function vectorToParameters(vec: Tensor, params: Params): void {
  const ts = list(params);
  const total = ts.reduce((a, t) => a + t.numel(), 0);
  if (vec.ndim !== 1 || vec.shape[0] !== total) {
    throw new ShapeError(
      `vectorToParameters: expected a 1-d vector of ${total} elements (the parameters' total), got shape ${fmt(vec.shape)}`,
    );
  }
  noGrad(() => {
    let off = 0;
    for (const t of ts) {
      const n = t.numel();
      t.copy_(vec.narrow(0, off, n).reshape(t.shape));
      off += n;
    }
  });
}
