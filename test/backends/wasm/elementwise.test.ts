/**
 * ReLU and 2x2/stride-2 max pooling of the `wasm` backend (src/backends/wasm/elementwise.ts,
 * assembly/elementwise.ts) against the CPU backend's kernels, bit for bit (any NaN matching any NaN): special values (NaN of either
 * sign, ±0, ±Infinity, subnormals), ties, plane widths below, at and above the four lanes of a vector,
 * odd input sizes (uncovered rows and columns), non-contiguous operands, indices outside their window
 * (which fall back to the CPU kernel), tensors split into many chunks, and windows, dtypes and sizes the wasm kernels leave to the CPU;
 * and a ReLU + max-pool layer through autograd on both backends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Backend,
  maxPool2x2Window,
  type Pool2dWindow,
  type View,
} from '../../../src/backends/backend.js';
import { createCpuBackend } from '../../../src/backends/cpu/index.js';
import { CpuStorage } from '../../../src/backends/cpu/storage.js';
import {
  elementwiseLimits,
  wasmMaxPool2x2,
  wasmMaxPool2x2Backward,
  wasmRelu,
  wasmReluBackward,
} from '../../../src/backends/wasm/elementwise.js';
import { createWasmBackend, WasmKernels } from '../../../src/backends/wasm/index.js';
import { contiguousStrides } from '../../../src/core/shape.js';
import { getBackend, nn, setBackend, tensor } from '../../../src/index.js';

const cpu = createCpuBackend();
const wasm = createWasmBackend();
const kernels = new WasmKernels();
const defaults = { ...elementwiseLimits };

afterEach(() => {
  Object.assign(elementwiseLimits, defaults);
});

/** Float32 bit patterns of special values. */
const SPECIAL_BITS = [
  0x7fc00000, // NaN
  0xffc00000 | 0, // negative NaN
  0x7fa00001, // NaN with a payload
  0x80000000 | 0, // -0
  0, // +0
  0x7f800000, // Infinity
  0xff800000 | 0, // -Infinity
  1, // smallest subnormal
  0x80000001 | 0, // negative subnormal
];

/** Pseudo-random floats in [-1, 1] with every `every`-th element a special value (0: none), some quantized (ties). */
function data(n: number, seed: number, every = 7): Float32Array {
  const out = new Float32Array(n);
  const bits = new Int32Array(out.buffer);
  let s = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    const u = ((s >>> 8) & 0xffff) / 0x8000 - 1;
    out[i] = i % 3 === 0 ? Math.round(u * 2) / 2 : u;
    if (every > 0 && i % every === every - 1) bits[i] = SPECIAL_BITS[(s >>> 4) % SPECIAL_BITS.length]!;
  }
  return out;
}

/** A contiguous view of `a` on backend `be`, or (`transposed`) one whose last two dims are swapped in memory. */
function view(
  be: Backend,
  a: Float32Array | Int32Array | Float64Array,
  shape: number[],
  transposed = false,
): View {
  const dtype = a instanceof Int32Array ? 'int32' : a instanceof Float64Array ? 'float64' : 'float32';
  const storage = new CpuStorage(be, dtype, a);
  if (!transposed) return { storage, shape, strides: contiguousStrides(shape), offset: 0 };
  const r = shape.length;
  const st = contiguousStrides([...shape.slice(0, r - 2), shape[r - 1]!, shape[r - 2]!]);
  return { storage, shape, strides: [...st.slice(0, r - 2), st[r - 1]!, st[r - 2]!], offset: 0 };
}

/** The elements of a view in row-major order (to build transposed storages). */
function transposeLast(a: Float32Array | Int32Array, shape: number[]): typeof a {
  const r = shape.length;
  const [h, w] = [shape[r - 2]!, shape[r - 1]!];
  const out = new (a.constructor as Float32ArrayConstructor)(a.length);
  for (let p = 0; p < a.length / (h * w); p++) {
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) out[p * h * w + j * h + i] = a[p * h * w + i * w + j]!;
  }
  return out as typeof a;
}

function bitsOf(
  a: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; length: number },
): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

/**
 * Same bit patterns (so +0 and -0 differ), except that any NaN equals any NaN: V8 does not keep NaN
 * payloads through JS numbers the same way in every tier, so even two runs of one CPU loop may differ there.
 */
