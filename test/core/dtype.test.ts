import { describe, expect, it } from 'vitest';
import {
  add,
  allocArray,
  assertFloating,
  DTYPES,
  DTypeError,
  div,
  dtypeOfArray,
  isFloating,
  mul,
  promoteTypes,
  promoteWithScalar,
  tensor,
} from '../../src/index.js';

const i32 = tensor([1, 2], { dtype: 'int32' });
const f32 = tensor([1, 2], { dtype: 'float32' });
const f64 = tensor([1, 2], { dtype: 'float64' });
const b = tensor([true, false]);

describe('dtype helpers', () => {
  it('allocArray / dtypeOfArray round-trip', () => {
    for (const d of DTYPES) expect(dtypeOfArray(allocArray(d, 2))).toBe(d);
    expect(allocArray('bool', 3)).toBeInstanceOf(Uint8Array);
    expect(isFloating('float32')).toBe(true);
    expect(isFloating('int32')).toBe(false);
    expect(() => assertFloating('myop', 'int32')).toThrow(DTypeError);
    expect(() => assertFloating('myop', 'bool')).toThrow(
      /myop: expected a floating tensor \(float32 or float64\), got bool/,
    );
  });

  it('promoteTypes follows bool < int32 < float32 < float64 (torch.promote_types)', () => {
    expect(promoteTypes('bool', 'int32')).toBe('int32');
    expect(promoteTypes('int32', 'float32')).toBe('float32');
    expect(promoteTypes('float32', 'float64')).toBe('float64');
    expect(promoteTypes('float64', 'bool')).toBe('float64');
    for (const d of DTYPES) expect(promoteTypes(d, d)).toBe(d);
  });

  it('scalars are weak: they change the category but never widen', () => {
    expect(promoteWithScalar('float32', 1.5)).toBe('float32');
    expect(promoteWithScalar('int32', 2)).toBe('int32');
    expect(promoteWithScalar('int32', 2.5)).toBe('float32');
    expect(promoteWithScalar('bool', 2)).toBe('int32');
    expect(promoteWithScalar('bool', true)).toBe('bool');
    expect(promoteWithScalar('float64', 2)).toBe('float64');
  });
});

// Each expectation below is what PyTorch 1.13 gives (with int64 read as Neurite's int32).
describe('result dtypes of binary ops', () => {
  it('tensor with tensor', () => {
    expect(add(i32, f32).dtype).toBe('float32');
    expect(add(f32, f64).dtype).toBe('float64');
    expect(add(i32, b).dtype).toBe('int32');
    expect(mul(b, b).dtype).toBe('bool');
    expect(div(i32, i32).dtype).toBe('float32');
    expect(div(i32, i32).toArray()).toEqual([1, 1]);
  });

  it('tensor with scalar', () => {
    expect(add(i32, 1.5).dtype).toBe('float32');
    expect(add(i32, 1.5).toArray()).toEqual([2.5, 3.5]);
    expect(add(i32, 1).dtype).toBe('int32');
    expect(add(b, 1).dtype).toBe('int32');
    expect(add(b, true).dtype).toBe('bool');
    expect(add(f64, 1.5).dtype).toBe('float64');
    expect(mul(2, f32).dtype).toBe('float32');
  });

  it('0-d tensors are weak within their category', () => {
    expect(add(f32, tensor(1.5, { dtype: 'float64' })).dtype).toBe('float32');
    expect(add(i32, tensor(1.5, { dtype: 'float64' })).dtype).toBe('float64');
    expect(add(tensor(1, { dtype: 'int32' }), f64).dtype).toBe('float64');
    expect(add(tensor(1.5, { dtype: 'float64' }), tensor(1, { dtype: 'float32' })).dtype).toBe('float64');
  });

  it('comparisons give bool', () => {
    expect(f32.gt(1).dtype).toBe('bool');
    expect(f32.gt(1).toArray()).toEqual([false, true]);
  });

  it('at least one operand must be a tensor', () => {
    expect(() => add(1, 2)).toThrow(/add: at least one argument must be a tensor/);
  });
});

describe('unknown dtypes', () => {
  it('are refused with a DTypeError naming the dtype (and the op for to())', () => {
    const bad = 'int64' as unknown as 'int32';
    expect(() => f32.to(bad)).toThrow(DTypeError);
    expect(() => f32.to(bad)).toThrow(/to: unknown dtype "int64" \(expected bool, int32, float32, float64\)/);
    expect(() => allocArray(bad, 2)).toThrow(/unknown dtype "int64"/);
    expect(() => tensor([1, 2], { dtype: bad })).toThrow(DTypeError);
    // a known dtype still converts
    expect(f32.to('int32').dtype).toBe('int32');
  });
});
