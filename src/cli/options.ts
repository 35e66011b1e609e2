/**
 * Parsers and validators for the CLI's option values. Each parser throws commander's
 * `InvalidArgumentError`, so commander reports `error: option '--epochs <n>' argument '-1' is
 * invalid. expected a positive integer` on one line and exits with a non-zero code.
 * @module
 */
import { InvalidArgumentError } from 'commander';

/** The optimizers `neurite train` accepts. */
export const OPTIMIZERS = ['adam', 'sgd', 'adamw', 'rmsprop', 'adagrad'] as const;
/** An optimizer name accepted by `--optimizer`. */
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** The datasets `neurite train` accepts. */
export const DATASETS = ['mnist'] as const;
/** A dataset name accepted by `neurite train <dataset>`. */
export type DatasetName = (typeof DATASETS)[number];

/** Default learning rate of each optimizer for the MNIST CNN. */
export const DEFAULT_LR: Readonly<Record<OptimizerName, number>> = {
  adam: 2e-3,
  adamw: 2e-3,
  sgd: 0.05,
  rmsprop: 1e-3,
  adagrad: 0.02,
};

/** Strict decimal integer syntax (no exponent, no fraction, no hex). */
const INT_RE = /^[+-]?\d+$/;

function parseIntStrict(value: string): number | null {
  const s = value.trim();
  if (!INT_RE.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

/** Parses an integer >= 1 (epochs, batch size, limits). */
export function positiveInt(value: string): number {
  const n = parseIntStrict(value);
  if (n === null || n < 1) throw new InvalidArgumentError('expected a positive integer.');
  return n;
}

/** Parses an integer in [0, 2^32 - 1] (seeds). */
export function seedInt(value: string): number {
  const n = parseIntStrict(value);
  if (n === null || n < 0 || n > 0xffffffff) {
    throw new InvalidArgumentError('expected an integer between 0 and 4294967295.');
  }
  return n;
}

/** Parses a finite number > 0 (learning rates). */
export function positiveNumber(value: string): number {
  const s = value.trim();
  const n = s === '' ? Number.NaN : Number(s);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number greater than 0.');
  return n;
}
