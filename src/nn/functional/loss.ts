/**
 * Loss functions (`nn.functional`): regression losses (MSE, L1, smooth L1, Huber), classification
 * losses (cross entropy, negative log likelihood, binary cross entropy with and without logits),
 * KL divergence and cosine similarity. Options follow PyTorch (camelCase), with `reduction` 'mean'
 * by default.
 *
 * Class-index targets are picked with a one-hot mask (`target == arange(C)`) rather than gather.
 * @module
 */
import { isGradEnabled, noGrad } from '../../autograd/grad-mode.js';
import { arange } from '../../core/creation.js';
import { allocArray, type FloatArray, isFloating, type TypedArray } from '../../core/dtype.js';
import { DTypeError, IndexError, ShapeError, ValueError } from '../../core/errors.js';
import { broadcastShapes, fmt, normDim, sameShape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { logSigmoid, logSoftmax } from '../../ops/activation.js';
import { fromStorage, record, requireFloat } from '../../ops/util.js';

/** How per-element losses are combined: averaged (default), summed, or returned as they are. */
export type Reduction = 'mean' | 'sum' | 'none';

/** Options with only a reduction. */
export interface LossOptions {
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
}

/** Options of `smoothL1Loss`. */
export interface SmoothL1Options extends LossOptions {
  /** Where the loss switches from quadratic to linear (default 1; 0 gives the L1 loss). */
  beta?: number;
}

/** Options of `huberLoss`. */
export interface HuberOptions extends LossOptions {
  /** Where the loss switches from quadratic to linear (default 1, must be positive). */
  delta?: number;
}

/** Options of `nllLoss`. */
export interface NllLossOptions extends LossOptions {
  /** A weight per class (1-d, C entries). */
  weight?: Tensor;
  /** Targets equal to this value are skipped (default -100). */
  ignoreIndex?: number;
}

/** Options of `crossEntropy`. */
export interface CrossEntropyOptions extends NllLossOptions {
  /** Mixes the target with the uniform distribution: (1 - s) * target + s / C (default 0). */
  labelSmoothing?: number;
}

/** Options of `binaryCrossEntropy`. */
export interface BceOptions extends LossOptions {
  /** Weights broadcast to the input's shape. */
  weight?: Tensor;
}

/** Options of `binaryCrossEntropyWithLogits`. */
export interface BceWithLogitsOptions extends BceOptions {
  /** Weight of the positive term (broadcast along the last, class, dim). */
  posWeight?: Tensor;
}

/** Options of `klDiv`. */
export interface KlDivOptions {
  /** 'mean' (over all elements; default), 'batchmean' (sum / batch size, the true KL), 'sum' or 'none'. */
  reduction?: Reduction | 'batchmean';
  /** The target holds log-probabilities. */
  logTarget?: boolean;
}

/** Options of `cosineSimilarity`. */
export interface CosineSimilarityOptions {
  /** Dim along which the vectors lie (default 1). */
  dim?: number;
  /** Lower bound of each squared norm is eps^2 (default 1e-8). */
  eps?: number;
}

const REDUCTIONS = ['mean', 'sum', 'none'];

function checkReduction(op: string, reduction: string, allowed: readonly string[] = REDUCTIONS): void {
  if (!allowed.includes(reduction)) {
    throw new ValueError(
      `${op}: unknown reduction '${reduction}' (expected ${allowed.map((r) => `'${r}'`).join(', ')})`,
    );
  }
}

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return loss;
  return reduction === 'sum' ? loss.sum() : loss.mean();
}

function requireFloatTarget(op: string, target: Tensor): void {
  if (!isFloating(target.dtype)) {
    throw new DTypeError(
      `${op}: target must be a floating tensor (float32 or float64), got ${target.dtype} of shape ${fmt(target.shape)}`,
    );
  }
}

function requireSameShape(op: string, input: Tensor, target: Tensor): void {
  if (!sameShape(input.shape, target.shape)) {
    throw new ShapeError(
      `${op}: input shape ${fmt(input.shape)} and target shape ${fmt(target.shape)} must be the same`,
    );
  }
}

