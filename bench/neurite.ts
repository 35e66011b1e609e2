/**
 * Neurite on the bench workloads, in one configuration per process (run by bench/run.ts):
 * `tsx bench/neurite.ts --config neurite-wasm-1|neurite-wasm-2|neurite-ts [--quick|--tiny] [--only ids]
 * [--micro]`; prints JSON lines (bench/protocol.ts).
 *
 * `neurite-wasm-N` selects the `wasm` backend with N threads (`setNumThreads` + `initWasmThreads`),
 * `neurite-ts` the TypeScript `cpu` backend. Every timed call does the whole job and reads its result
 * back (`dataSync()` / `item()`). Before timing, each workload of a wasm configuration is checked against
 * the TypeScript backend in the same process: the same seed builds the same inputs and model on both
 * backends, and the results (the product, the conv gradients, the first training step's loss and
 * gradients and the next two losses) must agree within float32 tolerances. The TypeScript configuration
 * checks its sgemm product against a float64 naive product at spot entries.
 * @module
 */
import { readFileSync } from 'node:fs';
import * as wasm from '../src/backends/wasm/index.js';
import * as nt from '../src/index.js';
import {
  ELEMENTWISE_N,
  emit,
  MICRO_WORKLOADS,
  measure,
  parseArgs,
  protocolFor,
  rowOf,
  type Sizes,
  selected,
  sizesFor,
  WORKLOADS,
  type Workload,
  workloadOf,
} from './protocol.js';

const ARGS = parseArgs(process.argv.slice(2));
const CONFIG = ARGS.config ?? 'neurite-ts';
const PROTOCOL = protocolFor(ARGS.mode);
const SIZES: Sizes = sizesFor(ARGS.mode);

/** Backend and thread count of a configuration name. */
function parseConfig(name: string): { backend: 'wasm' | 'cpu'; threads: number } {
  const m = /^neurite-wasm-(\d+)$/.exec(name);
  if (m) return { backend: 'wasm', threads: Number(m[1]) };
  if (name === 'neurite-ts') return { backend: 'cpu', threads: 1 };
  throw new Error(`neurite bench: unknown --config ${name} (neurite-wasm-<threads> or neurite-ts)`);
}

/**
 * Named float arrays a workload produces from its seed, compared between backends: the error is
 * max|Δ| / max|ref| (`max`) or ‖Δ‖₂ / ‖ref‖₂ (`l2`), and must be at most `rtol`.
 */
type Probe = Map<string, { data: Float64Array; rtol: number; norm?: 'max' | 'l2' }>;

/** A workload as Neurite runs it. */
interface NeuriteWorkload {
  /** Builds inputs (and model) from the workload's seed on the current backend; returns one timed call. */
  build: () => () => void;
  /** Builds afresh from the same seed on the current backend and returns the results to compare. */
  probe: () => Probe;
}

const f64 = (a: ArrayLike<number>): Float64Array => Float64Array.from(a);

/** Largest |a - b| over the largest |b|, or the L2 norms' ratio (the difference itself when b is 0). */
function relErr(a: Float64Array, b: Float64Array, norm: 'max' | 'l2'): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) return Number.POSITIVE_INFINITY;
    if (norm === 'max') {
      d = Math.max(d, Math.abs(x - y));
      m = Math.max(m, Math.abs(y));
    } else {
      d += (x - y) ** 2;
      m += y ** 2;
    }
  }
  if (norm === 'l2') [d, m] = [Math.sqrt(d), Math.sqrt(m)];
  return m === 0 ? d : d / m;
}

