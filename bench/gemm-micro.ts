/**
 * Micro benchmark of the CPU GEMM kernel: `npx tsx bench/gemm-micro.ts [sizes...] [--reps N]`.
 *
 * Times square `gemm(n, n, n)` products (row-major A and B, overwrite C) in float32 and float64 and prints
 * the median GFLOP/s (2 n^3 flops per product) over several timed repeats after a warm-up run, both by
 * wall-clock time and by this process's CPU time (the latter is less disturbed by other processes on a busy
 * machine). Not a test: timings depend on the machine and its load, so run it a few times.
 * @module
 */
import { gemm } from '../src/backends/cpu/gemm.js';
import { fillRandom, parseMicroArgs, timeRepeats } from './micro.js';
import { median } from './protocol.js';

const { sizes, reps: repsArg } = parseMicroArgs(process.argv.slice(2));

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
  const t = timeRepeats(reps, () => gemm(n, n, n, a, 0, n, 1, b, 0, n, 1, c, 0, false));
  const rates = t.wall.map((ms) => flops / ms / 1e6);
  const cpuRates = t.cpu.map((ms) => flops / ms / 1e6);
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
