import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arange,
  type DType,
  gradcheck,
  gradgradcheck,
  randn,
  ShapeError,
  type Tensor,
  tensor,
  zeros,
} from '../../src/index.js';
import { checkReference } from '../helpers/reference.js';

/** The same non-contiguous transforms as scripts/reference/shape.py. */
function pre(x: Tensor, kind: unknown): Tensor {
  if (kind === 't') return x.transpose(-1, -2);
  if (kind === 'step') return x.slice(-1, null, null, 2);
  return x;
}

const T = (v: unknown): Tensor => v as Tensor;

describe('views: PyTorch reference', () => {
  it('matches forward values and gradients', () => {
    const n = checkReference('views', {
      reshape: ([x], k) => pre(T(x), k.pre).reshape(k.shape as number[]),
      view: ([x], k) => pre(T(x), k.pre).view(...(k.shape as number[])),
      flatten: ([x], k) => pre(T(x), k.pre).flatten(k.start as number, k.end as number),
      transpose: ([x], k) => pre(T(x), k.pre).transpose(k.a as number, k.b as number),
      t: ([x], k) => pre(T(x), k.pre).t(),
      permute: ([x], k) => pre(T(x), k.pre).permute(k.dims as number[]),
      expand: ([x], k) => pre(T(x), k.pre).expand(k.shape as number[]),
      squeeze: ([x], k) => pre(T(x), k.pre).squeeze(k.dim as number | undefined),
      unsqueeze: ([x], k) => pre(T(x), k.pre).unsqueeze(k.dim as number),
      contiguous: ([x], k) => pre(T(x), k.pre).contiguous(),
      clone: ([x], k) => pre(T(x), k.pre).clone(),
      to: ([x], k) => pre(T(x), k.pre).to(k.dtype as DType),
    });
    expect(n).toBeGreaterThan(25);
  });
});

const f64 = (shape: number[], seed = 0): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.3 + seed) + i * 0.01);
  return tensor(data, { shape, dtype: 'float64' });
};

describe('views share storage', () => {
  const x = arange(0, 24, 1, { dtype: 'float32' }).reshape(2, 3, 4);
  it.each([
    ['view', (t: Tensor) => t.view(6, 4)],
    ['reshape (contiguous)', (t: Tensor) => t.reshape(-1)],
    ['flatten', (t: Tensor) => t.flatten(1)],
    ['transpose', (t: Tensor) => t.transpose(0, 2)],
    ['permute', (t: Tensor) => t.permute(2, 0, 1)],
    ['expand', (t: Tensor) => t.unsqueeze(0).expand(3, 2, 3, 4)],
    ['squeeze', (t: Tensor) => t.unsqueeze(1).squeeze(1)],
    ['unsqueeze', (t: Tensor) => t.unsqueeze(-1)],
    ['contiguous (already)', (t: Tensor) => t.contiguous()],
    ['to (same dtype)', (t: Tensor) => t.to('float32')],
  ])('%s is a view', (_name, f) => {
    const v = f(x);
    expect(v.storage).toBe(x.storage);
  });

  it('writes through a view are seen by the base', () => {
    const base = zeros([2, 3]);
    const v = base.t();
    v.storage.backend.fill(v.get(2, 1), 5);
    expect(base.toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 5],
    ]);
  });

  it.each([
    ['clone', (t: Tensor) => t.clone()],
    ['contiguous (of a transpose)', (t: Tensor) => t.t().contiguous()],
    ['reshape of a transpose', (t: Tensor) => t.t().reshape(-1)],
    ['to (new dtype)', (t: Tensor) => t.double()],
    ['float of float64', (t: Tensor) => t.double().float()],
  ])('%s copies', (_name, f) => {
    const x2 = arange(0, 6, 1, { dtype: 'float32' }).reshape(2, 3);
    const y = f(x2);
    expect(y.storage).not.toBe(x2.storage);
    expect(y.isContiguous()).toBe(true);
  });

  it('views set base to the root tensor', () => {
    const root = zeros([2, 3, 4]);
    const v = root.transpose(0, 1).unsqueeze(0);
    expect(v.base).toBe(root);
    expect(x.base).not.toBeNull();
  });

  it('dtype conversions round and cast like PyTorch', () => {
    const v = tensor([-1.7, -0.2, 0, 0.6, 2.9], { dtype: 'float64' });
    expect(v.int().toArray()).toEqual([-1, 0, 0, 0, 2]);
    expect(v.bool().toArray()).toEqual([true, true, false, true, true]);
    expect(v.float().dtype).toBe('float32');
    expect(v.int().double().dtype).toBe('float64');
  });
});

