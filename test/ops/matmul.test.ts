import { describe, expect, it } from 'vitest';
import {
  bmm,
  DTypeError,
  gradcheck,
  gradgradcheck,
  matmul,
  mm,
  ones,
  randn,
  ShapeError,
  type Tensor,
  tensor,
  zeros,
} from '../../src/index.js';
import { addmmT } from '../../src/ops/matmul.js';
import { checkReference, type RefImpl } from '../helpers/reference.js';
import { stridedLast } from '../helpers/views.js';

type Kw = Record<string, unknown>;

function pre(v: unknown, p: unknown): Tensor {
  const x = v as Tensor;
  if (p === 't') return x.transpose(-1, -2);
  if (p === 's') return stridedLast(x);
  return x;
}

const run =
  (f: (a: Tensor, b: Tensor) => Tensor): RefImpl =>
  ([a, b], kw: Kw) =>
    f(pre(a, kw.pa), pre(b, kw.pb));

const impls: Record<string, RefImpl> = { matmul: run(matmul), mm: run(mm), bmm: run(bmm) };

const f64 = (shape: number[]): Tensor => randn(shape, { dtype: 'float64' }).requiresGrad_();

describe('matmul against PyTorch', () => {
  it('matches forward values and gradients (all rank combinations, broadcasting, views, size 0)', () => {
    expect(checkReference('matmul', impls, { checkDtype: true })).toBeGreaterThan(25);
  });
});