function expectSameBits(got: Float32Array | Int32Array, want: Float32Array | Int32Array): void {
  expect(got.length).toBe(want.length);
  const g = bitsOf(got);
  const w = bitsOf(want);
  const floats = got instanceof Float32Array;
  let bad = -1;
  for (let i = 0; i < g.length && bad < 0; i++) {
    if (g[i] !== w[i] && !(floats && Number.isNaN(got[i]) && Number.isNaN(want[i]))) bad = i;
  }
  expect(bad === -1 ? 'same' : `first difference at ${bad}: ${got[bad]} vs ${want[bad]}`).toBe('same');
}

function pool(inH: number, inW: number, opts: Partial<Pool2dWindow> = {}): Pool2dWindow {
  return { ...maxPool2x2Window(inH, inW), ...opts };
}

const read = (be: Backend, s: { storage?: unknown } | unknown) =>
  be.read(s as Parameters<Backend['read']>[0]) as Float32Array | Int32Array;

describe('wasm relu', () => {
  it.each([1, 3, 4, 5, 17, 1 << 15, (1 << 15) + 3])(
    'forward of %i elements matches the CPU bit for bit',
    (n) => {
      elementwiseLimits.minElements = 1;
      const x = data(n, n);
      const got = wasmRelu(kernels, view(wasm, x, [n]));
      const want = read(cpu, cpu.unary('relu', view(cpu, x, [n]), 'float32'));
      expect(got).not.toBeNull();
      expectSameBits(got!, want);
    },
  );

  it('forward of a non-contiguous view, through the backend', () => {
    const shape = [8, 64, 96];
    const x = data(8 * 64 * 96, 5);
    const t = transposeLast(x, shape);
    const got = read(wasm, wasm.unary('relu', view(wasm, t, shape, true), 'float32'));
    const want = read(cpu, cpu.unary('relu', view(cpu, x, shape), 'float32'));
    expectSameBits(got, want);
  });

  it.each([1, 6, 1 << 15, (1 << 15) + 1])('backward of %i elements matches the CPU bit for bit', (n) => {
    elementwiseLimits.minElements = 1;
    const g = data(n, 2 * n + 1);
    const y = data(n, 3 * n + 2, 5);
    const got = wasmReluBackward(kernels, view(wasm, g, [n]), view(wasm, y, [n]));
    const want = read(cpu, cpu.reluBackward(view(cpu, g, [n]), view(cpu, y, [n])));
    expect(got).not.toBeNull();
    expectSameBits(got!, want);
  });

  it('backward with a non-contiguous gradient, through the backend', () => {
    const shape = [4, 128, 72];
    const n = 4 * 128 * 72;
    const g = data(n, 11);
    const y = data(n, 12, 4);
    const got = read(
      wasm,
      wasm.reluBackward(view(wasm, transposeLast(g, shape), shape, true), view(wasm, y, shape)),
    );
    const want = read(cpu, cpu.reluBackward(view(cpu, g, shape), view(cpu, y, shape)));
    expectSameBits(got, want);
  });

  it('leaves small tensors and other dtypes to the CPU kernels', () => {
    expect(wasmRelu(kernels, view(wasm, data(100, 1), [100]))).toBeNull();
    const n = 1 << 16;
    const x64 = Float64Array.from(data(n, 1));
    expect(wasmRelu(kernels, view(wasm, x64, [n]))).toBeNull();
    const got = read(wasm, wasm.unary('relu', view(wasm, x64, [n]), 'float64'));
    const want = read(cpu, cpu.unary('relu', view(cpu, x64, [n]), 'float64'));
    expect(Array.from(got)).toEqual(Array.from(want));
    // Other unary ops are the CPU's.
    const x = data(n, 2);
    const e = read(wasm, wasm.unary('exp', view(wasm, x, [n]), 'float32'));
    expectSameBits(e, read(cpu, cpu.unary('exp', view(cpu, x, [n]), 'float32')));
  });
});

