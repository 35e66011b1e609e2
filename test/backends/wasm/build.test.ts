/**
 * The build of the WebAssembly kernels: the generated module matches the kernel sources and embeds the
 * four builds (plain SIMD and shared memory, each without and with relaxed SIMD) with the same imports and
 * exports; the binaries are small; the plain builds are SIMD-only (they validate on Node 20 without
 * flags) while the relaxed ones use relaxed SIMD; and the backend loads in a bare JavaScript context
 * (the browser bundle of src/index.ts with no Node globals such as Buffer or atob).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import {
  ASC_RELAXED_FLAGS,
  BUILDS,
  builtHash,
  kernelSources,
  sourceHash,
} from '../../../scripts/build-wasm.js';
import { decodeBase64 } from '../../../src/backends/wasm/base64.js';
import { wasmRelaxedSimdSupported } from '../../../src/backends/wasm/detect.js';
import * as generated from '../../../src/backends/wasm/kernels.generated.js';
import {
  KERNELS_RELAXED_THREADS_WASM_BASE64,
  KERNELS_RELAXED_WASM_BASE64,
  KERNELS_SOURCE_HASH,
  KERNELS_THREADS_WASM_BASE64,
  KERNELS_WASM_BASE64,
} from '../../../src/backends/wasm/kernels.generated.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('wasm kernels build', () => {
  it('the generated module is up to date with assembly/*.ts (else run `npm run build:wasm`)', () => {
    expect(kernelSources()).toContain('assembly/gemm.ts');
    expect(builtHash()).toBe(KERNELS_SOURCE_HASH);
    expect(
      KERNELS_SOURCE_HASH,
      'stale src/backends/wasm/kernels.generated.ts: run `npm run build:wasm`',
    ).toBe(sourceHash());
  });

  it('embeds the four builds, each a valid module that imports only env.memory and exports the kernels', () => {
    expect(BUILDS.map((b) => b.constant)).toEqual([
      'KERNELS_WASM_BASE64',
      'KERNELS_THREADS_WASM_BASE64',
      'KERNELS_RELAXED_WASM_BASE64',
      'KERNELS_RELAXED_THREADS_WASM_BASE64',
    ]);
    const all = [
      KERNELS_WASM_BASE64,
      KERNELS_THREADS_WASM_BASE64,
      KERNELS_RELAXED_WASM_BASE64,
      KERNELS_RELAXED_THREADS_WASM_BASE64,
    ];
    for (const b of BUILDS) expect(typeof (generated as Record<string, unknown>)[b.constant]).toBe('string');
    const exportsOf = (bytes: Uint8Array<ArrayBuffer>) =>
      WebAssembly.Module.exports(new WebAssembly.Module(bytes))
        .map((e) => e.name)
        .sort();
    const plain = decodeBase64(KERNELS_WASM_BASE64);
    expect(WebAssembly.validate(plain)).toBe(true);
    const names = exportsOf(plain);
    expect(names).toEqual(expect.arrayContaining(['memory', 'sgemm', 'sgemmChunk', 'sgemmWorkspace']));
    const relaxed = wasmRelaxedSimdSupported();
    all.forEach((text, i) => {
      const bytes = decodeBase64(text);
      // Small: the kernels never allocate and link no runtime (no __new/__collect exports; a garbage
      // collector alone would add tens of KiB). A browser's main thread compiles at most 4 KiB
      // synchronously; loadWasmBackend compiles asynchronously where it refuses.
      expect(bytes.length, BUILDS[i]!.name).toBeLessThan(32768);
      const isRelaxed = BUILDS[i]!.flags.includes('relaxed-simd');
      // Without V8's --experimental-wasm-relaxed-simd (Node 20) only the plain builds validate.
      expect(WebAssembly.validate(bytes), BUILDS[i]!.name).toBe(!isRelaxed || relaxed);
      if (!WebAssembly.validate(bytes)) return;
      const mod = new WebAssembly.Module(bytes);
      expect(WebAssembly.Module.imports(mod)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
      expect(exportsOf(bytes), BUILDS[i]!.name).toEqual(names);
      expect(names.filter((n) => /^__(new|collect|pin|unpin|alloc|rtti)/.test(n))).toEqual([]);
    });
  });

  it('the shared-memory builds import a shared memory (for worker threads), the others an ordinary one', () => {
    const relaxed = wasmRelaxedSimdSupported();
    const pairs = [
      [KERNELS_WASM_BASE64, KERNELS_THREADS_WASM_BASE64],
      ...(relaxed ? [[KERNELS_RELAXED_WASM_BASE64, KERNELS_RELAXED_THREADS_WASM_BASE64]] : []),
    ];
    for (const [plainText, threadsText] of pairs) {
      const plain = new WebAssembly.Module(decodeBase64(plainText!));
      const threads = new WebAssembly.Module(decodeBase64(threadsText!));
      const shared = () => new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
      const ordinary = () => new WebAssembly.Memory({ initial: 1 });
      expect(() => new WebAssembly.Instance(threads, { env: { memory: shared() } })).not.toThrow();
      expect(() => new WebAssembly.Instance(plain, { env: { memory: ordinary() } })).not.toThrow();
      // The threads build needs a shared memory: an ordinary one is rejected (so the plain build is the fallback).
      expect(() => new WebAssembly.Instance(threads, { env: { memory: ordinary() } })).toThrow();
    }
  });

  it('the relaxed builds are the others with relaxed SIMD on, and their flags are part of the source hash', () => {
    expect(BUILDS.filter((b) => b.flags.includes('relaxed-simd')).map((b) => b.name)).toEqual([
      'relaxed',
      'relaxed threads',
    ]);
    expect(BUILDS.filter((b) => b.flags.includes('--sharedMemory')).map((b) => b.name)).toEqual([
      'threads',
      'relaxed threads',
    ]);
    const flags = ASC_RELAXED_FLAGS as string[];
    const before = sourceHash();
    flags.push('--debug');
    try {
      expect(sourceHash()).not.toBe(before);
    } finally {
      flags.pop();
    }
    expect(sourceHash()).toBe(before);
  });

  it('decodeBase64 matches Buffer and rejects bad input', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 255, 1000]) {
      const data = new Uint8Array(n).map((_, i) => (i * 73 + n) & 255);
      const text = Buffer.from(data).toString('base64');
      expect(Array.from(decodeBase64(text))).toEqual(Array.from(data));
      expect(Array.from(decodeBase64(text.replace(/=+$/, '')))).toEqual(Array.from(data));
    }
    expect(() => decodeBase64('ab$d')).toThrow(/invalid character at 2/);
    expect(() => decodeBase64('abcde')).toThrow(/invalid length 5/);
  });

  it("setBackend('wasm') works in the browser bundle run in a bare context", async () => {
    const res = await build({
      entryPoints: [join(root, 'src', 'index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'Neurite',
      write: false,
      logLevel: 'silent',
    });
    const ctx = createContext({});
    expect(runInContext('typeof Buffer + typeof atob + typeof WebAssembly', ctx)).toBe(
      'undefinedundefinedobject',
    );
    runInContext(res.outputFiles[0]!.text, ctx);
    const out = runInContext(
      `(() => {
        const N = Neurite;
        N.setBackend('wasm');
        const a = N.arange(0, 12).float().reshape([3, 4]);
        const c = a.matmul(a.t());
        return JSON.stringify({ backend: N.getBackend().name, on: c.storage.backend.name, c: Array.from(c.dataSync()) });
      })()`,
      ctx,
    );
    expect(JSON.parse(out as string)).toEqual({
      backend: 'wasm',
      on: 'wasm',
      c: [14, 38, 62, 38, 126, 214, 62, 214, 366],
    });
  });
});
