/**
 * conv2d forward and backward kernels of the `wasm` backend (src/backends/wasm/conv.ts, assembly/conv.ts)
 * against the CPU backend's kernels run in float64 on the same values: strides, padding and dilation
 * (also different along height and width), non-square and oversized kernels, bias or none,
 * non-contiguous operands, batches split into groups and into partial weight gradients; the same results,
 * bit for bit, on 1, 2 and 3 threads (also for batches smaller than the thread count, which split each
 * sample's work); a worker that dies mid-convolution; gradcheck through the public conv2d; float64 and
 * grouped convolutions delegated to the CPU kernels.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Backend,
  maxPool2x2Window,
  type Pool2dWindow,
  type View,
  type Window2d,
} from '../../../src/backends/backend.js';
import { createCpuBackend } from '../../../src/backends/cpu/index.js';
import { CpuStorage } from '../../../src/backends/cpu/storage.js';
import {
  convLimits,
  isMaxPool2x2,
  wasmConv2d,
  wasmConv2dBackwardInput,
  wasmConv2dBackwardWeight,
  wasmConv2dMaxPool2x2,
  wasmConv2dMaxPool2x2Backward,
} from '../../../src/backends/wasm/conv.js';
import { wasmMaxPool2x2 } from '../../../src/backends/wasm/elementwise.js';
import {
  createWasmBackend,
  GemmPool,
  getNumThreads,
  setNumThreads,
  threadPoolUnsupportedReason,
  WasmKernels,
  wasmThreadsUnsupportedReason,
} from '../../../src/backends/wasm/index.js';
import { PARALLEL_MIN_FLOPS } from '../../../src/backends/wasm/job.js';
import { contiguousStrides } from '../../../src/core/shape.js';
import { getBackend, gradcheck, nn, randn, setBackend, type Tensor } from '../../../src/index.js';

const cpu = createCpuBackend();
const wasm = createWasmBackend();
const threadsUnsupported = wasmThreadsUnsupportedReason() ?? threadPoolUnsupportedReason();

function rand(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 0.731 + seed * 1.37) * Math.cos(i * 0.113 + seed);
  return out;
}

/**
 * A view of `shape` on backend `be` holding `data` (float32, or float64 copies of the same values):
 * contiguous, or `layout` 'transposed' (last two dims swapped in memory) or 'strided' (every other
 * element of a twice-as-long last dim, starting at offset 1).
 */
function view(
  be: Backend,
  data: Float32Array,
  shape: number[],
  layout: 'contiguous' | 'transposed' | 'strided' = 'contiguous',
  f64 = false,
): View {
  const r = shape.length;
  const make = (a: Float32Array) =>
    new CpuStorage(be, f64 ? 'float64' : 'float32', f64 ? Float64Array.from(a) : a);
  if (layout === 'contiguous')
    return { storage: make(data), shape, strides: contiguousStrides(shape), offset: 0 };
  if (layout === 'transposed') {
    const stored = [...shape.slice(0, r - 2), shape[r - 1]!, shape[r - 2]!];
    const st = contiguousStrides(stored);
    return {
      storage: make(data),
      shape,
      strides: [...st.slice(0, r - 2), st[r - 1]!, st[r - 2]!],
      offset: 0,
    };
  }
  const wide = [...shape.slice(0, r - 1), 2 * shape[r - 1]!];
  const big = new Float32Array(data.length * 2 + 1);
  // Element e of the view lives at 1 + 2 e (the strides of `wide`, doubled in the last dim).
  for (let i = 0; i < data.length; i++) big[1 + 2 * i] = data[i]!;
  const st = contiguousStrides(wide);
  return { storage: make(big), shape, strides: [...st.slice(0, r - 1), 2], offset: 1 };
}

interface ConvCase {
  N: number;
  C: number;
  H: number;
  W: number;
  cout: number;
  kh: number;
  kw?: number;
  /** Stride, padding and dilation: one number for both dims, or [height, width]. */
  s?: number | [number, number];
  p?: number | [number, number];
  d?: number | [number, number];
  bias?: boolean;
  /** Layout of x and of grad. */
  layout?: 'contiguous' | 'transposed' | 'strided';
}

