import { describe, expect, it } from 'vitest';
import {
  bernoulli,
  defaultGenerator,
  Generator,
  manualSeed,
  rand,
  randint,
  randn,
  randperm,
  ValueError,
} from '../../src/index.js';

function stats(data: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i]!;
  const mean = s / data.length;
  let v = 0;
  for (let i = 0; i < data.length; i++) v += (data[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(v / (data.length - 1)) };
}

describe('manualSeed', () => {
  it('makes every random function repeat bit for bit', () => {
    const draw = (): number[][] => [
      Array.from(rand([5]).dataSync()),
      Array.from(randn([5], { dtype: 'float64' }).dataSync()),
      Array.from(randint(0, 100, [5]).dataSync()),
      Array.from(randperm(8).dataSync()),
      Array.from(bernoulli(0.5, { shape: [8] }).dataSync()),
    ];
    manualSeed(42);
    const a = draw();
    manualSeed(42);
    const b = draw();
    expect(b).toEqual(a);
    manualSeed(43);
    expect(draw()).not.toEqual(a);
  });

  it('returns the default generator and gives the same stream as new Generator(seed)', () => {
    expect(manualSeed(7)).toBe(defaultGenerator);
    const x = Array.from(randn([6], { dtype: 'float64' }).dataSync());
    const y = Array.from(randn([6], { dtype: 'float64', generator: new Generator(7) }).dataSync());
    expect(x).toEqual(y);
  });

  it('pins the stream so that a change of algorithm is noticed', () => {
    const g = new Generator(0);
    const first = [g.nextUint32(), g.nextUint32(), g.nextUint32()];
    const again = new Generator(0);
    expect([again.nextUint32(), again.nextUint32(), again.nextUint32()]).toEqual(first);
    // float32 uniforms use 24 bits, so they are exactly representable
    const r = rand([100], { generator: new Generator(9) }).dataSync();
    for (const v of r) expect(Number.isInteger(v * 2 ** 24)).toBe(true);
  });

  it('rejects non-finite seeds', () => {
    expect(() => manualSeed(Number.NaN)).toThrow(ValueError);
    expect(() => manualSeed(Number.POSITIVE_INFINITY)).toThrow(/manualSeed: seed must be a finite number/);
  });

  it('distinguishes seeds that differ only above 32 bits', () => {
    const a = new Generator(1).nextUint32();
    const b = new Generator(1 + 2 ** 32).nextUint32();
    expect(a).not.toBe(b);
  });
});

describe('Generator', () => {
  it('streams are independent of each other and of the default generator', () => {
    manualSeed(0);
    const g1 = new Generator(5);
    const ref = Array.from(rand([4], { generator: new Generator(5) }).dataSync());
    rand([10]); // draws from the default generator do not disturb g1
    const other = new Generator(5);
    rand([3], { generator: other }); // nor do draws from another generator
    expect(Array.from(rand([4], { generator: g1 }).dataSync())).toEqual(ref);
  });

  it('getState/setState round-trips and replays the stream', () => {
    const g = new Generator(11);
    g.random();
    const state = g.getState();
    expect(state).toHaveLength(4);
    const a = Array.from(randn([5], { generator: g }).dataSync());
    g.setState(state);
    const b = Array.from(randn([5], { generator: g }).dataSync());
    expect(b).toEqual(a);
    // state can be moved to another generator
    const h = new Generator(999);
    h.setState(state);
    expect(Array.from(randn([5], { generator: h }).dataSync())).toEqual(a);
    // getState returns a copy
    state[0] = 0;
    expect(h.getState()).not.toEqual(state);
  });

  it('setState validates its input', () => {
    const g = new Generator();
    expect(() => g.setState([1, 2, 3])).toThrow(/Generator.setState: expected 4 unsigned 32-bit integers/);
    expect(() => g.setState([1, 2, 3, -1])).toThrow(ValueError);
    expect(() => g.setState([1, 2, 3, 2 ** 32])).toThrow(ValueError);
  });

  it('randint(low, high) stays in range', () => {
    const g = new Generator(2);
    for (let i = 0; i < 1000; i++) {
      const v = g.randint(-3, 4);
      expect(v).toBeGreaterThanOrEqual(-3);
      expect(v).toBeLessThan(4);
      expect(Number.isInteger(v)).toBe(true);
    }
  });
});

describe('sample statistics (1e5 samples)', () => {
  const n = 100_000;
  it('rand is uniform on [0, 1): mean 1/2, std 1/sqrt(12)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const d = rand([n], { dtype, generator: new Generator(21) }).dataSync();
      const { mean, std } = stats(d);
      expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
      expect(Math.abs(std - 1 / Math.sqrt(12))).toBeLessThan(0.005);
      let below = 0;
      for (const v of d) if (v < 0.25) below++;
      expect(Math.abs(below / n - 0.25)).toBeLessThan(0.01);
    }
  });

  it('randn is standard normal: mean 0, std 1, ~68% within one std', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const d = randn([n], { dtype, generator: new Generator(22) }).dataSync();
      const { mean, std } = stats(d);
      expect(Math.abs(mean)).toBeLessThan(0.015);
      expect(Math.abs(std - 1)).toBeLessThan(0.015);
      let inside = 0;
      for (const v of d) if (Math.abs(v) < 1) inside++;
      expect(Math.abs(inside / n - 0.6827)).toBeLessThan(0.01);
      expect(d.every((v) => Number.isFinite(v))).toBe(true);
    }
  });

  it('randn with an odd count fills the last element', () => {
    const d = randn([3], { dtype: 'float64', generator: new Generator(1) }).dataSync();
    expect(d[2]).not.toBe(0);
  });

  it('randint is uniform over its range', () => {
    const d = randint(0, 10, [n], { generator: new Generator(23) }).dataSync();
    const counts = new Array<number>(10).fill(0);
    for (const v of d) counts[v]!++;
    for (const c of counts) expect(Math.abs(c / n - 0.1)).toBeLessThan(0.006);
  });
});
