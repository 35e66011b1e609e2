/**
 * Functional autograd: `autogradGrad` (torch.autograd.grad), `grad(f)` and `valueAndGrad(f)`.
 * @module
 */
import { AutogradError, DTypeError, ValueError } from '../core/errors.js';
import { fmt } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { type BackwardOptions, runBackward } from './engine.js';
import { enableGrad } from './grad-mode.js';

/** Options of `autogradGrad`. */
export interface GradOptions extends BackwardOptions {
  /** Gradients to seed each output with (needed for non-scalar outputs). */
  gradOutputs?: readonly (Tensor | null)[];
  /** Return null for inputs the outputs do not depend on, instead of throwing. */
  allowUnused?: boolean;
}

/**
 * Gradients of `outputs` w.r.t. `inputs`, returned rather than accumulated into `.grad` (like
 * `torch.autograd.grad`). With `createGraph: true` the results are differentiable again.
 */
export function autogradGrad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  options: GradOptions = {},
): (Tensor | null)[] {
  const outs = outputs instanceof Tensor ? [outputs] : outputs;
  const ins = inputs instanceof Tensor ? [inputs] : inputs;
  const seeds = outs.map((o, i) => {
    const given = options.gradOutputs?.[i];
    if (given) return given;
    if (o.numel() !== 1) {
      throw new AutogradError(
        `grad: output ${i} has shape ${fmt(o.shape)}; pass gradOutputs for non-scalar outputs`,
      );
    }
    return o.detach().mul(0).add(1);
  });
  const res = runBackward(outs, seeds, options, ins);
  if (!options.allowUnused) {
    res.forEach((g, i) => {
      if (g === null) {
        throw new AutogradError(
          `grad: input ${i} (shape ${fmt(ins[i]!.shape)}) was not used to compute the outputs; pass allowUnused: true`,
        );
      }
    });
  }
  return res;
}

function prepare(args: readonly Tensor[]): Tensor[] {
  return args.map((a) => (a.isFloatingPoint() ? a.detach().requiresGrad_(true) : a));
}

/**
 * Returns a function computing the gradients of scalar-valued `f` w.r.t. its tensor arguments
 * (those listed in `argnums`, or by default every floating argument, in order, so integer labels
 * can be passed along). The inputs are not modified.
 */
export function grad(
  f: (...args: Tensor[]) => Tensor,
  options: { argnums?: readonly number[]; createGraph?: boolean } = {},
): (...args: Tensor[]) => Tensor[] {
  const vg = valueAndGrad(f, options);
  return (...args) => vg(...args)[1];
}

/** Like `grad`, but also returns f's value: `[value, grads]`. */
export function valueAndGrad(
  f: (...args: Tensor[]) => Tensor,
  options: { argnums?: readonly number[]; createGraph?: boolean } = {},
): (...args: Tensor[]) => [Tensor, Tensor[]] {
  return (...args) => {
    const createGraph = options.createGraph ?? false;
    const inputs = createGraph
      ? args.map((a) => (a.requiresGrad || !a.isFloatingPoint() ? a : a.detach().requiresGrad_(true)))
      : prepare(args);
    const which = options.argnums ?? inputs.flatMap((a, i) => (a.isFloatingPoint() ? [i] : []));
    for (const i of which) {
      const a = inputs[i];
      if (!a) throw new ValueError(`grad: argnums entry ${i} is out of range for ${inputs.length} arguments`);
      if (!a.isFloatingPoint()) {
        throw new DTypeError(
          `grad: argument ${i} is ${a.dtype} (shape ${fmt(a.shape)}); only floating tensors can be differentiated`,
        );
      }
    }
    if (!which.length) throw new DTypeError('grad: f has no floating tensor argument to differentiate');
    const value = enableGrad(() => f(...inputs));
    if (value.numel() !== 1) {
      throw new AutogradError(`grad: f must return a one-element tensor, got shape ${fmt(value.shape)}`);
    }
    const gs = autogradGrad(
      value,
      which.map((i) => inputs[i]!),
      { allowUnused: true, createGraph },
    );
    return [createGraph ? value : value.detach(), gs.map((g, j) => g ?? inputs[which[j]!]!.detach().mul(0))];
  };
}
