/**
 * Shape ops: joining (cat, stack), splitting (split, chunk, unbind), slicing views (narrow, select,
 * slice and the multi-dim `get` helper), reordering copies (flip, roll), repetition (repeat, tile),
 * padding (pad) and triangular masks (tril, triu). All are differentiable.
 * @module
 */
import { getBackend } from '../backends/backend.js';
import { type DType, promoteTypes } from '../core/dtype.js';
import { IndexError, ShapeError, ValueError } from '../core/errors.js';
import { contiguousStrides, fmt, normDim, normDims, numelOf, type Shape } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { indexSelect } from './indexing.js';
import { fromStorage, record } from './util.js';
import { makeView } from './views.js';

// ---------------------------------------------------------------------------------------------
// Strided sub-views and their gradient
// ---------------------------------------------------------------------------------------------

/**
 * A non-overlapping sub-view of a tensor of some shape, described relative to the row-major
 * (contiguous) layout of that shape: element `i` of the sub-view is at `offset + sum(i[d] * strides[d])`.
 */
interface SubView {
  shape: number[];
  strides: number[];
  offset: number;
}

/**
 * One dim of a sub-view: `src` is the source dim it walks (-1 for a new size-1 dim), starting at
 * `start` with step `step` for `size` elements. Source dims not listed are selected at `start`.
 */
interface DimPick {
  src: number;
  start: number;
  step: number;
  size: number;
}

/** Builds the view of `x` given per-source-dim starts and the output dims; records its gradient. */
function pickView(x: Tensor, name: string, starts: readonly number[], dims: readonly DimPick[]): Tensor {
  const cs = contiguousStrides(x.shape);
  let xOff = x.offset;
  let cOff = 0;
  for (let d = 0; d < x.ndim; d++) {
    xOff += starts[d]! * x.strides[d]!;
    cOff += starts[d]! * cs[d]!;
  }
  const shape = dims.map((p) => p.size);
  const xStrides = dims.map((p) => (p.src < 0 ? 0 : x.strides[p.src]! * p.step));
  const sub: SubView = {
    shape,
    strides: dims.map((p) => (p.src < 0 ? 0 : cs[p.src]! * p.step)),
    offset: cOff,
  };
  const inShape = x.shape;
  return makeView(x, shape, xStrides, xOff, name, (g) => embed(g, inShape, sub));
}

/** The sub-view `sub` of `x` (taken relative to a contiguous copy of x); the adjoint of `embed`. */
function subView(x: Tensor, sub: SubView): Tensor {
  const c = x.contiguous();
  const inShape = c.shape;
  return makeView(c, sub.shape, sub.strides, c.offset + sub.offset, 'SubView', (g) => embed(g, inShape, sub));
}

/** Zeros of `shape` with `g` written into the sub-view `sub` (gradient of taking that sub-view). */
function embed(g: Tensor, shape: Shape, sub: SubView): Tensor {
  const b = g.storage.backend;
  const out = fromStorage(b.alloc(g.dtype, numelOf(shape)), shape);
  if (numelOf(sub.shape) > 0) b.assign(new Tensor(out.storage, sub.shape, sub.strides, sub.offset), g);
  return record(out, 'SubViewBackward', [g], (gg) => [subView(gg, sub)]);
}

function fullPicks(x: Tensor, except: number): DimPick[] {
  const out: DimPick[] = [];
  for (let d = 0; d < x.ndim; d++) {
    if (d !== except) out.push({ src: d, start: 0, step: 1, size: x.shape[d]! });
  }
  return out;
}

/**
 * A view of `length` elements of `dim` starting at `start` (negative `start` counts from the end),
 * like `torch.narrow`.
 */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  if (x.ndim === 0) throw new ShapeError('narrow: cannot narrow a 0-d tensor');
  const d = normDim('narrow', dim, x.ndim);
  const n = x.shape[d]!;
  if (!Number.isInteger(start) || start < -n || start > n) {
    throw new IndexError(`narrow: start ${start} is out of range for dim ${dim} with size ${n}`);
  }
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(length) || length < 0 || s + length > n) {
    throw new IndexError(
      `narrow: start ${start} + length ${length} exceeds size ${n} of dim ${dim} (shape ${fmt(x.shape)})`,
    );
  }
  const starts = new Array<number>(x.ndim).fill(0);
  starts[d] = s;
  const picks = fullPicks(x, -1);
  picks[d] = { src: d, start: s, step: 1, size: length };
  return pickView(x, 'Narrow', starts, picks);
}

