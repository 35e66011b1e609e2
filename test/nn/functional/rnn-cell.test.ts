import { describe, expect, it } from 'vitest';
import {
  AutogradError,
  autogradGrad,
  cat,
  DTypeError,
  getBackend,
  gradcheck,
  gradgradcheck,
  noGrad,
  randn,
  ShapeError,
  stack,
  type Tensor,
  tensor,
  zeros,
} from '../../../src/index.js';
import { gruCell, lstmCell, lstmLayer } from '../../../src/nn/functional/rnn-cell.js';
import { d64 } from '../../helpers/tensors.js';

// Straightforward references written with plain differentiable ops.

function refLstmCell(z: Tensor, cp: Tensor): [Tensor, Tensor] {
  const H = cp.shape[1]!;
  const gate = (k: number): Tensor => z.narrow(1, k * H, H);
  const c = gate(1)
    .sigmoid()
    .mul(cp)
    .add(gate(0).sigmoid().mul(gate(2).tanh()));
  return [gate(3).sigmoid().mul(c.tanh()), c];
}

function refGruCell(x: Tensor, hg: Tensor, h: Tensor, bhn: Tensor | null): Tensor {
  const H = h.shape[1]!;
  const part = (t: Tensor, k: number): Tensor => t.narrow(1, k * H, H);
  const r = part(x, 0).add(part(hg, 0)).sigmoid();
  const z = part(x, 1).add(part(hg, 1)).sigmoid();
  const hn = bhn ? part(hg, 2).add(bhn) : part(hg, 2);
  const n = part(x, 2).add(r.mul(hn)).tanh();
  return z.neg().add(1).mul(n).add(z.mul(h));
}

function refLstmLayer(
  x: Tensor,
  wih: Tensor,
  whh: Tensor,
  bias: Tensor | null,
  h0: Tensor | null,
  c0: Tensor | null,
  reverse = false,
): [Tensor, Tensor, Tensor] {
  const [T, B] = x.shape as [number, number];
  const H = whh.shape[1]!;
  let h = h0 ?? zeros([B, H], { dtype: x.dtype });
  let c = c0 ?? zeros([B, H], { dtype: x.dtype });
  const hs: Tensor[] = [];
  for (let n = 0; n < T; n++) {
    const t = reverse ? T - 1 - n : n;
    let z = x.select(0, t).matmul(wih.t()).add(h.matmul(whh.t()));
    if (bias) z = z.add(bias);
    [h, c] = refLstmCell(z, c);
    hs[t] = h;
  }
  return [stack(hs, 0), h, c];
}

/** Random tensor of `shape` and `dtype` that requires grad. */
const leaf = (shape: number[], dtype: 'float32' | 'float64', scale = 1): Tensor =>
  randn(shape, { dtype }).mul(scale).detach().requiresGrad_();

/** Outputs and the gradients of <outputs, random weights> w.r.t. `inputs`. */
function valuesAndGrads(
  outs: Tensor[],
  inputs: Tensor[],
  weights: Tensor[],
): [number[][], (number[] | null)[]] {
  const gs = autogradGrad(outs, inputs, { gradOutputs: weights, allowUnused: true });
  return [outs.map((o) => Array.from(o.dataSync())), gs.map((g) => (g ? Array.from(g.dataSync()) : null))];
}

function expectClose(a: (number[] | null)[], b: (number[] | null)[], tol: number): void {
  expect(a.length).toBe(b.length);
  a.forEach((x, k) => {
    const y = b[k]!;
    if (x === null || y === null) {
      expect(x).toBe(y);
      return;
    }
    expect(x.length).toBe(y.length);
    for (let i = 0; i < x.length; i++) {
      if (!(Math.abs(x[i]! - y[i]!) <= tol * (1 + Math.abs(y[i]!)))) {
        throw new Error(`entry ${k}, element ${i}: ${x[i]} vs ${y[i]} (tolerance ${tol})`);
      }
    }
  });
}

