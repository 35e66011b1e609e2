/**
 * Profiles one training step of a small MNIST-sized CNN on the CPU backend, phase by phase.
 *
 * Model (nn.functional with plain leaf parameters, batch 64, 1x28x28 inputs, 10 classes):
 *   conv(1->C1, 5x5, pad 2) + ReLU + maxPool 2 -> conv(C1->C2, 5x5, pad 2) + ReLU + maxPool 2
 *   -> flatten -> linear(C2*49 -> 128) + ReLU -> linear(128 -> 10)
 * and a variant with batchNorm (training mode) after each conv and dropout(0.5) before the last linear.
 * A step is: zero grads (set to null), forward, cross entropy, backward, SGD update under noGrad.
 *
 * Usage: `npx tsx bench/cnn-step.ts [--reps N] [--only 8x16,16x32bn,...] [--kernels]`
 * Wall-clock phases and samples/s are medians over the repeats; the CPU time per step (process
 * user + system, which includes V8's GC threads) is printed too, as it varies less on a busy host.
 * `--kernels` also times every backend kernel call (wrapping the backend), to split the step into
 * GEMM, other kernels and the JS glue around them.
 * @module
 */
// The library's pieces are imported one by one (not src/index.ts) so that this profile runs while
// unrelated modules (optim, data, io, train) are being written.
import { noGrad } from '../src/autograd/grad-mode.js';
import { getBackend, registerBackend } from '../src/backends/backend.js';
import { createCpuBackend } from '../src/backends/cpu/index.js';
import { ones, rand, randint, randn, zeros } from '../src/core/creation.js';
import { manualSeed } from '../src/core/random.js';
import type { Tensor } from '../src/core/tensor.js';
import * as F from '../src/nn/functional/index.js';
import '../src/ops/binary.js';
import '../src/ops/indexing.js';
import '../src/ops/inplace.js';
import '../src/ops/linalg.js';
import '../src/ops/matmul.js';
import '../src/ops/reduce.js';
import '../src/ops/shape.js';
import '../src/ops/unary.js';
import '../src/ops/views.js';
import { median } from './protocol.js';

registerBackend('cpu', createCpuBackend);
const nt = { noGrad, getBackend, ones, rand, randint, randn, zeros, manualSeed };

interface Args {
  reps: number;
  only: string[] | null;
  kernels: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { reps: 15, only: null, kernels: false };
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i]!;
    if (s === '--reps') a.reps = Number(argv[++i]);
    else if (s === '--only') a.only = argv[++i]!.split(',');
    else if (s === '--kernels') a.kernels = true;
  }
  return a;
}

const ARGS = parseArgs(process.argv.slice(2));
const BATCH = 64;
const LR = 0.01;

/** A leaf parameter with PyTorch-like default scale U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
function param(shape: number[], fanIn: number): Tensor {
  const b = 1 / Math.sqrt(fanIn);
  return nt
    .rand(shape)
    .mul(2 * b)
    .sub(b)
    .requiresGrad_();
}

interface Model {
  params: Tensor[];
  forward: (x: Tensor) => Tensor;
}

function makeModel(c1: number, c2: number, bn: boolean): Model {
  const w1 = param([c1, 1, 5, 5], 25);
  const b1 = param([c1], 25);
  const w2 = param([c2, c1, 5, 5], c1 * 25);
  const b2 = param([c2], c1 * 25);
  const w3 = param([128, c2 * 49], c2 * 49);
  const b3 = param([128], c2 * 49);
  const w4 = param([10, 128], 128);
  const b4 = param([10], 128);
  const params = [w1, b1, w2, b2, w3, b3, w4, b4];
  const g1 = nt.ones([c1]).requiresGrad_();
  const be1 = nt.zeros([c1]).requiresGrad_();
  const g2 = nt.ones([c2]).requiresGrad_();
  const be2 = nt.zeros([c2]).requiresGrad_();
  const rm1 = nt.zeros([c1]);
  const rv1 = nt.ones([c1]);
  const rm2 = nt.zeros([c2]);
  const rv2 = nt.ones([c2]);
  if (bn) params.push(g1, be1, g2, be2);
  const forward = (x: Tensor): Tensor => {
    let h = F.conv2d(x, w1, b1, { padding: 2 });
    if (bn) h = F.batchNorm(h, rm1, rv1, g1, be1, { training: true });
    h = F.maxPool2d(h.relu(), 2);
    h = F.conv2d(h, w2, b2, { padding: 2 });
    if (bn) h = F.batchNorm(h, rm2, rv2, g2, be2, { training: true });
    h = F.maxPool2d(h.relu(), 2);
    h = F.linear(h.reshape([h.shape[0]!, c2 * 49]), w3, b3).relu();
    if (bn) h = F.dropout(h, { p: 0.5, training: true });
    return F.linear(h, w4, b4);
  };
  return { params, forward };
}

const PHASES = ['zero', 'forward', 'loss', 'backward', 'update'] as const;
type Phase = (typeof PHASES)[number];

/** Per-kernel timers (when --kernels): total ms and calls per backend method. */
const kernelMs = new Map<string, number>();
const kernelCalls = new Map<string, number>();

