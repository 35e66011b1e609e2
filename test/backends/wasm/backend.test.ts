/**
 * The `wasm` backend as a whole: registration, float32 matmul through the WebAssembly SGEMM (all the
 * layouts ops can hand it) against the CPU backend, delegation of every other kernel with results owned
 * by the wasm backend, and the fallback to the CPU backend where WebAssembly SIMD is missing.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { View } from '../../../src/backends/backend.js';
import { createCpuBackend } from '../../../src/backends/cpu/index.js';
import {
  createWasmBackend,
  wasmSimdSupported,
  wasmUnsupportedReason,
} from '../../../src/backends/wasm/index.js';
import {
  type Backend,
  getBackend,
  listBackends,
  manualSeed,
  nn,
  OutOfMemoryError,
  randn,
  registerBackend,
  setBackend,
  Tensor,
  tensor,
} from '../../../src/index.js';

/** Runs `fn` with backend `name` selected, then restores the one the suite runs on. */
function onBackend<T>(name: string, fn: () => T): T {
  const saved = process.env.NEURITE_BACKEND ?? 'cpu';
  setBackend(name);
  try {
    return fn();
  } finally {
    setBackend(saved);
  }
}

/** A copy of `t` on the current backend. */
function copyHere(t: Tensor): Tensor {
  return tensor(Array.from(t.dataSync()), { dtype: t.dtype }).reshape(t.shape);
}

/** A copy of `t` (values, shape) whose storage belongs to backend `b`. */
function on(b: Backend, t: Tensor): Tensor {
  return new Tensor(b.fromArray(t.contiguous().dataSync().slice()), t.shape);
}

function maxRelErr(got: Tensor, want: Tensor): number {
  expect(got.shape).toEqual(want.shape);
  const g = got.dataSync();
  const w = want.dataSync();
  let scale = 1e-30;
  for (let i = 0; i < w.length; i++) scale = Math.max(scale, Math.abs(w[i]!));
  let worst = 0;
  for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(g[i]! - w[i]!) / scale);
  return worst;
}

const wasm = createWasmBackend();
const cpu = createCpuBackend();

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('wasm backend: registration', () => {
  it('is registered, and setBackend("wasm") selects it on this machine (SIMD available)', () => {
    expect(listBackends()).toContain('wasm');
    expect(wasmSimdSupported()).toBe(true);
    expect(wasmUnsupportedReason()).toBeNull();
    onBackend('wasm', () => {
      expect(getBackend().name).toBe('wasm');
      const x = randn([3, 4]);
      expect(x.storage.backend.name).toBe('wasm');
      expect(x.matmul(randn([4, 2])).storage.backend.name).toBe('wasm');
    });
  });

  it('the suite runs on cpu unless NEURITE_BACKEND says otherwise (the library default is covered in default-backend.test.ts)', () => {
    if (process.env.NEURITE_BACKEND === undefined) expect(getBackend().name).toBe('cpu');
    expect(wasm.name).toBe('wasm');
  });
});

