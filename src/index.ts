/**
 * Neurite: tensors, reverse-mode autograd and fast CPU kernels for TypeScript, in Node and browsers.
 * This entry imports no Node built-ins; Node-only features live in `neurite/node`.
 * @packageDocumentation
 */
import { registerBackend } from './backends/backend.js';
import { createCpuBackend } from './backends/cpu/index.js';
import { loadWasmBackend } from './backends/wasm/index.js';

// Nothing is created here: the first tensor creates the default backend, the WebAssembly SIMD one
// ('wasm', priority 2) where it loads, else the TypeScript one ('cpu'). `setBackend` overrides it.
registerBackend('cpu', createCpuBackend, { priority: 1 });
registerBackend('wasm', () => loadWasmBackend(), { priority: 2 });

export type { BackwardOptions } from './autograd/engine.js';
export { customOp, FunctionContext, type FunctionDef } from './autograd/function.js';
export { autogradGrad, type GradOptions, grad, valueAndGrad } from './autograd/functional.js';
export {
  detectAnomaly,
  enableGrad,
  isAnomalyEnabled,
  isGradEnabled,
  noGrad,
  setGradEnabled,
} from './autograd/grad-mode.js';
export { type GradcheckOptions, gradcheck, gradgradcheck } from './autograd/gradcheck.js';
export * as autograd from './autograd/index.js';
export type { BackwardFn, GradHook } from './autograd/node.js';
export {
  type Backend,
  type BackendFactory,
  type BinaryOp,
  getBackend,
  listBackends,
  type Pool2dWindow,
  type ReduceOp,
  type RegisterBackendOptions,
  ready,
  registerBackend,
  type Storage,
  setBackend,
  type UnaryOp,
  type View,
  type Window2d,
} from './backends/backend.js';
export {
  enableWasmRelaxedSimd,
  getNumThreads,
  initWasmThreads,
  setNumThreads,
  wasmMemoryBytes,
  wasmRelaxedSimdSupported,
  wasmThreadsUnsupportedReason,
} from './backends/wasm/index.js';
export * from './core/creation.js';
export * from './core/dtype.js';
export * from './core/errors.js';
export { defaultGenerator, Generator, manualSeed } from './core/random.js';
export * from './core/shape.js';
export { type NestedArray, Tensor } from './core/tensor.js';
export * as data from './data/index.js';
export * as io from './io/index.js';
export * as nn from './nn/index.js';
export * from './ops/activation.js';
export * from './ops/binary.js';
export * from './ops/indexing.js';
export * from './ops/inplace.js';
export * from './ops/linalg.js';
export * from './ops/matmul.js';
export * from './ops/reduce.js';
export * from './ops/shape.js';
export * from './ops/unary.js';
export type { Scalar, TensorLike } from './ops/util.js';
export * from './ops/views.js';
export * as optim from './optim/index.js';
export * from './train/index.js';