function instrumentBackend(): void {
  const b = nt.getBackend() as unknown as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    const f = b[key];
    if (typeof f !== 'function' || key === 'read') continue;
    const orig = f as (...args: unknown[]) => unknown;
    b[key] = (...args: unknown[]): unknown => {
      // Name matmuls by whether they are the conv/linear GEMMs; other kernels by op.
      const name = key === 'unary' || key === 'binary' || key === 'reduce' ? `${key}:${args[0]}` : key;
      const t0 = performance.now();
      const r = orig(...args);
      const dt = performance.now() - t0;
      kernelMs.set(name, (kernelMs.get(name) ?? 0) + dt);
      kernelCalls.set(name, (kernelCalls.get(name) ?? 0) + 1);
      return r;
    };
  }
}

function runVariant(name: string, c1: number, c2: number, bn: boolean): void {
  nt.manualSeed(0);
  const model = makeModel(c1, c2, bn);
  const x = nt.randn([BATCH, 1, 28, 28]);
  const y = nt.randint(0, 10, [BATCH]);
  const times: Record<Phase, number[]> = { zero: [], forward: [], loss: [], backward: [], update: [] };
  const totals: number[] = [];
  const cpu: number[] = [];
  const step = (record: boolean): number => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const p of model.params) p.grad = null;
    const t1 = performance.now();
    const logits = model.forward(x);
    const t2 = performance.now();
    const loss = F.crossEntropy(logits, y);
    const lv = loss.item();
    const t3 = performance.now();
    loss.backward();
    const t4 = performance.now();
    nt.noGrad(() => {
      for (const p of model.params) p.sub_(p.grad!, { alpha: LR });
    });
    const t5 = performance.now();
    const c1 = process.cpuUsage(c0);
    if (record) {
      cpu.push((c1.user + c1.system) / 1000);
      times.zero.push(t1 - t0);
      times.forward.push(t2 - t1);
      times.loss.push(t3 - t2);
      times.backward.push(t4 - t3);
      times.update.push(t5 - t4);
      totals.push(t5 - t0);
    }
    return lv;
  };
  for (let i = 0; i < 3; i++) step(false);
  kernelMs.clear();
  kernelCalls.clear();
  let last = 0;
  for (let i = 0; i < ARGS.reps; i++) last = step(true);
  const med = median(totals);
  const parts = PHASES.map((p) => `${p} ${median(times[p]).toFixed(1)}`).join(', ');
  console.log(
    `${name.padEnd(10)} step ${med.toFixed(1).padStart(6)} ms (best ${Math.min(...totals).toFixed(1)})  ` +
      `${((BATCH * 1000) / med).toFixed(0).padStart(5)} samples/s  (cpu ${median(cpu).toFixed(1)} ms/step: ` +
      `${((BATCH * 1000) / median(cpu)).toFixed(0)} samples/cpu-s)  [${parts}] loss ${last.toFixed(3)}`,
  );
  if (ARGS.kernels) {
    const perStep = (ms: number): number => ms / ARGS.reps;
    let all = 0;
    for (const v of kernelMs.values()) all += v;
    const rows = [...kernelMs.entries()].sort((a, b) => b[1] - a[1]);
    const gemm = kernelMs.get('matmul') ?? 0;
    console.log(
      `  kernels ${perStep(all).toFixed(1)} ms/step of ${(totals.reduce((a, b) => a + b, 0) / ARGS.reps).toFixed(1)} ` +
        `(GEMM ${perStep(gemm).toFixed(1)} ms = ${((100 * gemm) / (totals.reduce((a, b) => a + b, 0) || 1)).toFixed(0)}% of the step)`,
    );
    for (const [k, v] of rows) {
      if (perStep(v) < 0.05) continue;
      console.log(
        `    ${k.padEnd(22)} ${perStep(v).toFixed(2).padStart(7)} ms  ${String((kernelCalls.get(k) ?? 0) / ARGS.reps).padStart(4)} calls`,
      );
    }
  }
}

const VARIANTS: [string, number, number, boolean][] = [
  ['8x16', 8, 16, false],
  ['16x32', 16, 32, false],
  ['32x64', 32, 64, false],
  ['8x16bn', 8, 16, true],
  ['16x32bn', 16, 32, true],
  ['32x64bn', 32, 64, true],
];

if (ARGS.kernels) instrumentBackend();
for (const [name, c1, c2, bn] of VARIANTS) {
  if (ARGS.only && !ARGS.only.includes(name)) continue;
  runVariant(name, c1, c2, bn);
}