describe('lstmCell', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`matches the composite formulas, values and gradients (${dtype})`, () => {
      const tol = dtype === 'float32' ? 2e-6 : 1e-12;
      const g = leaf([3, 20], dtype, 2);
      const hg = leaf([3, 20], dtype, 2);
      const cp = leaf([3, 5], dtype);
      const vh = randn([3, 5], { dtype });
      const vc = randn([3, 5], { dtype });
      // Both outputs, h only, c only; with and without the separate hidden pre-activations.
      for (const [useH, useC] of [
        [true, true],
        [true, false],
        [false, true],
      ]) {
        const pick = (h: Tensor, c: Tensor): [Tensor[], Tensor[]] => [
          [...(useH ? [h] : []), ...(useC ? [c] : [])],
          [...(useH ? [vh] : []), ...(useC ? [vc] : [])],
        ];
        const [h1, c1] = lstmCell(g, cp, hg);
        const [h2, c2] = refLstmCell(g.add(hg), cp);
        const [o1, w1] = pick(h1, c1);
        const [o2, w2] = pick(h2, c2);
        const [v1, gr1] = valuesAndGrads(o1, [g, cp, hg], w1);
        const [v2, gr2] = valuesAndGrads(o2, [g, cp, hg], w2);
        expectClose(v1, v2, tol);
        expectClose(gr1, gr2, tol);
        const [h3, c3] = lstmCell(g, cp);
        const [o3, w3] = pick(h3, c3);
        const [o4, w4] = pick(...refLstmCell(g, cp));
        const [v3, gr3] = valuesAndGrads(o3, [g, cp], w3);
        const [v4, gr4] = valuesAndGrads(o4, [g, cp], w4);
        expectClose(v3, v4, tol);
        expectClose(gr3, gr4, tol);
      }
    });
  }

  it('gradcheck (float64): both outputs, h only, c only', () => {
    const ins = [d64([2, 12]), d64([2, 3]), d64([2, 12])];
    expect(gradcheck((g, c, hg) => lstmCell(g!, c!, hg).reduce((a, b) => cat([a, b], 1)), ins)).toBe(true);
    expect(gradcheck((g, c, hg) => lstmCell(g!, c!, hg)[0], ins)).toBe(true);
    expect(gradcheck((g, c) => lstmCell(g!, c!)[1], ins.slice(0, 2))).toBe(true);
  });

  it('second order (createGraph uses differentiable formulas)', () => {
    const ins = [d64([2, 8]), d64([2, 2]), d64([2, 8])];
    expect(gradgradcheck((g, c, hg) => lstmCell(g!, c!, hg).reduce((a, b) => cat([a, b], 1)), ins)).toBe(
      true,
    );
    expect(gradgradcheck((g, c) => lstmCell(g!, c!)[0], ins.slice(0, 2))).toBe(true);
  });

  it('float32 activations stay accurate for large, infinite and NaN pre-activations', () => {
    const vals = [
      -1e4,
      -745,
      -100,
      -30,
      -9,
      -1,
      -1e-3,
      -1e-30,
      0,
      1e-30,
      1e-7,
      0.3,
      2,
      15,
      21,
      88,
      800,
      Infinity,
      -Infinity,
    ];
    const n = vals.length;
    const z = new Float64Array(4 * n);
    for (let k = 0; k < 4; k++) for (let j = 0; j < n; j++) z[k * n + j] = vals[(j + 5 * k) % n]!;
    const cp = Float64Array.from(vals, (v, j) => (j % 3 === 0 ? v : 1 / (1 + Math.abs(v))));
    const [h32, c32] = lstmCell(
      tensor(z, { shape: [1, 4 * n], dtype: 'float32' }),
      tensor(cp, { shape: [1, n], dtype: 'float32' }),
    );
    const [h64, c64] = lstmCell(
      tensor(z, { shape: [1, 4 * n], dtype: 'float64' }),
      tensor(cp, { shape: [1, n], dtype: 'float64' }),
    );
    const cmp = (a: Tensor, b: Tensor): void => {
      const x = a.dataSync();
      const y = Float32Array.from(b.dataSync());
      for (let j = 0; j < n; j++) {
        if (Number.isNaN(y[j]!)) expect(x[j]).toBeNaN();
        else if (!Number.isFinite(y[j]!)) expect(x[j]).toBe(y[j]);
        else expect(Math.abs(x[j]! - y[j]!)).toBeLessThanOrEqual(2e-7 * Math.max(1, Math.abs(y[j]!)));
      }
    };
    cmp(h32, h64);
    cmp(c32, c64);
    const [hn] = lstmCell(tensor([[Number.NaN, 0, 0, 0]], { dtype: 'float32' }), zeros([1, 1]));
    expect(hn.item()).toBeNaN();
  });

  it('records nothing without grad', () => {
    const g = leaf([2, 8], 'float32');
    const [h, c] = noGrad(() => lstmCell(g, zeros([2, 2])));
    expect(h.requiresGrad || c.requiresGrad).toBe(false);
    const [h2] = lstmCell(g.detach(), zeros([2, 2]));
    expect(h2.gradFn).toBe(null);
  });

  it('errors name the op and the shapes', () => {
    expect(() => lstmCell(zeros([2, 6]), zeros([2, 1]))).toThrow(ShapeError);
    expect(() => lstmCell(zeros([2, 6]), zeros([2, 1]))).toThrow(/lstmCell.*\[2,6\]/);
    expect(() => lstmCell(zeros([2, 8]), zeros([3, 2]))).toThrow(
      /lstmCell: expected cPrev of shape \[2,2\], got \[3,2\]/,
    );
    expect(() => lstmCell(zeros([2, 8]), zeros([2, 2]), zeros([2, 4]))).toThrow(/hGates/);
    expect(() => lstmCell(zeros([2, 8]), zeros([2, 2], { dtype: 'float64' }))).toThrow(DTypeError);
  });
});

