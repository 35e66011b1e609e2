/**
 * `nn.init`: in-place weight initialisation, following PyTorch's `torch.nn.init` (camelCase names).
 * Every function fills the tensor without recording autograd history and returns it. Random fills
 * take an optional `generator` (the default generator, seeded by `manualSeed`, otherwise).
 * @module
 */
import { noGrad } from '../autograd/grad-mode.js';
import { tensor } from '../core/creation.js';
import { isFloating } from '../core/dtype.js';
import { DTypeError, ValueError } from '../core/errors.js';
import type { Generator } from '../core/random.js';
import { fmt } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import '../ops/inplace.js';
import '../ops/unary.js';

/** Options of the random initialisers. */
export interface InitOptions {
  /** Random stream (the default generator otherwise). */
  generator?: Generator;
}

/**
 * Names accepted by `calculateGain` (PyTorch's spellings; camelCase aliases `leakyRelu`,
 * `convTranspose1d`... are accepted too).
 */
export type Nonlinearity =
  | 'linear'
  | 'identity'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'convTranspose1d'
  | 'convTranspose2d'
  | 'convTranspose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'leakyRelu'
  | 'selu';

const LINEAR_LIKE = new Set<string>([
  'linear',
  'identity',
  'conv1d',
  'conv2d',
  'conv3d',
  'conv_transpose1d',
  'conv_transpose2d',
  'conv_transpose3d',
  'convTranspose1d',
  'convTranspose2d',
  'convTranspose3d',
  'sigmoid',
]);

/**
 * The recommended gain for a nonlinearity (PyTorch's values): 1 for linear/conv/sigmoid, 5/3 for
 * tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu (`param` is the negative slope,
 * default 0.01) and 3/4 for selu.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  if (LINEAR_LIKE.has(nonlinearity)) return 1;
  switch (nonlinearity) {
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu':
    case 'leakyRelu': {
      const slope = param ?? 0.01;
      if (typeof slope !== 'number' || !Number.isFinite(slope)) {
        throw new ValueError(`calculateGain: negative slope ${String(param)} is not a valid number`);
      }
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new ValueError(`calculateGain: unsupported nonlinearity '${String(nonlinearity)}'`);
  }
}

/** Fan-in and fan-out of a weight (PyTorch's convention: dims 1 and 0 times the receptive field). */
export function calculateFanInAndFanOut(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2)
    throw new ValueError(`init: fan in/out needs a tensor with at least 2 dims, got shape ${fmt(t.shape)}`);
  let rf = 1;
  for (let i = 2; i < t.ndim; i++) rf *= t.shape[i]!;
  return { fanIn: t.shape[1]! * rf, fanOut: t.shape[0]! * rf };
}

function requireFloatInit(op: string, t: Tensor): void {
  if (!isFloating(t.dtype)) {
    throw new DTypeError(`${op}: expected a floating tensor (float32 or float64), got ${t.dtype}`);
  }
}

/** Fills with U(low, high) in place; returns t. */
export function uniform_(t: Tensor, low = 0, high = 1, options: InitOptions = {}): Tensor {
  return noGrad(() => t.uniform_(low, high, options));
}

/** Fills with N(mean, std²) in place; returns t. */
export function normal_(t: Tensor, mean = 0, std = 1, options: InitOptions = {}): Tensor {
  return noGrad(() => t.normal_(mean, std, options));
}

/** Fills with `value` in place; returns t. */
export function constant_(t: Tensor, value: number): Tensor {
  return noGrad(() => t.fill_(value));
}

/** Fills with zeros in place; returns t. */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/** Fills with ones in place; returns t. */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Sets a 2-d tensor to the identity (ones on the diagonal, zeros elsewhere); returns t. */
export function eye_(t: Tensor): Tensor {
  if (t.ndim !== 2) throw new ValueError(`eye_: expected a 2-d tensor, got shape ${fmt(t.shape)}`);
  const [r, c] = t.shape as [number, number];
  const a = new Float64Array(r * c);
  for (let i = 0; i < Math.min(r, c); i++) a[i * c + i] = 1;
  return noGrad(() => t.copy_(tensor(a, { shape: [r, c], dtype: 'float64' })));
}

/** Options of the Xavier (Glorot) initialisers. */
export interface XavierOptions extends InitOptions {
  /** Scaling factor (default 1; see `calculateGain`). */
  gain?: number;
}

/**
 * Xavier/Glorot uniform init: U(-a, a) with a = gain * sqrt(6 / (fanIn + fanOut)); returns t.
 */
export function xavierUniform_(t: Tensor, options: XavierOptions = {}): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const std = (options.gain ?? 1) * Math.sqrt(2 / Math.max(fanIn + fanOut, 1));
  const a = Math.sqrt(3) * std;
  return uniform_(t, -a, a, options);
}

/** Xavier/Glorot normal init: N(0, std²) with std = gain * sqrt(2 / (fanIn + fanOut)); returns t. */
export function xavierNormal_(t: Tensor, options: XavierOptions = {}): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const std = (options.gain ?? 1) * Math.sqrt(2 / Math.max(fanIn + fanOut, 1));
  return normal_(t, 0, std, options);
}

/** Options of the Kaiming (He) initialisers. */
export interface KaimingOptions extends InitOptions {
  /** Negative slope of the leaky ReLU that follows (default 0; only used with `leaky_relu`). */
  a?: number;
  /** 'fanIn' (default) keeps the forward variance, 'fanOut' the backward variance. */
  mode?: 'fanIn' | 'fanOut';
  /** Nonlinearity whose gain is used (default 'leaky_relu', which with a = 0 is ReLU's). */
  nonlinearity?: Nonlinearity;
}

