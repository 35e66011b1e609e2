/**
 * Containers: `Sequential`, `ModuleList`, `ModuleDict`.
 * @module
 */
import { DTypeError, IndexError, ShapeError, ValueError } from '../../core/errors.js';
import { Tensor } from '../../core/tensor.js';
import { conv2dMaxPool2d } from '../functional/conv.js';
import { Module } from '../module.js';
import { ReLU } from './activation.js';
import { Conv2d } from './conv.js';
import { MaxPool2d } from './pooling.js';

/** Calls any module's forward with untyped inputs (containers do not know their children's signatures). */
export function callModule(m: Module, ...inputs: unknown[]): unknown {
  return (m.forward as (...a: unknown[]) => unknown)(...inputs);
}

/** Registers `modules` as the children '0', '1', ... of `owner`. */
function registerNumbered(owner: Module, modules: readonly Module[]): void {
  modules.forEach((m, i) => {
    owner.register(String(i), m);
  });
}

/**
 * Index `i` of a numbered container with `n` children, negative counting from the end; throws an
 * IndexError naming `owner` and the `n` `items` when out of range.
 */
function childIndex(owner: string, items: string, i: number, n: number): number {
  const j = i < 0 ? i + n : i;
  if (j < 0 || j >= n) throw new IndexError(`${owner}: index ${i} out of range for ${n} ${items}`);
  return j;
}

/** Runs its children in order, feeding each output to the next. Children are named '0', '1', ... */
export class Sequential extends Module {
  constructor(...layers: Module[]) {
    super();
    registerNumbered(this, layers);
  }

  /** Number of children. */
  get length(): number {
    return this.children().length;
  }

  /** The i-th child (negative counts from the end). */
  at(i: number): Module {
    const kids = this.children();
    return kids[childIndex('Sequential', 'layers', i, kids.length)]!;
  }

  /** Replaces the i-th child (e.g. a new head for fine-tuning). */
  set(i: number, m: Module): void {
    this.register(String(childIndex('Sequential', 'layers', i, this.children().length)), m);
  }

  /** Appends a child; returns this. */
  append(m: Module): this {
    this.register(String(this.children().length), m);
    return this;
  }

  /**
   * Runs the children in order, with two rearrangements that change no result (outputs and gradients
   * are the same bits) but save work; they apply only to layers without forward hooks, whose
   * intermediate outputs nobody can see:
   * - a `ReLU` directly followed by a `MaxPool2d` runs as the pool and then the ReLU. The two commute,
   *   since ReLU is monotone: max(relu(x)) = relu(max(x)), and the gradient goes to the same element (the
   *   window's first maximum when it is positive, none otherwise). The ReLU and its backward then touch
   *   the pooled tensor, a quarter of the size for 2 x 2 pools.
   * - a `Conv2d` (zero padding) then that pool (after the ReLU, if any) run as one
   *   `F.conv2dMaxPool2d`, which on the `wasm` backend pools the convolution's output without returning
   *   it (see there).
   */
  override forward<T = unknown>(x: unknown): T {
    const kids = this.children();
    let y = x;
    for (let i = 0; i < kids.length; ) {
      const m = kids[i]!;
      const commutes = poolCommutes(kids[i + 1], kids[i + 2]);
      const poolAt = commutes ? i + 2 : i + 1;
      const fused = convPools(m, kids[poolAt]) ? convPool(m, kids[poolAt], y) : null;
      if (fused !== null) {
        y = commutes ? callModule(kids[i + 1]!, fused) : fused;
        i = poolAt + 1;
      } else if (poolCommutes(m, kids[i + 1])) {
        y = callModule(m, callModule(kids[i + 1]!, y));
        i += 2;
      } else {
        y = callModule(m, y);
        i += 1;
      }
    }
    return y as T;
  }
}

/** Whether `relu` then `pool` may run as `pool` then `relu` (see Sequential.forward). */
function poolCommutes(relu: Module | undefined, pool: Module | undefined): boolean {
  if (relu === undefined || pool === undefined || relu.hasForwardHooks || pool.hasForwardHooks) return false;
  return relu.constructor === ReLU && pool.constructor === MaxPool2d;
}

/** Whether `conv` then `pool` may run as one conv2dMaxPool2d (see Sequential.forward). */
function convPools(conv: Module, pool: Module | undefined): boolean {
  if (pool === undefined || conv.hasForwardHooks || pool.hasForwardHooks) return false;
  return (
    conv.constructor === Conv2d && pool.constructor === MaxPool2d && (conv as Conv2d).paddingMode === 'zeros'
  );
}

/**
 * `pool(conv(x))` through `F.conv2dMaxPool2d`, or null to run the layers one by one: when x is not a
 * batched input of the conv's channels and dtype, or when the fused op rejects its operands (then the
 * layers' own calls report the error, named by layer).
 */
function convPool(convLayer: Module, poolLayer: Module, x: unknown): Tensor | null {
  const conv = convLayer as Conv2d;
  const pool = poolLayer as MaxPool2d;
  if (!(x instanceof Tensor) || x.ndim !== 4 || x.shape[1] !== conv.inChannels) return null;
  if (x.dtype !== conv.weight.dtype) return null;
  try {
    const options = {
      stride: conv.stride,
      padding: conv.padding,
      dilation: conv.dilation,
      groups: conv.groups,
    };
    const { stride, padding, dilation, ceilMode } = pool.options;
    return conv2dMaxPool2d(x, conv.weight, conv.bias, options, pool.kernelSize, {
      stride,
      padding,
      dilation,
      ceilMode,
    });
  } catch (e) {
    // Bad operands: the layers' own calls report them, named by layer. Other errors (a worker thread
    // that died, out of memory) are the fused op's own and go up as they are.
    if (e instanceof ShapeError || e instanceof ValueError || e instanceof DTypeError) return null;
    throw e;
  }
}

/** A list of submodules, registered as '0', '1', ... (no forward of its own). */
export class ModuleList extends Module {
  constructor(modules: readonly Module[] = []) {
    super();
    registerNumbered(this, modules);
  }
  /** Number of modules. */
  get length(): number {
    return this.children().length;
  }
  /** The i-th module. */
  at(i: number): Module {
    const kids = this.children();
    return kids[childIndex('ModuleList', 'modules', i, kids.length)]!;
  }
  /** Appends a module; returns this. */
  append(m: Module): this {
    this.register(String(this.children().length), m);
    return this;
  }
  /** Iterates over the modules. */
  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }
  override forward(): never {
    throw new ValueError('ModuleList has no forward; iterate over it and call each module');
  }
}

/** Submodules by name (no forward of its own). */
export class ModuleDict extends Module {
  constructor(modules: Record<string, Module> = {}) {
    super();
    for (const [k, m] of Object.entries(modules)) this.register(k, m);
  }
  /** The module named `key`. */
  get(key: string): Module {
    const m = this.getRegistered(key);
    if (!(m instanceof Module)) throw new IndexError(`ModuleDict: no module named '${key}'`);
    return m;
  }
  /** Adds or replaces the module named `key`. */
  set(key: string, m: Module): void {
    this.register(key, m);
  }
  /** Names of the modules. */
  keys(): string[] {
    return this.namedChildren().map((e) => e[0]);
  }
  override forward(): never {
    throw new ValueError('ModuleDict has no forward; look modules up with get() and call them');
  }
}
