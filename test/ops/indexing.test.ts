import { describe, expect, it } from 'vitest';
import {
  arange,
  DTypeError,
  gather,
  gradcheck,
  gradgradcheck,
  IndexError,
  indexAdd,
  indexSelect,
  maskedFill,
  maskedSelect,
  oneHot,
  ShapeError,
  scatter,
  scatterAdd,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '../../src/index.js';
import { checkReference } from '../helpers/reference.js';

/** The same non-contiguous transform as scripts/reference/indexing.py. */
function pre(x: Tensor, kind: unknown): Tensor {
  return kind === 't' ? x.transpose(-1, -2) : x;
}

const T = (v: unknown): Tensor => v as Tensor;

const f64 = (shape: number[], seed = 0): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.3 + seed) + i * 0.01);
  return tensor(data, { shape, dtype: 'float64' });
};

describe('indexing ops: PyTorch reference', () => {
  it('matches forward values and gradients', () => {
    const n = checkReference('indexing', {
      gather: ([x, i], k) => gather(pre(T(x), k.pre), k.dim as number, T(i)),
      scatter: ([x, i, s], k) => scatter(pre(T(x), k.pre), k.dim as number, T(i), T(s)),
      scatter_value: ([x, i], k) => scatter(T(x), k.dim as number, T(i), k.value as number),
      scatter_add: ([x, i, s], k) => scatterAdd(pre(T(x), k.pre), k.dim as number, T(i), T(s)),
      index_select: ([x, i], k) => indexSelect(pre(T(x), k.pre), k.dim as number, T(i)),
      index_add: ([x, i, s], k) =>
        indexAdd(pre(T(x), k.pre), k.dim as number, T(i), T(s), { alpha: k.alpha as number }),
      masked_select: ([x, m], k) => maskedSelect(pre(T(x), k.pre), T(m)),
      masked_fill: ([x, m], k) => maskedFill(pre(T(x), k.pre), T(m), k.value as number),
      masked_fill_tensor: ([x, m, v]) => maskedFill(T(x), T(m), T(v)),
      one_hot: ([i], k) => oneHot(T(i), k.num_classes as number),
    });
    expect(n).toBeGreaterThan(30);
  });
});

describe('indexing ops: behaviour', () => {
  const x = arange(0, 12, 1, { dtype: 'float64' }).reshape(3, 4);
  it('gather/scatter round trip and repeated indices', () => {
    const i = tensor([
      [3, 0],
      [1, 1],
      [2, 3],
    ]);
    const g = gather(x, 1, i);
    expect(g.toArray()).toEqual([
      [3, 0],
      [5, 5],
      [10, 11],
    ]);
    expect(
      scatter(
        zeros([3, 4], { dtype: 'float64' }),
        1,
        tensor([
          [3, 0],
          [1, 2],
          [2, 3],
        ]),
        g,
      ).toArray(),
    ).toEqual([
      [0, 0, 0, 3],
      [0, 5, 5, 0],
      [0, 0, 10, 11],
    ]);
    expect(
      scatterAdd(zeros([3, 4], { dtype: 'float64' }), 1, i, g)
        .get(1)
        .toArray(),
    ).toEqual([0, 10, 0, 0]);
  });
  it('works on int and bool tensors', () => {
    const xi = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(gather(xi, 0, tensor([[1, 0]])).toArray()).toEqual([[3, 2]]);
    expect(indexSelect(xi.gt(2), 1, tensor([1])).toArray()).toEqual([[false], [true]]);
    expect(scatter(xi, 1, tensor([[0], [1]]), 9).toArray()).toEqual([
      [9, 2],
      [3, 9],
    ]);
    expect(maskedFill(xi, xi.gt(2), 7.9).toArray()).toEqual([
      [1, 2],
      [7, 7],
    ]);
    expect(maskedFill(xi, xi.gt(2), 7.9).dtype).toBe('int32');
  });
  it('gather and indexSelect read strided and broadcast inputs', () => {
    const t = x.t(); // [4, 3], non-contiguous
    expect(gather(t, 0, tensor([[3, 0, 1]])).toArray()).toEqual([[3, 4, 9]]);
    expect(indexSelect(t, 1, tensor([2, 0])).toArray()).toEqual(
      indexSelect(t.contiguous(), 1, tensor([2, 0])).toArray(),
    );
    const e = tensor([1, 2, 3], { dtype: 'float64' }).expand(2, 3);
    expect(gather(e, 1, tensor([[2], [0]])).toArray()).toEqual([[3], [1]]);
    const strided = tensor([0, 2, 1, 9]).get('::2'); // int32 index [0, 1] via a strided view
    expect(gather(x, 1, strided.unsqueeze(0)).toArray()).toEqual([[0, 1]]);
  });
  it('0-d inputs', () => {
    const s = tensor(5, { dtype: 'float64' });
    expect(gather(s, 0, tensor(0)).item()).toBe(5);
    expect(indexSelect(s, 0, tensor([0])).shape).toEqual([]);
    expect(scatter(s, 0, tensor(0), 2).item()).toBe(2);
    expect(indexSelect(x, 1, tensor(2)).shape).toEqual([3, 1]);
  });
  it('oneHot', () => {
    expect(oneHot(tensor([2, 0])).toArray()).toEqual([
      [0, 0, 1],
      [1, 0, 0],
    ]);
    expect(oneHot(tensor([[1]]), 3).shape).toEqual([1, 1, 3]);
    expect(oneHot(tensor([1]), 3).dtype).toBe('int32');
  });
  it('maskedSelect of a zero-size or all-false mask', () => {
    expect(maskedSelect(x, x.gt(100)).shape).toEqual([0]);
    expect(maskedSelect(zeros([0, 4]), zeros([4]).gt(0)).shape).toEqual([0]);
  });
});