/** Checks the reduction and a float input/target pair of the same shape. */
function checkPair(op: string, input: Tensor, target: Tensor, reduction: string): void {
  checkReduction(op, reduction);
  requireFloat(op, input);
  requireFloatTarget(op, target);
  requireSameShape(op, input, target);
}

/** Checks a pair of regression inputs and returns input - target. */
function difference(op: string, input: Tensor, target: Tensor, reduction: string): Tensor {
  checkPair(op, input, target, reduction);
  return input.sub(target);
}

/** Checks that `w` (an optional weight) broadcasts to `shape` without changing it. */
function checkBroadcastTo(op: string, what: string, w: Tensor | undefined, shape: readonly number[]): void {
  if (!w) return;
  const b = broadcastShapes(op, w.shape, shape);
  if (!sameShape(b, shape)) {
    throw new ShapeError(
      `${op}: ${what} of shape ${fmt(w.shape)} does not broadcast to the input's shape ${fmt(shape)}`,
    );
  }
}

/** Mean squared error (input - target)^2. */
export function mseLoss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  const reduction = options.reduction ?? 'mean';
  const d = difference('mseLoss', input, target, reduction);
  return reduce(d.mul(d), reduction);
}

/** Mean absolute error |input - target|. */
export function l1Loss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  const reduction = options.reduction ?? 'mean';
  return reduce(difference('l1Loss', input, target, reduction).abs(), reduction);
}

/** 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target). */
export function smoothL1Loss(input: Tensor, target: Tensor, options: SmoothL1Options = {}): Tensor {
  const reduction = options.reduction ?? 'mean';
  const beta = options.beta ?? 1;
  if (!(beta >= 0)) throw new ValueError(`smoothL1Loss: beta must be non-negative, got ${beta}`);
  const d = difference('smoothL1Loss', input, target, reduction);
  const ad = d.abs();
  if (beta === 0) return reduce(ad, reduction);
  return reduce(
    d
      .mul(d)
      .mul(0.5 / beta)
      .where(ad.lt(beta), ad.sub(0.5 * beta)),
    reduction,
  );
}

/** 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = input - target). */
export function huberLoss(input: Tensor, target: Tensor, options: HuberOptions = {}): Tensor {
  const reduction = options.reduction ?? 'mean';
  const delta = options.delta ?? 1;
  if (!(delta > 0)) throw new ValueError(`huberLoss: delta must be positive, got ${delta}`);
  const d = difference('huberLoss', input, target, reduction);
  const ad = d.abs();
  return reduce(
    d
      .mul(d)
      .mul(0.5)
      .where(ad.lt(delta), ad.sub(0.5 * delta).mul(delta)),
    reduction,
  );
}

/** Per-element pieces of the class-index losses, on inputs normalised to [N, C, ...]. */
interface Picked {
  /** -w[t] * input[t] per sample ([N, ...]), 0 where ignored. */
  loss: Tensor;
  /** Sum of the weights of the non-ignored samples (their count without weight): the 'mean' divisor. */
  denom: Tensor;
  /** True for samples whose target is not ignoreIndex ([N, ...]). */
  valid: Tensor;
  /** The weight shaped [1, C, 1, ...] (when given). */
  wFull: Tensor | null;
}

/**
 * Checks class-index target [N, d...] against input [N, C, d...] (already batched): its shape, and
 * every index in 0..C-1 or equal to ignoreIndex. Returns the indices as a flat array.
 */
function checkTargets(
  op: string,
  input: Tensor,
  target: Tensor,
  ignoreIndex: number,
  shownInput: readonly number[],
  shownTarget: readonly number[],
): TypedArray {
  const C = input.shape[1]!;
  const want = [input.shape[0]!, ...input.shape.slice(2)];
  if (!sameShape(target.shape, want)) {
    throw new ShapeError(
      `${op}: input shape ${fmt(shownInput)} expects a target of shape ${fmt(shownInput.length === 1 ? [] : want)}, ` +
        `got target shape ${fmt(shownTarget)}`,
    );
  }
  const data = target.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v !== ignoreIndex && (v < 0 || v >= C)) {
      throw new IndexError(
        `${op}: target ${v} is out of bounds for ${C} classes (expected 0..${C - 1} or ignoreIndex ${ignoreIndex})`,
      );
    }
  }
  return data;
}

