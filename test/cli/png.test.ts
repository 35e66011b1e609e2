import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import {
  borderMean,
  decodePngGray,
  encodeGrayPng,
  ImageError,
  isPng,
  toMnistInput,
} from '../../src/cli/png.js';

/** An RGBA PNG of size w x h whose pixel (x, y) is `f(x, y)` = [r, g, b, a] (0-255). */
function rgbaPng(w: number, h: number, f: (x: number, y: number) => number[], colorType: 2 | 6 = 6): Buffer {
  const png = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b, a] = f(x, y);
      png.data.set([r!, g!, b!, a!], 4 * (y * w + x));
    }
  }
  return PNG.sync.write(png, { colorType });
}

/** A bar in the middle third of a square image (the "digit"). */
const inBar = (x: number, y: number, n: number) =>
  x >= n / 3 && x < (2 * n) / 3 && y >= n / 6 && y < (5 * n) / 6;

describe('png: decoding', () => {
  it('recognises the PNG signature', () => {
    expect(isPng(encodeGrayPng([0, 1, 0, 1], 2, 2))).toBe(true);
    expect(isPng(new TextEncoder().encode('GIF89a...'))).toBe(false);
    expect(isPng(new Uint8Array(3))).toBe(false);
  });

  it('round-trips 8-bit gray values through encodeGrayPng', () => {
    const v = [0, 0.2, 0.4, 1, 0.6, 0.8];
    const img = decodePngGray(encodeGrayPng(v, 3, 2));
    expect(img.width).toBe(3);
    expect(img.height).toBe(2);
    Array.from(img.data).forEach((g, i) => {
      expect(g).toBeCloseTo(Math.round(v[i]! * 255) / 255, 5);
    });
  });

  it('converts RGB to gray with the 601 luma weights', () => {
    const img = decodePngGray(
      rgbaPng(3, 1, (x) => [x === 0 ? 255 : 0, x === 1 ? 255 : 0, x === 2 ? 255 : 0, 255], 2),
    );
    expect(Array.from(img.data).map((v) => Number(v.toFixed(3)))).toEqual([0.299, 0.587, 0.114]);
  });

  it('composites transparency over a background that contrasts with the ink', () => {
    // black digit on a transparent background -> black on white
    const dark = decodePngGray(rgbaPng(9, 9, (x, y) => (inBar(x, y, 9) ? [0, 0, 0, 255] : [0, 0, 0, 0])));
    expect(dark.data[0]).toBe(1);
    expect(dark.data[4 * 9 + 4]).toBe(0);
    // white digit on a transparent background -> white on black
    const light = decodePngGray(
      rgbaPng(9, 9, (x, y) => (inBar(x, y, 9) ? [255, 255, 255, 255] : [0, 0, 0, 0])),
    );
    expect(light.data[0]).toBe(0);
    expect(light.data[4 * 9 + 4]).toBe(1);
  });

  it('throws ImageError for data that is not a PNG or is corrupt', () => {
    expect(() => decodePngGray(new TextEncoder().encode('hello'), 'a.png')).toThrow(ImageError);
    expect(() => decodePngGray(new TextEncoder().encode('hello'), 'a.png')).toThrow(
      /a\.png is not a PNG image/,
    );
    const corrupt = new Uint8Array(30);
    corrupt.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(() => decodePngGray(corrupt, 'b.png')).toThrow(/could not decode PNG b\.png/);
  });
});

describe('png: MNIST-style input', () => {
  it('keeps a light-on-dark 28x28 image as it is', () => {
    const v = Array.from({ length: 784 }, (_, i) => (inBar(i % 28, Math.floor(i / 28), 28) ? 1 : 0));
    const img = decodePngGray(encodeGrayPng(v, 28, 28));
    expect(borderMean(img)).toBe(0);
    const { input, inverted } = toMnistInput(img);
    expect(inverted).toBe(false);
    expect(input.shape).toEqual([1, 1, 28, 28]);
    expect(Array.from(input.dataSync())).toEqual(v);
  });

  it('inverts a dark digit on a light background and resizes any size to 28x28', () => {
    for (const [w, h] of [
      [280, 280],
      [40, 30],
      [14, 14],
    ] as const) {
      const png = rgbaPng(
        w,
        h,
        (x, y) =>
          x >= w / 3 && x < (2 * w) / 3 && y >= h / 6 && y < (5 * h) / 6
            ? [20, 20, 20, 255]
            : [240, 240, 240, 255],
        2,
      );
      const { input, inverted } = toMnistInput(decodePngGray(png));
      expect(inverted).toBe(true);
      expect(input.shape).toEqual([1, 1, 28, 28]);
      const d = input.dataSync();
      expect(d[0]!).toBeLessThan(0.1); // background now dark
      expect(d[14 * 28 + 14]!).toBeGreaterThan(0.85); // stroke now light
      for (const x of d) expect(x >= 0 && x <= 1).toBe(true);
    }
  });

  it('a thin stroke survives downscaling from a large image', () => {
    const n = 560;
    const png = rgbaPng(
      n,
      n,
      (x, y) => (Math.abs(x - n / 2) < 10 && y > 50 && y < n - 50 ? [255, 255, 255, 255] : [0, 0, 0, 255]),
      2,
    );
    const d = toMnistInput(decodePngGray(png)).input.dataSync();
    const column = Array.from({ length: 28 }, (_, y) => d[y * 28 + 14]! + d[y * 28 + 13]!);
    expect(Math.max(...column)).toBeGreaterThan(0.5);
  });
});
