/**
 * CPU storage: a typed array on the JS heap, freed by the garbage collector.
 * @module
 */
import type { DType, TypedArray } from '../../core/dtype.js';
import type { Backend, Storage, View } from '../backend.js';

/** Storage of the TypeScript CPU backend. */
export class CpuStorage implements Storage {
  version = 0;
  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    readonly data: TypedArray,
  ) {}
  get length(): number {
    return this.data.length;
  }
}

/** The typed array behind a view's storage (CPU backend only). */
export function arr(v: View): TypedArray {
  return (v.storage as CpuStorage).data;
}
