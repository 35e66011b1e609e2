import { describe, expect, it } from 'vitest';
import {
  AutogradError,
  autogradGrad,
  enableGrad,
  grad,
  gradcheck,
  type Tensor,
  tensor,
  valueAndGrad,
} from '../../src/index.js';

const f64 = (data: number[] | number, requiresGrad = true): Tensor =>
  tensor(data, { dtype: 'float64', requiresGrad });
const arr = (t: Tensor | null | undefined): number[] => Array.from(t!.dataSync());
const close = (a: number[], b: number[], tol = 1e-9): void => {
  expect(a).toHaveLength(b.length);
  for (const [i, v] of a.entries()) expect(Math.abs(v - b[i]!)).toBeLessThan(tol * (1 + Math.abs(b[i]!)));
};

describe('higher-order gradients with createGraph', () => {
  it('d/dx, d2/dx2 and d3/dx3 of x^3', () => {
    const x = f64(2);
    const y = x.pow(3);
    const [d1] = autogradGrad(y, x, { createGraph: true });
    expect(d1!.item()).toBe(12);
    expect(d1!.requiresGrad).toBe(true);
    const [d2] = autogradGrad(d1!, x, { createGraph: true });
    expect(d2!.item()).toBe(12);
    const [d3] = autogradGrad(d2!, x);
    expect(d3!.item()).toBe(6);
  });

  it('backward with createGraph leaves a differentiable .grad', () => {
    const x = f64([1, 2]);
    x.mul(x).mul(x).sum().backward(undefined, { createGraph: true });
    const g = x.grad!;
    expect(g.requiresGrad).toBe(true);
    expect(arr(g)).toEqual([3, 12]);
    const [gg] = autogradGrad(g.sum(), x);
    expect(arr(gg)).toEqual([6, 12]);
  });

  it('Hessian-vector product of f(x) = sum(x^3) + (sum x)^2', () => {
    // H = diag(6x) + 2 * ones, so Hv = 6 x v + 2 sum(v)
    const xs = [0.5, -1, 2];
    const vs = [1, 2, -0.5];
    const x = f64(xs);
    const v = f64(vs, false);
    const s = x.sum();
    const f = x.pow(3).sum().add(s.mul(s));
    const [g] = autogradGrad(f, x, { createGraph: true });
    const [hv] = autogradGrad(g!.mul(v).sum(), x);
    const sv = vs.reduce((a, b) => a + b, 0);
    close(
      arr(hv),
      xs.map((xi, i) => 6 * xi * vs[i]! + 2 * sv),
    );
  });

  it('gradient penalty: d/dw of ||d f/dx||^2 (double backward through tanh)', () => {
    const xs = [0.3, -0.7, 1.1];
    const ws = [0.9, 1.4, -0.6];
    const x = f64(xs);
    const w = f64(ws);
    const f = x.mul(w).tanh().sum();
    const [gx] = autogradGrad(f, x, { createGraph: true });
    const penalty = gx!.mul(gx!).sum();
    penalty.backward();
    // analytic: P = sum(w^2 (1 - t^2)^2), t = tanh(xw)
    // dP/dw = 2w(1-t^2)^2 - 4 w^2 x t (1-t^2)^2
    const expected = ws.map((wi, i) => {
      const xi = xs[i]!;
      const t = Math.tanh(xi * wi);
      const s = 1 - t * t;
      return 2 * wi * s * s - 4 * wi * wi * xi * t * s * s;
    });
    close(arr(w.grad), expected);
    expect(w.grad!.requiresGrad).toBe(false);
  });

  it('the gradient-penalty function passes gradcheck', () => {
    // gradcheck evaluates f under noGrad for finite differences, so f switches grad on itself.
    const penalty = (x: Tensor, w: Tensor): Tensor =>
      enableGrad(() => {
        const xg = x.requiresGrad ? x : x.detach().requiresGrad_();
        const [gx] = autogradGrad(xg.mul(w).tanh().sum(), xg, { createGraph: true });
        return gx!.mul(gx!).sum();
      });
    expect(gradcheck(penalty, [f64([0.3, -0.7]), f64([0.9, 1.4])])).toBe(true);
  });
});

