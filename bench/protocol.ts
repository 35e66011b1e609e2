/**
 * The timing protocol shared by the per-framework bench scripts (see /work/shared/BENCHMARKS.md):
 * warm up, calibrate the number of calls per repeat so that a repeat lasts about `targetS`, time several
 * repeats and report the median time per call with the min and max over repeats.
 * Each framework script runs in its own child process and prints one JSON object per line on stdout.
 * @module
 */

/** Knobs of {@link measure}; {@link protocolFor} gives the full and the `--quick` set. */
export interface Protocol {
  /** Wanted length of one timed repeat, in seconds. */
  targetS: number;
  /** Number of timed repeats (lowered to fit `maxTotalS`, never below `minReps`). */
  reps: number;
  /** Fewest timed repeats. */
  minReps: number;
  /** Time budget of the timed repeats of one workload, in seconds. */
  maxTotalS: number;
  /** Warm-up: at least this many calls ... */
  warmupCalls: number;
  /** ... and at least this long, in seconds ... */
  warmupMinS: number;
  /** ... but stop once this long has been spent (after at least one call), in seconds. */
  warmupMaxS: number;
}

/** The protocol of a full run, or of a `--quick` smoke-test run (fewer, shorter repeats). */
export function protocolFor(quick: boolean): Protocol {
  return quick
    ? { targetS: 0.05, reps: 3, minReps: 3, maxTotalS: 1, warmupCalls: 1, warmupMinS: 0.2, warmupMaxS: 0.5 }
    : { targetS: 0.25, reps: 7, minReps: 3, maxTotalS: 12, warmupCalls: 3, warmupMinS: 0.5, warmupMaxS: 2 };
}

/** What {@link measure} found: seconds per call. */
export interface Timing {
  /** Median over repeats of the mean time per call. */
  med: number;
  /** Fastest repeat (time per call). */
  min: number;
  /** Slowest repeat (time per call). */
  max: number;
  /** Calls per repeat. */
  inner: number;
  /** Timed repeats. */
  reps: number;
  /** Calls made during warm-up. */
  warmup: number;
}

const now = (): number => performance.now() / 1e3;

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Times `fn` (which must do the whole job synchronously, result read back included) with protocol `p`. */
export function measure(fn: () => void, p: Protocol): Timing {
  // Warm-up; the last warm-up call (the most warmed-up one) calibrates the repeat size.
  const w0 = now();
  let calls = 0;
  let last = 0;
  for (;;) {
    const t0 = now();
    fn();
    last = now() - t0;
    calls++;
    const spent = now() - w0;
    if (spent >= p.warmupMaxS) break;
    if (calls >= p.warmupCalls && spent >= p.warmupMinS) break;
  }
  const dt = Math.max(last, 1e-7);
  const inner = Math.max(1, Math.round(p.targetS / dt));
  const reps = Math.max(p.minReps, Math.min(p.reps, Math.floor(p.maxTotalS / (inner * dt))));
  const perCall: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = now();
    for (let i = 0; i < inner; i++) fn();
    perCall.push((now() - t0) / inner);
  }
  return {
    med: median(perCall),
    min: Math.min(...perCall),
    max: Math.max(...perCall),
    inner,
    reps,
    warmup: calls,
  };
}

/** How a row is reported: a time in ms, or GFLOP/s computed from `flops` per call. */
export type Metric = { unit: 'ms' } | { unit: 'GFLOP/s'; flops: number };

/** One JSON line printed by a framework script. */
export type BenchLine =
  | { kind: 'info'; framework: string; version: string; details: Record<string, string> }
  | {
      kind: 'row';
      framework: string;
      id: string;
      unit: Metric['unit'];
      /** GFLOP/s at the median time, or the median in ms. */
      value: number;
      /** GFLOP/s at the slowest and fastest repeat, or the min and max in ms. */
      lo: number;
      hi: number;
      medianMs: number;
      inner: number;
      reps: number;
      warmup: number;
    }
  | { kind: 'skip'; framework: string; id: string; reason: string }
  | { kind: 'check'; framework: string; name: string; ok: boolean; detail: string };

