/**
 * In-place ops for optimizers and initializers: add_, sub_, mul_, div_, copy_, fill_, zero_, clamp_,
 * uniform_ and normal_. They write into the tensor's storage (so every view of it sees the change),
 * bump `storage.version` (so backward can detect stale saved values) and return the tensor.
 *
 * Autograd rules: under `noGrad` they just write. With grad mode on, an in-place op on a leaf that
 * requires grad throws; on other tensors the out-of-place result is computed with autograd, written
 * into the storage, and the tensor's history moves to the new node. In-place ops on views whose base
 * requires grad (or that would make a view require grad) are not supported yet and throw.
 * @module
 */
import { isGradEnabled } from '../autograd/grad-mode.js';
import { allocArray, type DType, isFloating } from '../core/dtype.js';
import { AutogradError, DTypeError, ShapeError, ValueError } from '../core/errors.js';
import type { Generator } from '../core/random.js';
import { defaultGenerator } from '../core/random.js';
import { broadcastShapes, fmt, numelOf, sameShape } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { add, div, mul, sub } from './binary.js';
import { clamp } from './unary.js';
import { fromStorage, record, type TensorLike } from './util.js';

const CATEGORY: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 2 };

/** Throws unless `self` can be written in place (no element is aliased by a stride-0 dim). */
function checkWritable(op: string, self: Tensor): void {
  if (self.numel() === 0) return; // nothing is written, so nothing can be aliased
  for (let d = 0; d < self.ndim; d++) {
    if (self.strides[d] === 0 && self.shape[d]! > 1) {
      throw new ValueError(
        `${op}: more than one element of the written-to tensor refers to the same memory location ` +
          `(shape ${fmt(self.shape)}, strides ${fmt(self.strides)}); clone() it first`,
      );
    }
  }
}

/** Throws when `self` cannot hold a result of dtype `dt` and shape `shape`. */
function checkResult(op: string, self: Tensor, dt: DType, shape: readonly number[]): void {
  if (CATEGORY[dt] > CATEGORY[self.dtype]) {
    throw new DTypeError(`${op}: result type ${dt} can't be cast to the desired output type ${self.dtype}`);
  }
  if (!sameShape(shape, self.shape)) {
    throw new ShapeError(
      `${op}: output with shape ${fmt(self.shape)} doesn't match the broadcast shape ${fmt(shape)}`,
    );
  }
}

/** Writes `value` (already of self's shape) into self's storage and bumps the version. */
function write(self: Tensor, value: Tensor): void {
  self.storage.backend.assign(self, value);
  self.storage.version++;
}

/**
 * The autograd checks of an in-place op with grad mode on. Returns true when the op must be recorded
 * (self or an operand requires grad), false when a plain write suffices.
 */
function checkAutograd(op: string, self: Tensor, operands: readonly Tensor[]): boolean {
  if (!isGradEnabled()) return false;
  if (self.isLeaf && self.requiresGrad) {
    throw new AutogradError(
      `${op}: a leaf tensor that requires grad is used in an in-place operation (${op}); ` +
        'wrap parameter updates in noGrad(() => ...), or clone() the tensor first',
    );
  }
  const involved = self.requiresGrad || operands.some((t) => t.requiresGrad);
  if (self.base && (self.base.requiresGrad || involved)) {
    throw new AutogradError(
      `${op}: in-place operations on a view (shape ${fmt(self.shape)}) of a tensor (shape ${fmt(self.base.shape)}) ` +
        'are not supported yet when autograd tracks either of them; apply the op out of place ' +
        '(e.g. with cat/pad/where/scatter) or to the base tensor, or run it under noGrad',
    );
  }
  return involved;
}

/** Moves self's autograd history to `out`'s node (out holds the value just written into self). */
function adoptHistory(self: Tensor, out: Tensor): void {
  const old = self.gradFn;
  self.gradFn = out.gradFn;
  self.requiresGrad = out.requiresGrad;
  if (old && old.retained === self && out.gradFn) {
    old.retained = null;
    out.gradFn.retained = self;
  }
}

