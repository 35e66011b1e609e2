/**
 * PyTorch-like printing of tensors (same number formats, line wrapping at 80 columns, summaries of
 * big tensors and suffixes; dtypes are shown unless float32, int32 or bool, Neurite's defaults).
 * @module
 */
import type { Tensor } from './tensor.js';

/** Max elements printed in full; bigger tensors are summarised with `...`. */
const THRESHOLD = 1000;
/** Elements kept at each end of a summarised dimension. */
const EDGE = 3;
/** Line width used for wrapping and suffix placement. */
const LINE_WIDTH = 80;
const PREFIX = 'tensor(';

/** Number formatting chosen from the printed values, like PyTorch's `_Formatter`. */
interface Style {
  kind: 'bool' | 'int' | 'float';
  intMode: boolean;
  sci: boolean;
  width: number;
}

function formatValue(v: number, s: Style): string {
  if (s.kind === 'bool') return v ? 'True' : 'False';
  if (s.kind === 'int') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (s.sci) return v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2');
  const neg0 = Object.is(v, -0) ? '-' : '';
  return s.intMode ? `${neg0}${v.toFixed(0)}.` : `${neg0}${v.toFixed(4)}`;
}

function chooseStyle(dtype: string, values: readonly number[]): Style {
  if (dtype === 'bool' || dtype === 'int32') {
    const s: Style = { kind: dtype === 'bool' ? 'bool' : 'int', intMode: true, sci: false, width: 1 };
    for (const v of values) s.width = Math.max(s.width, formatValue(v, s).length);
    return s;
  }
  const s: Style = { kind: 'float', intMode: true, sci: false, width: 1 };
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  const finite: number[] = [];
  for (const v of values) {
    if (v === 0 || !Number.isFinite(v)) continue;
    finite.push(v);
    const a = Math.abs(v);
    if (a < min) min = a;
    if (a > max) max = a;
    if (!Number.isInteger(v)) s.intMode = false;
  }
  if (!finite.length) return s;
  s.sci = max / min > 1000 || max > 1e8 || (!s.intMode && min < 1e-4);
  for (const v of finite) s.width = Math.max(s.width, formatValue(v, s).length);
  return s;
}

/** Formats `t` like PyTorch, e.g. `tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)`. */
export function formatTensor(t: Tensor): string {
  const dtype = t.dtype;
  const shape = t.shape;
  const suffixes: string[] = [];
  let body: string;
  if (t.numel() === 0) {
    if (shape.length !== 1) suffixes.push(`size=[${shape.join(', ')}]`);
    if (dtype !== 'float32') suffixes.push(`dtype=${dtype}`);
    body = '[]';
  } else {
    if (dtype === 'float64') suffixes.push(`dtype=${dtype}`);
    body = formatBody(t);
  }
  if (t.gradFn) suffixes.push(`grad_fn=<${t.gradFn.name}Backward>`);
  else if (t.requiresGrad) suffixes.push('requires_grad=True');
  let out = PREFIX + body;
  let lastLine = out.length - out.lastIndexOf('\n') + 1;
  for (const s of suffixes) {
    if (lastLine + s.length + 2 > LINE_WIDTH) {
      out += `,\n${' '.repeat(PREFIX.length)}${s}`;
      lastLine = PREFIX.length + s.length;
    } else {
      out += `, ${s}`;
      lastLine += s.length + 2;
    }
  }
  return `${out})`;
}

function formatBody(t: Tensor): string {
  const data = t.dataSync();
  const shape = t.shape;
  const summarize = data.length > THRESHOLD;
  const strides: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= shape[i]!;
  }
  // Indices printed along a dim of size n (-1 marks the `...`).
  const picks = (n: number): number[] => {
    if (!summarize || n <= 2 * EDGE) return Array.from({ length: n }, (_, i) => i);
    return [0, 1, 2, -1, n - 3, n - 2, n - 1];
  };
  // The style depends only on the values that are printed (as in PyTorch's summaries).
  const shown: number[] = [];
  const collect = (d: number, off: number): void => {
    if (d === shape.length) {
      shown.push(data[off]!);
      return;
    }
    for (const i of picks(shape[d]!)) if (i >= 0) collect(d + 1, off + i * strides[d]!);
  };
  collect(0, 0);
  const style = chooseStyle(t.dtype, shown);
  const el = (v: number): string => formatValue(v, style).padStart(style.width);
  if (shape.length === 0) return el(data[0]!);
  const rec = (d: number, off: number): string => {
    const indent = PREFIX.length + d;
    if (d === shape.length - 1) {
      const items = picks(shape[d]!).map((i) => (i < 0 ? ' ...' : el(data[off + i * strides[d]!]!)));
      const perLine = Math.max(1, Math.floor((LINE_WIDTH - indent) / (style.width + 2)));
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
      return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
    }
    const items = picks(shape[d]!).map((i) => (i < 0 ? '...' : rec(d + 1, off + i * strides[d]!)));
    return `[${items.join(`,${'\n'.repeat(shape.length - d - 1)}${' '.repeat(indent + 1)}`)}]`;
  };
  return rec(0, 0);
}
