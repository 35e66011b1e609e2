/**
 * Imported first by the CLI entry (main.ts) for its side effect: turns on WebAssembly relaxed SIMD
 * (Node 20: V8's `--experimental-wasm-relaxed-simd`, set at run time) before anything compiles the
 * `wasm` backend's kernels, so they use the fused multiply-add build. It is a module of its own because
 * ES modules evaluate their imports before their body: main.ts imports it before the library.
 * `NEURITE_WASM_RELAXED=0` leaves the flag alone (and the kernels on the plain SIMD build).
 * @module
 */
import { setFlagsFromString } from 'node:v8';
import { enableWasmRelaxedSimd } from '../backends/wasm/detect.js';

if (process.env.NEURITE_WASM_RELAXED !== '0' && !enableWasmRelaxedSimd()) {
  // Node before 20.16 has no process.getBuiltinModule, which enableWasmRelaxedSimd uses.
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // the plain SIMD build then
  }
}
