/**
 * Micro benchmark of the CPU GEMM kernel: `npx tsx bench/gemm-micro.ts [sizes...] [--reps N]`.
 *
 * Times square `gemm(n, n, n)` products (row-major A and B, overwrite C) in float32 and float64 and prints
 * the median GFLOP/s (2 n^3 flops per product) over several timed repeats after a warm-up run, both by
 * wall-clock time and by this process's CPU time (the latter is less disturbed by other processes on a busy
 * machine). Not a test: timings depend on the machine and its load, so run it a few times.
 * @module
 */
import { type FloatArray, gemm } from '../src/backends/cpu/gemm.js';

const argv = process.argv.slice(2);
const repsAt = argv.indexOf('--reps');
const repsArg = repsAt >= 0 ? Number(argv[repsAt + 1]) : 0;
const sizeArgs = argv.filter((s, i) => /^\d+$/.test(s) && (repsAt < 0 || i !== repsAt + 1)).map(Number);
const sizes = sizeArgs.length > 0 ? sizeArgs : [128, 512, 1024];

/** Deterministic uniform values in [-1, 1) (mulberry32). */
function fillRandom(x: FloatArray, seed: number): void {
  let s = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    x[i] = ((t ^ (t >>> 14)) >>> 0) / 2147483648 - 1;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;

interface Timing {
  /** Median GFLOP/s by wall-clock time. */
  wall: number;
  /** Median GFLOP/s by this process's CPU time (robust to other processes competing for the cores). */
  cpu: number;
  /** Slowest and fastest wall-clock repeat. */
  spread: [number, number];
  reps: number;
}

/** Median GFLOP/s of `gemm(n, n, n)` over the timed repeats. */
function time(Ctor: Ctor, n: number): Timing {
  const a = new Ctor(n * n);
  const b = new Ctor(n * n);
  const c = new Ctor(n * n);
  fillRandom(a, 1);
  fillRandom(b, 2);
  const flops = 2 * n * n * n;
  // About 2 s of work per size and type, at least 5 repeats.
  const reps = repsArg > 0 ? repsArg : Math.max(5, Math.min(200, Math.round(1e10 / flops)));
  gemm(n, n, n, a, 0, n, 1, b, 0, n, 1, c, 0, false);
  gemm(n, n, n, a, 0, n, 1, b, 0, n, 1, c, 0, false);
  const rates: number[] = [];
  const cpuRates: number[] = [];
  for (let r = 0; r < reps; r++) {
    const u0 = process.cpuUsage();
    const t0 = performance.now();
    gemm(n, n, n, a, 0, n, 1, b, 0, n, 1, c, 0, false);
    const ms = performance.now() - t0;
    const u = process.cpuUsage(u0);
    rates.push(flops / ms / 1e6);
    cpuRates.push(flops / ((u.user + u.system) / 1e3) / 1e6);
  }
  return {
    wall: median(rates),
    cpu: median(cpuRates),
    spread: [Math.min(...rates), Math.max(...rates)],
    reps,
  };
}

console.log(`gemm micro benchmark (Node ${process.version}, single thread), GFLOP/s = 2 n^3 / time`);
console.log('dtype      n   GFLOP/s (wall)   GFLOP/s (cpu time)   wall min .. max   repeats');
for (const [name, Ctor] of [
  ['f32', Float32Array],
  ['f64', Float64Array],
] as const) {
  for (const n of sizes) {
    const r = time(Ctor, n);
    console.log(
      `${name}   ${String(n).padStart(6)}   ${r.wall.toFixed(2).padStart(14)}   ${r.cpu.toFixed(2).padStart(18)}   ` +
        `${r.spread[0].toFixed(2).padStart(6)} .. ${r.spread[1].toFixed(2).padEnd(6)}   ${r.reps}`,
    );
  }
}
