/**
 * The Tensor: an n-dimensional strided view of a backend storage, with autograd metadata.
 * Ops are added to the prototype by the modules in `src/ops` (one `declare module` block each).
 * @module
 */
import { accumulationNode, type BackwardOptions, runBackward } from '../autograd/engine.js';
import type { GradHook, Node } from '../autograd/node.js';
import type { Storage } from '../backends/backend.js';
import { getBackend } from '../backends/backend.js';
import { type DType, isFloating, type TypedArray } from './dtype.js';
import { AutogradError, DTypeError, ValueError } from './errors.js';
import { formatTensor } from './print.js';
import { contiguousStrides, fmt, isContiguous, numelOf, type Shape } from './shape.js';

/** Nested arrays of numbers or booleans, as returned by `toArray()`. */
export type NestedArray = number | boolean | NestedArray[];

/** An n-dimensional array with reverse-mode autograd. Create one with `tensor`, `zeros`, `randn`, ... */
export class Tensor {
  /** The storage this tensor views (shared with other views of it). */
  readonly storage: Storage;
  /** Size of each dimension. */
  readonly shape: readonly number[];
  /** Step in storage elements between neighbours along each dimension. */
  readonly strides: readonly number[];
  /** Index in the storage of element [0, 0, ...]. */
  readonly offset: number;
  /** True when gradients are computed for this tensor. */
  requiresGrad = false;
  /** Accumulated gradient (set by backward on leaves and on tensors that called `retainGrad()`). */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when it was recorded for autograd (null for leaves). */
  gradFn: Node | null = null;
  /** For views: the tensor whose storage this one views (used to refuse unsafe in-place autograd). */
  base: Tensor | null = null;

  /** Wraps an existing storage (no copy). Prefer the creation functions. */
  constructor(storage: Storage, shape: Shape, strides?: readonly number[], offset = 0) {
    this.storage = storage;
    this.shape = Object.freeze(shape.slice());
    this.strides = Object.freeze(strides ? strides.slice() : contiguousStrides(shape));
    this.offset = offset;
  }

  /** Element type. */
  get dtype(): DType {
    return this.storage.dtype;
  }
  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }
  /** Number of dimensions (PyTorch's `dim()`). */
  dim(): number {
    return this.shape.length;
  }
  /** Number of elements. */
  numel(): number {
    return numelOf(this.shape);
  }
  /** The shape, or the size of one dimension (negative dims count from the end). */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number | number[] {
    if (dim === undefined) return this.shape.slice();
    const d = dim < 0 ? dim + this.ndim : dim;
    if (d < 0 || d >= this.ndim)
      throw new ValueError(`size: dim ${dim} out of range for a ${this.ndim}-d tensor`);
    return this.shape[d]!;
  }
  /** True when the elements are laid out row-major without gaps. */
  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }
  /** True for tensors not produced by a recorded op (user-created tensors and parameters). */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  /** In-place modification counter shared by all views of the storage. */
  get version(): number {
    return this.storage.version;
  }
  /** True for float32/float64. */
  isFloatingPoint(): boolean {
    return isFloating(this.dtype);
  }

  /** The elements as a flat typed array in row-major order (a copy unless the tensor is contiguous and whole). */
  dataSync(): TypedArray {
    const b = this.storage.backend;
    const n = this.numel();
    if (this.isContiguous()) {
      const all = b.read(this.storage);
      if (this.offset === 0 && all.length === n) return all;
      return all.slice(this.offset, this.offset + n);
    }
    return b.read(b.copy(this, this.dtype));
  }

  /** The value of a one-element tensor as a JS number (booleans as 0/1). */
  item(): number {
    if (this.numel() !== 1) {
      throw new ValueError(
        `item: only one-element tensors can be converted to a number (shape ${fmt(this.shape)})`,
      );
    }
    return this.dataSync()[0]!;
  }

  /** The elements as nested JS arrays (bool tensors give booleans). */
  toArray(): NestedArray {
    const data = this.dataSync();
    const isBool = this.dtype === 'bool';
    const build = (d: number, off: number): NestedArray => {
      if (d === this.ndim) return isBool ? data[off] !== 0 : data[off]!;
      const out: NestedArray[] = [];
      let stride = 1;
      for (let i = d + 1; i < this.ndim; i++) stride *= this.shape[i]!;
      for (let i = 0; i < this.shape[d]!; i++) out.push(build(d + 1, off + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /** A readable printout like PyTorch's. */
  toString(): string {
    return formatTensor(this);
  }

  /**
   * Computes the gradient of this tensor w.r.t. graph leaves and accumulates it into their `.grad`.
   * `gradient` is required unless the tensor has exactly one element.
   */
  backward(gradient?: Tensor, options: BackwardOptions = {}): void {
    let seed = gradient;
    if (!seed) {
      if (this.numel() !== 1) {
        throw new AutogradError(
          `backward: grad can be implicitly created only for scalar outputs (got shape ${fmt(this.shape)}); ` +
            'pass a gradient tensor of the same shape',
        );
      }
      const s = getBackend().alloc(this.dtype, this.numel());
      const one = new Tensor(s, this.shape);
      getBackend().fill(one, 1);
      seed = one;
    } else if (seed.shape.join(',') !== this.shape.join(',')) {
      throw new AutogradError(
        `backward: gradient has shape ${fmt(seed.shape)} but the tensor has shape ${fmt(this.shape)}`,
      );
    }
    runBackward([this], [seed], options);
  }

  /** A tensor sharing this one's data, cut from the graph (never requires grad). */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  /** Sets `requiresGrad` on a leaf (in place); returns this. */
  requiresGrad_(on = true): this {
    if (!this.isLeaf && !on) {
      throw new AutogradError(
        'requiresGrad_: you can only change requiresGrad of leaf tensors; use detach() for a non-leaf',
      );
    }
    if (on && !isFloating(this.dtype)) {
      throw new DTypeError(
        `requiresGrad_: only floating tensors can require gradients (dtype ${this.dtype})`,
      );
    }
    this.requiresGrad = on;
    return this;
  }

  /** Makes backward fill `.grad` of this non-leaf tensor too. */
  retainGrad(): void {
    if (!this.requiresGrad) {
      throw new AutogradError("retainGrad: can't retain the gradient of a tensor that does not require grad");
    }
    if (this.gradFn) this.gradFn.retained = this;
  }

  /**
   * Registers a hook called with this tensor's gradient during backward; returning a tensor replaces
   * the gradient. Returns a function that removes the hook.
   */
  registerHook(hook: GradHook): () => void {
    if (!this.requiresGrad) {
      throw new AutogradError("registerHook: can't register a hook on a tensor that does not require grad");
    }
    const node = this.gradFn ?? accumulationNode(this);
    node.hooks.push(hook);
    return () => {
      const i = node.hooks.indexOf(hook);
      if (i >= 0) node.hooks.splice(i, 1);
    };
  }
}
