/**
 * What the bench scripts share (see /work/shared/BENCHMARKS.md and issue 4): the workloads, the timing
 * protocol (warm up, calibrate the calls per repeat so that a repeat lasts about `targetS`, time several
 * repeats, report the median time per call with the min and max over repeats), the JSON lines every
 * framework script prints on stdout (one object per line; bench/torch.py prints the same shapes), and the
 * command-line options.
 * @module
 */

/** Knobs of {@link measure}; {@link protocolFor} gives the full, `--quick` and `--tiny` sets. */
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
  /**
   * A first call slower than this (seconds) switches to the capped protocol: that call is the whole
   * warm-up and `slowReps` single calls are timed (for TF.js cpu, whose conv2d takes seconds per call).
   */
  slowCallS: number;
  /** Timed single calls in the capped protocol ... */
  slowReps: number;
  /** ... but only one when the first call took longer than this, in seconds (e.g. 93 s TF.js cpu CNN steps). */
  verySlowCallS: number;
}

/** Which protocol a run uses. */
export type Mode = 'full' | 'quick' | 'tiny';

/**
 * The protocol of a full run, of a `--quick` development run (fewer, shorter repeats) and of a `--tiny`
 * plumbing test (tiny shapes, one short repeat: the numbers mean nothing).
 */
export function protocolFor(mode: Mode): Protocol {
  switch (mode) {
    case 'full':
      return {
        targetS: 0.25,
        reps: 7,
        minReps: 3,
        maxTotalS: 6,
        warmupCalls: 3,
        warmupMinS: 0.5,
        warmupMaxS: 2,
        slowCallS: 1.5,
        slowReps: 3,
        verySlowCallS: 15,
      };
    case 'quick':
      return {
        targetS: 0.05,
        reps: 3,
        minReps: 3,
        maxTotalS: 1,
        warmupCalls: 1,
        warmupMinS: 0.1,
        warmupMaxS: 0.5,
        slowCallS: 0.5,
        slowReps: 1,
        verySlowCallS: 15,
      };
    case 'tiny':
      return {
        targetS: 0.002,
        reps: 2,
        minReps: 2,
        maxTotalS: 0.1,
        warmupCalls: 1,
        warmupMinS: 0,
        warmupMaxS: 0.1,
        slowCallS: 0.5,
        slowReps: 1,
        verySlowCallS: 15,
      };
  }
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
  /** True when the first call exceeded `slowCallS` and the capped protocol ran. */
  capped: boolean;
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
    if (calls === 1 && last > p.slowCallS) {
      const reps = last > p.verySlowCallS ? 1 : p.slowReps;
      const perCall: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t1 = now();
        fn();
        perCall.push(now() - t1);
      }
      const med = median(perCall);
      const [min, max] = [Math.min(...perCall), Math.max(...perCall)];
      return { med, min, max, inner: 1, reps, warmup: 1, capped: true };
    }
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
    capped: false,
  };
}

/** Units of the rows: throughputs (higher is better) and times (lower is better). */
export type Unit = 'GFLOP/s' | 'samples/s' | 'steps/s' | 'ms' | 'ms/step';

/** True for units where a higher value is better. */
export function higherIsBetter(unit: Unit): boolean {
  return unit === 'GFLOP/s' || unit === 'samples/s' || unit === 'steps/s';
}

/**
 * The value a row reports for `seconds` per call: GFLOP/s, samples/s and steps/s divide the work of one
 * call (flops, samples, 1) by the time; ms and ms/step are the time itself.
 */
export function unitValue(unit: Unit, work: number, seconds: number): number {
  if (unit === 'GFLOP/s') return work / seconds / 1e9;
  if (unit === 'samples/s' || unit === 'steps/s') return work / seconds;
  return seconds * 1e3;
}

/** Shapes of the workloads: the sizes, or tiny ones for the plumbing test (`--tiny`). */
export interface Sizes {
  /** Square sgemm size. */
  gemmN: number;
  /** Batch of the conv2d fwd+bwd workload. */
  convBatch: number;
  /** Batch of the CNN training step. */
  cnnBatch: number;
  /** Batch of the MLP training step. */
  mlpBatch: number;
  /** LSTM sequence length and batch. */
  lstmT: number;
  lstmBatch: number;
}

/** The workload sizes of a mode (only `tiny` shrinks them). */
export function sizesFor(mode: Mode): Sizes {
  return mode === 'tiny'
    ? { gemmN: 64, convBatch: 2, cnnBatch: 2, mlpBatch: 4, lstmT: 3, lstmBatch: 2 }
    : { gemmN: 1024, convBatch: 64, cnnBatch: 64, mlpBatch: 32, lstmT: 50, lstmBatch: 32 };
}

