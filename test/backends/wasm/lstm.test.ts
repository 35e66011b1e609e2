/**
 * The wasm backend's fused LSTM layer (src/backends/wasm/lstm.ts, kernels in assembly/lstm.ts): the
 * vector exp / sigmoid / tanh against Math.* (error in float32 ulps, stated bounds; exact special values),
 * and whole layers (values and every gradient, both directions, odd sizes, T = 1, threads) against the
 * TypeScript path of `lstmLayer` on the `cpu` backend in float64.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWasmBackend,
  GemmPool,
  getNumThreads,
  setNumThreads,
  threadPoolUnsupportedReason,
  WasmKernels,
  wasmThreadPool,
} from '../../../src/backends/wasm/index.js';
import { HEAP_BASE } from '../../../src/backends/wasm/kernels.js';
import { lstmOptions, STEP_PARALLEL_MIN_FLOPS } from '../../../src/backends/wasm/lstm.js';
import {
  autogradGrad,
  getBackend,
  listBackends,
  manualSeed,
  nn,
  OutOfMemoryError,
  randn,
  setBackend,
  Tensor,
  tensor,
} from '../../../src/index.js';
import { lstmLayer } from '../../../src/nn/functional/rnn-cell.js';

/** Seeded uniform values in [-1, 1) (mulberry32). */
function uniform(n: number, seed: number, scale = 1): Float64Array {
  let s = seed >>> 0;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    x[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return x;
}

// -------------------------------------------------------------------------------------------------
// Vector math
// -------------------------------------------------------------------------------------------------

/** Size of one float32 ulp at the exact value `v` (the spacing of float32 numbers around it). */
function ulpAt(v: number): number {
  const a = Math.abs(v);
  if (a < 2 ** -126) return 2 ** -149;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return 2 ** (e - 23);
}

const MATH = [
  { name: 'exp', fn: 0, ref: Math.exp, ulps: 1.5 },
  { name: 'sigmoid', fn: 1, ref: (x: number) => 1 / (1 + Math.exp(-x)), ulps: 3 },
  { name: 'tanh', fn: 2, ref: Math.tanh, ulps: 2 },
] as const;

describe('wasm LSTM vector math (assembly/lstm.ts)', () => {
  const kernels = new WasmKernels();

  /** Runs function `fn` of lstmMath over `xs` (float32-rounded); returns the float32 results. */
  function apply(fn: number, xs: Float32Array): Float32Array {
    const n = xs.length;
    const src = HEAP_BASE;
    const bias = src + 4 * n + 16;
    const dst = bias + 4 * n + 16;
    const heap = kernels.reserve(dst + 4 * n + 16);
    heap.set(xs, src >> 2);
    // A bias of -0 leaves every input as it is (x + -0 = x, -0 included).
    heap.fill(-0, bias >> 2, (bias >> 2) + n + 4);
    kernels.kernelExports.lstmMath(fn, src, bias, dst, n);
    return heap.slice(dst >> 2, (dst >> 2) + n);
  }

  /** Inputs: a dense sweep of [-120, 120], random bit patterns of every magnitude and sign, specials. */
  function sweep(): Float32Array {
    const dense = 1 << 18;
    const bits = new Uint32Array(1 << 18);
    const u = uniform(bits.length, 7);
    for (let i = 0; i < bits.length; i++) bits[i] = Math.floor((u[i]! * 0.5 + 0.5) * 2 ** 32) >>> 0;
    const random = new Float32Array(bits.buffer).filter((x) => Number.isFinite(x));
    const out = new Float32Array(dense + random.length + 3); // + 3: a tail the vector loop leaves
    for (let i = 0; i < dense; i++) out[i] = -120 + (240 * i) / dense;
    out.set(random, dense);
    out.set([0.55, -0.55, 88.72], dense + random.length);
    return out;
  }

  for (const { name, fn, ref, ulps } of MATH) {
    it(`${name}: within ${ulps} ulp of Math (float64) over a wide sweep`, () => {
      const xs = sweep();
      const ys = apply(fn, xs);
      let worst = 0;
      let at = 0;
      for (let i = 0; i < xs.length; i++) {
        const want = ref(xs[i]!);
        const got = ys[i]!;
        if (Math.fround(want) === got) continue;
        const err = Number.isFinite(want) ? Math.abs(got - want) / ulpAt(want) : Number.POSITIVE_INFINITY;
        if (!(err <= worst)) {
          worst = err;
          at = xs[i]!;
        }
      }
      expect(worst, `${name}: worst ${worst} ulp at x = ${at}`).toBeLessThanOrEqual(ulps);
    });

    it(`${name}: special values (±0, tiny, huge, ±Infinity, NaN, saturation, subnormal results)`, () => {
      const xs = Float32Array.from([
        0,
        -0,
        1e-45,
        -1e-45,
        1e-38,
        -1e-38,
        1e-30,
        -1e-30,
        1e-8,
        -1e-8,
        30,
        -30,
        88.7,
        89,
        100,
        104,
        -87.5,
        -95,
        -103,
        -104,
        -110,
        1e30,
        -1e30,
        3e38,
        -3e38,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        Number.NaN,
      ]);
      const ys = apply(fn, xs);
      xs.forEach((x, i) => {
        const want = ref(x);
        const got = ys[i]!;
        const w32 = Math.fround(want);
        if (Number.isNaN(w32) || !Number.isFinite(w32) || w32 === 0 || Math.abs(w32) === 1) {
          // NaN propagates, overflow gives Infinity, underflow and saturation are exact (signed zero too).
          expect(Object.is(got, Math.fround(want)), `${name}(${x}) = ${got}, want ${Math.fround(want)}`).toBe(
            true,
          );
        } else {
          expect(
            Math.abs(got - want) / ulpAt(want),
            `${name}(${x}) = ${got}, want ${want}`,
          ).toBeLessThanOrEqual(ulps);
        }
      });
    });
  }

  it('tanh is odd and sigmoid(-x) = 1 - sigmoid(x) to rounding', () => {
    const xs = Float32Array.from(uniform(4099, 3, 12));
    const neg = xs.map((x) => -x);
    const t = apply(2, xs);
    const tn = apply(2, neg);
    const s = apply(1, xs);
    const sn = apply(1, neg);
    for (let i = 0; i < xs.length; i++) {
      expect(tn[i]).toBe(-t[i]!);
      expect(Math.abs(s[i]! + sn[i]! - 1)).toBeLessThanOrEqual(2 ** -22);
    }
  });
});

// -------------------------------------------------------------------------------------------------
// Whole layers against the cpu backend
// -------------------------------------------------------------------------------------------------

interface Case {
  T: number;
  B: number;
  I: number;
  H: number;
  bias: boolean;
  state: boolean;
  reverse: boolean;
}

/** Inputs of a case as arrays: x, wih, whh, bias, h0, c0, then the output weights gOut, gH, gC. */
function data(c: Case, seed: number): Float64Array[] {
  const { T, B, I, H } = c;
  const G = 4 * H;
  const w = 1 / Math.sqrt(H);
  return [
    uniform(T * B * I, seed, 1.5),
    uniform(G * I, seed + 1, w * 2),
    uniform(G * H, seed + 2, w * 2),
    uniform(G, seed + 3, 0.5),
    uniform(B * H, seed + 4),
    uniform(B * H, seed + 5),
    uniform(T * B * H, seed + 6),
    uniform(B * H, seed + 7),
    uniform(B * H, seed + 8),
  ];
}

interface Result {
  values: Float64Array[];
  grads: (Float64Array | null)[];
}

/**
 * Runs `lstmLayer` on the current backend in `dtype`: values [out, hN, cN] and the gradients of
 * <out, gOut> + <hN, gH> + <cN, gC> (the outputs in `used` only) w.r.t. the inputs that `needs` lists
 * (by position in [x, wih, whh, bias, h0, c0]). `between` runs after the forward, before backward.
 */
function run(
  c: Case,
  arrays: Float64Array[],
  dtype: 'float32' | 'float64',
  used: readonly number[] = [0, 1, 2],
  needs: readonly boolean[] = [true, true, true, true, true, true],
  between?: () => void,
  twice = false,
): Result {
  const { T, B, I, H } = c;
  const G = 4 * H;
  const shapes = [[T, B, I], [G, I], [G, H], [G], [B, H], [B, H], [T, B, H], [B, H], [B, H]];
  const ts = arrays.map((a, k) =>
    tensor(dtype === 'float32' ? Float32Array.from(a) : Float64Array.from(a), {
      shape: shapes[k]!,
      dtype,
      requiresGrad: k < 6 && needs[k] === true,
    }),
  );
  const [x, wih, whh, bias, h0, c0] = ts as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const outs = lstmLayer(
    x,
    wih,
    whh,
    c.bias ? bias : null,
    c.state ? h0 : null,
    c.state ? c0 : null,
    c.reverse,
  );
  between?.();
  const ins = [x, wih, whh, bias, h0, c0].filter(
    (_, k) => needs[k] && (k < 3 || (k === 3 ? c.bias : c.state)),
  );
  const grad = () =>
    autogradGrad(
      used.map((k) => outs[k]!),
      ins,
      { gradOutputs: used.map((k) => ts[6 + k]!), allowUnused: true, retainGraph: twice },
    );
  let gs = grad();
  if (twice) {
    between?.();
    const again = grad();
    // A second backward (the gates were overwritten by the first) gives the same gradients.
    again.forEach((g, k) => {
      expect(Array.from(g?.dataSync() ?? [])).toEqual(Array.from(gs[k]?.dataSync() ?? []));
    });
    gs = again;
  }
  const values = outs.map((o) => Float64Array.from(o.dataSync()));
  let next = 0;
  const grads = [0, 1, 2, 3, 4, 5].map((k) => {
    if (!(needs[k] && (k < 3 || (k === 3 ? c.bias : c.state)))) return null;
    const g = gs[next++];
    return g ? Float64Array.from(g.dataSync()) : new Float64Array(ts[k]!.numel());
  });
  return { values, grads };
}

/** Largest |a - b| / (1 + |b|) over all entries. */
function worstRelative(a: Result, b: Result): number {
  let worst = 0;
  const pairs: [Float64Array | null, Float64Array | null][] = [
    ...a.values.map((v, k) => [v, b.values[k]!] as [Float64Array, Float64Array]),
    ...a.grads.map((g, k) => [g, b.grads[k]!] as [Float64Array | null, Float64Array | null]),
  ];
  for (const [x, y] of pairs) {
    expect(x === null).toBe(y === null);
    if (x === null || y === null) continue;
    expect(x.length).toBe(y.length);
    for (let i = 0; i < x.length; i++) {
      const e = Math.abs(x[i]! - y[i]!) / (1 + Math.abs(y[i]!));
      if (!(e <= worst)) worst = e; // NaN makes it NaN
    }
  }
  return worst;
}

/**
 * Float32 tolerance of a whole layer (relative, see worstRelative), growing with the steps and the
 * length of the sums; measured errors are 0.5-3e-7 on the small shapes (about ten times below), 1.2e-6 on
 * the large one (B 32, H 128: five times below).
 */
const tolerance = (c: Case): number => (1 + 0.2 * c.T) * 1e-6 * Math.max(1, Math.sqrt(c.B * c.H) / 16);

const SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 1],
  [1, 3, 2, 5],
  [5, 3, 4, 7],
  [4, 2, 6, 8],
  [6, 5, 3, 4],
  [3, 7, 9, 6],
];