describe('matmul', () => {
  it('follows the PyTorch rank rules for output shapes', () => {
    const s = (a: number[], b: number[]): number[] => matmul(ones(a), ones(b)).shape.slice();
    expect(s([4], [4])).toEqual([]);
    expect(s([3], [3, 4])).toEqual([4]);
    expect(s([2, 3], [3])).toEqual([2]);
    expect(s([2, 1, 3, 4], [5, 4, 2])).toEqual([2, 5, 3, 2]);
    expect(s([4], [2, 4, 3])).toEqual([2, 3]);
    expect(s([2, 3, 4], [4])).toEqual([2, 3]);
    expect(s([2, 0], [0, 3])).toEqual([2, 3]);
    expect(matmul(ones([2, 0]), ones([0, 3])).toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });

  it('promotes mixed float dtypes and has tensor methods', () => {
    const a = ones([2, 3], { dtype: 'float32' });
    const b = ones([3, 2], { dtype: 'float64' });
    expect(matmul(a, b).dtype).toBe('float64');
    expect(a.matmul(a.t()).toArray()).toEqual([
      [3, 3],
      [3, 3],
    ]);
    expect(a.mm(a.t()).shape).toEqual([2, 2]);
    expect(ones([2, 2, 3]).bmm(ones([2, 3, 1])).shape).toEqual([2, 2, 1]);
  });

  it('gradcheck and gradgradcheck', () => {
    expect(gradcheck(matmul, [f64([2, 1, 3, 4]), f64([5, 4, 2])])).toBe(true);
    expect(gradcheck(matmul, [f64([4]), f64([4])])).toBe(true);
    expect(gradcheck(matmul, [f64([3]), f64([2, 3, 4])])).toBe(true);
    expect(gradcheck(matmul, [f64([2, 3, 4]), f64([4])])).toBe(true);
    expect(gradcheck((a, b) => matmul(a.t(), b), [f64([3, 2]), f64([3, 4])])).toBe(true);
    expect(gradcheck(matmul, [f64([2, 0]), f64([0, 3])])).toBe(true);
    expect(gradgradcheck(matmul, [f64([2, 3]), f64([3, 2])])).toBe(true);
    expect(gradgradcheck(matmul, [f64([2, 1, 2, 3]), f64([3, 3, 2])])).toBe(true);
  });

  it('errors name the op and the shapes', () => {
    expect(() => matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(ShapeError);
    expect(() => matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(
      'matmul: shapes [2,3] and [4,5] cannot be multiplied (3 != 4)',
    );
    expect(() => matmul(zeros([3]), zeros([4]))).toThrow(
      /matmul: shapes \[3\] and \[4\] cannot be multiplied/,
    );
    expect(() => matmul(zeros([2, 3]), zeros([2]))).toThrow(
      /matmul: shapes \[2,3\] and \[2\] cannot be multiplied/,
    );
    expect(() => matmul(zeros([2, 2, 3]), zeros([3, 3, 4]))).toThrow(
      /matmul: shapes \[2\] and \[3\] cannot be broadcast together/,
    );
    expect(() => matmul(zeros([]), zeros([3]))).toThrow(/matmul: both arguments need at least 1 dim/);
    expect(() => matmul(tensor([1, 2]), tensor([1, 2]))).toThrow(DTypeError);
    expect(() => mm(zeros([2, 3, 4]), zeros([4, 2]))).toThrow(
      /mm: expects 2-d tensors, got shapes \[2,3,4\]/,
    );
    expect(() => bmm(zeros([2, 3, 4]), zeros([3, 4, 2]))).toThrow(
      /bmm: expects 3-d tensors with equal batch size/,
    );
  });
});

describe('addmmT (fused x @ weight^T + bias)', () => {
  /** The composite formula it replaces, as the reference. */
  const composite = (x: Tensor, w: Tensor, b: Tensor | null): Tensor => {
    const y = x.matmul(w.t());
    return b ? y.add(b) : y;
  };

  it('matches matmul + add in value and gradients (float32/float64, strided operands, no bias)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const tol = dtype === 'float32' ? 1e-5 : 1e-12;
      const cases: [number[], number[], boolean, boolean][] = [
        [[5, 7], [3, 7], false, false],
        [[7, 5], [3, 7], true, false], // x given transposed
        [[5, 7], [7, 3], false, true], // weight given transposed
        [[9, 4], [9, 6], true, true],
      ];
      for (const [xs, ws, tx, tw] of cases) {
        for (const withBias of [true, false]) {
          const x0 = randn(xs, { dtype });
          const w0 = randn(ws, { dtype });
          const n = tw ? ws[1]! : ws[0]!;
          const b0 = randn([n], { dtype });
          const leaves = (): [Tensor, Tensor, Tensor] => [
            x0.clone().requiresGrad_(),
            w0.clone().requiresGrad_(),
            b0.clone().requiresGrad_(),
          ];
          const [xa, wa, ba] = leaves();
          const [xb, wb, bb] = leaves();
          const view = (x: Tensor, t: boolean): Tensor => (t ? x.t() : x);
          const ya = addmmT(view(xa, tx), view(wa, tw), withBias ? ba : null);
          const yb = composite(view(xb, tx), view(wb, tw), withBias ? bb : null);
          expect(ya.shape).toEqual(yb.shape);
          const g = randn(ya.shape, { dtype });
          ya.backward(g);
          yb.backward(g);
          const close = (a: Tensor | null, b: Tensor | null): void => {
            const da = a!.dataSync();
            const db = b!.dataSync();
            expect(da.length).toBe(db.length);
            for (let i = 0; i < da.length; i++) expect(Math.abs(da[i]! - db[i]!)).toBeLessThan(tol * 10);
          };
          close(ya, yb);
          close(xa.grad, xb.grad);
          close(wa.grad, wb.grad);
          if (withBias) close(ba.grad, bb.grad);
          else expect(ba.grad).toBeNull();
        }
      }
    }
  });

  it('gradcheck and gradgradcheck in float64', () => {
    expect(gradcheck((x, w, b) => addmmT(x!, w!, b!), [f64([3, 4]), f64([5, 4]), f64([5])])).toBe(true);
    expect(gradcheck((x, w) => addmmT(x!.t(), w!), [f64([4, 3]), f64([2, 4])])).toBe(true);
    expect(gradcheck((x, w, b) => addmmT(x!, w!, b!), [f64([0, 4]), f64([2, 4]), f64([2])])).toBe(true);
    expect(gradgradcheck((x, w, b) => addmmT(x!, w!, b!), [f64([3, 4]), f64([2, 4]), f64([2])])).toBe(true);
  });

  it('empty inner dimension gives the bias; empty batch gives [0, n]', () => {
    const b = tensor([1, 2, 3], { dtype: 'float32' });
    expect(Array.from(addmmT(zeros([2, 0]), zeros([3, 0]), b).dataSync())).toEqual([1, 2, 3, 1, 2, 3]);
    expect(addmmT(zeros([0, 4]), zeros([3, 4]), b).shape).toEqual([0, 3]);
  });

  it('errors name the op, the shapes and the dtypes', () => {
    expect(() => addmmT(zeros([2, 3]), zeros([4, 5]))).toThrow(
      'addmmT: expected x [m, k] and weight [n, k], got shapes [2,3] and [4,5]',
    );
    expect(() => addmmT(zeros([2, 3]), zeros([4, 3]), zeros([3]))).toThrow(
      'addmmT: bias must have shape [4], got [3]',
    );
    expect(() => addmmT(zeros([2, 3]), zeros([4, 3], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => addmmT(tensor([[1, 2]]), zeros([4, 2]))).toThrow(DTypeError);
  });
});