/** Compares a probe against the reference backend's; the worst entry relative to its tolerance decides. */
function compareProbes(got: Probe, ref: Probe): { ok: boolean; detail: string } {
  let worst: { name: string; err: number; rtol: number; score: number; norm: 'max' | 'l2' } = {
    name: '',
    err: 0,
    rtol: 1,
    score: -1,
    norm: 'max',
  };
  for (const [name, r] of ref) {
    const g = got.get(name);
    const norm = r.norm ?? 'max';
    const err = g ? relErr(g.data, r.data, norm) : Number.POSITIVE_INFINITY;
    const score = err / r.rtol;
    if (score > worst.score) worst = { name, err, rtol: r.rtol, score, norm };
  }
  const ok = worst.score <= 1 && got.size === ref.size;
  const what = worst.norm === 'max' ? 'max|Δ|/max|ref|' : '‖Δ‖₂/‖ref‖₂';
  return {
    ok,
    detail: `${ref.size} result(s) vs TS backend; worst: ${worst.name} ${what} = ${worst.err.toExponential(2)} (tol ${worst.rtol.toExponential(0)})`,
  };
}

/** A training set-up: its parameters, optimizer and loss closure. */
interface Trainer {
  params: nt.Tensor[];
  /**
   * Indices of the parameters upstream of a max-pool. Their gradients are compared in L2 norm with a
   * looser tolerance: float32 rounding that differs between backends flips the argmax of a few
   * near-tied pooling windows (2 of 800k in the CNN's second pool with seed 3), which moves whole
   * gradient entries and changes max|Δ| by about 1% while the L2 error stays near 1e-3.
   */
  beforePool?: readonly number[];
  opt: { zeroGrad(): void; step(): unknown };
  loss: () => nt.Tensor;
}

/** One training step: zeroGrad, forward + loss, backward, optimizer step, loss read back. */
function trainStep(t: Trainer): number {
  t.opt.zeroGrad();
  const l = t.loss();
  l.backward();
  t.opt.step();
  return l.item();
}

/** A training workload: the step is timed; the probe compares the first step's loss and gradients. */
function training(seed: number, make: () => Trainer): NeuriteWorkload {
  const fresh = (): Trainer => {
    nt.manualSeed(seed);
    return make();
  };
  return {
    build: () => {
      const t = fresh();
      return () => {
        trainStep(t);
      };
    },
    probe: () => {
      const t = fresh();
      const out: Probe = new Map();
      t.opt.zeroGrad();
      const l = t.loss();
      l.backward();
      out.set('loss of step 1', { data: f64([l.item()]), rtol: 1e-5 });
      t.params.forEach((p, i) => {
        if (!p.grad) return;
        const pooled = t.beforePool?.includes(i) ?? false;
        out.set(`grad of parameter ${i} [${p.shape.join('×')}]`, {
          data: f64(p.grad.dataSync()),
          ...(pooled ? { rtol: 2e-2, norm: 'l2' as const } : { rtol: 1e-4 }),
        });
      });
      t.opt.step();
      out.set('losses of steps 2-3', { data: f64([trainStep(t), trainStep(t)]), rtol: 1e-3 });
      return out;
    },
  };
}