function pair(v: number | [number, number] | undefined, dflt: number): [number, number] {
  return v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v;
}

function win(c: ConvCase): Window2d {
  const kw = c.kw ?? c.kh;
  const [sh, sw] = pair(c.s, 1);
  const [ph, pw] = pair(c.p, 0);
  const [dh, dw] = pair(c.d, 1);
  return {
    inH: c.H,
    inW: c.W,
    kh: c.kh,
    kw,
    sh,
    sw,
    ph,
    pw,
    dh,
    dw,
    outH: Math.floor((c.H + 2 * ph - dh * (c.kh - 1) - 1) / sh) + 1,
    outW: Math.floor((c.W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1,
  };
}

/** The operands of a case on backend `be` (float32, or float64 copies of the same values). */
function operands(be: Backend, c: ConvCase, f64 = false) {
  const w = win(c);
  const kw = c.kw ?? c.kh;
  const L = w.outH * w.outW;
  return {
    w,
    x: view(be, rand(c.N * c.C * c.H * c.W, 1), [c.N, c.C, c.H, c.W], c.layout, f64),
    wt: view(be, rand(c.cout * c.C * c.kh * kw, 2), [c.cout, c.C, c.kh, kw], 'contiguous', f64),
    b: c.bias ? view(be, rand(c.cout, 3), [c.cout], 'contiguous', f64) : null,
    g: view(be, rand(c.N * c.cout * L, 4), [c.N, c.cout, w.outH, w.outW], c.layout, f64),
  };
}

function data(s: unknown): Float32Array | Float64Array {
  return (s as CpuStorage).data as Float32Array | Float64Array;
}

/** Forward, input gradient and weight gradient of the CPU kernels in float64. */
function reference(c: ConvCase): Float64Array[] {
  const { w, x, wt, b, g } = operands(cpu, c, true);
  return [
    data(cpu.conv2d(x, wt, b, w, 1)) as Float64Array,
    data(cpu.conv2dBackwardInput(g, wt, w, 1)) as Float64Array,
    data(cpu.conv2dBackwardWeight(g, x, w, 1)) as Float64Array,
  ];
}

/** The three wasm kernels on the case's float32 operands, with `threads` threads of `pool`. */
function onWasm(
  kernels: WasmKernels,
  c: ConvCase,
  pool: GemmPool | null = null,
  threads = 1,
): Float32Array[] {
  const { w, x, wt, b, g } = operands(wasm, c);
  const t = { pool, threads };
  return [
    wasmConv2d(kernels, t, x, wt, b, w),
    wasmConv2dBackwardInput(kernels, t, g, wt, w),
    wasmConv2dBackwardWeight(kernels, t, g, x, w),
  ];
}

const NAMES = ['forward', 'input gradient', 'weight gradient'];

/** Float32 results within 2e-5 of the float64 ones, relative to the largest of them. */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  let scale = 1e-6;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst / scale, what).toBeLessThan(2e-5);
}

/** Same length and every element identical (toEqual on long arrays is slow). */
function expectSame(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  let differ = 0;
  for (let q = 0; q < want.length; q++) if (!Object.is(got[q], want[q])) differ++;
  expect(differ, what).toBe(0);
}

function checkCase(kernels: WasmKernels, c: ConvCase): Float32Array[] {
  const want = reference(c);
  const got = onWasm(kernels, c);
  for (let i = 0; i < 3; i++) expectClose(got[i]!, want[i]!, `${NAMES[i]} of ${JSON.stringify(c)}`);
  return got;
}

/** The 2x2, stride-2 max pool over the whole output of conv window `w`. */
function pool2x2(w: Window2d): Pool2dWindow {
  return maxPool2x2Window(w.outH, w.outW);
}

/**
 * The fused conv2d + 2x2 max pool against the conv then the pool kernel (wasm, both), which it must
 * match bit for bit (values and indices); `pool`/`threads` as in onWasm.
 */
