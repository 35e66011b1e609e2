/**
 * Recurrent layers: `RNN` (tanh or ReLU), `LSTM` and `GRU`, and their single-step cells `RNNCell`,
 * `LSTMCell` and `GRUCell`, with PyTorch's parameter names, shapes, gate order and initialisation.
 * Training is backpropagation through time: the loop over time steps records the autograd graph.
 *
 * An LSTM layer (per layer and direction) is one fused op, `lstmLayer`, that runs the time loop and
 * its backward inside. RNN and GRU compute the input projections of all time steps with one matmul;
 * each step then does one hidden-state matmul for all gates and, for GRU, one fused cell op
 * (`gruCell`; `LSTMCell` uses `lstmCell`).
 * @module
 */
import { isGradEnabled } from '../../autograd/grad-mode.js';
import { empty, zeros } from '../../core/creation.js';
import type { DType } from '../../core/dtype.js';
import { ShapeError, ValueError } from '../../core/errors.js';
import { fmt, sameShape } from '../../core/shape.js';
import { Tensor } from '../../core/tensor.js';
import { cat, stack } from '../../ops/shape.js';
import { record, scalarTensor } from '../../ops/util.js';
import { dropout, linear } from '../functional/basic.js';
import { gruCell, lstmCell, lstmLayer } from '../functional/rnn-cell.js';
import { uniform_ } from '../init.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';

// ---------------------------------------------------------------------------------------------
// Splitting into views with a single gradient node
// ---------------------------------------------------------------------------------------------

/**
 * Splits `x` along `dim` into views of the given sizes (with `squeeze`, every size is 1 and the dim is
 * dropped, like `unbind`). Unlike `narrow`/`select`, whose gradients each fill a zero tensor of the
 * whole input, the pieces here report their gradients to one shared node that concatenates them
 * once, so slicing a [T, B, G] projection into T steps costs O(T) rather than O(T²) in backward.
 * The concatenation is a differentiable op, so higher-order gradients still work.
 */
function splitViews(x: Tensor, dim: number, sizes: readonly number[], squeeze = false): Tensor[] {
  const base = x.base ?? x;
  const shapes: number[][] = [];
  const views: Tensor[] = [];
  let start = 0;
  for (const size of sizes) {
    const shape = x.shape.slice();
    const strides = x.strides.slice();
    shape[dim] = size;
    const offset = x.offset + start * x.strides[dim]!;
    shapes.push(shape);
    if (squeeze) {
      shape.splice(dim, 1);
      strides.splice(dim, 1);
    }
    const v = new Tensor(x.storage, shape, strides, offset);
    v.base = base;
    views.push(v);
    start += size;
  }
  if (!isGradEnabled() || !x.requiresGrad) return views;
  const slots: (Tensor | null)[] = sizes.map(() => null);
  const hub = record(scalarTensor(0, x.dtype), 'SplitBackward', [x], () => {
    const gs = slots.map((g, k) => g ?? zeros(squeezed(shapes[k]!, dim, squeeze), { dtype: x.dtype }));
    slots.fill(null);
    return [squeeze ? stack(gs, dim) : cat(gs, dim)];
  });
  return views.map((v, k) =>
    record(v, 'SplitView', [hub], (g) => {
      slots[k] = slots[k] ? slots[k]!.add(g) : g;
      return [scalarTensor(0, g.dtype)];
    }),
  );
}

function squeezed(shape: readonly number[], dim: number, squeeze: boolean): number[] {
  const s = shape.slice();
  if (squeeze) s.splice(dim, 1);
  return s;
}

// ---------------------------------------------------------------------------------------------
// One time step of each cell type
// ---------------------------------------------------------------------------------------------

/** Recurrent cell kinds: RNN with tanh or ReLU, LSTM (gates i, f, g, o) and GRU (gates r, z, n). */
type Mode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

const GATES: Record<Mode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };

/**
 * Weights of one layer and direction prepared for stepping: `whhT` is W_hh transposed ([H, G*H]),
 * `hb` the hidden-side bias the step must add itself (GRU's b_hn; null otherwise, because the other
 * hidden biases are folded into the input projection).
 */
