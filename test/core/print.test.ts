import { describe, expect, it } from 'vitest';
import { arange, ones, tensor, zeros } from '../../src/index.js';

// Expected strings are what PyTorch 1.13 prints for the same tensors (with `torch.` dropped from dtypes;
// Neurite's default integer type is int32, so int32 is not shown, like int64 in PyTorch).
describe('toString (PyTorch-style printing)', () => {
  it('prints integer-valued floats with a trailing point', () => {
    expect(
      tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { dtype: 'float32' },
      ).toString(),
    ).toBe('tensor([[1., 2.],\n        [3., 4.]])');
    expect(zeros([3]).toString()).toBe('tensor([0., 0., 0.])');
  });

  it('prints fractional floats with 4 decimals, right-aligned', () => {
    expect(
      tensor([
        [1, 2.5],
        [3, 4],
      ]).toString(),
    ).toBe('tensor([[1.0000, 2.5000],\n        [3.0000, 4.0000]])');
    expect(tensor([-1.5, 20.25]).toString()).toBe('tensor([-1.5000, 20.2500])');
    expect(tensor(3.5).toString()).toBe('tensor(3.5000)');
    expect(tensor([-0, 1.5]).toString()).toBe('tensor([-0.0000, 1.5000])');
  });

  it('switches to scientific notation like PyTorch', () => {
    expect(tensor([1e-5, 1]).toString()).toBe('tensor([1.0000e-05, 1.0000e+00])');
    expect(tensor([0.001, 10]).toString()).toBe('tensor([1.0000e-03, 1.0000e+01])');
    expect(tensor([1, 10000], { dtype: 'float32' }).toString()).toBe('tensor([1.0000e+00, 1.0000e+04])');
    expect(tensor([1e9, -3.25]).toString()).toBe('tensor([ 1.0000e+09, -3.2500e+00])');
  });

  it('prints nan and inf', () => {
    expect(tensor([Number.NaN, 1.5, Number.POSITIVE_INFINITY]).toString()).toBe(
      'tensor([   nan, 1.5000,    inf])',
    );
  });

  it('shows dtype for float64 and requires_grad / grad_fn', () => {
    expect(tensor([1.5, 2], { dtype: 'float64' }).toString()).toBe('tensor([1.5000, 2.0000], dtype=float64)');
    expect(tensor(3.5, { dtype: 'float64' }).toString()).toBe('tensor(3.5000, dtype=float64)');
    expect(tensor([1.5, 2], { requiresGrad: true }).toString()).toBe(
      'tensor([1.5000, 2.0000], requires_grad=True)',
    );
    expect(tensor([1.5, 2], { requiresGrad: true }).mul(2).toString()).toBe(
      'tensor([3., 4.], grad_fn=<MulBackward>)',
    );
  });

  it('prints ints and bools', () => {
    expect(
      tensor([
        [1, 2],
        [3, 4],
      ]).toString(),
    ).toBe('tensor([[1, 2],\n        [3, 4]])');
    expect(tensor([1000000000, 1]).toString()).toBe('tensor([1000000000,          1])');
    expect(tensor([true, false]).toString()).toBe('tensor([ True, False])');
  });

  it('prints empty tensors with their size', () => {
    expect(tensor([]).toString()).toBe('tensor([])');
    expect(zeros([2, 0]).toString()).toBe('tensor([], size=[2, 0])');
    expect(zeros([0], { dtype: 'int32' }).toString()).toBe('tensor([], dtype=int32)');
  });

  it('wraps long rows at 80 columns and puts suffixes on a new line when needed', () => {
    expect(arange(20, undefined, 1, { dtype: 'float32' }).toString()).toBe(
      'tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n' +
        '        14., 15., 16., 17., 18., 19.])',
    );
    expect(arange(20, undefined, 1, { dtype: 'float64', requiresGrad: true }).toString()).toBe(
      'tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n' +
        '        14., 15., 16., 17., 18., 19.], dtype=float64, requires_grad=True)',
    );
  });

  it('prints 3-d tensors with blank lines between blocks', () => {
    expect(arange(8, undefined, 1, { dtype: 'float32' }).reshape(2, 2, 2).toString()).toBe(
      'tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])',
    );
  });

  it('summarises tensors over 1000 elements', () => {
    expect(arange(2000).toString()).toBe('tensor([   0,    1,    2,  ..., 1997, 1998, 1999])');
    const s = ones([100, 100]).toString();
    expect(s).toBe(
      'tensor([[1., 1., 1.,  ..., 1., 1., 1.],\n' +
        '        [1., 1., 1.,  ..., 1., 1., 1.],\n' +
        '        [1., 1., 1.,  ..., 1., 1., 1.],\n' +
        '        ...,\n' +
        '        [1., 1., 1.,  ..., 1., 1., 1.],\n' +
        '        [1., 1., 1.,  ..., 1., 1., 1.],\n' +
        '        [1., 1., 1.,  ..., 1., 1., 1.]])',
    );
  });

  it('prints non-contiguous views in logical order', () => {
    expect(
      tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { dtype: 'float32' },
      )
        .t()
        .toString(),
    ).toBe('tensor([[1., 3.],\n        [2., 4.]])');
    expect(`${tensor([1, 2])}`).toBe('tensor([1, 2])');
  });
});
