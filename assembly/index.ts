// Entry of the WebAssembly kernels of Neurite's `wasm` backend (compiled by scripts/build-wasm.ts).
export { sgemm, sgemmWorkspace } from './gemm';
export { runChunk, sgemmChunk } from './parallel';
export { lstmBackwardStep, lstmForwardStep, lstmMath } from './lstm';
export { channelSumsF64, maxPool2x2BackwardF32, maxPool2x2F32, reluBackwardF32, reluF32 } from './elementwise';
export { adamStep, sgdMomentumStep, sgdStep } from './optim';
export { bnBackwardDxF32, bnBackwardSumsF32, bnForwardF32, bnStatsF32 } from './batchnorm';