interface StepWeights {
  whhT: Tensor;
  hb: Tensor | null;
}

/**
 * Advances the state one step. `xp` [B, G*H] is the input projection of this step with the foldable
 * biases included; `state` is [h] or [h, c]. Returns the new state.
 */
function step(mode: Mode, xp: Tensor, state: readonly Tensor[], w: StepWeights): Tensor[] {
  const h = state[0]!;
  const hp = h.matmul(w.whhT);
  switch (mode) {
    case 'RNN_TANH':
      return [xp.add(hp).tanh()];
    case 'RNN_RELU':
      return [xp.add(hp).relu()];
    case 'LSTM':
      return lstmCell(xp, state[1]!, hp);
    case 'GRU':
      return [gruCell(xp, hp, h, w.hb)];
  }
}

/**
 * The input-side bias of one layer and direction with the hidden-side biases folded in where the
 * cell allows it (all of b_hh except GRU's b_hn, which is multiplied by the reset gate), and the
 * hidden-side bias left for the step.
 */
function foldBiases(
  mode: Mode,
  bih: Tensor | null,
  bhh: Tensor | null,
  H: number,
): { xb: Tensor | null; hb: Tensor | null } {
  if (!bih || !bhh) return { xb: null, hb: null };
  if (mode !== 'GRU') return { xb: bih.add(bhh), hb: null };
  const [brz, bn] = splitViews(bhh, 0, [2 * H, H]);
  return { xb: bih.add(cat([brz!, zeros([H], { dtype: bhh.dtype })])), hb: bn! };
}

// ---------------------------------------------------------------------------------------------
// Options and shared initialisation
// ---------------------------------------------------------------------------------------------

/** Options of `RNN`, `LSTM` and `GRU` (PyTorch's defaults). */
export interface RNNBaseOptions {
  /** Number of features of each input step. */
  inputSize: number;
  /** Number of features of the hidden state. */
  hiddenSize: number;
  /** Number of stacked recurrent layers (default 1). */
  numLayers?: number;
  /** Learn the biases b_ih and b_hh (default true). */
  bias?: boolean;
  /** Input and output are [batch, seq, feature] instead of [seq, batch, feature] (default false). */
  batchFirst?: boolean;
  /** Dropout probability on the outputs of every layer but the last, in training mode (default 0). */
  dropout?: number;
  /** Also run each layer backwards over time and concatenate both outputs (default false). */
  bidirectional?: boolean;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/** Options of `RNN`. */
export interface RNNOptions extends RNNBaseOptions {
  /** Activation of the Elman cell (default 'tanh'). */
  nonlinearity?: 'tanh' | 'relu';
}

/** Options of the cells. */
export interface RNNCellBaseOptions {
  /** Learn the biases b_ih and b_hh (default true). */
  bias?: boolean;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/** Options of `RNNCell`. */
export interface RNNCellOptions extends RNNCellBaseOptions {
  /** Activation (default 'tanh'). */
  nonlinearity?: 'tanh' | 'relu';
}

function checkSize(layer: string, what: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) {
    throw new ValueError(`${layer}: ${what} must be an integer >= ${min}, got ${v}`);
  }
}

function nonlinearityMode(layer: string, v: string | undefined): Mode {
  const nl = v ?? 'tanh';
  if (nl !== 'tanh' && nl !== 'relu') {
    throw new ValueError(`${layer}: unknown nonlinearity '${nl}' (expected 'tanh' or 'relu')`);
  }
  return nl === 'tanh' ? 'RNN_TANH' : 'RNN_RELU';
}

/** A parameter of `shape` drawn from U(-1/sqrt(hidden), 1/sqrt(hidden)), as PyTorch initialises RNNs. */
function rnnParam(shape: number[], hidden: number, dtype: DType): Parameter {
  const p = new Parameter(empty(shape, { dtype }));
  const k = hidden > 0 ? 1 / Math.sqrt(hidden) : 0;
  uniform_(p, -k, k);
  return p;
}

function stateName(mode: Mode, i: number): string {
  return mode === 'LSTM' ? (i === 0 ? 'h0' : 'c0') : 'h0';
}

// ---------------------------------------------------------------------------------------------
// Multi-layer recurrent networks
// ---------------------------------------------------------------------------------------------

/** Shared implementation of `RNN`, `LSTM` and `GRU`. */
export abstract class RNNBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /** The cell kind. */
  protected readonly mode: Mode;