function checkConvPool(kernels: WasmKernels, c: ConvCase, pool: GemmPool | null = null, threads = 1): void {
  const { w, x, wt, b } = operands(wasm, c);
  const pw = pool2x2(w);
  expect(isMaxPool2x2(w, pw), JSON.stringify(c)).toBe(true);
  const t = { pool, threads };
  const fused = wasmConv2dMaxPool2x2(kernels, t, x, wt, b, w, pw);
  const y = wasmConv2d(kernels, t, x, wt, b, w);
  const yv: View = {
    storage: new CpuStorage(wasm, 'float32', y),
    shape: [c.N, c.cout, w.outH, w.outW],
    strides: contiguousStrides([c.N, c.cout, w.outH, w.outW]),
    offset: 0,
  };
  const want = wasmMaxPool2x2(kernels, yv, { ...pw, inH: w.outH, inW: w.outW }) ?? cpuPool(yv, pw);
  expectSame(fused.values, want.values as Float32Array, `values of ${JSON.stringify(c)}`);
  expect(Array.from(fused.indices), `indices of ${JSON.stringify(c)}`).toEqual(Array.from(want.indices));
}

/**
 * The fused backward of conv2d + 2x2 max pool against the pool's backward (CPU kernel: a scatter, exact)
 * followed by the wasm conv backward kernels and the CPU backend's sum over [0, 2, 3] for the bias: the
 * same bits; every combination of needed gradients.
 */
function checkConvPoolBackward(
  kernels: WasmKernels,
  c: ConvCase,
  pool: GemmPool | null = null,
  threads = 1,
): void {
  const { w, x, wt } = operands(wasm, c);
  const pw = pool2x2(w);
  const t = { pool, threads };
  const fwd = wasmConv2dMaxPool2x2(kernels, t, x, wt, null, w, pw);
  const pshape = [c.N, c.cout, pw.outH, pw.outW];
  const gp: View = {
    storage: new CpuStorage(wasm, 'float32', rand(c.N * c.cout * pw.outH * pw.outW, 7)),
    shape: pshape,
    strides: contiguousStrides(pshape),
    offset: 0,
  };
  const idx: View = {
    storage: new CpuStorage(cpu, 'int32', fwd.indices),
    shape: pshape,
    strides: contiguousStrides(pshape),
    offset: 0,
  };
  const dense = cpu.maxPool2dBackward(
    { ...gp, storage: new CpuStorage(cpu, 'float32', data(gp.storage) as Float32Array) },
    idx,
    pw,
  );
  const dshape = [c.N, c.cout, w.outH, w.outW];
  const dy: View = {
    storage: new CpuStorage(wasm, 'float32', data(dense) as Float32Array),
    shape: dshape,
    strides: contiguousStrides(dshape),
    offset: 0,
  };
  const wantInput = wasmConv2dBackwardInput(kernels, t, dy, wt, w);
  const wantWeight = wasmConv2dBackwardWeight(kernels, t, dy, x, w);
  const wantBias = data(
    cpu.reduce(
      'sum',
      { ...dy, storage: new CpuStorage(cpu, 'float32', data(dy.storage) as Float32Array) },
      [0, 2, 3],
    ),
  ) as Float32Array;
  for (const input of [true, false]) {
    for (const weight of [true, false]) {
      for (const bias of [true, false]) {
        const what = `${JSON.stringify(c)} needs ${input}/${weight}/${bias}`;
        const got = wasmConv2dMaxPool2x2Backward(kernels, t, gp, idx, pw, x, wt, w, { input, weight, bias })!;
        expect(got, what).not.toBeNull();
        if (input) expectSame(got.input!, wantInput, `input gradient of ${what}`);
        else expect(got.input).toBeNull();
        if (weight) expectSame(got.weight!, wantWeight, `weight gradient of ${what}`);
        else expect(got.weight).toBeNull();
        if (bias) expectSame(got.bias!, wantBias, `bias gradient of ${what}`);
        else expect(got.bias).toBeNull();
      }
    }
  }
}

/** The CPU max-pool kernel (for outputs below the wasm elementwise kernels' size threshold). */
function cpuPool(y: View, pw: Pool2dWindow): { values: Float32Array; indices: Int32Array } {
  const r = cpu.maxPool2d(
    { ...y, storage: new CpuStorage(cpu, 'float32', data(y.storage) as Float32Array) },
    pw,
  );
  return { values: data(r.values) as Float32Array, indices: (r.indices as CpuStorage).data as Int32Array };
}

