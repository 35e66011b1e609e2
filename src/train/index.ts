/**
 * Training: `fit`/`evaluate`, callbacks (`EarlyStopping`, `TerminateOnNaN`, `LearningRateScheduler`,
 * `ProgressBar`) and metrics (functions and streaming `Metric` objects). Browser-safe; the callbacks
 * that write files (`ModelCheckpoint`, `CSVLogger`, `JSONLinesLogger`) are in `neurite/node`.
 * @module
 */
export * from './callbacks.js';
export * from './fit.js';
export * from './metrics.js';
export * from './progress.js';
export * from './types.js';
