/**
 * View ops (no copy where PyTorch makes views): reshape/view, flatten, transpose, permute, expand,
 * squeeze, unsqueeze; plus contiguous, clone and dtype conversion.
 * @module
 */
import type { DType } from '../core/dtype.js';
import { checkDType, isFloating } from '../core/dtype.js';
import { ShapeError, ValueError } from '../core/errors.js';
import { contiguousStrides, fmt, normDim, numelOf, type Shape } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { fromStorage, record, sumToShape } from './util.js';

/** Makes a view of `x` (shared storage) and records it for autograd with `backward`. */
export function makeView(
  x: Tensor,
  shape: Shape,
  strides: readonly number[],
  offset: number,
  name: string,
  backward: (g: Tensor) => Tensor,
): Tensor {
  const v = new Tensor(x.storage, shape, strides, offset);
  v.base = x.base ?? x;
  return record(v, name, [x], (g) => [backward(g)]);
}

/** Resolves a shape with at most one -1 for a tensor of `numel` elements. */
export function inferShape(op: string, shape: readonly number[], numel: number, from: Shape): number[] {
  const out = shape.slice();
  let infer = -1;
  let known = 1;
  out.forEach((s, i) => {
    if (s === -1) {
      if (infer >= 0) throw new ShapeError(`${op}: only one dimension can be -1 (got ${fmt(shape)})`);
      infer = i;
    } else if (!Number.isInteger(s) || s < 0) {
      throw new ShapeError(`${op}: invalid size ${s} in shape ${fmt(shape)}`);
    } else known *= s;
  });
  if (infer >= 0) {
    if (known === 0 || numel % known !== 0) {
      throw new ShapeError(
        `${op}: shape ${fmt(shape)} is invalid for input of size ${numel} (shape ${fmt(from)})`,
      );
    }
    out[infer] = numel / known;
  } else if (known !== numel) {
    throw new ShapeError(
      `${op}: shape ${fmt(shape)} is invalid for input of size ${numel} (shape ${fmt(from)})`,
    );
  }
  return out;
}

/** Strides that view `x` as `shape` without copying, or null when impossible (like PyTorch's computeStride). */
function viewStrides(x: Tensor, shape: readonly number[]): number[] | null {
  if (x.isContiguous()) return contiguousStrides(shape);
  // Walk chunks of old dims that are contiguous among themselves.
  const oldShape = x.shape;
  const oldStrides = x.strides;
  const newStrides = new Array<number>(shape.length).fill(0);
  if (numelOf(oldShape) === 0) return contiguousStrides(shape);
  let viewD = shape.length - 1;
  let chunkBaseStride = oldStrides[oldStrides.length - 1] ?? 1;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorNumel *= oldShape[d]!;
    if (d === 0 || (oldShape[d - 1] !== 1 && oldStrides[d - 1] !== tensorNumel * chunkBaseStride)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || shape[viewD] === 1)) {
        newStrides[viewD] = viewNumel * chunkBaseStride;
        viewNumel *= shape[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBaseStride = oldStrides[d - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return newStrides;
}

/** View of `x` with a new shape (one dim may be -1); throws if the strides make a view impossible. */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  const s = inferShape('view', shape, x.numel(), x.shape);
  const st = viewStrides(x, s);
  if (!st) {
    throw new ShapeError(
      `view: shape ${fmt(s)} is not compatible with the input's size and strides (shape ${fmt(x.shape)}, strides ${fmt(x.strides)}); use reshape()`,
    );
  }
  const inShape = x.shape;
  return makeView(x, s, st, x.offset, 'View', (g) => g.reshape(inShape));
}

/** Reshape: a view when possible, else a contiguous copy. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = inferShape('reshape', shape, x.numel(), x.shape);
  const st = viewStrides(x, s);
  if (st) {
    const inShape = x.shape;
    return makeView(x, s, st, x.offset, 'Reshape', (g) => g.reshape(inShape));
  }
  return view(contiguous(x), s);
}

/** Flattens dims startDim..endDim into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normDim('flatten', startDim, x.ndim);
  const e = normDim('flatten', endDim, x.ndim);
  if (s > e) throw new ValueError(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  const shape = [...x.shape.slice(0, s), numelOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/** Reorders dims (a view). */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) {
    throw new ShapeError(
      `permute: got ${dims.length} dims ${fmt(dims)} for a ${x.ndim}-d tensor of shape ${fmt(x.shape)}`,
    );
  }
  const d = dims.map((v) => normDim('permute', v, x.ndim));
  if (new Set(d).size !== d.length) throw new ValueError(`permute: repeated dim in ${fmt(dims)}`);
  const inv = new Array<number>(d.length);
  d.forEach((v, i) => {
    inv[v] = i;
  });
  return makeView(
    x,
    d.map((i) => x.shape[i]!),
    d.map((i) => x.strides[i]!),
    x.offset,
    'Permute',
    (g) => g.permute(inv),
  );
}

