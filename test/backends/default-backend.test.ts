/**
 * The library's default backend: `wasm` where it loads, created lazily on first use; else `cpu` with a
 * one-line notice; where the engine refuses to compile WebAssembly synchronously (a browser's main
 * thread) `cpu` serves until `ready()` has compiled the kernels asynchronously. Tensors created on the
 * two backends mix freely (both keep their data in JS typed arrays).
 *
 * Each test imports a fresh copy of the library (`vi.resetModules`), so it sees the default untouched
 * by test/setup.ts, which selects the backend the suite runs on explicitly.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import { build } from 'esbuild';
import { afterEach, describe, expect, it, vi } from 'vitest';

type Lib = typeof import('../../src/index.js');
type Tensor = import('../../src/index.js').Tensor;

/** A copy of the library with fresh module state (no backend chosen or created yet). */
async function freshLib(): Promise<Lib> {
  vi.resetModules();
  return await import('../../src/index.js');
}

/** Engines that refuse to compile WebAssembly synchronously, like a browser's main thread did (Chrome: over 4 KB). */
function refuseSyncCompile(): void {
  const real = WebAssembly;
  const fake: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(real))
    fake[key] = (real as unknown as Record<string, unknown>)[key];
  fake.Module = class {
    constructor() {
      throw new RangeError(
        'WebAssembly.Module(): Buffer size is larger than 4 KB. Use WebAssembly.compile, or compile on a worker thread.',
      );
    }
  };
  vi.stubGlobal('WebAssembly', fake);
}

/** Plain-JS matrix product of row-major m x k and k x n arrays (the reference). */
function refMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): number[] {
  const out = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
      out[i * n + j] = s;
    }
  return out;
}

function expectClose(got: Tensor, want: ArrayLike<number>, tol = 1e-5): void {
  const g = got.dataSync();
  expect(g.length).toBe(want.length);
  let scale = 1e-30;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) expect(Math.abs(g[i]! - want[i]!) / scale).toBeLessThan(tol);
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('default backend', () => {
  it('importing creates no backend; the first use creates the wasm backend', async () => {
    const validate = vi.spyOn(WebAssembly, 'validate');
    const lib = await freshLib();
    expect(validate).not.toHaveBeenCalled(); // no feature detection, no compilation at import
    expect(lib.getBackend().name).toBe('wasm');
    expect(validate).toHaveBeenCalled();
    const x = lib.randn([4, 3]);
    expect(x.storage.backend.name).toBe('wasm');
    expect(x.matmul(lib.randn([3, 2])).storage.backend.name).toBe('wasm');
    expect(lib.wasmMemoryBytes()).toBeGreaterThan(0);
    expect((await lib.ready()).name).toBe('wasm');
  });

  it('setBackend("cpu") before the first use never loads the wasm backend', async () => {
    const validate = vi.spyOn(WebAssembly, 'validate');
    const lib = await freshLib();
    lib.setBackend('cpu');
    expect(lib.randn([2, 2]).storage.backend.name).toBe('cpu');
    expect((await lib.ready()).name).toBe('cpu');
    expect(validate).not.toHaveBeenCalled();
  });

  it('falls back to cpu with exactly one one-line notice where WebAssembly SIMD does not validate', async () => {
    vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const lib = await freshLib();
    expect(lib.getBackend().name).toBe('cpu');
    const a = lib.randn([3, 4]);
    const b = lib.randn([4, 2]);
    expectClose(a.matmul(b), refMatmul(a.dataSync(), b.dataSync(), 3, 4, 2));
    lib.setBackend('wasm'); // asking for it explicitly still works, on the same fallback
    expect(lib.getBackend().name).toBe('cpu');
    expect(warn).toHaveBeenCalledTimes(1);
    const notice = String(warn.mock.calls[0]![0]);
    expect(notice).not.toContain('\n');
    expect(notice).toMatch(/^neurite: WebAssembly SIMD \(128-bit\) is not supported; .*'cpu' backend$/);
  });

  it('falls back to cpu where there is no WebAssembly at all', async () => {
    vi.stubGlobal('WebAssembly', undefined);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const lib = await freshLib();
    expect(lib.randn([2]).storage.backend.name).toBe('cpu');
    expect((await lib.ready()).name).toBe('cpu');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/^neurite: WebAssembly is not available; /);
  });
});

