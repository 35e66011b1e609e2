/**
 * Batch normalisation of the `wasm` backend (src/backends/wasm/batchnorm.ts, assembly/batchnorm.ts)
 * against the CPU backend's kernels, bit for bit: statistics, the normalisation (with and without weight
 * and bias) and the backward, for channel counts that leave 0-3 channels outside the groups of four or two
 * the kernels sum together, planes narrower than a vector, non-contiguous inputs, and special values;
 * float64, small tensors and the memory limit left to the CPU kernels; a BatchNorm2d layer trained on
 * both backends gives the same bits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, View } from '../../../src/backends/backend.js';
import { createCpuBackend } from '../../../src/backends/cpu/index.js';
import { CpuStorage } from '../../../src/backends/cpu/storage.js';
import {
  batchNormLimits,
  wasmBatchNormBackward,
  wasmBatchNormForward,
  wasmBatchNormStats,
} from '../../../src/backends/wasm/batchnorm.js';
import { createWasmBackend, WasmKernels } from '../../../src/backends/wasm/index.js';
import { contiguousStrides } from '../../../src/core/shape.js';
import { getBackend, manualSeed, nn, randn, setBackend, type Tensor } from '../../../src/index.js';

const cpu = createCpuBackend();
const wasm = createWasmBackend();
const kernels = new WasmKernels();
const defaults = { ...batchNormLimits };
afterEach(() => {
  Object.assign(batchNormLimits, defaults);
});

function rand(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++)
    out[i] = scale * Math.sin(i * 0.731 + seed * 1.37) * Math.cos(i * 0.113 + seed) + 0.3;
  return out;
}

function view(be: Backend, data: Float32Array | Float64Array, shape: number[]): View {
  const dt = data instanceof Float64Array ? 'float64' : 'float32';
  return { storage: new CpuStorage(be, dt, data), shape, strides: contiguousStrides(shape), offset: 0 };
}

/** Every element the same (NaN matches NaN). */
function expectSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  let differ = 0;
  let first = -1;
  for (let i = 0; i < want.length; i++) {
    const a = got[i]!;
    const b = want[i]!;
    if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)))) {
      differ++;
      if (first < 0) first = i;
    }
  }
  expect(differ, `${what}: ${differ} differ, first at ${first}: ${got[first]} vs ${want[first]}`).toBe(0);
}

function data(s: unknown): Float32Array {
  return (s as CpuStorage).data as Float32Array;
}

/** Statistics, forward and backward of one [N, C, ...] case on both, compared. */
function checkCase(shape: number[], affine: boolean, x0?: Float32Array): void {
  const [, C] = shape as [number, number];
  const n = shape.reduce((a, b) => a * b, 1);
  const xd = x0 ?? rand(n, 1, 3);
  const x = view(cpu, xd, shape);
  const what = `${JSON.stringify(shape)} affine ${affine}`;
  const stats = wasmBatchNormStats(kernels, x)!;
  expect(stats, what).not.toBeNull();
  const want = cpu.batchNormStats(x);
  expectSame(stats.mean, data(want.mean), `mean of ${what}`);
  expectSame(stats.variance, data(want.variance), `variance of ${what}`);
  const mean = view(cpu, data(want.mean), [C]);
  const invstd = view(
    cpu,
    data(want.variance).map((v) => 1 / Math.sqrt(v + 1e-5)),
    [C],
  );
  const w = affine ? view(cpu, rand(C, 2), [C]) : null;
  const b = affine ? view(cpu, rand(C, 3), [C]) : null;
  expectSame(
    wasmBatchNormForward(kernels, x, mean, invstd, w, b)!,
    data(cpu.batchNormForward(x, mean, invstd, w, b)),
    `forward of ${what}`,
  );
  const g = view(cpu, rand(n, 4), shape);
  const got = wasmBatchNormBackward(kernels, g, x, mean, invstd, w)!;
  const ref = cpu.batchNormBackward(g, x, mean, invstd, w);
  expectSame(got.dx, data(ref.dx), `dx of ${what}`);
  expectSame(got.dweight, data(ref.dweight), `dweight of ${what}`);
  expectSame(got.dbias, data(ref.dbias), `dbias of ${what}`);
}

