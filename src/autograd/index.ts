/**
 * The `autograd` namespace, mirroring `torch.autograd`.
 * @module
 */

export { customOp as Function, FunctionContext, type FunctionDef } from './function.js';
export { autogradGrad as grad, type GradOptions } from './functional.js';
export { detectAnomaly } from './grad-mode.js';
export { type GradcheckOptions, gradcheck, gradgradcheck } from './gradcheck.js';
