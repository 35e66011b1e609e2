/**
 * `Module`: the base class of layers and models, as in PyTorch. Parameters (`Parameter`) and
 * submodules (`Module`) are registered by assigning them to properties; buffers (running statistics)
 * with `registerBuffer`. Call a module with `m.forward(x)`: the call runs forward hooks and, when a
 * layer throws, prefixes the message with the layer's path in the model, e.g. `features.3 (Conv2d): ...`.
 * @module
 */
import { noGrad } from '../autograd/grad-mode.js';
import { type DType, isFloating } from '../core/dtype.js';
import { IndexError, ShapeError, ValueError } from '../core/errors.js';
import { fmt } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { Parameter } from './parameter.js';

/** Called before forward with the inputs; may return replacement inputs. */
// biome-ignore lint/suspicious/noConfusingVoidType: hooks written as `() => { ... }` (returning nothing) must type-check
export type ForwardPreHook = (module: Module, inputs: unknown[]) => unknown[] | undefined | void;
/** Called after forward with inputs and output; may return a replacement output. */
export type ForwardHook = (module: Module, inputs: unknown[], output: unknown) => unknown;

/** Result of a non-strict `loadStateDict`. */
export interface LoadResult {
  /** Keys the module has but the state dict lacks. */
  missingKeys: string[];
  /** Keys the state dict has but the module lacks. */
  unexpectedKeys: string[];
  /** Keys present in both with different shapes: `key: [module shape] vs [given shape]`. */
  shapeMismatches: string[];
}

/** The modules whose forward is running, outermost first (to name a failing layer by its path). */
const callStack: Module[] = [];
const tagged = new WeakSet<Error>();

/** Base class of all layers and models. */
export abstract class Module {
  /** True in training mode (dropout active, batch norm uses batch statistics). */
  training = true;
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _nonPersistent = new Set<string>();
  private readonly _registered = new Map<string, Module | Parameter | null>();
  private readonly _preHooks: ForwardPreHook[] = [];
  private readonly _hooks: ForwardHook[] = [];

  constructor() {
    const impl = this.forward;
    Object.defineProperty(this, 'forward', {
      value: (...inputs: unknown[]) => this.callForward(impl, inputs),
      enumerable: false,
      writable: true,
      configurable: true,
    });
  }

  /** Computes the module's output. Subclasses override it with their own signature. */
  abstract forward(...inputs: never[]): unknown;

  private callForward(impl: (...a: never[]) => unknown, inputs: unknown[]): unknown {
    let args = inputs;
    for (const h of this._preHooks) {
      const r = h(this, args);
      if (r) args = r;
    }
    callStack.push(this);
    let out: unknown;
    try {
      out = impl.apply(this, args as never[]);
    } catch (e) {
      if (e instanceof Error && !tagged.has(e)) {
        tagged.add(e);
        const path = modulePath(callStack);
        const label = `${path ? `${path} ` : ''}(${this.constructor.name})`;
        e.message = `${label}: ${e.message}`;
      }
      throw e;
    } finally {
      callStack.pop();
    }
    for (const h of this._hooks) {
      const r = h(this, args, out);
      if (r !== undefined) out = r;
    }
    return out;
  }

  /**
   * Whether forward hooks or pre-hooks are registered on this module (containers only rearrange the
   * calls of children that have none, see `Sequential`).
   */
  get hasForwardHooks(): boolean {
    return this._preHooks.length > 0 || this._hooks.length > 0;
  }

  /** Registers a hook run before every forward call; returns a remover. */
  registerForwardPreHook(hook: ForwardPreHook): () => void {
    this._preHooks.push(hook);
    return () => remove(this._preHooks, hook);
  }

  /** Registers a hook run after every forward call (to read or replace activations); returns a remover. */
  registerForwardHook(hook: ForwardHook): () => void {
    this._hooks.push(hook);
    return () => remove(this._hooks, hook);
  }

  /**
   * Registers a submodule or parameter under an explicit name (e.g. a PyTorch key like `weight_ih_l0`).
   * Unless the name clashes with a method or another property, it also becomes a property that reads
   * and writes the registered entry (so `seq['0']` or `rnn.weight_ih_l0 = p` work).
   */
  register(name: string, value: Module | Parameter | null): void {
    checkName(name);
    this._registered.set(name, value);
    const self = this as unknown as Record<string, unknown>;
    const own = Object.getOwnPropertyDescriptor(this, name);
    const free = own
      ? own.get !== undefined ||
        own.value == null ||
        own.value instanceof Module ||
        own.value instanceof Parameter
      : !(name in this);
    if (free && !own?.get) {
      delete self[name];
      Object.defineProperty(this, name, {
        get: () => this._registered.get(name) ?? null,
        set: (v: unknown) => {
          if (v !== null && !(v instanceof Module) && !(v instanceof Parameter)) {
            throw new ValueError(
              `Module: '${name}' is a registered entry and can only be set to a Module, a Parameter or null`,
            );
          }
          this._registered.set(name, v);
        },
        enumerable: false,
        configurable: true,
      });
    }
  }