describe('wasm batch norm kernels', () => {
  it('match the CPU kernels bit for bit: channel counts, plane sizes, with and without weight and bias', () => {
    batchNormLimits.minElements = 1;
    for (const shape of [
      [64, 16, 28, 28], // the MNIST main job's first block
      [8, 32, 7, 7],
      [5, 7, 3, 5], // 7 channels: one group of four, one of two, one alone; planes of 15 (3 past a vector)
      [3, 6, 2], // 1-d batch norm over [N, C, L]
      [4, 5], // BatchNorm1d over [N, C]: planes of one element
      [2, 1, 9, 9], // a single channel
      [1, 3, 4, 4], // one sample
    ]) {
      for (const affine of [true, false]) checkCase(shape, affine);
    }
  });

  it('keep special values as the CPU kernels do (infinities, NaN, zeros, subnormals, huge values)', () => {
    batchNormLimits.minElements = 1;
    const shape = [3, 5, 4, 3];
    const x = rand(180, 5, 2);
    x[0] = 0;
    x[1] = -0;
    x[7] = 1e-42;
    x[20] = 3e38; // channel 1 overflows its sum of squares to Infinity
    x[61] = Number.NaN; // channel 0 of sample 1
    x[100] = Number.POSITIVE_INFINITY;
    checkCase(shape, true, x);
  });

  it('non-contiguous inputs are read in row-major order, like the CPU kernels', () => {
    batchNormLimits.minElements = 1;
    const base = rand(2 * 3 * 4 * 5, 6);
    // A [2, 3, 5, 4] view of [2, 3, 4, 5] data: the last two dims transposed.
    const x: View = {
      storage: new CpuStorage(cpu, 'float32', base),
      shape: [2, 3, 5, 4],
      strides: [60, 20, 1, 5],
      offset: 0,
    };
    const got = wasmBatchNormStats(kernels, x)!;
    const want = cpu.batchNormStats(x);
    expectSame(got.mean, data(want.mean), 'mean');
    expectSame(got.variance, data(want.variance), 'variance');
  });

  it('leave float64, small tensors and tensors over the memory limit to the CPU kernels', () => {
    const x64 = view(cpu, Float64Array.from(rand(64 * 16 * 4, 7)), [64, 16, 4]);
    expect(wasmBatchNormStats(kernels, x64)).toBeNull();
    const small = view(cpu, rand(4 * 3 * 4, 8), [4, 3, 4]);
    expect(wasmBatchNormStats(kernels, small)).toBeNull(); // under minElements
    const big = { ...view(cpu, new Float32Array(1), [1, 1]), shape: [1 << 12, 1, 1 << 12] };
    expect(wasmBatchNormStats(kernels, big as View)).toBeNull(); // 64 MiB of data: over the private memory
    // Through the backend: the same results and a wasm storage either way.
    const r = wasm.batchNormStats(view(wasm, Float64Array.from(rand(300, 9)), [10, 3, 10]));
    expect(r.mean.backend).toBe(wasm);
    expect(r.mean.dtype).toBe('float64');
  });
});

describe('BatchNorm2d on the wasm backend', () => {
  it('trains to the same bits as on the cpu backend (training and eval mode)', () => {
    const previous = getBackend().name;
    const run = (backend: string): Float32Array[] => {
      setBackend(backend);
      manualSeed(31);
      const bn = new nn.BatchNorm2d(16);
      const x = randn([32, 16, 8, 8]).mul(2).add(0.5).requiresGrad_();
      const out: Float32Array[] = [];
      for (let step = 0; step < 2; step++) {
        const y = bn.forward(x) as Tensor;
        y.pow(2).sum().backward();
        out.push(
          y.dataSync() as Float32Array,
          x.grad!.dataSync() as Float32Array,
          bn.weight!.grad!.dataSync() as Float32Array,
        );
        x.grad = null;
      }
      bn.eval();
      out.push((bn.forward(x) as Tensor).dataSync() as Float32Array);
      return out;
    };
    try {
      const onCpu = run('cpu');
      const onWasm = run('wasm');
      onWasm.forEach((a, i) => {
        expectSame(a, onCpu[i]!, `result ${i}`);
      });
    } finally {
      setBackend(previous);
    }
  });
});
