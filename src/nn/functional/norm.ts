/**
 * Normalisation layers as functions: batch, layer and group normalisation. They are written with
 * differentiable tensor ops, so gradients of every order flow through them.
 * @module
 */
import { isGradEnabled, noGrad } from '../../autograd/grad-mode.js';
import { DTypeError, ShapeError, ValueError } from '../../core/errors.js';
import { fmt, sameShape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { fromStorage, record, requireFloat } from '../../ops/util.js';

/** Options of `batchNorm` (PyTorch's names). */
export interface BatchNormOptions {
  /** Use batch statistics and update the running ones (default false: use the running statistics). */
  training?: boolean;
  /** Weight of the new batch statistic in the running average (default 0.1). */
  momentum?: number;
  /** Added to the variance for stability (default 1e-5). */
  eps?: number;
}

/** Options of `layerNorm`/`groupNorm`. */
export interface NormOptions {
  /** Added to the variance for stability (default 1e-5). */
  eps?: number;
}

/** Checks an optional per-channel (or per-feature) parameter's shape and dtype. */
function checkParam(
  op: string,
  name: string,
  t: Tensor | null | undefined,
  shape: readonly number[],
  x: Tensor,
): void {
  if (!t) return;
  if (!sameShape(t.shape, shape)) {
    throw new ShapeError(
      `${op}: ${name} must have shape ${fmt(shape)}, got ${fmt(t.shape)} (input shape ${fmt(x.shape)})`,
    );
  }
  if (t.dtype !== x.dtype) {
    throw new DTypeError(`${op}: ${name} dtype ${t.dtype} differs from the input dtype ${x.dtype}`);
  }
}

/** Normalises over `dims` with biased variance: (x - mean) / sqrt(var + eps); also returns mean and var. */
function normalize(x: Tensor, dims: number[], eps: number): [Tensor, Tensor, Tensor] {
  const mean = x.mean(dims, { keepdim: true });
  const xc = x.sub(mean);
  const v = xc.mul(xc).mean(dims, { keepdim: true });
  return [xc.mul(v.add(eps).rsqrt()), mean, v];
}

/**
 * Training-mode batch norm as one recorded op: batch statistics and the affine output from fused
 * kernels; returns the output with the batch mean and biased variance ([C], no autograd). Its
 * backward uses a fused kernel too, or, when the backward pass is itself recorded (createGraph),
 * the same formulas written with differentiable ops.
 */
function batchNormTrain(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  dims: number[],
  eps: number,
): [Tensor, Tensor, Tensor] {
  const c = x.shape[1]!;
  const b = x.storage.backend;
  const st = b.batchNormStats(x);
  const mean = fromStorage(st.mean, [c]);
  const v = fromStorage(st.variance, [c]);
  const invstd = noGrad(() => v.add(eps).rsqrt());
  const y = fromStorage(b.batchNormForward(x, mean, invstd, weight, bias), x.shape);
  const inputs = [x];
  if (weight) inputs.push(weight);
  if (bias) inputs.push(bias);
  const bshape = x.shape.map((s, i) => (i === 1 ? s : 1));
  const out = record(
    y,
    'BatchNorm',
    inputs,
    (g, needs) => {
      let dx: Tensor | null;
      let dw: Tensor | null;
      let db: Tensor | null;
      if (!isGradEnabled()) {
        const r = b.batchNormBackward(g, x, mean, invstd, weight);
        dx = fromStorage(r.dx, x.shape);
        dw = fromStorage(r.dweight, [c]);
        db = fromStorage(r.dbias, [c]);
      } else {
        // d/dx of w * xhat + b with batch statistics: invstd * (gx - mean(gx) - xhat * mean(gx * xhat)).
        const m = x.mean(dims, { keepdim: true });
        const xc = x.sub(m);
        const is = xc.mul(xc).mean(dims, { keepdim: true }).add(eps).rsqrt();
        const xhat = xc.mul(is);
        const gx = weight ? g.mul(weight.reshape(bshape)) : g;
        dx = gx
          .sub(gx.mean(dims, { keepdim: true }))
          .sub(xhat.mul(gx.mul(xhat).mean(dims, { keepdim: true })))
          .mul(is);
        dw = weight ? g.mul(xhat).sum(dims) : null;
        db = bias ? g.sum(dims) : null;
      }
      const grads: (Tensor | null)[] = [needs[0] ? dx : null];
      if (weight) grads.push(needs[grads.length] ? dw : null);
      if (bias) grads.push(needs[grads.length] ? db : null);
      return grads;
    },
    weight ? [x, weight] : [x],
  );
  return [out, mean, v];
}

/** Writes `value` into `dst` in place (running statistics), bumping its version. */
function writeInPlace(dst: Tensor, value: Tensor): void {
  dst.storage.backend.assign(dst, value.to(dst.dtype));
  dst.storage.version++;
}

/**
 * Batch normalisation over [N, C, ...] input, per channel C. In training mode it normalises with the
 * batch mean and (biased) variance and updates `runningMean`/`runningVar` in place with
 * `momentum` (the running variance uses the unbiased estimate, like PyTorch); otherwise it uses the
 * running statistics. `weight`/`bias` [C] scale and shift the result.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight?: Tensor | null,
  bias?: Tensor | null,
  options: BatchNormOptions = {},
): Tensor {
  const op = 'batchNorm';
  requireFloat(op, x);
  if (x.ndim < 2) {
    throw new ShapeError(
      `${op}: expected an input [N, C, ...] with at least 2 dims, got shape ${fmt(x.shape)}`,
    );
  }
  const c = x.shape[1]!;
  checkParam(op, 'runningMean', runningMean, [c], x);
  checkParam(op, 'runningVar', runningVar, [c], x);
  checkParam(op, 'weight', weight, [c], x);
  checkParam(op, 'bias', bias, [c], x);
  const training = options.training ?? false;
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  if (!(eps >= 0)) throw new ValueError(`${op}: eps must be non-negative, got ${eps}`);
  const bshape = x.shape.map((s, i) => (i === 1 ? s : 1));
  const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
  if (training) {
    const count = x.numel() / Math.max(c, 1);
    if (count <= 1) {
      throw new ValueError(
        `${op}: expected more than 1 value per channel when training, got input shape ${fmt(x.shape)}`,
      );
    }
    const [out, mean, v] = batchNormTrain(x, weight ?? null, bias ?? null, dims, eps);
    noGrad(() => {
      if (runningMean) {
        writeInPlace(
          runningMean,
          runningMean.mul(1 - momentum).add(mean.detach().reshape([c]).mul(momentum)),
        );
      }
      if (runningVar) {
        const unbiased = v
          .detach()
          .reshape([c])
          .mul(count / (count - 1));
        writeInPlace(runningVar, runningVar.mul(1 - momentum).add(unbiased.mul(momentum)));
      }
    });
    return out;
  }
  if (!runningMean || !runningVar) {
    throw new ValueError(`${op}: runningMean and runningVar are required when training is false`);
  }
  let y = x.sub(runningMean.reshape(bshape)).mul(runningVar.reshape(bshape).add(eps).rsqrt());
  if (weight) y = y.mul(weight.reshape(bshape));
  if (bias) y = y.add(bias.reshape(bshape));
  return y;
}

/**
 * Layer normalisation over the trailing dims given by `normalizedShape` (biased variance);
 * `weight`/`bias` have shape `normalizedShape`.
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  options: NormOptions = {},
): Tensor {
  const op = 'layerNorm';
  requireFloat(op, x);
  const ns = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const k = ns.length;
  if (k === 0 || k > x.ndim || !sameShape(x.shape.slice(x.ndim - k), ns)) {
    throw new ShapeError(`${op}: input shape ${fmt(x.shape)} does not end with normalizedShape ${fmt(ns)}`);
  }
  checkParam(op, 'weight', weight, ns, x);
  checkParam(op, 'bias', bias, ns, x);
  const eps = options.eps ?? 1e-5;
  const dims = ns.map((_, i) => x.ndim - k + i);
  let [y] = normalize(x, dims, eps);
  if (weight) y = y.mul(weight);
  if (bias) y = y.add(bias);
  return y;
}

/**
 * Group normalisation: splits the C channels of [N, C, ...] input into `numGroups` groups and
 * normalises each group of each sample; `weight`/`bias` [C] are per channel.
 */
export function groupNorm(
  x: Tensor,
  numGroups: number,
  weight?: Tensor | null,
  bias?: Tensor | null,
  options: NormOptions = {},
): Tensor {
  const op = 'groupNorm';
  requireFloat(op, x);
  if (x.ndim < 2) {
    throw new ShapeError(
      `${op}: expected an input [N, C, ...] with at least 2 dims, got shape ${fmt(x.shape)}`,
    );
  }
  const n = x.shape[0]!;
  const c = x.shape[1]!;
  if (!Number.isInteger(numGroups) || numGroups < 1 || c % numGroups !== 0) {
    throw new ValueError(
      `${op}: numGroups ${numGroups} must divide the channels ${c} (input shape ${fmt(x.shape)})`,
    );
  }
  checkParam(op, 'weight', weight, [c], x);
  checkParam(op, 'bias', bias, [c], x);
  const eps = options.eps ?? 1e-5;
  const per = (c / numGroups) * x.shape.slice(2).reduce((a, s) => a * s, 1);
  const [g] = normalize(x.reshape([n, numGroups, per]), [2], eps);
  let y = g.reshape(x.shape);
  const bshape = x.shape.map((s, i) => (i === 1 ? s : 1));
  if (weight) y = y.mul(weight.reshape(bshape));
  if (bias) y = y.add(bias.reshape(bshape));
  return y;
}
