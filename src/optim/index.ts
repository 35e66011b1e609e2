/**
 * Optimizers (`SGD`, `Adam`, `AdamW`, `Adagrad`, `RMSprop`) and learning-rate schedulers
 * (`lrScheduler`), with PyTorch 1.13's update rules and state-dict layout.
 * @module
 */
export { Adagrad, type AdagradOptions } from './adagrad.js';
export { Adam, type AdamInput, type AdamOptions, AdamW } from './adam.js';
export * as lrScheduler from './lr-scheduler.js';
export {
  type Closure,
  type GroupOptions,
  Optimizer,
  type OptimizerState,
  type ParamGroup,
  type ParamGroupInput,
  type ParamState,
  type ParamsInput,
  type ZeroGradOptions,
} from './optimizer.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export { SGD, type SGDOptions } from './sgd.js';
