/**
 * `npm run bench [-- options]`: the issue-4 benchmark suite. Runs the six workloads (sgemm 1024 on 1 and
 * on 2 threads, conv2d fwd+bwd, MNIST CNN / MLP / LSTM training steps; bench/protocol.ts) on every
 * configuration, each in its own child process, one after the other (never two at the same time):
 * Neurite wasm 1 and 2 threads, Neurite's TypeScript backend, TF.js 4.22 cpu and wasm, and PyTorch on 1
 * and 2 threads when `/usr/bin/python3 -c "import torch"` works (else skipped with a note). Prints the
 * results, the ratios Neurite wasm / peer and the issue's targets, and writes bench/RESULTS.md (full runs
 * of every configuration only), keeping the hand-written section below KEEP_MARKER.
 *
 * Options:
 * - `--quick`: fewer, shorter repeats (development; numbers are rough). RESULTS.md is left alone unless
 *   `--write` is given.
 * - `--only a,b`: workloads whose id starts with a or b (`sgemm`, `conv`, `cnn`, `mlp`, `lstm`).
 * - `--configs a,b`: configurations whose name starts with a or b (`neurite-wasm-2`, `tfjs`, `torch`, ...).
 * - `--micro`: also the issue-2 micro rows (matmul 128/512, add, mul, exp, softmax) on Neurite's TS
 *   backend and TF.js cpu, as a second table.
 * - `--slow-peers`: also the TF.js cpu CNN step (about 93 s per step; quoted from BENCHMARKS.md otherwise).
 * - `--rounds N`: run every configuration N times (alternating), keeping each row's fastest median.
 * - `--tiny`: tiny shapes and one short repeat, to test the plumbing (test/bench).
 * @module
 */

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { glibcVersion, MALLOC_ENV } from '../src/cli/allocator.js';
import { type BenchArgs, parseArgs, parseLines, passOn, protocolFor, WORKLOADS } from './protocol.js';
import {
  CONFIGS,
  type ConfigResult,
  type ConfigRun,
  type ConfigSpec,
  collect,
  combine,
  failedChecks,
  microTable,
  ratioTable,
  resultsTable,
  targetsTable,
} from './report.js';

/** RESULTS.md keeps everything from this line on across benchmark runs. */
const KEEP_MARKER = '<!-- kept by npm run bench: end-to-end measurements -->';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const TSX = join(root, 'node_modules', '.bin', 'tsx');
/** Debian's Python with python3-torch (BENCHMARKS.md); NEURITE_BENCH_PYTHON overrides it. */
const PYTHON = process.env.NEURITE_BENCH_PYTHON ?? '/usr/bin/python3';

/** Why PyTorch cannot run here (null when `import torch` works). */
function torchUnavailable(): string | null {
  const p = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120_000 });
  if (p.status === 0) return null;
  const why = p.error ? p.error.message : (p.stderr ?? '').trim().split('\n').pop() || `exit ${p.status}`;
  return `\`${PYTHON} -c "import torch"\` failed (${why}); PyTorch rows skipped`;
}

/** The command line of a configuration's process. */
function commandOf(c: ConfigSpec, args: BenchArgs): { cmd: string; argv: string[]; env: NodeJS.ProcessEnv } {
  const common = passOn({ ...args, micro: args.micro && c.micro, slowPeers: args.slowPeers });
  if (c.framework === 'pytorch') {
    const argv = [
      join(here, 'pytorch.py'),
      '--config',
      c.name,
      ...passOn({ ...args, micro: false, slowPeers: false }),
    ];
    // BENCHMARKS.md: OpenBLAS on one thread, torch's own pool on c.threads (two pools on two cores fight).
    const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: String(c.threads) };
    return { cmd: PYTHON, argv, env };
  }
  const script = c.framework === 'neurite' ? 'neurite.ts' : 'tfjs.ts';
  // Both JS frameworks run with the glibc malloc settings the neurite CLI uses (src/cli/allocator.ts).
  const env = glibcVersion() === null ? process.env : { ...MALLOC_ENV, ...process.env };
  return { cmd: TSX, argv: [join(here, script), '--config', c.name, ...common], env };
}

