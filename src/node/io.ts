/**
 * (placeholder: being written)
 * @module
 */
export {};
