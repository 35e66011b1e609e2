/**
 * Neurite's CPU backend on the bench workloads.
 * Run by bench/run.ts in its own process: `tsx bench/neurite.ts [--quick] [--only ids]`; prints JSON lines.
 * Every timed call does the whole job, result read back (dataSync) included. Before timing, the matmul
 * results are checked against a naive product (a small case in full, spot entries of each bench size).
 * @module
 */
import { readFileSync } from 'node:fs';
import * as nt from '../src/index.js';
import {
  ELEMENTWISE_N,
  emit,
  measure,
  metricOf,
  parseArgs,
  protocolFor,
  rowOf,
  selected,
} from './protocol.js';

const FW = 'neurite';
const ARGS = parseArgs(process.argv.slice(2));
const PROTOCOL = protocolFor(ARGS.quick);

function run(id: string, fn: () => void): void {
  if (!selected(ARGS, id)) return;
  emit(rowOf(FW, id, metricOf(id), measure(fn, PROTOCOL)));
}

function skip(id: string, reason: string): void {
  if (selected(ARGS, id)) emit({ kind: 'skip', framework: FW, id, reason });
}

/** Throws (failing the bench) unless `ok`; reports the check either way. */
function check(name: string, ok: boolean, detail: string): void {
  emit({ kind: 'check', framework: FW, name, ok, detail });
  if (!ok) throw new Error(`neurite bench check failed: ${name}: ${detail}`);
}

/** Element (i, j) of a·b for 2-d contiguous row-major data, in float64. */
function dotAt(a: Float32Array, b: Float32Array, k: number, n: number, i: number, j: number): number {
  let s = 0;
  for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
  return s;
}

/** Tolerance for a float32 dot product of length k with N(0,1) entries, against a float64 reference. */
const tol = (k: number): number => 1e-5 * k + 1e-4;

/** Full check of a small awkward case, also through a transposed (non-contiguous) operand. */
function checkMatmulSmall(): void {
  const [m, k, n] = [37, 53, 29];
  const a = nt.randn([m, k]);
  const bt = nt.randn([n, k]);
  const b = bt.transpose(0, 1); // [k, n], non-contiguous
  const bData = b.contiguous().dataSync() as Float32Array;
  const aData = a.dataSync() as Float32Array;
  const c = a.matmul(b).dataSync();
  let worst = 0;
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++)
      worst = Math.max(worst, Math.abs(c[i * n + j]! - dotAt(aData, bData, k, n, i, j)));
  check(
    `matmul ${m}x${k}·${k}x${n} (B transposed) vs naive`,
    worst <= tol(k),
    `max |err| = ${worst.toExponential(2)}`,
  );
}

/** Spot-checks 64 entries (corners included) of the n×n bench product against float64 dot products. */
function checkMatmulSpots(a: nt.Tensor, b: nt.Tensor, n: number): void {
  const aData = a.dataSync() as Float32Array;
  const bData = b.dataSync() as Float32Array;
  const c = a.matmul(b).dataSync();
  let worst = 0;
  for (let s = 0; s < 64; s++) {
    const i = s === 0 ? 0 : s === 1 ? n - 1 : (s * 7919) % n;
    const j = s === 0 ? 0 : s === 1 ? n - 1 : (s * 104729 + 13) % n;
    worst = Math.max(worst, Math.abs(c[i * n + j]! - dotAt(aData, bData, n, n, i, j)));
  }
  check(`matmul ${n} spot entries vs naive`, worst <= tol(n), `max |err| = ${worst.toExponential(2)}`);
}

type AnyFn = (...args: unknown[]) => unknown;

/** An export of `nn.functional` looked up at run time (ops still being written may be missing). */
function functional(name: string): AnyFn | null {
  const f = (nt.nn.functional as unknown as Record<string, unknown>)[name];
  return typeof f === 'function' ? (f as AnyFn) : null;
}

/** Which GEMM kernel the CPU backend imports (reported with the results). */
function gemmKernel(): string {
  try {
    const src = readFileSync(new URL('../src/backends/cpu/index.ts', import.meta.url), 'utf8');
    const m = /from '\.\/(gemm[^']*)\.js'/.exec(src);
    return m ? `src/backends/cpu/${m[1]}.ts` : 'unknown';
  } catch {
    return 'unknown';
  }
}

function main(): void {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  nt.manualSeed(0);
  emit({
    kind: 'info',
    framework: FW,
    version: pkg.version,
    details: { neurite: pkg.version, backend: nt.getBackend().name, gemm: gemmKernel() },
  });

  checkMatmulSmall();
  for (const n of [128, 512, 1024]) {
    const id = `matmul-${n}`;
    if (!selected(ARGS, id)) continue;
    const a = nt.randn([n, n]);
    const b = nt.randn([n, n]);
    checkMatmulSpots(a, b, n);
    run(id, () => {
      a.matmul(b).dataSync();
    });
  }

  const conv2d = functional('conv2d');
  if (!conv2d) {
    skip('conv2d-fwd-bwd', 'nn.functional.conv2d does not exist yet');
  } else {
    const x = nt.randn([64, 1, 28, 28], { requiresGrad: true });
    const w = nt.randn([32, 1, 5, 5], { requiresGrad: true });
    const dy = nt.randn([64, 32, 28, 28]);
    run('conv2d-fwd-bwd', () => {
      const y = conv2d(x, w, null, { stride: 1, padding: 2 }) as nt.Tensor;
      const [gx, gw] = nt.autogradGrad(y, [x, w], { gradOutputs: [dy] });
      gx!.dataSync();
      gw!.dataSync();
    });
  }

  const a = nt.randn([ELEMENTWISE_N]);
  const b = nt.randn([ELEMENTWISE_N]);
  run('add-1M', () => {
    a.add(b).dataSync();
  });
  run('mul-1M', () => {
    a.mul(b).dataSync();
  });
  run('exp-1M', () => {
    a.exp().dataSync();
  });

  const softmax = functional('softmax');
  if (!softmax) {
    skip('softmax-256x1000', 'nn.functional.softmax does not exist yet');
  } else {
    const x = nt.randn([256, 1000]);
    run('softmax-256x1000', () => {
      (softmax(x, 1) as nt.Tensor).dataSync();
    });
  }
}

try {
  main();
} catch (e) {
  console.error('neurite bench failed:', e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
}
