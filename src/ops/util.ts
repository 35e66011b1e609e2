/**
 * Machinery shared by all ops: wrapping kernel results as tensors, recording them for autograd,
 * scalar conversion and reducing broadcast gradients.
 * @module
 */
import { checkFinite, gradEdge, noteFreshStorage } from '../autograd/engine.js';
import { isAnomalyEnabled, isGradEnabled } from '../autograd/grad-mode.js';
import { type BackwardFn, Node } from '../autograd/node.js';
import { getBackend, type Storage } from '../backends/backend.js';
import { allocArray, type DType, isFloating, promoteTypes, promoteWithScalar } from '../core/dtype.js';
import { DTypeError } from '../core/errors.js';
import { type Shape, sameShape } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';

/** A JS number or boolean used where a tensor is accepted (a "weak" scalar for type promotion). */
export type Scalar = number | boolean;

/** A tensor or a scalar. */
export type TensorLike = Tensor | Scalar;

/** Wraps fresh contiguous storage (a kernel's result, referenced nowhere else) as a tensor of `shape`. */
export function fromStorage(storage: Storage, shape: Shape): Tensor {
  noteFreshStorage(storage);
  return new Tensor(storage, shape);
}

/** A 0-d tensor holding `value`. */
export function scalarTensor(value: Scalar, dtype: DType): Tensor {
  const a = allocArray(dtype, 1);
  a[0] = typeof value === 'boolean' ? (value ? 1 : 0) : value;
  return new Tensor(getBackend().fromArray(a), []);
}

/** The dtype of combining `a` and `b` (tensors promote, scalars are weak). */
export function resultType(a: TensorLike, b: TensorLike): DType {
  if (a instanceof Tensor && b instanceof Tensor) {
    // 0-d tensors are weak against n-d tensors of the same category, as in PyTorch.
    if (a.ndim === 0 && b.ndim > 0 && isFloating(a.dtype) === isFloating(b.dtype)) return b.dtype;
    if (b.ndim === 0 && a.ndim > 0 && isFloating(a.dtype) === isFloating(b.dtype)) return a.dtype;
    return promoteTypes(a.dtype, b.dtype);
  }
  if (a instanceof Tensor) return promoteWithScalar(a.dtype, b as Scalar);
  if (b instanceof Tensor) return promoteWithScalar(b.dtype, a);
  return typeof a === 'boolean' && typeof b === 'boolean'
    ? 'bool'
    : Number.isInteger(a) && Number.isInteger(b)
      ? 'int32'
      : 'float32';
}

/** `x` as a tensor of `dtype` (scalars become 0-d tensors; tensors are cast if needed, keeping autograd). */
export function asTensor(x: TensorLike, dtype: DType): Tensor {
  if (x instanceof Tensor) return x.dtype === dtype ? x : x.to(dtype);
  return scalarTensor(x, dtype);
}

/** Throws a DTypeError naming `op` unless `t` is floating. */
export function requireFloat(op: string, t: Tensor): void {
  if (!isFloating(t.dtype)) {
    throw new DTypeError(
      `${op}: expected a floating tensor (float32 or float64), got ${t.dtype} of shape [${t.shape.join(',')}]`,
    );
  }
}

/**
 * Records `out` as the result of op `name` on `inputs` when autograd is on and any input requires
 * grad; `backward` maps the output gradient to input gradients. `saved` are tensors backward reads,
 * checked for in-place changes. Also runs the anomaly check on the forward output. Returns `out`.
 */
export function record(
  out: Tensor,
  name: string,
  inputs: readonly Tensor[],
  backward: BackwardFn,
  saved: readonly Tensor[] = [],
): Tensor {
  if (isAnomalyEnabled() && isFloating(out.dtype)) checkFinite(out, `${name} forward`);
  if (!isGradEnabled()) return out;
  let any = false;
  for (const t of inputs) if (t.requiresGrad) any = true;
  if (!any || !isFloating(out.dtype)) return out;
  out.requiresGrad = true;
  out.gradFn = new Node(
    name,
    inputs.map((t) => gradEdge(t)),
    inputs.map((t) => t.shape),
    backward,
    saved,
  );
  return out;
}

/**
 * Records the outputs `outs` of one op on `inputs` whose backward runs once for all of them: each output's
 * node (named `names[i]`) hands its gradient to a shared node (`name`, recorded on `inputs` with `saved`),
 * which runs after every output's node has, and calls `backward` with the gradient of each output (null for
 * an output that no gradient reached) and the inputs' needs. Returns the recorded outputs (or `outs` as
 * they are when nothing is recorded: see `record`).
 */
export function recordMany(
  outs: readonly Tensor[],
  name: string,
  names: readonly string[],
  inputs: readonly Tensor[],
  backward: (grads: (Tensor | null)[], needs: readonly boolean[]) => (Tensor | null)[],
  saved: readonly Tensor[] = [],
): Tensor[] {
  const grads: (Tensor | null)[] = outs.map(() => null);
  const hub = record(
    scalarTensor(0, outs[0]!.dtype),
    name,
    inputs,
    (_g, needs) => {
      const got = grads.slice();
      grads.fill(null);
      return got.every((g) => g === null) ? [] : backward(got, needs);
    },
    saved,
  );
  if (!hub.requiresGrad) return [...outs];
  return outs.map((out, i) =>
    record(out, names[i]!, [hub], (g) => {
      grads[i] = g;
      return [scalarTensor(0, g.dtype)];
    }),
  );
}

/** Sums a broadcast gradient back down to `shape`. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  let r = dims.length ? g.sum(dims, { keepdim: true }) : g;
  if (lead > 0) r = r.reshape(shape);
  return r;
}