describe('wasm backend: float32 matmul through the SIMD kernel', () => {
  manualSeed(3);
  const cases: [string, () => [Tensor, Tensor]][] = [
    ['2-d', () => [randn([37, 29]), randn([29, 41])]],
    ['matrix-vector shapes', () => [randn([1, 300]), randn([300, 7])]],
    ['batched', () => [randn([3, 13, 17]), randn([3, 17, 9])]],
    ['batch broadcast on B (folded into one product)', () => [randn([4, 6, 11]), randn([11, 10])]],
    ['batch broadcast on A', () => [randn([6, 11]), randn([5, 11, 10])]],
    ['broadcast batch dims both ways', () => [randn([2, 1, 5, 7]), randn([1, 3, 7, 4])]],
    ['transposed A and B', () => [randn([23, 31]).t(), randn([19, 23]).t()]],
    [
      'transposed batch operands',
      () => [randn([2, 9, 6]).transpose(1, 2), randn([2, 8, 9]).transpose(-1, -2)],
    ],
    [
      'permuted 3-d operands',
      () => [randn([5, 2, 7]).permute([1, 0, 2]), randn([7, 2, 3]).permute([1, 0, 2])],
    ],
    [
      'sliced (offset) operands',
      () => [randn([10, 12]).slice(0, 3, 9).slice(1, 2, 11), randn([9, 8]).slice(0, 0, 9)],
    ],
    ['sparse strided slice (gathered)', () => [randn([64, 4000]).slice(1, 0, 4000, 800), randn([5, 3])]],
    [
      'sparse operand broadcast over the batch',
      () => [randn([3, 6, 5]), randn([5, 4000]).slice(1, 0, 4000, 400)],
    ],
    ['expanded (stride 0) rows', () => [randn([1, 6]).expand([7, 6]), randn([6, 5])]],
    ['long k across several blocks', () => [randn([9, 1000]), randn([1000, 12])]],
  ];
  for (const [name, make] of cases) {
    it(name, () => {
      const [a, b] = make();
      const want = on(cpu, a).matmul(on(cpu, b));
      const aw = new Tensor(
        wasm.fromArray(a.storage.backend.read(a.storage).slice()),
        a.shape,
        a.strides,
        a.offset,
      );
      const bw = new Tensor(
        wasm.fromArray(b.storage.backend.read(b.storage).slice()),
        b.shape,
        b.strides,
        b.offset,
      );
      const got = aw.matmul(bw);
      expect(got.dtype).toBe('float32');
      expect(got.storage.backend).toBe(wasm);
      expect(maxRelErr(got, want)).toBeLessThan(1e-5);
    });
  }

  it('reads negative strides (a reversed view) in place', () => {
    const a = randn([6, 7]);
    const b = randn([7, 9]);
    const data = a.dataSync().slice() as Float32Array;
    // A reversed in both dims: element (0, 0) is the last one.
    const rev: View = { storage: wasm.fromArray(data), shape: [1, 6, 7], strides: [0, -7, -1], offset: 41 };
    const bv: View = {
      storage: wasm.fromArray(b.dataSync().slice()),
      shape: [1, 7, 9],
      strides: [63, 9, 1],
      offset: 0,
    };
    const got = new Tensor(wasm.matmul(rev, bv, 'float32'), [6, 9]);
    const want = on(cpu, a).flip([0, 1]).matmul(on(cpu, b));
    expect(maxRelErr(got, want)).toBeLessThan(1e-5);
  });

  it('empty products and k = 0', () => {
    onBackend('wasm', () => {
      expect(randn([0, 3]).matmul(randn([3, 4])).shape).toEqual([0, 4]);
      expect(randn([2, 3]).matmul(randn([3, 0])).shape).toEqual([2, 0]);
      const z = randn([2, 0]).matmul(randn([0, 5]));
      expect(z.shape).toEqual([2, 5]);
      expect(Array.from(z.dataSync())).toEqual(new Array(10).fill(0));
    });
  });

  it('float64 products run on the CPU kernel and stay on the wasm backend', () => {
    onBackend('wasm', () => {
      const a = randn([5, 6], { dtype: 'float64' });
      const b = randn([6, 3], { dtype: 'float64' });
      const c = a.matmul(b);
      expect(c.dtype).toBe('float64');
      expect(c.storage.backend.name).toBe('wasm');
      expect(maxRelErr(c, on(cpu, a).matmul(on(cpu, b)))).toBeLessThan(1e-14);
    });
  });

  it('gradients through matmul match the CPU backend', () => {
    const a0 = randn([4, 7, 5]);
    const b0 = randn([5, 6]);
    const grads = (a: Tensor, b: Tensor): Tensor[] => {
      a.requiresGrad = true;
      b.requiresGrad = true;
      a.matmul(b).tanh().sum().backward();
      return [a.grad!, b.grad!];
    };
    // Under setBackend('wasm') so that the gradient seed (ones) is created there too.
    const [ga, gb] = onBackend('wasm', () => grads(copyHere(a0), copyHere(b0)));
    const [wa, wb] = grads(on(cpu, a0), on(cpu, b0));
    expect(ga!.storage.backend.name).toBe('wasm');
    expect(maxRelErr(ga!, wa!)).toBeLessThan(1e-5);
    expect(maxRelErr(gb!, wb!)).toBeLessThan(1e-5);
  });

  it('a product too large for the linear memory throws an OutOfMemoryError (test/backends/wasm/oom.test.ts)', () => {
    const big = createWasmBackend();
    const a = on(big, randn([3, 4]));
    const b = on(big, randn([4, 5]));
    // Simulate the engine refusing to grow the memory.
    vi.spyOn(WebAssembly.Memory.prototype, 'grow').mockImplementation(() => {
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    });
    const x = randn([600, 600]);
    const y = randn([600, 600]);
    expect(() => on(big, x).matmul(on(big, y))).toThrow(OutOfMemoryError);
    // Products that fit in the memory it has still run.
    expect(maxRelErr(a.matmul(b), on(cpu, a).matmul(on(cpu, b)))).toBeLessThan(1e-5);
  });
});

