/**
 * Fused recurrent cells: `lstmCell` and `gruCell` compute one LSTM or GRU step (gate activations and
 * the new state) from the gate pre-activations in a single loop over the typed arrays, and record one
 * autograd node whose backward is again a single loop, instead of the dozen elementwise ops (and
 * graph nodes) of the composite formulas. `lstmLayer` runs a whole LSTM layer over a sequence as one
 * op (the loop over time steps and its backward inside), which `nn.LSTM` uses.
 *
 * When the backward pass is itself recorded (`createGraph`), the backward uses the same formulas
 * written with differentiable ops, so higher-order gradients work. Ops with several outputs hand
 * their output gradients to one shared node, which runs the fused backward once.
 * @module
 */
import { isGradEnabled, noGrad } from '../../autograd/grad-mode.js';
import type { Backend, View } from '../../backends/backend.js';
import { zeros } from '../../core/creation.js';
import { allocArray, type DType, type FloatArray } from '../../core/dtype.js';
import { DTypeError, ShapeError } from '../../core/errors.js';
import { fmt, sameShape } from '../../core/shape.js';
import { Tensor } from '../../core/tensor.js';
import { cat, split, stack, unbind } from '../../ops/shape.js';
import { fromStorage, record, recordMany, requireFloat } from '../../ops/util.js';

/** A tensor's elements as a flat row-major array starting at `o` (the live storage when contiguous). */
interface Flat {
  a: FloatArray;
  o: number;
}

function flat(t: Tensor): Flat {
  const b = t.storage.backend;
  if (t.isContiguous()) return { a: b.read(t.storage) as FloatArray, o: t.offset };
  return { a: b.read(b.copy(t, t.dtype)) as FloatArray, o: 0 };
}

/** Wraps a fresh array as a tensor on `like`'s backend. */
function wrap(like: Tensor, data: FloatArray, shape: number[]): Tensor {
  return fromStorage(like.storage.backend.fromArray(data), shape);
}

/** Checks that `t` has shape `want` and the dtype of `ref` (named `refName` in the message). */
function checkSame(
  op: string,
  what: string,
  t: Tensor,
  want: readonly number[],
  ref: Tensor,
  refName = 'the gates',
): void {
  if (!sameShape(t.shape, want)) {
    throw new ShapeError(`${op}: expected ${what} of shape ${fmt(want)}, got ${fmt(t.shape)}`);
  }
  if (t.dtype !== ref.dtype) {
    throw new DTypeError(`${op}: ${what} has dtype ${t.dtype}, expected ${ref.dtype} like ${refName}`);
  }
}

/** Checks 2-d gates [B, k*H] with H > 0; returns [B, H]. */
function gateDims(op: string, gates: Tensor, k: number, layout: string): [number, number] {
  requireFloat(op, gates);
  const G = gates.shape[1] ?? 0;
  if (gates.ndim !== 2 || G === 0 || G % k !== 0) {
    throw new ShapeError(`${op}: expected gates of shape [B, ${k} * H] (${layout}), got ${fmt(gates.shape)}`);
  }
  return [gates.shape[0]!, G / k];
}

// ---------------------------------------------------------------------------------------------
// Scalar activations
// ---------------------------------------------------------------------------------------------

// Float32 results use a table-driven exp (2^(k/32) * 2^m * polynomial, relative error ~1e-12, far
// below float32 rounding) that is several times faster than Math.exp / Math.tanh; float64 results
// use Math.exp / Math.tanh so they stay exact to double rounding (finite-difference gradchecks).
const EXP_TABLE = Float64Array.from({ length: 32 }, (_, j) => 2 ** (j / 32));
const POW2_OFFSET = 1100;
const POW2 = Float64Array.from({ length: 2 * POW2_OFFSET + 1 }, (_, m) => 2 ** (m - POW2_OFFSET));
const INV_STEP = 32 / Math.LN2;
/** ln2 / 32 split in a high part with trailing zero bits and the rest, for an exact k * STEP_HI. */
const STEP_HI = 0.021660849390173098;
const STEP_LO = Math.LN2 / 32 - STEP_HI;
/** Adding and subtracting 1.5 * 2^52 rounds a double to an integer. */
const ROUND = 6755399441055744;

/** Fast exp(x) (x clamped to [-745, 709]; NaN propagates). */
function fastExp(x: number): number {
  const y = Math.min(Math.max(x, -745), 709);
  // y = (k / 32) ln2 + r with |r| <= ln2 / 64; exp(y) = 2^(k/32) exp(r).
  const kd = y * INV_STEP + ROUND - ROUND;
  const k = kd | 0;
  const r = y - kd * STEP_HI - kd * STEP_LO;
  const s = EXP_TABLE[k & 31]! * POW2[(k >> 5) + POW2_OFFSET]!;
  return s * (1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24)))));
}

