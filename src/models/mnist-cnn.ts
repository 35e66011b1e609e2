/**
 * The default MNIST convolutional network (used by `neurite train mnist` and the examples). Browser-safe.
 *
 * Layout (PyTorch key names in the state dict, e.g. `features.0.weight`, `features.1.running_mean`,
 * `classifier.2.weight`):
 *
 * ```text
 * features:   0 Conv2d(1, c1, k, padding k/2)   1 BatchNorm2d(c1)  2 ReLU  3 MaxPool2d(2)
 *             4 Conv2d(c1, c2, k, padding k/2)  5 BatchNorm2d(c2)  6 ReLU  7 MaxPool2d(2)
 * classifier: 0 Flatten  1 Dropout(p)  2 Linear(c2*7*7, hidden)  3 ReLU  4 Linear(hidden, 10)
 * ```
 *
 * The same architecture in PyTorch (so a state dict saved by Neurite loads with `load_state_dict`):
 *
 * ```python
 * class MnistCnn(nn.Module):
 *     def __init__(self, c1=16, c2=32, k=5, hidden=64, p=0.25):
 *         super().__init__()
 *         self.features = nn.Sequential(
 *             nn.Conv2d(1, c1, k, padding=k // 2), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
 *             nn.Conv2d(c1, c2, k, padding=k // 2), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2))
 *         self.classifier = nn.Sequential(
 *             nn.Flatten(), nn.Dropout(p), nn.Linear(c2 * 7 * 7, hidden), nn.ReLU(), nn.Linear(hidden, 10))
 *     def forward(self, x):
 *         return self.classifier(self.features(x))
 * ```
 * @module
 */
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { Module } from '../nn/module.js';
import { Conv2d } from '../nn/modules/conv.js';
import { BatchNorm2d, Dropout, Flatten, MaxPool2d, ReLU, Sequential } from '../nn/modules/index.js';
import { Linear } from '../nn/modules/linear.js';

/** Hyper-parameters of `MnistCnn` (saved next to the weights as JSON). */
export interface MnistCnnConfig {
  /** Input size (square images; default 28). Must be divisible by 4. */
  imageSize: number;
  /** Input channels (default 1, gray). */
  inChannels: number;
  /** Output channels of the first and second convolution. */
  channels: [number, number];
  /** Square kernel size of both convolutions (odd; padded to keep the size). */
  kernelSize: number;
  /** Units of the hidden dense layer. */
  hidden: number;
  /** Dropout probability before the dense head. */
  dropout: number;
  /** Number of classes. */
  numClasses: number;
}

/** The default configuration: conv 1->16 and 16->32 (5x5), dense 1568->64->10, dropout 0.25. */
export const DEFAULT_MNIST_CNN_CONFIG: Readonly<MnistCnnConfig> = Object.freeze({
  imageSize: 28,
  inChannels: 1,
  channels: [16, 32],
  kernelSize: 5,
  hidden: 64,
  dropout: 0.25,
  numClasses: 10,
}) as Readonly<MnistCnnConfig>;

function checkInt(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new ValueError(`MnistCnn: ${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Fills in defaults and validates a (possibly partial, possibly parsed-from-JSON) configuration.
 * Throws ValueError naming the bad field.
 */
export function resolveMnistCnnConfig(config: Partial<MnistCnnConfig> = {}): MnistCnnConfig {
  const c = { ...DEFAULT_MNIST_CNN_CONFIG, ...config };
  const imageSize = checkInt('imageSize', c.imageSize, 4);
  if (imageSize % 4 !== 0)
    throw new ValueError(`MnistCnn: imageSize must be divisible by 4, got ${imageSize}`);
  if (!Array.isArray(c.channels) || c.channels.length !== 2) {
    throw new ValueError(`MnistCnn: channels must be two integers, got ${JSON.stringify(c.channels)}`);
  }
  const kernelSize = checkInt('kernelSize', c.kernelSize, 1);
  if (kernelSize % 2 !== 1) throw new ValueError(`MnistCnn: kernelSize must be odd, got ${kernelSize}`);
  if (typeof c.dropout !== 'number' || !(c.dropout >= 0 && c.dropout < 1)) {
    throw new ValueError(`MnistCnn: dropout must be in [0, 1), got ${JSON.stringify(c.dropout)}`);
  }
  return {
    imageSize,
    inChannels: checkInt('inChannels', c.inChannels, 1),
    channels: [checkInt('channels[0]', c.channels[0], 1), checkInt('channels[1]', c.channels[1], 1)],
    kernelSize,
    hidden: checkInt('hidden', c.hidden, 1),
    dropout: c.dropout,
    numClasses: checkInt('numClasses', c.numClasses, 1),
  };
}

/** Two conv + batch norm + ReLU + max-pool blocks, then dropout and a two-layer dense head. */
export class MnistCnn extends Module {
  /** The resolved configuration. */
  readonly config: MnistCnnConfig;
  /** Convolutional feature extractor: [N, 1, 28, 28] -> [N, c2, 7, 7]. */
  features: Sequential;
  /** Dense head: [N, c2, 7, 7] -> [N, numClasses] logits. */
  classifier: Sequential;

  constructor(config: Partial<MnistCnnConfig> = {}) {
    super();
    const c = resolveMnistCnnConfig(config);
    this.config = c;
    const [c1, c2] = c.channels;
    const k = c.kernelSize;
    const pad = (k - 1) / 2;
    this.features = new Sequential(
      new Conv2d(c.inChannels, c1, k, { padding: pad }),
      new BatchNorm2d(c1),
      new ReLU(),
      new MaxPool2d(2),
      new Conv2d(c1, c2, k, { padding: pad }),
      new BatchNorm2d(c2),
      new ReLU(),
      new MaxPool2d(2),
    );
    const side = c.imageSize / 4;
    this.classifier = new Sequential(
      new Flatten(),
      new Dropout(c.dropout),
      new Linear(c2 * side * side, c.hidden),
      new ReLU(),
      new Linear(c.hidden, c.numClasses),
    );
  }

  /** Logits [N, numClasses] for images [N, inChannels, imageSize, imageSize]. */
  override forward(x: Tensor): Tensor {
    return this.classifier.forward<Tensor>(this.features.forward<Tensor>(x));
  }
}