describe('view errors', () => {
  const x = zeros([2, 3, 4]);
  it('view of a non-contiguous tensor that needs a copy fails', () => {
    expect(() => x.transpose(0, 2).view(-1)).toThrow(ShapeError);
    expect(() => x.transpose(0, 2).view(-1)).toThrow(
      /view: shape \[24\] is not compatible .* use reshape\(\)/,
    );
    // but a split of a single dim is fine
    expect(x.transpose(0, 2).view(2, 2, 3, 2).shape).toEqual([2, 2, 3, 2]);
  });
  it('bad shapes', () => {
    expect(() => x.reshape(5, -1)).toThrow(/reshape: shape \[5,-1\] is invalid for input of size 24/);
    expect(() => x.view(-1, -1)).toThrow(/view: only one dimension can be -1/);
    expect(() => x.reshape(25)).toThrow(
      /reshape: shape \[25\] is invalid for input of size 24 \(shape \[2,3,4\]\)/,
    );
    expect(() => x.reshape(2, -2, 6)).toThrow(/reshape: invalid size -2/);
  });
  it('permute, transpose, flatten, squeeze, unsqueeze dims', () => {
    expect(() => x.permute(0, 1)).toThrow(/permute: got 2 dims \[0,1\] for a 3-d tensor/);
    expect(() => x.permute(0, 1, 1)).toThrow(/permute: repeated dim in \[0,1,1\]/);
    expect(() => x.transpose(0, 3)).toThrow(/transpose: dim 3 out of range for a 3-d tensor/);
    expect(() => x.flatten(2, 1)).toThrow(/flatten: startDim 2 comes after endDim 1/);
    expect(() => x.squeeze(-4)).toThrow(/squeeze: dim -4 out of range/);
    expect(() => x.unsqueeze(4)).toThrow(/unsqueeze: dim 4 out of range for a 4-d tensor/);
    expect(() => x.t()).toThrow(/t: expects a tensor with <= 2 dims, got shape \[2,3,4\]/);
  });
  it('expand', () => {
    expect(() => x.expand(3, 4)).toThrow(/expand: target shape \[3,4\] has fewer dims/);
    expect(() => x.expand(2, 5, 4)).toThrow(
      /expand: cannot expand shape \[2,3,4\] to \[2,5,4\] \(dim 1: 3 vs 5\)/,
    );
    expect(() => x.expand(-1, 2, 3, 4)).toThrow(/expand: -1 not allowed for new leading dim 0/);
  });
});

describe('views: gradcheck', () => {
  const x = f64([2, 3, 4]).requiresGrad_();
  it.each([
    ['reshape', (t: Tensor) => t.reshape(4, -1)],
    ['reshape of a transpose', (t: Tensor) => t.transpose(0, 2).reshape(-1)],
    ['view', (t: Tensor) => t.view(6, 4)],
    ['flatten', (t: Tensor) => t.flatten(1)],
    ['permute', (t: Tensor) => t.permute(2, 0, 1)],
    ['transpose', (t: Tensor) => t.transpose(-1, 0)],
    ['expand', (t: Tensor) => t.get(null, [0, 1]).expand(3, 2, 1, 4)],
    ['squeeze/unsqueeze', (t: Tensor) => t.unsqueeze(1).squeeze()],
    ['contiguous', (t: Tensor) => t.transpose(1, 2).contiguous()],
    ['clone', (t: Tensor) => t.clone().mul(t)],
  ])('%s', (_name, f) => {
    expect(gradcheck(f, [x])).toBe(true);
  });
  it('to float32 and back (float32 rounding needs a larger step)', () => {
    expect(gradcheck((t) => t.float().double(), [x], { eps: 1e-3, atol: 1e-3 })).toBe(true);
  });
  it('gradgradcheck through a chain of views', () => {
    expect(gradgradcheck((t) => t.permute(1, 0, 2).reshape(3, 8).pow(3).expand(2, 3, 8), [x])).toBe(true);
  });
});