describe('wasm 2x2 max pooling', () => {
  // [N, C, H, W]: output widths 1..14, odd sizes (a row or column no window covers), ties and NaN.
  const shapes: [number, number, number, number][] = [
    [2, 3, 2, 2],
    [1, 2, 6, 6],
    [2, 2, 8, 8],
    [1, 3, 5, 11],
    [2, 1, 14, 14],
    [3, 2, 28, 28],
    [2, 3, 9, 15],
    [1, 1, 4, 30],
  ];

  it.each(shapes)('forward of [%i, %i, %i, %i] matches the CPU (values and indices)', (N, C, H, W) => {
    elementwiseLimits.minElements = 1;
    const shape = [N, C, H, W];
    const x = data(N * C * H * W, H * 31 + W, 5);
    const w = pool(H, W);
    const got = wasmMaxPool2x2(kernels, view(wasm, x, shape), w);
    const want = cpu.maxPool2d(view(cpu, x, shape), w);
    expect(got).not.toBeNull();
    expectSameBits(got!.values, read(cpu, want.values));
    expectSameBits(got!.indices, read(cpu, want.indices));
  });

  it.each(shapes)('backward of [%i, %i, %i, %i] matches the CPU', (N, C, H, W) => {
    elementwiseLimits.minElements = 1;
    const shape = [N, C, H, W];
    const w = pool(H, W);
    const oshape = [N, C, w.outH, w.outW];
    const m = N * C * w.outH * w.outW;
    const idx = read(
      cpu,
      cpu.maxPool2d(view(cpu, data(N * C * H * W, W, 3), shape), w).indices,
    ) as Int32Array;
    const g = data(m, H + 7, 4);
    const got = wasmMaxPool2x2Backward(kernels, view(wasm, g, oshape), view(wasm, idx, oshape), w);
    const want = read(cpu, cpu.maxPool2dBackward(view(cpu, g, oshape), view(cpu, idx, oshape), w));
    expect(got).not.toBeNull();
    expectSameBits(got!, want);
  });

  it('forward and backward of non-contiguous operands, through the backend', () => {
    const shape = [8, 16, 28, 28];
    const x = data(8 * 16 * 28 * 28, 9);
    const w = pool(28, 28);
    const got = wasm.maxPool2d(view(wasm, transposeLast(x, shape), shape, true), w);
    const want = cpu.maxPool2d(view(cpu, x, shape), w);
    expectSameBits(read(wasm, got.values), read(cpu, want.values));
    expectSameBits(read(wasm, got.indices), read(cpu, want.indices));
    const oshape = [8, 16, 14, 14];
    const idx = read(cpu, want.indices) as Int32Array;
    const g = data(8 * 16 * 14 * 14, 10);
    const gb = wasm.maxPool2dBackward(
      view(wasm, transposeLast(g, oshape), oshape, true),
      view(wasm, transposeLast(idx, oshape), oshape, true),
      w,
    );
    expectSameBits(
      read(wasm, gb),
      read(cpu, cpu.maxPool2dBackward(view(cpu, g, oshape), view(cpu, idx, oshape), w)),
    );
  });

  it('backward falls back to the CPU kernel when an index is outside its window', () => {
    const shape = [4, 8, 32, 32];
    const w = pool(32, 32);
    const oshape = [4, 8, 16, 16];
    const m = 4 * 8 * 16 * 16;
    const idx = read(cpu, cpu.maxPool2d(view(cpu, data(4 * 8 * 32 * 32, 1), shape), w).indices) as Int32Array;
    const g = data(m, 2, 0);
    for (const at of [0, 5, m - 1]) {
      const bad = idx.slice();
      bad[at] = (bad[at]! + 2 * 32) % (32 * 32); // a row pair further down
      expect(wasmMaxPool2x2Backward(kernels, view(wasm, g, oshape), view(wasm, bad, oshape), w)).toBeNull();
      const got = read(wasm, wasm.maxPool2dBackward(view(wasm, g, oshape), view(wasm, bad, oshape), w));
      const want = read(cpu, cpu.maxPool2dBackward(view(cpu, g, oshape), view(cpu, bad, oshape), w));
      expectSameBits(got, want);
    }
  });

  it('leaves other windows, dtypes and small tensors to the CPU kernels', () => {
    const shape = [4, 8, 32, 32];
    const x = data(4 * 8 * 32 * 32, 3);
    const others: Pool2dWindow[] = [
      pool(32, 32, { sh: 1, sw: 1, outH: 31, outW: 31 }),
      pool(32, 32, { kh: 3, kw: 3, sh: 3, sw: 3, outH: 10, outW: 10 }),
      pool(32, 32, { ph: 1, pw: 1, outH: 17, outW: 17 }),
      pool(32, 32, { adaptive: true, outH: 16, outW: 16 }),
    ];
    for (const w of others) {
      expect(wasmMaxPool2x2(kernels, view(wasm, x, shape), w)).toBeNull();
      const got = wasm.maxPool2d(view(wasm, x, shape), w);
      const want = cpu.maxPool2d(view(cpu, x, shape), w);
      expectSameBits(read(wasm, got.values), read(cpu, want.values));
      expectSameBits(read(wasm, got.indices), read(cpu, want.indices));
    }
    expect(wasmMaxPool2x2(kernels, view(wasm, Float64Array.from(x), shape), pool(32, 32))).toBeNull();
    expect(wasmMaxPool2x2(kernels, view(wasm, data(64, 1), [1, 1, 8, 8]), pool(8, 8))).toBeNull();
  });
});