/**
 * Cross entropy of logits x [N, C] against class indices as one op (no label smoothing): each row's
 * log-sum-exp and picked logit in one loop, the reduction in double precision, and one graph node
 * whose backward is `(softmax(x) - onehot(t)) * w[t] * scale` in one loop, scale being the output
 * gradient (divided by the summed weights for 'mean'). Rows whose target is `ignoreIndex` count
 * nothing. When the backward pass is recorded (createGraph) the same formula is built from
 * differentiable ops, so higher-order gradients work.
 */
function fusedCrossEntropy(
  x: Tensor,
  t: TypedArray,
  weight: Tensor | undefined,
  ignoreIndex: number,
  reduction: Reduction,
): Tensor {
  const N = x.shape[0]!;
  const C = x.shape[1]!;
  const dt = x.dtype;
  const be = x.storage.backend;
  const xc = x.isContiguous() ? x : x.detach().contiguous();
  const xa = be.read(xc.storage) as FloatArray;
  const xo = xc.offset;
  const wa = weight ? weight.to(dt).dataSync() : null;
  const lse = new Float64Array(N);
  const rowW = new Float64Array(N);
  const per = reduction === 'none' ? (allocArray(dt, N) as FloatArray) : null;
  let total = 0;
  let denom = 0;
  for (let i = 0; i < N; i++) {
    const ti = t[i]!;
    if (ti === ignoreIndex) continue;
    const r = xo + i * C;
    let mx = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < C; j++) if (xa[r + j]! > mx) mx = xa[r + j]!;
    let se = 0;
    for (let j = 0; j < C; j++) se += Math.exp(xa[r + j]! - mx);
    const l = mx + Math.log(se);
    const w = wa ? wa[ti]! : 1;
    lse[i] = l;
    rowW[i] = w;
    const li = w * (l - xa[r + ti]!);
    total += li;
    denom += w;
    if (per) per[i] = li;
  }
  let out: Tensor;
  if (per) {
    out = fromStorage(be.fromArray(per), [N]);
  } else {
    const v = allocArray(dt, 1);
    v[0] = reduction === 'sum' ? total : total / denom;
    out = fromStorage(be.fromArray(v), []);
  }
  return record(
    out,
    'CrossEntropy',
    [x],
    (g) => {
      if (isGradEnabled()) {
        const oh = allocArray(dt, N * C);
        for (let i = 0; i < N; i++) if (rowW[i] !== 0) oh[i * C + t[i]!] = 1;
        const rw = allocArray(dt, N);
        rw.set(rowW);
        const onehot = fromStorage(be.fromArray(oh), [N, C]);
        const rowScale = fromStorage(be.fromArray(rw), [N, 1]);
        const gf = reduction === 'none' ? g.unsqueeze(1) : reduction === 'mean' ? g.div(denom) : g;
        return [x.softmax(1).sub(onehot).mul(rowScale).mul(gf)];
      }
      const gd = g.dataSync();
      const scale = reduction === 'mean' ? gd[0]! / denom : gd[0]!;
      const gx = allocArray(dt, N * C) as FloatArray;
      for (let i = 0; i < N; i++) {
        const w = rowW[i]!;
        if (w === 0) continue;
        const f = w * (per ? gd[i]! : scale);
        const r = xo + i * C;
        const o = i * C;
        const l = lse[i]!;
        for (let j = 0; j < C; j++) gx[o + j] = f * Math.exp(xa[r + j]! - l);
        gx[o + t[i]!] = gx[o + t[i]!]! - f;
      }
      return [fromStorage(be.fromArray(gx), [N, C])];
    },
    [x],
  );
}

/**
 * Validates input [N, C, d...] (already batched) against class-index target [N, d...] and picks
 * input[n, target[n, ...], ...] with a one-hot mask.
 */
