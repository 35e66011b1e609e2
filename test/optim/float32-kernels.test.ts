/**
 * The float32 update loops of SGD, Adam and AdamW, on parameters large enough for the WebAssembly
 * kernels (src/backends/wasm/optim.ts, used for parameters of the `wasm` backend) and on small ones
 * (TypeScript loops): every result must equal, bit for bit, a plain scalar loop that computes in float64
 * and rounds to float32 where the stored values are float32. The kernels are also called directly (on any
 * backend) over lengths around their chunk size and with special values.
 */
import { describe, expect, it } from 'vitest';
import {
  OPTIM_CHUNK,
  OPTIM_WASM_MIN,
  optimKernelsAvailable,
  wasmAdamStep,
  wasmSgdMomentumStep,
  wasmSgdStep,
} from '../../src/backends/wasm/optim.js';
import { getBackend, manualSeed, optim, randn, type Tensor } from '../../src/index.js';
import { wasmUpdate } from '../../src/optim/optimizer.js';

const f = Math.fround;

/**
 * Asserts that two float32 arrays hold the same bits (so -0 and +0 differ), naming the first element
 * that differs (a fast check: toEqual on long typed arrays is slow).
 */
function expectBits(got: Float32Array, want: Float32Array, what = ''): void {
  expect(got.length, what).toBe(want.length);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  if (i < a.length) expect(`${what} [${i}] = ${got[i]}`).toBe(`${what} [${i}] = ${want[i]}`);
}

/** The elements of a float32 tensor as a Float32Array. */
function f32(t: Tensor): Float32Array {
  return Float32Array.from(t.dataSync());
}

/** A float32 array of n values from a seeded generator (mostly normal-ish, a few special values). */
function values(n: number, seed: number, scale = 1, special = false): Float32Array {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (next() + next() + next() - 1.5) * scale;
  if (special && n > 8) {
    a[1] = 0;
    a[3] = -0;
    a[5] = 1e-40; // subnormal in float32
    a[7] = 3e38;
  }
  return a;
}

/** Reference plain SGD (no momentum). */
function refSgd(p: Float32Array, g: Float32Array, sign: number, wd: number, lr: number): void {
  for (let i = 0; i < p.length; i++) {
    const x = p[i]!;
    p[i] = wd === 0 ? x - sign * lr * g[i]! : x - lr * (sign * g[i]! + wd * x);
  }
}

interface Momentum {
  sign: number;
  wd: number;
  lr: number;
  momentum: number;
  keep: number;
  nesterov: boolean;
  first: boolean;
}

/** Reference SGD with momentum (buffer rounded to float32). */
function refMomentum(p: Float32Array, g: Float32Array, b: Float32Array, k: Momentum): void {
  for (let i = 0; i < p.length; i++) {
    const x = p[i]!;
    const d = k.wd === 0 ? k.sign * g[i]! : k.sign * g[i]! + k.wd * x;
    const bi = f(k.first ? d : b[i]! * k.momentum + k.keep * d);
    b[i] = bi;
    p[i] = x - k.lr * (k.nesterov ? d + k.momentum * bi : bi);
  }
}

interface AdamK {
  sign: number;
  wd: number;
  decay: number;
  beta1: number;
  beta2: number;
  c1: number;
  c2: number;
  bc2sqrt: number;
  eps: number;
  stepSize: number;
}

/** Reference Adam/AdamW step (moments rounded to float32). */
function refAdam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, k: AdamK): void {
  for (let i = 0; i < p.length; i++) {
    const x = p[i]!;
    const gi = k.wd === 0 ? k.sign * g[i]! : k.sign * g[i]! + k.wd * x;
    const mi = f(m[i]! * k.beta1 + k.c1 * gi);
    const vi = f(v[i]! * k.beta2 + k.c2 * gi * gi);
    m[i] = mi;
    v[i] = vi;
    p[i] = x * k.decay - k.stepSize * (mi / (Math.sqrt(vi) / k.bc2sqrt + k.eps));
  }
}

function adamK(step: number, o: { lr: number; wd: number; decoupled: boolean; maximize: boolean }): AdamK {
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  return {
    sign: o.maximize ? -1 : 1,
    wd: o.decoupled ? 0 : o.wd,
    decay: o.decoupled ? 1 - o.lr * o.wd : 1,
    beta1,
    beta2,
    c1: 1 - beta1,
    c2: 1 - beta2,
    bc2sqrt: Math.sqrt(1 - beta2 ** step),
    eps,
    stepSize: o.lr / (1 - beta1 ** step),
  };
}

