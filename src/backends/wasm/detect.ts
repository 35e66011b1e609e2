/**
 * Feature detection for the `wasm` backend: WebAssembly with 128-bit SIMD, and for its worker threads:
 * shared WebAssembly memory, Atomics, and (for now) Node's worker_threads reached without a static
 * `node:` import, so the browser bundle stays free of Node built-ins.
 * @module
 */

/**
 * The smallest module that uses SIMD: one function `() -> v128` whose body is `v128.const 0`. Engines
 * without SIMD reject it at validation.
 */
const SIMD_PROBE_HEX = [
  '0061736d01000000', // magic, version 1
  '0105016000017b', // type section: one type () -> v128
  '03020100', // function section: one function of type 0
  '0a16011400fd0c', // code section: one 20-byte body, no locals, v128.const ...
  '00'.repeat(16), // ... of 16 zero bytes
  '0b', // end
].join('');

function hexBytes(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Why the `wasm` backend cannot run here (no WebAssembly, or no SIMD), or null when it can.
 * Never throws.
 */
export function wasmUnsupportedReason(): string | null {
  try {
    if (
      typeof WebAssembly !== 'object' ||
      WebAssembly === null ||
      typeof WebAssembly.validate !== 'function'
    ) {
      return 'WebAssembly is not available';
    }
    if (!WebAssembly.validate(hexBytes(SIMD_PROBE_HEX))) return 'WebAssembly SIMD (128-bit) is not supported';
    return null;
  } catch (e) {
    return `WebAssembly feature detection failed (${e instanceof Error ? e.message : String(e)})`;
  }
}

/** True when WebAssembly with 128-bit SIMD is available. */
export function wasmSimdSupported(): boolean {
  return wasmUnsupportedReason() === null;
}

/**
 * Why the kernels cannot use a shared WebAssembly memory here (no SharedArrayBuffer or Atomics, e.g. a
 * browser page that is not cross-origin isolated; no shared memories), or null when they can. Never throws.
 */
export function wasmThreadsUnsupportedReason(): string | null {
  try {
    const simd = wasmUnsupportedReason();
    if (simd !== null) return simd;
    if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') {
      return 'SharedArrayBuffer/Atomics are not available (in browsers they need cross-origin isolation)';
    }
    const probe = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    if (!(probe.buffer instanceof SharedArrayBuffer)) return 'shared WebAssembly memory is not supported';
    return null;
  } catch (e) {
    return `shared WebAssembly memory is not supported (${e instanceof Error ? e.message : String(e)})`;
  }
}