/** One workload of issue 4 (and BENCHMARKS.md), identical in every framework script. */
export interface Workload {
  /** Id used in the JSON lines and by `--only` (prefix match). */
  id: string;
  /** Human-readable description. */
  label: string;
  /** Short name for table rows. */
  short: string;
  unit: Unit;
  /** Work of one call for the unit (flops, samples, 1 step; unused for time units). */
  work: (s: Sizes) => number;
}

/** The workloads, in table order. sgemm runs at each configuration's own thread count. */
export const WORKLOADS: readonly Workload[] = [
  {
    id: 'sgemm-1024',
    label: 'sgemm C = A·B, 1024×1024 (2n³ flops)',
    short: 'sgemm 1024',
    unit: 'GFLOP/s',
    work: (s) => 2 * s.gemmN ** 3,
  },
  {
    id: 'conv2d-fwd-bwd',
    label: 'conv2d fwd + bwd (dx, dw): x 64×1×28×28, 32 5×5 filters, stride 1, pad 2, no bias',
    short: 'conv2d fwd+bwd',
    unit: 'ms',
    work: () => 1,
  },
  {
    id: 'cnn-train',
    label: 'MNIST CNN train step, batch 64, Adam 1e-3',
    short: 'MNIST CNN train step',
    unit: 'samples/s',
    work: (s) => s.cnnBatch,
  },
  {
    id: 'mlp-train',
    label: 'MLP 784-128-10 train step, batch 32, SGD 0.01',
    short: 'MLP train step',
    unit: 'steps/s',
    work: () => 1,
  },
  {
    id: 'lstm-train',
    label: 'LSTM T=50 B=32 I=64 H=128 train step, Adam 1e-3',
    short: 'LSTM train step',
    unit: 'ms/step',
    work: () => 1,
  },
];

/**
 * The issue-2 micro workloads (`--micro`): Neurite's TypeScript backend against TF.js cpu. matmul 1024
 * and conv2d fwd+bwd are the sgemm and conv rows above.
 */
export const MICRO_WORKLOADS: readonly Workload[] = [
  {
    id: 'micro-matmul-128',
    label: 'matmul 128×128 · 128×128',
    short: 'matmul 128',
    unit: 'GFLOP/s',
    work: () => 2 * 128 ** 3,
  },
  {
    id: 'micro-matmul-512',
    label: 'matmul 512×512 · 512×512',
    short: 'matmul 512',
    unit: 'GFLOP/s',
    work: () => 2 * 512 ** 3,
  },
  { id: 'micro-add-1M', label: 'add, two 1M-element tensors', short: 'add 1M', unit: 'ms', work: () => 1 },
  { id: 'micro-mul-1M', label: 'mul, two 1M-element tensors', short: 'mul 1M', unit: 'ms', work: () => 1 },
  { id: 'micro-exp-1M', label: 'exp, 1M elements', short: 'exp 1M', unit: 'ms', work: () => 1 },
  {
    id: 'micro-softmax-256x1000',
    label: 'softmax over dim 1 of [256, 1000]',
    short: 'softmax 256×1000',
    unit: 'ms',
    work: () => 1,
  },
];

/** Number of elements in the elementwise micro workloads. */
export const ELEMENTWISE_N = 1_000_000;

/** The workload with this id (main or micro). */
export function workloadOf(id: string): Workload {
  const w = [...WORKLOADS, ...MICRO_WORKLOADS].find((x) => x.id === id);
  if (!w) throw new Error(`bench: unknown workload ${id}`);
  return w;
}

/** A figure measured earlier (BENCHMARKS.md), quoted for a row that this run does not measure. */
export interface Reference {
  value: number;
  unit: Unit;
  source: string;
}

/** One timed row. */
export interface RowLine {
  kind: 'row';
  /** Configuration name given by run.ts (`--config`), e.g. `neurite-wasm-2`. */
  config: string;
  id: string;
  unit: Unit;
  /** The unit's value at the median time per call. */
  value: number;
  /** The unit's value at the worst and the best repeat. */
  lo: number;
  hi: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  inner: number;
  reps: number;
  warmup: number;
  /** The capped protocol ran (first call slower than `slowCallS`). */
  capped: boolean;
  /** Threads the workload ran on. */
  threads: number;
}

/** One JSON line printed by a framework script. */
export type BenchLine =
  | {
      kind: 'info';
      config: string;
      framework: string;
      version: string;
      details: Record<string, string>;
    }
  | RowLine
  | {
      kind: 'skip';
      config: string;
      id: string;
      /** `cannot`: the framework lacks what the workload needs; `skipped`: left out to save time. */
      status: 'cannot' | 'skipped';
      reason: string;
      reference?: Reference;
    }
  | {
      kind: 'check';
      config: string;
      id: string;
      ok: boolean;
      detail: string;
    };