  protected constructor(mode: Mode, options: RNNBaseOptions) {
    super();
    const layer = mode.startsWith('RNN') ? 'RNN' : mode;
    this.mode = mode;
    this.inputSize = options.inputSize;
    this.hiddenSize = options.hiddenSize;
    this.numLayers = options.numLayers ?? 1;
    this.bias = options.bias ?? true;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = options.dropout ?? 0;
    this.bidirectional = options.bidirectional ?? false;
    checkSize(layer, 'inputSize', this.inputSize, 0);
    checkSize(layer, 'hiddenSize', this.hiddenSize, 1);
    checkSize(layer, 'numLayers', this.numLayers, 1);
    if (!(this.dropout >= 0 && this.dropout <= 1)) {
      throw new ValueError(`${layer}: dropout must be a probability in [0, 1], got ${this.dropout}`);
    }
    const dtype = options.dtype ?? 'float32';
    const H = this.hiddenSize;
    const G = GATES[mode] * H;
    const D = this.bidirectional ? 2 : 1;
    for (let l = 0; l < this.numLayers; l++) {
      const inF = l === 0 ? this.inputSize : H * D;
      for (let d = 0; d < D; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        this.register(`weight_ih${sfx}`, rnnParam([G, inF], H, dtype));
        this.register(`weight_hh${sfx}`, rnnParam([G, H], H, dtype));
        if (this.bias) {
          this.register(`bias_ih${sfx}`, rnnParam([G], H, dtype));
          this.register(`bias_hh${sfx}`, rnnParam([G], H, dtype));
        }
      }
    }
  }

  /** Layer name for messages ('RNN', 'LSTM' or 'GRU'). */
  protected get layerName(): string {
    return this.mode.startsWith('RNN') ? 'RNN' : this.mode;
  }

  /** The weight registered as `name` (any tensor, so a functional call may substitute plain tensors). */
  private param(name: string): Tensor | null {
    const p = this.getRegistered(name);
    return p instanceof Tensor ? p : null;
  }