/** The issue-4 workloads. */
function workloads(s: Sizes): Record<string, NeuriteWorkload> {
  const F = nt.nn.functional;
  const nn = nt.nn;
  return {
    'sgemm-1024': {
      build: () => {
        nt.manualSeed(1);
        const a = nt.randn([s.gemmN, s.gemmN]);
        const b = nt.randn([s.gemmN, s.gemmN]);
        return () => {
          a.matmul(b).dataSync();
        };
      },
      probe: () => {
        nt.manualSeed(1);
        const a = nt.randn([s.gemmN, s.gemmN]);
        const b = nt.randn([s.gemmN, s.gemmN]);
        return new Map([['C = A·B', { data: f64(a.matmul(b).dataSync()), rtol: 2e-5 }]]);
      },
    },
    'conv2d-fwd-bwd': {
      build: () => {
        nt.manualSeed(2);
        const x = nt.randn([s.convBatch, 1, 28, 28], { requiresGrad: true });
        const w = nt.randn([32, 1, 5, 5], { requiresGrad: true });
        const dy = nt.randn([s.convBatch, 32, 28, 28]);
        return () => {
          const y = F.conv2d(x, w, null, { stride: 1, padding: 2 });
          const [gx, gw] = nt.autogradGrad(y, [x, w], { gradOutputs: [dy] });
          gx!.dataSync();
          gw!.dataSync();
        };
      },
      probe: () => {
        nt.manualSeed(2);
        const x = nt.randn([s.convBatch, 1, 28, 28], { requiresGrad: true });
        const w = nt.randn([32, 1, 5, 5], { requiresGrad: true });
        const dy = nt.randn([s.convBatch, 32, 28, 28]);
        const y = F.conv2d(x, w, null, { stride: 1, padding: 2 });
        const [gx, gw] = nt.autogradGrad(y, [x, w], { gradOutputs: [dy] });
        return new Map([
          ['y', { data: f64(y.dataSync()), rtol: 1e-5 }],
          ['dx', { data: f64(gx!.dataSync()), rtol: 1e-5 }],
          ['dw', { data: f64(gw!.dataSync()), rtol: 1e-5 }],
        ]);
      },
    },
    'cnn-train': training(3, () => {
      const m = new nn.Sequential(
        new nn.Conv2d(1, 32, 5, { padding: 2 }),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Conv2d(32, 64, 5, { padding: 2 }),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Flatten(),
        new nn.Linear(3136, 128),
        new nn.ReLU(),
        new nn.Linear(128, 10),
      );
      const params = m.parameters();
      const opt = new nt.optim.Adam(params, { lr: 1e-3 });
      const x = nt.randn([s.cnnBatch, 1, 28, 28]);
      const y = nt.randint(0, 10, [s.cnnBatch]);
      const loss = (): nt.Tensor => F.crossEntropy(m.forward(x) as nt.Tensor, y);
      // conv1 and conv2 weights and biases sit before max-pools
      return { params, opt, loss, beforePool: [0, 1, 2, 3] };
    }),
    'mlp-train': training(4, () => {
      const m = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
      const params = m.parameters();
      const opt = new nt.optim.SGD(params, { lr: 0.01 });
      const x = nt.randn([s.mlpBatch, 784]);
      const y = nt.randint(0, 10, [s.mlpBatch]);
      return { params, opt, loss: () => F.crossEntropy(m.forward(x) as nt.Tensor, y) };
    }),
    'lstm-train': training(5, () => {
      const m = new nn.LSTM(64, 128, { numLayers: 1 });
      const params = m.parameters();
      const opt = new nt.optim.Adam(params, { lr: 1e-3 });
      const x = nt.randn([s.lstmT, s.lstmBatch, 64]);
      const target = nt.randn([1, s.lstmBatch, 128]);
      return {
        params,
        opt,
        loss: () => {
          const [, [h]] = m.forward(x);
          return F.mseLoss(h, target);
        },
      };
    }),
  };
}

/** The issue-2 micro workloads (`--micro`). */
function microWorkloads(): Record<string, () => () => void> {
  const F = nt.nn.functional;
  const square = (n: number) => () => {
    nt.manualSeed(6);
    const a = nt.randn([n, n]);
    const b = nt.randn([n, n]);
    return () => {
      a.matmul(b).dataSync();
    };
  };
  const elementwise = (op: (a: nt.Tensor, b: nt.Tensor) => nt.Tensor) => () => {
    nt.manualSeed(7);
    const a = nt.randn([ELEMENTWISE_N]);
    const b = nt.randn([ELEMENTWISE_N]);
    return () => {
      op(a, b).dataSync();
    };
  };
  return {
    'micro-matmul-128': square(128),
    'micro-matmul-512': square(512),
    'micro-add-1M': elementwise((a, b) => a.add(b)),
    'micro-mul-1M': elementwise((a, b) => a.mul(b)),
    'micro-exp-1M': elementwise((a) => a.exp()),
    'micro-softmax-256x1000': () => {
      nt.manualSeed(8);
      const x = nt.randn([256, 1000]);
      return () => {
        F.softmax(x, 1).dataSync();
      };
    },
  };
}

