/**
 * Reading digit images for `neurite predict`: decodes a PNG (any colour type and bit depth, via
 * pngjs), turns it into one gray channel, and produces an MNIST-style 28x28 input with values in [0, 1]
 * and a light digit on a dark background.
 *
 * The rules, in order:
 * 1. Gray = 0.299 R + 0.587 G + 0.114 B (ITU-R 601 luma), scaled to [0, 1].
 * 2. Transparency: pixels are composited over a background that contrasts with the ink. The ink is
 *    the alpha-weighted mean gray of the image; a dark ink (< 0.5) is put on white, a light ink on black.
 * 3. Polarity: MNIST digits are light on a dark background. If the mean of the image's border pixels
 *    (the outermost row and column on each side) is above 0.5, the background is light, so the image
 *    is inverted (v -> 1 - v).
 * 4. Size: images other than 28x28 are resized with bilinear interpolation (half-pixel centres, like
 *    PyTorch's `interpolate(..., mode='bilinear')`). An image more than twice as large as 28 in a
 *    dimension is first averaged over k x k blocks (k = floor(size / 28)) so thin strokes are not
 *    skipped by the bilinear taps.
 * @module
 */
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { nn, type Tensor, tensor } from '../index.js';

/** The 8-byte signature every PNG file starts with. */
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A PNG that could not be read, or an image that is not a PNG. */
export class ImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageError';
  }
}

/** A decoded gray image: row-major values in [0, 1]. */
export interface GrayImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width * height` values in [0, 1], row by row. */
  data: Float32Array;
}

/** True when `bytes` starts with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= PNG_SIGNATURE.length && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/**
 * Decodes PNG bytes to one gray channel (rules 1 and 2 of the module doc).
 * Throws ImageError for data that is not a PNG or cannot be decoded.
 */
export function decodePngGray(bytes: Uint8Array, name = 'image'): GrayImage {
  if (!isPng(bytes)) throw new ImageError(`${name} is not a PNG image (no PNG signature)`);
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new ImageError(`could not decode PNG ${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const { width, height, data } = png;
  const n = width * height;
  if (n === 0) throw new ImageError(`${name} has no pixels (${width}x${height})`);
  const gray = new Float32Array(n);
  const alpha = new Float32Array(n);
  let inkSum = 0;
  let alphaSum = 0;
  let translucent = false;
  // pngjs always returns 8-bit RGBA (gray and palette images are expanded, 16-bit is scaled down)
  for (let i = 0; i < n; i++) {
    const r = data[4 * i]!;
    const g = data[4 * i + 1]!;
    const b = data[4 * i + 2]!;
    const a = data[4 * i + 3]! / 255;
    const v = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    gray[i] = v;
    alpha[i] = a;
    inkSum += a * v;
    alphaSum += a;
    if (a < 1) translucent = true;
  }
  if (translucent) {
    const ink = alphaSum > 0 ? inkSum / alphaSum : 0;
    const bg = ink < 0.5 ? 1 : 0;
    for (let i = 0; i < n; i++) gray[i] = alpha[i]! * gray[i]! + (1 - alpha[i]!) * bg;
  }
  return { width, height, data: gray };
}

/** Mean of the outermost rows and columns of an image. */
export function borderMean(img: GrayImage): number {
  const { width: w, height: h, data } = img;
  let sum = 0;
  let count = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (y === 0 || y === h - 1 || x === 0 || x === w - 1) {
        sum += data[y * w + x]!;
        count++;
      }
    }
  }
  return sum / count;
}

/**
 * Turns a gray image into an MNIST-style input [1, 1, 28, 28] (float32, light digit on dark
 * background; rules 3 and 4 of the module doc). Returns the tensor and whether it was inverted.
 */
export function toMnistInput(img: GrayImage, size = 28): { input: Tensor; inverted: boolean } {
  const inverted = borderMean(img) > 0.5;
  const values = inverted ? img.data.map((v) => 1 - v) : img.data;
  let x = tensor(values, { shape: [1, 1, img.height, img.width], dtype: 'float32' });
  const kh = Math.max(1, Math.floor(img.height / size));
  const kw = Math.max(1, Math.floor(img.width / size));
  if (img.height > 2 * size || img.width > 2 * size) x = nn.functional.avgPool2d(x, [kh, kw]);
  if (x.shape[2] !== size || x.shape[3] !== size) {
    x = nn.functional.interpolate(x, { size: [size, size], mode: 'bilinear' }).clamp(0, 1);
  }
  return { input: x.contiguous(), inverted };
}

/**
 * Reads a PNG file as an MNIST-style input [1, 1, 28, 28]. Throws ImageError with a one-line message
 * when the file is missing, unreadable, not a PNG or corrupt.
 */
export function readDigitPng(path: string): {
  input: Tensor;
  inverted: boolean;
  width: number;
  height: number;
} {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImageError(`image file not found: ${path}`);
    if (code === 'EISDIR') throw new ImageError(`image path is a directory: ${path}`);
    throw new ImageError(`cannot read image ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const img = decodePngGray(bytes, path);
  return { ...toMnistInput(img), width: img.width, height: img.height };
}

/** Encodes 8-bit gray pixels (`width * height` values in [0, 1]) as an opaque grayscale PNG. */
export function encodeGrayPng(values: ArrayLike<number>, width: number, height: number): Buffer {
  if (values.length !== width * height) {
    throw new ImageError(
      `encodeGrayPng: expected ${width * height} values for ${width}x${height}, got ${values.length}`,
    );
  }
  const png = new PNG({ width, height, colorType: 0 });
  for (let i = 0; i < width * height; i++) {
    const v = Math.round(Math.min(1, Math.max(0, values[i]!)) * 255);
    png.data[4 * i] = v;
    png.data[4 * i + 1] = v;
    png.data[4 * i + 2] = v;
    png.data[4 * i + 3] = 255;
  }
  return PNG.sync.write(png, { colorType: 0 });
}
