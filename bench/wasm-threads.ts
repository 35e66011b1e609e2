/**
 * Multi-threaded WebAssembly SGEMM against the single-threaded one, in the same process:
 * `npx tsx bench/wasm-threads.ts [sizes...] [--threads 1,2] [--rounds N]` (default sizes 64 96 128 256
 * 512 1024, threads 1 and 2).
 *
 * Each size runs square float32 products a [n, n] x b [n, n] through `wasmMatmul` (what `a.matmul(b)` on
 * the `wasm` backend does: copy both operands into the shared linear memory, multiply, copy the product
 * out) with every thread count in turn, round after round, so that load from other processes hits all
 * thread counts alike; it prints the median GFLOP/s (2 n^3 flops per product, wall clock) of each thread
 * count and the speed-up over the first. Products below PARALLEL_MIN_FLOPS run single-threaded whatever
 * the thread count, so this also shows where splitting starts to pay. Check `uptime` first.
 * @module
 */
import { loadavg } from 'node:os';
import type { View } from '../src/backends/backend.js';
import { CpuStorage } from '../src/backends/cpu/storage.js';
import { createWasmBackend, GemmPool, WasmKernels, wasmMatmul } from '../src/backends/wasm/index.js';
import { PARALLEL_MIN_FLOPS } from '../src/backends/wasm/matmul.js';

const argv = process.argv.slice(2);
function option(name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}
const threadCounts = (option('--threads') ?? '1,2').split(',').map(Number);
const rounds = Number(option('--rounds') ?? 7);
const optionValues = new Set([option('--threads'), option('--rounds')]);
const sizeArgs = argv.filter((s) => /^\d+$/.test(s) && !optionValues.has(s)).map(Number);
const sizes = sizeArgs.length > 0 ? sizeArgs : [64, 96, 128, 256, 512, 1024];

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

const backend = createWasmBackend();
const kernels = new WasmKernels();
const pool = new GemmPool(kernels);
await pool.start(Math.max(...threadCounts) - 1);

function matrix(n: number, seed: number): View {
  const data = new Float32Array(n * n);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37 + seed);
  return {
    storage: new CpuStorage(backend, 'float32', data),
    shape: [1, n, n],
    strides: [n * n, n, 1],
    offset: 0,
  };
}

// Warm-up: V8 runs wasm on its baseline compiler first and tiers up to TurboFan while it runs, and the
// workers' instances tier up separately.
{
  const a = matrix(256, 1);
  const b = matrix(256, 2);
  for (let r = 0; r < 30; r++) for (const t of threadCounts) wasmMatmul(kernels, a, b, pool, t);
}

console.log(
  `wasm SGEMM by thread count (Node ${process.version}, float32, split from ${PARALLEL_MIN_FLOPS} flops, ` +
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')})`,
);
console.log(`   n  ${threadCounts.map((t) => `${t} thr GFLOP/s`.padStart(16)).join('')}  speed-up`);
for (const n of sizes) {
  const a = matrix(n, 1);
  const b = matrix(n, 2);
  const flops = 2 * n * n * n;
  // About 0.3 s per thread count and round at the single-threaded speed (at least 3 products).
  const t0 = performance.now();
  for (let r = 0; r < 3; r++) wasmMatmul(kernels, a, b);
  const each = Math.max(3, Math.round(300 / Math.max((performance.now() - t0) / 3, 0.005) / rounds));
  const times: number[][] = threadCounts.map(() => []);
  for (let r = 0; r < rounds; r++) {
    threadCounts.forEach((t, q) => {
      wasmMatmul(kernels, a, b, pool, t);
      for (let e = 0; e < each; e++) {
        const s = performance.now();
        wasmMatmul(kernels, a, b, pool, t);
        times[q]!.push(performance.now() - s);
      }
    });
  }
  const gflops = times.map((ts) => flops / median(ts) / 1e6);
  console.log(
    `${String(n).padStart(4)}  ${gflops.map((g) => g.toFixed(1).padStart(16)).join('')}  ${(gflops[gflops.length - 1]! / gflops[0]!).toFixed(2)}x`,
  );
}
pool.close();
