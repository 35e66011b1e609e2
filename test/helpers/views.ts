/**
 * Non-contiguous inputs for tests, built with the (separately tested) `slice` view op.
 */
import type { Tensor } from '../../src/index.js';

/** x[..., ::2]: a strided view along the last dim (differentiable). */
export function stridedLast(x: Tensor): Tensor {
  return x.slice(-1, null, null, 2);
}

/** The [2,3] view x[::2, 1::2] of a [4,6] tensor (differentiable, offset 1). */
export function strided46(x: Tensor): Tensor {
  return x.slice(0, null, null, 2).slice(1, 1, null, 2);
}