  /**
   * Runs all layers over the sequence. `hx` holds the initial states ([h0] or [h0, c0], each
   * [numLayers * numDirections, B, H], or without the batch dim for unbatched input); missing ones
   * are zeros. Returns the output and the final states in the same layout.
   */
  protected run(input: Tensor, hx: readonly (Tensor | undefined | null)[]): [Tensor, Tensor[]] {
    const name = this.layerName;
    if (input.ndim !== 2 && input.ndim !== 3) {
      throw new ShapeError(
        `${name}: expected a 3-d (batched) or 2-d (unbatched) input, got shape ${fmt(input.shape)}`,
      );
    }
    const batched = input.ndim === 3;
    const feat = input.shape[input.ndim - 1]!;
    if (feat !== this.inputSize) {
      throw new ShapeError(
        `${name}: expected input with ${this.inputSize} features (inputSize) in its last dim, got shape ${fmt(input.shape)}`,
      );
    }
    let x = batched ? (this.batchFirst ? input.transpose(0, 1) : input) : input.unsqueeze(1);
    const T = x.shape[0]!;
    const B = x.shape[1]!;
    if (T === 0) {
      throw new ShapeError(`${name}: expected a sequence length > 0, got input shape ${fmt(input.shape)}`);
    }
    const H = this.hiddenSize;
    const D = this.bidirectional ? 2 : 1;
    const L = this.numLayers;
    const nStates = this.mode === 'LSTM' ? 2 : 1;
    // Initial states per state kind, each unbound into L * D tensors [B, H].
    const init: (Tensor[] | null)[] = [];
    for (let s = 0; s < nStates; s++) {
      const h = hx[s];
      if (!h) {
        init.push(null);
        continue;
      }
      const want = batched ? [L * D, B, H] : [L * D, H];
      if (!sameShape(h.shape, want)) {
        throw new ShapeError(
          `${name}: expected ${stateName(this.mode, s)} of shape ${fmt(want)}${batched ? '' : ' (unbatched input)'}, got ${fmt(h.shape)}`,
        );
      }
      init.push(splitViews(batched ? h : h.unsqueeze(1), 0, new Array<number>(L * D).fill(1), true));
    }
    const finals: Tensor[][] = Array.from({ length: nStates }, () => []);
    for (let l = 0; l < L; l++) {
      const inF = x.shape[2]!;
      const flat = this.mode === 'LSTM' ? x : x.reshape([T * B, inF]);
      const outs: Tensor[] = [];
      for (let d = 0; d < D; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        const wih = this.param(`weight_ih${sfx}`)!;
        const whh = this.param(`weight_hh${sfx}`)!;
        const { xb, hb } = foldBiases(this.mode, this.param(`bias_ih${sfx}`), this.param(`bias_hh${sfx}`), H);
        const k = l * D + d;
        if (this.mode === 'LSTM') {
          // One fused op for the whole layer and direction (input projection, steps and backward).
          const h0 = init[0]?.[k] ?? null;
          const c0 = init[1]?.[k] ?? null;
          const [out, hN, cN] = lstmLayer(x, wih, whh, xb, h0, c0, d === 1);
          finals[0]!.push(hN);
          finals[1]!.push(cN);
          outs.push(out);
          continue;
        }
        const proj = linear(flat, wih, xb);
        const G = proj.shape[1]!;
        const steps = splitViews(proj.reshape([T, B, G]), 0, new Array<number>(T).fill(1), true);
        const w: StepWeights = { whhT: whh.t(), hb };
        let state: Tensor[] = init.map((s) => (s ? s[k]! : zeros([B, H], { dtype: proj.dtype })) as Tensor);
        const hs = new Array<Tensor>(T);
        for (let n = 0; n < T; n++) {
          const t = d === 0 ? n : T - 1 - n;
          state = step(this.mode, steps[t]!, state, w);
          hs[t] = state[0]!;
        }
        for (let s = 0; s < nStates; s++) finals[s]!.push(state[s]!);
        outs.push(stack(hs, 0));
      }
      x = D === 1 ? outs[0]! : cat(outs, 2);
      if (l < L - 1 && this.dropout > 0 && this.training) {
        x = dropout(x, { p: this.dropout, training: true });
      }
    }
    let output = x;
    if (!batched) output = output.squeeze(1);
    else if (this.batchFirst) output = output.transpose(0, 1);
    const states = finals.map((f) => {
      const st = stack(f, 0);
      return batched ? st : st.squeeze(1);
    });
    return [output, states];
  }

  override extraRepr(): string {
    let s = `inputSize=${this.inputSize}, hiddenSize=${this.hiddenSize}`;
    if (this.numLayers !== 1) s += `, numLayers=${this.numLayers}`;
    if (!this.bias) s += ', bias=false';
    if (this.batchFirst) s += ', batchFirst=true';
    if (this.dropout) s += `, dropout=${this.dropout}`;
    if (this.bidirectional) s += ', bidirectional=true';
    return s;
  }
}

function rnnOptions<O extends RNNBaseOptions>(
  a: O | number,
  hiddenSize: number | undefined,
  options: Partial<O> | undefined,
): O {
  if (typeof a !== 'number') return a;
  return { ...options, inputSize: a, hiddenSize: hiddenSize ?? Number.NaN } as O;
}

/**
 * Multi-layer Elman RNN: h_t = act(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh), act tanh or ReLU.
 * `forward(input, h0?)` takes input [T, B, inputSize] ([B, T, inputSize] with batchFirst, or
 * unbatched [T, inputSize]) and h0 [numLayers * numDirections, B, hiddenSize] (zeros when omitted);
 * returns `[output, hN]` with output [T, B, numDirections * hiddenSize].
 */