const hasWasm = listBackends().includes('wasm');

describe.runIf(hasWasm)('wasm lstmLayer against the cpu backend', () => {
  let previous = 'cpu';
  beforeAll(() => {
    previous = getBackend().name;
  });
  afterAll(() => setBackend(previous));

  /** The case on the cpu backend in float64 (the truth) and on the wasm backend in float32. */
  function both(c: Case, seed: number, used?: readonly number[], needs?: readonly boolean[]) {
    const arrays = data(c, seed);
    setBackend('cpu');
    const want = run(c, arrays, 'float64', used, needs);
    setBackend('wasm');
    expect(getBackend().lstmLayer).toBeTypeOf('function');
    const got = run(c, arrays, 'float32', used, needs);
    return { arrays, want, got };
  }

  for (const [T, B, I, H] of SHAPES) {
    it(`T ${T}, B ${B}, I ${I}, H ${H}: values and all gradients, both directions, with and without bias/state`, () => {
      let seed = 11;
      for (const reverse of [false, true]) {
        for (const [bias, state] of [
          [true, true],
          [false, false],
          [true, false],
        ] as const) {
          const c = { T, B, I, H, bias, state, reverse };
          const { want, got } = both(c, seed++);
          expect(worstRelative(got, want)).toBeLessThanOrEqual(tolerance(c));
        }
      }
    });
  }

  it('float32 on wasm is as close to float64 as the cpu float32 path is', () => {
    const c = { T: 8, B: 6, I: 5, H: 9, bias: true, state: true, reverse: false };
    const { arrays, want, got } = both(c, 5);
    setBackend('cpu');
    const cpu32 = run(c, arrays, 'float32');
    expect(worstRelative(got, want)).toBeLessThanOrEqual(Math.max(4 * worstRelative(cpu32, want), 1e-6));
  });

  it('some outputs only and some gradients only', () => {
    const c = { T: 5, B: 3, I: 4, H: 6, bias: true, state: true, reverse: true };
    for (const used of [[0], [1], [2], [1, 2]]) {
      for (const needs of [
        [false, false, true, false, false, false],
        [true, false, false, false, false, true],
        [false, true, false, true, true, false],
      ]) {
        const { want, got } = both(c, 21, used, needs);
        expect(worstRelative(got, want)).toBeLessThanOrEqual(tolerance(c));
      }
    }
  });

  for (const copyOut of ['never', 'always', 'auto'] as const) {
    it(`backward after other kernels reused the linear memory, and a repeated backward (copyOut ${copyOut})`, () => {
      const was = lstmOptions.copyOut;
      lstmOptions.copyOut = copyOut;
      try {
        for (const [reverse, state] of [
          [false, true],
          [true, false],
        ] as const) {
          const c = { T: 6, B: 4, I: 5, H: 7, bias: true, state, reverse };
          const arrays = data(c, 31);
          setBackend('wasm');
          const plain = run(c, arrays, 'float32');
          // A product between forward and backward lays out its own operands over the layer's buffers.
          const clobber = () => {
            tensor(Float32Array.from(uniform(64 * 64, 1)), { shape: [64, 64] })
              .matmul(tensor(Float32Array.from(uniform(64 * 64, 2)), { shape: [64, 64] }))
              .dataSync();
          };
          // Recomputed or copied back, the gates are the same bits.
          for (let k = 0; k < 2; k++) {
            expect(worstRelative(run(c, arrays, 'float32', undefined, undefined, clobber), plain)).toBe(0);
          }
          const twice = run(c, arrays, 'float32', undefined, undefined, undefined, true);
          expect(worstRelative(twice, plain)).toBe(0);
          const twiceClobbered = run(c, arrays, 'float32', undefined, undefined, clobber, true);
          expect(worstRelative(twiceClobbered, plain)).toBe(0);
        }
      } finally {
        lstmOptions.copyOut = was;
      }
    });
  }

  it('stacked bidirectional layers (nn.LSTM) match the cpu backend', () => {
    const make = () => {
      manualSeed(5);
      const m = new nn.LSTM(5, 6, { numLayers: 2, bidirectional: true });
      const x = randn([7, 3, 5], { requiresGrad: true });
      const [out, [hN, cN]] = m.forward(x);
      const loss = out.mul(out).sum().add(hN.sum()).add(cN.mul(cN).sum());
      loss.backward();
      return [out, hN, cN, x.grad!, ...m.parameters().map((q) => q.grad!)].map((t) =>
        Array.from(t.dataSync()),
      );
    };
    setBackend('cpu');
    const want = make();
    setBackend('wasm');
    for (let k = 0; k < 3; k++) {
      const got = make();
      got.forEach((g, i) => {
        const w = want[i]!;
        expect(g.length).toBe(w.length);
        let worst = 0;
        g.forEach((v, j) => {
          worst = Math.max(worst, Math.abs(v - w[j]!) / (1 + Math.abs(w[j]!)));
        });
        expect(worst).toBeLessThanOrEqual(1e-5);
      });
    }
  });

  // H 128: the products over all steps are split, the per-step ones are not (see STEP_PARALLEL_MIN_FLOPS);
  // H 216: the per-step ones too.
  for (const H of [128, 216]) {
    it(`large layers split over worker threads give the single-threaded result (B 32, H ${H})`, async () => {
      const c = { T: 3, B: 32, I: 16, H, bias: true, state: true, reverse: H > 128 };
      expect(2 * c.B * 4 * H * H >= STEP_PARALLEL_MIN_FLOPS).toBe(H > 128);
      const arrays = data(c, 41);
      setBackend('wasm');
      const was = getNumThreads();
      let single: Result;
      setNumThreads(1);
      try {
        single = run(c, arrays, 'float32');
      } finally {
        setNumThreads(was);
      }
      setBackend('cpu');
      const want = run(c, arrays, 'float64');
      expect(worstRelative(single, want)).toBeLessThanOrEqual(tolerance(c));
      if (threadPoolUnsupportedReason() !== null) return;
      setBackend('wasm');
      const pool = wasmThreadPool();
      if (!(pool instanceof GemmPool)) return;
      setNumThreads(2);
      try {
        await pool.start(1);
        const sum = () => pool.chunkCounts().reduce((x, y) => x + y, 0);
        const before = sum();
        const split = run(c, arrays, 'float32');
        expect(sum()).toBeGreaterThan(before);
        expect(worstRelative(split, want)).toBeLessThanOrEqual(tolerance(c));
        // Split products sum each element in the same order: the same bits.
        expect(worstRelative(split, single)).toBe(0);
      } finally {
        setNumThreads(was);
      }
    });
  }

  it('a layer that does not fit in the linear memory throws an OutOfMemoryError naming the op and the shapes', () => {
    const backend = createWasmBackend({ kernels: new WasmKernels({ maxBytes: 4 << 20 }) });
    const t = (shape: number[]) =>
      new Tensor(backend.fromArray(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);
    const [T, B, I, H] = [40, 16, 8, 64]; // the gates alone take 40 * 16 * 256 * 4 bytes = 655 KB; all: > 4 MiB
    expect(() => lstmLayer(t([T, B, I]), t([4 * H, I]), t([4 * H, H]), t([4 * H]), null, null)).not.toThrow();
    const big = () => lstmLayer(t([8 * T, B, I]), t([4 * H, I]), t([4 * H, H]), t([4 * H]), null, null);
    expect(big).toThrow(OutOfMemoryError);
    expect(big).toThrow(
      /lstmLayer: out of WebAssembly memory: .* for an LSTM layer of T 320, batch 16, input 8, hidden 64/,
    );
  });
});
