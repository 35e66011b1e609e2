/**
 * Pure functions of the bench report (no I/O): the configurations `npm run bench` runs, how the JSON
 * lines of their processes combine into one result per configuration, and the markdown tables (results,
 * ratios Neurite / peer, the issue-4 targets, the issue-2 micro rows). bench/run.ts runs the processes
 * and writes the files; test/bench/bench.test.ts feeds these functions real and synthetic lines.
 * @module
 */
import {
  type BenchLine,
  higherIsBetter,
  MICRO_WORKLOADS,
  type Reference,
  type RowLine,
  type Unit,
  WORKLOADS,
  type Workload,
} from './protocol.js';

/** One configuration: one framework process with one backend and thread count. */
export interface ConfigSpec {
  /** Name passed as `--config` and used by `--configs`, e.g. `neurite-wasm-2`. */
  name: string;
  /** Column header. */
  label: string;
  framework: 'neurite' | 'tfjs' | 'pytorch';
  /** Threads it runs on (the sgemm row it fills: 1 or 2 threads). */
  threads: number;
  /** True for the Neurite wasm configurations, whose results are checked against the TS backend. */
  checked: boolean;
  /** Also runs the issue-2 micro workloads under `--micro`. */
  micro: boolean;
}

/** The configurations, in the order they run (never two at the same time). */
export const CONFIGS: readonly ConfigSpec[] = [
  {
    name: 'neurite-wasm-1',
    label: 'Neurite wasm 1t',
    framework: 'neurite',
    threads: 1,
    checked: true,
    micro: false,
  },
  {
    name: 'neurite-wasm-2',
    label: 'Neurite wasm 2t',
    framework: 'neurite',
    threads: 2,
    checked: true,
    micro: false,
  },
  { name: 'neurite-ts', label: 'Neurite TS', framework: 'neurite', threads: 1, checked: false, micro: true },
  { name: 'tfjs-cpu', label: 'TF.js cpu', framework: 'tfjs', threads: 1, checked: false, micro: true },
  { name: 'tfjs-wasm', label: 'TF.js wasm 1t', framework: 'tfjs', threads: 1, checked: false, micro: false },
  { name: 'torch-1', label: 'PyTorch 1t', framework: 'pytorch', threads: 1, checked: false, micro: false },
  { name: 'torch-2', label: 'PyTorch 2t', framework: 'pytorch', threads: 2, checked: false, micro: false },
];

/** The name of a configuration spec. */
export function configSpec(name: string): ConfigSpec {
  const c = CONFIGS.find((x) => x.name === name);
  if (!c) throw new Error(`bench: unknown configuration ${name}`);
  return c;
}

type Skip = Extract<BenchLine, { kind: 'skip' }>;
type Check = Extract<BenchLine, { kind: 'check' }>;
type Info = Extract<BenchLine, { kind: 'info' }>;

/** What one run of one configuration produced. */
export interface ConfigRun {
  info: Info | null;
  rows: Map<string, RowLine>;
  skips: Map<string, Skip>;
  checks: Map<string, Check>;
  /** Wall time of the process, in seconds. */
  seconds: number;
  /** 1-minute load average before and after the process. */
  load: [number, number];
  /** Why the process failed (non-zero exit), or null. */
  error: string | null;
  /** Why the configuration did not run at all (e.g. no PyTorch here), or null. */
  absent: string | null;
}

/** Collects a process's JSON lines into a {@link ConfigRun}. */
export function collect(lines: readonly BenchLine[]): ConfigRun {
  const run: ConfigRun = {
    info: null,
    rows: new Map(),
    skips: new Map(),
    checks: new Map(),
    seconds: 0,
    load: [0, 0],
    error: null,
    absent: null,
  };
  for (const l of lines) {
    if (l.kind === 'info') run.info = l;
    else if (l.kind === 'row') run.rows.set(l.id, l);
    else if (l.kind === 'skip') run.skips.set(l.id, l);
    else run.checks.set(l.id, l);
  }
  return run;
}

/** Several rounds of one configuration: each row keeps the round with the fastest median. */
export interface ConfigResult {
  spec: ConfigSpec;
  runs: ConfigRun[];
  best: Map<string, RowLine>;
}