/** The slice at `index` of `dim`, removing that dim (a view, like `torch.select`). */
export function select(x: Tensor, dim: number, index: number): Tensor {
  if (x.ndim === 0) throw new ShapeError('select: cannot select from a 0-d tensor');
  const d = normDim('select', dim, x.ndim);
  const n = x.shape[d]!;
  if (!Number.isInteger(index) || index < -n || index >= n) {
    throw new IndexError(`select: index ${index} is out of range for dim ${dim} with size ${n}`);
  }
  const starts = new Array<number>(x.ndim).fill(0);
  starts[d] = index < 0 ? index + n : index;
  return pickView(x, 'Select', starts, fullPicks(x, d));
}

/** Python slice bounds (start/end may be negative or out of range; they are clamped). */
function sliceBounds(
  op: string,
  n: number,
  start: number | null | undefined,
  end: number | null | undefined,
  step: number | null | undefined,
): { start: number; step: number; size: number } {
  const k = step ?? 1;
  if (!Number.isInteger(k) || k <= 0)
    throw new ValueError(`${op}: step must be a positive integer, got ${k}`);
  for (const v of [start, end]) {
    if (v !== null && v !== undefined && !Number.isInteger(v)) {
      throw new ValueError(`${op}: slice bounds must be integers, got ${v}`);
    }
  }
  let s = start ?? 0;
  let e = end ?? n;
  if (s < 0) s += n;
  if (e < 0) e += n;
  s = Math.min(Math.max(s, 0), n);
  e = Math.min(Math.max(e, 0), n);
  return { start: s, step: k, size: e > s ? Math.ceil((e - s) / k) : 0 };
}

/**
 * `x[..., start:end:step, ...]` along `dim`, with Python semantics: negative bounds count from the end,
 * out-of-range bounds are clamped, `null`/omitted bounds mean the whole dim. `step` must be positive.
 * Returns a view.
 */
export function slice(
  x: Tensor,
  dim: number,
  start: number | null = null,
  end: number | null = null,
  step = 1,
): Tensor {
  if (x.ndim === 0) throw new ShapeError('slice: cannot slice a 0-d tensor');
  const d = normDim('slice', dim, x.ndim);
  const b = sliceBounds('slice', x.shape[d]!, start, end, step);
  const starts = new Array<number>(x.ndim).fill(0);
  starts[d] = b.start;
  const picks = fullPicks(x, -1);
  picks[d] = { src: d, ...b };
  return pickView(x, 'Slice', starts, picks);
}

/**
 * One entry of a `get` index, one per dim from the left (like Python's `x[...]`):
 * - a number `i` selects index `i` of the dim and removes the dim (negative counts from the end);
 * - `null` keeps the whole dim (Python's `:`);
 * - an array `[start, end, step]` slices the dim; missing entries or `null` take the defaults
 *   (`[1]` or `[1, null]` is `1:`, `[null, null, 2]` is `::2`, `[-2]` is `-2:`);
 * - a string with Python slice syntax, e.g. `'1:3'`, `':'`, `'::2'`, `'-1:'`;
 * - `'...'` stands for as many whole dims as needed (at most once);
 * - `'newaxis'` inserts a new dim of size 1 (Python's `None`).
 */
export type IndexItem = number | null | readonly (number | null | undefined)[] | string;

function parseSliceString(op: string, s: string): (number | null)[] {
  const parts = s.split(':');
  if (parts.length < 2 || parts.length > 3) {
    throw new ValueError(`${op}: cannot parse index '${s}' (expected 'start:end' or 'start:end:step')`);
  }
  return parts.map((p) => {
    const t = p.trim();
    if (t === '') return null;
    const v = Number(t);
    if (!Number.isInteger(v))
      throw new ValueError(`${op}: cannot parse index '${s}' ('${t}' is not an integer)`);
    return v;
  });
}

/**
 * Multi-dim basic indexing, like Python's `x[i, a:b, ::c, ...]`; see `IndexItem` for the entries.
 * Always returns a view (shares storage); gradients flow back into the indexed positions.
 * Dims not covered by the entries are kept whole. For index tensors or masks use `indexSelect`,
 * `gather` or `maskedSelect`.
 * @example
 * x.get(0)                    // x[0]
 * x.get(null, 1)              // x[:, 1]
 * x.get(0, [1, null], [null, null, 2])  // x[0, 1:, ::2]
 * x.get('...', '::-1')        // error: steps must be positive (use flip)
 * x.get('...', 0, 'newaxis')  // x[..., 0, None]
 */
