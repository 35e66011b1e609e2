// One chunk of a job split over threads. The job is a block of i32 words in linear memory written by
// the caller (src/backends/wasm/pool.ts, JOB offsets); every thread that claims chunk `i` calls
// `runChunk(job, i, work)` with its own workspace. KIND 0 is a (batched) SGEMM whose parameters are the
// job words themselves (`sgemmChunk`); kinds 1-3 are conv2d jobs (assembly/conv.ts) whose arguments are
// in the block at ARGS. Plain loads only, so this file compiles into both the single-threaded and the
// shared-memory build.

import { convChunk } from './conv';
import { sgemm } from './gemm';

/** Word offsets of the job block (kept in sync with JOB_* in src/backends/wasm/pool.ts). */
// @ts-ignore: decorator
@inline const M: i32 = 0;
// @ts-ignore: decorator
@inline const N: i32 = 1;
// @ts-ignore: decorator
@inline const K: i32 = 2;
// @ts-ignore: decorator
@inline const A: i32 = 3;
// @ts-ignore: decorator
@inline const A_RS: i32 = 4;
// @ts-ignore: decorator
@inline const A_CS: i32 = 5;
// @ts-ignore: decorator
@inline const B: i32 = 6;
// @ts-ignore: decorator
@inline const B_RS: i32 = 7;
// @ts-ignore: decorator
@inline const B_CS: i32 = 8;
// @ts-ignore: decorator
@inline const C: i32 = 9;
// @ts-ignore: decorator
@inline const LDC: i32 = 10;
// @ts-ignore: decorator
@inline const ACC: i32 = 11;
// @ts-ignore: decorator
@inline const A_BS: i32 = 12;
// @ts-ignore: decorator
@inline const B_BS: i32 = 13;
// @ts-ignore: decorator
@inline const C_BS: i32 = 14;
// @ts-ignore: decorator
@inline const BATCH: i32 = 15;
// @ts-ignore: decorator
@inline const MODE: i32 = 16;
// @ts-ignore: decorator
@inline const SIZE: i32 = 17;
// @ts-ignore: decorator
@inline const KIND: i32 = 18;
// @ts-ignore: decorator
@inline const ARGS: i32 = 19;

function word(job: usize, w: i32): i32 {
  return load<i32>(job + <usize>(w << 2));
}

/**
 * Runs chunk `i` of the job at `job`. MODE 0: chunk i is the batch entries [i*SIZE, (i+1)*SIZE) (whole
 * products); MODE 1: rows [i*SIZE, (i+1)*SIZE) of C; MODE 2: columns [i*SIZE, (i+1)*SIZE) of C. Modes 1 and
 * 2 run that block of every product of the batch in turn; with C_BS = 0 those all go to the same C and are
 * summed (the first one overwrites unless ACC). `work` needs `sgemmWorkspace` of the chunk's product.
 */
export function sgemmChunk(job: usize, i: i32, work: usize): void {
  const m = word(job, M);
  const n = word(job, N);
  const k = word(job, K);
  const a = <usize>word(job, A);
  const aRs = word(job, A_RS);
  const aCs = word(job, A_CS);
  const b = <usize>word(job, B);
  const bRs = word(job, B_RS);
  const bCs = word(job, B_CS);
  const c = <usize>word(job, C);
  const ldc = word(job, LDC);
  const acc = word(job, ACC) != 0;
  const aBs = word(job, A_BS);
  const bBs = word(job, B_BS);
  const cBs = word(job, C_BS);
  const batch = word(job, BATCH);
  const mode = word(job, MODE);
  const size = word(job, SIZE);
  if (mode == 1 || mode == 2) {
    const r0 = mode == 1 ? i * size : 0;
    const j0 = mode == 2 ? i * size : 0;
    const rows = mode == 1 ? min(size, m - r0) : m;
    const cols = mode == 2 ? min(size, n - j0) : n;
    const a0 = a + <usize>((r0 * aRs) << 2);
    const b0 = b + <usize>((j0 * bCs) << 2);
    const c0 = c + <usize>((r0 * ldc + j0) << 2);
    for (let q = 0; q < batch; q++) {
      sgemm(
        rows,
        cols,
        k,
        a0 + <usize>((q * aBs) << 2),
        aRs,
        aCs,
        b0 + <usize>((q * bBs) << 2),
        bRs,
        bCs,
        c0 + <usize>((q * cBs) << 2),
        ldc,
        acc || (cBs == 0 && q > 0),
        work,
      );
    }
    return;
  }
  const end = min(batch, (i + 1) * size);
  for (let q = i * size; q < end; q++) {
    sgemm(m, n, k, a + <usize>((q * aBs) << 2), aRs, aCs, b + <usize>((q * bBs) << 2), bRs, bCs, c + <usize>((q * cBs) << 2), ldc, acc, work);
  }
}

/** Runs chunk `i` of the job at `job`: an SGEMM chunk (KIND 0) or a conv2d chunk (KIND 1-3, `convChunk`). */
export function runChunk(job: usize, i: i32, work: usize): void {
  const kind = word(job, KIND);
  if (kind == 0) sgemmChunk(job, i, work);
  else convChunk(<usize>word(job, ARGS), kind, i, work);
}
