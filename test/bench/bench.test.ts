/**
 * The benchmark suite's plumbing (bench/): option parsing, the timing protocol's control flow, the report
 * arithmetic on synthetic lines, and the framework scripts run for real in `--tiny` mode (tiny shapes,
 * one short repeat), checking their JSON lines and Neurite's wasm-vs-TS correctness checks. Timings are
 * not asserted: they mean nothing at these sizes.
 */
import { execFile, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type BenchLine,
  measure,
  parseArgs,
  parseLines,
  passOn,
  protocolFor,
  type RowLine,
  unitValue,
  WORKLOADS,
} from '../../bench/protocol.js';
import {
  CONFIGS,
  type ConfigRun,
  collect,
  combine,
  configSpec,
  microTable,
  ratioTable,
  resultsTable,
  targetsTable,
} from '../../bench/report.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSX = join(root, 'node_modules', '.bin', 'tsx');
const run = promisify(execFile);

/** Runs a bench script in --tiny mode; its exit code, JSON lines and other output. */
async function tiny(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ lines: BenchLine[]; other: string[] }> {
  const { stdout } = await run(cmd, [...args, '--tiny'], { cwd: root, env, maxBuffer: 16 << 20 });
  return parseLines(stdout);
}

const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch']).status === 0;

describe('bench options', () => {
  it('parses the options and passes them on', () => {
    const a = parseArgs([
      '--quick',
      '--only',
      'sgemm,mlp',
      '--configs',
      'neurite',
      '--micro',
      '--rounds',
      '2',
    ]);
    expect(a).toMatchObject({
      mode: 'quick',
      only: ['sgemm', 'mlp'],
      configs: ['neurite'],
      micro: true,
      rounds: 2,
    });
    expect(passOn(a)).toEqual(['--quick', '--only', 'sgemm,mlp', '--micro']);
    expect(parseArgs([]).mode).toBe('full');
    expect(parseArgs(['--tiny', '--quick']).mode).toBe('tiny');
    expect(() => parseArgs(['--quik'])).toThrow(/unknown option --quik/);
    expect(() => parseArgs(['--only'])).toThrow(/--only needs a value/);
    expect(() => parseArgs(['--rounds', '0'])).toThrow(/positive integer/);
  });
});

describe('bench protocol', () => {
  it('warms up, calibrates and times repeats', () => {
    let calls = 0;
    const t = measure(
      () => {
        calls++;
      },
      { ...protocolFor('tiny'), warmupCalls: 3, targetS: 0.001, reps: 4, minReps: 4 },
    );
    expect(t.capped).toBe(false);
    expect(t.warmup).toBeGreaterThanOrEqual(3);
    expect(t.reps).toBe(4);
    expect(calls).toBe(t.warmup + t.reps * t.inner);
    expect(t.min).toBeLessThanOrEqual(t.med);
    expect(t.med).toBeLessThanOrEqual(t.max);
  });

  it('caps a workload whose first call is slower than slowCallS', () => {
    let calls = 0;
    const t = measure(
      () => {
        calls++;
      },
      { ...protocolFor('full'), slowCallS: -1, slowReps: 2 },
    );
    expect(t).toMatchObject({ capped: true, warmup: 1, reps: 2, inner: 1 });
    expect(calls).toBe(3);
    const once = measure(() => {}, { ...protocolFor('full'), slowCallS: -1, slowReps: 2, verySlowCallS: -1 });
    expect(once).toMatchObject({ capped: true, warmup: 1, reps: 1 });
  });

  it('converts seconds per call into each unit', () => {
    expect(unitValue('GFLOP/s', 2e9, 0.5)).toBeCloseTo(4);
    expect(unitValue('samples/s', 64, 0.064)).toBeCloseTo(1000);
    expect(unitValue('steps/s', 1, 0.0005)).toBeCloseTo(2000);
    expect(unitValue('ms/step', 1, 0.03)).toBeCloseTo(30);
  });
});

/** A synthetic row of configuration `config` taking `ms` per call (value in the workload's unit). */
function row(config: string, id: string, ms: number): RowLine {
  const w = WORKLOADS.find((x) => x.id === id)!;
  const full = { gemmN: 1024, convBatch: 64, cnnBatch: 64, mlpBatch: 32, lstmT: 50, lstmBatch: 32 };
  const value = unitValue(w.unit, w.work(full), ms / 1e3);
  return {
    kind: 'row',
    config,
    id,
    unit: w.unit,
    value,
    lo: value,
    hi: value,
    medianMs: ms,
    minMs: ms,
    maxMs: ms,
    inner: 1,
    reps: 3,
    warmup: 1,
    capped: false,
    threads: configSpec(config).threads,
  };
}