export function get(x: Tensor, ...items: readonly IndexItem[]): Tensor {
  const op = 'get';
  const consumes = (it: IndexItem): number => (it === '...' || it === 'newaxis' ? 0 : 1);
  const used = items.reduce<number>((a, it) => a + consumes(it), 0);
  const ellipses = items.filter((it) => it === '...').length;
  if (ellipses > 1) throw new IndexError(`${op}: an index can only have a single ellipsis ('...')`);
  if (used > x.ndim) {
    throw new IndexError(
      `${op}: too many indices for a ${x.ndim}-d tensor of shape ${fmt(x.shape)}: ${used}`,
    );
  }
  const starts = new Array<number>(x.ndim).fill(0);
  const picks: DimPick[] = [];
  let d = 0;
  const whole = (): void => {
    picks.push({ src: d, start: 0, step: 1, size: x.shape[d]! });
    d++;
  };
  for (const it of items) {
    const raw: unknown = it;
    if (raw instanceof Tensor) {
      throw new IndexError(
        `${op}: tensor indices are not supported (index of shape ${fmt(raw.shape)}, dtype ${raw.dtype}); ` +
          'use maskedSelect for bool masks, indexSelect or gather for int32 indices',
      );
    }
    if (it === '...') {
      const fill = x.ndim - used;
      for (let k = 0; k < fill; k++) whole();
    } else if (it === 'newaxis') {
      picks.push({ src: -1, start: 0, step: 1, size: 1 });
    } else if (it === null) {
      whole();
    } else if (typeof it === 'number') {
      const n = x.shape[d]!;
      if (!Number.isInteger(it) || it < -n || it >= n) {
        throw new IndexError(`${op}: index ${it} is out of range for dim ${d} with size ${n}`);
      }
      starts[d] = it < 0 ? it + n : it;
      d++;
    } else {
      const parts = typeof it === 'string' ? parseSliceString(op, it) : it;
      if (parts.length > 3) {
        throw new ValueError(`${op}: a slice has at most 3 entries [start, end, step], got ${parts.length}`);
      }
      const b = sliceBounds(op, x.shape[d]!, parts[0], parts[1], parts[2]);
      starts[d] = b.start;
      picks.push({ src: d, ...b });
      d++;
    }
  }
  while (d < x.ndim) whole();
  return pickView(x, 'Get', starts, picks);
}

// ---------------------------------------------------------------------------------------------
// Joining and splitting
// ---------------------------------------------------------------------------------------------

/**
 * Concatenates tensors along an existing `dim`. Dtypes are promoted; all sizes except `dim` must
 * match. 1-d empty tensors (shape [0]) are skipped, like PyTorch's legacy behaviour.
 */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new ValueError('cat: expected a non-empty list of tensors');
  let used = tensors.filter((t) => !(t.ndim === 1 && t.shape[0] === 0));
  if (used.length === 0) used = [tensors[0]!];
  const ref = used[0]!;
  if (ref.ndim === 0) throw new ShapeError('cat: zero-dimensional tensors cannot be concatenated');
  const d = normDim('cat', dim, ref.ndim);
  let dtype: DType = ref.dtype;
  let total = 0;
  used.forEach((t, i) => {
    if (t.ndim !== ref.ndim) {
      throw new ShapeError(
        `cat: tensors must have the same number of dims: tensor 0 has shape ${fmt(ref.shape)}, ` +
          `tensor ${i} has shape ${fmt(t.shape)}`,
      );
    }
    for (let k = 0; k < ref.ndim; k++) {
      if (k !== d && t.shape[k] !== ref.shape[k]) {
        throw new ShapeError(
          `cat: sizes must match except in dim ${d}: tensor 0 has shape ${fmt(ref.shape)}, ` +
            `tensor ${i} has shape ${fmt(t.shape)} (dim ${k}: ${ref.shape[k]} vs ${t.shape[k]})`,
        );
      }
    }
    dtype = promoteTypes(dtype, t.dtype);
    total += t.shape[d]!;
  });
  const shape = ref.shape.slice();
  shape[d] = total;
  const b = ref.storage.backend;
  const out = fromStorage(b.alloc(dtype, numelOf(shape)), shape);
  const starts: number[] = [];
  let off = 0;
  for (const t of used) {
    starts.push(off);
    if (t.numel() > 0) {
      b.assign(new Tensor(out.storage, t.shape, out.strides, off * out.strides[d]!), t);
    }
    off += t.shape[d]!;
  }
  // Skipped legacy empty tensors are inputs too (with an empty gradient), so they get a `.grad`.
  return record(out, 'Cat', tensors, (g, needs) =>
    tensors.map((t, i) => {
      if (!needs[i]) return null;
      const k = used.indexOf(t);
      const gi = k < 0 ? narrow(g.reshape([-1]), 0, 0, 0) : narrow(g, d, starts[k]!, t.shape[d]!);
      return gi.dtype === t.dtype ? gi : gi.to(t.dtype);
    }),
  );
}

