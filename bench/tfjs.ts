/**
 * TensorFlow.js 4.22 on the bench workloads, one backend per process (run by bench/run.ts):
 * `tsx bench/tfjs.ts --config tfjs-cpu|tfjs-wasm [--quick] [--only ids] [--micro] [--slow-peers]`;
 * prints JSON lines (bench/protocol.ts).
 *
 * - `tfjs-cpu`: @tensorflow/tfjs-backend-cpu (plain JavaScript kernels).
 * - `tfjs-wasm`: @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD), one thread: its threaded build is off in
 *   Node (`WASM_HAS_MULTITHREAD_SUPPORT` is false there, tfjs issue 3830; BENCHMARKS.md got 2 threads
 *   only by patching its worker start-up).
 *
 * Training uses the core API, as in BENCHMARKS.md's `*_core` variants (we have tfjs-core, not
 * tfjs-layers): `tf.variable`s and `optimizer.minimize(loss, true)`, the loss read back with
 * `dataSync()`. tfjs-core's CommonJS bundle registers no gradients (the union package does), so this
 * script loads tfjs-core's own `register_all_gradients` module through bench/tfjs-gradients-hook.mjs.
 * Every timed call does the whole job, result read back included; results are disposed and a leak
 * check runs after each workload. A workload a backend lacks a kernel for is reported as `cannot`.
 * @module
 */
import { createRequire, register } from 'node:module';
import { dirname, sep } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import {
  ELEMENTWISE_N,
  emit,
  MICRO_WORKLOADS,
  measure,
  parseArgs,
  protocolFor,
  type Reference,
  rowOf,
  selected,
  sizesFor,
  WORKLOADS,
  type Workload,
} from './protocol.js';

const ARGS = parseArgs(process.argv.slice(2));
const CONFIG = ARGS.config ?? 'tfjs-cpu';
const PROTOCOL = protocolFor(ARGS.mode);
const S = sizesFor(ARGS.mode);

/** What a workload sets up: the timed call and what to dispose afterwards. */
interface Job {
  fn: () => void;
  keep: tf.TensorContainer;
}

function skip(w: Workload, status: 'cannot' | 'skipped', reason: string, reference?: Reference): void {
  emit({ kind: 'skip', config: CONFIG, id: w.id, status, reason, ...(reference ? { reference } : {}) });
}

/** Times one workload, or reports `cannot` when the backend lacks a kernel it needs. */
function run(w: Workload, setup: () => Job): void {
  const job = setup();
  // Leak check: tensors alive after the first call (which creates optimizer state) against the end.
  let calls = 0;
  let afterFirst = 0;
  const fn = (): void => {
    job.fn();
    if (++calls === 1) afterFirst = tf.memory().numTensors;
  };
  let t: ReturnType<typeof measure>;
  try {
    t = measure(fn, PROTOCOL);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (!/not registered/i.test(msg)) throw e;
    skip(w, 'cannot', msg.split('\n')[0]!);
    return;
  }
  const leaked = tf.memory().numTensors - afterFirst;
  tf.dispose(job.keep);
  emit(rowOf(CONFIG, w, S, t, 1));
  if (leaked !== 0) throw new Error(`tfjs bench ${w.id}: ${leaked} tensors leaked over ${calls - 1} calls`);
}

/** Labels 0..9 as one-hot float rows, deterministic. */
function oneHotLabels(batch: number): tf.Tensor2D {
  return tf.tidy(() => {
    const labels = tf.tensor1d(
      Array.from({ length: batch }, (_, i) => (i * 7919) % 10),
      'int32',
    );
    return tf.cast(tf.oneHot(labels, 10), 'float32') as tf.Tensor2D;
  });
}

/** A training step: `minimize` (forward, loss, gradients, update) and the loss read back. */
function stepOf(opt: tf.Optimizer, loss: () => tf.Scalar): () => void {
  return () => {
    const l = opt.minimize(loss, true)!;
    l.dataSync();
    l.dispose();
  };
}

const randn = (shape: number[], seed: number, std = 1): tf.Tensor =>
  tf.randomNormal(shape, 0, std, 'float32', seed);