/**
 * Runs an in-place op: `compute(input)` gives the out-of-place result from `input` (self, or a clone
 * of it when `savesSelf`, so that the saved value is not the one overwritten).
 */
function inplace(
  op: string,
  self: Tensor,
  operands: readonly Tensor[],
  compute: (input: Tensor) => Tensor,
  savesSelf: boolean,
): Tensor {
  checkWritable(op, self);
  const tracked = checkAutograd(op, self, operands);
  let out = compute(tracked && savesSelf ? self.clone() : self);
  checkResult(op, self, out.dtype, out.shape);
  if (tracked && out.dtype !== self.dtype) out = out.to(self.dtype);
  write(self, out);
  if (tracked) adoptHistory(self, out);
  return self;
}

function operandsOf(...xs: (TensorLike | null | undefined)[]): Tensor[] {
  return xs.filter((x): x is Tensor => x instanceof Tensor);
}

/** In place: self += alpha * other (broadcast to self's shape). Returns self. */
export function add_(self: Tensor, other: TensorLike, options: { alpha?: number } = {}): Tensor {
  return inplace('add_', self, operandsOf(other), (s) => add(s, other, options), false);
}

/** In place: self -= alpha * other. Returns self. */
export function sub_(self: Tensor, other: TensorLike, options: { alpha?: number } = {}): Tensor {
  return inplace('sub_', self, operandsOf(other), (s) => sub(s, other, options), false);
}

/** In place: self *= other. Returns self. */
export function mul_(self: Tensor, other: TensorLike): Tensor {
  return inplace('mul_', self, operandsOf(other), (s) => mul(s, other), true);
}

/** In place: self /= other (true division; self must be floating). Returns self. */
export function div_(self: Tensor, other: TensorLike): Tensor {
  return inplace('div_', self, operandsOf(other), (s) => div(s, other), true);
}

/** In place: clamps self into [min, max] (either may be omitted). Returns self. */
export function clamp_(self: Tensor, min?: TensorLike | null, max?: TensorLike | null): Tensor {
  return inplace('clamp_', self, operandsOf(min, max), (s) => clamp(s, min, max), false);
}

/**
 * In place: copies `src` (broadcast to self's shape, converted to self's dtype) into self. Gradients
 * flow to `src`; the overwritten values get none. Returns self.
 */
export function copy_(self: Tensor, src: Tensor): Tensor {
  checkResult('copy_', self, self.dtype, broadcastShapes('copy_', self.shape, src.shape));
  checkWritable('copy_', self);
  if (!checkAutograd('copy_', self, [src])) {
    write(self, src);
    return self;
  }
  return inplace(
    'copy_',
    self,
    [src],
    (s) => {
      const v = src.expand(s.shape);
      const out = fromStorage(s.storage.backend.copy(v, s.dtype), s.shape);
      const srcDtype = src.dtype;
      return record(out, 'Copy', [s, v], (g, needs) => [
        needs[0] ? g.mul(0) : null,
        needs[1] ? (g.dtype === srcDtype ? g : g.to(srcDtype)) : null,
      ]);
    },
    false,
  );
}

/** A constant result `value` for self, recorded with a zero gradient to self's history. */
function constantResult(self: Tensor, value: Tensor, name: string): Tensor {
  return record(value, name, [self], (g) => [g.mul(0)]);
}

/** In place: sets every element to `value`. Returns self. */
export function fill_(self: Tensor, value: number | boolean): Tensor {
  const v = typeof value === 'boolean' ? (value ? 1 : 0) : value;
  checkWritable('fill_', self);
  if (!checkAutograd('fill_', self, [])) {
    self.storage.backend.fill(self, v);
    self.storage.version++;
    return self;
  }
  return inplace(
    'fill_',
    self,
    [],
    (s) => {
      const out = fromStorage(s.storage.backend.alloc(s.dtype, numelOf(s.shape)), s.shape);
      s.storage.backend.fill(out, v);
      return constantResult(s, out, 'Fill');
    },
    false,
  );
}

/** In place: sets every element to 0. Returns self. */
export function zero_(self: Tensor): Tensor {
  return fill_(self, 0);
}

