/**
 * Small tensor factories shared by the tests.
 */
import { randn, type Tensor } from '../../src/index.js';

/** A random float64 leaf of `shape` that requires grad (the usual gradcheck input). */
export const d64 = (shape: number[]): Tensor => randn(shape, { dtype: 'float64', requiresGrad: true });
