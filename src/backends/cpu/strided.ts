/**
 * Strided iteration helpers shared by CPU kernels.
 * @module
 */
import type { Shape } from '../../core/shape.js';

/**
 * Calls `body(outStart, offsets, innerLength, innerStrides)` for each run of the last dimension of
 * `shape`, where `offsets[j]` is the start offset of operand j (given by `strides[j]`, `offsets0[j]`).
 * Output is assumed contiguous, so `outStart` advances by the inner length.
 */
export function forEachRow(
  shape: Shape,
  strides: readonly (readonly number[])[],
  offsets0: readonly number[],
  body: (outStart: number, offsets: Int32Array | number[], inner: number, innerStrides: number[]) => void,
): void {
  const nd = shape.length;
  const nops = strides.length;
  const offs = offsets0.slice();
  if (nd === 0) {
    body(
      0,
      offs,
      1,
      strides.map(() => 0),
    );
    return;
  }
  for (const s of shape) if (s === 0) return;
  const inner = shape[nd - 1]!;
  const innerStrides = strides.map((st) => st[nd - 1]!);
  let rows = 1;
  for (let i = 0; i < nd - 1; i++) rows *= shape[i]!;
  const idx = new Array<number>(Math.max(nd - 1, 0)).fill(0);
  let out = 0;
  for (let r = 0; r < rows; r++) {
    body(out, offs, inner, innerStrides);
    out += inner;
    // advance odometer over dims 0..nd-2
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      for (let j = 0; j < nops; j++) offs[j]! += strides[j]![d]!;
      if (idx[d]! < shape[d]!) break;
      for (let j = 0; j < nops; j++) offs[j]! -= strides[j]![d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/** Simplifies a view for iteration: merges adjacent dims that are jointly contiguous for all operands. */
export function coalesce(
  shape: Shape,
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const s = shape[d]!;
    if (s === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((st, j) => outStrides[j]![last] === st[d]! * s)) {
      outShape[last] = outShape[last]! * s;
      for (let j = 0; j < strides.length; j++) outStrides[j]![last] = strides[j]![d]!;
    } else {
      outShape.push(s);
      for (let j = 0; j < strides.length; j++) outStrides[j]!.push(strides[j]![d]!);
    }
  }
  return { shape: outShape, strides: outStrides };
}