describe('gruCell', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`matches the composite formulas, values and gradients (${dtype})`, () => {
      const tol = dtype === 'float32' ? 2e-6 : 1e-12;
      for (const withBias of [true, false]) {
        const x = leaf([3, 15], dtype, 2);
        const hg = leaf([3, 15], dtype, 2);
        const h = leaf([3, 5], dtype);
        const b = withBias ? leaf([5], dtype) : null;
        const ins = b ? [x, hg, h, b] : [x, hg, h];
        const v = randn([3, 5], { dtype });
        const [v1, g1] = valuesAndGrads([gruCell(x, hg, h, b)], ins, [v]);
        const [v2, g2] = valuesAndGrads([refGruCell(x, hg, h, b)], ins, [v]);
        expectClose(v1, v2, tol);
        expectClose(g1, g2, tol);
      }
    });
  }

  it('gradcheck and second order (float64)', () => {
    const ins = [d64([2, 9]), d64([2, 9]), d64([2, 3]), d64([3])];
    expect(gradcheck((x, hg, h, b) => gruCell(x!, hg!, h!, b), ins)).toBe(true);
    expect(gradcheck((x, hg, h) => gruCell(x!, hg!, h!), ins.slice(0, 3))).toBe(true);
    expect(gradgradcheck((x, hg, h, b) => gruCell(x!, hg!, h!, b), ins)).toBe(true);
  });

  it('errors name the op and the shapes', () => {
    expect(() => gruCell(zeros([2, 7]), zeros([2, 7]), zeros([2, 2]))).toThrow(/gruCell.*\[2,7\]/);
    expect(() => gruCell(zeros([2, 6]), zeros([2, 3]), zeros([2, 2]))).toThrow(/gruCell: expected hGates/);
    expect(() => gruCell(zeros([2, 6]), zeros([2, 6]), zeros([2, 2]), zeros([3]))).toThrow(/bhn/);
  });
});

