/**
 * Helpers shared by the single-kernel micro benchmarks (gemm-micro.ts, wasm-gemm.ts): their command line,
 * deterministic operands and the timed-repeat loop.
 * @module
 */

/** The command line of a micro benchmark: `[sizes...] [--reps N]`. */
export interface MicroArgs {
  /** Square sizes n to time (the given ones, or the defaults). */
  sizes: number[];
  /** Timed repeats per row; 0: chosen by the benchmark. */
  reps: number;
}

/** Parses `[sizes...] [--reps N]` (sizes default to 128 512 1024). */
export function parseMicroArgs(argv: readonly string[]): MicroArgs {
  const repsAt = argv.indexOf('--reps');
  const reps = repsAt >= 0 ? Number(argv[repsAt + 1]) : 0;
  const sizeArgs = argv.filter((s, i) => /^\d+$/.test(s) && (repsAt < 0 || i !== repsAt + 1)).map(Number);
  return { sizes: sizeArgs.length > 0 ? sizeArgs : [128, 512, 1024], reps };
}

/** Deterministic uniform values in [-1, 1) (mulberry32). */
export function fillRandom(x: Float32Array | Float64Array, seed: number): void {
  let s = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    x[i] = ((t ^ (t >>> 14)) >>> 0) / 2147483648 - 1;
  }
}

/** Per-repeat times of a timed loop, in milliseconds. */
export interface RepeatTimes {
  /** Wall-clock time of each repeat. */
  wall: number[];
  /** This process's CPU time (user + system) of each repeat. */
  cpu: number[];
}

/** Runs `run` `reps` times, timing each call by wall clock and by this process's CPU time. */
export function timeRepeats(reps: number, run: () => void): RepeatTimes {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < reps; r++) {
    const u0 = process.cpuUsage();
    const t0 = performance.now();
    run();
    wall.push(performance.now() - t0);
    const u = process.cpuUsage(u0);
    cpu.push((u.user + u.system) / 1e3);
  }
  return { wall, cpu };
}