function resultOf(config: string, lines: BenchLine[], extra: Partial<ConfigRun> = {}) {
  return combine(configSpec(config), [{ ...collect(lines), ...extra }]);
}

describe('bench report', () => {
  it('computes ratios, thread-matched sgemm rows, cannot/skipped cells and targets', () => {
    const results = [
      resultOf('neurite-wasm-1', [
        row('neurite-wasm-1', 'sgemm-1024', (2 * 1024 ** 3) / 50e9 / 1e-3), // 50 GFLOP/s
        row('neurite-wasm-1', 'mlp-train', 1),
        { kind: 'check', config: 'neurite-wasm-1', id: 'mlp-train', ok: true, detail: '' },
      ]),
      resultOf('neurite-wasm-2', [
        row('neurite-wasm-2', 'sgemm-1024', (2 * 1024 ** 3) / 70e9 / 1e-3), // 70 GFLOP/s: below 75
        row('neurite-wasm-2', 'cnn-train', 32), // 2,000 samples/s
        row('neurite-wasm-2', 'mlp-train', 0.25), // 4,000 steps/s
        { kind: 'check', config: 'neurite-wasm-2', id: 'mlp-train', ok: false, detail: 'bad' },
      ]),
      resultOf('tfjs-wasm', [
        row('tfjs-wasm', 'sgemm-1024', (2 * 1024 ** 3) / 25e9 / 1e-3),
        row('tfjs-wasm', 'mlp-train', 4),
        { kind: 'skip', config: 'tfjs-wasm', id: 'cnn-train', status: 'cannot', reason: 'no kernel' },
      ]),
      resultOf('tfjs-cpu', [
        row('tfjs-cpu', 'mlp-train', 20),
        {
          kind: 'skip',
          config: 'tfjs-cpu',
          id: 'cnn-train',
          status: 'skipped',
          reason: 'slow',
          reference: { value: 0.64, unit: 'samples/s', source: 'BENCHMARKS.md' },
        },
      ]),
      resultOf('torch-1', [], { absent: 'no torch' }),
    ];
    const table = resultsTable(results).join('\n');
    expect(table).toContain('| sgemm 1024, 1 thread ');
    expect(table).toMatch(/\| sgemm 1024, 1 thread +\| GFLOP\/s +\| 50\.0 \(50\.0–50\.0\) +\| – +\|/);
    expect(table).toMatch(/\| sgemm 1024, 2 threads +\| GFLOP\/s +\| – +\| 70\.0 /);
    expect(table).toContain('cannot');
    expect(table).toContain('skipped (ref. 0.64 ‡)');
    expect(table).toContain('unavailable');
    expect(table).toMatch(/MLP train step .*\| pass \/ FAIL +\|/);

    const ratios = ratioTable(results).join('\n');
    // MLP: wasm 2t 0.25 ms vs TF.js wasm 4 ms: 16×; wasm 1t 1 ms: 4×.
    expect(ratios).toMatch(/MLP train step +\| 16\.00× \(4\.00×\) +\| 80\.00× \(20\.00×\)/);
    // sgemm 1 thread: only wasm 1t (50) vs TF.js wasm (25).
    expect(ratios).toMatch(/sgemm 1024, 1 thread +\| 2\.00× +\| – +\|/);
    // CNN vs TF.js cpu's reference figure 0.64 samples/s: 2,000 / 0.64 = 3,125×, marked ‡.
    expect(ratios).toMatch(/MNIST CNN train step +\| cannot +\| 3,125× ‡/);

    const targets = targetsTable(results);
    expect(targets.missed).toEqual(['sgemm 1024, 2 threads ≥ 75 GFLOP/s']);
    expect(targets.unmeasured).toEqual(['LSTM training ≤ 30 ms/step']);
    expect(targets.md.join('\n')).toMatch(
      /MLP training ≥ 2,000 steps\/s +\| Neurite wasm 2t +\| 4,000 steps\/s +\| met/,
    );
  });

  it('builds the issue-2 micro table with its targets', () => {
    const results = [
      resultOf('neurite-ts', [row('neurite-ts', 'sgemm-1024', 100)]),
      resultOf('tfjs-cpu', [row('tfjs-cpu', 'sgemm-1024', 50)]),
    ];
    const m = microTable(results);
    expect(m.md.join('\n')).toMatch(/matmul 1024 .*\| 0\.50× +\| ≥ 1× +\| NO/);
    expect(m.missed).toEqual(['sgemm-1024']);
  });

  it('lists every configuration the issue asks for', () => {
    expect(CONFIGS.map((c) => c.name)).toEqual([
      'neurite-wasm-1',
      'neurite-wasm-2',
      'neurite-ts',
      'tfjs-cpu',
      'tfjs-wasm',
      'torch-1',
      'torch-2',
    ]);
  });
});