/** std = gain / sqrt(fan) for the Kaiming initialisers (0 for an empty fan). */
function kaimingStd(op: string, t: Tensor, options: KaimingOptions): number {
  const mode = options.mode ?? 'fanIn';
  if (mode !== 'fanIn' && mode !== 'fanOut') {
    throw new ValueError(`${op}: mode must be 'fanIn' or 'fanOut', got '${String(mode)}'`);
  }
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const fan = mode === 'fanIn' ? fanIn : fanOut;
  const gain = calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0);
  return fan > 0 ? gain / Math.sqrt(fan) : 0;
}

/**
 * Kaiming/He uniform init: U(-b, b) with b = gain * sqrt(3 / fan), gain from `nonlinearity` and
 * `a`, fan from `mode`; returns t. (Linear and conv layers use a = sqrt(5), as in PyTorch.)
 */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd('kaimingUniform_', t, options);
  return uniform_(t, -bound, bound, options);
}

/** Kaiming/He normal init: N(0, std²) with std = gain / sqrt(fan); returns t. */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd('kaimingNormal_', t, options), options);
}

/**
 * Orthogonal init: the tensor, seen as a [rows, numel/rows] matrix, gets orthonormal rows (or
 * columns, whichever are fewer), scaled by `gain`. Uses the QR decomposition (modified Gram-Schmidt,
 * twice for stability) of a Gaussian matrix, with the signs fixed so that R has a positive
 * diagonal, as in PyTorch; returns t.
 */
export function orthogonal_(t: Tensor, options: XavierOptions = {}): Tensor {
  requireFloatInit('orthogonal_', t);
  if (t.ndim < 2) {
    throw new ValueError(
      `orthogonal_: only tensors with 2 or more dims are supported, got shape ${fmt(t.shape)}`,
    );
  }
  if (t.numel() === 0) return t;
  const gain = options.gain ?? 1;
  const rows = t.shape[0]!;
  const cols = t.numel() / rows;
  // Work on the tall orientation m x n (m >= n): orthonormalise the n columns.
  const m = Math.max(rows, cols);
  const n = Math.min(rows, cols);
  const gen = options.generator;
  const a = new Float64Array(m * n); // column-major: column j at a[j*m .. j*m+m)
  const draw = tensor(new Float64Array(rows * cols), { shape: [rows, cols], dtype: 'float64' });
  noGrad(() => draw.normal_(0, 1, { generator: gen }));
  const g = draw.dataSync();
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // rows >= cols: column c of the matrix; else: the transpose, column r.
      if (rows >= cols) a[c * m + r] = g[r * cols + c]!;
      else a[r * m + c] = g[r * cols + c]!;
    }
  }
  for (let j = 0; j < n; j++) {
    const cj = j * m;
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        const ck = k * m;
        let dot = 0;
        for (let i = 0; i < m; i++) dot += a[ck + i]! * a[cj + i]!;
        for (let i = 0; i < m; i++) a[cj + i]! -= dot * a[ck + i]!;
      }
    }
    let nrm = 0;
    for (let i = 0; i < m; i++) nrm += a[cj + i]! * a[cj + i]!;
    nrm = Math.sqrt(nrm);
    if (nrm === 0) throw new ValueError('orthogonal_: the random matrix was rank deficient; try again');
    for (let i = 0; i < m; i++) a[cj + i] = a[cj + i]! / nrm;
  }
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = gain * (rows >= cols ? a[c * m + r]! : a[r * m + c]!);
  }
  return noGrad(() => t.copy_(tensor(out, { shape: t.shape, dtype: 'float64' })));
}

/** Options of `truncNormal_`. */
export interface TruncNormalOptions extends InitOptions {
  /** Mean of the normal distribution (default 0). */
  mean?: number;
  /** Standard deviation of the normal distribution (default 1). */
  std?: number;
  /** Lower cut-off, in absolute units like PyTorch (default -2). */
  a?: number;
  /** Upper cut-off (default 2). */
  b?: number;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  if (p < lo || p > 1 - lo) {
    const q = Math.sqrt(-2 * Math.log(p < lo ? p : 1 - p));
    const x =
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
    return p < lo ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/**
 * Truncated normal init: N(mean, std²) restricted to [a, b], sampled exactly by the inverse CDF
 * (values are finally clamped into [a, b]); returns t.
 */
export function truncNormal_(t: Tensor, options: TruncNormalOptions = {}): Tensor {
  requireFloatInit('truncNormal_', t);
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  const a = options.a ?? -2;
  const b = options.b ?? 2;
  if (!(std > 0) || !(a < b)) {
    throw new ValueError(`truncNormal_: needs std > 0 and a < b, got std=${std}, a=${a}, b=${b}`);
  }
  const z = tensor([(a - mean) / std / Math.SQRT2, (b - mean) / std / Math.SQRT2], { dtype: 'float64' })
    .erf()
    .dataSync();
  const lo = (1 + z[0]!) / 2;
  const hi = (1 + z[1]!) / 2;
  if (!(hi > lo)) {
    throw new ValueError(
      `truncNormal_: the interval [${a}, ${b}] has no probability mass under N(${mean}, ${std}²)`,
    );
  }
  const u = tensor(new Float64Array(t.numel()), { shape: t.shape, dtype: 'float64' });
  noGrad(() => u.uniform_(lo, hi, options));
  const ud = u.dataSync();
  const out = new Float64Array(ud.length);
  for (let i = 0; i < ud.length; i++) {
    const x = mean + std * normalQuantile(ud[i]!);
    out[i] = Math.min(b, Math.max(a, x));
  }
  return noGrad(() => t.copy_(tensor(out, { shape: t.shape, dtype: 'float64' })));
}
