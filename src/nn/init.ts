/**
 * `nn.init`: in-place weight initialisation (placeholder: extended by the nn engineer).
 * @module
 */
import { noGrad } from '../autograd/grad-mode.js';
import { ValueError } from '../core/errors.js';
import type { Generator } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';
import '../ops/inplace.js';

/** Fan-in and fan-out of a weight (PyTorch's convention: dims 0 and 1 times the receptive field). */
export function calculateFanInAndFanOut(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2)
    throw new ValueError(
      `init: fan in/out needs a tensor with at least 2 dims, got shape [${t.shape.join(',')}]`,
    );
  let rf = 1;
  for (let i = 2; i < t.ndim; i++) rf *= t.shape[i]!;
  return { fanIn: t.shape[1]! * rf, fanOut: t.shape[0]! * rf };
}

/** Fills with U(low, high) in place; returns t. */
export function uniform_(t: Tensor, low = 0, high = 1, options: { generator?: Generator } = {}): Tensor {
  return noGrad(() => t.uniform_(low, high, options));
}

/** Kaiming (He) uniform init for leaky-ReLU nets with negative slope `a` (fan-in mode); returns t. */
export function kaimingUniform_(t: Tensor, options: { a?: number; generator?: Generator } = {}): Tensor {
  const a = options.a ?? 0;
  const gain = Math.sqrt(2 / (1 + a * a));
  const { fanIn } = calculateFanInAndFanOut(t);
  const bound = fanIn > 0 ? gain * Math.sqrt(3 / fanIn) : 0;
  return uniform_(t, -bound, bound, options);
}