describe('bench scripts (--tiny)', () => {
  let wasm2: { lines: BenchLine[]; other: string[] };
  let ts: { lines: BenchLine[]; other: string[] };
  let tfjs: { lines: BenchLine[]; other: string[] };
  beforeAll(async () => {
    // Plumbing only, so the three processes may share the CPU.
    [wasm2, ts, tfjs] = await Promise.all([
      tiny(TSX, ['bench/neurite.ts', '--config', 'neurite-wasm-2']),
      tiny(TSX, ['bench/neurite.ts', '--config', 'neurite-ts', '--only', 'sgemm,mlp']),
      tiny(TSX, ['bench/tfjs.ts', '--config', 'tfjs-wasm', '--only', 'sgemm,conv,mlp']),
    ]);
  }, 60_000);

  const rowsOf = (lines: BenchLine[]): RowLine[] => lines.filter((l): l is RowLine => l.kind === 'row');

  it('Neurite wasm (2 threads): a row and a passing check against the TS backend per workload', () => {
    const info = wasm2.lines.find((l) => l.kind === 'info');
    expect(info).toMatchObject({ config: 'neurite-wasm-2', framework: 'neurite' });
    expect(info?.kind === 'info' && info.details.backend).toBe('wasm');
    const rows = rowsOf(wasm2.lines);
    expect(rows.map((r) => r.id)).toEqual(WORKLOADS.map((w) => w.id));
    for (const r of rows) {
      expect(r.unit).toBe(WORKLOADS.find((w) => w.id === r.id)!.unit);
      expect(r.value).toBeGreaterThan(0);
      expect(Number.isFinite(r.value)).toBe(true);
      expect(r.medianMs).toBeGreaterThan(0);
      expect(r.lo).toBeLessThanOrEqual(r.hi);
    }
    const checks = wasm2.lines.filter((l) => l.kind === 'check');
    expect(checks.map((c) => c.id)).toEqual(WORKLOADS.map((w) => w.id));
    for (const c of checks) expect(c, c.kind === 'check' ? c.detail : '').toMatchObject({ ok: true });
  });

  it('Neurite TS: --only selects workloads; sgemm checked against a naive product', () => {
    expect(rowsOf(ts.lines).map((r) => r.id)).toEqual(['sgemm-1024', 'mlp-train']);
    expect(ts.lines.filter((l) => l.kind === 'check')).toEqual([
      expect.objectContaining({ id: 'sgemm-1024', ok: true }),
    ]);
  });

  it('TF.js wasm: rows, and "cannot" for conv2d (no Conv2DBackpropFilter kernel)', () => {
    expect(rowsOf(tfjs.lines).map((r) => r.id)).toEqual(['sgemm-1024', 'mlp-train']);
    expect(tfjs.lines.find((l) => l.kind === 'skip')).toMatchObject({
      id: 'conv2d-fwd-bwd',
      status: 'cannot',
      reason: expect.stringMatching(/Conv2DBackpropFilter/),
    });
  });

  it('the report of the real lines', () => {
    const results = [resultOf('neurite-wasm-2', wasm2.lines), resultOf('neurite-ts', ts.lines)];
    const table = resultsTable(results).join('\n');
    expect(table).toContain('wasm vs TS check (2t)');
    expect(table).not.toContain('FAIL');
    expect(table).toMatch(/MLP train step +\| steps\/s +\| [\d.,]+ \(/);
  });

  it.skipIf(!hasTorch)('PyTorch prints the same line shapes', async () => {
    const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' };
    const { lines } = await tiny(
      '/usr/bin/python3',
      ['bench/pytorch.py', '--config', 'torch-1', '--only', 'mlp'],
      env,
    );
    const rows = rowsOf(lines);
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0]!).sort()).toEqual(Object.keys(rowsOf(wasm2.lines)[0]!).sort());
    expect(rows[0]).toMatchObject({ config: 'torch-1', id: 'mlp-train', unit: 'steps/s', threads: 1 });
  });

  it('run.ts runs the configurations and leaves RESULTS.md alone in --tiny mode', () => {
    const p = spawnSync(TSX, ['bench/run.ts', '--tiny', '--configs', 'neurite-ts', '--only', 'mlp'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/\| MLP train step +\| steps\/s +\| –? ?[\d.,]+ \(/);
    expect(p.stdout).toContain('bench/RESULTS.md left unchanged');
  });
});
