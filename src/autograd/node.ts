/**
 * A node of the autograd graph: one recorded op, with the edges to the nodes of its inputs.
 * @module
 */
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';

/**
 * Computes the gradients of an op's inputs from the gradient of its output (null: no gradient).
 * `needs[i]` tells whether input i wants a gradient at all, so work for the others can be skipped.
 */
export type BackwardFn = (grad: Tensor, needs: readonly boolean[]) => readonly (Tensor | null | undefined)[];

/** A gradient hook: may return a replacement gradient. */
// biome-ignore lint/suspicious/noConfusingVoidType: hooks that only read the gradient return nothing
export type GradHook = (grad: Tensor) => Tensor | undefined | void;

/** One recorded op (or, for a leaf, the step that accumulates into `.grad`). */
export class Node {
  /** Hooks run on the gradient arriving at this node (tensor hooks of its output). */
  readonly hooks: GradHook[] = [];
  /** A non-leaf tensor whose `.grad` this node fills (`retainGrad`). */
  retained: Tensor | null = null;
  /** True once backward has freed the saved values. */
  released = false;
  private readonly savedVersions: number[];

  constructor(
    /** Op name, used in error messages and anomaly reports. */
    readonly name: string,
    /** For each input: the node its gradient flows to, or null when it needs none. */
    readonly next: readonly (Node | null)[],
    /** Shapes of the inputs (to check the gradients backward returns). */
    readonly inputShapes: readonly Shape[],
    private backwardFn: BackwardFn | null,
    private saved: readonly Tensor[] = [],
    /** For a leaf's accumulation node: the leaf. */
    readonly leaf: Tensor | null = null,
  ) {
    this.savedVersions = saved.map((t) => t.storage.version);
  }

  /** Throws when a saved tensor was changed in place since the forward pass. */
  checkSaved(err: (msg: string) => Error): void {
    for (let i = 0; i < this.saved.length; i++) {
      const t = this.saved[i]!;
      if (t.storage.version !== this.savedVersions[i]) {
        throw err(
          `${this.name} backward: a tensor of shape [${t.shape.join(',')}] that it saved was modified by an ` +
            `in-place operation (version ${t.storage.version}, expected ${this.savedVersions[i]}); ` +
            'use an out-of-place op, or clone() the tensor before changing it',
        );
      }
    }
  }

  /** Runs the backward function. */
  apply(grad: Tensor): readonly (Tensor | null | undefined)[] {
    if (!this.backwardFn) return [];
    return this.backwardFn(
      grad,
      this.next.map((n) => n !== null),
    );
  }

  /** Frees saved values; a second backward through this node then fails with a clear message. */
  release(): void {
    if (this.leaf) return;
    this.backwardFn = null;
    this.saved = [];
    this.released = true;
  }
}
