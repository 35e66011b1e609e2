/**
 * Tensors on the wasm backend need no manual disposal: 10,000 training steps in a plain synchronous loop
 * (as users train) keep memory flat. Two MLPs train with Adam on the `wasm` backend: a small one
 * (8-16-4, batch 8) every step, and a wide one (1024-16-4, batch 256) every 20th step, whose float32
 * products run in the WebAssembly SGEMM with a working set (over 1 MiB) that grows the linear memory
 * past its initial 1 MiB, once.
 *
 * The loop runs in a child process started with `--expose-gc`, so the measurements after warm-up (1,000
 * steps) and at every 1,000 steps are taken after full collections: the JS heap, the array buffers
 * (where tensor data lives) and the linear memory must not grow; the RSS, which the allocator and the
 * JIT make noisy, gets a coarse bound. A control run that keeps one small output tensor per step shows
 * that the bounds catch a leak that small.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const MiB = 1 << 20;

/** One measurement, taken after two full garbage collections. */
interface Snapshot {
  step: number;
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
  wasm: number;
}

interface Report {
  backend: string;
  ms: number;
  snaps: Snapshot[];
  loss: { small: number[]; wide: number[] };
}

/** The training loop, run by the child (plain JS importing the TypeScript sources through tsx). */
const CHILD = `
const lib = await import(process.env.NEURITE_INDEX_URL);
const { wasmMemoryBytes } = await import(process.env.NEURITE_WASM_URL);
const { nn, optim } = lib;
const [STEPS, WARMUP, EVERY] = process.env.STEPS.split(',').map(Number);
const WIDE_EVERY = 20;
const leak = process.env.LEAK === '1';
if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
lib.setBackend('wasm');
lib.manualSeed(0);
const kept = [];
function trainer(sizes, batch) {
  const layers = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    if (i > 0) layers.push(new nn.ReLU());
    layers.push(new nn.Linear(sizes[i], sizes[i + 1]));
  }
  const model = new nn.Sequential(...layers);
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = lib.randn([batch, sizes[0]]);
  const y = lib.randn([batch, sizes[sizes.length - 1]]);
  return () => {
    opt.zeroGrad();
    const out = model.forward(x);
    if (leak) kept.push(out);
    const loss = nn.functional.mseLoss(out, y);
    loss.backward();
    opt.step();
    return loss.item();
  };
}
const small = trainer([8, 16, 4], 8);
const wide = trainer([1024, 16, 4], 256);
function snapshot(step) {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { step, rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, wasm: wasmMemoryBytes() };
}
const snaps = [];
const loss = { small: [], wide: [] };
const t0 = performance.now();
for (let step = 1; step <= STEPS; step++) {
  const l = small();
  if (step === 1 || step === STEPS) loss.small.push(l);
  if (step % WIDE_EVERY === 0) {
    const lw = wide();
    if (step === WIDE_EVERY || step === STEPS) loss.wide.push(lw);
  }
  if (step >= WARMUP && (step - WARMUP) % EVERY === 0) snaps.push(snapshot(step));
}
console.log(JSON.stringify({ backend: lib.getBackend().name, ms: performance.now() - t0, snaps, loss }));
`;

/**
 * Runs `steps` training steps in a child process, measuring after `warmup` steps and every `every`
 * steps from there; `leak` keeps every small-model output alive.
 */
async function train(steps: number, warmup: number, every: number, leak: boolean): Promise<Report> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', CHILD],
    {
      cwd: root,
      env: {
        ...process.env,
        NEURITE_INDEX_URL: pathToFileURL(join(root, 'src', 'index.ts')).href,
        NEURITE_WASM_URL: pathToFileURL(join(root, 'src', 'backends', 'wasm', 'index.ts')).href,
        STEPS: `${steps},${warmup},${every}`,
        LEAK: leak ? '1' : '0',
      },
      timeout: 170_000,
      maxBuffer: 16 * MiB,
    },
  );
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Report;
}

/** Growth per step of each measure from the first snapshot (after warm-up) to the last. */
function growthPerStep(r: Report): Record<'rss' | 'heapUsed' | 'arrayBuffers' | 'wasm', number> {
  const first = r.snaps[0]!;
  const last = r.snaps[r.snaps.length - 1]!;
  const steps = last.step - first.step;
  return {
    rss: (last.rss - first.rss) / steps,
    heapUsed: (last.heapUsed - first.heapUsed) / steps,
    arrayBuffers: (last.arrayBuffers - first.arrayBuffers) / steps,
    wasm: (last.wasm - first.wasm) / steps,
  };
}

/**
 * Bounds on the growth per step after warm-up, in bytes: over the 9,000 steps measured, 1 MiB of heap,
 * 256 KiB of array buffers (one leaked [8, 4] float32 output is 128 bytes of data), 64 MiB of RSS.
 */
const HEAP_PER_STEP = MiB / 9000;
const ARRAY_BUFFERS_PER_STEP = (256 * 1024) / 9000;
const RSS_PER_STEP = (64 * MiB) / 9000;

describe('wasm backend: memory stays flat without manual disposal', () => {
  // Both child processes start at once (their start-up, compiling the sources, overlaps).
  let runs: { flat: Promise<Report>; leaky: Promise<Report> };
  beforeAll(() => {
    runs = {
      flat: train(10_000, 1000, 1000, false),
      // 500 steps after a warm-up of 200, each keeping an [8, 4] output and its autograd graph alive.
      leaky: train(700, 200, 500, true),
    };
    // Failures are reported by the tests that await them.
    runs.flat.catch(() => {});
    runs.leaky.catch(() => {});
  });

  it('10,000 training steps in a synchronous loop: no growth of the heap, array buffers or linear memory', async () => {
    const r = await runs.flat;
    expect(r.backend).toBe('wasm');
    expect(r.snaps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((k) => k * 1000));
    // It trains: both losses fall.
    expect(r.loss.small[1]!).toBeLessThan(r.loss.small[0]! / 10);
    expect(r.loss.wide[1]!).toBeLessThan(r.loss.wide[0]! / 10);
    const g = growthPerStep(r);
    expect(g.heapUsed).toBeLessThan(HEAP_PER_STEP);
    expect(g.arrayBuffers).toBeLessThan(ARRAY_BUFFERS_PER_STEP);
    expect(g.rss).toBeLessThan(RSS_PER_STEP);
    // The wide model's products grew the linear memory past its initial 1 MiB during warm-up; after
    // that it never grows again (each product reuses it).
    const first = r.snaps[0]!;
    expect(first.wasm).toBeGreaterThan(1 * MiB);
    for (const s of r.snaps) expect(s.wasm).toBe(first.wasm);
    // Flat all along, not just at the ends.
    for (const s of r.snaps) expect(s.heapUsed - first.heapUsed).toBeLessThan(9000 * HEAP_PER_STEP);
  }, 180_000);

  it('control: keeping one small output tensor per step breaks those bounds', async () => {
    const r = await runs.leaky;
    expect(r.snaps.map((s) => s.step)).toEqual([200, 700]);
    const g = growthPerStep(r);
    expect(g.heapUsed).toBeGreaterThan(5 * HEAP_PER_STEP);
    expect(g.arrayBuffers).toBeGreaterThan(5 * ARRAY_BUFFERS_PER_STEP);
  }, 180_000);
});