/** Fast tanh(x) = expm1(2x) / (expm1(2x) + 2), with expm1 computed without cancellation near 0. */
function fastTanh(x: number): number {
  const y = 2 * Math.min(Math.max(x, -20), 20);
  const kd = y * INV_STEP + ROUND - ROUND;
  const k = kd | 0;
  const r = y - kd * STEP_HI - kd * STEP_LO;
  const s = EXP_TABLE[k & 31]! * POW2[(k >> 5) + POW2_OFFSET]!;
  // expm1(y) = s (expm1(r) + 1) - 1 = s expm1(r) + (s - 1), exact for k = 0.
  const e = s * (r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120)))))) + (s - 1);
  return e / (e + 2);
}

function sigmoid(x: number, f32: boolean): number {
  return 1 / (1 + (f32 ? fastExp(-x) : Math.exp(-x)));
}

function tanh(x: number, f32: boolean): number {
  return f32 ? fastTanh(x) : Math.tanh(x);
}

/** s * (1 - s): the derivative of the sigmoid from its output, as differentiable ops. */
const dSigmoid = (s: Tensor): Tensor => s.mul(s.neg().add(1));
/** 1 - t²: the derivative of tanh from its output, as differentiable ops. */
const dTanh = (t: Tensor): Tensor => t.mul(t).neg().add(1);

// ---------------------------------------------------------------------------------------------
// LSTM kernels (one time step over [B, H]; the arrays may be slices of whole-sequence buffers)
// ---------------------------------------------------------------------------------------------

/** A flat array and the offset of a [B, ...] block in it. */
type At = [FloatArray, number];

/**
 * Forward of one LSTM step: pre-activations z + hp + bias ([B, 4H], [B, 4H], [4H]) and cPrev [B, H]
 * give c and h [B, H]; the activated gates go to `act` [B, 4H] (which may be z itself: each element
 * is read before it is overwritten). Each gate block is its own loop with one activation, which V8
 * inlines.
 */
function lstmStepForward(
  z: At,
  hp: At,
  bias: At,
  cPrev: At,
  c: At,
  h: At,
  act: At,
  B: number,
  H: number,
  f32: boolean,
): void {
  const [za, zo] = z;
  const [pa, po] = hp;
  const [ba, bo] = bias;
  const [aa, ao] = act;
  const [qa, qo] = cPrev;
  const [ca, co] = c;
  const [ha, ho] = h;
  const G = 4 * H;
  for (let b = 0; b < B; b++) {
    const zr = zo + b * G;
    const pr = po + b * G;
    const ar = ao + b * G;
    if (f32) {
      for (let k = 0; k < 2 * H; k++)
        aa[ar + k] = 1 / (1 + fastExp(-(za[zr + k]! + pa[pr + k]! + ba[bo + k]!)));
      for (let k = 2 * H; k < 3 * H; k++) aa[ar + k] = fastTanh(za[zr + k]! + pa[pr + k]! + ba[bo + k]!);
      for (let k = 3 * H; k < G; k++)
        aa[ar + k] = 1 / (1 + fastExp(-(za[zr + k]! + pa[pr + k]! + ba[bo + k]!)));
    } else {
      for (let k = 0; k < 2 * H; k++)
        aa[ar + k] = 1 / (1 + Math.exp(-(za[zr + k]! + pa[pr + k]! + ba[bo + k]!)));
      for (let k = 2 * H; k < 3 * H; k++) aa[ar + k] = Math.tanh(za[zr + k]! + pa[pr + k]! + ba[bo + k]!);
      for (let k = 3 * H; k < G; k++)
        aa[ar + k] = 1 / (1 + Math.exp(-(za[zr + k]! + pa[pr + k]! + ba[bo + k]!)));
    }
    const row = b * H;
    for (let j = 0; j < H; j++) {
      const cn = aa[ar + H + j]! * qa[qo + row + j]! + aa[ar + j]! * aa[ar + 2 * H + j]!;
      ca[co + row + j] = cn;
      ha[ho + row + j] = aa[ar + 3 * H + j]! * (f32 ? fastTanh(cn) : Math.tanh(cn));
    }
  }
}

/** A zero-filled array of `dt` with `n` elements, shared: callers only read it. */
function zerosOf(dt: DType, n: number): At {
  const key = `${dt}:${n}`;
  let a = ZEROS.get(key);
  if (!a) {
    a = allocArray(dt, n) as FloatArray;
    if (ZEROS.size > 16) ZEROS.clear();
    ZEROS.set(key, a);
  }
  return [a, 0];
}
const ZEROS = new Map<string, FloatArray>();

