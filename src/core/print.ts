/**
 * PyTorch-like printing of tensors.
 * @module
 */
import type { Tensor } from './tensor.js';

/** Max elements printed in full; bigger tensors are summarised with `...`. */
const THRESHOLD = 1000;
const EDGE = 3;

function formatNumber(v: number, dtype: string, decimals: number, sci: boolean): string {
  if (dtype === 'bool') return v ? 'True' : 'False';
  if (dtype === 'int32') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (sci) return v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2');
  return v.toFixed(decimals);
}

/** Formats `t` like `tensor([[1.0000, 2.0000], ...], requires_grad=True)`. */
export function formatTensor(t: Tensor): string {
  const data = t.dataSync();
  const dtype = t.dtype;
  let maxAbs = 0;
  let minAbs = Number.POSITIVE_INFINITY;
  let allInt = true;
  for (let i = 0; i < data.length; i++) {
    const v = Math.abs(data[i]!);
    if (!Number.isFinite(v)) continue;
    if (v > maxAbs) maxAbs = v;
    if (v !== 0 && v < minAbs) minAbs = v;
    if (!Number.isInteger(data[i]!)) allInt = false;
  }
  const isFloat = dtype === 'float32' || dtype === 'float64';
  const sci = isFloat && (maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Number.POSITIVE_INFINITY && !allInt));
  const decimals = isFloat ? (allInt ? 0 : 4) : 0;
  const fmtEl = (v: number): string => {
    const s = formatNumber(v, dtype, decimals, sci);
    return isFloat && allInt && !sci ? `${s}.` : s;
  };
  const summarize = data.length > THRESHOLD;
  const strs: string[] = [];
  for (let i = 0; i < data.length; i++) strs.push(fmtEl(data[i]!));
  const width = strs.reduce((w, s) => Math.max(w, s.length), 0);
  const shape = t.shape;
  const strides: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= shape[i]!;
  }
  const indent = 'tensor('.length;
  const rec = (d: number, off: number): string => {
    if (d === shape.length) return strs[off]!.padStart(width);
    const n = shape[d]!;
    const items: string[] = [];
    const pick = summarize && n > 2 * EDGE;
    for (let i = 0; i < n; i++) {
      if (pick && i === EDGE) {
        items.push('...');
        i = n - EDGE - 1;
        continue;
      }
      items.push(rec(d + 1, off + i * strides[d]!));
    }
    const sep =
      d === shape.length - 1 ? ', ' : `,${'\n'.repeat(shape.length - d - 1)}${' '.repeat(indent + d + 1)}`;
    return `[${items.join(sep)}]`;
  };
  const body = shape.length === 0 ? strs[0]! : rec(0, 0);
  const extras: string[] = [];
  if (dtype === 'float64' || dtype === 'int32') extras.push(`dtype=${dtype}`);
  if (t.numel() === 0 && shape.length !== 1) extras.push(`size=[${shape.join(', ')}]`);
  if (t.gradFn) extras.push(`grad_fn=<${t.gradFn.name}Backward>`);
  else if (t.requiresGrad) extras.push('requires_grad=True');
  return `tensor(${body}${extras.length ? `, ${extras.join(', ')}` : ''})`;
}
