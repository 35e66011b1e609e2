/**
 * Loads PyTorch reference cases (test/reference/*.json, made by scripts/reference/*.py) and checks
 * Neurite's forward values and gradients against them.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { type DType, type Tensor, tensor } from '../../src/index.js';

/** A serialised tensor. */
export interface RefTensor {
  shape: number[];
  dtype: DType;
  data: (number | boolean | string)[];
}

/** One reference case. */
export interface RefCase {
  name: string;
  op: string;
  kwargs: Record<string, unknown>;
  inputs: (RefTensor | { value: unknown })[];
  out: RefTensor[];
  cot?: RefTensor;
  grads?: (RefTensor | null)[];
  /** Per-case tolerance (e.g. for float32 cases); overrides the group's. */
  tol?: { atol?: number; rtol?: number };
}

const here = dirname(fileURLToPath(import.meta.url));

/** Loads the cases of test/reference/<group>.json (typed as `C` for groups with their own layout). */
export function loadCases<C = RefCase>(group: string): C[] {
  const file = join(here, '..', 'reference', `${group}.json`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { cases: C[] }).cases;
}

function decode(v: number | boolean | string): number {
  if (v === 'nan') return Number.NaN;
  if (v === 'inf') return Number.POSITIVE_INFINITY;
  if (v === '-inf') return Number.NEGATIVE_INFINITY;
  return typeof v === 'boolean' ? (v ? 1 : 0) : (v as number);
}

/** Builds a Neurite tensor from a serialised one. */
export function fromRef(r: RefTensor, requiresGrad = false): Tensor {
  const data = Float64Array.from(r.data.map(decode));
  return tensor(data, { shape: r.shape, dtype: r.dtype, requiresGrad });
}

/** Asserts `actual` matches `expected` in shape and values (NaN matches NaN). */
export function expectClose(
  actual: Tensor,
  expected: RefTensor,
  what: string,
  atol = 1e-6,
  rtol = 1e-5,
): void {
  expect(actual.shape, `${what}: shape`).toEqual(expected.shape);
  const a = actual.dataSync();
  const e = expected.data.map(decode);
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (Number.isNaN(y)) {
      expect(Number.isNaN(x), `${what}[${i}]: expected NaN, got ${x}`).toBe(true);
      continue;
    }
    if (!Number.isFinite(y)) {
      expect(x, `${what}[${i}]`).toBe(y);
      continue;
    }
    const ok = Math.abs(x - y) <= atol + rtol * Math.abs(y);
    if (!ok) expect.fail(`${what}[${i}]: got ${x}, expected ${y} (atol ${atol}, rtol ${rtol})`);
  }
}

/** An implementation of a reference op: inputs (tensors or plain values) and kwargs -> output(s). */
export type RefImpl = (inputs: unknown[], kwargs: Record<string, unknown>) => Tensor | Tensor[];

/**
 * Runs every case of `group` through `impls[case.op]`, comparing outputs and (where recorded)
 * gradients of sum(out[0] * cot). Throws if a case has no implementation. `checkDtype` also compares
 * each output's dtype with PyTorch's (int64 counts as int32).
 */
export function checkReference(
  group: string,
  impls: Record<string, RefImpl>,
  tol: { atol?: number; rtol?: number; checkDtype?: boolean } = {},
): number {
  const cases = loadCases(group);
  for (const c of cases) {
    const impl = impls[c.op];
    if (!impl) throw new Error(`reference ${group}: no implementation for op '${c.op}' (case ${c.name})`);
    const inputs = c.inputs.map((x, i) =>
      'value' in x
        ? x.value
        : fromRef(x, Boolean(c.grads?.[i]) && (x.dtype === 'float32' || x.dtype === 'float64')),
    );
    const out = impl(inputs, c.kwargs);
    const outs = Array.isArray(out) ? out : [out];
    const atol = c.tol?.atol ?? tol.atol ?? 1e-6;
    const rtol = c.tol?.rtol ?? tol.rtol ?? 1e-5;
    c.out.forEach((e, i) => {
      expectClose(outs[i]!, e, `${c.name} out[${i}]`, atol, rtol);
      if (tol.checkDtype) expect(outs[i]!.dtype, `${c.name} out[${i}]: dtype`).toBe(e.dtype);
    });
    if (c.grads && c.cot) {
      outs[0]!.backward(fromRef(c.cot));
      c.grads.forEach((g, i) => {
        if (!g) return;
        const t = inputs[i] as Tensor;
        expect(t.grad, `${c.name}: gradient of input ${i} is missing`).not.toBeNull();
        expectClose(t.grad!, g, `${c.name} grad[${i}]`, atol * 10, rtol * 10);
      });
    }
  }
  return cases.length;
}

