/**
 * Functional neural-network ops (`nn.functional`, often imported as `F`): activations, convolution,
 * pooling, interpolation, normalisation, dropout, embedding and losses.
 * @module
 */
export * from '../../ops/activation.js';
export * from './basic.js';
export * from './conv.js';
export * from './interpolate.js';
export * from './loss.js';
export * from './norm.js';
export * from './pool.js';
