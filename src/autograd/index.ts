/**
 * The `autograd` namespace, mirroring `torch.autograd`.
 * @module
 */
export { autogradGrad as grad, type GradOptions } from './functional.js';
export { customOp as Function, FunctionContext, type FunctionDef } from './function.js';
export { gradcheck, gradgradcheck, type GradcheckOptions } from './gradcheck.js';
export { detectAnomaly } from './grad-mode.js';