/** Spot-checks 64 entries (corners included) of a·b against float64 dot products (the TS config's check). */
function naiveSpotCheck(n: number): { ok: boolean; detail: string } {
  nt.manualSeed(1);
  const a = nt.randn([n, n]);
  const b = nt.randn([n, n]);
  const ad = a.dataSync();
  const bd = b.dataSync();
  const c = a.matmul(b).dataSync();
  let worst = 0;
  for (let s = 0; s < 64; s++) {
    const i = s === 0 ? 0 : s === 1 ? n - 1 : (s * 7919) % n;
    const j = s === 0 ? 0 : s === 1 ? n - 1 : (s * 104729 + 13) % n;
    let dot = 0;
    for (let p = 0; p < n; p++) dot += ad[i * n + p]! * bd[p * n + j]!;
    worst = Math.max(worst, Math.abs(c[i * n + j]! - dot));
  }
  const tol = 1e-5 * n + 1e-4;
  return {
    ok: worst <= tol,
    detail: `64 entries vs float64 naive product: max|Δ| = ${worst.toExponential(2)} (tol ${tol.toExponential(1)})`,
  };
}

/** Runs `f` with `name` as the current backend, then restores the previous one. */
function onBackend<T>(name: string, back: string, f: () => T): T {
  nt.setBackend(name);
  try {
    return f();
  } finally {
    nt.setBackend(back);
  }
}

async function main(): Promise<void> {
  const { backend, threads: wanted } = parseConfig(CONFIG);
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  // Like the CLI (src/cli/wasm-flags.ts): relaxed SIMD on where Node 20 has it behind a flag, unless
  // NEURITE_WASM_RELAXED=0. Looked up at run time: these exports are newer than this script.
  const wasmApi = wasm as unknown as Record<string, unknown>;
  let relaxed = 'n/a';
  if (backend === 'wasm') {
    const enable = wasmApi.enableWasmRelaxedSimd;
    const supported = wasmApi.wasmRelaxedSimdSupported;
    if (typeof enable === 'function' && process.env.NEURITE_WASM_RELAXED !== '0') enable();
    relaxed = typeof supported === 'function' ? String(supported()) : 'unknown';
  }
  nt.setBackend(backend);
  const ready = (nt as unknown as Record<string, unknown>).ready;
  if (typeof ready === 'function') await ready();
  const active = nt.getBackend().name;
  if (active !== backend) throw new Error(`setBackend('${backend}') gave the '${active}' backend`);
  let threads = 1;
  if (backend === 'wasm') {
    wasm.setNumThreads(wanted);
    threads = await wasm.initWasmThreads(wanted);
  }
  emit({
    kind: 'info',
    config: CONFIG,
    framework: 'neurite',
    version: pkg.version,
    details: {
      neurite: pkg.version,
      backend: active,
      'threads asked': String(wanted),
      threads: String(threads),
      'relaxed SIMD': relaxed,
      node: process.version,
      execArgv: process.execArgv.join(' '),
    },
  });

  const all = workloads(SIZES);
  const run = (w: Workload, build: () => () => void, runThreads: number): void => {
    const call = build();
    emit(rowOf(CONFIG, w, SIZES, measure(call, PROTOCOL), runThreads));
  };
  for (const w of WORKLOADS) {
    if (!selected(ARGS, w.id)) continue;
    const job = all[w.id]!;
    if (backend === 'wasm') {
      const got = job.probe();
      const ref = onBackend('cpu', backend, job.probe);
      emit({ kind: 'check', config: CONFIG, id: w.id, ...compareProbes(got, ref) });
    } else if (w.id === 'sgemm-1024') {
      emit({ kind: 'check', config: CONFIG, id: w.id, ...naiveSpotCheck(SIZES.gemmN) });
    }
    run(w, job.build, threads);
  }
  if (ARGS.micro) {
    const micro = microWorkloads();
    for (const w of MICRO_WORKLOADS) {
      if (selected(ARGS, w.id)) run(workloadOf(w.id), micro[w.id]!, threads);
    }
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error('neurite bench failed:', e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