/** Stacks equally shaped tensors along a new dim `dim` (negative counts from the end of the result). */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new ValueError('stack: expected a non-empty list of tensors');
  const ref = tensors[0]!;
  tensors.forEach((t, i) => {
    if (t.ndim !== ref.ndim || t.shape.some((s, k) => s !== ref.shape[k])) {
      throw new ShapeError(
        `stack: expects each tensor to be equal size, but got ${fmt(ref.shape)} at entry 0 and ` +
          `${fmt(t.shape)} at entry ${i}`,
      );
    }
  });
  const d = normDim('stack', dim, ref.ndim + 1);
  return cat(
    tensors.map((t) => t.unsqueeze(d)),
    d,
  );
}

/**
 * Splits `x` into views along `dim`: chunks of `sizeOrSections` elements (the last may be smaller)
 * when it is a number, or of the listed sizes (which must sum to the dim's size).
 */
export function split(x: Tensor, sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  if (x.ndim === 0) throw new ShapeError('split: cannot split a 0-d tensor');
  const d = normDim('split', dim, x.ndim);
  const n = x.shape[d]!;
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    const k = sizeOrSections;
    if (!Number.isInteger(k) || k < 0 || (k === 0 && n > 0)) {
      throw new ValueError(
        `split: split size must be a positive integer, got ${k} (dim ${dim} has size ${n})`,
      );
    }
    sizes = [];
    if (n === 0) sizes.push(0);
    for (let s = 0; s < n; s += k) sizes.push(Math.min(k, n - s));
  } else {
    sizes = sizeOrSections.slice();
    const sum = sizes.reduce((a, v) => a + v, 0);
    if (sizes.some((v) => !Number.isInteger(v) || v < 0) || sum !== n) {
      throw new ValueError(
        `split: sizes ${fmt(sizes)} must be non-negative integers summing to ${n} (size of dim ${dim} of shape ${fmt(x.shape)})`,
      );
    }
  }
  const out: Tensor[] = [];
  let off = 0;
  for (const s of sizes) {
    out.push(narrow(x, d, off, s));
    off += s;
  }
  return out;
}

/**
 * Splits `x` into `chunks` views along `dim`, each of size ceil(size / chunks) except the last;
 * like PyTorch this can return fewer than `chunks` pieces.
 */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) {
    throw new ValueError(`chunk: number of chunks must be a positive integer, got ${chunks}`);
  }
  if (x.ndim === 0) throw new ShapeError('chunk: cannot chunk a 0-d tensor');
  const d = normDim('chunk', dim, x.ndim);
  const n = x.shape[d]!;
  if (n === 0) return Array.from({ length: chunks }, () => narrow(x, d, 0, 0));
  return split(x, Math.ceil(n / chunks), d);
}

/** All slices along `dim` as views, with that dim removed (like `torch.unbind`). */
export function unbind(x: Tensor, dim = 0): Tensor[] {
  if (x.ndim === 0) throw new ShapeError('unbind: cannot unbind a 0-d tensor');
  const d = normDim('unbind', dim, x.ndim);
  return Array.from({ length: x.shape[d]! }, (_, i) => select(x, d, i));
}

// ---------------------------------------------------------------------------------------------
// Reordering and repetition
// ---------------------------------------------------------------------------------------------

