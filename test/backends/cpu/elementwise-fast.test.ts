/**
 * The CPU backend's specialised elementwise and reduction loops against straightforward reference
 * implementations: binary arithmetic on every broadcast pattern with its own loop (same shape,
 * scalar on either side, row and channel bias, per-row scalar) and on strided views, bit for bit;
 * float32 exp/sigmoid/tanh/log within 1 ulp of the libm result rounded to float32, with exact special
 * values; and sums over leading/trailing dims bit for bit against in-order float64 sums.
 */
import { describe, expect, it } from 'vitest';
import type { BinaryOp, Storage, UnaryOp, View } from '../../../src/backends/backend.js';
import { createCpuBackend } from '../../../src/backends/cpu/index.js';
import type { TypedArray } from '../../../src/core/dtype.js';

const cpu = createCpuBackend();

type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

function stridesOf(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) st[i] = st[i + 1]! * shape[i + 1]!;
  return st;
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Deterministic values with some special ones mixed in. */
function values(n: number, seed: number, specials = true): number[] {
  const out: number[] = [];
  let s = seed >>> 0;
  const sp = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 1e-40, -3e-42];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    if (specials && s % 11 === 0) out.push(sp[(s >>> 8) % sp.length]!);
    else out.push(((s / 2 ** 32) * 2 - 1) * 4);
  }
  return out;
}

/** A view of `shape` over fresh storage; `pad` unused elements before it exercise the offset. */
function contiguous(C: FloatCtor, shape: number[], seed: number, pad = 0): View {
  const n = numel(shape);
  const data = new C(n + pad);
  data.set(values(n, seed), pad);
  return { storage: cpu.fromArray(data), shape, strides: stridesOf(shape), offset: pad };
}

/** A [rows, cols] view that is the transpose of a contiguous [cols, rows] array. */
function transposed(C: FloatCtor, rows: number, cols: number, seed: number): View {
  const data = new C(values(rows * cols, seed));
  return { storage: cpu.fromArray(data), shape: [rows, cols], strides: [1, rows], offset: 0 };
}

function at(v: View, idx: readonly number[]): number {
  const data = cpu.read(v.storage);
  const off = v.shape.length - idx.length; // v may have fewer dims (broadcast from the left)
  let p = v.offset;
  for (let d = 0; d < v.shape.length; d++) if (v.shape[d] !== 1) p += idx[d - off]! * v.strides[d]!;
  return data[p]!;
}

function* indices(shape: readonly number[]): Generator<number[]> {
  const n = numel(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    yield idx;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}

const REF: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) =>
    Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : a > b || (a === b && !Object.is(a, -0)) ? a : b,
  minimum: (a, b) =>
    Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : a < b || (a === b && Object.is(a, -0)) ? a : b,
};

function expectSameBits(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) expect(`${what}[${i}] = ${got[i]}`).toBe(`${what}[${i}] = ${want[i]}`);
  }
}

function checkBinary(op: BinaryOp, a: View, b: View, shape: number[], dtype: 'float32' | 'float64'): void {
  const got = cpu.read(cpu.binary(op, a, b, shape, dtype));
  const round = dtype === 'float32' ? Math.fround : (v: number) => v;
  const want: number[] = [];
  for (const idx of indices(shape)) want.push(round(REF[op]!(at(a, idx), at(b, idx))));
  expectSameBits(got, want, `${op} ${dtype} [${a.shape}] , [${b.shape}] -> [${shape}]`);
}