/** A module-level reference case (scripts/reference/nn_rnn.py): state dict, inputs, outputs, gradients. */
export interface ModuleCase {
  name: string;
  /** PyTorch class name, e.g. 'LSTM'. */
  module: string;
  /** Constructor options as Neurite takes them (camelCase). */
  kwargs: Record<string, unknown>;
  dtype: DType;
  state: Record<string, RefTensor>;
  /** Forward inputs (null: an optional input left out). */
  inputs: (RefTensor | null)[];
  out: RefTensor[];
  /** One cotangent per output: the loss is sum_i sum(out_i * cots_i). */
  cots: RefTensor[];
  inputGrads: (RefTensor | null)[];
  /** Gradients of the parameters, by state-dict key. */
  paramGrads: Record<string, RefTensor>;
  tol?: { atol?: number; rtol?: number };
  [extra: string]: unknown;
}

/** Loads the module cases of test/reference/<group>.json. */
export function loadModuleCases(group: string): ModuleCase[] {
  const file = join(here, '..', 'reference', `${group}.json`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { cases: ModuleCase[] }).cases;
}

/**
 * Loads `c.state` into `model` (eval mode), runs `call` on the case's inputs (those with a recorded
 * gradient require grad) and compares the outputs, then the gradients of the inputs and of every
 * parameter of sum_i sum(out_i * cot_i).
 */
export function checkModuleCase(
  c: ModuleCase,
  model: {
    loadStateDict(s: Map<string, Tensor>): unknown;
    eval(): unknown;
    namedParameters(): [string, Tensor][];
  },
  call: (inputs: (Tensor | null)[]) => Tensor[],
  tol: { atol?: number; rtol?: number } = {},
): void {
  model.loadStateDict(new Map(Object.entries(c.state).map(([k, v]) => [k, fromRef(v)])));
  model.eval();
  const inputs = c.inputs.map((x, i) => (x ? fromRef(x, Boolean(c.inputGrads[i])) : null));
  const outs = call(inputs);
  const atol = c.tol?.atol ?? tol.atol ?? 1e-6;
  const rtol = c.tol?.rtol ?? tol.rtol ?? 1e-5;
  expect(outs.length, `${c.name}: number of outputs`).toBe(c.out.length);
  c.out.forEach((e, i) => {
    expectClose(outs[i]!, e, `${c.name} out[${i}]`, atol, rtol);
  });
  let loss: Tensor | null = null;
  outs.forEach((o, i) => {
    const term = o.mul(fromRef(c.cots[i]!)).sum();
    loss = loss ? loss.add(term) : term;
  });
  (loss as Tensor | null)?.backward();
  c.inputGrads.forEach((g, i) => {
    if (!g) return;
    const t = inputs[i]!;
    expect(t.grad, `${c.name}: gradient of input ${i} is missing`).not.toBeNull();
    expectClose(t.grad!, g, `${c.name} input grad[${i}]`, atol * 10, rtol * 10);
  });
  const params = new Map(model.namedParameters());
  for (const [k, g] of Object.entries(c.paramGrads)) {
    const p = params.get(k);
    expect(p, `${c.name}: parameter ${k} is missing`).toBeDefined();
    expect(p!.grad, `${c.name}: gradient of ${k} is missing`).not.toBeNull();
    expectClose(p!.grad!, g, `${c.name} grad of ${k}`, atol * 10, rtol * 10);
  }
}