/** Prints one JSON line on stdout. */
export function emit(line: BenchLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** Turns a timing into a result line. */
export function rowOf(
  config: string,
  w: Workload,
  sizes: Sizes,
  t: Timing,
  threads: number,
): Extract<BenchLine, { kind: 'row' }> {
  const r = (x: number): number => Number(x.toPrecision(5));
  const work = w.work(sizes);
  const v = (s: number): number => r(unitValue(w.unit, work, s));
  const up = higherIsBetter(w.unit);
  return {
    kind: 'row',
    config,
    id: w.id,
    unit: w.unit,
    value: v(t.med),
    lo: up ? v(t.max) : v(t.min),
    hi: up ? v(t.min) : v(t.max),
    medianMs: r(t.med * 1e3),
    minMs: r(t.min * 1e3),
    maxMs: r(t.max * 1e3),
    inner: t.inner,
    reps: t.reps,
    warmup: t.warmup,
    capped: t.capped,
    threads,
  };
}

/** Parses the JSON lines of a framework script's stdout; other lines are returned apart. */
export function parseLines(stdout: string): { lines: BenchLine[]; other: string[] } {
  const lines: BenchLine[] = [];
  const other: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('{')) lines.push(JSON.parse(line) as BenchLine);
    else if (line.trim()) other.push(line);
  }
  return { lines, other };
}

/** Command-line options understood by run.ts and passed on to the framework scripts. */
export interface BenchArgs {
  /** `--quick`: fewer, shorter repeats; `--tiny`: tiny shapes, for the plumbing test. */
  mode: Mode;
  /** `--only a,b`: run only the workloads whose id starts with one of these prefixes. */
  only: string[] | null;
  /** `--configs a,b` (run.ts): run only the configurations whose name starts with one of these. */
  configs: string[] | null;
  /** `--micro`: also run the issue-2 micro workloads (Neurite TS backend and TF.js cpu). */
  micro: boolean;
  /** `--slow-peers`: also run peer rows known to take minutes (TF.js cpu CNN step, ~93 s per step). */
  slowPeers: boolean;
  /** `--rounds N` (run.ts): run every configuration N times, keeping each row's fastest median. */
  rounds: number;
  /** `--write` (run.ts): write bench/RESULTS.md even with --quick. */
  write: boolean;
  /** `--config NAME` (framework scripts): which configuration this process is. */
  config: string | null;
}

/** Parses the options above from `argv`; throws on an unknown option. */
export function parseArgs(argv: readonly string[]): BenchArgs {
  const withValue = new Set(['--only', '--configs', '--rounds', '--config']);
  const flags = new Set(['--quick', '--tiny', '--micro', '--slow-peers', '--write']);
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (withValue.has(a)) {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`bench: ${a} needs a value`);
      values.set(a, v);
      i++;
    } else if (!flags.has(a)) {
      throw new Error(
        `bench: unknown option ${a} (known: ${[...flags, ...withValue].join(', ')}; see bench/run.ts)`,
      );
    }
  }
  const list = (name: string): string[] | null => {
    const v = values.get(name);
    return v === undefined ? null : v.split(',').filter((s) => s.length > 0);
  };
  const roundsArg = values.get('--rounds');
  const rounds = roundsArg === undefined ? 1 : Number(roundsArg);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`bench: --rounds needs a positive integer, got ${roundsArg}`);
  }
  return {
    mode: argv.includes('--tiny') ? 'tiny' : argv.includes('--quick') ? 'quick' : 'full',
    only: list('--only'),
    configs: list('--configs'),
    micro: argv.includes('--micro'),
    slowPeers: argv.includes('--slow-peers'),
    rounds,
    write: argv.includes('--write'),
    config: values.get('--config') ?? null,
  };
}

/** True when workload `id` is selected by `--only` (or no filter was given). */
export function selected(args: BenchArgs, id: string): boolean {
  return args.only === null || args.only.some((p) => id.startsWith(p));
}

/** The options to pass on from run.ts to a framework script (run.ts adds `--config`). */
export function passOn(args: BenchArgs): string[] {
  const out: string[] = [];
  if (args.mode === 'quick') out.push('--quick');
  if (args.mode === 'tiny') out.push('--tiny');
  if (args.only) out.push('--only', args.only.join(','));
  if (args.micro) out.push('--micro');
  if (args.slowPeers) out.push('--slow-peers');
  return out;
}