/**
 * Backward of one LSTM step. `act` [B, 4H] holds the activated gates, `c`/`cPrev` [B, H] the new and
 * previous cell states; the gradient of h is dh + dh2 (either may be absent), that of c is `dc`.
 * Writes the gradient of the pre-activations to `dz` [B, 4H] (it may alias `act`) and that of cPrev
 * to `dcPrev` (it may alias `dc`); adds the column sums of dz to `dbias` [4H] when given.
 */
function lstmStepBackward(
  act: At,
  c: At,
  cPrev: At,
  dh: At | null,
  dh2: At | null,
  dc: At | null,
  dz: At,
  dcPrev: At | null,
  dbias: Float64Array | null,
  B: number,
  H: number,
  f32: boolean,
): void {
  const [aa, ao] = act;
  const [ca, co] = c;
  const [pa, po] = cPrev;
  const [da, dzo] = dz;
  for (let b = 0; b < B; b++) {
    const row = b * H;
    const ar = ao + 4 * row;
    const dr = dzo + 4 * row;
    for (let j = 0; j < H; j++) {
      const i = aa[ar + j]!;
      const f = aa[ar + H + j]!;
      const g = aa[ar + 2 * H + j]!;
      const o = aa[ar + 3 * H + j]!;
      const cv = ca[co + row + j]!;
      const t = f32 ? fastTanh(cv) : Math.tanh(cv);
      let gh = dh ? dh[0][dh[1] + row + j]! : 0;
      if (dh2) gh += dh2[0][dh2[1] + row + j]!;
      const dct = (dc ? dc[0][dc[1] + row + j]! : 0) + gh * o * (1 - t * t);
      const di = dct * g * i * (1 - i);
      const df = dct * pa[po + row + j]! * f * (1 - f);
      const dg = dct * i * (1 - g * g);
      const dO = gh * t * o * (1 - o);
      da[dr + j] = di;
      da[dr + H + j] = df;
      da[dr + 2 * H + j] = dg;
      da[dr + 3 * H + j] = dO;
      if (dcPrev) dcPrev[0][dcPrev[1] + row + j] = dct * f;
      if (dbias) {
        dbias[j]! += di;
        dbias[H + j]! += df;
        dbias[2 * H + j]! += dg;
        dbias[3 * H + j]! += dO;
      }
    }
  }
}

function at(t: Tensor): At {
  const f = flat(t);
  return [f.a, f.o];
}

// ---------------------------------------------------------------------------------------------
// LSTM cell
// ---------------------------------------------------------------------------------------------

/**
 * One LSTM step from its gate pre-activations. `gates` [B, 4H] holds the pre-activations of the
 * gates i, f, g, o (PyTorch's order), i.e. x W_ihᵀ + b_ih + h W_hhᵀ + b_hh; when `hGates` [B, 4H] is
 * given it is added to `gates` first (so the input and hidden projections need no separate add).
 * Computes i, f, o = σ(·), g = tanh(·), c = f cPrev + i g, h = o tanh(c) and returns `[h, c]`
 * (each [B, H]). Forward and backward are each one fused loop; gradients flow to `gates`, `cPrev`
 * and `hGates` from either output or both.
 */
export function lstmCell(gates: Tensor, cPrev: Tensor, hGates?: Tensor | null): [Tensor, Tensor] {
  const op = 'lstmCell';
  const [B, H] = gateDims(op, gates, 4, 'gates i, f, g, o');
  checkSame(op, 'cPrev', cPrev, [B, H], gates);
  if (hGates) checkSame(op, 'hGates', hGates, gates.shape, gates);
  const inputs = hGates ? [gates, cPrev, hGates] : [gates, cPrev];
  const track = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  const dt = gates.dtype;
  const f32 = dt === 'float32';
  const n = B * H;
  const h = allocArray(dt, n) as FloatArray;
  const c = allocArray(dt, n) as FloatArray;
  // The activated gates [B, 4H], saved for backward (with c, to recompute tanh(c)).
  const act = allocArray(dt, 4 * n) as FloatArray;
  lstmStepForward(
    at(gates),
    hGates ? at(hGates) : zerosOf(dt, 4 * n),
    zerosOf(dt, 4 * H),
    at(cPrev),
    [c, 0],
    [h, 0],
    [act, 0],
    B,
    H,
    f32,
  );
  const hT = wrap(gates, h, [B, H]);
  const cT = wrap(gates, c, [B, H]);
  if (!track) return [hT, cT];

  // Two outputs, one backward (once the gradients of both, or of the only one used, have arrived).
  const [h1, c1] = recordMany(
    [hT, cT],
    'LSTMCellBackward',
    ['LSTMCellH', 'LSTMCellC'],
    inputs,
    ([gh, gc], needs) => {
      let dz: Tensor;
      let dcp: Tensor | null = null;
      if (isGradEnabled()) {
        const z = hGates ? gates.add(hGates) : gates;
        [dz, dcp] = lstmBackwardComposite(z, cPrev, gh ?? null, gc ?? null, H);
      } else {
        const dzA = allocArray(dt, 4 * n) as FloatArray;
        const dcA = needs[1] ? (allocArray(dt, n) as FloatArray) : null;
        lstmStepBackward(
          [act, 0],
          [c, 0],
          at(cPrev),
          gh && at(gh),
          null,
          gc && at(gc),
          [dzA, 0],
          dcA && [dcA, 0],
          null,
          B,
          H,
          f32,
        );
        dz = wrap(gates, dzA, [B, 4 * H]);
        if (dcA) dcp = wrap(gates, dcA, [B, H]);
      }
      return [needs[0] ? dz : null, needs[1] ? dcp : null, needs[2] ? dz : null];
    },
    [...inputs, cT],
  );
  return [h1!, c1!];
}