describe('grad(f) and valueAndGrad(f)', () => {
  const f = (a: Tensor, b: Tensor): Tensor => a.mul(b).sum().add(a.sum());

  it('grad(f) returns gradients for every argument', () => {
    const a = f64([1, 2], false);
    const b = f64([3, 4], false);
    const [ga, gb] = grad(f)(a, b);
    expect(arr(ga)).toEqual([4, 5]);
    expect(arr(gb)).toEqual([1, 2]);
    // inputs are untouched
    expect(a.requiresGrad).toBe(false);
    expect(a.grad).toBeNull();
  });

  it('argnums selects arguments', () => {
    const a = f64([1, 2], false);
    const b = f64([3, 4], false);
    const gs = grad(f, { argnums: [1] })(a, b);
    expect(gs).toHaveLength(1);
    expect(arr(gs[0])).toEqual([1, 2]);
    const [gb, ga] = grad(f, { argnums: [1, 0] })(a, b);
    expect(arr(gb)).toEqual([1, 2]);
    expect(arr(ga)).toEqual([4, 5]);
  });

  it('valueAndGrad returns the detached value too', () => {
    const a = f64([1, 2], true);
    const b = f64([3, 4], false);
    const [value, [ga]] = valueAndGrad(f, { argnums: [0] })(a, b);
    expect(value.item()).toBe(1 * 3 + 2 * 4 + 3);
    expect(value.requiresGrad).toBe(false);
    expect(arr(ga)).toEqual([4, 5]);
    expect(a.grad).toBeNull();
  });

  it('arguments f does not use get zero gradients', () => {
    const [, gu] = grad((x: Tensor, _u: Tensor) => x.sum())(f64([1, 2], false), f64([5, 6, 7], false));
    expect(arr(gu)).toEqual([0, 0, 0]);
  });

  it('nests with createGraph for higher derivatives', () => {
    const cube = (x: Tensor): Tensor => x.pow(3).sum();
    const d1 = (x: Tensor): Tensor => grad(cube, { createGraph: true })(x)[0]!.sum();
    const d2 = grad(d1);
    expect(arr(d2(f64([1, -2], false))[0])).toEqual([6, -12]);
  });

  it('refuses functions with non-scalar values', () => {
    expect(() => grad((x: Tensor) => x.mul(2))(f64([1, 2], false))).toThrow(AutogradError);
    expect(() => grad((x: Tensor) => x.mul(2))(f64([1, 2], false))).toThrow(
      /grad: f must return a one-element tensor, got shape \[2\]/,
    );
  });
});

describe('grad / valueAndGrad argument dtypes', () => {
  it('by default differentiates the floating arguments only, so integer labels can be passed', () => {
    const x = f64([1, 2, 3], false);
    const idx = tensor([2, 0]);
    const gs = grad((a, i) => a.gather(0, i!).pow(2).sum())(x, idx);
    expect(gs).toHaveLength(1);
    expect(arr(gs[0])).toEqual([2, 0, 6]);
  });
  it('names a non-floating argument listed in argnums, a bad argnum and f without float arguments', () => {
    const x = f64([1, 2], false);
    const idx = tensor([1]);
    const f = (a: Tensor, i?: Tensor): Tensor => a.gather(0, i!).sum();
    expect(() => grad(f, { argnums: [1] })(x, idx)).toThrow(
      /grad: argument 1 is int32 \(shape \[1\]\); only floating tensors can be differentiated/,
    );
    expect(() => grad(f, { argnums: [2] })(x, idx)).toThrow(
      /grad: argnums entry 2 is out of range for 2 arguments/,
    );
    expect(() => grad((i) => i.float().sum())(idx)).toThrow(/grad: f has no floating tensor argument/);
  });
});
