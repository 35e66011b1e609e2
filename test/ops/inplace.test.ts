import { describe, expect, it } from 'vitest';
import {
  AutogradError,
  add_,
  clamp_,
  copy_,
  DTypeError,
  fill_,
  Generator,
  gradcheck,
  mul_,
  noGrad,
  normal_,
  ShapeError,
  type Tensor,
  tensor,
  uniform_,
  ValueError,
  zero_,
  zeros,
} from '../../src/index.js';
import { checkReference } from '../helpers/reference.js';

const T = (v: unknown): Tensor => v as Tensor;
const f64 = (data: number[][] | number[], requiresGrad = false): Tensor =>
  tensor(data, { dtype: 'float64', requiresGrad });

describe('in-place ops inside differentiable code: PyTorch reference', () => {
  it('matches forward values and gradients', () => {
    const n = checkReference('inplace', {
      add_then_square: ([x, z]) => {
        const y = T(x).mul(2);
        y.add_(T(z));
        return y.mul(y);
      },
      chain: ([x, z]) => {
        const y = T(x).mul(1.5);
        y.mul_(T(z));
        y.sub_(T(x), { alpha: 2 });
        y.div_(T(z).abs().add(1));
        y.clamp_(-0.4, 0.4);
        return y.exp();
      },
      copy_into: ([x, z]) => {
        const y = T(x).mul(2);
        y.copy_(T(z));
        return y.mul(T(x));
      },
      buffer_add: ([w]) => {
        const buf = zeros([3], { dtype: T(w).dtype });
        buf.add_(T(w), { alpha: 3 });
        buf.mul_(T(w));
        return buf.mul(T(w));
      },
      fill_then: ([x]) => {
        const y = T(x).mul(2);
        const z = y.add(1);
        y.fill_(0.5);
        return y.mul(T(x)).add(z);
      },
    });
    expect(n).toBe(6);
  });
});

describe('in-place writes', () => {
  it('each op writes into the storage and returns the tensor itself', () => {
    const x = f64([1, 2, 3]);
    expect(x.add_(1)).toBe(x);
    expect(x.toArray()).toEqual([2, 3, 4]);
    x.sub_(f64([1, 1, 1]), { alpha: 2 });
    expect(x.toArray()).toEqual([0, 1, 2]);
    x.mul_(3).div_(2);
    expect(x.toArray()).toEqual([0, 1.5, 3]);
    x.clamp_(0.5, 2);
    expect(x.toArray()).toEqual([0.5, 1.5, 2]);
    x.copy_(tensor(7));
    expect(x.toArray()).toEqual([7, 7, 7]);
    x.fill_(-1);
    expect(x.toArray()).toEqual([-1, -1, -1]);
    x.zero_();
    expect(x.toArray()).toEqual([0, 0, 0]);
  });
  it('views see writes through other views; the version counter is shared and increments', () => {
    const base = zeros([2, 3]);
    const row = base.get(1);
    const col = base.t().get(2);
    expect(base.version).toBe(0);
    row.add_(1);
    expect(base.toArray()).toEqual([
      [0, 0, 0],
      [1, 1, 1],
    ]);
    expect(base.version).toBe(1);
    col.mul_(5);
    expect(base.toArray()).toEqual([
      [0, 0, 0],
      [1, 1, 5],
    ]);
    expect(row.version).toBe(2);
    base.t().fill_(2);
    expect(row.toArray()).toEqual([2, 2, 2]);
    base.get(null, '::2').zero_();
    expect(base.toArray()).toEqual([
      [0, 2, 0],
      [0, 2, 0],
    ]);
    expect(base.version).toBe(4);
  });
  it('broadcasts the operand and converts to the tensor dtype', () => {
    const x = zeros([2, 3]);
    x.add_(tensor([1, 2, 3], { dtype: 'float64' }));
    expect(x.dtype).toBe('float32');
    expect(x.toArray()).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    const i = tensor([1, 2]);
    i.mul_(3);
    expect(i.toArray()).toEqual([3, 6]);
    copy_(i, tensor([2.7, -1.2]));
    expect(i.toArray()).toEqual([2, -1]);
    const b = tensor([true, false]);
    b.copy_(tensor([0, 3]));
    expect(b.toArray()).toEqual([false, true]);
  });
  it('copy_ from an overlapping view of the same storage', () => {
    const x = f64([1, 2, 3, 4]);
    x.get('1:').copy_(x.get(':3'));
    expect(x.toArray()).toEqual([1, 1, 2, 3]);
  });
  it('uniform_ and normal_ are reproducible with a generator and fill views only', () => {
    const a = zeros([1000], { dtype: 'float64' });
    uniform_(a, -2, 3, { generator: new Generator(7) });
    const b = zeros([1000], { dtype: 'float64' }).uniform_(-2, 3, { generator: new Generator(7) });
    expect(a.toArray()).toEqual(b.toArray());
    const d = a.dataSync();
    expect(Math.min(...d)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...d)).toBeLessThan(3);
    expect(a.mean().item()).toBeCloseTo(0.5, 0);
    const n = zeros([4000]).normal_(1, 2, { generator: new Generator(1) });
    expect(n.mean().item()).toBeCloseTo(1, 0);
    const sd = Math.sqrt(n.sub(n.mean()).pow(2).mean().item());
    expect(sd).toBeGreaterThan(1.85);
    expect(sd).toBeLessThan(2.15);
    const m = zeros([3, 4]);
    normal_(m.get(null, 0));
    expect(m.get(null, '1:').abs().sum().item()).toBe(0);
    expect(m.get(null, 0).abs().sum().item()).toBeGreaterThan(0);
  });
});