/** The LSTM cell's backward as differentiable ops (for createGraph): [dGates, dcPrev]. */
function lstmBackwardComposite(
  z: Tensor,
  cp: Tensor,
  dh: Tensor | null,
  dc: Tensor | null,
  H: number,
): [Tensor, Tensor] {
  const [pi, pf, pg, po] = split(z, H, 1);
  const i = pi!.sigmoid();
  const f = pf!.sigmoid();
  const g = pg!.tanh();
  const o = po!.sigmoid();
  const t = f.mul(cp).add(i.mul(g)).tanh();
  let dct = dc;
  if (dh) {
    const viaH = dh.mul(o).mul(dTanh(t));
    dct = dct ? dct.add(viaH) : viaH;
  }
  const d = dct!;
  const dO = dh ? dh.mul(t).mul(dSigmoid(o)) : zeros(o.shape, { dtype: o.dtype });
  const dz = cat([d.mul(g).mul(dSigmoid(i)), d.mul(cp).mul(dSigmoid(f)), d.mul(i).mul(dTanh(g)), dO], 1);
  return [dz, d.mul(f)];
}

// ---------------------------------------------------------------------------------------------
// LSTM layer (whole sequence)
// ---------------------------------------------------------------------------------------------

/**
 * A whole LSTM layer in one direction over a sequence, as one op (like cuDNN's fused RNN): the input
 * projection of all steps is one matmul, each step one hidden-state matmul plus a fused cell loop,
 * and the backward pass one fused loop per step plus one matmul each for the weight gradients of all
 * steps together. `x` [T, B, inputSize], `wih` [4H, inputSize], `whh` [4H, H] (gate order i, f, g, o),
 * `bias` [4H] (b_ih + b_hh; null: none), `h0`, `c0` [B, H] (null: zeros). With `reverse` the steps
 * run from t = T - 1 down to 0. Returns `[output, hN, cN]`: output [T, B, H] holds h_t of every step
 * (at its time index), hN and cN [B, H] the state after the last step processed. Float32 layers run in
 * the backend's own `lstmLayer` where it has one (the `wasm` backend: time loop and backward in
 * WebAssembly memory); the TypeScript loop here otherwise. Second-order gradients (createGraph) use
 * differentiable ops either way.
 */