export class RNN extends RNNBase {
  /** 'tanh' or 'relu'. */
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(options: RNNOptions);
  constructor(inputSize: number, hiddenSize: number, options?: Partial<RNNOptions>);
  constructor(a: RNNOptions | number, hiddenSize?: number, options?: Partial<RNNOptions>) {
    const o = rnnOptions(a, hiddenSize, options);
    super(nonlinearityMode('RNN', o.nonlinearity), o);
    this.nonlinearity = o.nonlinearity ?? 'tanh';
  }

  override forward(input: Tensor, h0?: Tensor | null): [Tensor, Tensor] {
    const [out, [h]] = this.run(input, [h0]);
    return [out, h!];
  }

  override extraRepr(): string {
    const s = super.extraRepr();
    return this.nonlinearity === 'relu' ? `${s}, nonlinearity=relu` : s;
  }
}

/**
 * Multi-layer long short-term memory. Gates (PyTorch order i, f, g, o):
 * i, f, o = σ(·), g = tanh(·) of x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh; c_t = f c_{t-1} + i g;
 * h_t = o tanh(c_t). `forward(input, [h0, c0]?)` returns `[output, [hN, cN]]` (shapes as for `RNN`).
 */
export class LSTM extends RNNBase {
  constructor(options: RNNBaseOptions);
  constructor(inputSize: number, hiddenSize: number, options?: Partial<RNNBaseOptions>);
  constructor(a: RNNBaseOptions | number, hiddenSize?: number, options?: Partial<RNNBaseOptions>) {
    super('LSTM', rnnOptions(a, hiddenSize, options));
  }

  override forward(
    input: Tensor,
    hx?: readonly [Tensor, Tensor] | readonly Tensor[] | null,
  ): [Tensor, [Tensor, Tensor]] {
    if (hx && hx.length !== 2) {
      throw new ValueError(`LSTM: hx must be a pair [h0, c0], got ${hx.length} tensor(s)`);
    }
    const [out, [h, c]] = this.run(input, hx ? [hx[0], hx[1]] : []);
    return [out, [h!, c!]];
  }
}

/**
 * Multi-layer gated recurrent unit. Gates (PyTorch order r, z, n): r, z = σ(x W_iᵀ + b_i + h W_hᵀ + b_h),
 * n = tanh(x W_inᵀ + b_in + r (h W_hnᵀ + b_hn)), h_t = (1 - z) n + z h_{t-1}.
 * `forward(input, h0?)` returns `[output, hN]` (shapes as for `RNN`).
 */
export class GRU extends RNNBase {
  constructor(options: RNNBaseOptions);
  constructor(inputSize: number, hiddenSize: number, options?: Partial<RNNBaseOptions>);
  constructor(a: RNNBaseOptions | number, hiddenSize?: number, options?: Partial<RNNBaseOptions>) {
    super('GRU', rnnOptions(a, hiddenSize, options));
  }

  override forward(input: Tensor, h0?: Tensor | null): [Tensor, Tensor] {
    const [out, [h]] = this.run(input, [h0]);
    return [out, h!];
  }
}

// ---------------------------------------------------------------------------------------------
// Cells
// ---------------------------------------------------------------------------------------------

/** Shared implementation of the cells (one time step, parameters weight_ih, weight_hh, bias_ih, bias_hh). */
export abstract class RNNCellBase extends Module {
  /** Weight [G * hiddenSize, inputSize] (G = 1, 4 or 3 gates). */
  weight_ih: Parameter;
  /** Weight [G * hiddenSize, hiddenSize]. */
  weight_hh: Parameter;
  /** Bias [G * hiddenSize], or null. */
  bias_ih: Parameter | null = null;
  /** Bias [G * hiddenSize], or null. */
  bias_hh: Parameter | null = null;
  protected readonly mode: Mode;