/** Swaps two dims (a view). */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  if (x.ndim === 0) return x;
  const a = normDim('transpose', dim0, x.ndim);
  const b = normDim('transpose', dim1, x.ndim);
  const order = Array.from({ length: x.ndim }, (_, i) => i);
  order[a] = b;
  order[b] = a;
  return permute(x, order);
}

/** Transpose of a 2-d tensor (0-d and 1-d unchanged). */
export function t(x: Tensor): Tensor {
  if (x.ndim > 2) throw new ShapeError(`t: expects a tensor with <= 2 dims, got shape ${fmt(x.shape)}`);
  return x.ndim < 2 ? x : transpose(x, 0, 1);
}

/** Broadcasts size-1 dims to `shape` (-1 keeps a size), as a stride-0 view. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const n = shape.length;
  if (n < x.ndim) {
    throw new ShapeError(
      `expand: target shape ${fmt(shape)} has fewer dims than the tensor's shape ${fmt(x.shape)}`,
    );
  }
  const lead = n - x.ndim;
  const outShape = new Array<number>(n);
  const strides = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const want = shape[i]!;
    if (i < lead) {
      if (want < 0) throw new ShapeError(`expand: -1 not allowed for new leading dim ${i} in ${fmt(shape)}`);
      outShape[i] = want;
      strides[i] = 0;
      continue;
    }
    const have = x.shape[i - lead]!;
    if (want === -1 || want === have) {
      outShape[i] = have;
      strides[i] = x.strides[i - lead]!;
    } else if (have === 1) {
      outShape[i] = want;
      strides[i] = 0;
    } else {
      throw new ShapeError(
        `expand: cannot expand shape ${fmt(x.shape)} to ${fmt(shape)} (dim ${i}: ${have} vs ${want})`,
      );
    }
  }
  const inShape = x.shape;
  return makeView(x, outShape, strides, x.offset, 'Expand', (g) => sumToShape(g, inShape));
}

/** Expands to another tensor's shape. */
export function expandAs(x: Tensor, other: Tensor): Tensor {
  return expand(x, other.shape);
}

/** Removes size-1 dims (all, or the given ones; non-1 dims listed are left alone like PyTorch). */
export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  const dims =
    dim === undefined
      ? x.shape.map((_, i) => i)
      : (typeof dim === 'number' ? [dim] : dim).map((d) => normDim('squeeze', d, x.ndim));
  const keep = x.shape.map((s, i) => !(s === 1 && dims.includes(i)));
  const inShape = x.shape;
  return makeView(
    x,
    x.shape.filter((_, i) => keep[i]),
    x.strides.filter((_, i) => keep[i]),
    x.offset,
    'Squeeze',
    (g) => g.reshape(inShape),
  );
}

/** Inserts a size-1 dim at `dim` (negative counts from the end of the result). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim('unsqueeze', dim, x.ndim + 1);
  const shape = [...x.shape];
  const strides = [...x.strides];
  const st = d < x.ndim ? x.strides[d]! * x.shape[d]! : 1;
  shape.splice(d, 0, 1);
  strides.splice(d, 0, st);
  const inShape = x.shape;
  return makeView(x, shape, strides, x.offset, 'Unsqueeze', (g) => g.reshape(inShape));
}

/** A contiguous tensor with the same values (this tensor itself when already contiguous). */
export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous()) return x;
  return clone(x);
}