/** Reverses the order of elements along `dims` (returns a copy, like PyTorch). */
export function flip(x: Tensor, dims: number | readonly number[]): Tensor {
  const ds = normDims('flip', dims, x.ndim);
  const strides = x.strides.slice();
  let off = x.offset;
  for (const d of ds) {
    if (x.shape[d]! > 0) off += (x.shape[d]! - 1) * strides[d]!;
    strides[d] = -strides[d]!;
  }
  const b = x.storage.backend;
  const out = fromStorage(b.copy(new Tensor(x.storage, x.shape, strides, off), x.dtype), x.shape);
  return record(out, 'Flip', [x], (g) => [flip(g, ds)]);
}

/**
 * Rolls elements along `dims` by `shifts` (elements shifted past the end come back at the start).
 * Without `dims`, the flattened tensor is rolled and the shape restored.
 */
export function roll(
  x: Tensor,
  shifts: number | readonly number[],
  dims?: number | readonly number[],
): Tensor {
  const sh = typeof shifts === 'number' ? [shifts] : shifts.slice();
  if (sh.some((s) => !Number.isInteger(s)))
    throw new ValueError(`roll: shifts must be integers, got ${fmt(sh)}`);
  if (dims === undefined) {
    if (sh.length !== 1) {
      throw new ValueError(`roll: without dims, shifts must be a single number, got ${fmt(sh)}`);
    }
    return roll(x.reshape([-1]), sh[0]!, 0).reshape(x.shape);
  }
  const ds = typeof dims === 'number' ? [dims] : dims.slice();
  if (ds.length !== sh.length) {
    throw new ValueError(`roll: shifts ${fmt(sh)} and dims ${fmt(ds)} must have the same length`);
  }
  let y = x;
  ds.forEach((dim, i) => {
    const d = normDim('roll', dim, x.ndim);
    const n = x.shape[d]!;
    if (n === 0) return;
    const s = ((sh[i]! % n) + n) % n;
    if (s === 0) return;
    y = cat([narrow(y, d, n - s, s), narrow(y, d, 0, n - s)], d);
  });
  return y === x ? x.clone() : y;
}

/**
 * Repeats `x` `sizes[i]` times along each dim (like `torch.Tensor.repeat`); `sizes` may have more
 * entries than `x` has dims, which adds leading dims. Returns a copy.
 */
export function repeat(x: Tensor, sizes: readonly number[]): Tensor {
  if (sizes.length < x.ndim) {
    throw new ShapeError(
      `repeat: number of repeat dims (${sizes.length}) cannot be smaller than the number of tensor dims (${x.ndim}, shape ${fmt(x.shape)})`,
    );
  }
  if (sizes.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new ValueError(`repeat: repeats must be non-negative integers, got ${fmt(sizes)}`);
  }
  const lead = sizes.length - x.ndim;
  const xs = [...new Array<number>(lead).fill(1), ...x.shape];
  const inter: number[] = [];
  const big: number[] = [];
  xs.forEach((s, i) => {
    inter.push(1, s);
    big.push(sizes[i]!, s);
  });
  const out = xs.map((s, i) => s * sizes[i]!);
  return x.reshape(inter).expand(big).clone().reshape(out);
}

/** Like `repeat`, but `reps` shorter than the tensor's dims is padded with leading 1s (`torch.tile`). */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  const r = reps.length < x.ndim ? [...new Array<number>(x.ndim - reps.length).fill(1), ...reps] : reps;
  return repeat(x, r);
}

// ---------------------------------------------------------------------------------------------
// Padding and triangular masks
// ---------------------------------------------------------------------------------------------

/** Options of `pad`. */
export interface PadOptions {
  /**
   * `constant` (fill with `value`, negative pads crop), `reflect` (mirror without repeating the edge),
   * `replicate` (repeat the edge) or `circular` (wrap around). Default `constant`.
   */
  mode?: 'constant' | 'reflect' | 'replicate' | 'circular';
  /** Fill value of `constant` mode (default 0). */
  value?: number;
}

/**
 * Pads `x` with PyTorch's pad-list order: `[left, right]` for the last dim, then
 * `[top, bottom]` for the one before, and so on (`padList.length / 2` trailing dims are padded).
 * Unlike PyTorch, the non-constant modes work on any number of dims.
 */