const LENGTHS = [1, 2, 3, 8, 37, OPTIM_CHUNK - 1, OPTIM_CHUNK, OPTIM_CHUNK + 1, 2 * OPTIM_CHUNK + 5];

describe.skipIf(!optimKernelsAvailable())('WebAssembly optimizer kernels (called directly)', () => {
  it('plain SGD equals the scalar loop bit for bit (weight decay, maximize, chunk edges)', () => {
    for (const n of LENGTHS) {
      for (const [sign, wd, lr] of [
        [1, 0, 0.01],
        [-1, 0, 0.3],
        [1, 0.1, 0.05],
        [-1, 0.02, 0.7],
      ] as const) {
        const p = values(n, n + 1, 1, true);
        const g = values(n, n + 2, 0.1, true);
        const g0 = g.slice();
        const want = p.slice();
        refSgd(want, g, sign, wd, lr);
        expect(wasmSgdStep(p, g, sign, wd, lr)).toBe(true);
        expectBits(p, want);
        expectBits(g, g0);
      }
    }
  });

  it('SGD with momentum equals the scalar loop (first step, dampening, nesterov, weight decay, maximize)', () => {
    for (const n of LENGTHS) {
      for (const [momentum, dampening, nesterov, wd, sign] of [
        [0.9, 0, false, 0, 1],
        [0.9, 0, true, 0, -1],
        [0.5, 0.3, false, 0.2, 1],
        [0.8, 0, true, 0.05, -1],
      ] as const) {
        for (const first of [true, false]) {
          const k = { sign, wd, lr: 0.05, momentum, keep: 1 - dampening, nesterov, first };
          const p = values(n, 3 * n + 1, 1, true);
          const g = values(n, 3 * n + 2, 0.1);
          const b = values(n, 3 * n + 3, 0.1);
          const wantP = p.slice();
          const wantB = b.slice();
          refMomentum(wantP, g, wantB, k);
          expect(wasmSgdMomentumStep(p, g, b, k)).toBe(true);
          expectBits(p, wantP);
          expectBits(b, wantB);
        }
      }
    }
  });

  it('Adam and AdamW steps equal the scalar loop (L2 or decoupled decay, maximize, steps 1 and 40)', () => {
    for (const n of LENGTHS) {
      for (const o of [
        { lr: 1e-3, wd: 0, decoupled: false, maximize: false },
        { lr: 1e-2, wd: 0.1, decoupled: false, maximize: true },
        { lr: 1e-3, wd: 0.01, decoupled: true, maximize: false },
      ]) {
        for (const step of [1, 40]) {
          const k = adamK(step, o);
          const p = values(n, 5 * n + 1, 1, true);
          const g = values(n, 5 * n + 2, 0.01, true);
          const m = values(n, 5 * n + 3, 0.001);
          const v = values(n, 5 * n + 4, 0.001).map((x) => x * x);
          const [wp, wm, wv] = [p.slice(), m.slice(), v.slice()];
          refAdam(wp, g, wm, wv, k);
          expect(wasmAdamStep(p, g, m, v, k)).toBe(true);
          expectBits(p, wp);
          expectBits(m, wm);
          expectBits(v, wv);
        }
      }
    }
  });
});

