/**
 * `Parameter`: a leaf tensor that a `Module` treats as a learnable weight.
 * @module
 */
import { isFloating } from '../core/dtype.js';
import { DTypeError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';

/** A learnable tensor: registered by `Module` when assigned to a property; requires grad by default. */
export class Parameter extends Tensor {
  /** Wraps `data` (shares its storage; the result is a leaf). */
  constructor(data: Tensor, requiresGrad = true) {
    super(data.storage, data.shape, data.strides, data.offset);
    if (requiresGrad && !isFloating(data.dtype)) {
      throw new DTypeError(`Parameter: only floating tensors can require gradients (dtype ${data.dtype})`);
    }
    this.requiresGrad = requiresGrad;
  }
}