describe('cpu binary arithmetic loops', () => {
  const ops: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'];
  const cases: [string, (C: FloatCtor) => [View, View, number[]]][] = [
    ['same shape', (C) => [contiguous(C, [3, 5, 7], 1), contiguous(C, [3, 5, 7], 2, 3), [3, 5, 7]]],
    ['tensor op 0-d scalar', (C) => [contiguous(C, [4, 9], 3, 1), contiguous(C, [], 4, 2), [4, 9]]],
    ['0-d scalar op tensor', (C) => [contiguous(C, [], 5), contiguous(C, [4, 9], 6), [4, 9]]],
    ['size-1 tensor op tensor', (C) => [contiguous(C, [1, 1], 5), contiguous(C, [4, 9], 6), [4, 9]]],
    ['[N, C] op [C]', (C) => [contiguous(C, [6, 13], 7), contiguous(C, [13], 8, 2), [6, 13]]],
    ['[C] op [N, C]', (C) => [contiguous(C, [13], 9), contiguous(C, [6, 13], 10), [6, 13]]],
    ['[N, C] op [N, 1]', (C) => [contiguous(C, [6, 13], 11), contiguous(C, [6, 1], 12), [6, 13]]],
    ['[N, 1] op [N, C]', (C) => [contiguous(C, [6, 1], 11), contiguous(C, [6, 13], 12), [6, 13]]],
    ['[N, 1] op [1, C] (outer)', (C) => [contiguous(C, [6, 1], 13), contiguous(C, [1, 5], 14), [6, 5]]],
    [
      'NCHW op [1, C, 1, 1]',
      (C) => [contiguous(C, [2, 3, 4, 5], 15), contiguous(C, [1, 3, 1, 1], 16), [2, 3, 4, 5]],
    ],
    [
      'NCHW op [C, 1, 1]',
      (C) => [contiguous(C, [2, 3, 4, 5], 17), contiguous(C, [3, 1, 1], 18), [2, 3, 4, 5]],
    ],
    [
      '[C, 1, 1] op NCHW',
      (C) => [contiguous(C, [3, 1, 1], 19), contiguous(C, [2, 3, 4, 5], 20), [2, 3, 4, 5]],
    ],
    ['transposed op contiguous', (C) => [transposed(C, 5, 7, 21), contiguous(C, [5, 7], 22), [5, 7]]],
    ['contiguous op transposed', (C) => [contiguous(C, [5, 7], 23), transposed(C, 5, 7, 24), [5, 7]]],
    ['transposed op [C]', (C) => [transposed(C, 5, 7, 25), contiguous(C, [7], 26), [5, 7]]],
    ['0-d op 0-d', (C) => [contiguous(C, [], 27), contiguous(C, [], 28), []]],
    ['empty', (C) => [contiguous(C, [0, 3], 29), contiguous(C, [3], 30), [0, 3]]],
  ];
  for (const dtype of ['float32', 'float64'] as const) {
    const C = dtype === 'float32' ? Float32Array : Float64Array;
    for (const [name, make] of cases) {
      it(`${name} (${dtype}) matches the reference bit for bit`, () => {
        const [a, b, shape] = make(C);
        for (const op of ops) checkBinary(op, a, b, shape, dtype);
      });
    }
  }

  it('maximum/minimum propagate NaN from either side and order -0 below +0', () => {
    const a = contiguous(Float32Array, [4], 0);
    const b = contiguous(Float32Array, [4], 0);
    (cpu.read(a.storage) as Float32Array).set([Number.NaN, 1, -0, 0]);
    (cpu.read(b.storage) as Float32Array).set([1, Number.NaN, 0, -0]);
    expectSameBits(
      cpu.read(cpu.binary('maximum', a, b, [4], 'float32')),
      [Number.NaN, Number.NaN, 0, 0],
      'max',
    );
    expectSameBits(
      cpu.read(cpu.binary('minimum', a, b, [4], 'float32')),
      [Number.NaN, Number.NaN, -0, -0],
      'min',
    );
  });

  it('int32 arithmetic on broadcast and strided operands wraps like an int32 store', () => {
    const ints = (shape: number[], seed: number, strides = stridesOf(shape)): View => {
      const n = numel(shape) * 2;
      const data = new Int32Array(
        values(n, seed, false).map((v, i) => (i % 5 === 0 ? 2 ** 31 - 1 - i : Math.round(v * 1e4))),
      );
      return { storage: cpu.fromArray(data), shape, strides, offset: 1 };
    };
    const cases: [View, View, number[]][] = [
      [ints([4, 6], 1), ints([4, 6], 2), [4, 6]],
      [ints([4, 6], 3), ints([6], 4), [4, 6]],
      [ints([4, 6], 5, [1, 4]), ints([], 6), [4, 6]],
    ];
    for (const [a, b, shape] of cases) {
      for (const op of ['add', 'sub', 'mul', 'maximum', 'minimum'] as const) {
        const got = cpu.read(cpu.binary(op, a, b, shape, 'int32'));
        const want = Array.from(indices(shape), (idx) => REF[op]!(at(a, idx), at(b, idx)) | 0);
        expectSameBits(got, want, `int32 ${op} [${a.shape}] , [${b.shape}]`);
      }
    }
  });

  it('int32 arithmetic and comparisons still use the generic path correctly', () => {
    const a: View = {
      storage: cpu.fromArray(new Int32Array([2147483647, -5, 7, 0])),
      shape: [4],
      strides: [1],
      offset: 0,
    };
    const b: View = {
      storage: cpu.fromArray(new Int32Array([1, 3])),
      shape: [2, 1],
      strides: [1, 0],
      offset: 0,
    };
    const sum = cpu.read(cpu.binary('add', a, b, [2, 4], 'int32'));
    expect(Array.from(sum)).toEqual([-2147483648, -4, 8, 1, -2147483646, -2, 10, 3]);
    const gt = cpu.read(cpu.binary('gt', a, b, [2, 4], 'bool'));
    expect(Array.from(gt)).toEqual([1, 0, 1, 0, 1, 0, 1, 0]);
  });
});