export function lstmLayer(
  x: Tensor,
  wih: Tensor,
  whh: Tensor,
  bias: Tensor | null,
  h0: Tensor | null,
  c0: Tensor | null,
  reverse = false,
): [Tensor, Tensor, Tensor] {
  const op = 'lstmLayer';
  requireFloat(op, x);
  if (x.ndim !== 3 || x.shape[0] === 0) {
    throw new ShapeError(
      `${op}: expected an input of shape [T, B, inputSize] with T > 0, got ${fmt(x.shape)}`,
    );
  }
  const [T, B, I] = x.shape as [number, number, number];
  const H = whh.ndim === 2 ? whh.shape[1]! : 0;
  const G = 4 * H;
  if (H === 0) {
    throw new ShapeError(`${op}: expected whh of shape [4 * H, H] with H > 0, got ${fmt(whh.shape)}`);
  }
  checkSame(op, 'whh', whh, [G, H], x, 'the input');
  checkSame(op, 'wih', wih, [G, I], x, 'the input');
  if (bias) checkSame(op, 'bias', bias, [G], x, 'the input');
  if (h0) checkSame(op, 'h0', h0, [B, H], x, 'the input');
  if (c0) checkSame(op, 'c0', c0, [B, H], x, 'the input');
  const inputs = [x, wih, whh];
  const ib = bias ? inputs.push(bias) - 1 : -1;
  const ih = h0 ? inputs.push(h0) - 1 : -1;
  const ic = c0 ? inputs.push(c0) - 1 : -1;
  const track = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  const dt = x.dtype;
  const f32 = dt === 'float32';
  const backend = x.storage.backend;
  const BH = B * H;
  const BG = B * G;
  // State slots 0..T of h and c: the initial state first (last when reversed), then step by step.
  const prevSlot = (t: number): number => (reverse ? t + 1 : t);
  const ownSlot = (t: number): number => (reverse ? t : t + 1);
  const whhT = whh.t();
  const biasAt = bias ? at(bias) : zerosOf(dt, G);
  const x2 = noGrad(() => x.reshape([T * B, I]));
  const fused = f32 && B > 0 ? backend.lstmLayer : undefined;
  let hbuf: FloatArray;
  let cbuf: FloatArray | null = null;
  let hNa: FloatArray;
  let cNa: FloatArray;
  /** The gradients [x, wih, whh, bias, h0, c0] by the fast path (no graph recorded). */
  let fastBackward: (
    go: Tensor | null,
    gh: Tensor | null,
    gc: Tensor | null,
    needs: readonly boolean[],
  ) => (Tensor | null)[];
  if (fused) {
    // The backend runs the whole layer (forward and backward) in its own kernels.
    const run = fused.call(backend, x, wih, whh, bias, h0, c0, reverse, track);
    hbuf = run.h;
    hNa = run.hN;
    cNa = run.cN;
    const shapes = [x.shape, wih.shape, whh.shape, [G], [B, H], [B, H]];
    fastBackward = (go, gh, gc, needs) =>
      run.backward!(go, gh, gc, needs).map((a, k) => (a ? wrap(x, a, [...shapes[k]!]) : null));
  } else {
    const lay = lstmLayerJs(x2, wih, whh, biasAt, h0, c0, reverse, T, B, H);
    hbuf = lay.hbuf;
    cbuf = lay.cbuf;
    const last = reverse ? 0 : T;
    hNa = hbuf.slice(last * BH, (last + 1) * BH);
    cNa = cbuf.slice(last * BH, (last + 1) * BH);
    let acts: FloatArray | null = lay.acts;
    fastBackward = (go, gh, gc, needs) => {
      // A second backward (retainGraph) finds the gates overwritten: recompute them.
      const z = acts ?? recomputeGates();
      acts = null;
      const cb = cbuf!;
      const goAt = go ? at(go) : null;
      let dh: At | null = gh && at(gh);
      const dc = allocArray(dt, BH) as FloatArray;
      if (gc) copyTo(gc, dc, 0);
      const db = needs[3] ? new Float64Array(G) : null;
      const byWhh = fixedRightProduct(backend, whh, false, dt);
      for (let n = T - 1; n >= 0; n--) {
        const t = reverse ? T - 1 - n : n;
        const a: At = [z, t * BG];
        const p = prevSlot(t) * BH;
        lstmStepBackward(
          a,
          [cb, ownSlot(t) * BH],
          [cb, p],
          dh,
          goAt && [goAt[0], goAt[1] + t * BH],
          [dc, 0],
          a,
          [dc, 0],
          db,
          B,
          H,
          f32,
        );
        // The gradient of h_{t-1} through this step's hidden matmul (its slot of z is final now).
        dh = n > 0 || needs[4] ? [byWhh(z, t * BG, B, G), 0] : null;
      }
      const dZ = new Tensor(backend.fromArray(z), [T * B, G]);
      const grads: (Tensor | null)[] = [null, null, null, null, null, null];
      if (needs[0]) grads[0] = dZ.matmul(wih).reshape([T, B, I]);
      if (needs[1]) grads[1] = dZ.t().matmul(x2);
      if (needs[2]) {
        const hPrev = new Tensor(hAll.storage, [T * B, H], undefined, (reverse ? 1 : 0) * BH);
        grads[2] = dZ.t().matmul(hPrev);
      }
      if (db) grads[3] = wrap(x, toDtype(db, dt), [G]);
      if (needs[4]) grads[4] = wrap(x, dh![0], [B, H]);
      if (needs[5]) grads[5] = wrap(x, dc, [B, H]);
      return grads;
    };
  }
  // Wrapped only now that every slot is written (a backend may copy the array it is given).
  const hAll = new Tensor(backend.fromArray(hbuf), [T + 1, B, H]);
  // The output views the saved states: changing it in place makes backward fail (saved-value check).
  const out = new Tensor(hAll.storage, [T, B, H], undefined, (reverse ? 0 : 1) * BH);
  const hN = wrap(x, hNa, [B, H]);
  const cN = wrap(x, cNa, [B, H]);
  if (!track) return [out, hN, cN];

  // Three outputs, one backward (see recordMany).
  const [outR, hR, cR] = recordMany(
    [out, hN, cN],
    'LSTMLayerBackward',
    ['LSTMLayerOutput', 'LSTMLayerH', 'LSTMLayerC'],
    inputs,
    ([go, gh, gc], needs) => {
      // Positions of the inputs among [x, wih, whh, bias, h0, c0].
      const pos = [0, 1, 2, ib, ih, ic];
      if (isGradEnabled()) {
        const r = lstmLayerComposite(x, wih, whh, bias, h0, c0, reverse, go ?? null, gh ?? null, gc ?? null);
        return inputs.map((_, k) => (needs[k] ? r[pos.indexOf(k)]! : null));
      }
      const want = pos.map((k) => k >= 0 && needs[k] === true);
      const r = fastBackward(go ?? null, gh ?? null, gc ?? null, want);
      return inputs.map((_, k) => (needs[k] ? r[pos.indexOf(k)]! : null));
    },
    [...inputs, hAll],
  );

  /** The activated gates of every step again, from the saved states (for a repeated backward). */
  function recomputeGates(): FloatArray {
    return noGrad(() => {
      const hPrev = new Tensor(hAll.storage, [T * B, H], undefined, (reverse ? 1 : 0) * BH);
      const z = at(x2.matmul(wih.t()))[0];
      const hp = at(hPrev.matmul(whhT))[0];
      const scratch = allocArray(dt, 2 * BH) as FloatArray;
      for (let t = 0; t < T; t++) {
        const a: At = [z, t * BG];
        const pc: At = [cbuf!, prevSlot(t) * BH];
        lstmStepForward(a, [hp, t * BG], biasAt, pc, [scratch, 0], [scratch, BH], a, B, H, f32);
      }
      return z;
    });
  }

  return [outR!, hR!, cR!];
}

