/**
 * `npm run bench [-- --quick] [-- --only prefixes] [-- --rounds N]`: Neurite's CPU backend against
 * TensorFlow.js 4.22's CPU backend on the same workloads. Each framework runs in its own child process, one
 * after the other (never at the same time), and prints JSON lines; the two processes alternate for N rounds
 * (default 2; 1 with --quick) and each row keeps the round with the fastest median, which damps the effect
 * of other load on a shared machine. This script prints a table with ratio columns (Neurite speed / TF.js
 * speed: above 1 means Neurite is faster) and writes bench/RESULTS.md (not with `--only`).
 * @module
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchLine, parseArgs, protocolFor, WORKLOADS } from './protocol.js';

/** RESULTS.md keeps everything from this line on across benchmark runs. */
const KEEP_MARKER = '<!-- kept by npm run bench: end-to-end measurements -->';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const argv = process.argv.slice(2);
const args = parseArgs(argv);
const TSX = join(root, 'node_modules', '.bin', 'tsx');

type Row = Extract<BenchLine, { kind: 'row' }>;
type Info = Extract<BenchLine, { kind: 'info' }>;
type Check = Extract<BenchLine, { kind: 'check' }>;

interface RunResult {
  info: Info | null;
  rows: Map<string, Row>;
  skips: Map<string, string>;
  checks: Check[];
  seconds: number;
  error: string | null;
  /** 1-minute load average just before and just after the run. */
  load: [number, number];
}

/** Runs one framework script to completion and parses its JSON lines (anything else goes to stderr). */
function runFramework(name: string, script: string, round: number): RunResult {
  const res: RunResult = {
    info: null,
    rows: new Map(),
    skips: new Map(),
    checks: [],
    seconds: 0,
    error: null,
    load: [loadavg()[0]!, 0],
  };
  process.stderr.write(`bench: round ${round}: running ${name} (${script}) ...\n`);
  const t0 = performance.now();
  const p = spawnSync(TSX, [join(here, script), ...argv], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  res.seconds = (performance.now() - t0) / 1e3;
  res.load[1] = loadavg()[0]!;
  for (const line of (p.stdout ?? '').split('\n')) {
    if (!line.startsWith('{')) {
      if (line.trim()) process.stderr.write(`[${name}] ${line}\n`);
      continue;
    }
    const l = JSON.parse(line) as BenchLine;
    if (l.kind === 'info') res.info = l;
    else if (l.kind === 'row') {
      res.rows.set(l.id, l);
      process.stderr.write(`  ${name} ${l.id}: ${l.value} ${l.unit} (${l.reps}×${l.inner} calls)\n`);
    } else if (l.kind === 'skip') res.skips.set(l.id, l.reason);
    else res.checks.push(l);
  }
  if (p.status !== 0) {
    res.error = `round ${round}: ${script} exited with ${p.status ?? p.signal}${p.error ? ` (${p.error.message})` : ''}`;
  }
  return res;
}

/** All rounds of one framework, with each row's fastest-median round picked out. */
interface Combined {
  runs: RunResult[];
  best: Map<string, Row>;
  skips: Map<string, string>;
  info: Info | null;
  errors: string[];
}

function combine(runs: RunResult[]): Combined {
  const best = new Map<string, Row>();
  const skips = new Map<string, string>();
  for (const r of runs) {
    for (const [id, row] of r.rows) {
      const b = best.get(id);
      if (!b || row.medianMs < b.medianMs) best.set(id, row);
    }
    for (const [id, why] of r.skips) skips.set(id, why);
  }
  return {
    runs,
    best,
    skips,
    info: runs.find((r) => r.info)?.info ?? null,
    errors: runs.flatMap((r) => (r.error ? [r.error] : [])),
  };
}

const fmtNum = (x: number): string =>
  x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(2);

function cell(c: Combined, id: string): string {
  const r = c.best.get(id);
  if (!r) return c.skips.has(id) ? 'skipped' : c.errors.length ? 'failed' : 'n/a';
  return `${fmtNum(r.value)} (${fmtNum(r.lo)}–${fmtNum(r.hi)})`;
}

/** The row's value in each round ('–' where missing). */
function perRound(c: Combined, id: string): string {
  return c.runs.map((r) => (r.rows.has(id) ? fmtNum(r.rows.get(id)!.value) : '–')).join(' / ');
}

/** Neurite speed / TF.js speed (above 1: Neurite is faster). */
function ratio(n: Row | undefined, t: Row | undefined): number | null {
  if (!n || !t) return null;
  return t.medianMs / n.medianMs;
}

/** Markdown table with padded columns. */
function mdTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
}