  /** Registers a buffer: state saved in the state dict but not trained (e.g. `running_mean`). */
  registerBuffer(name: string, value: Tensor | null, options: { persistent?: boolean } = {}): void {
    checkName(name);
    this._buffers.set(name, value);
    if (options.persistent === false) this._nonPersistent.add(name);
    else this._nonPersistent.delete(name);
  }

  /** The buffer registered as `name`. */
  getBuffer(name: string): Tensor | null {
    return this._buffers.get(name) ?? null;
  }

  /** The parameter or submodule registered under `name` with `register`, or a property of that name. */
  getRegistered(name: string): Module | Parameter | null {
    if (this._registered.has(name)) return this._registered.get(name) ?? null;
    const v = (this as unknown as Record<string, unknown>)[name];
    return v instanceof Module || v instanceof Parameter ? v : null;
  }

  /** Own entries (explicitly registered first, then properties in assignment order). */
  private entries(): [string, Module | Parameter][] {
    const out: [string, Module | Parameter][] = [];
    const seen = new Set<string>();
    for (const [k, v] of this._registered) {
      seen.add(k);
      if (v) out.push([k, v]);
    }
    for (const k of Object.keys(this)) {
      if (k.startsWith('_') || seen.has(k)) continue;
      const v = (this as unknown as Record<string, unknown>)[k];
      if (v instanceof Module || v instanceof Parameter) out.push([k, v]);
    }
    return out;
  }

  /** Direct submodules with their names. */
  namedChildren(): [string, Module][] {
    return this.entries().filter((e): e is [string, Module] => e[1] instanceof Module);
  }

  /** Direct submodules. */
  children(): Module[] {
    return this.namedChildren().map((e) => e[1]);
  }

  /** This module and all below it, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [k, m] of this.namedChildren()) out.push(...m.namedModules(prefix ? `${prefix}.${k}` : k));
    return out;
  }

  /** This module and all below it. */
  modules(): Module[] {
    return this.namedModules().map((e) => e[1]);
  }

