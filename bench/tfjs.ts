/**
 * TensorFlow.js 4.22 CPU backend (`@tensorflow/tfjs-backend-cpu`, pure JS) on the bench workloads.
 * Run by bench/run.ts in its own process: `tsx bench/tfjs.ts [--quick] [--only ids]`; prints JSON lines.
 * Every timed call does the whole job, result read back (dataSync) included, inside `tf.tidy` so nothing leaks.
 * @module
 */
import '@tensorflow/tfjs-backend-cpu';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import {
  ELEMENTWISE_N,
  emit,
  measure,
  metricOf,
  parseArgs,
  protocolFor,
  rowOf,
  selected,
  type Timing,
} from './protocol.js';

const FW = 'tfjs';

/**
 * `@tensorflow/tfjs-core` on its own registers no gradients (the `@tensorflow/tfjs` union package does, by
 * importing tfjs-core's ESM-only `register_all_gradients`, which plain Node cannot load from the CJS build).
 * This registers the Conv2D gradient the same way tfjs-core's own does: the Conv2DBackpropInput and
 * Conv2DBackpropFilter kernels of the active backend.
 */
function ensureConv2dGradient(): void {
  if (tf.getGradient(tf.Conv2D)) return;
  tf.registerGradient({
    kernelName: tf.Conv2D,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const g = Array.isArray(dy) ? dy[0]! : dy;
      return {
        x: () =>
          tf
            .engine()
            .runKernel(
              tf.Conv2DBackpropInput,
              { dy: g, filter },
              { ...attrs, inputShape: x.shape },
            ) as tf.Tensor,
        filter: () =>
          tf
            .engine()
            .runKernel(
              tf.Conv2DBackpropFilter,
              { x, dy: g },
              { ...attrs, filterShape: filter.shape },
            ) as tf.Tensor,
      };
    },
  });
}

function run(id: string, setup: () => { fn: () => void; done?: () => void }): void {
  if (!selected(ARGS, id)) return;
  const { fn, done } = setup();
  const before = tf.memory().numTensors;
  const t: Timing = measure(fn, PROTOCOL);
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) throw new Error(`tfjs bench ${id}: ${leaked} tensors leaked per run`);
  emit(rowOf(FW, id, metricOf(id), t));
  done?.();
}

const ARGS = parseArgs(process.argv.slice(2));
const PROTOCOL = protocolFor(ARGS.quick);

async function main(): Promise<void> {
  // PROD only silences warnings (e.g. "install tfjs-node"); no kernel behaves differently.
  tf.enableProdMode();
  if (!(await tf.setBackend('cpu'))) throw new Error('tfjs: setBackend(cpu) failed');
  await tf.ready();
  ensureConv2dGradient();
  emit({
    kind: 'info',
    framework: FW,
    version: tf.version_core,
    details: { 'tfjs-core': tf.version_core, 'tfjs-backend-cpu': version_cpu, backend: tf.getBackend() },
  });

  for (const n of [128, 512, 1024]) {
    run(`matmul-${n}`, () => {
      const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
      const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
      return {
        fn: () => {
          const c = tf.matMul(a, b);
          c.dataSync();
          c.dispose();
        },
        done: () => tf.dispose([a, b]),
      };
    });
  }

  run('conv2d-fwd-bwd', () => {
    // NHWC / HWIO are TF.js's layouts; the work is the same as NCHW / OIHW.
    const x = tf.randomNormal([64, 28, 28, 1], 0, 1, 'float32', 3);
    const w = tf.randomNormal([5, 5, 1, 32], 0, 1, 'float32', 4);
    const dy = tf.randomNormal([64, 28, 28, 32], 0, 1, 'float32', 5);
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
      done: () => tf.dispose([x, w, dy]),
    };
  });

  const elementwise = (id: string, op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): void =>
    run(id, () => {
      const a = tf.randomNormal([ELEMENTWISE_N], 0, 1, 'float32', 6);
      const b = tf.randomNormal([ELEMENTWISE_N], 0, 1, 'float32', 7);
      return {
        fn: () => {
          const c = op(a, b);
          c.dataSync();
          c.dispose();
        },
        done: () => tf.dispose([a, b]),
      };
    });
  elementwise('add-1M', (a, b) => tf.add(a, b));
  elementwise('mul-1M', (a, b) => tf.mul(a, b));
  elementwise('exp-1M', (a) => tf.exp(a));

  run('softmax-256x1000', () => {
    const x = tf.randomNormal([256, 1000], 0, 1, 'float32', 8);
    return {
      fn: () => {
        const y = tf.softmax(x, 1);
        y.dataSync();
        y.dispose();
      },
      done: () => x.dispose(),
    };
  });
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error('tfjs bench failed:', e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