describe('indexing ops: gradcheck', () => {
  const x = f64([3, 4]).requiresGrad_();
  const s = f64([3, 4], 2).requiresGrad_();
  const i = tensor([
    [3, 0, 1],
    [1, 1, 2],
  ]);
  const rows = tensor([
    [2, 0, 3],
    [1, 3, 0],
  ]);
  it.each<[string, (a: Tensor, b: Tensor) => Tensor]>([
    ['gather', (a) => gather(a, 1, i)],
    ['gather of a transpose', (a) => gather(a.t(), 0, tensor([[3, 1, 0]]))],
    ['scatter', (a, b) => scatter(a, 1, rows, b)],
    ['scatter scalar', (a) => scatter(a, 1, rows, 0.5)],
    ['scatterAdd with repeats', (a, b) => scatterAdd(a, 1, i, b)],
    ['indexSelect with repeats', (a) => indexSelect(a, 1, tensor([3, 3, 0]))],
    ['indexAdd', (a, b) => indexAdd(a, 0, tensor([2, 0, 2]), b, { alpha: 1.5 })],
    ['maskedSelect broadcast', (a) => maskedSelect(a, tensor([true, false, true, true]))],
    ['maskedFill', (a, b) => maskedFill(a, b.gt(0), b.get(0, 0))],
  ])('%s', (_name, f) => {
    expect(gradcheck(f, [x, s])).toBe(true);
  });
  it('gradgradcheck', () => {
    expect(gradgradcheck((a) => gather(a, 1, i).pow(2), [x])).toBe(true);
    expect(gradgradcheck((a, b) => scatterAdd(a, 1, i, b).pow(2), [x, s])).toBe(true);
    expect(gradgradcheck((a) => indexSelect(a, 0, tensor([2, 2, 1])).pow(3), [x])).toBe(true);
    expect(gradgradcheck((a, b) => scatter(a, 1, rows, b).pow(2), [x, s])).toBe(true);
  });
});

