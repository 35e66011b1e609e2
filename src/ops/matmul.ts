/**
 * Matrix products with PyTorch's rules: vector/matrix/batched with broadcast batch dims.
 * @module
 */
import { promoteTypes } from '../core/dtype.js';
import { ShapeError } from '../core/errors.js';
import { broadcastShapes, fmt } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { fromStorage, record, requireFloat, sumToShape } from './util.js';

/** [B..., m, k] x [B..., k, n] with batch broadcasting, both operands at least 2-d. */
function batchedMatmul(a: Tensor, b: Tensor, op: string, shown: readonly Tensor[] = [a, b]): Tensor {
  const m = a.shape[a.ndim - 2]!;
  const k = a.shape[a.ndim - 1]!;
  const k2 = b.shape[b.ndim - 2]!;
  const n = b.shape[b.ndim - 1]!;
  if (k !== k2) {
    throw new ShapeError(
      `${op}: shapes ${fmt(shown[0]!.shape)} and ${fmt(shown[1]!.shape)} cannot be multiplied (${k} != ${k2})`,
    );
  }
  const batch = broadcastShapes(op, a.shape.slice(0, -2), b.shape.slice(0, -2));
  let B = 1;
  for (const s of batch) B *= s;
  const a3 = a.expand([...batch, m, k]).reshape([B, m, k]);
  const b3 = b.expand([...batch, k, n]).reshape([B, k, n]);
  const out = fromStorage(a.storage.backend.matmul(a3, b3, a.dtype), [...batch, m, n]);
  return record(
    out,
    'Mm',
    [a, b],
    (g, needs) => [
      needs[0] ? sumToShape(g.matmul(b.transpose(-1, -2)), a.shape) : null,
      needs[1] ? sumToShape(a.transpose(-1, -2).matmul(g), b.shape) : null,
    ],
    [a, b],
  );
}

/** Matrix product following `torch.matmul` (1-d operands are treated as vectors). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  requireFloat('matmul', a);
  requireFloat('matmul', b);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ShapeError(
      `matmul: both arguments need at least 1 dim, got shapes ${fmt(a.shape)} and ${fmt(b.shape)}`,
    );
  }
  const dt = promoteTypes(a.dtype, b.dtype);
  let x = a.to(dt);
  let y = b.to(dt);
  const va = x.ndim === 1;
  const vb = y.ndim === 1;
  if (va) x = x.unsqueeze(0);
  if (vb) y = y.unsqueeze(1);
  let out = batchedMatmul(x, y, 'matmul', [a, b]);
  if (va) out = out.squeeze(-2);
  if (vb) out = out.squeeze(-1);
  return out;
}

/** 2-d matrix product. */
export function mm(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 2 || b.ndim !== 2) {
    throw new ShapeError(`mm: expects 2-d tensors, got shapes ${fmt(a.shape)} and ${fmt(b.shape)}`);
  }
  return matmul(a, b);
}

/** Batched product of 3-d tensors [B, m, k] x [B, k, n] (no broadcasting). */
export function bmm(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 3 || b.ndim !== 3 || a.shape[0] !== b.shape[0]) {
    throw new ShapeError(
      `bmm: expects 3-d tensors with equal batch size, got shapes ${fmt(a.shape)} and ${fmt(b.shape)}`,
    );
  }
  return matmul(a, b);
}

declare module '../core/tensor.js' {
  interface Tensor {
    /** Matrix product (torch.matmul rules). */
    matmul(other: Tensor): Tensor;
    /** 2-d matrix product. */
    mm(other: Tensor): Tensor;
    /** Batched 3-d matrix product. */
    bmm(other: Tensor): Tensor;
  }
}

Tensor.prototype.matmul = function (o) {
  return matmul(this, o);
};
Tensor.prototype.mm = function (o) {
  return mm(this, o);
};
Tensor.prototype.bmm = function (o) {
  return bmm(this, o);
};
