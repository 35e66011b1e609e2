/**
 * The `wasm` backend in a real browser (headless Chromium driven by playwright-core): the library bundled
 * for the browser by esbuild, served by a local HTTP server, once as an ordinary page and once
 * cross-origin isolated (COOP/COEP headers, which browsers require for SharedArrayBuffer and so for
 * threads). Checked in the page: the default backend is `wasm` once `ready()` resolves, its results match
 * the TypeScript backend's, the ordinary page runs on one thread with a reason, and the isolated page runs
 * products and convolutions on Web Workers with results identical to one thread, and reports a worker
 * fault as an error rather than hanging.
 *
 * Needs Chromium: `/usr/bin/chromium` (Debian's `chromium` package, which `.ci/run` installs) or the
 * path in `NEURITE_CHROMIUM`. Without one the tests are skipped with a note, unless
 * `NEURITE_REQUIRE_BROWSER=1` (set by CI), which makes a missing browser a failure.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CHROMIUM = process.env.NEURITE_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_BROWSER = existsSync(CHROMIUM);
const REQUIRED = process.env.NEURITE_REQUIRE_BROWSER === '1';

if (!HAVE_BROWSER && !REQUIRED) {
  console.warn(
    `test/backends/wasm/browser.test.ts: skipped, no Chromium at ${CHROMIUM} ` +
      '(apt install chromium, or set NEURITE_CHROMIUM)',
  );
}

/** The page's entry: the library's main entry plus the wasm backend's pool accessor (for chunk counts). */
const ENTRY = `
export * from './index.ts';
export { wasmThreadPool } from './backends/wasm/index.ts';
`;

/** What the page does; it stores the outcome in window.__result (a JSON-able object). */
const PAGE_SCRIPT = `
import * as nt from './neurite.js';
const warnings = [];
const warn = console.warn;
console.warn = (...a) => { warnings.push(a.join(' ')); warn(...a); };
const maxDiff = (x, y) => {
  let d = x.length === y.length ? 0 : Infinity;
  for (let i = 0; i < x.length && d !== Infinity; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d;
};
/** A product, a convolution with both gradients, and a softmax, on the current backend. */
const work = () => {
  nt.manualSeed(11);
  const a = nt.randn([67, 300]);
  const b = nt.randn([300, 129]);
  const x = nt.randn([8, 3, 20, 20], { requiresGrad: true });
  const w = nt.randn([16, 3, 5, 5], { requiresGrad: true });
  const y = nt.nn.functional.conv2d(x, w, null, { padding: 2 });
  y.square().sum().backward();
  return {
    product: Array.from(a.matmul(b).dataSync()),
    big: Array.from(nt.randn([256, 256]).matmul(nt.randn([256, 256])).dataSync()),
    conv: Array.from(y.dataSync()),
    dx: Array.from(x.grad.dataSync()),
    dw: Array.from(w.grad.dataSync()),
    softmax: Array.from(nt.nn.functional.softmax(a, 1).dataSync()),
  };
};
try {
  const r = { crossOriginIsolated: self.crossOriginIsolated, backendBeforeReady: nt.getBackend().name };
  await nt.ready();
  r.backend = nt.getBackend().name;
  r.threadsReason = nt.wasmThreadsUnsupportedReason();
  nt.setNumThreads(1);
  const one = work();
  r.memoryBytes = nt.wasmMemoryBytes();
  nt.setNumThreads(2);
  r.threads = await nt.initWasmThreads(2);
  const pool = nt.wasmThreadPool();
  const two = work();
  // Products above the adaptive range are always split; on a busy machine the worker may still lose every
  // race for chunks to this thread for a while, so give it up to 50 products to take one.
  for (let i = 0; pool && i < 50 && pool.chunkCounts()[1] === 0; i++) {
    nt.randn([384, 384]).matmul(nt.randn([384, 384])).dataSync();
  }
  r.workerChunks = pool ? pool.chunkCounts()[1] : 0;
  nt.setBackend('cpu');
  const ref = work();
  nt.setBackend('wasm');
  r.errors = {};
  r.threadDiff = {};
  for (const k of Object.keys(ref)) {
    const scale = Math.max(...ref[k].map(Math.abs));
    r.errors[k] = maxDiff(one[k], ref[k]) / scale;
    r.threadDiff[k] = maxDiff(one[k], two[k]);
  }
  if (pool) {
    pool.injectFault(1, 'throw');
    try {
      nt.randn([512, 512]).matmul(nt.randn([512, 512])).dataSync();
      r.fault = 'no error';
    } catch (e) {
      r.fault = String(e.message);
    }
    nt.manualSeed(12);
    const again = nt.randn([300, 300]).matmul(nt.randn([300, 300])).sum().item();
    r.afterFault = Number.isFinite(again);
  }
  r.warnings = warnings;
  window.__result = r;
} catch (e) {
  window.__result = { error: String((e && e.stack) || e), warnings };
}
`;

