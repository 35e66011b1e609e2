/**
 * Argument parsing shared by the convolution and pooling ops (not part of `nn.functional`'s exports).
 * @module
 */
import { ValueError } from '../../core/errors.js';
import { fmt } from '../../core/shape.js';

/** One integer for every spatial dim, or one per dim. */
export type IntOrTuple = number | readonly number[];

/** Expands `v` to `n` integers >= `min`, or throws a ValueError naming the op and the argument. */
export function ints(op: string, name: string, v: IntOrTuple, n: number, min: number): number[] {
  const list = typeof v === 'number' ? new Array<number>(n).fill(v) : [...v];
  if (list.length !== n) {
    throw new ValueError(`${op}: ${name} must be one integer or ${n} integers, got ${fmt(list)}`);
  }
  for (const x of list) {
    if (!Number.isInteger(x) || x < min) {
      const what = min === 1 ? 'positive' : 'non-negative';
      throw new ValueError(`${op}: ${name} must be ${what} integers, got ${fmt(list)}`);
    }
  }
  return list;
}
