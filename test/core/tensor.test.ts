import { describe, expect, it } from 'vitest';
import { AutogradError, arange, DTypeError, ones, tensor, ValueError, zeros } from '../../src/index.js';

describe('Tensor basics', () => {
  it('reports shape, ndim, numel, size and contiguity', () => {
    const x = zeros([2, 3, 4]);
    expect(x.shape).toEqual([2, 3, 4]);
    expect(x.ndim).toBe(3);
    expect(x.dim()).toBe(3);
    expect(x.numel()).toBe(24);
    expect(x.size()).toEqual([2, 3, 4]);
    expect(x.size(-1)).toBe(4);
    expect(x.size(0)).toBe(2);
    expect(x.strides).toEqual([12, 4, 1]);
    expect(x.isContiguous()).toBe(true);
    expect(x.transpose(0, 2).isContiguous()).toBe(false);
    expect(x.isFloatingPoint()).toBe(true);
    expect(tensor([1]).isFloatingPoint()).toBe(false);
    expect(() => x.size(3)).toThrow(/size: dim 3 out of range for a 3-d tensor/);
    expect(() => x.size(-4)).toThrow(ValueError);
  });

  it('shape and strides are frozen copies', () => {
    const shape = [2, 2];
    const x = zeros(shape);
    shape[0] = 5;
    expect(x.shape).toEqual([2, 2]);
    expect(Object.isFrozen(x.shape)).toBe(true);
    expect(x.size()).not.toBe(x.shape);
  });

  it('item() returns the value of one-element tensors only', () => {
    expect(tensor(2.5).item()).toBe(2.5);
    expect(tensor([[7]]).item()).toBe(7);
    expect(tensor(true).item()).toBe(1);
    expect(() => tensor([1, 2]).item()).toThrow(ValueError);
    expect(() => tensor([1, 2]).item()).toThrow(
      /item: only one-element tensors can be converted to a number \(shape \[2\]\)/,
    );
    expect(() => zeros([0]).item()).toThrow(/item: .*shape \[0\]/);
  });

  it('toArray() gives nested arrays (booleans for bool) also for views', () => {
    expect(tensor(3).toArray()).toBe(3);
    expect(tensor([true, false]).toArray()).toEqual([true, false]);
    const x = arange(6).reshape(2, 3);
    expect(x.t().toArray()).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    expect(zeros([2, 0]).toArray()).toEqual([[], []]);
    expect(zeros([0, 2]).toArray()).toEqual([]);
  });

  it('dataSync() is row-major for non-contiguous views and a copy for partial views', () => {
    const x = arange(6, undefined, 1, { dtype: 'float32' }).reshape(2, 3);
    const d = x.t().dataSync();
    expect(d).toBeInstanceOf(Float32Array);
    expect(Array.from(d)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(tensor([1, 2, 3], { dtype: 'float64' }).dataSync())).toEqual([1, 2, 3]);
    expect(tensor([1, 2], { dtype: 'int32' }).dataSync()).toBeInstanceOf(Int32Array);
    expect(tensor([true]).dataSync()).toBeInstanceOf(Uint8Array);
  });

  it('detach() shares storage but leaves the graph', () => {
    const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const y = x.mul(2);
    const d = y.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.gradFn).toBeNull();
    expect(d.isLeaf).toBe(true);
    expect(d.storage).toBe(y.storage);
    expect(d.toArray()).toEqual([2, 4]);
    expect(d.mul(3).requiresGrad).toBe(false);
  });

  it('requiresGrad_ on leaves only, floating only; retainGrad and registerHook need requiresGrad', () => {
    const x = ones([2]);
    expect(x.requiresGrad_()).toBe(x);
    expect(x.requiresGrad).toBe(true);
    x.requiresGrad_(false);
    expect(x.requiresGrad).toBe(false);
    expect(() => tensor([1, 2]).requiresGrad_()).toThrow(DTypeError);
    expect(() => tensor([1, 2]).requiresGrad_()).toThrow(
      /requiresGrad_: only floating tensors can require gradients \(dtype int32\)/,
    );
    const y = ones([2], { requiresGrad: true }).mul(2);
    expect(() => y.requiresGrad_(false)).toThrow(AutogradError);
    expect(() => y.requiresGrad_(false)).toThrow(
      /requiresGrad_: you can only change requiresGrad of leaf tensors/,
    );
    expect(() => ones([1]).retainGrad()).toThrow(/retainGrad: can't retain the gradient/);
    expect(() => ones([1]).registerHook(() => undefined)).toThrow(/registerHook: can't register a hook/);
  });

  it('version counts in-place writes shared by all views', () => {
    const x = zeros([4]);
    const v = x.view(2, 2);
    expect(x.version).toBe(0);
    x.storage.version++;
    expect(v.version).toBe(1);
  });
});
