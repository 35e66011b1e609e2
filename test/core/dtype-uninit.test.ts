/**
 * allocArrayUninit: the typed array and length of each dtype, own buffers for large arrays (so views of
 * `.buffer` see only this array), zeros below the size limit, and the errors of allocArray.
 */
import { describe, expect, it } from 'vitest';
import {
  allocArray,
  allocArrayUninit,
  DTYPES,
  type DType,
  DTypeError,
  dtypeOfArray,
  OutOfMemoryError,
  UNINIT_MIN_BYTES,
} from '../../src/index.js';

describe('allocArrayUninit', () => {
  it('gives the typed array of each dtype with the asked length, small or large', () => {
    for (const d of DTYPES) {
      for (const n of [0, 1, 7, UNINIT_MIN_BYTES, 3 * UNINIT_MIN_BYTES + 5]) {
        const a = allocArrayUninit(d, n);
        expect(dtypeOfArray(a), `${d} ${n}`).toBe(d);
        expect(a.length).toBe(n);
        // Writable and readable like any array of its kind.
        if (n > 0) {
          a[n - 1] = 1;
          expect(a[n - 1]).toBe(1);
        }
      }
    }
  });

  it('large arrays own their whole buffer (offset 0, no bytes of anything else)', () => {
    for (const d of ['float32', 'float64', 'int32', 'bool'] as DType[]) {
      const n = 2 * UNINIT_MIN_BYTES;
      const a = allocArrayUninit(d, n);
      expect(a.byteOffset).toBe(0);
      expect(a.buffer.byteLength).toBe(a.byteLength);
    }
  });

  it('small arrays are allocArray: zero-filled', () => {
    const n = UNINIT_MIN_BYTES / 8 - 1;
    for (const d of DTYPES) {
      const a = allocArrayUninit(d, n);
      expect(a.every((v) => v === 0)).toBe(true);
      expect(Array.from(a)).toEqual(Array.from(allocArray(d, n)));
    }
  });

  it('fails as allocArray does', () => {
    expect(() => allocArrayUninit('int64' as DType, 2)).toThrow(DTypeError);
    expect(() => allocArrayUninit('int64' as DType, 1 << 20)).toThrow(/unknown dtype "int64"/);
    expect(() => allocArrayUninit('float64', 2 ** 40)).toThrow(OutOfMemoryError);
    expect(() => allocArrayUninit('float64', 2 ** 40)).toThrow(
      /^cannot allocate a float64 tensor of 1099511627776 elements \(8\.00 TiB\)/,
    );
  });
});
