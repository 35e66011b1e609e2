/**
 * Linear algebra built on matmul: dot, outer and einsum. einsum is lowered to diagonal masks,
 * sums, permutes, reshapes, broadcasting multiplies and batched matmuls, so its gradients (of any
 * order) come from those ops.
 * @module
 */
import { eye } from '../core/creation.js';
import { promoteTypes } from '../core/dtype.js';
import { ShapeError, ValueError } from '../core/errors.js';
import { fmt } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { requireFloat } from './util.js';

/** Inner product of two 1-d tensors of the same length (a 0-d tensor). */
export function dot(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 1 || b.ndim !== 1) {
    throw new ShapeError(`dot: expected two 1-d tensors, got shapes ${fmt(a.shape)} and ${fmt(b.shape)}`);
  }
  if (a.shape[0] !== b.shape[0]) {
    throw new ShapeError(
      `dot: tensors must have the same length, got shapes ${fmt(a.shape)} and ${fmt(b.shape)}`,
    );
  }
  if (a.isFloatingPoint() && b.isFloatingPoint()) return a.matmul(b);
  return a.mul(b).sum();
}

/** Outer product of two 1-d tensors: out[i, j] = a[i] * b[j]. */
export function outer(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 1 || b.ndim !== 1) {
    throw new ShapeError(`outer: expected two 1-d tensors, got shapes ${fmt(a.shape)} and ${fmt(b.shape)}`);
  }
  return a.unsqueeze(1).mul(b.unsqueeze(0));
}

/** A label: a letter's char code, or a negative number for the dims covered by `...` (-1 is the last). */
type Label = number;

interface Operand {
  t: Tensor;
  labels: Label[];
}

function labelName(l: Label): string {
  return l >= 0 ? String.fromCharCode(l) : `... dim ${l}`;
}

/** Parses one subscript term; `ndim` is the operand's rank (null for the output term). */
function parseTerm(term: string, ndim: number | null, what: string, ellipsisDims: number): Label[] {
  const parts = term.split('...');
  if (parts.length > 2) throw new ValueError(`einsum: ${what} '${term}' has more than one '...'`);
  for (const p of parts) {
    for (const ch of p) {
      if (!/[a-zA-Z]/.test(ch)) {
        throw new ValueError(`einsum: invalid subscript '${ch}' in ${what} '${term}' (use letters a-z, A-Z)`);
      }
    }
  }
  const letters = parts.join('');
  const codes = (s: string): Label[] => Array.from(s, (c) => c.charCodeAt(0));
  if (parts.length === 1) {
    if (ndim !== null && letters.length !== ndim) {
      throw new ShapeError(
        `einsum: ${what} '${term}' names ${letters.length} dims but the operand has ${ndim} (shape of rank ${ndim})`,
      );
    }
    return codes(letters);
  }
  const e = ndim === null ? ellipsisDims : ndim - letters.length;
  if (e < 0) {
    throw new ShapeError(
      `einsum: ${what} '${term}' names ${letters.length} dims but the operand has ${ndim}`,
    );
  }
  const ell = Array.from({ length: e }, (_, i) => -(e - i));
  return [...codes(parts[0]!), ...ell, ...codes(parts[1]!)];
}

/** Sums `x` over the dims at `positions` (removing them). */
function sumOut(op: Operand, drop: (l: Label) => boolean): Operand {
  const dims: number[] = [];
  op.labels.forEach((l, i) => {
    if (drop(l)) dims.push(i);
  });
  if (!dims.length) return op;
  return { t: op.t.sum(dims), labels: op.labels.filter((_, i) => !dims.includes(i)) };
}

/** Replaces repeated labels in one operand by their diagonal ('ii->i'). */
function takeDiagonals(op: Operand, idx: number): Operand {
  let { t, labels } = op;
  for (;;) {
    let p = -1;
    let q = -1;
    for (let i = 0; i < labels.length && p < 0; i++) {
      const j = labels.indexOf(labels[i]!, i + 1);
      if (j >= 0) {
        p = i;
        q = j;
      }
    }
    if (p < 0) return { t, labels };
    const n = t.shape[p]!;
    if (t.shape[q] !== n) {
      throw new ShapeError(
        `einsum: label '${labelName(labels[p]!)}' is repeated in operand ${idx} with sizes ${t.shape[p]} and ${t.shape[q]} (shape ${fmt(t.shape)})`,
      );
    }
    const maskShape = t.shape.map((s, i) => (i === p || i === q ? s : 1));
    const mask = eye(n, n, { dtype: t.dtype }).reshape(maskShape);
    t = t.mul(mask).sum(q);
    labels = labels.filter((_, i) => i !== q);
  }
}

