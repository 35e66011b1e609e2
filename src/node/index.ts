/**
 * Node-only entry (`neurite/node`): everything in the browser-safe entry plus file IO (safetensors
 * files, checkpoints) and the bundled datasets.
 * @module
 */
export * from '../index.js';
export * from './datasets.js';
export * from './io.js';