describe('in-place ops and autograd', () => {
  it('under noGrad a leaf that requires grad can be updated (optimizer step)', () => {
    const w = f64([1, 2], true);
    const v0 = w.version;
    noGrad(() => {
      w.sub_(f64([0.5, 0.5]), { alpha: 0.1 });
      w.mul_(2);
      w.clamp_(null, 3.8);
    });
    expect(w.toArray()).toEqual([1.9, 3.8]);
    expect(w.version).toBe(v0 + 3);
    expect(w.isLeaf).toBe(true);
    expect(w.requiresGrad).toBe(true);
    expect(w.gradFn).toBeNull();
  });
  it('refuses in-place on a leaf that requires grad while grad is on', () => {
    const w = f64([1, 2], true);
    expect(() => w.add_(1)).toThrow(AutogradError);
    expect(() => w.add_(1)).toThrow(
      /add_: a leaf tensor that requires grad is used in an in-place operation \(add_\)/,
    );
    expect(() => w.zero_()).toThrow(/fill_: a leaf tensor that requires grad/);
    expect(() => w.uniform_()).toThrow(/uniform_: a leaf tensor that requires grad/);
    expect(w.toArray()).toEqual([1, 2]);
  });
  it('y = x.exp(); y.add_(1) makes backward fail: exp saved its output', () => {
    const x = f64([0.5, 1], true);
    const y = x.exp();
    y.add_(1);
    expect(() => y.sum().backward()).toThrow(AutogradError);
    const y2 = x.exp();
    y2.add_(1);
    expect(() => y2.sum().backward()).toThrow(
      /Exp backward: a tensor of shape \[2\] that it saved was modified by an in-place operation \(version 1, expected 0\)/,
    );
  });
  it('y = x.mul(2); y.add_(1) gives correct gradients and moves the history', () => {
    const x = f64([1, 2, 3], true);
    const y = x.mul(2);
    const oldFn = y.gradFn;
    y.add_(1);
    expect(y.gradFn).not.toBe(oldFn);
    expect(y.isLeaf).toBe(false);
    expect(y.toArray()).toEqual([3, 5, 7]);
    y.mul(y).sum().backward();
    expect(x.grad!.toArray()).toEqual([12, 20, 28]); // d/dx (2x+1)^2 = 4(2x+1)
  });
  it('mul_ and div_ keep the value they need (self is cloned, not overwritten)', () => {
    const x = f64([1, 2, 3], true);
    const z = f64([2, -1, 0.5], true);
    const y = x.add(0);
    y.mul_(z);
    y.div_(z.add(3));
    y.sum().backward();
    const zv = [2, -1, 0.5];
    const xv = [1, 2, 3];
    xv.forEach((xi, k) => {
      const zi = zv[k]!;
      expect((x.grad!.toArray() as number[])[k]).toBeCloseTo(zi / (zi + 3), 12);
      expect((z.grad!.toArray() as number[])[k]).toBeCloseTo((xi * 3) / (zi + 3) ** 2, 12);
    });
  });
  it('an in-place op with an operand that requires grad turns a plain tensor into a non-leaf', () => {
    const w = f64([1, 2], true);
    const buf = zeros([2], { dtype: 'float64' });
    buf.add_(w);
    expect(buf.requiresGrad).toBe(true);
    expect(buf.isLeaf).toBe(false);
    buf.mul(3).sum().backward();
    expect(w.grad!.toArray()).toEqual([3, 3]);
  });
  it('copy_ and fill_ on a non-leaf: gradient to src, zero to the overwritten value', () => {
    const x = f64([1, 2], true);
    const s = f64([5], true);
    const y = x.mul(1);
    y.copy_(s);
    y.mul(f64([2, 3]))
      .sum()
      .backward();
    expect(s.grad!.toArray()).toEqual([5]);
    expect(x.grad!.toArray()).toEqual([0, 0]);
    const x2 = f64([1, 2], true);
    const y2 = x2.add(1);
    y2.fill_(4);
    y2.sum().backward();
    expect(x2.grad!.toArray()).toEqual([0, 0]);
  });
  it('copy_ into a float32 tensor from a float64 tensor that requires grad', () => {
    const s = f64([1.5, 2.5], true);
    const y = zeros([2]);
    y.copy_(s);
    expect(y.dtype).toBe('float32');
    y.sum().backward();
    expect(s.grad!.dtype).toBe('float64');
    expect(s.grad!.toArray()).toEqual([1, 1]);
  });
  it('retainGrad moves with the history', () => {
    const x = f64([1, 2], true);
    const y = x.mul(2);
    y.retainGrad();
    y.add_(1);
    y.mul(3).sum().backward();
    expect(y.grad!.toArray()).toEqual([3, 3]);
  });
  it('refuses in-place on views tracked by autograd', () => {
    const x = f64([1, 2, 3], true);
    const y = x.mul(2);
    expect(() => y.get(0).add_(1)).toThrow(AutogradError);
    expect(() => y.get(0).add_(1)).toThrow(
      /add_: in-place operations on a view \(shape \[\]\) of a tensor \(shape \[3\]\) are not supported yet/,
    );
    const v = noGrad(() => x.get('1:'));
    expect(() => v.zero_()).toThrow(/fill_: in-place operations on a view/);
    const buf = zeros([3], { dtype: 'float64' });
    expect(() => buf.get('1:').copy_(x.get(':2'))).toThrow(/copy_: in-place operations on a view/);
    // without anything requiring grad, views are fine
    buf.get('1:').copy_(x.detach().get(':2'));
    expect(buf.toArray()).toEqual([0, 1, 2]);
  });
  it('gradcheck through in-place ops on non-leaves', () => {
    const x = f64([0.3, -0.7, 1.1], true);
    const z = f64([0.9, 0.4, -1.3], true);
    expect(
      gradcheck(
        (a, b) => {
          const y = a.mul(b);
          y.add_(b, { alpha: 2 });
          y.mul_(a);
          y.sub_(1);
          y.div_(b.pow(2).add(1));
          clamp_(y, -1, 0.8);
          return y;
        },
        [x, z],
      ),
    ).toBe(true);
    expect(
      gradcheck(
        (a, b) => {
          const y = zeros([3], { dtype: 'float64' });
          copy_(y, b); // y takes b's history
          add_(y, a, { alpha: 0.5 });
          return y.mul(a);
        },
        [x, z],
      ),
    ).toBe(true);
  });
});

