import { afterEach, describe, expect, it } from 'vitest';
import {
  AnomalyError,
  detectAnomaly,
  enableGrad,
  isAnomalyEnabled,
  isGradEnabled,
  noGrad,
  pow,
  setGradEnabled,
  type Tensor,
  tensor,
} from '../../src/index.js';

const f64 = (data: number[], requiresGrad = true): Tensor => tensor(data, { dtype: 'float64', requiresGrad });

afterEach(() => {
  setGradEnabled(true);
  detectAnomaly(false);
});

describe('noGrad / enableGrad', () => {
  it('noGrad stops recording and returns the function value', () => {
    const x = f64([1, 2]);
    const y = noGrad(() => x.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(isGradEnabled()).toBe(true);
  });

  it('nests: enableGrad inside noGrad records again, and both restore the outer mode', () => {
    const x = f64([1, 2]);
    noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      const inner = enableGrad(() => {
        expect(isGradEnabled()).toBe(true);
        return noGrad(() => x.mul(2)).add(x);
      });
      expect(inner.requiresGrad).toBe(true);
      expect(isGradEnabled()).toBe(false);
      expect(x.mul(3).requiresGrad).toBe(false);
    });
    expect(isGradEnabled()).toBe(true);
  });

  it('restores the mode when the function throws', () => {
    expect(() =>
      noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
    setGradEnabled(false);
    expect(() =>
      enableGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isGradEnabled()).toBe(false);
  });

  it('setGradEnabled switches globally', () => {
    const x = f64([1]);
    setGradEnabled(false);
    expect(x.mul(2).requiresGrad).toBe(false);
    setGradEnabled(true);
    expect(x.mul(2).requiresGrad).toBe(true);
  });

  it('a manual SGD step under noGrad leaves the parameter a leaf', () => {
    let w = f64([1, 2]);
    w.mul(w).sum().backward();
    w = noGrad(() => w.sub(w.grad!.mul(0.25))).requiresGrad_();
    expect(w.isLeaf).toBe(true);
    expect(Array.from(w.dataSync())).toEqual([0.5, 1]);
  });
});

describe('detectAnomaly', () => {
  it('names the op whose forward produced NaN (log of a negative number)', () => {
    const x = f64([-1, 2]);
    expect(() => detectAnomaly(() => x.log())).toThrow(AnomalyError);
    expect(() => detectAnomaly(() => x.log())).toThrow(/Log forward produced NaN \(shape \[2\], element 0\)/);
    // off: NaN passes silently
    expect(Number.isNaN(x.log().dataSync()[0]!)).toBe(true);
  });

  it('names the op whose backward produced Inf (sqrt at 0)', () => {
    const x = f64([0, 4]);
    const y = x.sqrt().sum();
    expect(() => detectAnomaly(() => y.backward())).toThrow(AnomalyError);
    const x2 = f64([0, 4]);
    expect(() => detectAnomaly(() => x2.sqrt().sum().backward())).toThrow(
      /Sqrt backward \(gradient for input 0\) produced Inf \(shape \[2\], element 0\)/,
    );
    // without anomaly mode the Inf reaches .grad
    const x3 = f64([0, 4]);
    x3.sqrt().sum().backward();
    expect(x3.grad!.dataSync()[0]).toBe(Number.POSITIVE_INFINITY);
  });

  it('does not flag intermediate values a backward formula masks (pow at 0)', () => {
    const a = f64([0, 2]);
    const b = f64([2, 2]);
    detectAnomaly(() => pow(a, b).sum().backward());
    expect(Array.from(a.grad!.dataSync())).toEqual([0, 4]);
    expect(b.grad!.dataSync()[0]).toBe(0);
  });

  it('can be switched on and off with a boolean, and the function form restores it', () => {
    expect(isAnomalyEnabled()).toBe(false);
    detectAnomaly(true);
    expect(isAnomalyEnabled()).toBe(true);
    expect(() => f64([-1]).log()).toThrow(/Log forward produced NaN/);
    detectAnomaly(false);
    expect(() => detectAnomaly(() => f64([-1]).log())).toThrow(AnomalyError);
    expect(isAnomalyEnabled()).toBe(false);
    expect(detectAnomaly(() => 5)).toBe(5);
  });
});