/** Runs one configuration's process to completion and collects its JSON lines. */
function runConfig(c: ConfigSpec, args: BenchArgs, tag: string): ConfigRun {
  const { cmd, argv, env } = commandOf(c, args);
  process.stderr.write(`bench: ${tag} ${c.name} ...\n`);
  const load0 = loadavg()[0]!;
  const t0 = performance.now();
  const p = spawnSync(cmd, argv, {
    cwd: root,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  const { lines, other } = parseLines(p.stdout ?? '');
  const run = collect(lines);
  run.seconds = (performance.now() - t0) / 1e3;
  run.load = [load0, loadavg()[0]!];
  for (const o of other) process.stderr.write(`[${c.name}] ${o}\n`);
  for (const r of run.rows.values()) {
    const how = r.capped ? `capped: ${r.reps} timed call(s)` : `${r.reps}×${r.inner} calls`;
    process.stderr.write(`  ${c.name} ${r.id}: ${r.value} ${r.unit} (${how})\n`);
  }
  for (const s of run.skips.values()) process.stderr.write(`  ${c.name} ${s.id}: ${s.status}: ${s.reason}\n`);
  for (const ch of run.checks.values()) {
    process.stderr.write(`  ${c.name} ${ch.id}: check ${ch.ok ? 'pass' : 'FAIL'} (${ch.detail})\n`);
  }
  if (p.status !== 0) {
    run.error = `${c.name}: ${[cmd, ...argv.map((a) => a.replace(`${root}/`, ''))].join(' ')} exited with ${p.status ?? p.signal}${p.error ? ` (${p.error.message})` : ''}`;
  }
  return run;
}

/** A configuration that did not run (no PyTorch here). */
function absentRun(why: string): ConfigRun {
  return { ...collect([]), absent: why };
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

/** `key value` pairs of a configuration's info line. */
function details(results: readonly ConfigResult[], name: string): Record<string, string> {
  const c = results.find((x) => x.spec.name === name);
  return c?.runs.find((r) => r.info)?.info?.details ?? {};
}

/** The notes under the tables: skips, capped rows, thread set-ups, absent configurations. */
function notesOf(results: readonly ConfigResult[], torchWhy: string | null): string[] {
  const notes: string[] = [];
  for (const c of results) {
    for (const run of c.runs) {
      if (run.absent) notes.push(`${c.spec.label}: ${run.absent}.`);
    }
    const seen = new Set<string>();
    for (const run of c.runs) {
      for (const s of run.skips.values()) {
        if (seen.has(s.id)) continue;
        seen.add(s.id);
        const ref = s.reference
          ? ` ‡ ${s.reference.value} ${s.reference.unit} is the ${s.reference.source} figure measured earlier on this machine, not measured in this run.`
          : '';
        notes.push(`${c.spec.label}, ${s.id}: ${s.status}: ${s.reason}.${ref}`);
      }
    }
    for (const r of c.best.values()) {
      if (r.capped) {
        notes.push(
          `${c.spec.label}, ${r.id} †: the first call took longer than the capped-protocol limit, so it was the whole warm-up and ${r.reps} single call(s) were timed.`,
        );
      }
    }
  }
  const tw = details(results, 'tfjs-wasm');
  if (tw.multithread !== undefined) {
    notes.push(
      `TF.js wasm runs on ${tw.threads ?? '?'} thread (SIMD ${tw.simd}, multithread support ${tw.multithread}): tfjs-backend-wasm turns its threaded build off in Node (WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE; BENCHMARKS.md reached 60 GFLOP/s sgemm on 2 threads only by patching its worker start-up).`,
    );
  }
  if (results.some((c) => c.spec.framework === 'pytorch') && torchWhy === null) {
    notes.push(
      'PyTorch N threads: torch.set_num_threads(N) with OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=N (BENCHMARKS.md: two thread pools on two cores fight each other), except the sgemm rows, which run with OpenBLAS itself on N threads (set through openblas_set_num_threads; torch.mm runs inside OpenBLAS).',
    );
  }
  if (glibcVersion() !== null) {
    notes.push(
      `Neurite and TF.js processes run with the glibc malloc settings of the neurite CLI (${Object.entries(
        MALLOC_ENV,
      )
        .map(([k, v]) => `${k}=${v}`)
        .join(
          ' ',
        )}, src/cli/allocator.ts): fresh multi-MB typed arrays otherwise page-fault on first touch, which costs milliseconds per array on this VM.`,
    );
  }
  for (const name of ['neurite-wasm-1', 'neurite-wasm-2']) {
    const d = details(results, name);
    if (d.threads !== undefined && d.threads !== d['threads asked']) {
      notes.push(`${name}: asked for ${d['threads asked']} threads, got ${d.threads}.`);
    }
  }
  return notes;
}

function main(): void {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv);
  const started = new Date();
  const load0 = loadavg();
  const specs = CONFIGS.filter(
    (c) => args.configs === null || args.configs.some((p) => c.name.startsWith(p)),
  );
  if (specs.length === 0)
    throw new Error(`bench: --configs ${args.configs?.join(',')} matches no configuration`);
  const torchWhy = specs.some((c) => c.framework === 'pytorch') ? torchUnavailable() : null;
  if (torchWhy) process.stderr.write(`bench: note: ${torchWhy}\n`);

  const runs = new Map<string, ConfigRun[]>(specs.map((c) => [c.name, []]));
  for (let round = 1; round <= args.rounds; round++) {
    specs.forEach((c, i) => {
      const tag = `round ${round}/${args.rounds}, ${i + 1}/${specs.length}:`;
      const run = c.framework === 'pytorch' && torchWhy ? absentRun(torchWhy) : runConfig(c, args, tag);
      runs.get(c.name)!.push(run);
    });
  }
  const results = specs.map((c) => combine(c, runs.get(c.name)!));

  const table = resultsTable(results);
  const ratios = ratioTable(results);
  const targets = targetsTable(results);
  const micro = args.micro ? microTable(results) : null;
  const failed = failedChecks(results);
  const nChecks = results.reduce((k, c) => k + c.runs.reduce((j, r) => j + r.checks.size, 0), 0);
  const errors = results.flatMap((c) => c.runs.flatMap((r) => (r.error ? [r.error] : [])));
  const notes = notesOf(results, torchWhy);
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;

  const out: string[] = [
    '',
    ...table,
    '',
    'Speed of Neurite wasm 2 threads / peer (1 thread in parentheses); above 1: Neurite is faster:',
    '',
    ...ratios,
    '',
    ...targets.md,
    '',
    ...(micro ? ['issue-2 micro rows (Neurite TS backend vs TF.js cpu):', '', ...micro.md, ''] : []),
    ...notes.map((n) => `note: ${n}`),
    `correctness checks: ${nChecks === 0 ? 'none ran' : failed.length ? `FAILED: ${failed.join('; ')}` : `all ${nChecks} passed`}`,
    `targets not met: ${targets.missed.length ? targets.missed.join('; ') : 'none'}`,
    ...(targets.unmeasured.length
      ? [`targets not measured in this run: ${targets.unmeasured.join('; ')}`]
      : []),
    '',
  ];
  process.stdout.write(out.join('\n'));

  const complete = args.configs === null && args.only === null && args.mode !== 'tiny';
  const write = args.write || (complete && args.mode === 'full');
  if (!write) {
    process.stdout.write(
      `(bench/RESULTS.md left unchanged: it is written by full runs of every configuration and workload, or with --write)\n`,
    );
  } else {
    const file = join(here, 'RESULTS.md');
    let kept = '';
    try {
      const old = readFileSync(file, 'utf8');
      const at = old.indexOf(KEEP_MARKER);
      if (at >= 0) kept = `\n${old.slice(at)}`;
    } catch {
      // no previous results
    }
    writeFileSync(
      file,
      report({
        args,
        command,
        started,
        load0,
        results,
        table,
        ratios,
        targets,
        micro,
        notes,
        failed,
        errors,
      }) + kept,
    );
    process.stdout.write('wrote bench/RESULTS.md\n');
  }
  if (errors.length || failed.length) {
    process.stderr.write(
      `bench: errors:\n${[...errors, ...failed.map((f) => `check failed: ${f}`)].join('\n')}\n`,
    );
    process.exit(1);
  }
}

/** The body of bench/RESULTS.md (before the kept section). */
function report(r: {
  args: BenchArgs;
  command: string;
  started: Date;
  load0: number[];
  results: ConfigResult[];
  table: string[];
  ratios: string[];
  targets: { md: string[]; missed: string[]; unmeasured: string[] };
  micro: { md: string[]; missed: string[] } | null;
  notes: string[];
  failed: string[];
  errors: string[];
}): string {
  const { args, results } = r;
  const n = details(results, 'neurite-wasm-2');
  const nAny = { ...details(results, 'neurite-ts'), ...details(results, 'neurite-wasm-1'), ...n };
  const tc = details(results, 'tfjs-cpu');
  const tw = details(results, 'tfjs-wasm');
  const tt = { ...details(results, 'torch-1'), ...details(results, 'torch-2') };
  const p = protocolFor(args.mode);
  const checks = results.flatMap((c) =>
    c.runs.flatMap((run, i) =>
      [...run.checks.values()].map(
        (ch) =>
          `- ${c.spec.label}${c.runs.length > 1 ? ` (round ${i + 1})` : ''}, ${ch.id}: ${ch.ok ? 'pass' : 'FAIL'} (${ch.detail})`,
      ),
    ),
  );
  const runs = results.flatMap((c) =>
    c.runs.map(
      (run, i) =>
        `- ${c.spec.label}${c.runs.length > 1 ? ` (round ${i + 1})` : ''}: ${run.absent ? 'not run' : `${run.seconds.toFixed(0)} s, load ${run.load[0].toFixed(2)} → ${run.load[1].toFixed(2)}`}`,
    ),
  );
  const fmtLoad = r.load0.map((x) => x.toFixed(2)).join(', ');
  return [
    '# Neurite benchmarks: Neurite wasm and TypeScript backends vs TensorFlow.js and PyTorch (CPU)',
    '',
    `Written by \`${r.command}\` (bench/run.ts) on ${r.started.toISOString()}; load average at start ${fmtLoad} (1, 5, 15 min).`,
    '',
    '## Set-up',
    '',
    `- CPU: ${cpuModel()}, ${cpus().length} logical cores; Node ${process.version} (${process.platform}/${process.arch})`,
    `- Neurite ${nAny.neurite ?? '?'}: \`wasm\` backend (relaxed SIMD: ${n['relaxed SIMD'] ?? nAny['relaxed SIMD'] ?? '?'}) on 1 and 2 threads (\`setNumThreads\` + \`initWasmThreads\`), and the TypeScript \`cpu\` backend`,
    `- TensorFlow.js: @tensorflow/tfjs-core ${tc['tfjs-core'] ?? tw['tfjs-core'] ?? '?'}, tfjs-backend-cpu ${tc['tfjs-backend-cpu'] ?? '?'}, tfjs-backend-wasm ${tw['tfjs-backend-wasm'] ?? '?'} (core API: \`tf.variable\` + \`optimizer.minimize\`)`,
    `- PyTorch: ${tt.torch ? `${tt.torch} (Python ${tt.python}, BLAS ${tt.blas || '?'})` : 'not run'}`,
    `- Mode: ${args.mode}${args.mode === 'full' ? '' : ' (numbers are rough)'}, ${args.rounds} round(s)`,
    '',
    '## Workloads',
    '',
    ...WORKLOADS.map((w) => `- ${w.short}: ${w.label} (${w.unit})`),
    '',
    '## Results',
    '',
    'Median per call over the timed repeats, with (min–max) over repeats, in the unit of the row (GFLOP/s,',
    'samples/s, steps/s: higher is better; ms, ms/step: lower is better). "–": not applicable (sgemm rows',
    'take the configurations with that thread count). The last column is the correctness check of the',
    'Neurite wasm results against the TypeScript backend (see Protocol).',
    '',
    ...r.table,
    '',
    'Speed of Neurite wasm 2 threads over each peer (time of peer / time of Neurite; above 1: Neurite is',
    'faster), with Neurite wasm 1 thread in parentheses; sgemm rows compare equal thread counts.',
    '',
    ...r.ratios,
    '',
    '## Targets of issue 4',
    '',
    ...r.targets.md,
    '',
    `Not met: ${r.targets.missed.length ? r.targets.missed.join('; ') : 'none'}.${r.targets.unmeasured.length ? ` Not measured: ${r.targets.unmeasured.join('; ')}.` : ''}`,
    '',
    ...(r.micro
      ? [
          '## Issue-2 micro rows (`--micro`)',
          '',
          ...r.micro.md,
          '',
          `Below target: ${r.micro.missed.length ? r.micro.missed.join(', ') : 'none'}.`,
          '',
        ]
      : []),
    '## Notes',
    '',
    ...(r.notes.length ? r.notes.map((x) => `- ${x}`) : ['- none']),
    '',
    '## Correctness checks',
    '',
    ...(checks.length ? checks : ['- (none ran)']),
    '',
    '## Protocol',
    '',
    '- fp32, random normal inputs, the same shapes, models and optimizers everywhere (TF.js conv in its',
    '  NHWC / HWIO layout). A training step is zeroGrad, forward, loss, backward, optimizer step and the',
    '  loss read back as a number (TF.js: `optimizer.minimize(loss, true)` then `dataSync()`). sgemm and',
    '  conv read their results back too (Neurite and TF.js: `dataSync()`; PyTorch: `torch.mm(out=)`, autograd).',
    '- Each configuration runs in its own child process, one after the other, never concurrently:',
    '  `tsx bench/neurite.ts --config neurite-wasm-1|neurite-wasm-2|neurite-ts`, `tsx bench/tfjs.ts',
    '  --config tfjs-cpu|tfjs-wasm`, `/usr/bin/python3 bench/pytorch.py --config torch-1|torch-2`.',
    `- Per workload: warm up (at least ${p.warmupCalls} call(s) and ${p.warmupMinS} s, at most ${p.warmupMaxS} s), calibrate the calls per`,
    `  repeat so a repeat lasts about ${p.targetS} s, then time up to ${p.reps} repeats (at least ${p.minReps}) within about ${p.maxTotalS} s.`,
    `  A first call slower than ${p.slowCallS} s (TF.js cpu) caps it: that call is the warm-up, then ${p.slowReps} single calls are timed`,
    `  (one when the first took over ${p.verySlowCallS} s); such cells are marked †.`,
    '- Correctness: before timing, each Neurite wasm configuration builds every workload from the same seed',
    '  on the wasm backend and on the TypeScript backend in the same process and compares: the sgemm',
    '  product, conv2d output and both gradients, and for the training workloads the first step loss, every',
    "  parameter's gradient and the next two losses (max |Δ| / max |TS| within float32 tolerances; for the",
    "  CNN's conv parameters, which sit before max-pools whose argmax flips on a few near-ties between",
    '  float32 summation orders, ‖Δ‖₂ / ‖TS‖₂ ≤ 2e-2).',
    '  The TypeScript configuration checks its sgemm product against a float64 naive product at 64 entries.',
    '',
    'Run time and 1-minute load average before → after each process (above ~1 on this 2-core machine',
    'means other work shared the CPU, and the numbers are noisier):',
    '',
    ...runs,
    ...(r.errors.length ? ['', 'Errors:', '', ...r.errors.map((e) => `- ${e}`)] : []),
    '',
  ].join('\n');
}

main();
