import { describe, expect, it } from 'vitest';
import {
  AnomalyError,
  AutogradError,
  broadcastShapes,
  checkShape,
  contiguousStrides,
  DTypeError,
  fmt,
  IndexError,
  isContiguous,
  NeuriteError,
  normDim,
  normDims,
  numelOf,
  ShapeError,
  sameShape,
  ValueError,
} from '../../src/index.js';

describe('shape helpers', () => {
  it('fmt, numelOf, contiguousStrides, sameShape', () => {
    expect(fmt([2, 3])).toBe('[2,3]');
    expect(fmt([])).toBe('[]');
    expect(numelOf([])).toBe(1);
    expect(numelOf([2, 0, 3])).toBe(0);
    expect(contiguousStrides([2, 3, 4])).toEqual([12, 4, 1]);
    expect(contiguousStrides([])).toEqual([]);
    expect(sameShape([1, 2], [1, 2])).toBe(true);
    expect(sameShape([1, 2], [2, 1])).toBe(false);
    expect(sameShape([1], [1, 1])).toBe(false);
  });

  it('isContiguous ignores strides of size-1 dims and zero-size tensors', () => {
    expect(isContiguous([2, 3], [3, 1])).toBe(true);
    expect(isContiguous([2, 3], [1, 2])).toBe(false);
    expect(isContiguous([2, 1, 3], [3, 99, 1])).toBe(true);
    expect(isContiguous([2, 0], [7, 7])).toBe(true);
  });

  it('broadcastShapes follows numpy rules and names the op and dim on failure', () => {
    expect(broadcastShapes('add', [2, 1, 3], [4, 1])).toEqual([2, 4, 3]);
    expect(broadcastShapes('add', [], [2])).toEqual([2]);
    expect(broadcastShapes('add', [0, 1], [1, 5])).toEqual([0, 5]);
    expect(() => broadcastShapes('add', [2, 3], [4, 3])).toThrow(ShapeError);
    expect(() => broadcastShapes('mul', [2, 3], [3, 2])).toThrow(
      /mul: shapes \[2,3\] and \[3,2\] cannot be broadcast together \(dim -2: 2 vs 3\)/,
    );
  });

  it('normDim/normDims handle negative dims, 0-d tensors and duplicates', () => {
    expect(normDim('sum', -1, 3)).toBe(2);
    expect(normDim('sum', 0, 0)).toBe(0);
    expect(normDim('sum', -1, 0)).toBe(0);
    expect(() => normDim('sum', 3, 3)).toThrow(IndexError);
    expect(() => normDim('sum', 3, 3)).toThrow(/sum: dim 3 out of range for a 3-d tensor \(expected -3..2\)/);
    expect(normDims('sum', undefined, 3)).toEqual([0, 1, 2]);
    expect(normDims('sum', [-1, 0], 3)).toEqual([0, 2]);
    expect(() => normDims('sum', [1, -2], 3)).toThrow(/sum: dim \[1,-2\] appears more than once/);
    expect(() => checkShape('zeros', [1, -1])).toThrow(ValueError);
  });

  it('error classes carry their own names and share a base class', () => {
    for (const C of [ShapeError, IndexError, DTypeError, ValueError, AutogradError, AnomalyError]) {
      const e = new C('boom');
      expect(e).toBeInstanceOf(NeuriteError);
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe(C.name);
      expect(e.message).toBe('boom');
    }
  });
});