/** Contracts two operands, keeping the labels in `keep` (the rest shared by both are summed). */
function contract(a: Operand, b: Operand, keep: ReadonlySet<Label>): Operand {
  // Labels only in one operand and not kept are summed out first.
  a = sumOut(a, (l) => !keep.has(l) && !b.labels.includes(l));
  b = sumOut(b, (l) => !keep.has(l) && !a.labels.includes(l));
  // A contracted label of size 1 in one operand broadcasts: sum the other operand over it instead.
  for (const l of a.labels.slice()) {
    const j = b.labels.indexOf(l);
    if (j < 0 || keep.has(l)) continue;
    const i = a.labels.indexOf(l);
    const sa = a.t.shape[i]!;
    const sb = b.t.shape[j]!;
    if (sa === sb) continue;
    a = { t: sa === 1 ? a.t.squeeze(i) : a.t.sum(i), labels: a.labels.filter((_, k) => k !== i) };
    b = { t: sb === 1 ? b.t.squeeze(j) : b.t.sum(j), labels: b.labels.filter((_, k) => k !== j) };
  }
  const batch = a.labels.filter((l) => b.labels.includes(l) && keep.has(l));
  const summed = a.labels.filter((l) => b.labels.includes(l) && !keep.has(l));
  const aOnly = a.labels.filter((l) => !b.labels.includes(l));
  const bOnly = b.labels.filter((l) => !a.labels.includes(l));
  const posA = (l: Label): number => a.labels.indexOf(l);
  const posB = (l: Label): number => b.labels.indexOf(l);
  const sizeA = (l: Label): number => a.t.shape[posA(l)]!;
  const sizeB = (l: Label): number => b.t.shape[posB(l)]!;
  const prodOf = (ls: Label[], size: (l: Label) => number): number => ls.reduce((acc, l) => acc * size(l), 1);
  const labels = [...batch, ...aOnly, ...bOnly];
  if (!summed.length) {
    // No contraction: a broadcasting multiply.
    const ta = a.t
      .permute([...batch, ...aOnly].map(posA))
      .reshape([...batch.map(sizeA), ...aOnly.map(sizeA), ...bOnly.map(() => 1)]);
    const tb = b.t
      .permute([...batch, ...bOnly].map(posB))
      .reshape([...batch.map(sizeB), ...aOnly.map(() => 1), ...bOnly.map(sizeB)]);
    return { t: ta.mul(tb), labels };
  }
  const m = prodOf(aOnly, sizeA);
  const k = prodOf(summed, sizeA);
  const n = prodOf(bOnly, sizeB);
  const ta = a.t.permute([...batch, ...aOnly, ...summed].map(posA)).reshape([...batch.map(sizeA), m, k]);
  const tb = b.t.permute([...batch, ...summed, ...bOnly].map(posB)).reshape([...batch.map(sizeB), k, n]);
  const r = ta.matmul(tb);
  const batchShape = r.shape.slice(0, batch.length);
  return { t: r.reshape([...batchShape, ...aOnly.map(sizeA), ...bOnly.map(sizeB)]), labels };
}

