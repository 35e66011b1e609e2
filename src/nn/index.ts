/**
 * Neural networks. For now the functional API (`nn.functional`); layers (`nn.Linear`, ...) come next.
 * @module
 */
export * as functional from './functional/index.js';
