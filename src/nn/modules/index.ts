/**
 * All layers. One layer (or a small family) per file.
 * @module
 */
export * from './container.js';
export * from './linear.js';