export function pad(x: Tensor, padList: readonly number[], options: PadOptions = {}): Tensor {
  const mode = options.mode ?? 'constant';
  if (padList.length % 2 !== 0 || padList.length > 2 * x.ndim) {
    throw new ValueError(
      `pad: padding length ${padList.length} must be even and at most 2 * ndim (${2 * x.ndim}) for shape ${fmt(x.shape)}`,
    );
  }
  if (padList.some((p) => !Number.isInteger(p)))
    throw new ValueError(`pad: pads must be integers, got ${fmt(padList)}`);
  if (!['constant', 'reflect', 'replicate', 'circular'].includes(mode)) {
    throw new ValueError(`pad: unknown mode '${mode}' (expected constant, reflect, replicate or circular)`);
  }
  if (mode !== 'constant' && options.value !== undefined && options.value !== 0) {
    throw new ValueError(`pad: mode '${mode}' does not take a value (got ${options.value})`);
  }
  const pairs: { d: number; lo: number; hi: number }[] = [];
  for (let k = 0; k < padList.length / 2; k++) {
    pairs.push({ d: x.ndim - 1 - k, lo: padList[2 * k]!, hi: padList[2 * k + 1]! });
  }
  if (mode === 'constant') return padConstant(x, pairs, options.value ?? 0);
  let y = x;
  for (const { d, lo, hi } of pairs) {
    const n = x.shape[d]!;
    if (lo < 0 || hi < 0) {
      throw new ValueError(
        `pad: negative padding (${lo}, ${hi}) of dim ${d} is only supported in constant mode`,
      );
    }
    if (lo === 0 && hi === 0) continue;
    if (mode === 'reflect' && (lo >= n || hi >= n)) {
      throw new ValueError(
        `pad: reflect padding (${lo}, ${hi}) of dim ${d} must be smaller than its size ${n} (shape ${fmt(x.shape)})`,
      );
    }
    if (mode === 'replicate' && n === 0) {
      throw new ValueError(`pad: cannot replicate-pad dim ${d} of size 0 (shape ${fmt(x.shape)})`);
    }
    if (mode === 'circular' && (lo > n || hi > n)) {
      throw new ValueError(
        `pad: circular padding (${lo}, ${hi}) of dim ${d} must be at most its size ${n} (shape ${fmt(x.shape)})`,
      );
    }
    const idx = new Int32Array(n + lo + hi);
    for (let o = 0; o < idx.length; o++) {
      const i = o - lo;
      let j: number;
      if (mode === 'reflect') j = i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
      else if (mode === 'replicate') j = Math.min(Math.max(i, 0), n - 1);
      else j = ((i % n) + n) % n;
      idx[o] = j;
    }
    y = indexSelect(y, d, fromStorage(getBackend().fromArray(idx), [idx.length]));
  }
  return y === x ? x.clone() : y;
}

function padConstant(
  x: Tensor,
  pairs: readonly { d: number; lo: number; hi: number }[],
  value: number,
): Tensor {
  // Negative pads crop first (a view); then the positive pads place the rest inside a filled tensor.
  let y = x;
  const shape = x.shape.slice();
  for (const { d, lo, hi } of pairs) {
    const n = x.shape[d]!;
    const size = n + lo + hi;
    if (size < 0) {
      throw new ValueError(
        `pad: padding (${lo}, ${hi}) of dim ${d} gives a negative size ${size} (shape ${fmt(x.shape)})`,
      );
    }
    if (lo < 0 || hi < 0) {
      const cut0 = Math.max(-lo, 0);
      y = narrow(y, d, Math.min(cut0, n), Math.max(n - cut0 - Math.max(-hi, 0), 0));
    }
    shape[d] = size;
  }
  const b = x.storage.backend;
  const out = fromStorage(b.alloc(x.dtype, numelOf(shape)), shape);
  if (value !== 0) b.fill(out, value);
  const starts = x.shape.map(() => 0);
  for (const { d, lo } of pairs) starts[d] = Math.max(lo, 0);
  if (y.numel() > 0 && numelOf(shape) > 0) {
    let off = 0;
    starts.forEach((s, d) => {
      off += s * out.strides[d]!;
    });
    b.assign(new Tensor(out.storage, y.shape, out.strides, off), y);
  }
  const inShape = y.shape;
  return record(out, 'ConstantPad', [y], (g) => {
    let r = g;
    starts.forEach((s, d) => {
      if (s !== 0 || inShape[d] !== g.shape[d]) r = narrow(r, d, s, inShape[d]!);
    });
    return [r];
  });
}

