/**
 * All layers. One layer (or a small family) per file.
 * @module
 */
export * from './activation.js';
export * from './attention.js';
export * from './batchnorm.js';
export * from './bilinear.js';
export * from './container.js';
export * from './conv.js';
export * from './dropout.js';
export * from './embedding.js';
export * from './flatten.js';
export * from './linear.js';
export * from './loss.js';
export * from './normalization.js';
export * from './pooling.js';
export * from './rnn.js';
export * from './transformer.js';