/** The issue-4 workloads (TF.js layouts: NHWC activations, HWIO filters). */
const JOBS: Record<string, () => Job> = {
  'sgemm-1024': () => square(S.gemmN, 1),
  'conv2d-fwd-bwd': () => {
    const x = randn([S.convBatch, 28, 28, 1], 3);
    const w = randn([5, 5, 1, 32], 4);
    const dy = randn([S.convBatch, 28, 28, 32], 5);
    const grads = tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
      tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 1, 2),
    );
    return {
      fn: () =>
        tf.tidy(() => {
          const [gx, gw] = grads([x, w], dy);
          gx!.dataSync();
          gw!.dataSync();
        }),
      keep: [x, w, dy],
    };
  },
  'cnn-train': () => {
    const v = (shape: number[], std: number, seed: number): tf.Variable =>
      tf.variable(randn(shape, seed, std));
    const vars = [
      v([5, 5, 1, 32], 0.2, 11),
      tf.variable(tf.zeros([32])),
      v([5, 5, 32, 64], 0.03, 12),
      tf.variable(tf.zeros([64])),
      v([3136, 128], 0.02, 13),
      tf.variable(tf.zeros([128])),
      v([128, 10], 0.1, 14),
      tf.variable(tf.zeros([10])),
    ] as const;
    const [W1, b1, W2, b2, W3, b3, W4, b4] = vars;
    const x = randn([S.cnnBatch, 28, 28, 1], 15) as tf.Tensor4D;
    const y = oneHotLabels(S.cnnBatch);
    const loss = (): tf.Scalar => {
      let h = tf.relu(tf.add(tf.conv2d(x, W1 as tf.Tensor4D, 1, 2), b1)) as tf.Tensor4D;
      h = tf.maxPool(h, 2, 2, 'valid');
      h = tf.relu(tf.add(tf.conv2d(h, W2 as tf.Tensor4D, 1, 2), b2)) as tf.Tensor4D;
      h = tf.maxPool(h, 2, 2, 'valid');
      const f = tf.reshape(h, [S.cnnBatch, 3136]);
      const z = tf.relu(tf.add(tf.matMul(f, W3), b3));
      return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(z, W4), b4)) as tf.Scalar;
    };
    return { fn: stepOf(tf.train.adam(1e-3), loss), keep: [...vars, x, y] };
  },
  'mlp-train': () => {
    const W1 = tf.variable(randn([784, 128], 21, 0.05));
    const b1 = tf.variable(tf.zeros([128]));
    const W2 = tf.variable(randn([128, 10], 22, 0.1));
    const b2 = tf.variable(tf.zeros([10]));
    const x = randn([S.mlpBatch, 784], 23);
    const y = oneHotLabels(S.mlpBatch);
    const loss = (): tf.Scalar =>
      tf.losses.softmaxCrossEntropy(
        y,
        tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, W1), b1)), W2), b2),
      ) as tf.Scalar;
    return { fn: stepOf(tf.train.sgd(0.01), loss), keep: [W1, b1, W2, b2, x, y] };
  },
  'lstm-train': () => {
    const [T, B, I, H] = [S.lstmT, S.lstmBatch, 64, 128];
    // One fused kernel [I + H, 4H] and bias, as tf.basicLSTMCell wants (gates i, j, f, o).
    const kernel = tf.variable(randn([I + H, 4 * H], 31, 0.05)) as tf.Variable<tf.Rank.R2>;
    const bias = tf.variable(tf.zeros([4 * H])) as tf.Variable<tf.Rank.R1>;
    const xs = tf.tidy(() => tf.unstack(randn([T, B, I], 32))) as tf.Tensor2D[];
    const target = randn([B, H], 33) as tf.Tensor2D;
    const forget = tf.scalar(1);
    const loss = (): tf.Scalar => {
      let c = tf.zeros([B, H]) as tf.Tensor2D;
      let h = tf.zeros([B, H]) as tf.Tensor2D;
      for (let t = 0; t < T; t++) [c, h] = tf.basicLSTMCell(forget, kernel, bias, xs[t]!, c, h);
      return tf.losses.meanSquaredError(target, h) as tf.Scalar;
    };
    return { fn: stepOf(tf.train.adam(1e-3), loss), keep: [kernel, bias, ...xs, target, forget] };
  },
};