/** Options of the random in-place initializers. */
export interface RandomInplaceOptions {
  /** Stream to draw from (the default generator otherwise). */
  generator?: Generator;
}

function randomFill(op: string, self: Tensor, fillArr: (a: Float32Array | Float64Array) => void): Tensor {
  if (!isFloating(self.dtype)) {
    throw new DTypeError(`${op}: expected a floating tensor (float32 or float64), got ${self.dtype}`);
  }
  return inplace(
    op,
    self,
    [],
    (s) => {
      const a = allocArray(s.dtype, numelOf(s.shape)) as Float32Array | Float64Array;
      fillArr(a);
      const out = fromStorage(s.storage.backend.fromArray(a), s.shape);
      return constantResult(s, out, op === 'uniform_' ? 'Uniform' : 'Normal');
    },
    false,
  );
}

/** In place: fills with uniform samples in [low, high). Returns self. */
export function uniform_(self: Tensor, low = 0, high = 1, options: RandomInplaceOptions = {}): Tensor {
  if (!(low <= high) || !Number.isFinite(low) || !Number.isFinite(high)) {
    throw new ValueError(`uniform_: expects a finite range with low <= high, got low=${low}, high=${high}`);
  }
  const g = options.generator ?? defaultGenerator;
  const span = high - low;
  return randomFill('uniform_', self, (a) => {
    if (a instanceof Float32Array) for (let i = 0; i < a.length; i++) a[i] = low + span * g.random24();
    else for (let i = 0; i < a.length; i++) a[i] = low + span * g.random();
  });
}

/** In place: fills with normal samples of the given mean and standard deviation. Returns self. */
export function normal_(self: Tensor, mean = 0, std = 1, options: RandomInplaceOptions = {}): Tensor {
  if (!(std >= 0) || !Number.isFinite(std) || !Number.isFinite(mean)) {
    throw new ValueError(`normal_: expects a finite mean and std >= 0, got mean=${mean}, std=${std}`);
  }
  const g = options.generator ?? defaultGenerator;
  return randomFill('normal_', self, (a) => g.fillNormal(a, mean, std));
}

declare module '../core/tensor.js' {
  interface Tensor {
    /** In place: this += alpha * other. */
    add_(other: TensorLike, options?: { alpha?: number }): this;
    /** In place: this -= alpha * other. */
    sub_(other: TensorLike, options?: { alpha?: number }): this;
    /** In place: this *= other. */
    mul_(other: TensorLike): this;
    /** In place: this /= other. */
    div_(other: TensorLike): this;
    /** In place: copies src into this. */
    copy_(src: Tensor): this;
    /** In place: fills with a value. */
    fill_(value: number | boolean): this;
    /** In place: fills with zeros. */
    zero_(): this;
    /** In place: clamps into [min, max]. */
    clamp_(min?: TensorLike | null, max?: TensorLike | null): this;
    /** In place: uniform samples in [low, high). */
    uniform_(low?: number, high?: number, options?: RandomInplaceOptions): this;
    /** In place: normal samples. */
    normal_(mean?: number, std?: number, options?: RandomInplaceOptions): this;
  }
}

const P = Tensor.prototype;
P.add_ = function (o, opts) {
  return add_(this, o, opts) as typeof this;
};
P.sub_ = function (o, opts) {
  return sub_(this, o, opts) as typeof this;
};
P.mul_ = function (o) {
  return mul_(this, o) as typeof this;
};
P.div_ = function (o) {
  return div_(this, o) as typeof this;
};
P.copy_ = function (s) {
  return copy_(this, s) as typeof this;
};
P.fill_ = function (v) {
  return fill_(this, v) as typeof this;
};
P.zero_ = function () {
  return zero_(this) as typeof this;
};
P.clamp_ = function (lo, hi) {
  return clamp_(this, lo, hi) as typeof this;
};
P.uniform_ = function (lo, hi, o) {
  return uniform_(this, lo, hi, o) as typeof this;
};
P.normal_ = function (m, s, o) {
  return normal_(this, m, s, o) as typeof this;
};