describe('in chunks', () => {
  it('relu, its backward and pooling give the same results when the tensors go through in many chunks', () => {
    const shape = [3, 5, 18, 26];
    const n = 3 * 5 * 18 * 26;
    const x = data(n, 31);
    const g = data(n, 32);
    const w = pool(18, 26);
    const oshape = [3, 5, 9, 13];
    const gp = data(3 * 5 * 9 * 13, 33);
    const run = () => {
      const p = wasmMaxPool2x2(kernels, view(wasm, x, shape), w)!;
      return {
        relu: wasmRelu(kernels, view(wasm, x, shape))!,
        back: wasmReluBackward(kernels, view(wasm, g, shape), view(wasm, x, shape))!,
        values: p.values,
        indices: p.indices,
        poolBack: wasmMaxPool2x2Backward(kernels, view(wasm, gp, oshape), view(wasm, p.indices, oshape), w)!,
      };
    };
    elementwiseLimits.minElements = 1;
    const whole = run();
    // 100 bytes: 4 elements per chunk of the elementwise kernels, one plane per chunk of pooling.
    for (const bytes of [100, 3000, 9000]) {
      elementwiseLimits.chunkBytes = bytes;
      const chunked = run();
      for (const key of Object.keys(whole) as (keyof typeof whole)[])
        expectSameBits(chunked[key], whole[key]);
    }
    expectSameBits(whole.relu, read(cpu, cpu.unary('relu', view(cpu, x, shape), 'float32')));
  });

  it('pooling backward falls back when an index outside its window is in a later chunk', () => {
    const shape = [2, 4, 8, 8];
    const w = pool(8, 8);
    const oshape = [2, 4, 4, 4];
    const idx = read(cpu, cpu.maxPool2d(view(cpu, data(2 * 4 * 64, 5), shape), w).indices) as Int32Array;
    idx[7 * 16 + 3] = 0;
    const g = data(2 * 4 * 16, 6, 0);
    elementwiseLimits.minElements = 1;
    elementwiseLimits.chunkBytes = 4 * (64 + 32);
    expect(wasmMaxPool2x2Backward(kernels, view(wasm, g, oshape), view(wasm, idx, oshape), w)).toBeNull();
  });
});

describe('through autograd', () => {
  it('ReLU then 2x2 max pooling: same output and input gradient on the wasm and cpu backends', () => {
    const before = getBackend().name;
    const shape = [8, 16, 28, 28];
    const x0 = data(8 * 16 * 28 * 28, 21, 0);
    const g0 = data(8 * 16 * 14 * 14, 22, 0);
    const run = (name: string) => {
      setBackend(name);
      const x = tensor(x0, { shape, requiresGrad: true });
      const y = new nn.MaxPool2d(2).forward(new nn.ReLU().forward(x.mul(2)));
      y.backward(tensor(g0, { shape: [8, 16, 14, 14] }));
      return { y: y.dataSync() as Float32Array, dx: x.grad!.dataSync() as Float32Array };
    };
    try {
      const w = run('wasm');
      const c = run('cpu');
      expectSameBits(w.y, c.y);
      expectSameBits(w.dx, c.dx);
      // The gradient reaches one element of each window where its max is positive.
      expect(c.dx.filter((v) => v !== 0).length).toBeGreaterThan(8 * 16 * 14 * 14 * 0.4);
    } finally {
      setBackend(before);
    }
  });
});
