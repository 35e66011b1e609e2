/**
 * Node-only entry (`neurite/node`): everything in the browser-safe entry plus file IO (safetensors
 * files, checkpoints), the bundled datasets and the training callbacks that write files.
 * @module
 */
export * from '../index.js';
export * from './datasets.js';
export * from './io.js';
export * from './train.js';
