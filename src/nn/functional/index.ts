/**
 * Functional neural-network ops (`nn.functional`, often imported as `F`): activations, convolution,
 * pooling, interpolation, normalisation, dropout, embedding and losses.
 * @module
 */
export * from '../../ops/activation.js';
export { oneHot } from '../../ops/indexing.js';
export { pad } from '../../ops/shape.js';
export { relu, sigmoid, tanh } from '../../ops/unary.js';
export * from './basic.js';
export * from './conv.js';
export * from './interpolate.js';
export * from './loss.js';
export * from './norm.js';
export * from './pool.js';
