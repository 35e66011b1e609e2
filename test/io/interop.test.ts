/**
 * Interop with PyTorch's safetensors: Neurite reads files written by `safetensors.torch.save_file`
 * (fixtures made by scripts/safetensors_interop.py) and writes files Python loads back. The Python
 * half runs only where /usr/bin/python3 has torch and safetensors (not in CI).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type DType, manualSeed, nn, noGrad, randn, type Tensor, tensor } from '../../src/index.js';
import { loadSafetensors, saveSafetensors } from '../../src/node/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = join(root, 'test', 'fixtures');
const script = join(root, 'scripts', 'safetensors_interop.py');
const PYTHON = '/usr/bin/python3';

type Expected = Record<string, { dtype: string; shape: number[]; values: (number | boolean | string)[] }>;
interface FixtureSpec {
  'torch_sequential.safetensors': { tensors: Expected; metadata: Record<string, string> };
  'torch_dtypes.safetensors': { tensors: Expected; metadata: Record<string, string> };
  model: { input: number[][]; output: number[][] };
}
const spec = JSON.parse(readFileSync(join(fixtures, 'torch_fixtures.json'), 'utf8')) as FixtureSpec;

/** The dtype Neurite gives each torch dtype on reading. */
const AS: Record<string, DType> = {
  float32: 'float32',
  float64: 'float64',
  int32: 'int32',
  bool: 'bool',
  int64: 'int32',
  float16: 'float32',
  bfloat16: 'float32',
  int8: 'int32',
  uint8: 'int32',
  int16: 'int32',
};

function pyValue(v: number | boolean | string): number | boolean {
  if (typeof v !== 'string') return v;
  return v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number.NaN;
}

function checkAgainst(file: string): Map<string, Tensor> {
  const want = spec[file as 'torch_dtypes.safetensors'];
  const { tensors, metadata } = loadSafetensors(join(fixtures, file));
  expect(metadata).toEqual(want.metadata);
  expect([...tensors.keys()].sort()).toEqual(Object.keys(want.tensors).sort());
  for (const [k, w] of Object.entries(want.tensors)) {
    const t = tensors.get(k)!;
    expect(t.dtype, k).toBe(AS[w.dtype]);
    expect(t.shape, k).toEqual(w.shape);
    const got = Array.from(t.dataSync(), (v) => (t.dtype === 'bool' ? v !== 0 : v));
    expect(got, k).toEqual(w.values.map(pyValue));
  }
  return tensors;
}

function torchLikeModel(): nn.Sequential {
  return new nn.Sequential(new nn.Linear(4, 3), new nn.BatchNorm1d(3), new nn.Linear(3, 2));
}

const hasPython =
  spawnSync(PYTHON, ['-c', 'import torch, safetensors.torch'], { stdio: 'ignore' }).status === 0;

