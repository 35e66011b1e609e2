import { describe, expect, it } from 'vitest';
import { AutogradError, autogradGrad, ones, type Tensor, tensor } from '../../src/index.js';

const f64 = (data: number[], requiresGrad = true): Tensor => tensor(data, { dtype: 'float64', requiresGrad });
const arr = (t: Tensor | null): number[] => Array.from(t!.dataSync());

describe('backward', () => {
  it('computes gradients of a scalar into leaves', () => {
    const x = f64([1, 2, 3]);
    const y = x.mul(x).sum();
    expect(y.gradFn?.name).toBe('Sum');
    y.backward();
    expect(arr(x.grad)).toEqual([2, 4, 6]);
    expect(x.grad!.requiresGrad).toBe(false);
    expect(x.grad!.dtype).toBe('float64');
  });

  it('accumulates gradients across two backward calls', () => {
    const x = f64([1, 2]);
    x.mul(3).sum().backward();
    x.mul(x).sum().backward();
    expect(arr(x.grad)).toEqual([5, 7]);
    x.grad = null;
    x.mul(3).sum().backward();
    expect(arr(x.grad)).toEqual([3, 3]);
  });

  it('sums gradients over every path (diamond graph, reused inputs)', () => {
    const x = f64([1, -2]);
    const y = x.mul(2);
    const z = y.mul(y).add(y).sum(); // dz/dx = (2y + 1) * 2
    z.backward();
    expect(arr(x.grad)).toEqual([(2 * 2 + 1) * 2, (2 * -4 + 1) * 2]);
  });

  it('broadcast inputs get gradients of their own shape', () => {
    const a = f64([1, 2, 3]).reshape(3, 1);
    const b = f64([10, 20]);
    const leafA = a;
    a.add(b).sum().backward();
    expect(b.grad!.shape).toEqual([2]);
    expect(arr(b.grad)).toEqual([3, 3]);
    expect(leafA.grad).toBeNull(); // a is a non-leaf view
  });

  it('backward(gradient) seeds non-scalar outputs', () => {
    const x = f64([1, 2, 3]);
    const y = x.mul(x);
    y.backward(tensor([1, 0.5, -1], { dtype: 'float64' }));
    expect(arr(x.grad)).toEqual([2, 2, -6]);
  });

  it('refuses non-scalar outputs without a gradient, and gradients of the wrong shape', () => {
    const y = f64([1, 2]).mul(2);
    expect(() => y.backward()).toThrow(AutogradError);
    expect(() => y.backward()).toThrow(
      /backward: grad can be implicitly created only for scalar outputs \(got shape \[2\]\)/,
    );
    expect(() => y.backward(ones([3], { dtype: 'float64' }))).toThrow(
      /backward: gradient has shape \[3\] but the tensor has shape \[2\]/,
    );
  });

  it('refuses outputs that do not require grad', () => {
    expect(() => tensor([1.5]).mul(2).sum().backward()).toThrow(
      /backward: output 0 \(shape \[\]\) does not require grad and has no grad_fn/,
    );
  });

  it('frees the graph after backward unless retainGraph is set', () => {
    const x = f64([1, 2]);
    const y = x.mul(x).sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(arr(x.grad)).toEqual([4, 8]);
    expect(() => y.backward()).toThrow(AutogradError);
    expect(() => y.backward()).toThrow(
      /backward: trying to backward through the graph a second time \(at Sum\).*retainGraph: true/,
    );
  });

  it('a second backward through a freed subgraph fails even from a new root', () => {
    const x = f64([3]);
    const h = x.exp();
    h.sum().backward();
    expect(() => h.mul(2).sum().backward()).toThrow(/a second time \(at Exp\)/);
  });

  it('detects in-place modification of a saved tensor at backward', () => {
    const x = f64([1, 2]);
    const w = f64([3, 4], false);
    const y = x.mul(w).sum();
    w.storage.version++; // what an in-place op on w does
    expect(() => y.backward()).toThrow(
      /Mul backward: a tensor of shape \[2\] that it saved was modified by an in-place operation \(version 1, expected 0\)/,
    );
    // a saved output counts too (exp saves its result)
    const e = f64([0.5]).exp();
    const s = e.sum();
    e.storage.version++;
    expect(() => s.backward()).toThrow(/Exp backward: .*modified by an in-place operation/);
  });

  it('detects a real in-place op (mul_) on a saved tensor', () => {
    const x = f64([1, 2]);
    const w = f64([3, 4], false);
    const y = x.mul(w).sum();
    w.mul_(2);
    expect(w.version).toBe(1);
    expect(() => y.backward()).toThrow(
      /Mul backward: .*modified by an in-place operation \(version 1, expected 0\)/,
    );
  });

  it('an op that saves nothing does not care about in-place changes', () => {
    const x = f64([1, 2]);
    const y = x.add(1);
    const s = y.sum();
    y.storage.version++;
    s.backward();
    expect(arr(x.grad)).toEqual([1, 1]);
  });
});