/**
 * The forward loop of `lstmLayer` in TypeScript (backends without `lstmLayer`, and float64): the h and
 * c states in slots 0..T ([T + 1, B, H] each; the initial state in slot 0, slot T when reversed) and the
 * activated gates of every step [T * B, 4H].
 */
function lstmLayerJs(
  x2: Tensor,
  wih: Tensor,
  whh: Tensor,
  biasAt: At,
  h0: Tensor | null,
  c0: Tensor | null,
  reverse: boolean,
  T: number,
  B: number,
  H: number,
): { hbuf: FloatArray; cbuf: FloatArray; acts: FloatArray } {
  const dt = x2.dtype;
  const f32 = dt === 'float32';
  const backend = x2.storage.backend;
  const BH = B * H;
  const BG = 4 * BH;
  const slot0 = reverse ? T : 0;
  const hbuf = allocArray(dt, (T + 1) * BH) as FloatArray;
  const cbuf = allocArray(dt, (T + 1) * BH) as FloatArray;
  if (h0) copyTo(h0, hbuf, slot0 * BH);
  if (c0) copyTo(c0, cbuf, slot0 * BH);
  // Pre-activations of all steps; overwritten in place by the activated gates, and in backward by
  // their gradients. The projection is a fresh result that nothing else references.
  const acts = noGrad(() => at(x2.matmul(wih.t()))[0]);
  noGrad(() => {
    const byWhhT = fixedRightProduct(backend, whh, true, dt);
    for (let n = 0; n < T; n++) {
      const t = reverse ? T - 1 - n : n;
      const p = (reverse ? t + 1 : t) * BH;
      const own = (reverse ? t : t + 1) * BH;
      const hp: At = n > 0 || h0 ? [byWhhT(hbuf, p, B, H), 0] : zerosOf(dt, BG);
      const a: At = [acts, t * BG];
      lstmStepForward(a, hp, biasAt, [cbuf, p], [cbuf, own], [hbuf, own], a, B, H, f32);
    }
  });
  return { hbuf, cbuf, acts };
}

/** Copies the elements of `t` (row-major) into `dst` at `offset`. */
function copyTo(t: Tensor, dst: FloatArray, offset: number): void {
  const [a, o] = at(t);
  dst.set(a.subarray(o, o + t.numel()), offset);
}

/**
 * The products of [rows, k] blocks of arrays (final: handed to the backend as they are) with `w`ᵀ
 * (`transposed`, w [n, k]) or `w` (w [k, n]), straight through the backend's kernel: the per-step
 * products of the recurrence skip the op layer (no graph is recorded here anyway), and a backend with
 * `matmulFixedRight` keeps `w` where its kernels read it for the whole loop (`w` does not change during it).
 */
function fixedRightProduct(
  backend: Backend,
  w: Tensor,
  transposed: boolean,
  dt: DType,
): (data: FloatArray, offset: number, rows: number, k: number) => FloatArray {
  const [s0, s1] = w.strides as [number, number];
  const b: View = {
    storage: w.storage,
    shape: transposed ? [1, w.shape[1]!, w.shape[0]!] : [1, w.shape[0]!, w.shape[1]!],
    strides: transposed ? [0, s1, s0] : [0, s0, s1],
    offset: w.offset,
  };
  const product = backend.matmulFixedRight?.(b, dt) ?? ((a: View) => backend.matmul(a, b, dt));
  return (data, offset, rows, k) => {
    const a: View = {
      storage: backend.fromArray(data.subarray(offset, offset + rows * k)),
      shape: [1, rows, k],
      strides: [rows * k, k, 1],
      offset: 0,
    };
    return backend.read(product(a)) as FloatArray;
  };
}