/** Combines the rounds of one configuration. */
export function combine(spec: ConfigSpec, runs: ConfigRun[]): ConfigResult {
  const best = new Map<string, RowLine>();
  for (const r of runs) {
    for (const [id, row] of r.rows) {
      const b = best.get(id);
      if (!b || row.medianMs < b.medianMs) best.set(id, row);
    }
  }
  return { spec, runs, best };
}

/** Formats a number with 3 significant digits at most (integers above 1000 in full, with commas). */
export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toPrecision(2);
}

/** The rows of the main table: sgemm once per thread count, then the other workloads. */
export interface TableRow {
  /** Key, e.g. `sgemm-1024@1`, `cnn-train`. */
  key: string;
  workload: Workload;
  label: string;
  /** Only configurations with this thread count fill the row (sgemm rows), or null for all. */
  threads: number | null;
}

/** The six workloads of issue 4, as table rows. */
export function tableRows(): TableRow[] {
  const out: TableRow[] = [];
  for (const w of WORKLOADS) {
    if (w.id === 'sgemm-1024') {
      out.push({ key: `${w.id}@1`, workload: w, label: 'sgemm 1024, 1 thread', threads: 1 });
      out.push({ key: `${w.id}@2`, workload: w, label: 'sgemm 1024, 2 threads', threads: 2 });
    } else {
      out.push({ key: w.id, workload: w, label: w.short, threads: null });
    }
  }
  return out;
}

/** A configuration's entry for a table row: a timed row, a skip, or why there is nothing. */
export type Entry =
  | { kind: 'row'; row: RowLine }
  | { kind: 'skip'; skip: Skip }
  | { kind: 'none'; why: 'not applicable' | 'not run' | 'failed' | 'absent' };

/** The entry of configuration `c` for table row `r`. */
export function entryOf(c: ConfigResult, r: TableRow): Entry {
  if (r.threads !== null && c.spec.threads !== r.threads) return { kind: 'none', why: 'not applicable' };
  const row = c.best.get(r.workload.id);
  if (row) return { kind: 'row', row };
  for (const run of c.runs) {
    const s = run.skips.get(r.workload.id);
    if (s) return { kind: 'skip', skip: s };
  }
  if (c.runs.length > 0 && c.runs.every((x) => x.absent !== null)) return { kind: 'none', why: 'absent' };
  if (c.runs.some((x) => x.error !== null)) return { kind: 'none', why: 'failed' };
  return { kind: 'none', why: 'not run' };
}

/** Table cell of an entry: `value (lo–hi)`, `cannot`, `skipped (ref. X)`, `–`, ... */
export function cellOf(e: Entry): string {
  if (e.kind === 'row') {
    const r = e.row;
    return `${fmtNum(r.value)} (${fmtNum(r.lo)}–${fmtNum(r.hi)})${r.capped ? ' †' : ''}`;
  }
  if (e.kind === 'skip') {
    if (e.skip.status === 'cannot') return 'cannot';
    return e.skip.reference ? `skipped (ref. ${fmtNum(e.skip.reference.value)} ‡)` : 'skipped';
  }
  return { 'not applicable': '–', 'not run': 'n/a', failed: 'failed', absent: 'unavailable' }[e.why];
}

/** Seconds per call of an entry: measured, or from a quoted reference figure (then `ref` is true). */
export function secondsOf(e: Entry, w: Workload): { s: number; ref: boolean } | null {
  if (e.kind === 'row') return { s: e.row.medianMs / 1e3, ref: false };
  if (e.kind === 'skip' && e.skip.reference) return { s: refSeconds(e.skip.reference, w), ref: true };
  return null;
}

/** Seconds per call of a reference figure of workload `w` at the issue's sizes. */
function refSeconds(ref: Reference, w: Workload): number {
  const full = { gemmN: 1024, convBatch: 64, cnnBatch: 64, mlpBatch: 32, lstmT: 50, lstmBatch: 32 };
  const work = w.work(full);
  if (ref.unit === 'GFLOP/s') return work / (ref.value * 1e9);
  if (ref.unit === 'samples/s' || ref.unit === 'steps/s') return work / ref.value;
  return ref.value / 1e3;
}

/** Speed of `a` over speed of `b` (time of b / time of a): above 1 means `a` is faster. */
export function speedRatio(a: Entry, b: Entry, w: Workload): { x: number; ref: boolean } | null {
  const sa = secondsOf(a, w);
  const sb = secondsOf(b, w);
  if (!sa || !sb || sa.ref) return null;
  return { x: sb.s / sa.s, ref: sb.ref };
}