function flops(c: ConvCase): number {
  const w = win(c);
  return 2 * c.N * c.cout * c.C * c.kh * (c.kw ?? c.kh) * w.outH * w.outW;
}

const defaults = { ...convLimits };
afterEach(() => {
  Object.assign(convLimits, defaults);
});

describe('wasm conv2d kernels', () => {
  const kernels = new WasmKernels();

  it('match the CPU kernels (float64): strides, padding, dilation, kernel shapes, layouts, bias', () => {
    const cases: ConvCase[] = [
      { N: 2, C: 1, H: 7, W: 6, cout: 3, kh: 3 },
      { N: 3, C: 2, H: 9, W: 8, cout: 5, kh: 3, p: 1, bias: true },
      { N: 2, C: 3, H: 11, W: 10, cout: 4, kh: 3, s: 2, p: 2, bias: true },
      { N: 1, C: 2, H: 12, W: 12, cout: 3, kh: 3, d: 2, p: 1 },
      { N: 4, C: 5, H: 5, W: 5, cout: 6, kh: 1, bias: true }, // 1x1
      { N: 2, C: 3, H: 13, W: 17, cout: 7, kh: 2, kw: 5, s: [1, 3], p: [0, 2], d: [2, 1], bias: true },
      { N: 3, C: 4, H: 10, W: 9, cout: 5, kh: 4, kw: 3, s: [3, 1], p: [2, 1], d: [1, 2] },
      { N: 2, C: 3, H: 8, W: 8, cout: 4, kh: 3, p: 1, layout: 'transposed', bias: true },
      { N: 2, C: 3, H: 7, W: 9, cout: 4, kh: 3, s: 2, p: 1, layout: 'strided', bias: true },
      { N: 2, C: 1, H: 3, W: 3, cout: 2, kh: 5, p: 1 }, // kernel larger than the input
      { N: 1, C: 2, H: 1, W: 1, cout: 3, kh: 3, p: 1, bias: true }, // a single pixel, all padding around
      { N: 2, C: 2, H: 5, W: 31, cout: 3, kh: 1, kw: 7, s: [1, 5], p: [0, 3] }, // wide rows, stride 5
      { N: 3, C: 6, H: 6, W: 6, cout: 1, kh: 6, bias: true }, // one output pixel per sample
      { N: 2, C: 3, H: 6, W: 7, cout: 4, kh: 1, p: 1 }, // 1x1 with padding
      { N: 2, C: 3, H: 5, W: 3, cout: 9, kh: 3, p: 1, bias: true }, // rows narrower than a micro-panel
    ];
    // Fused (weights packed once, columns packed from the padded image) and unfused (im2col + SGEMM).
    for (const packBytes of [defaults.packBytes, 0]) {
      convLimits.packBytes = packBytes;
      for (const c of cases) checkCase(kernels, c);
    }
  });

  it('the fused and unfused kernels agree on the MNIST layers, with more columns than a block', () => {
    for (const c of [
      { N: 3, C: 1, H: 28, W: 28, cout: 32, kh: 5, p: 2, bias: true },
      { N: 3, C: 32, H: 14, W: 14, cout: 64, kh: 5, p: 2, bias: true },
      { N: 2, C: 3, H: 40, W: 30, cout: 7, kh: 3, p: 1 }, // 1200 positions: 3 blocks of columns
    ] satisfies ConvCase[]) {
      const fused = checkCase(kernels, c);
      convLimits.packBytes = 0;
      const unfused = checkCase(kernels, c);
      convLimits.packBytes = defaults.packBytes;
      for (let i = 0; i < 3; i++) expectClose(fused[i]!, unfused[i]!, `${NAMES[i]} of ${JSON.stringify(c)}`);
      // The input gradient's products are the same either way (W^T is only packed once per chunk).
      expectSame(fused[1]!, unfused[1]!, `input gradient of ${JSON.stringify(c)}`);
    }
  });

  it('conv2d + 2x2 max pool in one call matches the conv then the pool, bit for bit, grouped or not', () => {
    const cases: ConvCase[] = [
      { N: 3, C: 1, H: 28, W: 28, cout: 32, kh: 5, p: 2, bias: true }, // MNIST layer 1
      { N: 2, C: 32, H: 14, W: 14, cout: 64, kh: 5, p: 2, bias: true }, // MNIST layer 2
      { N: 3, C: 3, H: 9, W: 11, cout: 5, kh: 3, p: 1 }, // odd outputs: the last row and column are dropped
      { N: 2, C: 2, H: 8, W: 8, cout: 3, kh: 3, s: 2, p: 1, layout: 'strided', bias: true },
    ];
    for (const packBytes of [defaults.packBytes, 0]) {
      convLimits.packBytes = packBytes;
      for (const c of cases) checkConvPool(kernels, c);
    }
    // Groups of 2, 2 and 1 samples: each group is pooled and copied out on its own.
    const c: ConvCase = { N: 5, C: 3, H: 10, W: 10, cout: 4, kh: 3, p: 1, bias: true };
    convLimits.groupBytes = 2 * 4 * (3 * 100 + 4 * 100 + 2 * 4 * 25) + 100;
    checkConvPool(kernels, c);
    // Not a 2x2 pool with stride 2 over the whole output: the backend leaves the case to the caller.
    const { w, x, wt } = operands(wasm, c);
    const pw = pool2x2(w);
    expect(isMaxPool2x2(w, { ...pw, sh: 1, sw: 1, outH: 9, outW: 9 })).toBe(false);
    expect(isMaxPool2x2(w, { ...pw, kh: 3, kw: 3, outH: 4, outW: 4 })).toBe(false);
    expect(isMaxPool2x2(w, { ...pw, inH: 12 })).toBe(false);
    expect(wasm.conv2dMaxPool2d!(x, wt, null, w, { ...pw, ph: 1, pw: 1, outH: 6, outW: 6 })).toBeNull();
    const x64 = operands(wasm, c, true);
    expect(wasm.conv2dMaxPool2d!(x64.x, x64.wt, null, w, pw)).toBeNull();
    const r = wasm.conv2dMaxPool2d!(x, wt, null, w, pw)!;
    expect(r.values.backend).toBe(wasm);
    expect(r.indices.dtype).toBe('int32');
  });

  it('the backward of conv2d + 2x2 max pool matches the pool backward then the conv backward kernels', () => {
    const cases: ConvCase[] = [
      { N: 3, C: 1, H: 28, W: 28, cout: 32, kh: 5, p: 2 }, // MNIST layer 1
      { N: 2, C: 32, H: 14, W: 14, cout: 64, kh: 5, p: 2 }, // MNIST layer 2
      { N: 3, C: 3, H: 9, W: 11, cout: 5, kh: 3, p: 1 }, // odd outputs: the last row and column get 0
      { N: 2, C: 2, H: 8, W: 8, cout: 6, kh: 3, s: 2, p: 1, layout: 'strided' },
    ];
    for (const packBytes of [defaults.packBytes, 0]) {
      convLimits.packBytes = packBytes;
      for (const c of cases) checkConvPoolBackward(kernels, c);
    }
    // Groups of 2, 2 and 1 samples: the bias sums carry over from group to group.
    convLimits.groupBytes = 2 * 4 * (3 * 100 + 4 * 100 + 2 * 4 * 25) + 100;
    checkConvPoolBackward(kernels, { N: 5, C: 3, H: 10, W: 10, cout: 4, kh: 3, p: 1 });
    // An index outside its window: null (the caller runs the pool's backward and the conv's).
    const c: ConvCase = { N: 1, C: 1, H: 4, W: 4, cout: 1, kh: 1 };
    const { w, x, wt } = operands(wasm, c);
    // Window (0, 0) covers 0, 1, 4 and 5; window (0, 1) covers 2, 3, 6 and 7, so its index 1 is outside.
    const bad = new Int32Array([5, 1, 8, 15]);
    const shape = [1, 1, 2, 2];
    const idx: View = {
      storage: new CpuStorage(cpu, 'int32', bad),
      shape,
      strides: contiguousStrides(shape),
      offset: 0,
    };
    const gp: View = {
      storage: new CpuStorage(wasm, 'float32', new Float32Array(4).fill(1)),
      shape,
      strides: contiguousStrides(shape),
      offset: 0,
    };
    const needs = { input: true, weight: true, bias: true };
    expect(
      wasmConv2dMaxPool2x2Backward(kernels, { pool: null, threads: 1 }, gp, idx, pool2x2(w), x, wt, w, needs),
    ).toBeNull();
    expect(wasm.conv2dMaxPool2dBackward!(gp, idx, x, wt, w, pool2x2(w), needs)).toBeNull();
  });

  it('an empty batch gives an empty output and input gradient and a zero weight gradient', () => {
    const c: ConvCase = { N: 0, C: 2, H: 5, W: 5, cout: 3, kh: 3, bias: true };
    const got = onWasm(kernels, c);
    expect(got[0]!.length).toBe(0);
    expect(got[1]!.length).toBe(0);
    expect(Array.from(got[2]!)).toEqual(new Array(3 * 2 * 9).fill(0));
  });

  it('batches split into groups (the last one smaller) and partial weight gradients match', () => {
    const c: ConvCase = { N: 7, C: 3, H: 9, W: 8, cout: 4, kh: 3, p: 1, bias: true };
    const whole = checkCase(kernels, c);
    // Groups of 3, 3 and 1 samples (one sample's data is (3 * 72 + 4 * 72) * 4 = 2016 bytes).
    convLimits.groupBytes = 3 * 2016 + 100;
    const grouped = checkCase(kernels, c);
    // The forward and input gradient do not depend on the grouping at all.
    expectSame(grouped[0]!, whole[0]!, 'forward');
    expectSame(grouped[1]!, whole[1]!, 'input gradient');
    // One partial weight gradient per group (a sum of the samples in order), and a budget that allows 2.
    convLimits.partials = 1;
    checkCase(kernels, c);
    Object.assign(convLimits, defaults);
    convLimits.partialBytes = 2 * 4 * 4 * 27;
    checkCase(kernels, c);
  });

  it('samples whose columns exceed the pass budget go in passes of rows or channels, with the same results', () => {
    const c: ConvCase = { N: 3, C: 5, H: 11, W: 9, cout: 4, kh: 3, kw: 2, s: [2, 1], p: 1, bias: true };
    convLimits.packBytes = 0; // passes are for the unfused kernels (im2col columns)
    const whole = checkCase(kernels, c);
    for (const passBytes of [1, 4 * 5 * 6 * 10 * 3]) {
      // One output row or input channel per pass; then 3 rows or 2 channels (the last pass shorter).
      convLimits.passBytes = passBytes;
      const passes = checkCase(kernels, c);
      for (let i = 0; i < 3; i++)
        expectSame(passes[i]!, whole[i]!, `${NAMES[i]} in passes of ${passBytes} bytes`);
    }
  });

  it('the MNIST CNN layers (batch 64) match', () => {
    checkCase(kernels, { N: 64, C: 1, H: 28, W: 28, cout: 32, kh: 5, p: 2, bias: true });
    checkCase(kernels, { N: 64, C: 32, H: 14, W: 14, cout: 64, kh: 5, p: 2, bias: true });
  });
});