const tmp = mkdtempSync(join(tmpdir(), 'neurite-interop-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the Python check on `file` against `expect`; returns its JSON report. */
function pythonCheck(file: string, expectation: object): Record<string, unknown> {
  const expectPath = `${file}.expect.json`;
  writeFileSync(expectPath, JSON.stringify(expectation));
  const r = spawnSync(PYTHON, [script, 'check', file, '--expect', expectPath], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python check failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

function expectationOf(state: Map<string, Tensor>, metadata: Record<string, string>): object {
  const tensors: Expected = {};
  for (const [k, t] of state) {
    const values = Array.from(t.contiguous().dataSync(), (v): number | boolean | string =>
      t.dtype === 'bool'
        ? v !== 0
        : Number.isFinite(v)
          ? v
          : Number.isNaN(v)
            ? 'nan'
            : v > 0
              ? 'inf'
              : '-inf',
    );
    tensors[k] = { dtype: t.dtype, shape: [...t.shape], values };
  }
  return { tensors, metadata };
}

describe('reading files written by PyTorch (safetensors.torch.save_file)', () => {
  it('reads a Sequential(Linear, BatchNorm1d, Linear) state dict exactly, incl. int64 num_batches_tracked', () => {
    const tensors = checkAgainst('torch_sequential.safetensors');
    expect(tensors.get('1.num_batches_tracked')!.dtype).toBe('int32');
    expect(tensors.get('1.num_batches_tracked')!.item()).toBe(3);
  });

  it('loads it into the same Neurite model, which then computes PyTorch outputs', () => {
    const { tensors } = loadSafetensors(join(fixtures, 'torch_sequential.safetensors'));
    const model = torchLikeModel();
    expect([...model.stateDict().keys()].sort()).toEqual([...tensors.keys()].sort());
    model.loadStateDict(tensors);
    model.eval();
    const y = noGrad(() => model.forward(tensor(spec.model.input, { dtype: 'float32' })) as Tensor);
    const want = spec.model.output.flat();
    const got = Array.from(y.dataSync());
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 5);
  });

  it('reads f64, i32, bool, i64, f16, bf16, i8, u8, i16, 0-d and zero-size tensors exactly', () => {
    const t = checkAgainst('torch_dtypes.safetensors');
    expect(t.get('scalar')!.shape).toEqual([]);
    expect(t.get('empty')!.shape).toEqual([0, 3]);
  });
});

describe('writing files PyTorch reads', () => {
  manualSeed(7);
  const bn = new nn.BatchNorm1d(3);
  const model = new nn.Sequential(new nn.Linear(4, 3), bn, new nn.Linear(3, 2));
  // Non-trivial batch-norm statistics.
  noGrad(() => {
    bn.getBuffer('running_mean')!.copy_(randn([3]));
    bn.getBuffer('running_var')!.copy_(randn([3]).abs().add(0.5));
    bn.getBuffer('num_batches_tracked')!.fill_(12);
    bn.weight!.copy_(randn([3]));
  });
  model.eval();
  const x = randn([5, 4]);
  const y = noGrad(() => model.forward(x) as Tensor);
  const path = join(tmp, 'neurite_sequential.safetensors');
  const metadata = { format: 'pt' };
  saveSafetensors(path, model, metadata);

  it('round-trips a state dict with PyTorch key names', () => {
    const { tensors, metadata: meta } = loadSafetensors(path);
    expect(meta).toEqual(metadata);
    const state = model.stateDict();
    expect([...tensors.keys()].sort()).toEqual([...state.keys()].sort());
    expect([...tensors.keys()].sort()).toEqual([
      '0.bias',
      '0.weight',
      '1.bias',
      '1.num_batches_tracked',
      '1.running_mean',
      '1.running_var',
      '1.weight',
      '2.bias',
      '2.weight',
    ]);
    for (const [k, t] of state) {
      expect(tensors.get(k)!.dtype).toBe(t.dtype);
      expect(tensors.get(k)!.toArray()).toEqual(t.toArray());
    }
    const fresh = torchLikeModel().eval();
    fresh.loadStateDict(tensors);
    expect(noGrad(() => fresh.forward(x) as Tensor).toArray()).toEqual(y.toArray());
  });

  it.runIf(hasPython)(
    'Python loads the Neurite file with safetensors.torch.load_file (byte-identical)',
    () => {
      const report = pythonCheck(path, {
        ...expectationOf(model.stateDict(), metadata),
        model: { input: x.toArray(), output: y.toArray(), tol: 1e-5 },
        byteIdentical: true,
      });
      console.log(
        `python interop check on ${path}: ok=${report.ok}, byte_identical=${report.byte_identical}, ` +
          `model_max_abs_err=${report.model_max_abs_err}`,
      );
      expect(report.ok).toBe(true);
      expect(report.byte_identical).toBe(true);
    },
  );

  it.runIf(hasPython)('Python reads every native dtype, 0-d, zero-size and non-contiguous tensors', () => {
    const state = new Map<string, Tensor>([
      ['f32', tensor(new Float32Array([1.5, Number.NaN, -Infinity, 1e-40]))],
      ['f64', randn([2, 3], { dtype: 'float64' })],
      ['f64_t', randn([3, 2], { dtype: 'float64' }).t()],
      ['i32', tensor([[-(2 ** 31), 0, 2 ** 31 - 1]], { dtype: 'int32' })],
      ['bool', tensor([true, false, true, true])],
      ['scalar', tensor(3, { dtype: 'int32' })],
      ['empty', randn([0, 4])],
      ['sliced', randn([4, 6]).transpose(0, 1).narrow(0, 1, 3)],
    ]);
    const file = join(tmp, 'neurite_dtypes.safetensors');
    saveSafetensors(file, state, { source: 'neurite' });
    const report = pythonCheck(file, { ...expectationOf(state, { source: 'neurite' }), byteIdentical: true });
    expect(report.ok).toBe(true);
    expect(report.dtypes).toEqual({
      bool: 'bool',
      empty: 'float32',
      f32: 'float32',
      f64: 'float64',
      f64_t: 'float64',
      i32: 'int32',
      scalar: 'int32',
      sliced: 'float32',
    });
  });

  if (!hasPython) {
    console.log(
      'safetensors interop: /usr/bin/python3 with torch + safetensors not found; Python checks not run',
    );
  }
});
