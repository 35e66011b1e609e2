/**
 * Out of memory: a product or convolution whose operands do not fit in the WebAssembly linear memory
 * throws an OutOfMemoryError naming the op, the shapes, the bytes asked for and the limit (a forced small
 * limit, an engine that refuses to grow the memory, and the default 2 GiB limit, with working sets past
 * 2 GiB and past 4 GiB that 32-bit address arithmetic would wrap around);
 * a typed array the engine cannot allocate throws one naming the dtype and the element count.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Window2d } from '../../../src/backends/backend.js';
import { createCpuBackend } from '../../../src/backends/cpu/index.js';
import { createWasmBackend, WasmKernels } from '../../../src/backends/wasm/index.js';
import {
  allocArray,
  type Backend,
  formatBytes,
  manualSeed,
  NeuriteError,
  nn,
  OutOfMemoryError,
  randn,
  Tensor,
  zeros,
} from '../../../src/index.js';

const MiB = 1 << 20;

/** A copy of `t` whose storage belongs to backend `b`. */
function on(b: Backend, t: Tensor): Tensor {
  return new Tensor(b.fromArray(t.contiguous().dataSync().slice()), t.shape);
}

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

/** A wasm backend whose linear memory may not grow past `maxBytes`, and its kernels. */
function limited(maxBytes: number): { backend: Backend; kernels: WasmKernels } {
  const kernels = new WasmKernels({ maxBytes });
  return { backend: createWasmBackend({ kernels }), kernels };
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('wasm backend: out of linear memory', () => {
  it('matmul names the op, the shapes, the bytes and the limit', () => {
    manualSeed(1);
    const { backend, kernels } = limited(2 * MiB);
    const a = on(backend, randn([600, 500]));
    const b = on(backend, randn([500, 700]));
    const e = thrown(() => a.matmul(b));
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e).toBeInstanceOf(NeuriteError);
    expect(e.message).toMatch(
      /^matmul: out of WebAssembly memory: needs \d+\.\d\d MiB of linear memory for float32 \[1, 600, 500\] x \[1, 500, 700\] \(limit 2\.00 MiB\)$/,
    );
    // At least the three operands: A, B and the product.
    const asked = (e as OutOfMemoryError).requestedBytes;
    expect(asked).toBeGreaterThanOrEqual(4 * (600 * 500 + 500 * 700 + 600 * 700));
    expect(e.message).toContain(formatBytes(asked));
    expect(kernels.byteLength).toBeLessThanOrEqual(2 * MiB);
    // Products that fit still run, and agree with the CPU backend.
    const cpu = createCpuBackend();
    const x = randn([30, 40]);
    const y = randn([40, 20]);
    const got = on(backend, x).matmul(on(backend, y)).dataSync();
    const want = on(cpu, x).matmul(on(cpu, y)).dataSync();
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-4);
  });

  it('conv2d and both of its backward kernels name the op and the shapes', () => {
    manualSeed(2);
    const { backend } = limited(1 * MiB);
    const x = on(backend, randn([4, 16, 32, 32]));
    const weight = on(backend, randn([32, 16, 3, 3]));
    const grad = on(backend, randn([4, 32, 32, 32]));
    const w: Window2d = {
      inH: 32,
      inW: 32,
      outH: 32,
      outW: 32,
      kh: 3,
      kw: 3,
      sh: 1,
      sw: 1,
      ph: 1,
      pw: 1,
      dh: 1,
      dw: 1,
    };
    const cases: [string, () => unknown, RegExp][] = [
      [
        'conv2d',
        () => backend.conv2d(x, weight, null, w, 1),
        /^conv2d: out of WebAssembly memory: needs .* for float32 input \[4, 16, 32, 32\], weight \[32, 16, 3, 3\] \(limit 1\.00 MiB\)$/,
      ],
      [
        'backward (input)',
        () => backend.conv2dBackwardInput(grad, weight, w, 1),
        /^conv2d backward \(input\): out of WebAssembly memory: needs .* for float32 grad \[4, 32, 32, 32\], weight \[32, 16, 3, 3\] \(limit 1\.00 MiB\)$/,
      ],
      [
        'backward (weight)',
        () => backend.conv2dBackwardWeight(grad, x, w, 1),
        /^conv2d backward \(weight\): out of WebAssembly memory: needs .* for float32 grad \[4, 32, 32, 32\], input \[4, 16, 32, 32\] \(limit 1\.00 MiB\)$/,
      ],
    ];
    for (const [, run, message] of cases) {
      const e = thrown(run);
      expect(e).toBeInstanceOf(OutOfMemoryError);
      expect(e.message).toMatch(message);
    }
    // The public op: the same error through nn.functional.conv2d.
    expect(() => nn.functional.conv2d(x, weight, null, { padding: 1 })).toThrow(OutOfMemoryError);
  });

  it('an engine that refuses to grow the memory: the error says so', () => {
    const { backend } = limited(4096 * MiB);
    vi.spyOn(WebAssembly.Memory.prototype, 'grow').mockImplementation(() => {
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    });
    const e = thrown(() => on(backend, randn([600, 600])).matmul(on(backend, randn([600, 600]))));
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e.message).toMatch(
      /^matmul: out of WebAssembly memory: needs \d+\.\d\d MiB of linear memory for float32 \[1, 600, 600\] x \[1, 600, 600\] \(the engine could not grow it past 1\.00 MiB: WebAssembly\.Memory\.grow\(\): Maximum memory size exceeded; limit 2\.00 GiB\)$/,
    );
  });

  it('the default 2 GiB limit, for working sets that 32-bit arithmetic would wrap (nothing big is allocated)', () => {
    const { backend, kernels } = limited(Number.POSITIVE_INFINITY);
    expect(kernels.maxBytes).toBe(2048 * MiB);
    // [65536, 8] x [8, n]: the operands are stride-0 views of 8 numbers each; the product 3 GiB (a byte
    // count past 2^31) or 4.0001 GiB (past 2^32).
    for (const [n, size] of [
      [12288, '3\\.00 GiB'],
      [16385, '4\\.00 GiB'],
    ] as const) {
      const a = on(backend, randn([1, 8])).expand([65536, 8]);
      const b = on(backend, randn([8, 1])).expand([8, n]);
      const e = thrown(() => a.matmul(b));
      expect(e).toBeInstanceOf(OutOfMemoryError);
      expect(e.message).toMatch(
        new RegExp(
          `^matmul: out of WebAssembly memory: needs ${size} of linear memory for float32 \\[1, 65536, 8\\] x \\[1, 8, ${n}\\] \\(limit 2\\.00 GiB\\)$`,
        ),
      );
      expect((e as OutOfMemoryError).requestedBytes).toBeGreaterThan(4 * 65536 * n);
    }
    expect(kernels.byteLength).toBeLessThan(16 * MiB);
  });
});

