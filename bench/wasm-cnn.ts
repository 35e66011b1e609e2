/**
 * Training steps of the default MNIST CNN (src/models/mnist-cnn.ts, what `npm start` trains: batch 64,
 * Adam) on the `cpu` backend and on the `wasm` backend with 1 and 2 threads, in one process, rounds
 * interleaved: `npx tsx bench/wasm-cnn.ts [--rounds N] [--steps N] [--channels 16,32] [--threads 1,2]`.
 * Prints the median ms per step and samples/s of each configuration and the speed-up over `cpu`. On
 * `wasm`, float32 matmuls and the three conv2d kernels run in WebAssembly (threads split large products);
 * every other kernel still runs the CPU backend's TypeScript code. Check `uptime` first.
 * @module
 */
import { loadavg } from 'node:os';
import { setNumThreads } from '../src/backends/wasm/index.js';
import { manualSeed, nn, optim, rand, randint, setBackend, type Tensor } from '../src/index.js';
import { MnistCnn } from '../src/models/mnist-cnn.js';

const argv = process.argv.slice(2);
function option(name: string, fallback: string): string {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1]! : fallback;
}
const rounds = Number(option('--rounds', '5'));
const steps = Number(option('--steps', '6'));
const channels = option('--channels', '16,32').split(',').map(Number) as [number, number];
const threadCounts = option('--threads', '1,2').split(',').map(Number);

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

interface Config {
  name: string;
  backend: string;
  threads: number;
  model: MnistCnn;
  opt: optim.Adam;
  x: Tensor;
  y: Tensor;
  ms: number[];
}

const configs: Config[] = [];
for (const [backend, threads] of [['cpu', 1] as const, ...threadCounts.map((t) => ['wasm', t] as const)]) {
  setBackend(backend);
  manualSeed(0);
  const model = new MnistCnn({ channels });
  model.train();
  configs.push({
    name: backend === 'cpu' ? 'cpu (TypeScript)' : `wasm, ${threads} thread${threads > 1 ? 's' : ''}`,
    backend,
    threads,
    model,
    opt: new optim.Adam(model.parameters(), { lr: 1e-3 }),
    x: rand([64, 1, 28, 28]),
    y: randint(0, 10, [64]),
    ms: [],
  });
}

function step(c: Config): void {
  c.opt.zeroGrad();
  const loss = nn.functional.crossEntropy(c.model.forward(c.x), c.y);
  loss.backward();
  c.opt.step();
}

function activate(c: Config): void {
  setBackend(c.backend);
  if (c.backend === 'wasm') setNumThreads(c.threads);
}

for (const c of configs) {
  activate(c);
  for (let s = 0; s < 3; s++) step(c); // warm-up (wasm tier-up, workers start)
}
for (let r = 0; r < rounds; r++) {
  for (const c of configs) {
    activate(c);
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      step(c);
      c.ms.push(performance.now() - t0);
    }
  }
}
console.log(
  `MNIST CNN train step, batch 64, Adam, channels ${channels.join('/')} (Node ${process.version}, load average ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')})`,
);
const base = median(configs[0]!.ms);
for (const c of configs) {
  const ms = median(c.ms);
  console.log(
    `${c.name.padEnd(18)} ${ms.toFixed(1).padStart(8)} ms/step ${((64 * 1000) / ms).toFixed(0).padStart(7)} samples/s ${(base / ms).toFixed(2).padStart(6)}x`,
  );
}