describe.skipIf(threadsUnsupported !== null)('wasm conv2d kernels on worker threads', () => {
  const kernels = new WasmKernels();
  const pool = new GemmPool(kernels);

  beforeAll(async () => {
    await pool.start(2);
  });
  afterAll(() => {
    pool.close();
  });

  const total = () => pool.chunkCounts().reduce((a, b) => a + b, 0);

  it('give the single-threaded results bit for bit on 2 and 3 threads, batches of any size', () => {
    const cases: ConvCase[] = [
      { N: 64, C: 32, H: 14, W: 14, cout: 64, kh: 5, p: 2, bias: true }, // MNIST layer 2
      { N: 5, C: 8, H: 20, W: 18, cout: 12, kh: 3, p: 1, bias: true }, // 5 samples on 2 or 3 threads
      { N: 7, C: 6, H: 21, W: 19, cout: 18, kh: 3, kw: 4, s: [2, 1], p: [1, 2], d: [1, 2] },
      // Fewer samples than threads: each sample's rows or channels are split.
      { N: 1, C: 16, H: 24, W: 24, cout: 24, kh: 3, p: 1, bias: true },
      { N: 2, C: 10, H: 44, W: 37, cout: 16, kh: 5, s: 2, p: 2, layout: 'strided' },
    ];
    // Fused and unfused kernels (see the first test).
    for (const [c, packBytes] of [
      ...cases.map((c) => [c, defaults.packBytes]),
      ...cases.map((c) => [c, 0]),
    ] as [ConvCase, number][]) {
      convLimits.packBytes = packBytes;
      expect(flops(c), JSON.stringify(c)).toBeGreaterThanOrEqual(PARALLEL_MIN_FLOPS);
      const one = c.N > 8 ? onWasm(kernels, c) : checkCase(kernels, c);
      for (const threads of [2, 3]) {
        const before = total();
        const many = onWasm(kernels, c, pool, threads);
        // Each of the three kernels ran on the pool (the serial path counts no chunks).
        expect(total() - before).toBeGreaterThanOrEqual(3);
        for (let i = 0; i < 3; i++)
          expectSame(many[i]!, one[i]!, `${NAMES[i]} on ${threads} threads of ${JSON.stringify(c)}`);
      }
    }
    // With groups of 4 samples, partials, blocks and passes (3 output rows or 1 input channel) too: the
    // grouping changes the weight gradient's partial sums, the thread count changes nothing.
    const c: ConvCase = { N: 9, C: 8, H: 24, W: 24, cout: 40, kh: 3, p: 1, bias: true };
    convLimits.groupBytes = 4 * 4 * (8 * 576 + 40 * 576);
    convLimits.passBytes = 3 * 4 * 72 * 24;
    for (const [N, threads, packBytes] of [
      [9, 2, defaults.packBytes],
      [1, 2, defaults.packBytes],
      [3, 3, defaults.packBytes],
      [9, 2, 0],
      [1, 2, 0],
      [3, 3, 0],
    ] as const) {
      convLimits.packBytes = packBytes;
      const one = N === 9 ? checkCase(kernels, c) : onWasm(kernels, { ...c, N });
      expect(flops({ ...c, N })).toBeGreaterThanOrEqual(PARALLEL_MIN_FLOPS);
      const before = total();
      const many = onWasm(kernels, { ...c, N }, pool, threads);
      expect(total() - before).toBeGreaterThanOrEqual(3);
      for (let i = 0; i < 3; i++)
        expectSame(
          many[i]!,
          one[i]!,
          `${NAMES[i]}, ${N} samples on ${threads} threads, packBytes ${packBytes}`,
        );
    }
  });

  it('a small convolution stays on the calling thread', () => {
    const c: ConvCase = { N: 2, C: 2, H: 6, W: 6, cout: 3, kh: 3 };
    expect(flops(c)).toBeLessThan(PARALLEL_MIN_FLOPS);
    const before = total();
    onWasm(kernels, c, pool, 2);
    expect(total()).toBe(before);
  });

  it('work done meanwhile (allocating the result) may throw: the error comes once the job is done', () => {
    let ran = false;
    const boom = () => {
      ran = true;
      throw new Error('boom');
    };
    expect(() => pool.run(0, 0, 0, 2, 'nothing', 'test', boom)).toThrow('boom');
    expect(ran).toBe(true);
    const c: ConvCase = { N: 8, C: 8, H: 12, W: 12, cout: 32, kh: 3, p: 1, bias: true };
    expect(flops(c)).toBeGreaterThanOrEqual(PARALLEL_MIN_FLOPS);
    const one = onWasm(kernels, c);
    const many = onWasm(kernels, c, pool, 2);
    for (let i = 0; i < 3; i++) expectSame(many[i]!, one[i]!, NAMES[i]!);
  });

  it('a worker that dies mid-convolution fails the op with a clear error and is replaced', async () => {
    const c: ConvCase = { N: 16, C: 8, H: 16, W: 16, cout: 16, kh: 3, p: 1, bias: true };
    const one = onWasm(kernels, c);
    const { w, x, wt, b } = operands(wasm, c);
    let err: Error | null = null;
    for (let i = 0; i < 200 && err === null; i++) {
      await pool.start(2);
      pool.injectFault(1, 'exit');
      try {
        wasmConv2d(kernels, { pool, threads: 2 }, x, wt, b, w);
      } catch (e) {
        err = e as Error;
      }
    }
    expect(err?.message).toMatch(
      /^wasm conv2d: worker thread 1 died \(exit code \d+\) during a conv2d of a \[16, 8, 16, 16\] input with a \[16, 8, 3, 3\] weight; it has been replaced/,
    );
    pool.injectFault(0, 'exit'); // (no thread 0 worker: clears the fault if it never fired)
    const again = onWasm(kernels, c, pool, 2);
    for (let i = 0; i < 3; i++) expectSame(again[i]!, one[i]!, NAMES[i]!);
  });

  it('conv2d + 2x2 max pool gives the same bits on 2 and 3 threads', () => {
    for (const threads of [2, 3]) {
      checkConvPoolBackward(kernels, { N: 16, C: 32, H: 14, W: 14, cout: 64, kh: 5, p: 2 }, pool, threads);
      checkConvPool(
        kernels,
        { N: 64, C: 32, H: 14, W: 14, cout: 64, kh: 5, p: 2, bias: true },
        pool,
        threads,
      );
      checkConvPool(kernels, { N: 1, C: 16, H: 24, W: 24, cout: 24, kh: 3, p: 1, bias: true }, pool, threads);
    }
  });
});