/** Distance in float32 ulps (same-sign finite values; large for anything else unless bitwise equal). */
function ulps(a: number, b: number): number {
  if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b) || Math.sign(a) !== Math.sign(b))
    return Number.POSITIVE_INFINITY;
  const w = new Int32Array(new Float32Array([a, b]).buffer);
  return Math.abs(w[0]! - w[1]!);
}

function unaryF32(op: UnaryOp, xs: readonly number[]): Float32Array {
  const x: View = {
    storage: cpu.fromArray(new Float32Array(xs)),
    shape: [xs.length],
    strides: [1],
    offset: 0,
  };
  return cpu.read(cpu.unary(op, x, 'float32')) as Float32Array;
}

/** Float32 inputs sweeping [lo, hi], plus every float32 within `k` ulps of each point in `around`. */
function sweep(lo: number, hi: number, n: number, around: readonly number[] = [], k = 40): number[] {
  const xs: number[] = [];
  for (let i = 0; i <= n; i++) xs.push(Math.fround(lo + ((hi - lo) * i) / n));
  const f = new Float32Array(1);
  const w = new Int32Array(f.buffer);
  for (const c of around) {
    f[0] = c;
    const b = w[0]!;
    for (let d = -k; d <= k; d++) {
      w[0] = b + d;
      xs.push(f[0]!);
    }
  }
  return xs;
}

const SPECIAL = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  0,
  -0,
  1e-45,
  -1e-45,
  1e-39,
  -1e-39,
];