describe('float32 optimizer steps on large and small parameters match plain loops', () => {
  const SIZES = [37, OPTIM_WASM_MIN, 2 * OPTIM_CHUNK + 3];

  it('wasmUpdate picks the WebAssembly kernels for large parameters of the wasm backend only', () => {
    const big = randn([OPTIM_WASM_MIN]);
    const small = randn([OPTIM_WASM_MIN - 1]);
    const wasm = getBackend().name === 'wasm';
    expect(wasmUpdate(big, big.numel())).toBe(wasm);
    expect(wasmUpdate(small, small.numel())).toBe(false);
  });

  it('SGD (every momentum, dampening, nesterov, weight decay and maximize combination) over 3 steps', () => {
    manualSeed(11);
    for (const n of SIZES) {
      for (const momentum of [0, 0.9]) {
        for (const dampening of momentum ? [0, 0.25] : [0]) {
          for (const nesterov of momentum && !dampening ? [false, true] : [false]) {
            for (const weightDecay of [0, 0.1]) {
              for (const maximize of [false, true]) {
                const lr = 0.05;
                const p = randn([n]).requiresGrad_();
                const opt = new optim.SGD([p], { lr, momentum, dampening, nesterov, weightDecay, maximize });
                const pw = Float32Array.from(p.dataSync());
                const buf = new Float32Array(n);
                for (let step = 1; step <= 3; step++) {
                  const g = randn([n]);
                  p.grad = g;
                  opt.step();
                  const gd = g.dataSync() as Float32Array;
                  const sign = maximize ? -1 : 1;
                  if (momentum === 0) refSgd(pw, gd, sign, weightDecay, lr);
                  else {
                    const k = {
                      sign,
                      wd: weightDecay,
                      lr,
                      momentum,
                      keep: 1 - dampening,
                      nesterov,
                      first: step === 1,
                    };
                    refMomentum(pw, gd, buf, k);
                  }
                  const what = `n ${n} momentum ${momentum} dampening ${dampening} nesterov ${nesterov} wd ${weightDecay} maximize ${maximize} step ${step}`;
                  expectBits(f32(p), pw, what);
                  if (momentum) {
                    const b = opt.state.get(p)!.momentumBuffer as Tensor;
                    expectBits(f32(b), buf, what);
                  }
                }
              }
            }
          }
        }
      }
    }
  });

  it('Adam and AdamW (weight decay, maximize, amsgrad) over 3 steps, with their moments', () => {
    manualSeed(12);
    const [b1, b2, eps] = [0.9, 0.999, 1e-8];
    for (const n of SIZES) {
      for (const decoupled of [false, true]) {
        for (const weightDecay of [0, 0.1]) {
          for (const maximize of [false, true]) {
            for (const amsgrad of [false, true]) {
              const lr = 0.01;
              const p = randn([n]).requiresGrad_();
              const Opt = decoupled ? optim.AdamW : optim.Adam;
              const opt = new Opt([p], { lr, weightDecay, maximize, amsgrad });
              const pw = Float32Array.from(p.dataSync());
              const [m, v, x] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
              for (let step = 1; step <= 3; step++) {
                const g = randn([n]).mul(0.1);
                p.grad = g;
                opt.step();
                const gd = g.dataSync();
                const k = adamK(step, { lr, wd: weightDecay, decoupled, maximize });
                if (!amsgrad) refAdam(pw, gd as Float32Array, m, v, k);
                else {
                  for (let i = 0; i < n; i++) {
                    const p0 = pw[i]! * k.decay;
                    const gi = k.wd === 0 ? k.sign * gd[i]! : k.sign * gd[i]! + k.wd * p0;
                    m[i] = m[i]! * b1 + (1 - b1) * gi;
                    v[i] = v[i]! * b2 + (1 - b2) * gi * gi;
                    if (v[i]! > x[i]!) x[i] = v[i]!;
                    pw[i] = p0 - k.stepSize * (m[i]! / (Math.sqrt(x[i]!) / k.bc2sqrt + eps));
                  }
                }
                const what = `n ${n} decoupled ${decoupled} wd ${weightDecay} maximize ${maximize} amsgrad ${amsgrad} step ${step}`;
                expectBits(f32(p), pw, what);
                const s = opt.state.get(p)!;
                expectBits(f32(s.expAvg as Tensor), m, what);
                expectBits(f32(s.expAvgSq as Tensor), v, what);
                if (amsgrad) expectBits(f32(s.maxExpAvgSq as Tensor), x, what);
              }
            }
          }
        }
      }
    }
  });

  it('a large non-contiguous float32 parameter gets the same update as a contiguous copy', () => {
    manualSeed(13);
    const rows = 96;
    const cols = 80; // 7680 elements: above OPTIM_WASM_MIN
    const base = randn([cols, rows]);
    const run = (p: Tensor): Float32Array => {
      p.requiresGrad_();
      const opt = new optim.Adam([p], { lr: 0.01, weightDecay: 0.05 });
      const sgd = new optim.SGD([p], { lr: 0.01, momentum: 0.9, nesterov: true });
      manualSeed(14);
      for (let i = 0; i < 3; i++) {
        p.grad = randn([rows, cols]);
        opt.step();
        sgd.step();
      }
      return f32(p);
    };
    const copy = base.t().contiguous().detach();
    const transposed = base.t().detach();
    expect(transposed.isContiguous()).toBe(false);
    const v0 = transposed.version;
    const got = run(transposed);
    expect(transposed.version).toBeGreaterThan(v0);
    expectBits(got, run(copy));
  });
});