describe('views: properties', () => {
  const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 });

  it('reshape to any factorisation and back is the identity', () => {
    fc.assert(
      fc.property(shapeArb, fc.integer({ min: 0, max: 1000 }), (shape, seed) => {
        const x = f64(shape, seed);
        const n = x.numel();
        const divisors = [1, 2, 3, 4, 6].filter((d) => n % d === 0);
        const d = divisors[seed % divisors.length]!;
        const y = x.reshape(d, -1);
        expect(y.shape).toEqual([d, n / d]);
        expect(y.storage).toBe(x.storage);
        expect(y.reshape(shape).toArray()).toEqual(x.toArray());
      }),
      { numRuns: 60 },
    );
  });

  it('permute then its inverse is the identity; transpose twice too', () => {
    fc.assert(
      fc.property(
        shapeArb.chain((s) =>
          fc.tuple(
            fc.constant(s),
            fc.shuffledSubarray(
              s.map((_, i) => i),
              { minLength: s.length, maxLength: s.length },
            ),
          ),
        ),
        ([shape, perm]) => {
          const x = f64(shape);
          const inv = new Array<number>(perm.length);
          perm.forEach((p, i) => {
            inv[p] = i;
          });
          const y = x.permute(perm);
          expect(y.shape).toEqual(perm.map((p) => shape[p]));
          expect(y.permute(inv).toArray()).toEqual(x.toArray());
          const a = perm[0]!;
          const b = perm[perm.length - 1]!;
          expect(x.transpose(a, b).transpose(a, b).toArray()).toEqual(x.toArray());
          // a permuted copy reshaped back through contiguous() keeps every element
          expect(y.contiguous().permute(inv).toArray()).toEqual(x.toArray());
        },
      ),
      { numRuns: 60 },
    );
  });

  it('expand of size-1 dims agrees with broadcasting in add', () => {
    fc.assert(
      fc.property(shapeArb, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), (shape, ones) => {
        const small = shape.map((s, i) => (ones[i] ? 1 : s));
        const a = f64(small, 1);
        const b = zeros(shape, { dtype: 'float64' });
        const e = a.expand(shape);
        expect(e.shape).toEqual(shape);
        expect(e.toArray()).toEqual(b.add(a).toArray());
        expect(e.contiguous().sum().item()).toBeCloseTo(a.sum().item() * (e.numel() / a.numel()), 8);
      }),
      { numRuns: 60 },
    );
  });

  it('squeeze(unsqueeze(x, d), d) is x for every valid d', () => {
    fc.assert(
      fc.property(shapeArb, fc.integer({ min: -5, max: 4 }), (shape, d) => {
        fc.pre(d >= -(shape.length + 1) && d <= shape.length);
        const x = f64(shape);
        const u = x.unsqueeze(d);
        expect(u.ndim).toBe(x.ndim + 1);
        expect(u.squeeze(d).shape).toEqual(shape);
        expect(u.squeeze(d).toArray()).toEqual(x.toArray());
      }),
      { numRuns: 60 },
    );
  });

  it('gradients of random views sum back correctly', () => {
    fc.assert(
      fc.property(shapeArb, (shape) => {
        const x = randn(shape, { dtype: 'float64', requiresGrad: true });
        const y = x.reshape(-1).unsqueeze(0).expand(3, x.numel());
        y.sum().backward();
        expect(x.grad!.toArray()).toEqual(zeros(shape, { dtype: 'float64' }).add(3).toArray());
      }),
      { numRuns: 30 },
    );
  });
});