describe('leaves, non-leaves and retainGrad', () => {
  it('.grad is filled only on leaves unless retainGrad() was called', () => {
    const x = f64([1, 2]);
    const y = x.mul(3);
    const z = y.mul(y).sum();
    expect(x.isLeaf).toBe(true);
    expect(y.isLeaf).toBe(false);
    z.backward();
    expect(y.grad).toBeNull();
    expect(arr(x.grad)).toEqual([18, 36]);

    const y2 = x.mul(3);
    y2.retainGrad();
    y2.mul(y2).sum().backward();
    expect(arr(y2.grad)).toEqual([6, 12]);
  });

  it('tensors created from non-grad data are leaves that get no gradient', () => {
    const x = f64([1, 2]);
    const c = f64([5, 5], false);
    x.mul(c).sum().backward();
    expect(c.grad).toBeNull();
    expect(arr(x.grad)).toEqual([5, 5]);
  });

  it('detach() stops gradients', () => {
    const x = f64([2, 3]);
    x.mul(x.detach()).sum().backward();
    expect(arr(x.grad)).toEqual([2, 3]);
  });

  it('leaf .grad does not alias the incoming gradient', () => {
    const x = f64([1, 2]);
    const g = tensor([1, 1], { dtype: 'float64' });
    x.backward(g);
    expect(x.grad).not.toBe(g);
    expect(x.grad!.storage).not.toBe(g.storage);
  });
});

describe('hooks', () => {
  it('a leaf hook reads the gradient and can replace it; removal stops it', () => {
    const x = f64([1, 2]);
    const seen: number[][] = [];
    const remove = x.registerHook((g) => {
      seen.push(arr(g));
      return g.mul(10);
    });
    x.mul(x).sum().backward();
    expect(seen).toEqual([[2, 4]]);
    expect(arr(x.grad)).toEqual([20, 40]);
    remove();
    x.grad = null;
    x.mul(x).sum().backward();
    expect(seen).toHaveLength(1);
    expect(arr(x.grad)).toEqual([2, 4]);
  });

  it('a hook returning nothing leaves the gradient unchanged', () => {
    const x = f64([1, 2]);
    let calls = 0;
    x.registerHook(() => {
      calls++;
    });
    x.sum().backward();
    expect(calls).toBe(1);
    expect(arr(x.grad)).toEqual([1, 1]);
  });

  it('a non-leaf hook changes what flows to the inputs (and what retainGrad sees)', () => {
    const x = f64([1, 2]);
    const y = x.mul(3);
    y.retainGrad();
    const seen: number[][] = [];
    y.registerHook((g) => {
      seen.push(arr(g));
      return g.mul(2);
    });
    y.sum().backward();
    expect(seen).toEqual([[1, 1]]);
    expect(arr(y.grad)).toEqual([2, 2]);
    expect(arr(x.grad)).toEqual([6, 6]);
  });

  it('hooks run in registration order, each seeing the previous result', () => {
    const x = f64([1]);
    const order: string[] = [];
    x.registerHook((g) => {
      order.push('a');
      return g.add(1);
    });
    x.registerHook((g) => {
      order.push(`b:${g.item()}`);
      return g.mul(3);
    });
    x.sum().backward();
    expect(order).toEqual(['a', 'b:2']);
    expect(x.grad!.item()).toBe(6);
  });

  it('hooks also run for autogradGrad', () => {
    const x = f64([1, 2]);
    x.registerHook((g) => g.neg());
    const [g] = autogradGrad(x.mul(x).sum(), x);
    expect(arr(g!)).toEqual([-2, -4]);
    expect(x.grad).toBeNull();
  });
});

describe('autogradGrad', () => {
  it('returns gradients without touching .grad', () => {
    const x = f64([1, 2]);
    const y = f64([3, 4]);
    const [gx, gy] = autogradGrad(x.mul(y).sum(), [x, y]);
    expect(arr(gx!)).toEqual([3, 4]);
    expect(arr(gy!)).toEqual([1, 2]);
    expect(x.grad).toBeNull();
    expect(gx!.requiresGrad).toBe(false);
  });

  it('takes gradOutputs for non-scalar outputs and several outputs', () => {
    const x = f64([1, 2]);
    const [g] = autogradGrad([x.mul(2), x.mul(x)], x, {
      gradOutputs: [tensor([1, 1], { dtype: 'float64' }), tensor([1, -1], { dtype: 'float64' })],
    });
    expect(arr(g!)).toEqual([2 + 2, 2 - 4]);
    expect(() => autogradGrad(x.mul(2), x)).toThrow(
      /grad: output 0 has shape \[2\]; pass gradOutputs for non-scalar outputs/,
    );
  });

  it('reports unused inputs unless allowUnused', () => {
    const x = f64([1]);
    const u = f64([1]);
    expect(() => autogradGrad(x.mul(2).sum(), [x, u])).toThrow(
      /grad: input 1 \(shape \[1\]\) was not used to compute the outputs; pass allowUnused: true/,
    );
    const [gx, gu] = autogradGrad(x.mul(2).sum(), [x, u], { allowUnused: true });
    expect(gx!.item()).toBe(2);
    expect(gu).toBeNull();
    expect(() => autogradGrad(x.mul(2).sum(), [f64([1], false)])).toThrow(
      /grad: input 0 \(shape \[1\]\) does not require grad/,
    );
  });

  it('can take the gradient w.r.t. an intermediate tensor', () => {
    const x = f64([1, 2]);
    const h = x.mul(2);
    const [gh] = autogradGrad(h.mul(h).sum(), h);
    expect(arr(gh!)).toEqual([4, 8]);
  });
});
