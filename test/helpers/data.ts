/**
 * Small datasets shared by the data tests.
 */
import type { data } from '../../src/index.js';

/** A dataset of plain numbers 0..n-1. */
export function numbers(n: number): data.Dataset<number> {
  return { length: n, get: (i) => i };
}
