/**
 * Data loading: datasets, mini-batch loaders, random splits and image augmentation transforms
 * (also available as the `data.transforms` namespace). Browser-safe; the bundled datasets (MNIST, Iris)
 * are in `neurite/node`.
 * @module
 */
export {
  type Collated,
  DataLoader,
  type DataLoaderOptions,
  defaultCollate,
} from './dataloader.js';
export {
  ConcatDataset,
  type Dataset,
  type RandomSplitOptions,
  randomSplit,
  Subset,
  TensorDataset,
} from './dataset.js';
export * from './transforms.js';
export * as transforms from './transforms.js';
