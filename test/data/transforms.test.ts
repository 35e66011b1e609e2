import { describe, expect, it } from 'vitest';
import {
  arange,
  DTypeError,
  data,
  flip,
  Generator,
  manualSeed,
  rand,
  ShapeError,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '../../src/index.js';
import { checkReference } from '../helpers/reference.js';

const {
  Compose,
  Normalize,
  RandomAffine,
  RandomCrop,
  RandomHorizontalFlip,
  RandomResizedCrop,
  RandomRotation,
  RandomVerticalFlip,
  TensorDataset,
  TransformDataset,
  toTensor,
} = data;

/** An [H, W] float64 image with pixel (i, j) = i * W + j. */
function grid(h: number, w: number, dtype: 'float32' | 'float64' = 'float64'): Tensor {
  return arange(h * w, undefined, 1, { dtype }).reshape([h, w]);
}

function close(a: Tensor, b: number[] | number[][] | number[][][], tol = 1e-12): void {
  const av = a.dataSync();
  const bv = (b as unknown[]).flat(3) as number[];
  expect(av.length).toBe(bv.length);
  for (let i = 0; i < bv.length; i++) expect(Math.abs(av[i]! - bv[i]!)).toBeLessThanOrEqual(tol);
}

describe('RandomRotation', () => {
  it('rotates by exactly 90 degrees counter-clockwise (like torch.rot90)', () => {
    const x = grid(4, 4);
    for (const interpolation of ['bilinear', 'nearest'] as const) {
      const y = new RandomRotation([90, 90], { interpolation }).apply(x, new Generator(0));
      // out[i][j] = in[j][N-1-i]
      expect(y.toArray()).toEqual([
        [3, 7, 11, 15],
        [2, 6, 10, 14],
        [1, 5, 9, 13],
        [0, 4, 8, 12],
      ]);
    }
    const back = new RandomRotation([-90, -90]).apply(x);
    expect(back.toArray()).toEqual([
      [12, 8, 4, 0],
      [13, 9, 5, 1],
      [14, 10, 6, 2],
      [15, 11, 7, 3],
    ]);
    const half = new RandomRotation([180, 180]).apply(grid(3, 3));
    expect(half.toArray()).toEqual([
      [8, 7, 6],
      [5, 4, 3],
      [2, 1, 0],
    ]);
  });

  it('fills pixels rotated in from outside (non-square image)', () => {
    // 3x5 image, centre (x=2, y=1): out(i, j) = in(row j - 1, col 3 - i)
    const y = new RandomRotation([90, 90], { fill: -1 }).apply(grid(3, 5));
    const expected = [0, 1, 2].map((i) =>
      [0, 1, 2, 3, 4].map((j) => {
        const r = j - 1;
        const c = 3 - i;
        return r >= 0 && r < 3 && c >= 0 && c < 5 ? r * 5 + c : -1;
      }),
    );
    expect(y.toArray()).toEqual(expected);
  });

  it('keeps shape and dtype, changes pixels, is repeatable under a seed', () => {
    const x = rand([3, 8, 10], { generator: new Generator(1) });
    const t = new RandomRotation(30);
    const a = t.apply(x, new Generator(7));
    const b = t.apply(x, new Generator(7));
    const c = t.apply(x, new Generator(8));
    expect(a.shape).toEqual([3, 8, 10]);
    expect(a.dtype).toBe('float32');
    expect(a.toArray()).toEqual(b.toArray());
    expect(a.toArray()).not.toEqual(c.toArray());
    expect(a.toArray()).not.toEqual(x.toArray());
    // every channel gets the same rotation: rotating a channel alone gives the same plane
    const plane = t.apply(x.select(0, 1).contiguous(), new Generator(7));
    expect(plane.toArray()).toEqual(a.select(0, 1).toArray());
  });

  it('uses the default generator when none is given', () => {
    const x = rand([5, 5]);
    const t = new RandomRotation(45);
    manualSeed(3);
    const a = t.apply(x);
    manualSeed(3);
    expect(t.apply(x).toArray()).toEqual(a.toArray());
  });

  it('per-channel fill, and 45 degrees leaves the corners to the fill (nearest)', () => {
    const x = zeros([2, 5, 5]).add(1);
    const y = new RandomRotation([45, 45], { fill: [7, 9], interpolation: 'nearest' }).apply(x);
    const a = y.toArray() as number[][][];
    expect(a[0]![0]![0]).toBe(7);
    expect(a[1]![4]![4]).toBe(9);
    expect(a[0]![2]![2]).toBe(1);
  });

  it('validates arguments and inputs', () => {
    expect(() => new RandomRotation(-5)).toThrow(/RandomRotation: degrees must be a non-negative number/);
    expect(() => new RandomRotation([10, 5])).toThrow(/RandomRotation: degrees range must be \[min, max\]/);
    expect(() => new RandomRotation(5, { interpolation: 'cubic' as 'nearest' })).toThrow(
      /interpolation must be 'bilinear' or 'nearest', got 'cubic'/,
    );
    const t = new RandomRotation(5);
    expect(() => t.apply(zeros([4]))).toThrow(ShapeError);
    expect(() => t.apply(zeros([4]))).toThrow(
      /RandomRotation: expected an image of shape \[C,H,W\] or \[H,W\], got \[4\]/,
    );
    expect(() => t.apply(zeros([2, 2], { dtype: 'int32' }))).toThrow(DTypeError);
    expect(() => new RandomRotation(5, { fill: [1, 2, 3] }).apply(zeros([2, 4, 4]))).toThrow(
      /RandomRotation: fill has 3 values but the image has 2 channels/,
    );
  });

  it('handles zero-size images', () => {
    expect(new RandomRotation(10).apply(zeros([0, 4, 4])).shape).toEqual([0, 4, 4]);
    expect(new RandomRotation(10).apply(zeros([1, 0, 4])).shape).toEqual([1, 0, 4]);
  });
});

describe('RandomAffine', () => {
  it('scales about the centre (bilinear)', () => {
    const x = grid(5, 5);
    const y = new RandomAffine({ scale: [2, 2] }).apply(x);
    // output p samples the source at c + (p - c) / 2 with c = 2
    const expected = [0, 1, 2, 3, 4].map((i) => [0, 1, 2, 3, 4].map((j) => (1 + i / 2) * 5 + (1 + j / 2)));
    close(y, expected);
  });

  it('translates by whole pixels', () => {
    const x = grid(4, 6);
    // translate fraction 1 with a generator draws some integer shift; compare with the formula
    const g = new Generator(11);
    const y = new RandomAffine({ translate: [0.5, 0.5], fill: -1 }).apply(x, g);
    const r = new Generator(11);
    r.random(); // angle
    const tx = Math.round(-3 + r.random() * 6);
    const ty = Math.round(-2 + r.random() * 4);
    const expected = [0, 1, 2, 3].map((i) =>
      [0, 1, 2, 3, 4, 5].map((j) => {
        const si = i - ty;
        const sj = j - tx;
        return si >= 0 && si < 4 && sj >= 0 && sj < 6 ? si * 6 + sj : -1;
      }),
    );
    expect(y.toArray()).toEqual(expected);
  });

  it('changes pixels, keeps shapes, repeatable', () => {
    const x = rand([1, 28, 28], { generator: new Generator(0) });
    const t = new RandomAffine({ degrees: 15, translate: [0.1, 0.1], scale: [0.9, 1.1], shear: 5 });
    const a = t.apply(x, new Generator(1));
    expect(a.shape).toEqual([1, 28, 28]);
    expect(a.toArray()).toEqual(t.apply(x, new Generator(1)).toArray());
    expect(a.toArray()).not.toEqual(x.toArray());
  });

  it('the identity warp returns the same pixels', () => {
    const x = rand([2, 6, 7], { dtype: 'float64' });
    expect(new RandomAffine().apply(x).toArray()).toEqual(x.toArray());
  });

  it('validates options', () => {
    expect(() => new RandomAffine({ translate: [1.5, 0] })).toThrow(
      /RandomAffine: translate must be \[fx, fy\]/,
    );
    expect(() => new RandomAffine({ scale: [0, 1] })).toThrow(
      /RandomAffine: scale must be \[min, max\] with 0 < min/,
    );
    expect(() => new RandomAffine({ shear: 95 })).toThrow(/RandomAffine: shear must lie in \(-90, 90\)/);
  });
});

describe('RandomCrop', () => {
  it('with padding keeps the size and crops a window of the padded image', () => {
    const x = grid(6, 6);
    const t = new RandomCrop(6, { padding: 2, fill: -1 });
    const padded = (i: number, j: number): number =>
      i >= 2 && i < 8 && j >= 2 && j < 8 ? (i - 2) * 6 + (j - 2) : -1;
    const seen = new Set<string>();
    for (let s = 0; s < 20; s++) {
      const y = t.apply(x, new Generator(s));
      expect(y.shape).toEqual([6, 6]);
      const a = y.toArray() as number[][];
      let found = '';
      for (let top = 0; top <= 4 && !found; top++) {
        for (let left = 0; left <= 4 && !found; left++) {
          if (a.every((row, i) => row.every((v, j) => v === padded(top + i, left + j))))
            found = `${top},${left}`;
        }
      }
      expect(found).not.toBe('');
      seen.add(found);
    }
    expect(seen.size).toBeGreaterThan(5);
  });

  it('crops smaller windows of [C,H,W] images and pads if needed', () => {
    const x = rand([3, 10, 8]);
    const y = new RandomCrop([4, 5]).apply(x, new Generator(0));
    expect(y.shape).toEqual([3, 4, 5]);
    const z = new RandomCrop(12, { padIfNeeded: true }).apply(x, new Generator(0));
    expect(z.shape).toEqual([3, 12, 12]);
    const asym = new RandomCrop([3, 3], { padding: [1, 0, 0, 2] }).apply(grid(2, 2), new Generator(4));
    expect(asym.shape).toEqual([3, 3]);
  });

  it('reports a crop larger than the image and bad options', () => {
    expect(() => new RandomCrop(5).apply(zeros([3, 4, 4]))).toThrow(
      /RandomCrop: crop size \[5, 5\] is larger than the padded image \[4, 4\] \(input \[3,4,4\]\)/,
    );
    expect(() => new RandomCrop(0)).toThrow(/RandomCrop: size must be a positive integer/);
    expect(() => new RandomCrop(3, { padding: [1, 2, 3] })).toThrow(/RandomCrop: padding must be/);
  });
});

describe('RandomResizedCrop', () => {
  it('with the full image and ratio 1 is the identity', () => {
    const x = rand([2, 6, 6], { dtype: 'float64' });
    const y = new RandomResizedCrop(6, { scale: [1, 1], ratio: [1, 1] }).apply(x, new Generator(0));
    close(y, x.toArray() as number[][][]);
  });

  it('halving the full image averages 2x2 blocks (bilinear, align_corners=False)', () => {
    const x = grid(4, 4);
    const y = new RandomResizedCrop(2, { scale: [1, 1], ratio: [1, 1] }).apply(x, new Generator(0));
    close(y, [
      [2.5, 4.5],
      [10.5, 12.5],
    ]);
    const n = new RandomResizedCrop(2, { scale: [1, 1], ratio: [1, 1], interpolation: 'nearest' }).apply(x);
    expect(n.toArray()).toEqual([
      [0, 2],
      [8, 10],
    ]);
  });

  it('outputs the requested size from random windows, repeatably', () => {
    const x = rand([1, 28, 28], { generator: new Generator(0) });
    const t = new RandomResizedCrop([20, 24], { scale: [0.5, 1] });
    const a = t.apply(x, new Generator(3));
    expect(a.shape).toEqual([1, 20, 24]);
    expect(a.toArray()).toEqual(t.apply(x, new Generator(3)).toArray());
    expect(a.toArray()).not.toEqual(t.apply(x, new Generator(4)).toArray());
    // impossible ratios fall back to a centre crop
    expect(new RandomResizedCrop(5, { ratio: [10, 20] }).apply(x).shape).toEqual([1, 5, 5]);
  });

  it('validates options', () => {
    expect(() => new RandomResizedCrop(4, { scale: [0.5, 0.2] })).toThrow(/RandomResizedCrop: scale must be/);
    expect(() => new RandomResizedCrop(4, { ratio: [0, 1] })).toThrow(/RandomResizedCrop: ratio must be/);
  });
});

describe('flips', () => {
  it('flip with p = 1, return the input with p = 0', () => {
    const x = rand([2, 3, 4]);
    expect(new RandomHorizontalFlip(1).apply(x).toArray()).toEqual(flip(x, -1).toArray());
    expect(new RandomVerticalFlip(1).apply(x).toArray()).toEqual(flip(x, -2).toArray());
    expect(new RandomHorizontalFlip(0).apply(x)).toBe(x);
    expect(() => new RandomHorizontalFlip(2)).toThrow(
      /RandomHorizontalFlip: probability p must be in \[0, 1\]/,
    );
  });

  it('flips about half the time', () => {
    const x = grid(2, 2);
    const t = new RandomHorizontalFlip();
    const g = new Generator(0);
    let flipped = 0;
    for (let i = 0; i < 200; i++) if (t.apply(x, g) !== x) flipped++;
    expect(flipped).toBeGreaterThan(70);
    expect(flipped).toBeLessThan(130);
  });
});

describe('Normalize', () => {
  it('standardises each channel', () => {
    const x = tensor([
      [
        [0, 0.5],
        [1, 0.25],
      ],
      [
        [1, 1],
        [0, 0],
      ],
    ]);
    const y = new Normalize([0.5, 0.25], [0.5, 2]).apply(x);
    close(
      y,
      [
        [
          [-1, 0],
          [1, -0.5],
        ],
        [
          [0.375, 0.375],
          [-0.125, -0.125],
        ],
      ],
      1e-7,
    );
    const one = new Normalize(0.1307, 0.3081).apply(tensor([[0.1307, 1]], { dtype: 'float64' }));
    close(one, [[0, (1 - 0.1307) / 0.3081]]);
    expect(one.dtype).toBe('float64');
  });

  it('checks the channel count and std', () => {
    expect(() => new Normalize([0.5, 0.5, 0.5], [1, 1, 1]).apply(zeros([1, 4, 4]))).toThrow(
      /Normalize: 3 mean values for an image with 1 channels \(shape \[1,4,4\]\)/,
    );
    expect(() => new Normalize(0, [1, 0])).toThrow(
      /Normalize: std must be finite and non-zero, got \[1, 0\]/,
    );
  });
});

describe('Compose, toTensor, TransformDataset', () => {
  it('toTensor converts bytes to [C,H,W] floats in [0, 1]', () => {
    const g = toTensor(Uint8Array.from([0, 255, 51, 102, 204, 0]), 2, 3);
    expect(g.shape).toEqual([1, 2, 3]);
    expect(g.dtype).toBe('float32');
    close(
      g,
      [
        [
          [0, 1, 0.2],
          [0.4, 0.8, 0],
        ],
      ],
      1e-7,
    );
    const rgba = toTensor(Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 255]), 1, 2, {
      channels: 4,
      dtype: 'float64',
    });
    expect(rgba.shape).toEqual([4, 1, 2]);
    expect(rgba.toArray()).toEqual([[[1, 0]], [[0, 1]], [[0, 0]], [[1, 1]]]);
    expect(() => toTensor(new Uint8Array(5), 2, 3)).toThrow(
      /toTensor: 5 pixel values do not fit a 2x3 image with 1 channels \(need 6\)/,
    );
  });

  it('Compose chains transforms and plain functions with one generator', () => {
    const t = new Compose([new RandomRotation(20), (x: Tensor) => x.mul(2), new Normalize(0.5, 0.5)]);
    const x = rand([1, 8, 8]);
    const a = t.apply(x, new Generator(1));
    expect(a.shape).toEqual([1, 8, 8]);
    const manual = new Normalize(0.5, 0.5).apply(new RandomRotation(20).apply(x, new Generator(1)).mul(2));
    close(a, manual.toArray() as number[][][], 1e-6);
  });

  it('TransformDataset augments images, keeps labels and shapes', () => {
    const images = rand([6, 1, 12, 12], { generator: new Generator(0) });
    const labels = tensor([0, 1, 2, 3, 4, 5]);
    const base = new TensorDataset(images, labels);
    const aug = new Compose([new RandomRotation(25), new RandomCrop(12, { padding: 2 })]);
    const ds = new TransformDataset(base, aug, { generator: new Generator(42) });
    expect(ds.length).toBe(6);
    for (let i = 0; i < 6; i++) {
      const [x, y] = ds.get(i);
      expect(x!.shape).toEqual([1, 12, 12]);
      expect(y!.item()).toBe(i);
      expect(x!.toArray()).not.toEqual(images.select(0, i).toArray());
    }
    // the same seed gives the same augmented epoch
    const epoch = (seed: number): unknown[] => {
      const d = new TransformDataset(base, aug, { generator: new Generator(seed) });
      return Array.from({ length: 6 }, (_, i) => d.get(i)[0]!.toArray());
    };
    expect(epoch(5)).toEqual(epoch(5));
    expect(epoch(5)).not.toEqual(epoch(6));
    // batching augmented samples through a DataLoader
    const loader = new data.DataLoader(ds, { batchSize: 4 });
    const [[xb, yb]] = Array.from(loader);
    expect(xb!.shape).toEqual([4, 1, 12, 12]);
    expect(yb!.toArray()).toEqual([0, 1, 2, 3]);
  });

  it('TransformDataset applies a target transform and works on tensor samples', () => {
    const base = new TensorDataset(zeros([2, 2, 2]), tensor([1, 2]));
    const ds = new TransformDataset(base, null, { targetTransform: (y) => (y as Tensor).add(10) });
    expect(ds.get(1)[1]!.item()).toBe(12);
    const plain: data.Dataset<Tensor> = { length: 1, get: () => grid(2, 2) };
    const flipped = new TransformDataset(plain, new RandomHorizontalFlip(1));
    expect(flipped.get(0).toArray()).toEqual([
      [1, 0],
      [3, 2],
    ]);
    const bad: data.Dataset<number[]> = { length: 1, get: () => [1, 2] };
    expect(() => new TransformDataset(bad, new RandomHorizontalFlip(1)).get(0)).toThrow(
      /TransformDataset: item 0 of sample 0 is not a Tensor/,
    );
    expect(() => flipped.get(1)).toThrow(/TransformDataset: index 1 is out of range/);
    expect(() => new Normalize(0, 1).apply(zeros([2, 2], { dtype: 'int32' }))).toThrow(DTypeError);
    expect(() => new RandomCrop(2, { fill: Number.NaN })).toThrow(ValueError);
  });
});

describe('PyTorch references (affine_grid + grid_sample, interpolate)', () => {
  it('warps and resizes like PyTorch', () => {
    const n = checkReference(
      'data_transforms',
      {
        affine: ([x], kw) => {
          const k = kw as {
            angle: number;
            scale: number;
            shear: number;
            fill: number;
            mode: 'bilinear' | 'nearest';
          };
          return new RandomAffine({
            degrees: [k.angle, k.angle],
            scale: [k.scale, k.scale],
            shear: [k.shear, k.shear],
            fill: k.fill,
            interpolation: k.mode,
          }).apply(x as Tensor, new Generator(0));
        },
        resize: ([x], kw) => {
          const k = kw as { size: [number, number]; mode: 'bilinear' | 'nearest' };
          return new RandomResizedCrop(k.size, { scale: [1, 1], ratio: [1, 1], interpolation: k.mode }).apply(
            x as Tensor,
            new Generator(0),
          );
        },
      },
      { atol: 1e-10, rtol: 1e-10 },
    );
    expect(n).toBe(8);
  });
});
