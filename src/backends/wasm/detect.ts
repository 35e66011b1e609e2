/**
 * Feature detection for the `wasm` backend: WebAssembly with 128-bit SIMD; relaxed SIMD (fused
 * multiply-add, used by the faster kernel builds; Node 20 has it behind a V8 flag, see
 * {@link enableWasmRelaxedSimd}); and for its worker threads: shared WebAssembly memory, Atomics, and
 * (for now) Node's worker_threads reached without a static `node:` import, so the browser bundle stays
 * free of Node built-ins.
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

/**
 * The smallest module that uses relaxed SIMD: one function `() -> v128` whose body is
 * `f32x4.relaxed_madd(v128.const 0, v128.const 0, v128.const 0)`. Engines without relaxed SIMD (Node 20
 * without `--experimental-wasm-relaxed-simd`) reject it at validation.
 */
const RELAXED_SIMD_PROBE_HEX = [
  '0061736d01000000', // magic, version 1
  '0105016000017b', // type section: one type () -> v128
  '03020100', // function section: one function of type 0
  '0a3d013b00', // code section: one 59-byte body, no locals
  `fd0c${'00'.repeat(16)}`.repeat(3), // three v128.const 0
  'fd8502', // f32x4.relaxed_madd (0xfd 0x105)
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

/**
 * True when the engine validates relaxed SIMD (`f32x4.relaxed_madd` and the rest of the proposal), so the
 * `wasm` backend can use its fused multiply-add kernels. Checked anew on every call (cheap: it validates
 * an 82-byte module), since {@link enableWasmRelaxedSimd} can turn it on at run time. Never throws.
 */
export function wasmRelaxedSimdSupported(): boolean {
  try {
    if (wasmUnsupportedReason() !== null) return false;
    return WebAssembly.validate(hexBytes(RELAXED_SIMD_PROBE_HEX));
  } catch {
    return false;
  }
}

/** The parts of Node's `process` and `node:v8` used here (reached at run time, no static import). */
interface NodeV8Like {
  setFlagsFromString(flags: string): void;
}

/**
 * Turns on WebAssembly relaxed SIMD where the engine has it behind a flag: in Node 20 it sets V8's
 * `--experimental-wasm-relaxed-simd` (through `node:v8`, reached with `process.getBuiltinModule`), which
 * affects modules compiled afterwards in this process and its worker threads. Does nothing where relaxed
 * SIMD already validates, or outside Node. Call it before the `wasm` backend is first used (the CLI does
 * at start-up); the kernels built before keep their build. Returns {@link wasmRelaxedSimdSupported}
 * afterwards. Never throws.
 */
export function enableWasmRelaxedSimd(): boolean {
  if (wasmRelaxedSimdSupported()) return true;
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const v8 = proc?.getBuiltinModule?.('node:v8') as NodeV8Like | undefined;
    if (!v8 || typeof v8.setFlagsFromString !== 'function') return false;
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return wasmRelaxedSimdSupported();
}
