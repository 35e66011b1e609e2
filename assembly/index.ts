// Entry of the WebAssembly kernels of Neurite's `wasm` backend (compiled by scripts/build-wasm.ts).
export { sgemm, sgemmWorkspace } from './gemm';
export { runChunk, sgemmChunk } from './parallel';
export { adamStep, sgdMomentumStep, sgdStep } from './optim';