/**
 * Einstein summation, e.g. `einsum('ij,jk->ik', a, b)`, `einsum('bhqd,bhkd->bhqk', q, k)`,
 * `einsum('i,i->', x, y)`, `einsum('ij->ji', x)`, `einsum('ii->i', x)` (diagonal), the implicit
 * form `einsum('ij,jk', a, b)` (output: labels seen once, alphabetically) and `...` for broadcast
 * batch dims. Labels missing from the output are summed. Operands are promoted to a common floating
 * dtype; more than two operands are contracted left to right.
 */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  const eq = equation.replace(/\s+/g, '');
  const arrow = eq.indexOf('->');
  const lhs = arrow >= 0 ? eq.slice(0, arrow) : eq;
  const rhs = arrow >= 0 ? eq.slice(arrow + 2) : null;
  if (rhs?.includes('->')) throw new ValueError(`einsum: equation '${equation}' has more than one '->'`);
  const terms = lhs.split(',');
  if (terms.length !== operands.length) {
    throw new ValueError(
      `einsum: equation '${equation}' has ${terms.length} operand subscript(s) but ${operands.length} operand(s) were given`,
    );
  }
  if (!operands.length) throw new ValueError('einsum: needs at least one operand');
  let dt = operands[0]!.dtype;
  for (const t of operands) {
    requireFloat('einsum', t);
    dt = promoteTypes(dt, t.dtype);
  }
  let ops: Operand[] = operands.map((t, i) => ({
    t: t.to(dt),
    labels: parseTerm(terms[i]!, t.ndim, `subscripts of operand ${i}`, 0),
  }));
  // Check label sizes (size 1 broadcasts) and collect the output labels.
  const sizes = new Map<Label, [number, number]>();
  ops.forEach((o, i) => {
    o.labels.forEach((l, d) => {
      const s = o.t.shape[d]!;
      const prev = sizes.get(l);
      if (prev && prev[1] === i && prev[0] !== s) {
        throw new ShapeError(
          `einsum: label '${labelName(l)}' is repeated in operand ${i} with sizes ${prev[0]} and ${s} (shape ${fmt(o.t.shape)})`,
        );
      }
      if (!prev || prev[0] === 1) sizes.set(l, [s, i]);
      else if (s !== 1 && s !== prev[0]) {
        throw new ShapeError(
          `einsum: label '${labelName(l)}' has size ${prev[0]} in operand ${prev[1]} (shape ${fmt(ops[prev[1]]!.t.shape)}) but ${s} in operand ${i} (shape ${fmt(o.t.shape)})`,
        );
      }
    });
  });
  const ellipsisDims = Math.max(0, ...ops.flatMap((o) => o.labels.filter((l) => l < 0).map((l) => -l)));
  let out: Label[];
  if (rhs === null) {
    const count = new Map<Label, number>();
    for (const o of ops) for (const l of o.labels) if (l >= 0) count.set(l, (count.get(l) ?? 0) + 1);
    const once = [...count].filter(([, c]) => c === 1).map(([l]) => l);
    once.sort((x, y) => x - y);
    out = [...Array.from({ length: ellipsisDims }, (_, i) => -(ellipsisDims - i)), ...once];
  } else {
    out = parseTerm(rhs, null, 'output subscripts', ellipsisDims);
    const seen = new Set<Label>();
    for (const l of out) {
      if (seen.has(l))
        throw new ValueError(`einsum: output subscript '${labelName(l)}' appears more than once`);
      seen.add(l);
      if (!sizes.has(l)) {
        throw new ValueError(`einsum: output subscript '${labelName(l)}' does not appear in any operand`);
      }
    }
  }
  const outSet = new Set(out);
  ops = ops.map((o, i) => takeDiagonals(o, i));
  // Sum labels that appear in one operand only and not in the output.
  ops = ops.map((o, i) =>
    sumOut(o, (l) => !outSet.has(l) && !ops.some((other, j) => j !== i && other.labels.includes(l))),
  );
  let cur = ops[0]!;
  for (let i = 1; i < ops.length; i++) {
    const keep = new Set(out);
    for (let j = i + 1; j < ops.length; j++) for (const l of ops[j]!.labels) keep.add(l);
    cur = contract(cur, ops[i]!, keep);
  }
  cur = sumOut(cur, (l) => !outSet.has(l));
  const perm = out.map((l) => cur.labels.indexOf(l));
  const isIdentity = perm.every((p, i) => p === i);
  return isIdentity ? cur.t : cur.t.permute(perm);
}

declare module '../core/tensor.js' {
  interface Tensor {
    /** Inner product with another 1-d tensor (`torch.Tensor.dot`). */
    dot(other: Tensor): Tensor;
    /** Outer product with another 1-d tensor (`torch.Tensor.outer`). */
    outer(other: Tensor): Tensor;
  }
}

Tensor.prototype.dot = function (other) {
  return dot(this, other);
};
Tensor.prototype.outer = function (other) {
  return outer(this, other);
};