/** Markdown table with padded columns. */
export function mdTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (c ?? '').padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
}

const fmtRatio = (r: { x: number; ref: boolean } | null): string =>
  r === null ? '–' : `${r.x >= 100 ? fmtNum(r.x) : r.x.toFixed(2)}×${r.ref ? ' ‡' : ''}`;

/** The results: rows × configurations, plus the correctness check of the wasm configurations. */
export function resultsTable(results: readonly ConfigResult[]): string[] {
  const checked = results.filter((c) => c.spec.checked);
  const header = [
    'workload',
    'unit',
    ...results.map((c) => c.spec.label),
    ...(checked.length ? [`wasm vs TS check (${checked.map((c) => `${c.spec.threads}t`).join(' / ')})`] : []),
  ];
  const rows = tableRows().map((r) => {
    const checks = checked.map((c) => {
      if (r.threads !== null && c.spec.threads !== r.threads) return '–';
      const all = c.runs.map((run) => run.checks.get(r.workload.id)).filter((x) => x !== undefined);
      if (all.length === 0) return 'n/a';
      return all.every((x) => x.ok) ? 'pass' : 'FAIL';
    });
    return [
      r.label,
      r.workload.unit,
      ...results.map((c) => cellOf(entryOf(c, r))),
      ...(checked.length ? [checks.join(' / ')] : []),
    ];
  });
  return mdTable(header, rows);
}

/**
 * Speed ratios Neurite wasm / peer for every row: 2 threads, with 1 thread in parentheses (the sgemm
 * rows: the configuration with that row's thread count only).
 */
export function ratioTable(results: readonly ConfigResult[]): string[] {
  const n1 = results.find((c) => c.spec.name === 'neurite-wasm-1');
  const n2 = results.find((c) => c.spec.name === 'neurite-wasm-2');
  const peers = results.filter((c) => !c.spec.checked);
  const header = ['workload', ...peers.map((p) => `vs ${p.spec.label}`)];
  const rows = tableRows().map((r) => {
    const cells = peers.map((p) => {
      const pe = entryOf(p, r);
      if (pe.kind === 'none') return '–';
      if (pe.kind === 'skip' && !pe.skip.reference) return pe.skip.status;
      const ratio = (n: ConfigResult | undefined): { x: number; ref: boolean } | null =>
        n ? speedRatio(entryOf(n, r), pe, r.workload) : null;
      if (r.threads === 1) return fmtRatio(ratio(n1));
      const two = fmtRatio(ratio(n2));
      if (r.threads === 2) return two;
      const one = ratio(n1);
      return one ? `${two} (${fmtRatio(one)})` : two;
    });
    return [r.label, ...cells];
  });
  return mdTable(header, rows);
}

/** One target of issue 4. */
export interface Target {
  label: string;
  /** Table row key whose Neurite wasm value is compared. */
  key: string;
  /** Neurite wasm configuration that must reach it. */
  config: string;
  /** Threshold in the row's unit; met when at least (throughputs) or at most (times) this. */
  threshold: number;
  /** The issue's ratio context: the peer configuration and what the issue says. */
  peer: { config: string; says: string } | null;
}

/** The targets of issue 4 (2 threads unless said). */
export const TARGETS: readonly Target[] = [
  {
    label: 'sgemm 1024, 1 thread ≥ 40 GFLOP/s',
    key: 'sgemm-1024@1',
    config: 'neurite-wasm-1',
    threshold: 40,
    peer: { config: 'tfjs-wasm', says: 'about 1.3× TF.js wasm' },
  },
  {
    label: 'sgemm 1024, 2 threads ≥ 75 GFLOP/s',
    key: 'sgemm-1024@2',
    config: 'neurite-wasm-2',
    threshold: 75,
    peer: null,
  },
  {
    label: 'MNIST CNN training ≥ 1,000 samples/s',
    key: 'cnn-train',
    config: 'neurite-wasm-2',
    threshold: 1000,
    peer: { config: 'torch-1', says: '0.8× PyTorch' },
  },
  {
    label: 'MLP training ≥ 2,000 steps/s',
    key: 'mlp-train',
    config: 'neurite-wasm-2',
    threshold: 2000,
    peer: { config: 'tfjs-wasm', says: '8× TF.js wasm' },
  },
  {
    label: 'LSTM training ≤ 30 ms/step',
    key: 'lstm-train',
    config: 'neurite-wasm-2',
    threshold: 30,
    peer: { config: 'tfjs-wasm', says: '13× TF.js wasm' },
  },
];

