/**
 * `nn.summary`: a Keras/torchinfo-style table of a model's layers, output shapes and parameter counts.
 * @module
 */
import { noGrad } from '../autograd/grad-mode.js';
import { zeros } from '../core/creation.js';
import type { DType } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import { fmt } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import type { Module } from './module.js';

/** Options of `summary`. */
export interface SummaryOptions {
  /** dtype of the dummy input(s) (default float32; use int32 for models starting with an Embedding). */
  dtype?: DType;
}

interface Row {
  path: string;
  type: string;
  depth: number;
  output: string;
  params: number;
}

function shapeText(v: unknown): string {
  if (v instanceof Tensor) return fmt(v.shape);
  if (Array.isArray(v)) return `(${v.map(shapeText).join(', ')})`;
  if (v === undefined || v === null) return '-';
  return typeof v;
}

function group(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Runs `model` once on a zero-filled dummy input of `inputShape` (the full shape, batch dim
 * included; give an array of shapes for a model with several inputs) and returns a table with one
 * row per submodule called, in call order: its path, type, output shape and own parameter count,
 * followed by the total and trainable parameter counts. The model runs in eval mode without
 * autograd (so running statistics are untouched), and its training flags are restored afterwards.
 */
export function summary(
  model: Module,
  inputShape: readonly number[] | readonly (readonly number[])[],
  options: SummaryOptions = {},
): string {
  const shapes: readonly (readonly number[])[] =
    inputShape.length > 0 && Array.isArray(inputShape[0])
      ? (inputShape as readonly (readonly number[])[])
      : [inputShape as readonly number[]];
  for (const s of shapes) {
    if (s.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new ValueError(`summary: invalid input shape ${fmt(s)}`);
    }
  }
  const dtype = options.dtype ?? 'float32';
  const named = model.namedModules();
  const rows: Row[] = [];
  const removers: (() => void)[] = [];
  const modes = named.map(([, m]) => m.training);
  for (const [path, m] of named) {
    if (m === model) continue;
    const own = m.parameters(false).reduce((a, p) => a + p.numel(), 0);
    let row: Row | null = null;
    removers.push(
      m.registerForwardPreHook(() => {
        row = { path, type: m.constructor.name, depth: path.split('.').length - 1, output: '-', params: own };
        rows.push(row);
        return undefined;
      }),
    );
    removers.push(
      m.registerForwardHook((_mod, _in, out) => {
        if (row) row.output = shapeText(out);
        return undefined;
      }),
    );
  }
  let output: unknown;
  try {
    model.eval();
    const inputs = shapes.map((s) => zeros(s, { dtype }));
    output = noGrad(() => (model.forward as (...a: unknown[]) => unknown)(...inputs));
  } finally {
    for (const r of removers) r();
    named.forEach(([, m], i) => {
      m.training = modes[i]!;
    });
  }
  const params = model.parameters();
  const total = params.reduce((a, p) => a + p.numel(), 0);
  const trainable = params.filter((p) => p.requiresGrad).reduce((a, p) => a + p.numel(), 0);
  const head = ['Layer (path)', 'Type', 'Output Shape', 'Param #'];
  const body = rows.map((r) => [`${'  '.repeat(r.depth)}${r.path}`, r.type, r.output, group(r.params)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const width = widths.reduce((a, w) => a + w, 0) + 2 * (widths.length - 1);
  const rule = '='.repeat(width);
  const thin = '-'.repeat(width);
  const out = [
    `${model.constructor.name} summary (input ${shapes.map((s) => fmt(s)).join(', ')}, ${dtype})`,
    rule,
    line(head),
    thin,
    ...body.map(line),
    rule,
    `Output shape: ${shapeText(output)}`,
    `Total params: ${group(total)}`,
    `Trainable params: ${group(trainable)}`,
    `Non-trainable params: ${group(total - trainable)}`,
    rule,
  ];
  return out.join('\n');
}