describe('backend registry: priorities and asynchronous factories', () => {
  it('a backend registered without a priority never becomes the default; one with a higher priority does', async () => {
    const lib = await freshLib();
    const { createCpuBackend } = await import('../../src/backends/cpu/index.js');
    lib.registerBackend('plain', () => ({ ...createCpuBackend(), name: 'plain' }));
    expect(lib.getBackend().name).toBe('wasm');
    lib.registerBackend('preferred', () => ({ ...createCpuBackend(), name: 'preferred' }), { priority: 5 });
    expect(lib.getBackend().name).toBe('preferred');
    lib.setBackend('plain');
    expect(lib.getBackend().name).toBe('plain');
  });

  it('an asynchronous factory that rejects: one notice, and the next backend in line serves', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const lib = await freshLib();
    lib.registerBackend('gpu', () => Promise.reject(new Error('no adapter')), { priority: 10 });
    expect(lib.getBackend().name).toBe('wasm');
    expect((await lib.ready()).name).toBe('wasm');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toBe(
      "neurite: the 'gpu' backend failed to load (no adapter); using the next backend in line",
    );
    lib.setBackend('gpu'); // failed for good: the next in line keeps serving, without a new notice
    expect(lib.getBackend().name).toBe('wasm');
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('an unknown name is a ValueError that lists the registered backends', async () => {
    const lib = await freshLib();
    expect(() => lib.setBackend('tpu')).toThrow(lib.ValueError);
    expect(() => lib.setBackend('tpu')).toThrow("setBackend: unknown backend 'tpu' (registered: cpu, wasm)");
    expect(lib.getBackend().name).toBe('wasm');
  });
});

describe('default backend where WebAssembly only compiles asynchronously (browser main thread)', () => {
  it('serves on cpu without a crash or notice until ready() has compiled the kernels, then on wasm', async () => {
    refuseSyncCompile();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const lib = await freshLib();
    lib.manualSeed(1);
    const a = lib.randn([5, 7], { requiresGrad: true });
    expect(a.storage.backend.name).toBe('cpu');
    expect(lib.getBackend().name).toBe('cpu');
    const backend = await lib.ready();
    expect(backend.name).toBe('wasm');
    expect(lib.getBackend()).toBe(backend);
    const b = lib.randn([7, 3], { requiresGrad: true });
    expect(b.storage.backend.name).toBe('wasm');
    expect(warn).not.toHaveBeenCalled();
    // cpu x wasm and wasm x cpu, forward and backward, against plain loops.
    const av = Array.from(a.dataSync());
    const bv = Array.from(b.dataSync());
    expectClose(a.matmul(b), refMatmul(av, bv, 5, 7, 3));
    expectClose(b.t().matmul(a.t()).t(), refMatmul(av, bv, 5, 7, 3));
    a.matmul(b).sum().backward();
    // d(sum(AB))/dA = 1 B^T: row sums of B for every row of A.
    const rowSums = Array.from({ length: 7 }, (_, p) => bv[p * 3]! + bv[p * 3 + 1]! + bv[p * 3 + 2]!);
    expectClose(
      a.grad!,
      Array.from({ length: 35 }, (_, i) => rowSums[i % 7]!),
    );
    const colSums = Array.from({ length: 7 }, (_, p) =>
      av.reduce((s, _v, i) => s + (i % 7 === p ? av[i]! : 0), 0),
    );
    expectClose(
      b.grad!,
      Array.from({ length: 21 }, (_, i) => colSums[Math.floor(i / 3)]!),
    );
  });

  it('setBackend("wasm") before the kernels have compiled serves on cpu, then on wasm', async () => {
    refuseSyncCompile();
    const lib = await freshLib();
    lib.setBackend('wasm');
    expect(lib.getBackend().name).toBe('cpu');
    expect((await lib.ready()).name).toBe('wasm');
  });

  it('setBackend("cpu") while the kernels compile keeps cpu once they have', async () => {
    refuseSyncCompile();
    const lib = await freshLib();
    expect(lib.getBackend().name).toBe('cpu'); // starts the compilation for the default
    lib.setBackend('cpu');
    expect((await lib.ready()).name).toBe('cpu');
    expect(lib.getBackend().name).toBe('cpu');
    lib.setBackend('wasm'); // compiled by now: selected at once
    expect(lib.getBackend().name).toBe('wasm');
  });

  it('the browser bundle in a bare context: cpu until `await ready()`, then wasm', async () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const res = await build({
      entryPoints: [join(root, 'src', 'index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'Neurite',
      write: false,
      logLevel: 'silent',
    });
    const ctx = createContext({});
    runInContext(
      `WebAssembly.Module = function () { throw new RangeError('WebAssembly.Module(): synchronous compilation is disallowed on the main thread'); };`,
      ctx,
    );
    runInContext(res.outputFiles[0]!.text, ctx);
    const out = await (runInContext(
      `(async () => {
        const N = Neurite;
        const before = N.getBackend().name;
        const x = N.tensor([[1, 2], [3, 4]], { dtype: 'float32' });
        const after = (await N.ready()).name;
        const y = N.tensor([[5, 6], [7, 8]], { dtype: 'float32' });
        return JSON.stringify({ before, after, x: x.storage.backend.name, y: y.storage.backend.name,
          xy: Array.from(x.matmul(y).dataSync()), yx: Array.from(y.matmul(x).dataSync()) });
      })()`,
      ctx,
    ) as Promise<string>);
    expect(JSON.parse(out)).toEqual({
      before: 'cpu',
      after: 'wasm',
      x: 'cpu',
      y: 'wasm',
      xy: refMatmul([1, 2, 3, 4], [5, 6, 7, 8], 2, 2, 2),
      yx: refMatmul([5, 6, 7, 8], [1, 2, 3, 4], 2, 2, 2),
    });
  });
});

describe('tensors of the cpu and wasm backends mix', () => {
  it('a training step with parameters made under cpu and data under wasm matches an all-cpu step', async () => {
    const lib = await freshLib();
    const { nn, optim } = lib;
    /** Two Adam steps of a small MLP: the model made under `modelOn`, the data under `dataOn`. */
    const run = (modelOn: string, dataOn: string): number[][] => {
      lib.setBackend(modelOn);
      lib.manualSeed(7);
      const model = new nn.Sequential(new nn.Linear(6, 32), new nn.ReLU(), new nn.Linear(32, 3));
      const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
      lib.setBackend(dataOn);
      lib.manualSeed(8);
      const x = lib.randn([16, 6]);
      const y = lib.randn([16, 3]);
      for (let step = 0; step < 2; step++) {
        opt.zeroGrad();
        nn.functional.mseLoss(model.forward(x), y).backward();
        opt.step();
      }
      return model.parameters().map((p) => Array.from(p.dataSync()));
    };
    const want = run('cpu', 'cpu');
    for (const [modelOn, dataOn] of [
      ['cpu', 'wasm'],
      ['wasm', 'cpu'],
      ['wasm', 'wasm'],
    ] as const) {
      const got = run(modelOn, dataOn);
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        const w = want[i]!;
        const g = got[i]!;
        for (let j = 0; j < w.length; j++) expect(Math.abs(g[j]! - w[j]!)).toBeLessThan(1e-4);
      }
    }
  });

  it('switching backends between ops: results are right whichever backend owns each operand', async () => {
    const lib = await freshLib();
    lib.setBackend('cpu');
    lib.manualSeed(3);
    const c = lib.randn([9, 40]);
    lib.setBackend('wasm');
    const w = lib.randn([40, 11]);
    expect(c.storage.backend.name).toBe('cpu');
    expect(w.storage.backend.name).toBe('wasm');
    const cv = c.dataSync();
    const wv = w.dataSync();
    const want = refMatmul(cv, wv, 9, 40, 11);
    const cw = c.matmul(w); // dispatched to cpu (first operand's backend)
    expect(cw.storage.backend.name).toBe('cpu');
    expectClose(cw, want);
    const wc = w.t().matmul(c.t()); // dispatched to wasm
    expect(wc.storage.backend.name).toBe('wasm');
    expectClose(wc.t(), want);
    expectClose(
      c.add(c.mul(2)),
      Array.from(cv, (v) => 3 * v),
    );
    expectClose(
      w.sub(w.relu()),
      Array.from(wv, (v) => Math.min(v, 0)),
    );
  });
});