/** Whether a value meets a threshold in `unit`. */
export function meets(unit: Unit, value: number, threshold: number): boolean {
  return higherIsBetter(unit) ? value >= threshold : value <= threshold;
}

/** The targets table, the labels of the targets not met and of those not measured in this run. */
export function targetsTable(results: readonly ConfigResult[]): {
  md: string[];
  missed: string[];
  unmeasured: string[];
} {
  const missed: string[] = [];
  const unmeasured: string[] = [];
  const rowsByKey = new Map(tableRows().map((r) => [r.key, r]));
  const rows = TARGETS.map((t) => {
    const r = rowsByKey.get(t.key)!;
    const c = results.find((x) => x.spec.name === t.config);
    const e = c ? entryOf(c, r) : null;
    let measured = 'not measured';
    let met = '–';
    if (e?.kind === 'row') {
      measured = `${fmtNum(e.row.value)} ${r.workload.unit}`;
      const ok = meets(r.workload.unit, e.row.value, t.threshold);
      met = ok ? 'met' : 'NOT MET';
      if (!ok) missed.push(t.label);
    } else {
      unmeasured.push(t.label);
    }
    let context = '–';
    if (t.peer) {
      const p = results.find((x) => x.spec.name === t.peer!.config);
      const ratio = p && e ? speedRatio(e, entryOf(p, r), r.workload) : null;
      const peerLabel = p?.spec.label ?? t.peer.config;
      context = `issue: ${t.peer.says}; here ${ratio ? fmtRatio(ratio) : '–'} ${peerLabel}`;
    }
    return [t.label, configLabel(results, t.config), measured, met, context];
  });
  return {
    md: mdTable(['target', 'configuration', 'measured', 'status', 'ratio context'], rows),
    missed,
    unmeasured,
  };
}

function configLabel(results: readonly ConfigResult[], name: string): string {
  return results.find((c) => c.spec.name === name)?.spec.label ?? name;
}

/**
 * The issue-2 micro table (`--micro`): Neurite's TS backend against TF.js cpu, with the targets of
 * issue 2 (at least 1× everywhere, 3× on matmul 512). matmul 1024 and conv come from the main rows.
 */
export function microTable(results: readonly ConfigResult[]): { md: string[]; missed: string[] } {
  const n = results.find((c) => c.spec.name === 'neurite-ts');
  const t = results.find((c) => c.spec.name === 'tfjs-cpu');
  const missed: string[] = [];
  const ws = [
    MICRO_WORKLOADS[0]!,
    MICRO_WORKLOADS[1]!,
    WORKLOADS.find((w) => w.id === 'sgemm-1024')!,
    WORKLOADS.find((w) => w.id === 'conv2d-fwd-bwd')!,
    ...MICRO_WORKLOADS.slice(2),
  ];
  const rows = ws.map((w) => {
    const r: TableRow = { key: w.id, workload: w, label: w.short, threads: null };
    const ne: Entry = n ? entryOf(n, r) : { kind: 'none', why: 'not run' };
    const te: Entry = t ? entryOf(t, r) : { kind: 'none', why: 'not run' };
    const ratio = speedRatio(ne, te, w);
    const target = w.id === 'micro-matmul-512' ? 3 : 1;
    const met = ratio === null ? '–' : ratio.x >= target ? 'yes' : 'NO';
    if (met === 'NO') missed.push(w.id);
    return [
      w.id === 'sgemm-1024' ? 'matmul 1024' : w.short,
      w.unit,
      cellOf(ne),
      cellOf(te),
      fmtRatio(ratio),
      `≥ ${target}×`,
      met,
    ];
  });
  return {
    md: mdTable(['workload', 'unit', 'Neurite TS', 'TF.js cpu', 'Neurite / TF.js', 'target', 'met'], rows),
    missed,
  };
}

/** The failed correctness checks, as `config id: detail` lines. */
export function failedChecks(results: readonly ConfigResult[]): string[] {
  const out: string[] = [];
  for (const c of results) {
    for (const run of c.runs) {
      for (const ch of run.checks.values()) if (!ch.ok) out.push(`${c.spec.name} ${ch.id}: ${ch.detail}`);
    }
  }
  return out;
}
