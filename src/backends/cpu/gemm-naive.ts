import type { FloatArray } from '../../core/dtype.js';
export function batchedGemm(
  batch: number,
  m: number,
  n: number,
  k: number,
  a: FloatArray,
  aOff: number,
  aBs: number,
  aRs: number,
  aCs: number,
  b: FloatArray,
  bOff: number,
  bBs: number,
  bRs: number,
  bCs: number,
  c: FloatArray,
  cOff: number,
  acc: boolean,
): void {
  for (let q = 0; q < batch; q++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++)
          s += a[aOff + q * aBs + i * aRs + p * aCs]! * b[bOff + q * bBs + p * bRs + j * bCs]!;
        const o = cOff + q * m * n + i * n + j;
        c[o] = acc ? c[o]! + s : s;
      }
}