/** A copy of `a` as a fresh array of `dt`. */
function toDtype(a: Float64Array, dt: DType): FloatArray {
  const out = allocArray(dt, a.length) as FloatArray;
  out.set(a);
  return out;
}

/**
 * The LSTM layer's backward as differentiable ops (for createGraph): recomputes the steps with
 * tracked ops, then backpropagates through them by the same formulas. Returns the gradients of
 * [x, wih, whh, bias, h0, c0].
 */
function lstmLayerComposite(
  x: Tensor,
  wih: Tensor,
  whh: Tensor,
  bias: Tensor | null,
  h0: Tensor | null,
  c0: Tensor | null,
  reverse: boolean,
  gOut: Tensor | null,
  gH: Tensor | null,
  gC: Tensor | null,
): Tensor[] {
  const [T, B, I] = x.shape as [number, number, number];
  const H = whh.shape[1]!;
  const G = 4 * H;
  const opts = { dtype: x.dtype };
  const x2 = x.reshape([T * B, I]);
  let proj = x2.matmul(wih.t());
  if (bias) proj = proj.add(bias);
  const zIn = unbind(proj.reshape([T, B, G]), 0);
  const whhT = whh.t();
  const zs: Tensor[] = [];
  const hs: Tensor[] = [];
  const cs: Tensor[] = [];
  let h = h0 ?? zeros([B, H], opts);
  let c = c0 ?? zeros([B, H], opts);
  for (let n = 0; n < T; n++) {
    const t = reverse ? T - 1 - n : n;
    hs[t] = h;
    cs[t] = c;
    zs[t] = zIn[t]!.add(h.matmul(whhT));
    [h, c] = lstmCell(zs[t]!, c);
  }
  const gOs = gOut ? unbind(gOut, 0) : null;
  let dh = gH;
  let dc = gC;
  const dzs: Tensor[] = [];
  for (let n = T - 1; n >= 0; n--) {
    const t = reverse ? T - 1 - n : n;
    const dht = gOs ? (dh ? dh.add(gOs[t]!) : gOs[t]!) : dh;
    if (!dht && !dc) {
      dzs[t] = zeros([B, G], opts);
      continue;
    }
    const [dz, dcp] = lstmBackwardComposite(zs[t]!, cs[t]!, dht, dc, H);
    dzs[t] = dz;
    dc = dcp;
    dh = dz.matmul(whh);
  }
  const dZ = stack(dzs, 0).reshape([T * B, G]);
  return [
    dZ.matmul(wih).reshape([T, B, I]),
    dZ.t().matmul(x2),
    dZ.t().matmul(stack(hs, 0).reshape([T * B, H])),
    dZ.sum(0),
    dh ?? zeros([B, H], opts),
    dc ?? zeros([B, H], opts),
  ];
}

// ---------------------------------------------------------------------------------------------
// GRU
// ---------------------------------------------------------------------------------------------

/**
 * One GRU step from its gate pre-activations (PyTorch's order r, z, n). `xGates` [B, 3H] is the input
 * side x W_ihᵀ + b_ih (plus b_hr, b_hz if folded in), `hGates` [B, 3H] the hidden side h W_hhᵀ, `h`
 * [B, H] the previous state and `bhn` [H] the hidden bias of the n gate (null: none; the r and z
 * parts of b_hh can be added to either side). Computes r = σ(x_r + h_r), z = σ(x_z + h_z),
 * n = tanh(x_n + r (h_n + b_hn)) and returns h' = (1 - z) n + z h ([B, H]), with a fused backward.
 */