/** Prints one JSON line on stdout. */
export function emit(line: BenchLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** Turns a timing into a result line. */
export function rowOf(framework: string, id: string, metric: Metric, t: Timing): BenchLine {
  const r = (x: number): number => Number(x.toPrecision(5));
  const base = { kind: 'row' as const, framework, id, medianMs: r(t.med * 1e3) };
  const extra = { inner: t.inner, reps: t.reps, warmup: t.warmup };
  if (metric.unit === 'ms') {
    return { ...base, unit: 'ms', value: r(t.med * 1e3), lo: r(t.min * 1e3), hi: r(t.max * 1e3), ...extra };
  }
  const g = (s: number): number => r(metric.flops / s / 1e9);
  return { ...base, unit: 'GFLOP/s', value: g(t.med), lo: g(t.max), hi: g(t.min), ...extra };
}

/** Command-line options understood by the framework scripts (passed through by run.ts). */
export interface BenchArgs {
  /** `--quick`: fewer, shorter repeats. */
  quick: boolean;
  /** `--only a,b`: run only the workloads whose id starts with one of these prefixes. */
  only: string[] | null;
  /** `--rounds N` (run.ts only): alternate the two framework processes N times (default 2, 1 with --quick). */
  rounds: number;
}

/** Parses `--quick`, `--only <prefixes>` and `--rounds <N>` from `argv`. */
export function parseArgs(argv: readonly string[]): BenchArgs {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const onlyArg = value('--only');
  const only = onlyArg ? onlyArg.split(',').filter((s) => s.length > 0) : null;
  const roundsArg = value('--rounds');
  const rounds = roundsArg === undefined ? (quick ? 1 : 2) : Number.parseInt(roundsArg, 10);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`bench: --rounds needs a positive integer, got ${roundsArg}`);
  return { quick, only, rounds };
}

/** True when workload `id` is selected by `--only` (or no filter was given). */
export function selected(args: BenchArgs, id: string): boolean {
  return args.only === null || args.only.some((p) => id.startsWith(p));
}

/** The workloads, in table order: id, human-readable description, metric. Both scripts use these ids. */
export const WORKLOADS: readonly { id: string; label: string; metric: Metric }[] = [
  { id: 'matmul-128', label: 'matmul 128×128 · 128×128', metric: { unit: 'GFLOP/s', flops: 2 * 128 ** 3 } },
  { id: 'matmul-512', label: 'matmul 512×512 · 512×512', metric: { unit: 'GFLOP/s', flops: 2 * 512 ** 3 } },
  {
    id: 'matmul-1024',
    label: 'matmul 1024×1024 · 1024×1024',
    metric: { unit: 'GFLOP/s', flops: 2 * 1024 ** 3 },
  },
  {
    id: 'conv2d-fwd-bwd',
    label: 'conv2d fwd+bwd (dx, dw): x 64×1×28×28, w 32×1×5×5, stride 1, pad 2, no bias',
    metric: { unit: 'ms' },
  },
  { id: 'add-1M', label: 'add, two 1M-element tensors', metric: { unit: 'ms' } },
  { id: 'mul-1M', label: 'mul, two 1M-element tensors', metric: { unit: 'ms' } },
  { id: 'exp-1M', label: 'exp, 1M elements', metric: { unit: 'ms' } },
  { id: 'softmax-256x1000', label: 'softmax over dim 1 of [256, 1000]', metric: { unit: 'ms' } },
];

/** The metric of workload `id`. */
export function metricOf(id: string): Metric {
  const w = WORKLOADS.find((x) => x.id === id);
  if (!w) throw new Error(`bench: unknown workload ${id}`);
  return w.metric;
}

/** Number of elements in the elementwise workloads. */
export const ELEMENTWISE_N = 1_000_000;