function pickClasses(
  op: string,
  input: Tensor,
  target: Tensor,
  weight: Tensor | undefined,
  ignoreIndex: number,
  shownInput: readonly number[],
  shownTarget: readonly number[],
): Picked {
  const C = input.shape[1]!;
  checkTargets(op, input, target, ignoreIndex, shownInput, shownTarget);
  const bshape = input.shape.map((s, i) => (i === 1 ? s : 1));
  const valid = target.ne(ignoreIndex);
  const mask = target.unsqueeze(1).eq(arange(C).reshape(bshape)).logicalAnd(valid.unsqueeze(1));
  const picked = input.where(mask, 0).sum(1);
  if (!weight) {
    return { loss: picked.neg(), denom: valid.sum().to(input.dtype), valid, wFull: null };
  }
  const wFull = weight.to(input.dtype).reshape(bshape);
  const wi = wFull.where(mask, 0).sum(1);
  return { loss: picked.mul(wi).neg(), denom: wi.sum(), valid, wFull };
}

/** Checks the class weight: floating, 1-d with C entries. */
function checkClassWeight(op: string, weight: Tensor | undefined, C: number): void {
  if (!weight) return;
  if (!isFloating(weight.dtype)) {
    throw new DTypeError(`${op}: weight must be a floating tensor, got ${weight.dtype}`);
  }
  if (weight.ndim !== 1 || weight.shape[0] !== C) {
    throw new ShapeError(
      `${op}: weight must have shape [${C}] (one entry per class), got ${fmt(weight.shape)}`,
    );
  }
}

/** Checks that `target` holds class indices (int32). */
function requireIndexTarget(op: string, target: Tensor, hint: string): void {
  if (target.dtype !== 'int32') {
    throw new DTypeError(
      `${op}: target must hold class indices as an int32 tensor, got ${target.dtype} of shape ${fmt(target.shape)}${hint}`,
    );
  }
}

/** Input and target with a batch dim: [C] + [] becomes [1, C] + [1]. */
function batched(op: string, input: Tensor, target: Tensor): [Tensor, Tensor] {
  if (input.ndim === 0) {
    throw new ShapeError(
      `${op}: input must have a class dim (shape [C], [N, C] or [N, C, d1, ...]), got shape []`,
    );
  }
  if (input.ndim === 1) {
    if (target.ndim !== 0) {
      throw new ShapeError(
        `${op}: input shape ${fmt(input.shape)} expects a target of shape [], got target shape ${fmt(target.shape)}`,
      );
    }
    return [input.unsqueeze(0), target.reshape([1])];
  }
  return [input, target];
}

/**
 * Negative log likelihood of class indices: input holds log-probabilities [N, C, d1, ...] (or [C]),
 * target int32 class indices [N, d1, ...] (or []). With `weight`, each sample counts weight[target]
 * and 'mean' divides by the sum of those weights (PyTorch's weighted mean); samples whose target is
 * `ignoreIndex` count nothing.
 */
