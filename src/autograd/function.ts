/**
 * Custom differentiable ops, in the style of `torch.autograd.Function`.
 * @module
 */
import { AutogradError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { record } from '../ops/util.js';
import { noGrad } from './grad-mode.js';

/** Context passed to a custom op's forward and backward: saves tensors for backward. */
export class FunctionContext {
  private saved: Tensor[] = [];
  /** Values forward wants to keep for backward (tensors are checked for in-place changes). */
  saveForBackward(...tensors: Tensor[]): void {
    this.saved = tensors;
  }
  /** The tensors saved by forward. */
  get savedTensors(): readonly Tensor[] {
    return this.saved;
  }
  /** Any other (non-tensor) state forward wants to hand to backward. */
  readonly state: Record<string, unknown> = {};
}

/** Definition of a custom op: forward on plain tensors, backward returning one gradient per input. */
export interface FunctionDef {
  /** Op name (for graph nodes and error messages). */
  name: string;
  /** Computes the output; runs without recording the graph. */
  forward(ctx: FunctionContext, ...inputs: Tensor[]): Tensor;
  /** Gradient of each input (null when none) from the output's gradient. */
  backward(ctx: FunctionContext, grad: Tensor): (Tensor | null)[];
}

/**
 * Turns a `FunctionDef` into a differentiable op: `const myOp = customOp({...}); myOp(x, y)`.
 * Backward may itself use differentiable ops, so custom ops support higher-order gradients.
 */
export function customOp(def: FunctionDef): (...inputs: Tensor[]) => Tensor {
  return (...inputs: Tensor[]) => {
    const ctx = new FunctionContext();
    const out = noGrad(() => def.forward(ctx, ...inputs)).detach();
    return record(
      out,
      def.name,
      inputs,
      (g) => {
        const gs = def.backward(ctx, g);
        if (gs.length !== inputs.length) {
          throw new AutogradError(
            `${def.name} backward returned ${gs.length} gradients for ${inputs.length} inputs`,
          );
        }
        return gs;
      },
      ctx.savedTensors,
    );
  };
}
