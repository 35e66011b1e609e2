/**
 * The `neurite` command line as a library: `runCli(argv, io)` and the commands behind it (Node only).
 * @module
 */
export { type CliIo, EXIT_FAILURE, EXIT_USAGE, processIo, runCli } from './cli.js';
export {
  checkpointName,
  describeBackend,
  type EvalOptions,
  evalModel,
  evaluateClassifier,
  type Prediction,
  type PredictOptions,
  predictDigit,
  printInfo,
  TRAIN_DEFAULTS,
  type TrainOptions,
  type TrainReport,
  trainMnist,
} from './commands.js';
export { CliError, loadModel, MNIST_CNN_ARCH, saveModel } from './model-file.js';
export { decodePngGray, encodeGrayPng, ImageError, isPng, readDigitPng, toMnistInput } from './png.js';
