import { describe, expect, it } from 'vitest';
import {
  AutogradError,
  autograd,
  autogradGrad,
  customOp,
  FunctionContext,
  gradcheck,
  gradgradcheck,
  isGradEnabled,
  type Tensor,
  tensor,
} from '../../src/index.js';

const f64 = (data: number[] | number, requiresGrad = true): Tensor =>
  tensor(data, { dtype: 'float64', requiresGrad });
const arr = (t: Tensor | null | undefined): number[] => Array.from(t!.dataSync());

let forwardSawGrad: boolean | null = null;
const cube = customOp({
  name: 'Cube',
  forward(ctx, x) {
    forwardSawGrad = isGradEnabled();
    ctx.saveForBackward(x!);
    return x!.mul(x!).mul(x!);
  },
  backward(ctx, g) {
    const [x] = ctx.savedTensors;
    return [g.mul(x!.mul(x!)).mul(3)];
  },
});

/** scale(x, s) = x * s with s a plain number kept in ctx.state; second input gets no gradient. */
const scaleBy = customOp({
  name: 'ScaleBy',
  forward(ctx, x, s) {
    ctx.state.factor = s!.item();
    return x!.mul(ctx.state.factor as number);
  },
  backward(ctx, g) {
    return [g.mul(ctx.state.factor as number), null];
  },
});

describe('customOp', () => {
  it('computes forward without recording and records one node', () => {
    const x = f64([1, 2]);
    const y = cube(x);
    expect(forwardSawGrad).toBe(false);
    expect(arr(y)).toEqual([1, 8]);
    expect(y.gradFn?.name).toBe('Cube');
    expect(y.requiresGrad).toBe(true);
    expect(y.toString()).toContain('grad_fn=<CubeBackward>');
  });

  it('backward uses the saved tensors', () => {
    const x = f64([1, 2]);
    cube(x).sum().backward();
    expect(arr(x.grad)).toEqual([3, 12]);
  });

  it('records nothing when no input requires grad', () => {
    const y = cube(f64([2], false));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
  });

  it('supports several inputs, null gradients and non-tensor state', () => {
    const x = f64([1, 2]);
    const y = scaleBy(x, tensor(4));
    y.sum().backward();
    expect(arr(x.grad)).toEqual([4, 4]);
  });

  it('supports higher-order gradients when backward uses differentiable ops', () => {
    const x = f64(2);
    const [d1] = autogradGrad(cube(x), x, { createGraph: true });
    expect(d1!.item()).toBe(12);
    const [d2] = autogradGrad(d1!, x);
    expect(d2!.item()).toBe(12);
    expect(gradcheck(cube, [f64([0.5, -1.5])])).toBe(true);
    expect(gradgradcheck(cube, [f64([0.5, -1.5])])).toBe(true);
  });

  it('is also available as autograd.Function', () => {
    expect(autograd.Function).toBe(customOp);
    expect(new FunctionContext().savedTensors).toEqual([]);
  });

  it('reports a wrong number of gradients', () => {
    const bad = customOp({
      name: 'TwoIn',
      forward: (_ctx, a, b) => a!.add(b!),
      backward: (_ctx, g) => [g],
    });
    expect(() =>
      bad(f64([1]), f64([2]))
        .sum()
        .backward(),
    ).toThrow(AutogradError);
    expect(() =>
      bad(f64([1]), f64([2]))
        .sum()
        .backward(),
    ).toThrow(/TwoIn backward returned 1 gradients for 2 inputs/);
  });

  it('reports a gradient of the wrong shape', () => {
    const bad = customOp({
      name: 'BadShape',
      forward: (_ctx, a) => a!.mul(2),
      backward: (_ctx, g) => [g.sum()],
    });
    expect(() =>
      bad(f64([1, 2, 3]))
        .sum()
        .backward(),
    ).toThrow(/BadShape backward: gradient for input 0 has shape \[\], expected \[3\]/);
  });

  it('detects in-place changes of tensors saved with saveForBackward', () => {
    const x = f64([1, 2]);
    const y = cube(x).sum();
    x.storage.version++;
    expect(() => y.backward()).toThrow(/Cube backward: a tensor of shape \[2\] that it saved was modified/);
  });
});