  /**
   * All parameters with dotted names, in registration order (each parameter once, under the first
   * name it is found at). With `recurse` false, only this module's own parameters.
   */
  namedParameters(prefix = '', recurse = true): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    const walk = (m: Module, p: string): void => {
      for (const [k, v] of m.entries()) {
        const name = p ? `${p}.${k}` : k;
        if (v instanceof Parameter) {
          if (!seen.has(v)) {
            seen.add(v);
            out.push([name, v]);
          }
        } else if (recurse) walk(v, name);
      }
    };
    walk(this, prefix);
    return out;
  }

  /** All parameters (only this module's own with `recurse` false). */
  parameters(recurse = true): Parameter[] {
    return this.namedParameters('', recurse).map((e) => e[1]);
  }

  /** All buffers with dotted names (only this module's own with `recurse` false). */
  namedBuffers(prefix = '', recurse = true): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const mods: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [name, m] of mods) {
      for (const [k, b] of m._buffers) if (b) out.push([name ? `${name}.${k}` : k, b]);
    }
    return out;
  }

  /** All buffers. */
  buffers(recurse = true): Tensor[] {
    return this.namedBuffers('', recurse).map((e) => e[1]);
  }

  /** The submodule at a dotted path, e.g. `features.3` ('' is this module); throws an IndexError naming the missing part. */
  getSubmodule(path: string): Module {
    let m: Module = this;
    if (!path) return m;
    const parts = path.split('.');
    for (let i = 0; i < parts.length; i++) {
      const next = m.namedChildren().find(([k]) => k === parts[i]);
      if (!next) {
        const at = parts.slice(0, i).join('.') || '(root)';
        throw new IndexError(
          `getSubmodule: ${m.constructor.name} at '${at}' has no submodule '${parts[i]}' (path '${path}')`,
        );
      }
      m = next[1];
    }
    return m;
  }

  /**
   * Converts every floating parameter and buffer to `dtype` (e.g. 'float64' for gradient checks);
   * returns this. Parameters are replaced by new ones (shared parameters stay shared), so build
   * optimizers after converting.
   */
  to(dtype: DType): this {
    if (!isFloating(dtype)) {
      throw new ValueError(`Module.to: only floating dtypes (float32, float64) are supported, got ${dtype}`);
    }
    const done = new Map<Parameter, Parameter>();
    noGrad(() => {
      for (const m of this.modules()) {
        for (const [k, v] of m.entries()) {
          if (!(v instanceof Parameter) || !isFloating(v.dtype) || v.dtype === dtype) continue;
          let p = done.get(v);
          if (!p) {
            p = new Parameter(v.detach().to(dtype), v.requiresGrad);
            done.set(v, p);
          }
          if (m._registered.has(k)) m._registered.set(k, p);
          else (m as unknown as Record<string, unknown>)[k] = p;
        }
        for (const [k, b] of m._buffers) {
          if (b && isFloating(b.dtype) && b.dtype !== dtype) m._buffers.set(k, b.to(dtype));
        }
      }
    });
    return this;
  }

  /** `to('float64')`. */
  double(): this {
    return this.to('float64');
  }

  /** `to('float32')`. */
  float(): this {
    return this.to('float32');
  }

  /** Switches this module and all below it to training (or evaluation) mode; returns this. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode (`train(false)`); returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Applies `fn` to every submodule (children first) and this module, like PyTorch; returns this. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** Sets every parameter's gradient to null. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Turns gradients on or off for every parameter (off freezes them for feature extraction); returns this. */
  requiresGrad_(on = true): this {
    for (const p of this.parameters()) p.requiresGrad = on;
    return this;
  }

  /** Parameters and persistent buffers by dotted name (PyTorch's keys, e.g. `0.weight`, `fc1.bias`). */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [name, m] of this.namedModules()) {
      for (const [k, v] of m.entries()) if (v instanceof Parameter) out.set(name ? `${name}.${k}` : k, v);
      for (const [k, b] of m._buffers) {
        if (b && !m._nonPersistent.has(k)) out.set(name ? `${name}.${k}` : k, b);
      }
    }
    return out;
  }

  /**
   * Copies values from `state` into the parameters and buffers. Strict (default): any missing key,
   * unexpected key or shape mismatch throws one error listing them all, and nothing is changed.
   * Non-strict: loads what matches and reports the rest.
   */
  loadStateDict(
    state: Map<string, Tensor> | Record<string, Tensor>,
    options: { strict?: boolean } = {},
  ): LoadResult {
    const strict = options.strict ?? true;
    const given = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    const res: LoadResult = { missingKeys: [], unexpectedKeys: [], shapeMismatches: [] };
    for (const k of own.keys()) if (!given.has(k)) res.missingKeys.push(k);
    for (const k of given.keys()) if (!own.has(k)) res.unexpectedKeys.push(k);
    for (const [k, t] of own) {
      const g = given.get(k);
      if (g && fmt(g.shape) !== fmt(t.shape))
        res.shapeMismatches.push(`${k}: ${fmt(t.shape)} in the model vs ${fmt(g.shape)} given`);
    }
    const bad = res.missingKeys.length + res.unexpectedKeys.length + res.shapeMismatches.length;
    if (strict && bad) {
      const parts: string[] = [];
      if (res.missingKeys.length) parts.push(`missing keys: ${res.missingKeys.join(', ')}`);
      if (res.unexpectedKeys.length) parts.push(`unexpected keys: ${res.unexpectedKeys.join(', ')}`);
      if (res.shapeMismatches.length) parts.push(`shape mismatches: ${res.shapeMismatches.join('; ')}`);
      throw new ShapeError(`loadStateDict (${this.constructor.name}): ${parts.join('; ')}`);
    }
    noGrad(() => {
      for (const [k, t] of own) {
        const g = given.get(k);
        if (!g || fmt(g.shape) !== fmt(t.shape)) continue;
        t.storage.backend.assign(t, g.dtype === t.dtype ? g : g.to(t.dtype));
        t.storage.version++;
      }
    });
    return res;
  }

  /** Extra text shown in `toString()` after the class name, e.g. `in_features=3, out_features=2`. */
  extraRepr(): string {
    return '';
  }

  /** A readable multi-line summary like PyTorch's module print. */
  toString(): string {
    const kids = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (!kids.length) return `${head})`;
    const lines = kids.map(([k, m]) => `  (${k}): ${m.toString().split('\n').join('\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }
}

function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

function checkName(name: string): void {
  if (!name || name.includes('.'))
    throw new ValueError(`Module: invalid name '${name}' (must be non-empty, without '.')`);
}

/** Dotted path of the innermost module of the call stack relative to the outermost. */
function modulePath(stack: readonly Module[]): string {
  const parts: string[] = [];
  for (let i = 1; i < stack.length; i++) {
    const found = stack[i - 1]!.namedModules().find(([k, m]) => k !== '' && m === stack[i]);
    parts.push(found ? found[0] : '?');
  }
  return parts.join('.');
}

/** Throws a ShapeError naming `layer` when `x` does not have `ndims` (one of) dims. */
export function expectRank(layer: string, x: Tensor, ndims: readonly number[], what = 'input'): void {
  if (!ndims.includes(x.ndim)) {
    throw new ShapeError(`${layer}: expected ${ndims.join(' or ')}-d ${what}, got shape ${fmt(x.shape)}`);
  }
}
