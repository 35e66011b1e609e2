/**
 * Containers: `Sequential`, `ModuleList`, `ModuleDict`.
 * @module
 */
import { IndexError, ValueError } from '../../core/errors.js';
import { Module } from '../module.js';
import { ReLU } from './activation.js';
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
   * Runs the children in order. One exception, invisible in results: a `ReLU` directly followed by a
   * `MaxPool2d` (neither with forward hooks) runs as the pool and then the ReLU. The two commute, since
   * ReLU is monotone: max(relu(x)) = relu(max(x)) bit for bit, and the gradient goes to the same element
   * (the window's first maximum when it is positive, none otherwise). The ReLU and its backward then touch
   * the pooled tensor, a quarter of the size for 2 x 2 pools, and the full-size ReLU output is never
   * made (about 7% of an MNIST CNN training step on the wasm backend).
   */
  override forward<T = unknown>(x: unknown): T {
    const kids = this.children();
    let y = x;
    for (let i = 0; i < kids.length; i++) {
      const m = kids[i]!;
      const next = kids[i + 1];
      if (next !== undefined && poolCommutes(m, next)) {
        y = callModule(m, callModule(next, y));
        i++;
      } else {
        y = callModule(m, y);
      }
    }
    return y as T;
  }
}

/** Whether `relu` then `pool` may run as `pool` then `relu` (see Sequential.forward). */
function poolCommutes(relu: Module, pool: Module): boolean {
  if (relu.hasForwardHooks || pool.hasForwardHooks) return false;
  return relu.constructor === ReLU && pool.constructor === MaxPool2d;
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
