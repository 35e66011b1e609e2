import { describe, expect, it } from 'vitest';
import {
  AutogradError,
  customOp,
  DTypeError,
  gradcheck,
  gradgradcheck,
  type Tensor,
  tensor,
} from '../../src/index.js';

const f64 = (data: number[], requiresGrad = true): Tensor => tensor(data, { dtype: 'float64', requiresGrad });

/** Square with a wrong first derivative (x instead of 2x). */
const wrongSquare = customOp({
  name: 'WrongSquare',
  forward(ctx, x) {
    ctx.saveForBackward(x!);
    return x!.mul(x!);
  },
  backward(ctx, g) {
    return [g.mul(ctx.savedTensors[0]!)];
  },
});

/** Cube whose first derivative is right but whose backward is not differentiable (detach). */
const detachedCube = customOp({
  name: 'DetachedCube',
  forward(ctx, x) {
    ctx.saveForBackward(x!);
    return x!.mul(x!).mul(x!);
  },
  backward(ctx, g) {
    const x = ctx.savedTensors[0]!.detach();
    return [g.mul(x.mul(x)).mul(3)];
  },
});

describe('gradcheck', () => {
  it('passes for correct gradients of built-in ops, with broadcasting and several inputs', () => {
    const f = (a: Tensor, b: Tensor): Tensor =>
      a
        .mul(b)
        .sin()
        .add(a.exp().div(b.mul(b).add(1)));
    expect(gradcheck(f, [f64([0.1, -0.4, 0.7]).reshape(3, 1), f64([0.3, 1.2])])).toBe(true);
  });

  it('checks only the inputs that require grad', () => {
    const f = (a: Tensor, b: Tensor): Tensor => a.mul(b);
    expect(gradcheck(f, [f64([1, 2]), tensor([3, 4], { dtype: 'float32' })])).toBe(true);
  });

  it('fails for a deliberately wrong backward, naming the input and index', () => {
    const x = f64([0.5, 1.5, -2]);
    expect(() => gradcheck(wrongSquare, [x])).toThrow(AutogradError);
    expect(() => gradcheck(wrongSquare, [x])).toThrow(
      /gradcheck: gradient mismatch for input 0 \(shape \[3\]\) at flat index 0: analytic .*, numerical/,
    );
    expect(gradcheck(wrongSquare, [x], { raiseException: false })).toBe(false);
  });

  it('needs float64 inputs and at least one input requiring grad', () => {
    expect(() => gradcheck((a) => a.mul(2), [tensor([1.5, 2], { requiresGrad: true })])).toThrow(DTypeError);
    expect(() => gradcheck((a) => a.mul(2), [tensor([1.5, 2], { requiresGrad: true })])).toThrow(
      /gradcheck: input 0 is float32; use float64 inputs/,
    );
    expect(() => gradcheck((a) => a.mul(2), [f64([1], false)])).toThrow(/gradcheck: no input requires grad/);
  });

  it('notices a missing gradient (output does not depend on the input through autograd)', () => {
    const f = (a: Tensor): Tensor => a.detach().mul(a.detach()).add(a.mul(0));
    expect(gradcheck(f, [f64([1, 2])], { raiseException: false })).toBe(false);
  });
});

describe('gradgradcheck', () => {
  it('passes for correct second derivatives', () => {
    const f = (a: Tensor, b: Tensor): Tensor => a.mul(b).tanh().mul(a);
    expect(gradgradcheck(f, [f64([0.2, -0.5]), f64([1.1, 0.4])])).toBe(true);
  });

  it('fails for a backward that is right to first order but not differentiable', () => {
    const x = f64([0.5, 1.5]);
    expect(gradcheck(detachedCube, [x])).toBe(true);
    expect(gradgradcheck(detachedCube, [x], { raiseException: false })).toBe(false);
    expect(() => gradgradcheck(detachedCube, [x])).toThrow(/gradcheck: gradient mismatch for input 0/);
  });

  it('checks second order only: a wrong first derivative needs gradcheck to be caught', () => {
    // gradgradcheck differentiates the (wrong) backward consistently, so it passes; gradcheck fails.
    expect(gradgradcheck(wrongSquare, [f64([0.5, 1.5])])).toBe(true);
    expect(gradcheck(wrongSquare, [f64([0.5, 1.5])], { raiseException: false })).toBe(false);
  });
});
