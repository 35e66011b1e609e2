import { describe, expect, it } from 'vitest';
import {
  DTypeError,
  dot,
  einsum,
  gradcheck,
  gradgradcheck,
  outer,
  randn,
  ShapeError,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '../../src/index.js';
import { checkReference, type RefImpl } from '../helpers/reference.js';
import { stridedLast } from '../helpers/views.js';

function pre(x: Tensor, p: unknown): Tensor {
  if (p === 't') return x.transpose(-1, -2);
  if (p === 's') return stridedLast(x);
  return x;
}

const T = (v: unknown): Tensor => v as Tensor;

const impls: Record<string, RefImpl> = {
  dot: ([a, b]) => dot(T(a), T(b)),
  dot_s: ([a, b]) => dot(stridedLast(T(a)), T(b)),
  outer: ([a, b]) => outer(T(a), T(b)),
  einsum: ([eq, first, ...rest], kw) => einsum(eq as string, pre(T(first), kw.pa), ...(rest as Tensor[])),
};

const f64 = (shape: number[]): Tensor => randn(shape, { dtype: 'float64' }).requiresGrad_();

describe('linalg against PyTorch', () => {
  it('dot, outer and einsum match forward values and gradients', () => {
    expect(checkReference('linalg', impls, { checkDtype: true })).toBeGreaterThan(40);
  });
});

describe('dot / outer', () => {
  it('compute values (integers too)', () => {
    expect(dot(tensor([1, 2, 3]), tensor([4, 5, 6])).item()).toBe(32);
    expect(dot(tensor([1, 2, 3]), tensor([4, 5, 6])).dtype).toBe('int32');
    expect(dot(tensor([1.5, 2]), tensor([2, 1])).item()).toBe(5);
    expect(outer(tensor([1, 2]), tensor([3, 4, 5])).toArray()).toEqual([
      [3, 4, 5],
      [6, 8, 10],
    ]);
  });

  it('gradcheck', () => {
    expect(gradcheck(dot, [f64([5]), f64([5])])).toBe(true);
    expect(gradcheck(outer, [f64([3]), f64([4])])).toBe(true);
    expect(gradgradcheck(dot, [f64([4]), f64([4])])).toBe(true);
  });

  it('errors', () => {
    expect(() => dot(zeros([2, 3]), zeros([3]))).toThrow(ShapeError);
    expect(() => dot(zeros([2, 3]), zeros([3]))).toThrow(
      /dot: expected two 1-d tensors, got shapes \[2,3\] and \[3\]/,
    );
    expect(() => dot(zeros([3]), zeros([4]))).toThrow(
      /dot: tensors must have the same length, got shapes \[3\] and \[4\]/,
    );
    expect(() => outer(zeros([3]), zeros([1, 4]))).toThrow(
      /outer: expected two 1-d tensors, got shapes \[3\] and \[1,4\]/,
    );
  });
});

describe('einsum', () => {
  it('agrees with matmul / transpose / sum on common patterns', () => {
    const a = randn([2, 3], { dtype: 'float64' });
    const b = randn([3, 4], { dtype: 'float64' });
    const close = (x: Tensor, y: Tensor): void => {
      expect(x.shape).toEqual(y.shape);
      const xd = x.dataSync();
      const yd = y.dataSync();
      for (let i = 0; i < xd.length; i++) expect(xd[i]).toBeCloseTo(yd[i]!, 12);
    };
    close(einsum('ij,jk->ik', a, b), a.matmul(b));
    close(einsum('ij,jk', a, b), a.matmul(b));
    close(einsum('ij->ji', a), a.t());
    close(einsum('ij->j', a), a.sum(0));
    close(einsum('ij->', a), a.sum());
    const q = randn([2, 3, 4, 5], { dtype: 'float64' });
    const k = randn([2, 3, 6, 5], { dtype: 'float64' });
    close(einsum('bhqd,bhkd->bhqk', q, k), q.matmul(k.transpose(-1, -2)));
    const sq = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64' },
    );
    expect(einsum('ii->i', sq).toArray()).toEqual([1, 4]);
    expect(einsum('ii', sq).item()).toBe(5);
    expect(einsum('...ij,...jk->...ik', zeros([5, 2, 3]), zeros([3, 4])).shape).toEqual([5, 2, 4]);
  });

  it('gradcheck and gradgradcheck through the lowering', () => {
    expect(gradcheck((x, y) => einsum('bij,bjk->bik', x, y), [f64([2, 3, 4]), f64([2, 4, 2])])).toBe(true);
    expect(gradcheck((x, y) => einsum('bhqd,bhkd->bhqk', x, y), [f64([1, 2, 3, 2]), f64([1, 2, 4, 2])])).toBe(
      true,
    );
    expect(gradcheck((x) => einsum('ii->i', x), [f64([3, 3])])).toBe(true);
    expect(
      gradcheck((x, y, z) => einsum('bn,anm,bm->ba', x, y, z), [f64([2, 3]), f64([2, 3, 4]), f64([2, 4])]),
    ).toBe(true);
    expect(gradcheck((x, y) => einsum('i,i->', x, y), [f64([4]), f64([4])])).toBe(true);
    expect(gradgradcheck((x, y) => einsum('ij,kj->ik', x, y), [f64([2, 3]), f64([4, 3])])).toBe(true);
  });

  it('errors name the equation problem', () => {
    const a = zeros([2, 3]);
    expect(() => einsum('ij,jk->ik', a)).toThrow(ValueError);
    expect(() => einsum('ij,jk->ik', a)).toThrow(
      /einsum: equation 'ij,jk->ik' has 2 operand subscript\(s\) but 1/,
    );
    expect(() => einsum('ijk->i', a)).toThrow(
      /einsum: subscripts of operand 0 'ijk' names 3 dims but the operand has 2/,
    );
    expect(() => einsum('ij,jk->ik', a, zeros([4, 5]))).toThrow(
      /einsum: label 'j' has size 3 in operand 0 \(shape \[2,3\]\) but 4 in operand 1 \(shape \[4,5\]\)/,
    );
    expect(() => einsum('ij->ik', a)).toThrow(/einsum: output subscript 'k' does not appear in any operand/);
    expect(() => einsum('ij->ii', a)).toThrow(/einsum: output subscript 'i' appears more than once/);
    expect(() => einsum('i1->i', a)).toThrow(/einsum: invalid subscript '1'/);
    expect(() => einsum('ii->i', a)).toThrow(/einsum: label 'i' is repeated in operand 0 with sizes 2 and 3/);
    expect(() => einsum('ij->i->j', a)).toThrow(/more than one '->'/);
    expect(() => einsum('ij', tensor([[1, 2]]))).toThrow(DTypeError);
    expect(() => einsum('ij', tensor([[1, 2]]))).toThrow(/einsum: expected a floating tensor/);
  });
});

describe('dot / outer as Tensor methods', () => {
  it('match the functions, values and gradients', () => {
    const a = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const b = tensor([4, -5, 6], { dtype: 'float64', requiresGrad: true });
    expect(a.dot(b).item()).toBe(12);
    expect(a.outer(b.get('0:2')).toArray()).toEqual(outer(a, b.get('0:2')).toArray());
    a.dot(b).backward();
    expect(Array.from(a.grad!.dataSync())).toEqual([4, -5, 6]);
    expect(Array.from(b.grad!.dataSync())).toEqual([1, 2, 3]);
    expect(
      gradcheck(
        (x, y) => x.outer(y),
        [
          randn([3], { dtype: 'float64', requiresGrad: true }),
          randn([2], { dtype: 'float64', requiresGrad: true }),
        ],
      ),
    ).toBe(true);
    expect(() => a.dot(tensor([1, 2], { dtype: 'float64' }))).toThrow(
      /dot: tensors must have the same length, got shapes \[3\] and \[2\]/,
    );
    expect(() => zeros([2, 2]).outer(zeros([2]))).toThrow(
      /outer: expected two 1-d tensors, got shapes \[2,2\] and \[2\]/,
    );
  });
});