describe('lstmLayer', () => {
  const T = 4;
  const B = 3;
  const I = 2;
  const H = 3;
  const make = (dtype: 'float32' | 'float64', withBias: boolean, withState: boolean) => ({
    x: leaf([T, B, I], dtype),
    wih: leaf([4 * H, I], dtype),
    whh: leaf([4 * H, H], dtype),
    bias: withBias ? leaf([4 * H], dtype) : null,
    h0: withState ? leaf([B, H], dtype) : null,
    c0: withState ? leaf([B, H], dtype) : null,
  });

  for (const dtype of ['float32', 'float64'] as const) {
    it(`matches a loop of composite steps, values and gradients (${dtype})`, () => {
      const tol = dtype === 'float32' ? 5e-6 : 1e-12;
      for (const reverse of [false, true]) {
        for (const [withBias, withState] of [
          [true, true],
          [false, false],
        ] as const) {
          const p = make(dtype, withBias, withState);
          const ins = [p.x, p.wih, p.whh, p.bias, p.h0, p.c0].filter((t): t is Tensor => t !== null);
          const ws = [randn([T, B, H], { dtype }), randn([B, H], { dtype }), randn([B, H], { dtype })];
          // All three outputs, and each one alone.
          for (const used of [[0, 1, 2], [0], [1], [2]]) {
            const run = (f: typeof lstmLayer) =>
              valuesAndGrads(
                used.map((k) => f(p.x, p.wih, p.whh, p.bias, p.h0, p.c0, reverse)[k]!),
                ins,
                used.map((k) => ws[k]!),
              );
            const [v1, g1] = run(lstmLayer);
            const [v2, g2] = run(refLstmLayer);
            expectClose(v1, v2, tol);
            expectClose(g1, g2, tol);
          }
        }
      }
    });
  }

  it('gradcheck (float64) of every input, both directions', () => {
    for (const reverse of [false, true]) {
      const p = make('float64', true, true);
      const f = (...a: Tensor[]): Tensor => {
        const [out, hN, cN] = lstmLayer(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, reverse);
        return cat([out.reshape([-1]), hN.reshape([-1]), cN.mul(2).reshape([-1])]);
      };
      expect(gradcheck(f, [p.x, p.wih, p.whh, p.bias!, p.h0!, p.c0!])).toBe(true);
      expect(
        gradcheck(
          (...a) => lstmLayer(a[0]!, a[1]!, a[2]!, null, null, null, reverse)[1],
          [p.x, p.wih, p.whh],
        ),
      ).toBe(true);
    }
  });

  it('second order (createGraph recomputes the steps with differentiable ops)', () => {
    const p = {
      x: d64([2, 1, 2]),
      wih: d64([8, 2]),
      whh: d64([8, 2]),
      bias: d64([8]),
      h0: d64([1, 2]),
      c0: d64([1, 2]),
    };
    const f = (...a: Tensor[]): Tensor => {
      const [out, , cN] = lstmLayer(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, true);
      return cat([out.reshape([-1]), cN.reshape([-1])]);
    };
    expect(gradgradcheck(f, [p.x, p.wih, p.whh, p.bias, p.h0, p.c0])).toBe(true);
  });

  it('a second backward through the retained graph gives the same gradients', () => {
    const p = make('float32', true, true);
    const ins = [p.x, p.wih, p.whh, p.bias!, p.h0!, p.c0!];
    const [out, hN] = lstmLayer(p.x, p.wih, p.whh, p.bias, p.h0, p.c0);
    const loss = out.mul(out).sum().add(hN.sum());
    const g1 = autogradGrad([loss], ins, { retainGraph: true });
    const g2 = autogradGrad([loss], ins);
    expectClose(
      g2.map((g) => Array.from(g!.dataSync())),
      g1.map((g) => Array.from(g!.dataSync())),
      1e-6,
    );
  });

  it('detects an in-place change of the output before backward', () => {
    const p = make('float32', true, false);
    const [out] = lstmLayer(p.x, p.wih, p.whh, p.bias, null, null);
    noGrad(() => out.mul_(2));
    expect(() => out.sum().backward()).toThrow(AutogradError);
    const [out2] = lstmLayer(p.x, p.wih, p.whh, p.bias, null, null);
    out2.mul_(2);
    expect(() => out2.sum().backward()).toThrow(/modified by an in-place operation/);
  });

  it("float32 layers run in the backend's lstmLayer where it has one; float64 and createGraph do not", () => {
    const backend = getBackend();
    const hook = backend.lstmLayer;
    // The cpu backend has none: every layer runs the TypeScript loop (the tests above).
    if (!hook) return;
    let calls = 0;
    backend.lstmLayer = (...args) => {
      calls++;
      return hook.apply(backend, args);
    };
    try {
      for (const dtype of ['float32', 'float64'] as const) {
        const p = make(dtype, true, true);
        const ins = [p.x, p.wih, p.whh, p.bias!, p.h0!, p.c0!];
        const [out, hN, cN] = lstmLayer(p.x, p.wih, p.whh, p.bias, p.h0, p.c0, true);
        const ws = [randn([T, B, H], { dtype }), randn([B, H], { dtype }), randn([B, H], { dtype })];
        const [v1, g1] = valuesAndGrads([out, hN, cN], ins, ws);
        const [v2, g2] = valuesAndGrads(refLstmLayer(p.x, p.wih, p.whh, p.bias, p.h0, p.c0, true), ins, ws);
        expectClose(v1, v2, dtype === 'float32' ? 5e-6 : 1e-12);
        expectClose(g1, g2, dtype === 'float32' ? 5e-6 : 1e-12);
        expect(calls).toBe(1);
      }
      // Gradients of gradients: the backend's layer runs the forward, differentiable ops the backward.
      const p = make('float32', true, false);
      const [out] = lstmLayer(p.x, p.wih, p.whh, p.bias, null, null);
      const [gw] = autogradGrad([out.mul(out).sum()], [p.whh], { createGraph: true });
      expect(calls).toBe(2);
      expect(gw!.requiresGrad).toBe(true);
      const [gww] = autogradGrad([gw!.sum()], [p.whh]);
      expect(gww!.shape).toEqual([4 * H, H]);
    } finally {
      backend.lstmLayer = hook;
    }
  });

  it('records nothing without grad, and errors name the op and the shapes', () => {
    const p = make('float32', true, true);
    const [out, hN, cN] = noGrad(() => lstmLayer(p.x, p.wih, p.whh, p.bias, p.h0, p.c0));
    expect(out.requiresGrad || hN.requiresGrad || cN.requiresGrad).toBe(false);
    expect(() => lstmLayer(zeros([T, B]), p.wih, p.whh, null, null, null)).toThrow(/lstmLayer.*\[4,3\]/);
    expect(() => lstmLayer(p.x, p.wih, zeros([4 * H, H + 1]), null, null, null)).toThrow(
      /lstmLayer: expected whh/,
    );
    expect(() => lstmLayer(p.x, zeros([4 * H, I + 1]), p.whh, null, null, null)).toThrow(
      /lstmLayer: expected wih of shape \[12,2\]/,
    );
    expect(() => lstmLayer(p.x, p.wih, p.whh, zeros([H]), null, null)).toThrow(ShapeError);
    expect(() => lstmLayer(p.x, p.wih, p.whh, null, zeros([B + 1, H]), null)).toThrow(/h0/);
  });
});