/** The issue-2 micro workloads (`--micro`). */
const MICRO: Record<string, () => Job> = {
  'micro-matmul-128': () => square(128, 6),
  'micro-matmul-512': () => square(512, 6),
  'micro-add-1M': () => elementwise((a, b) => tf.add(a, b)),
  'micro-mul-1M': () => elementwise((a, b) => tf.mul(a, b)),
  'micro-exp-1M': () => elementwise((a) => tf.exp(a)),
  'micro-softmax-256x1000': () => {
    const x = randn([256, 1000], 8);
    return {
      fn: () => {
        const y = tf.softmax(x, 1);
        y.dataSync();
        y.dispose();
      },
      keep: [x],
    };
  },
};

/** C = A·B of two n x n random matrices (seeds `seed` and `seed + 1`), read back and released. */
function square(n: number, seed: number): Job {
  const a = randn([n, n], seed);
  const b = randn([n, n], seed + 1);
  return {
    fn: () => {
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
    },
    keep: [a, b],
  };
}

function elementwise(op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): Job {
  const a = randn([ELEMENTWISE_N], 6);
  const b = randn([ELEMENTWISE_N], 7);
  return {
    fn: () => {
      const c = op(a, b);
      c.dataSync();
      c.dispose();
    },
    keep: [a, b],
  };
}

/**
 * Rows that take minutes on a backend and are left out unless `--slow-peers`, with the BENCHMARKS.md
 * figure measured earlier on this machine.
 */
const SLOW: Record<string, Record<string, { seconds: number; ref: number }>> = {
  'tfjs-cpu': { 'cnn-train': { seconds: 93, ref: 0.69 } },
};

/** Loads tfjs-core's gradient registrations (see bench/tfjs-gradients-hook.mjs). */
async function registerGradients(): Promise<void> {
  register('./tfjs-gradients-hook.mjs', import.meta.url);
  await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  for (const k of [tf.BatchMatMul, tf.Conv2D, tf.MaxPool, tf.Relu, tf.Sigmoid, tf.Tanh, tf.Concat]) {
    if (!tf.getGradient(k)) throw new Error(`tfjs bench: no gradient registered for ${k}`);
  }
}

async function main(): Promise<void> {
  const backend = CONFIG.replace(/^tfjs-/, '');
  if (backend !== 'cpu' && backend !== 'wasm') {
    throw new Error(`tfjs bench: unknown --config ${CONFIG} (tfjs-cpu or tfjs-wasm)`);
  }
  // PROD only silences warnings (e.g. "install tfjs-node"); no kernel behaves differently.
  tf.enableProdMode();
  await registerGradients();
  const details: Record<string, string> = {
    'tfjs-core': tf.version_core,
    'tfjs-backend-cpu': version_cpu,
    node: process.version,
  };
  if (backend === 'wasm') {
    const require = createRequire(import.meta.url);
    tfwasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}${sep}`);
    tfwasm.setThreadsCount(1);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs: setBackend(${backend}) failed`);
  await tf.ready();
  details.backend = tf.getBackend();
  let threads = 1;
  if (backend === 'wasm') {
    threads = tfwasm.getThreadsCount();
    details['tfjs-backend-wasm'] = tfwasm.version_wasm;
    details.simd = String(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    details.multithread = String(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
    details.threads = String(threads);
  }
  emit({ kind: 'info', config: CONFIG, framework: 'tfjs', version: tf.version_core, details });

  for (const w of WORKLOADS) {
    if (!selected(ARGS, w.id)) continue;
    const slow = SLOW[CONFIG]?.[w.id];
    if (slow && !ARGS.slowPeers && ARGS.mode !== 'tiny') {
      skip(
        w,
        'skipped',
        `about ${slow.seconds} s per call; not measured in this run (--slow-peers runs it)`,
        {
          value: slow.ref,
          unit: w.unit,
          source: 'BENCHMARKS.md',
        },
      );
      continue;
    }
    run(w, JOBS[w.id]!);
  }
  if (ARGS.micro) {
    for (const w of MICRO_WORKLOADS) if (selected(ARGS, w.id)) run(w, MICRO[w.id]!);
  }
  if (threads !== 1) throw new Error(`tfjs bench: asked for 1 wasm thread, got ${threads}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error('tfjs bench failed:', e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