  protected constructor(
    mode: Mode,
    readonly inputSize: number,
    readonly hiddenSize: number,
    options: RNNCellBaseOptions,
  ) {
    super();
    const layer = this.constructor.name;
    checkSize(layer, 'inputSize', inputSize, 0);
    checkSize(layer, 'hiddenSize', hiddenSize, 1);
    this.mode = mode;
    const dtype = options.dtype ?? 'float32';
    const G = GATES[mode] * hiddenSize;
    this.weight_ih = rnnParam([G, inputSize], hiddenSize, dtype);
    this.weight_hh = rnnParam([G, hiddenSize], hiddenSize, dtype);
    if (options.bias ?? true) {
      this.bias_ih = rnnParam([G], hiddenSize, dtype);
      this.bias_hh = rnnParam([G], hiddenSize, dtype);
    }
  }

  /** One step: input [B, inputSize] or [inputSize], states [h] or [h, c] (null: zeros). */
  protected cellStep(input: Tensor, hx: readonly (Tensor | null | undefined)[]): Tensor[] {
    const name = this.constructor.name;
    if ((input.ndim !== 1 && input.ndim !== 2) || input.shape[input.ndim - 1] !== this.inputSize) {
      throw new ShapeError(
        `${name}: expected input of shape [B, ${this.inputSize}] or [${this.inputSize}], got ${fmt(input.shape)}`,
      );
    }
    const batched = input.ndim === 2;
    const x = batched ? input : input.unsqueeze(0);
    const B = x.shape[0]!;
    const H = this.hiddenSize;
    const { xb, hb } = foldBiases(this.mode, this.bias_ih, this.bias_hh, H);
    const xp = linear(x, this.weight_ih, xb);
    const nStates = this.mode === 'LSTM' ? 2 : 1;
    const state: Tensor[] = [];
    for (let s = 0; s < nStates; s++) {
      const h = hx[s];
      if (!h) {
        state.push(zeros([B, H], { dtype: xp.dtype }));
        continue;
      }
      const want = batched ? [B, H] : [H];
      if (!sameShape(h.shape, want)) {
        const what = this.mode === 'LSTM' ? (s === 0 ? 'h' : 'c') : 'hx';
        throw new ShapeError(`${name}: expected ${what} of shape ${fmt(want)}, got ${fmt(h.shape)}`);
      }
      state.push(batched ? h : h.unsqueeze(0));
    }
    const out = step(this.mode, xp, state, { whhT: this.weight_hh.t(), hb });
    return batched ? out : out.map((t) => t.squeeze(0));
  }

  override extraRepr(): string {
    let s = `inputSize=${this.inputSize}, hiddenSize=${this.hiddenSize}`;
    if (!this.bias_ih) s += ', bias=false';
    if (this.mode === 'RNN_RELU') s += ', nonlinearity=relu';
    return s;
  }
}

/** One step of an Elman RNN: h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh). `forward(input, hx?)` returns h'. */
export class RNNCell extends RNNCellBase {
  /** 'tanh' or 'relu'. */
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions = {}) {
    super(nonlinearityMode('RNNCell', options.nonlinearity), inputSize, hiddenSize, options);
    this.nonlinearity = options.nonlinearity ?? 'tanh';
  }

  override forward(input: Tensor, hx?: Tensor | null): Tensor {
    return this.cellStep(input, [hx])[0]!;
  }
}

/** One LSTM step. `forward(input, [h, c]?)` returns `[h', c']`. */
export class LSTMCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNCellBaseOptions = {}) {
    super('LSTM', inputSize, hiddenSize, options);
  }

  override forward(
    input: Tensor,
    hx?: readonly [Tensor, Tensor] | readonly Tensor[] | null,
  ): [Tensor, Tensor] {
    if (hx && hx.length !== 2) {
      throw new ValueError(`LSTMCell: hx must be a pair [h, c], got ${hx.length} tensor(s)`);
    }
    const [h, c] = this.cellStep(input, hx ? [hx[0], hx[1]] : []);
    return [h!, c!];
  }
}

/** One GRU step. `forward(input, hx?)` returns h'. */
export class GRUCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNCellBaseOptions = {}) {
    super('GRU', inputSize, hiddenSize, options);
  }

  override forward(input: Tensor, hx?: Tensor | null): Tensor {
    return this.cellStep(input, [hx])[0]!;
  }
}