interface PageResult {
  error?: string;
  crossOriginIsolated: boolean;
  backendBeforeReady: string;
  backend: string;
  threadsReason: string | null;
  memoryBytes: number;
  threads: number;
  workerChunks: number;
  errors: Record<string, number>;
  threadDiff: Record<string, number>;
  fault?: string;
  afterFault?: boolean;
  warnings: string[];
}

let server: Server | null = null;
let browser: Browser | null = null;
let base = '';

beforeAll(async () => {
  if (!HAVE_BROWSER) return;
  const bundle = await build({
    stdin: { contents: ENTRY, resolveDir: join(root, 'src'), loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const lib = bundle.outputFiles[0]!.text;
  const html = `<!doctype html><meta charset="utf-8"><script type="module">${PAGE_SCRIPT}</script>`;
  server = createServer((req, res) => {
    const isolated = (req.url ?? '').startsWith('/isolated/');
    const headers: Record<string, string> = isolated
      ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
      : {};
    if ((req.url ?? '').endsWith('/neurite.js')) {
      res.writeHead(200, { 'content-type': 'text/javascript', ...headers }).end(lib);
    } else {
      res.writeHead(200, { 'content-type': 'text/html', ...headers }).end(html);
    }
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
});

/** Loads `path` and returns what the page script stored. */
async function runPage(path: string): Promise<PageResult> {
  const page = await browser!.newPage();
  try {
    await page.goto(`${base}${path}`);
    const handle = await page.waitForFunction(() => (window as { __result?: unknown }).__result, undefined, {
      timeout: 90_000,
    });
    const r = (await handle.jsonValue()) as PageResult;
    if (r.error) throw new Error(`in the page: ${r.error}`);
    return r;
  } finally {
    await page.close();
  }
}

/** Float32 tolerance of the wasm results against the TypeScript backend's (relative to the largest). */
const TOL = 2e-5;

describe.skipIf(!HAVE_BROWSER && !REQUIRED)('wasm backend in Chromium', () => {
  it('has a browser', () => {
    expect(HAVE_BROWSER, `no Chromium at ${CHROMIUM}`).toBe(true);
  });

  it('ordinary page: wasm is the default backend, results match the TS backend, one thread', async () => {
    const r = await runPage('/plain/index.html');
    expect(r.crossOriginIsolated).toBe(false);
    expect(r.backend).toBe('wasm');
    expect(r.memoryBytes).toBeGreaterThan(0);
    for (const [k, e] of Object.entries(r.errors)) expect(e, k).toBeLessThan(TOL);
    expect(r.threads).toBe(1);
    expect(r.threadsReason).toMatch(/cross-origin isolat|SharedArrayBuffer/);
    // one line when 2 threads were asked for and cannot run
    expect(r.warnings).toEqual([`neurite: ${r.threadsReason}; the 'wasm' backend runs on one thread`]);
  }, 120_000);

  it('cross-origin isolated page: Web Workers share the memory; same results as one thread', async () => {
    const r = await runPage('/isolated/index.html');
    expect(r.crossOriginIsolated).toBe(true);
    expect(r.backend).toBe('wasm');
    expect(r.threadsReason).toBeNull();
    expect(r.threads).toBe(2);
    expect(r.workerChunks).toBeGreaterThan(0);
    for (const [k, e] of Object.entries(r.errors)) expect(e, k).toBeLessThan(TOL);
    for (const [k, d] of Object.entries(r.threadDiff)) expect(d, k).toBe(0);
    expect(r.fault).toMatch(
      /worker thread 1 died \(exit code 1\) during a \[512, 512\] x \[512, 512\] product/,
    );
    expect(r.afterFault).toBe(true);
    expect(r.warnings).toEqual([]);
  }, 120_000);
});