/** A copy with its own storage (differentiable). */
export function clone(x: Tensor): Tensor {
  const out = fromStorage(x.storage.backend.copy(x, x.dtype), x.shape);
  return record(out, 'Clone', [x], (g) => [g]);
}

/** Converts to `dtype` (returns this tensor when it already has it). Gradients flow between float types. */
export function to(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  checkDType('to', dtype);
  const out = fromStorage(x.storage.backend.copy(x, dtype), x.shape);
  if (!isFloating(dtype)) return out;
  const from = x.dtype;
  return record(out, 'ToCopy', [x], (g) => [g.to(from)]);
}

declare module '../core/tensor.js' {
  interface Tensor {
    /** View with a new shape (no copy; fails if impossible). */
    view(...shape: number[]): Tensor;
    /** New shape: a view when possible, else a copy. */
    reshape(shape: readonly number[]): Tensor;
    /** New shape: a view when possible, else a copy. */
    reshape(...shape: number[]): Tensor;
    /** Flattens startDim..endDim. */
    flatten(startDim?: number, endDim?: number): Tensor;
    /** Reorders dims. */
    permute(...dims: number[]): Tensor;
    /** Reorders dims. */
    permute(dims: readonly number[]): Tensor;
    /** Swaps two dims. */
    transpose(dim0: number, dim1: number): Tensor;
    /** 2-d transpose. */
    t(): Tensor;
    /** Broadcasts to a shape (view). */
    expand(shape: readonly number[]): Tensor;
    /** Broadcasts to a shape (view). */
    expand(...shape: number[]): Tensor;
    /** Broadcasts to another tensor's shape. */
    expandAs(other: Tensor): Tensor;
    /** Removes size-1 dims. */
    squeeze(dim?: number | readonly number[]): Tensor;
    /** Inserts a size-1 dim. */
    unsqueeze(dim: number): Tensor;
    /** Contiguous version (this if already contiguous). */
    contiguous(): Tensor;
    /** Copy with its own storage. */
    clone(): Tensor;
    /** Converts the dtype. */
    to(dtype: DType): Tensor;
    /** Converts to float32. */
    float(): Tensor;
    /** Converts to float64. */
    double(): Tensor;
    /** Converts to int32. */
    int(): Tensor;
    /** Converts to bool. */
    bool(): Tensor;
  }
}

function shapeArgs(args: (number | readonly number[])[]): number[] {
  return args.length === 1 && typeof args[0] !== 'number' ? [...args[0]!] : (args as number[]);
}

const P = Tensor.prototype;
P.view = function (this: Tensor, ...shape: (number | readonly number[])[]) {
  return view(this, shapeArgs(shape));
} as Tensor['view'];
P.reshape = function (this: Tensor, ...shape: (number | readonly number[])[]) {
  return reshape(this, shapeArgs(shape));
} as Tensor['reshape'];
P.flatten = function (s, e) {
  return flatten(this, s, e);
};
P.permute = function (this: Tensor, ...dims: (number | readonly number[])[]) {
  return permute(this, shapeArgs(dims));
} as Tensor['permute'];
P.transpose = function (a, b) {
  return transpose(this, a, b);
};
P.t = function () {
  return t(this);
};
P.expand = function (this: Tensor, ...shape: (number | readonly number[])[]) {
  return expand(this, shapeArgs(shape));
} as Tensor['expand'];
P.expandAs = function (o) {
  return expandAs(this, o);
};
P.squeeze = function (d) {
  return squeeze(this, d);
};
P.unsqueeze = function (d) {
  return unsqueeze(this, d);
};
P.contiguous = function () {
  return contiguous(this);
};
P.clone = function () {
  return clone(this);
};
P.to = function (d) {
  return to(this, d);
};
P.float = function () {
  return to(this, 'float32');
};
P.double = function () {
  return to(this, 'float64');
};
P.int = function () {
  return to(this, 'int32');
};
P.bool = function () {
  return to(this, 'bool');
};