describe('typed arrays the engine cannot allocate', () => {
  it('a tensor over the typed-array length limit names the dtype, the element count and the bytes', () => {
    const n = 2 ** 40;
    const e = thrown(() => zeros([1024, 1024, 1024, 1024]));
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e.message).toMatch(
      new RegExp(
        `^cannot allocate a float32 tensor of ${n} elements \\(4\\.00 TiB\\): Invalid typed array length`,
      ),
    );
    expect((e as OutOfMemoryError).requestedBytes).toBe(4 * n);
    expect(() => allocArray('float64', 2 ** 40)).toThrow(
      /^cannot allocate a float64 tensor of 1099511627776 elements \(8\.00 TiB\)/,
    );
  });

  it('"Array buffer allocation failed" becomes an OutOfMemoryError with the size', () => {
    const Real = Float32Array;
    vi.stubGlobal(
      'Float32Array',
      class extends Real {
        constructor(n: number) {
          if (n > 1000) throw new RangeError('Array buffer allocation failed');
          super(n);
        }
      },
    );
    const e = thrown(() => allocArray('float32', 300_000_000));
    vi.unstubAllGlobals();
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e.message).toBe(
      'cannot allocate a float32 tensor of 300000000 elements (1.12 GiB): Array buffer allocation failed',
    );
    // Other errors pass through unchanged.
    expect(() => allocArray('float32', -1)).toThrow(RangeError);
    expect(() => allocArray('float32', -1)).not.toThrow(OutOfMemoryError);
  });
});