describe('indexing op errors', () => {
  const x = zeros([3, 4]);
  it('out-of-range indices name the op, index and dim size', () => {
    expect(() => gather(x, 1, tensor([[4]]))).toThrow(IndexError);
    expect(() => gather(x, 1, tensor([[4]]))).toThrow(
      /gather: index 4 is out of bounds for dim 1 with size 4/,
    );
    expect(() => gather(x, 0, tensor([[-1]]))).toThrow(
      /gather: index -1 is out of bounds for dim 0 with size 3/,
    );
    expect(() => scatter(x, 0, tensor([[3]]), 1)).toThrow(
      /scatter: index 3 is out of bounds for dim 0 with size 3/,
    );
    expect(() => scatterAdd(x, 1, tensor([[7]]), zeros([1, 1]))).toThrow(
      /scatterAdd: index 7 is out of bounds for dim 1 with size 4/,
    );
    expect(() => indexSelect(x, 0, tensor([0, 5]))).toThrow(
      /indexSelect: index 5 is out of bounds for dim 0 with size 3/,
    );
    expect(() => indexAdd(x, 1, tensor([-2]), zeros([3, 1]))).toThrow(
      /indexAdd: index -2 is out of bounds for dim 1 with size 4/,
    );
    expect(() => oneHot(tensor([0, 3]), 3)).toThrow(/oneHot: index 3 is out of bounds for numClasses 3/);
    expect(() => oneHot(tensor([-1]), 3)).toThrow(IndexError);
  });
  it('dtypes', () => {
    expect(() => gather(x, 1, tensor([[0.5]]))).toThrow(DTypeError);
    expect(() => gather(x, 1, tensor([[0.5]]))).toThrow(/gather: index must be an int32 tensor, got float32/);
    expect(() => scatter(x, 1, tensor([[0]]), zeros([1, 1], { dtype: 'float64' }))).toThrow(
      /scatter: src dtype float64 must match the input dtype float32/,
    );
    expect(() => scatterAdd(x, 1, tensor([[0]]), zeros([1, 1], { dtype: 'float64' }))).toThrow(
      /scatterAdd: src dtype/,
    );
    expect(() => indexAdd(x, 1, tensor([0]), zeros([3, 1], { dtype: 'float64' }))).toThrow(
      /indexAdd: src dtype/,
    );
    expect(() => maskedSelect(x, zeros([3, 4]))).toThrow(
      /maskedSelect: mask must be a bool tensor, got float32/,
    );
    expect(() => maskedFill(x, zeros([4]), 1)).toThrow(/maskedFill: mask must be a bool tensor/);
    expect(() => oneHot(zeros([2]))).toThrow(/oneHot: index must be an int32 tensor/);
  });
  it('shapes', () => {
    expect(() => gather(x, 1, tensor([0]))).toThrow(ShapeError);
    expect(() => gather(x, 1, tensor([0]))).toThrow(
      /gather: index \[1\] must have as many dims as the input \[3,4\]/,
    );
    expect(() => gather(x, 1, zeros([4, 1], { dtype: 'int32' }))).toThrow(
      /gather: index \[4,1\] is larger than the input \[3,4\] in dim 0 \(only dim 1 may differ\)/,
    );
    expect(() => gather(x, 2, tensor([[0]]))).toThrow(/gather: dim 2 out of range for a 2-d tensor/);
    expect(() => scatter(x, 1, zeros([2, 2], { dtype: 'int32' }), zeros([2, 1]))).toThrow(
      /scatter: index \[2,2\] is larger than src \[2,1\] in dim 1/,
    );
    expect(() => scatterAdd(x, 1, zeros([2, 2], { dtype: 'int32' }), zeros([2]))).toThrow(
      /scatterAdd: src \[2\] must have as many dims as the input \[3,4\]/,
    );
    expect(() => indexSelect(x, 0, zeros([2, 2], { dtype: 'int32' }))).toThrow(
      /indexSelect: index must be 0-d or 1-d, got shape \[2,2\]/,
    );
    expect(() => indexAdd(x, 0, tensor([0, 1]), zeros([3, 4]))).toThrow(
      /indexAdd: src has shape \[3,4\], expected \[2,4\]/,
    );
    expect(() => maskedSelect(x, zeros([2]).gt(0))).toThrow(
      /maskedSelect: shapes \[3,4\] and \[2\] cannot be broadcast/,
    );
    expect(() => maskedFill(x, zeros([2]).gt(0), 1)).toThrow(
      /maskedFill: shapes \[3,4\] and \[2\] cannot be broadcast/,
    );
  });
  it('values', () => {
    expect(() => maskedFill(x, x.gt(0), zeros([2]))).toThrow(ValueError);
    expect(() => maskedFill(x, x.gt(0), zeros([2]))).toThrow(
      /maskedFill: value must be a number or a 0-d tensor, got shape \[2\]/,
    );
    expect(() => oneHot(zeros([0], { dtype: 'int32' }))).toThrow(
      /oneHot: cannot infer numClasses from an empty tensor/,
    );
    expect(() => oneHot(tensor([1]), -2)).toThrow(
      /oneHot: numClasses must be a non-negative integer or -1, got -2/,
    );
  });
});