describe('conv2d on the wasm backend', () => {
  let previous: Backend;
  let threads: number;
  beforeAll(() => {
    previous = getBackend();
    threads = getNumThreads();
  });
  afterAll(() => {
    setNumThreads(threads);
    setBackend(previous.name);
  });

  it('passes gradcheck through the public conv2d (float32 kernels inside a float64 function), 1 and 2 threads', () => {
    setBackend('wasm');
    const d64 = (shape: number[]) => randn(shape, { dtype: 'float64', requiresGrad: true });
    const F = nn.functional;
    // conv2d is linear in x and in w, so central differences are exact up to float32 rounding.
    const tol = { eps: 1e-2, atol: 2e-3, rtol: 2e-3 };
    const f32 = (t: Tensor | undefined) => t!.float();
    for (const n of [1, 2]) {
      setNumThreads(n);
      expect(
        gradcheck(
          (x, w, b) => F.conv2d(f32(x), f32(w), f32(b), { padding: 1 }).double(),
          [d64([2, 3, 6, 5]), d64([4, 3, 3, 3]), d64([4])],
          tol,
        ),
      ).toBe(true);
      expect(
        gradcheck(
          (x, w) =>
            F.conv2d(f32(x), f32(w), null, { stride: [2, 1], padding: [1, 2], dilation: [1, 2] }).double(),
          [d64([3, 2, 7, 8]), d64([3, 2, 2, 3])],
          tol,
        ),
      ).toBe(true);
    }
  });

  it('float64 and grouped convolutions run the CPU kernels on wasm storages', () => {
    const c: ConvCase = { N: 2, C: 2, H: 6, W: 6, cout: 3, kh: 3, p: 1, bias: true };
    const want = reference(c);
    const { w, x, wt, b, g } = operands(wasm, c, true);
    const got = [
      wasm.conv2d(x, wt, b, w, 1),
      wasm.conv2dBackwardInput(g, wt, w, 1),
      wasm.conv2dBackwardWeight(g, x, w, 1),
    ];
    for (let i = 0; i < 3; i++) {
      expect(got[i]!.backend).toBe(wasm);
      expect(data(got[i])).toEqual(want[i]);
    }
    const gw = win({ N: 2, C: 4, H: 6, W: 6, cout: 6, kh: 3 });
    const gx = view(wasm, rand(2 * 4 * 36, 5), [2, 4, 6, 6]);
    const gwt = view(wasm, rand(6 * 2 * 9, 6), [6, 2, 3, 3]);
    const out = wasm.conv2d(gx, gwt, null, gw, 2);
    expect(out.backend).toBe(wasm);
    const ref = cpu.conv2d(
      view(cpu, rand(2 * 4 * 36, 5), [2, 4, 6, 6]),
      view(cpu, rand(6 * 2 * 9, 6), [6, 2, 3, 3]),
      null,
      gw,
      2,
    );
    expect(data(out)).toEqual(data(ref));
  });
});