/** CPU model name from /proc/cpuinfo, else from os.cpus(). */
function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}

function main(): void {
  const started = new Date();
  const nRuns: RunResult[] = [];
  const tRuns: RunResult[] = [];
  for (let r = 1; r <= args.rounds; r++) {
    nRuns.push(runFramework('neurite', 'neurite.ts', r));
    tRuns.push(runFramework('tfjs', 'tfjs.ts', r));
  }
  const neurite = combine(nRuns);
  const tfjs = combine(tRuns);

  const table: string[][] = [];
  const rounds: string[][] = [];
  const notes: string[] = [];
  const missed: string[] = [];
  for (const w of WORKLOADS) {
    const n = neurite.best.get(w.id);
    const t = tfjs.best.get(w.id);
    const ns = neurite.skips.get(w.id);
    const ts = tfjs.skips.get(w.id);
    if (!n && !t && !ns && !ts && args.only) continue;
    if (ns) notes.push(`${w.id}: Neurite skipped: ${ns}.`);
    if (ts) notes.push(`${w.id}: TF.js skipped: ${ts}.`);
    const r = ratio(n, t);
    const target = w.id === 'matmul-512' ? 3 : 1;
    const met = r === null ? '–' : r >= target ? 'yes' : 'NO';
    if (met === 'NO') missed.push(w.id);
    table.push([
      w.label,
      w.metric.unit,
      cell(neurite, w.id),
      cell(tfjs, w.id),
      r === null ? '–' : `${r.toFixed(2)}×`,
      `≥ ${target}×`,
      met,
    ]);
    rounds.push([w.id, w.metric.unit, perRound(neurite, w.id), perRound(tfjs, w.id)]);
  }
  const md = mdTable(
    ['workload', 'unit', 'Neurite cpu', 'TF.js 4.22 cpu', 'Neurite / TF.js', 'target', 'met'],
    table,
  );
  const roundsMd = mdTable(['workload', 'unit', 'Neurite, per round', 'TF.js, per round'], rounds);

  const checks = nRuns.flatMap((r, i) =>
    r.checks.map((c) => `- round ${i + 1}: ${c.ok ? 'ok' : 'FAILED'}: ${c.name} (${c.detail})`),
  );
  const errors = [...neurite.errors, ...tfjs.errors].map((e) => `- ${e}`);
  const loads = nRuns.flatMap((n, i) => {
    const t = tRuns[i]!;
    const f = (r: RunResult): string =>
      `${r.load[0].toFixed(2)} → ${r.load[1].toFixed(2)} (${r.seconds.toFixed(0)} s)`;
    return [`- round ${i + 1}: Neurite ${f(n)}, TF.js ${f(t)}`];
  });
  const p = protocolFor(args.quick);
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const nd = neurite.info?.details ?? {};
  const td = tfjs.info?.details ?? {};
  const report = [
    '# Neurite vs TensorFlow.js: CPU benchmarks',
    '',
    `Written by \`${command}\` (bench/run.ts) on ${started.toISOString()}.`,
    '',
    '## Set-up',
    '',
    `- Neurite ${nd.neurite ?? '?'}, backend \`${nd.backend ?? '?'}\`, GEMM kernel \`${nd.gemm ?? '?'}\``,
    `- TensorFlow.js: @tensorflow/tfjs-core ${td['tfjs-core'] ?? '?'} + @tensorflow/tfjs-backend-cpu ${td['tfjs-backend-cpu'] ?? '?'} (backend \`${td.backend ?? '?'}\`)`,
    `- Node ${process.version} (${process.platform}/${process.arch}); tsx runs both scripts`,
    `- CPU: ${cpuModel()}, ${cpus().length} logical cores (every workload here runs on one thread)`,
    `- Mode: ${args.quick ? '--quick (smoke test: short warm-up, 3 short repeats; numbers are rough)' : 'full'}, ${args.rounds} round(s)`,
    '',
    '## Results',
    '',
    'Median per call over the timed repeats, with (min–max) over repeats. For GFLOP/s (2n³ flops per matmul)',
    'higher is better; for ms lower is better. "Neurite / TF.js" is Neurite\'s speed over TF.js\'s speed',
    '(TF.js time / Neurite time): above 1 means Neurite is faster. Targets: at least 1× on every row,',
    `at least 3× on matmul 512. With several rounds, each cell is the round with the fastest median.`,
    '',
    ...md,
    '',
    ...(notes.length ? ['Notes:', '', ...notes.map((n) => `- ${n}`), ''] : []),
    `Rows below target: ${missed.length ? missed.join(', ') : 'none'}.`,
    '',
    'Medians of every round (same units):',
    '',
    ...roundsMd,
    '',
    '## Protocol',
    '',
    '- fp32, random normal inputs, identical shapes on both sides (TF.js conv2d in its NHWC/HWIO layout).',
    '- Each framework runs in its own child process (`tsx bench/neurite.ts`, then `tsx bench/tfjs.ts`), one',
    `  after the other, never concurrently; this alternation is repeated for ${args.rounds} round(s).`,
    `- Per workload: warm up (at least ${p.warmupCalls} call(s) and ${p.warmupMinS} s, at most ${p.warmupMaxS} s), calibrate the`,
    `  calls per repeat so a repeat lasts about ${p.targetS} s, then time up to ${p.reps} repeats (at least ${p.minReps})`,
    `  within about ${p.maxTotalS} s.`,
    '- Every timed call does the full job and reads the result back (`dataSync()`); TF.js results are',
    '  disposed (conv2d inside `tf.tidy`) and a leak check runs after each workload.',
    '- conv2d fwd+bwd: forward, then the input and weight gradients for a given random output gradient',
    '  (Neurite: `nn.functional.conv2d` then `autogradGrad(y, [x, w], { gradOutputs: [dy] })`; TF.js: `tf.grads`',
    '  with `dy`). @tensorflow/tfjs-core alone registers no gradients (the @tensorflow/tfjs union package does),',
    '  so bench/tfjs.ts registers the Conv2D gradient itself, calling the Conv2DBackpropInput and',
    "  Conv2DBackpropFilter kernels exactly as tfjs-core's own gradient does.",
    '- softmax: Neurite `nn.functional.softmax(x, 1)`; TF.js `tf.softmax(x, 1)`.',
    "- Before timing, Neurite's matmul is checked against a naive product:",
    '',
    ...(checks.length ? checks : ['- (no checks ran)']),
    '',
    '1-minute load average before → after each process (and its run time); above ~1 on this machine means',
    'other processes shared the CPU, and the numbers are noisier:',
    '',
    ...loads,
    ...(errors.length ? ['', 'Errors:', '', ...errors] : []),
    '',
  ].join('\n');

  process.stdout.write(`\n${md.join('\n')}\n\n`);
  if (args.rounds > 1) process.stdout.write(`${roundsMd.join('\n')}\n\n`);
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  for (const c of checks) process.stdout.write(`check ${c.slice(2)}\n`);
  process.stdout.write(`rows below target: ${missed.length ? missed.join(', ') : 'none'}\n`);
  if (args.only) {
    process.stdout.write('(--only given: bench/RESULTS.md left unchanged)\n');
  } else {
    // Keep the hand-measured section (end-to-end runs such as `npm start`) below the marker.
    const file = join(here, 'RESULTS.md');
    let kept = '';
    try {
      const old = readFileSync(file, 'utf8');
      const at = old.indexOf(KEEP_MARKER);
      if (at >= 0) kept = `\n${old.slice(at)}`;
    } catch {
      // no previous results
    }
    writeFileSync(file, report + kept);
    process.stdout.write('wrote bench/RESULTS.md\n');
  }
  if (errors.length) {
    process.stderr.write(`bench: errors:\n${errors.join('\n')}\n`);
    process.exit(1);
  }
}

main();