export function gruCell(xGates: Tensor, hGates: Tensor, h: Tensor, bhn?: Tensor | null): Tensor {
  const op = 'gruCell';
  const [B, H] = gateDims(op, xGates, 3, 'gates r, z, n');
  checkSame(op, 'hGates', hGates, xGates.shape, xGates);
  checkSame(op, 'h', h, [B, H], xGates);
  if (bhn) checkSame(op, 'bhn', bhn, [H], xGates);
  const inputs = bhn ? [xGates, hGates, h, bhn] : [xGates, hGates, h];
  const track = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  const n = B * H;
  const out = allocArray(xGates.dtype, n) as FloatArray;
  // Saved for backward: r, z, n and h_n + b_hn, as [B, 4H].
  const act = track ? (allocArray(xGates.dtype, 4 * n) as FloatArray) : null;
  const hp = flat(h);
  gruForward(
    flat(xGates),
    flat(hGates),
    hp,
    bhn ? flat(bhn) : null,
    B,
    H,
    out,
    act,
    xGates.dtype === 'float32',
  );
  const outT = wrap(xGates, out, [B, H]);
  if (!track) return outT;
  return record(
    outT,
    'GRUCellBackward',
    inputs,
    (g, needs) => {
      if (isGradEnabled()) {
        const r = gruBackwardComposite(xGates, hGates, h, bhn ?? null, g, H);
        return r.map((t, k) => (needs[k] ? t : null));
      }
      const dx = allocArray(xGates.dtype, 3 * n) as FloatArray;
      const dhg = needs[1] ? (allocArray(xGates.dtype, 3 * n) as FloatArray) : null;
      const dh = needs[2] ? (allocArray(xGates.dtype, n) as FloatArray) : null;
      const db = needs[3] ? (allocArray(xGates.dtype, H) as FloatArray) : null;
      gruBackward(act!, flat(h), flat(g), B, H, dx, dhg, dh, db);
      return [
        needs[0] ? wrap(xGates, dx, [B, 3 * H]) : null,
        dhg ? wrap(xGates, dhg, [B, 3 * H]) : null,
        dh ? wrap(xGates, dh, [B, H]) : null,
        db ? wrap(xGates, db, [H]) : null,
      ];
    },
    inputs,
  );
}

function gruForward(
  x: Flat,
  hg: Flat,
  h: Flat,
  bhn: Flat | null,
  B: number,
  H: number,
  out: FloatArray,
  act: FloatArray | null,
  f32: boolean,
): void {
  const xa = x.a;
  const ha = hg.a;
  for (let b = 0; b < B; b++) {
    const xr = x.o + b * 3 * H;
    const hr = hg.o + b * 3 * H;
    const row = b * H;
    for (let j = 0; j < H; j++) {
      const r = sigmoid(xa[xr + j]! + ha[hr + j]!, f32);
      const z = sigmoid(xa[xr + H + j]! + ha[hr + H + j]!, f32);
      const hnb = ha[hr + 2 * H + j]! + (bhn ? bhn.a[bhn.o + j]! : 0);
      const nn = tanh(xa[xr + 2 * H + j]! + r * hnb, f32);
      out[row + j] = nn + z * (h.a[h.o + row + j]! - nn);
      if (act) {
        const ar = 4 * row;
        act[ar + j] = r;
        act[ar + H + j] = z;
        act[ar + 2 * H + j] = nn;
        act[ar + 3 * H + j] = hnb;
      }
    }
  }
}

function gruBackward(
  act: FloatArray,
  h: Flat,
  g: Flat,
  B: number,
  H: number,
  dx: FloatArray,
  dhg: FloatArray | null,
  dh: FloatArray | null,
  db: FloatArray | null,
): void {
  if (db) db.fill(0);
  for (let b = 0; b < B; b++) {
    const row = b * H;
    const ar = 4 * row;
    const xr = 3 * row;
    for (let j = 0; j < H; j++) {
      const r = act[ar + j]!;
      const z = act[ar + H + j]!;
      const nn = act[ar + 2 * H + j]!;
      const hnb = act[ar + 3 * H + j]!;
      const go = g.a[g.o + row + j]!;
      const dnp = go * (1 - z) * (1 - nn * nn);
      const dzp = go * (h.a[h.o + row + j]! - nn) * z * (1 - z);
      const drp = dnp * hnb * r * (1 - r);
      dx[xr + j] = drp;
      dx[xr + H + j] = dzp;
      dx[xr + 2 * H + j] = dnp;
      if (dhg) {
        dhg[xr + j] = drp;
        dhg[xr + H + j] = dzp;
        dhg[xr + 2 * H + j] = dnp * r;
      }
      if (dh) dh[row + j] = go * z;
      if (db) db[j] += dnp * r;
    }
  }
}

/** The GRU cell's backward as differentiable ops (for createGraph): [dxGates, dhGates, dh, dbhn]. */
function gruBackwardComposite(
  x: Tensor,
  hg: Tensor,
  h: Tensor,
  bhn: Tensor | null,
  g: Tensor,
  H: number,
): Tensor[] {
  const [xr, xz, xn] = split(x, H, 1);
  const [hr, hz, hn] = split(hg, H, 1);
  const r = xr!.add(hr!).sigmoid();
  const z = xz!.add(hz!).sigmoid();
  const hnb = bhn ? hn!.add(bhn) : hn!;
  const n = xn!.add(r.mul(hnb)).tanh();
  const dnp = g.mul(z.neg().add(1)).mul(dTanh(n));
  const dzp = g.mul(h.sub(n)).mul(dSigmoid(z));
  const drp = dnp.mul(hnb).mul(dSigmoid(r));
  const dnr = dnp.mul(r);
  return [cat([drp, dzp, dnp], 1), cat([drp, dzp, dnr], 1), g.mul(z), dnr.sum(0)];
}
