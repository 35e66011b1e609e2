/**
 * Micro benchmark of the WebAssembly SIMD SGEMM against the TypeScript GEMM, single thread:
 * `npm run bench:wasm [-- sizes...] [--reps N]` (default sizes 128 512 1024).
 *
 * Rows, all float32 square products C = A B with 2 n^3 flops each:
 * - `ts gemm`: the CPU backend's TypeScript kernel (src/backends/cpu/gemm.ts) on Float32Arrays.
 * - `wasm sgemm`: the WebAssembly kernel on operands already in its linear memory (the kernel alone).
 * - `wasm sgemm B^T`: the same with B read transposed in place (column stride n), i.e. A B^T.
 * - `wasm matmul`: `a.matmul(b)` on the `wasm` backend, which also copies both operands into linear
 *   memory and the product out into a new Float32Array. The last column is its extra time over the kernel
 *   alone, and the time of each part measured on its own: copying A and B in, copying C out into an
 *   existing array, and creating the fresh output array (a page fault per 4 KiB page on first touch, which
 *   every backend pays for a new tensor; it dominates on VMs with page-table isolation).
 * Each row prints the median GFLOP/s by wall-clock time and by this process's CPU time (the latter is less
 * disturbed by other processes on a shared machine) over repeats after warm-up runs (V8 compiles wasm
 * with its baseline compiler first and tiers up to TurboFan while it runs). Compare rows from the same
 * run; check `uptime` first, timings on a busy machine are lower.
 * @module
 */
import { loadavg } from 'node:os';
import { gemm } from '../src/backends/cpu/gemm.js';
import { HEAP_BASE, WasmKernels } from '../src/backends/wasm/kernels.js';
import { getBackend, setBackend, Tensor } from '../src/index.js';
import { fillRandom, parseMicroArgs, timeRepeats } from './micro.js';
import { median } from './protocol.js';

const { sizes, reps: repsArg } = parseMicroArgs(process.argv.slice(2));

interface Timing {
  /** Median milliseconds per run (wall clock). */
  ms: number;
  /** Median GFLOP/s by wall-clock time and by CPU time. */
  wall: number;
  cpu: number;
}

/** Times `run` (2 n^3 flops): warm-up, then about 1.5 s of repeats (at least 5). */
function time(n: number, run: () => void): Timing {
  const flops = 2 * n * n * n;
  const t0 = performance.now();
  run();
  run();
  run();
  const warm = (performance.now() - t0) / 3;
  const reps = repsArg > 0 ? repsArg : Math.max(5, Math.min(300, Math.round(1500 / Math.max(warm, 0.01))));
  const t = timeRepeats(reps, run);
  const mMs = median(t.wall);
  return { ms: mMs, wall: flops / mMs / 1e6, cpu: flops / median(t.cpu) / 1e6 };
}

const kernels = new WasmKernels();
setBackend('wasm');
if (getBackend().name !== 'wasm') throw new Error('wasm backend unavailable (no WebAssembly SIMD?)');

console.log(
  `wasm SGEMM vs TypeScript GEMM (Node ${process.version}, one thread, float32, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')})`,
);
console.log('   n  row                GFLOP/s wall   GFLOP/s cpu   ms/run  overhead over the kernel alone');
for (const n of sizes) {
  const a = new Float32Array(n * n);
  const b = new Float32Array(n * n);
  const c = new Float32Array(n * n);
  fillRandom(a, 1);
  fillRandom(b, 2);
  const print = (name: string, t: Timing, extra = ''): void => {
    console.log(
      `${String(n).padStart(4)}  ${name.padEnd(18)} ${t.wall.toFixed(1).padStart(12)} ${t.cpu.toFixed(1).padStart(13)} ${t.ms.toFixed(2).padStart(8)}  ${extra}`,
    );
  };
  print(
    'ts gemm',
    time(n, () => gemm(n, n, n, a, 0, n, 1, b, 0, n, 1, c, 0, false)),
  );
  // Operands resident in linear memory: A, B, C, workspace.
  const bytes = 4 * n * n;
  const aAt = HEAP_BASE;
  const bAt = aAt + bytes;
  const cAt = bAt + bytes;
  const wAt = (cAt + bytes + 15) & ~15;
  const heap = kernels.reserve(wAt + kernels.sgemmWorkspace(n, n, n));
  heap.set(a, aAt >> 2);
  heap.set(b, bAt >> 2);
  const kernel = time(n, () => kernels.sgemm(n, n, n, aAt, n, 1, bAt, n, 1, cAt, n, false, wAt));
  print('wasm sgemm', kernel);
  print(
    'wasm sgemm B^T',
    time(n, () => kernels.sgemm(n, n, n, aAt, n, 1, bAt, 1, n, cAt, n, false, wAt)),
  );
  const backend = getBackend();
  const ta = new Tensor(backend.fromArray(a.slice()), [n, n]);
  const tb = new Tensor(backend.fromArray(b.slice()), [n, n]);
  const full = time(n, () => {
    ta.matmul(tb);
  });
  // What the backend adds to the kernel: copying A and B in, copying C out, and the fresh output array
  // (whose pages the OS maps on first touch; every backend pays that for a new tensor).
  const out = new Float32Array(n * n);
  const copyIn = time(n, () => {
    heap.set(a, aAt >> 2);
    heap.set(b, bAt >> 2);
  }).ms;
  const copyOut = time(n, () => out.set(heap.subarray(cAt >> 2, (cAt >> 2) + n * n))).ms;
  // Like the products of a loop: earlier outputs are garbage not yet collected, so new ones get fresh pages.
  const ring: Float32Array[] = [];
  const fresh = time(n, () => {
    ring.push(out.slice());
    if (ring.length > 4) ring.shift();
  }).ms;
  const extra = Math.max(0, full.ms - kernel.ms);
  print(
    'wasm matmul',
    full,
    `+${extra.toFixed(2)} ms (${((100 * extra) / full.ms).toFixed(0)}%): copy in ${copyIn.toFixed(2)}, ` +
      `out ${copyOut.toFixed(2)}, out into a new array ${fresh.toFixed(2)} ms`,
  );
  // The two results agree (float32 sums in different orders).
  const got = ta.matmul(tb).dataSync();
  let worst = 0;
  for (let i = 0; i < n * n; i++) worst = Math.max(worst, Math.abs(got[i]! - c[i]!));
  if (worst > 1e-3 * Math.sqrt(n)) throw new Error(`wasm and ts products differ by ${worst}`);
}