describe('cpu float32 unary approximations', () => {
  const sig = (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
  const cases: [UnaryOp, (v: number) => number, number[]][] = [
    ['exp', Math.exp, sweep(-110, 95, 200_000, [0, 88.72, -87.33, -103.28, 1, -1])],
    ['sigmoid', sig, sweep(-110, 110, 200_000, [0, -103.28, 16.6, -16.6, 105, -105, 88.7, -88.7])],
    [
      'tanh',
      Math.tanh,
      sweep(-12, 12, 200_000, [0, 1e-30, -1e-30, 1e-7, 0.17, 0.35, 0.5, 8.66, -8.66, 9, -9]),
    ],
    [
      'log',
      Math.log,
      [
        ...sweep(1e-6, 1e3, 200_000, [1, Math.SQRT1_2, Math.SQRT2, 2, 0.5, 1.17549435e-38, 3.4028235e38]),
        ...sweep(1e-38, 1e-30, 20_000),
      ],
    ],
  ];
  for (const [op, ref, xs] of cases) {
    it(`${op} is within 1 ulp of the libm result rounded to float32`, () => {
      const got = unaryF32(op, xs);
      let worst = 0;
      let at = 0;
      for (let i = 0; i < xs.length; i++) {
        const u = ulps(got[i]!, Math.fround(ref(Math.fround(xs[i]!))));
        if (u > worst) {
          worst = u;
          at = xs[i]!;
        }
      }
      expect(worst, `${op}(${at})`).toBeLessThanOrEqual(1);
    });
    it(`${op} gives the libm result on special values`, () => {
      const got = unaryF32(op, SPECIAL);
      expectSameBits(
        got,
        SPECIAL.map((v) => Math.fround(ref(Math.fround(v)))),
        op,
      );
    });
  }
  it('log of negative numbers is NaN', () => {
    expect(Array.from(unaryF32('log', [-1, -1e-40, -0.5]))).toEqual([Number.NaN, Number.NaN, Number.NaN]);
  });
});

describe('cpu float unary loops are exact', () => {
  const ops: [UnaryOp, (v: number) => number][] = [
    ['neg', (v) => -v],
    ['abs', Math.abs],
    ['square', (v) => v * v],
    ['sqrt', Math.sqrt],
    ['rsqrt', (v) => 1 / Math.sqrt(v)],
    ['reciprocal', (v) => 1 / v],
    ['relu', (v) => Math.max(v, 0)],
  ];
  const xs = [...values(500, 99), ...SPECIAL];
  for (const dtype of ['float32', 'float64'] as const) {
    const C = dtype === 'float32' ? Float32Array : Float64Array;
    const round = dtype === 'float32' ? Math.fround : (v: number) => v;
    it(`neg/abs/square/sqrt/rsqrt/reciprocal/relu (${dtype}) match the reference bit for bit`, () => {
      const data = new C(xs);
      // a strided (every other element) view, so the input is copied first
      const x: View = { storage: cpu.fromArray(data), shape: [xs.length >> 1], strides: [2], offset: 1 };
      for (const [op, ref] of ops) {
        const got = cpu.read(cpu.unary(op, x, dtype));
        const want: number[] = [];
        for (let i = 0; i < x.shape[0]!; i++) want.push(round(ref(data[1 + 2 * i]!)));
        expectSameBits(got, want, `${op} ${dtype}`);
      }
    });
  }
  it('float64 exp/log/tanh/sigmoid are the libm results', () => {
    const xs64 = [...values(300, 5), ...SPECIAL, 700, -745, 40, -40];
    const x: View = {
      storage: cpu.fromArray(new Float64Array(xs64)),
      shape: [xs64.length],
      strides: [1],
      offset: 0,
    };
    const sig = (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
    for (const [op, ref] of [
      ['exp', Math.exp],
      ['log', Math.log],
      ['tanh', Math.tanh],
      ['sigmoid', sig],
    ] as const) {
      expectSameBits(cpu.read(cpu.unary(op, x, 'float64')), xs64.map(ref), op);
    }
  });
});

/** Reference reduction: each output sums its elements in row-major order of the reduced dims, in float64. */
function refSum(x: View, dims: readonly number[]): number[] {
  const keep = x.shape.map((_, d) => d).filter((d) => !dims.includes(d));
  const keptShape = keep.map((d) => x.shape[d]!);
  const redShape = dims.map((d) => x.shape[d]!);
  const out: number[] = [];
  for (const k of indices(keptShape)) {
    let s = 0;
    for (const r of indices(redShape)) {
      const idx = new Array<number>(x.shape.length);
      keep.forEach((d, i) => {
        idx[d] = k[i]!;
      });
      dims.forEach((d, i) => {
        idx[d] = r[i]!;
      });
      s += at(x, idx);
    }
    out.push(s);
  }
  return out;
}

describe('cpu sum loops', () => {
  const cases: [number[], number[]][] = [
    [[7, 13], [0]],
    [[9, 6], [0]],
    [[3, 9, 6], [1]],
    [[7, 13], [1]],
    [
      [2, 6, 4, 5],
      [0, 2, 3],
    ],
    [
      [3, 7, 5],
      [0, 2],
    ],
    [
      [2, 3, 5, 4],
      [0, 1, 3],
    ],
    [
      [2, 3, 5, 4],
      [0, 3],
    ],
    [
      [4, 1, 6, 1],
      [0, 2],
    ],
    [
      [5, 9, 1],
      [0, 2],
    ],
    [
      [2, 3, 4],
      [0, 1, 2],
    ],
    [[11], [0]],
  ];
  for (const dtype of ['float32', 'float64'] as const) {
    const C = dtype === 'float32' ? Float32Array : Float64Array;
    const round = dtype === 'float32' ? Math.fround : (v: number) => v;
    for (const [shape, dims] of cases) {
      it(`sum [${shape}] over [${dims}] (${dtype}) adds in order, bit for bit`, () => {
        const x = contiguous(C, shape, shape.length * 31 + dims.length, 2);
        // finite values only for the order-sensitive check (one NaN case below)
        const data = cpu.read(x.storage) as TypedArray;
        for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) data[i] = 1e7 * (i % 3) + 0.1;
        expectSameBits(cpu.read(cpu.reduce('sum', x, dims)), refSum(x, dims).map(round), 'sum');
      });
    }
  }
  it('sums over leading and trailing dims propagate NaN and Infinity', () => {
    const data = new Float32Array(2 * 3 * 2).fill(1);
    data[2] = Number.NaN; // n=0, c=1
    data[4] = Number.POSITIVE_INFINITY; // n=0, c=2
    const x: View = { storage: cpu.fromArray(data), shape: [2, 3, 2], strides: [6, 2, 1], offset: 0 };
    expectSameBits(cpu.read(cpu.reduce('sum', x, [0, 2])), [4, Number.NaN, Number.POSITIVE_INFINITY], 'sum');
  });
  it('int32 and bool sums over leading and trailing dims', () => {
    const x: View = {
      storage: cpu.fromArray(new Int32Array([1, 2, 3, 4, 5, 6, 7, 8])),
      shape: [2, 2, 2],
      strides: [4, 2, 1],
      offset: 0,
    };
    expect(Array.from(cpu.read(cpu.reduce('sum', x, [0, 2])))).toEqual([1 + 2 + 5 + 6, 3 + 4 + 7 + 8]);
    const b: View = {
      storage: cpu.fromArray(new Uint8Array([1, 0, 1, 1, 0, 1, 1, 1])),
      shape: [2, 2, 2],
      strides: [4, 2, 1],
      offset: 0,
    };
    const s: Storage = cpu.reduce('sum', b, [0, 2]);
    expect(s.dtype).toBe('int32');
    expect(Array.from(cpu.read(s))).toEqual([1 + 0 + 0 + 1, 1 + 1 + 1 + 1]);
  });
});

describe('cpu copy', () => {
  const cases: [string, () => View][] = [
    ['contiguous with offset', () => contiguous(Float32Array, [3, 50], 1, 5)],
    ['transposed', () => transposed(Float32Array, 40, 3, 2)],
    [
      'rows of a wider array',
      () => ({ ...contiguous(Float32Array, [4, 80], 3), shape: [4, 40], strides: [80, 1], offset: 7 }),
    ],
    [
      'short rows',
      () => ({ ...contiguous(Float32Array, [6, 8], 4), shape: [6, 3], strides: [8, 2], offset: 1 }),
    ],
    ['0-d', () => contiguous(Float32Array, [], 5, 2)],
    [
      'broadcast (stride 0)',
      () => ({ ...contiguous(Float32Array, [64], 6), shape: [3, 64], strides: [0, 1], offset: 0 }),
    ],
  ];
  for (const [name, make] of cases) {
    it(`${name}: same dtype bit for bit, and converted to float64, int32 and bool`, () => {
      const x = make();
      const want = Array.from(indices(x.shape), (idx) => at(x, idx));
      expectSameBits(cpu.read(cpu.copy(x, 'float32')), want, 'float32');
      expectSameBits(cpu.read(cpu.copy(x, 'float64')), want, 'float64');
      expectSameBits(
        cpu.read(cpu.copy(x, 'int32')),
        want.map((v) => Math.trunc(v) | 0),
        'int32',
      );
      expectSameBits(
        cpu.read(cpu.copy(x, 'bool')),
        want.map((v) => (v !== 0 ? 1 : 0)),
        'bool',
      );
    });
  }
});