export function nllLoss(input: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor {
  const op = 'nllLoss';
  const reduction = options.reduction ?? 'mean';
  checkReduction(op, reduction);
  requireFloat(op, input);
  requireIndexTarget(op, target, '');
  const [x, t] = batched(op, input, target);
  checkClassWeight(op, options.weight, x.shape[1]!);
  const p = pickClasses(op, x, t, options.weight, options.ignoreIndex ?? -100, input.shape, target.shape);
  if (reduction === 'none') return input.ndim === 1 ? p.loss.reshape([]) : p.loss;
  const s = p.loss.sum();
  return reduction === 'sum' ? s : s.div(p.denom);
}

/**
 * Cross entropy of logits `input` ([N, C, d1, ...] or [C]) against either class indices (int32,
 * [N, d1, ...] or []) or class probabilities (a float tensor of the input's shape). Computed as
 * nllLoss(logSoftmax(input, classDim)) with PyTorch's weight, ignoreIndex and labelSmoothing rules.
 */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  const reduction = options.reduction ?? 'mean';
  checkReduction(op, reduction);
  requireFloat(op, input);
  const eps = options.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) {
    throw new ValueError(`${op}: labelSmoothing must be in [0, 1], got ${eps}`);
  }
  if (input.ndim === 0) {
    throw new ShapeError(
      `${op}: input must have a class dim (shape [C], [N, C] or [N, C, d1, ...]), got shape []`,
    );
  }
  const classDim = input.ndim === 1 ? 0 : 1;
  const C = input.shape[classDim]!;
  checkClassWeight(op, options.weight, C);
  if (isFloating(target.dtype)) {
    if (!sameShape(target.shape, input.shape)) {
      const idxShape = input.shape.filter((_, i) => i !== classDim);
      if (sameShape(target.shape, idxShape)) {
        requireIndexTarget(
          op,
          target,
          ` (class probabilities must have the input's shape ${fmt(input.shape)})`,
        );
      }
      throw new ShapeError(
        `${op}: input shape ${fmt(input.shape)} and target shape ${fmt(target.shape)} do not match: expected ` +
          `class indices (int32) of shape ${fmt(idxShape)} or class probabilities of shape ${fmt(input.shape)}`,
      );
    }
    if (options.ignoreIndex !== undefined && options.ignoreIndex >= 0) {
      throw new ValueError(`${op}: ignoreIndex is not supported for class-probability (float) targets`);
    }
    return probabilityCrossEntropy(input, target, options.weight, eps, classDim, C, reduction);
  }
  requireIndexTarget(op, target, '');
  const [x, t] = batched(op, input, target);
  if (eps === 0 && x.ndim === 2) {
    const ignoreIndex = options.ignoreIndex ?? -100;
    const td = checkTargets(op, x, t, ignoreIndex, input.shape, target.shape);
    const l = fusedCrossEntropy(x, td, options.weight, ignoreIndex, reduction);
    return input.ndim === 1 && reduction === 'none' ? l.reshape([]) : l;
  }
  const logp = logSoftmax(x, 1);
  const p = pickClasses(op, logp, t, options.weight, options.ignoreIndex ?? -100, input.shape, target.shape);
  let nll: Tensor;
  let smooth: Tensor | null = null;
  if (eps > 0) {
    const lw = p.wFull ? logp.mul(p.wFull) : logp;
    smooth = lw.sum(1).neg().where(p.valid, 0);
  }
  if (reduction === 'none') {
    nll = p.loss;
    if (smooth) nll = nll.mul(1 - eps).add(smooth.mul(eps / C));
    return input.ndim === 1 ? nll.reshape([]) : nll;
  }
  const s = p.loss.sum();
  nll = reduction === 'sum' ? s : s.div(p.denom);
  if (!smooth) return nll;
  const sm = reduction === 'sum' ? smooth.sum() : smooth.sum().div(p.denom);
  return nll.mul(1 - eps).add(sm.mul(eps / C));
}

function probabilityCrossEntropy(
  input: Tensor,
  target: Tensor,
  weight: Tensor | undefined,
  eps: number,
  classDim: number,
  C: number,
  reduction: Reduction,
): Tensor {
  const logp = logSoftmax(input, classDim);
  const t = eps > 0 ? target.mul(1 - eps).add(eps / C) : target;
  let prod = logp.mul(t);
  if (weight) {
    const shape = input.shape.map((s, i) => (i === classDim ? s : 1));
    prod = prod.mul(weight.to(input.dtype).reshape(shape));
  }
  return reduce(prod.sum(classDim).neg(), reduction);
}

/**
 * Binary cross entropy of probabilities `input` (in [0, 1]) against `target` of the same shape:
 * -(t log(x) + (1 - t) log(1 - x)), each log clamped at -100 like PyTorch (so x = 0 or 1 stays finite).
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: BceOptions = {}): Tensor {
  const op = 'binaryCrossEntropy';
  const reduction = options.reduction ?? 'mean';
  checkPair(op, input, target, reduction);
  checkBroadcastTo(op, 'weight', options.weight, input.shape);
  const data = input.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(v >= 0 && v <= 1)) {
      throw new ValueError(`${op}: input values must be between 0 and 1 (got ${v} at element ${i})`);
    }
  }
  // max(log(x), -100) and max(log(1 - x), -100), without ever forming -Inf (anomaly mode stays quiet)
  const logs = (x: Tensor): [Tensor, Tensor] => {
    const pos = x.gt(0);
    const below1 = x.lt(1);
    const lx = x.where(pos, 1).log().clamp(-100).where(pos, -100);
    const l1x = x.neg().where(below1, 0).log1p().clamp(-100).where(below1, -100);
    return [lx, l1x];
  };
  const l = noGrad(() => {
    const [lx, l1x] = logs(input);
    return target.mul(lx).add(target.neg().add(1).mul(l1x)).neg();
  });
  const out = record(
    l,
    'BinaryCrossEntropy',
    [input, target],
    (g, needs) => {
      const x = input;
      const gx = needs[0] ? g.mul(x.sub(target)).div(x.mul(x.neg().add(1)).clamp(1e-12)) : null;
      let gt: Tensor | null = null;
      if (needs[1]) {
        const [lx, l1x] = logs(x);
        gt = g.mul(l1x.sub(lx));
      }
      return [gx, gt];
    },
    [input, target],
  );
  return reduce(options.weight ? out.mul(options.weight) : out, reduction);
}

/**
 * Binary cross entropy on logits, computed stably as (1 - t) x - w_pos(t) * logSigmoid(x), where
 * w_pos(t) = 1 + (posWeight - 1) t.
 */