describe('in-place op errors', () => {
  it('dtypes', () => {
    const i = tensor([1, 2]);
    expect(() => i.div_(2)).toThrow(DTypeError);
    expect(() => i.div_(2)).toThrow(
      /div_: result type float32 can't be cast to the desired output type int32/,
    );
    expect(() => i.add_(0.5)).toThrow(/add_: result type float32 can't be cast/);
    expect(() => i.uniform_()).toThrow(
      /uniform_: expected a floating tensor \(float32 or float64\), got int32/,
    );
    expect(() => tensor([true]).normal_()).toThrow(/normal_: expected a floating tensor/);
  });
  it('shapes and aliasing', () => {
    const x = zeros([3]);
    expect(() => x.add_(zeros([2, 3]))).toThrow(ShapeError);
    expect(() => x.add_(zeros([2, 3]))).toThrow(
      /add_: output with shape \[3\] doesn't match the broadcast shape \[2,3\]/,
    );
    expect(() => x.copy_(zeros([2, 3]))).toThrow(
      /copy_: output with shape \[3\] doesn't match the broadcast shape \[2,3\]/,
    );
    expect(() => x.copy_(zeros([2]))).toThrow(/copy_: shapes \[3\] and \[2\] cannot be broadcast/);
    const e = zeros([1, 3]).expand(2, 3);
    expect(() => e.add_(1)).toThrow(ValueError);
    expect(() => fill_(e, 1)).toThrow(
      /fill_: more than one element of the written-to tensor refers to the same memory location \(shape \[2,3\], strides \[0,1\]\)/,
    );
    expect(() => mul_(e, 2)).toThrow(/mul_: more than one element/);
    expect(() => zero_(e)).toThrow(/fill_: more than one element/);
  });
  it('empty tensors (a zero-size dim gives stride 0 to the dims before it) are writable', () => {
    const w = zeros([16, 0]);
    expect(w.strides[0]).toBe(0); // what made uniform_ on nn.Linear(0, n)'s weight throw before
    expect(uniform_(w, -1, 1)).toBe(w);
    expect(fill_(w, 3).shape).toEqual([16, 0]);
    expect(normal_(w).numel()).toBe(0);
    expect(w.add_(1).shape).toEqual([16, 0]);
    // a real aliasing dim next to an empty one still has nothing to write
    expect(zero_(zeros([1, 0]).expand(4, 0)).shape).toEqual([4, 0]);
  });
  it('random ranges', () => {
    const x = zeros([3]);
    expect(() => x.uniform_(1, 0)).toThrow(
      /uniform_: expects a finite range with low <= high, got low=1, high=0/,
    );
    expect(() => x.normal_(0, -1)).toThrow(/normal_: expects a finite mean and std >= 0, got mean=0, std=-1/);
    expect(() => x.clamp_()).toThrow(/clamp: at least one of min or max must be given/);
  });
});