describe('wasm backend: delegated kernels', () => {
  it('returns storages owned by the wasm backend, so later ops stay on it', () => {
    onBackend('wasm', () => {
      const x = randn([2, 3, 6, 6]);
      expect(x.exp().storage.backend.name).toBe('wasm');
      expect(x.sum(1).storage.backend.name).toBe('wasm');
      expect(x.add(1).mul(x).storage.backend.name).toBe('wasm');
      const pool = nn.functional.maxPool2d(x, 2);
      expect(pool.storage.backend.name).toBe('wasm');
      expect(x.gt(0).storage.backend.name).toBe('wasm');
      expect(x.cumsum(2).storage.backend.name).toBe('wasm');
      expect(tensor([1, 2, 3]).storage.backend.name).toBe('wasm');
    });
  });

  it('computes the same values as the CPU backend', () => {
    const x = randn([3, 4, 5]);
    const xs = [on(wasm, x), on(cpu, x)];
    const [r1, r2] = xs.map((t) => t.softmax(-1).mul(t.tanh()).cumsum(1).max(2).values);
    expect(maxRelErr(r1!, r2!)).toBe(0);
  });

  it('mixes with tensors created on the CPU backend', () => {
    const c = on(cpu, randn([3, 4]));
    const w = on(wasm, randn([4, 2]));
    expect(c.matmul(w).shape).toEqual([3, 2]);
    expect(w.t().matmul(c.t()).shape).toEqual([2, 3]);
  });
});

describe('wasm backend: fallback without WebAssembly SIMD', () => {
  it('setBackend falls back to the CPU backend with one warning when SIMD does not validate', () => {
    vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    registerBackend('wasm-nosimd', () => createWasmBackend());
    onBackend('wasm-nosimd', () => {
      expect(getBackend().name).toBe('cpu');
      expect(randn([2, 3]).matmul(randn([3, 2])).shape).toEqual([2, 2]);
    });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(
      /^neurite: WebAssembly SIMD \(128-bit\) is not supported; the 'wasm' backend falls back to the 'cpu' backend$/,
    );
    expect(wasmSimdSupported()).toBe(false);
  });

  it('falls back when there is no WebAssembly at all', () => {
    vi.stubGlobal('WebAssembly', undefined);
    const messages: string[] = [];
    const b = createWasmBackend({ warn: (m) => messages.push(m) });
    expect(b.name).toBe('cpu');
    expect(messages).toEqual([
      "neurite: WebAssembly is not available; the 'wasm' backend falls back to the 'cpu' backend",
    ]);
  });

  it('falls back when the kernels fail to instantiate (e.g. a browser limit or a CSP)', () => {
    const real = WebAssembly;
    vi.stubGlobal('WebAssembly', {
      validate: real.validate,
      Module: real.Module,
      Memory: real.Memory,
      Instance: class {
        constructor() {
          throw new RangeError('WebAssembly.Instance is disallowed on the main thread');
        }
      },
    });
    const messages: string[] = [];
    const b = createWasmBackend({ warn: (m) => messages.push(m) });
    expect(b.name).toBe('cpu');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(
      /the WebAssembly kernels failed to load \(WebAssembly.Instance is disallowed/,
    );
  });
});