export function binaryCrossEntropyWithLogits(
  input: Tensor,
  target: Tensor,
  options: BceWithLogitsOptions = {},
): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  const reduction = options.reduction ?? 'mean';
  checkPair(op, input, target, reduction);
  checkBroadcastTo(op, 'weight', options.weight, input.shape);
  checkBroadcastTo(op, 'posWeight', options.posWeight, input.shape);
  const ls = logSigmoid(input);
  const lw = options.posWeight ? options.posWeight.sub(1).mul(target).add(1) : null;
  let l = target
    .neg()
    .add(1)
    .mul(input)
    .sub(lw ? lw.mul(ls) : ls);
  if (options.weight) l = l.mul(options.weight);
  return reduce(l, reduction);
}

/**
 * Kullback-Leibler divergence with `input` holding log-probabilities: target * (log(target) - input)
 * pointwise (0 where target is 0), or exp(target) * (target - input) with `logTarget`.
 * Use reduction 'batchmean' for the mathematical KL divergence of each batch row, averaged.
 */
export function klDiv(input: Tensor, target: Tensor, options: KlDivOptions = {}): Tensor {
  const op = 'klDiv';
  const reduction = options.reduction ?? 'mean';
  checkReduction(op, reduction, ['mean', 'batchmean', 'sum', 'none']);
  requireFloat(op, input);
  requireFloatTarget(op, target);
  requireSameShape(op, input, target);
  let l: Tensor;
  if (options.logTarget) {
    l = target.exp().mul(target.sub(input));
  } else {
    // xlogy(t, t): t * log(t) with 0 at t == 0 (log of 1 there keeps every gradient finite).
    const xlogx = target.mul(target.where(target.gt(0), 1).log());
    l = xlogx.sub(target.mul(input));
  }
  if (reduction === 'batchmean') return input.ndim === 0 ? l.sum() : l.sum().div(input.shape[0]!);
  return reduce(l, reduction);
}

/**
 * Cosine of the angle between x1 and x2 along `dim` (broadcasting): sum(x1 x2) / sqrt(max(|x1|^2, eps^2)
 * * max(|x2|^2, eps^2)). As in PyTorch, the clamp of the squared norms is not differentiated through.
 */
export function cosineSimilarity(x1: Tensor, x2: Tensor, options: CosineSimilarityOptions = {}): Tensor {
  const op = 'cosineSimilarity';
  requireFloat(op, x1);
  requireFloat(op, x2);
  const shape = broadcastShapes(op, x1.shape, x2.shape);
  const d = normDim(op, options.dim ?? 1, shape.length);
  const eps = options.eps ?? 1e-8;
  const a = x1.expand(shape);
  const b = x2.expand(shape);
  const e2 = eps * eps;
  // clamp each squared norm at eps^2, passing the gradient straight through the clamp
  const clamped = (n: Tensor): Tensor => n.add(noGrad(() => n.clamp(e2).sub(n)));
  const n1 = clamped(a.mul(a).sum(d));
  const n2 = clamped(b.mul(b).sum(d));
  return a.mul(b).sum(d).div(n1.mul(n2).sqrt());
}