function triangle(op: 'tril' | 'triu', x: Tensor, diagonal: number): Tensor {
  if (x.ndim < 2) throw new ShapeError(`${op}: input must have at least 2 dims, got shape ${fmt(x.shape)}`);
  if (!Number.isInteger(diagonal))
    throw new ValueError(`${op}: diagonal must be an integer, got ${diagonal}`);
  const r = x.shape[x.ndim - 2]!;
  const c = x.shape[x.ndim - 1]!;
  const m = new Uint8Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      const k = j - i;
      m[i * c + j] = (op === 'tril' ? k <= diagonal : k >= diagonal) ? 1 : 0;
    }
  }
  const mask = fromStorage(getBackend().fromArray(m), [r, c]);
  return x.where(mask, x.dtype === 'bool' ? false : 0);
}

/** Lower triangle of the last two dims: keeps elements with `col - row <= diagonal`, zeroes the rest. */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return triangle('tril', x, diagonal);
}

/** Upper triangle of the last two dims: keeps elements with `col - row >= diagonal`, zeroes the rest. */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return triangle('triu', x, diagonal);
}

// ---------------------------------------------------------------------------------------------
// Tensor methods
// ---------------------------------------------------------------------------------------------

declare module '../core/tensor.js' {
  interface Tensor {
    /** View of `length` elements of `dim` from `start`. */
    narrow(dim: number, start: number, length: number): Tensor;
    /** View of index `index` of `dim`, removing the dim. */
    select(dim: number, index: number): Tensor;
    /** View `[start:end:step]` of `dim` (Python semantics). */
    slice(dim: number, start?: number | null, end?: number | null, step?: number): Tensor;
    /** Python-style basic indexing (a view); see `IndexItem`. */
    get(...items: IndexItem[]): Tensor;
    /** Views of chunks of `sizeOrSections` along `dim`. */
    split(sizeOrSections: number | readonly number[], dim?: number): Tensor[];
    /** `chunks` views along `dim`. */
    chunk(chunks: number, dim?: number): Tensor[];
    /** Slices along `dim` as views. */
    unbind(dim?: number): Tensor[];
    /** Reverses `dims` (copy). */
    flip(dims: number | readonly number[]): Tensor;
    /** Rolls elements along `dims`. */
    roll(shifts: number | readonly number[], dims?: number | readonly number[]): Tensor;
    /** Repeats along each dim. */
    repeat(sizes: readonly number[]): Tensor;
    /** Repeats along each dim. */
    repeat(...sizes: number[]): Tensor;
    /** Repeats along each dim, padding `reps` with leading 1s. */
    tile(reps: readonly number[]): Tensor;
    /** Repeats along each dim, padding `reps` with leading 1s. */
    tile(...reps: number[]): Tensor;
    /** Pads with PyTorch's pad-list order (last dim first). */
    pad(padList: readonly number[], options?: PadOptions): Tensor;
    /** Lower triangle of the last two dims. */
    tril(diagonal?: number): Tensor;
    /** Upper triangle of the last two dims. */
    triu(diagonal?: number): Tensor;
  }
}

const P = Tensor.prototype;
P.narrow = function (d, s, l) {
  return narrow(this, d, s, l);
};
P.select = function (d, i) {
  return select(this, d, i);
};
P.slice = function (d, s, e, k) {
  return slice(this, d, s ?? null, e ?? null, k ?? 1);
};
P.get = function (...items) {
  return get(this, ...items);
};
P.split = function (s, d) {
  return split(this, s, d);
};
P.chunk = function (c, d) {
  return chunk(this, c, d);
};
P.unbind = function (d) {
  return unbind(this, d);
};
P.flip = function (d) {
  return flip(this, d);
};
P.roll = function (s, d) {
  return roll(this, s, d);
};
P.repeat = function (this: Tensor, ...sizes: (number | readonly number[])[]) {
  return repeat(this, sizes.length === 1 && typeof sizes[0] !== 'number' ? sizes[0]! : (sizes as number[]));
} as Tensor['repeat'];
P.tile = function (this: Tensor, ...reps: (number | readonly number[])[]) {
  return tile(this, reps.length === 1 && typeof reps[0] !== 'number' ? reps[0]! : (reps as number[]));
} as Tensor['tile'];
P.pad = function (p, o) {
  return pad(this, p, o);
};
P.tril = function (d) {
  return tril(this, d);
};
P.triu = function (d) {
  return triu(this, d);
};
