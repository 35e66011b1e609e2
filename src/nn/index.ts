/**
 * Neural networks: `Module`, `Parameter`, layers (one file each in `modules/`), `init` and `functional`.
 * @module
 */
export * as functional from './functional/index.js';
export * as init from './init.js';
export { type ForwardHook, type ForwardPreHook, type LoadResult, Module } from './module.js';
export * from './modules/index.js';
export { Parameter } from './parameter.js';
export { type SummaryOptions, summary } from './summary.js';
export * as utils from './utils.js';
