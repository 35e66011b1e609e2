/**
 * The build of the WebAssembly kernels: the generated module matches the kernel sources, the binary is
 * small and SIMD-only as intended, and the backend loads in a bare JavaScript context (the browser
 * bundle of src/index.ts with no Node globals such as Buffer or atob).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { builtHash, kernelSources, sourceHash } from '../../../scripts/build-wasm.js';
import { decodeBase64 } from '../../../src/backends/wasm/base64.js';
import {
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

  it('embeds a valid SIMD module under 4 KiB (browsers compile that synchronously on the main thread)', () => {
    const bytes = decodeBase64(KERNELS_WASM_BASE64);
    expect(bytes.length).toBeLessThan(4096);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const mod = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(mod)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(
      WebAssembly.Module.exports(mod)
        .map((e) => e.name)
        .sort(),
    ).toEqual(['memory', 'sgemm', 'sgemmChunk', 'sgemmWorkspace']);
  });

  it('embeds a second build of the same kernels that imports a shared memory (for worker threads)', () => {
    const bytes = decodeBase64(KERNELS_THREADS_WASM_BASE64);
    expect(bytes.length).toBeLessThan(4096);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const mod = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(mod)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    expect(() => new WebAssembly.Instance(mod, { env: { memory } })).not.toThrow();
    // It needs a shared memory: an ordinary one is rejected (so the plain build is the fallback).
    expect(
      () => new WebAssembly.Instance(mod, { env: { memory: new WebAssembly.Memory({ initial: 1 }) } }),
    ).toThrow();
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
