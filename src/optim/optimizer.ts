/**
 * The `Optimizer` base class: parameter groups with per-group options, per-parameter state, `step`,
 * `zeroGrad` and PyTorch-style state dicts (state keyed by parameter index, groups without tensors).
 *
 * Updates run on the raw float arrays of the parameters and their state (no per-element
 * allocations): on the CPU backend a contiguous tensor is updated directly in its storage; other
 * tensors are read into a copy and written back. Either way the parameter stays the same object and
 * its `storage.version` is bumped, like any in-place op. SGD, Adam and AdamW update large float32
 * parameters of the `wasm` backend with WebAssembly kernels (src/backends/wasm/optim.ts; see
 * `wasmUpdate`) that give the same results as their TypeScript loops.
 * @module
 */
import { enableGrad, noGrad } from '../autograd/grad-mode.js';
import { CpuStorage } from '../backends/cpu/storage.js';
import { OPTIM_WASM_MIN } from '../backends/wasm/optim.js';
import { allocArray, type FloatArray, isFloating, type TypedArray } from '../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { fmt, numelOf, sameShape } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';

/** The options every optimizer has. */
export interface GroupOptions {
  /** Learning rate. */
  lr: number;
}

/**
 * One parameter group: the tensors it updates and its options (`lr` and the optimizer's others).
 * Schedulers may add keys (e.g. `initialLr`); they are saved in the state dict with the options.
 */
export type ParamGroup<O extends GroupOptions = GroupOptions> = O & {
  /** The parameters of this group. */
  params: Tensor[];
  /** Keys added by schedulers (saved with the options). */
  [option: string]: unknown;
};

/** A parameter group as passed to an optimizer: options left out are taken from the defaults. */
export type ParamGroupInput<O> = {
  /** The parameters of this group (a single tensor or any iterable of tensors). */
  params: Iterable<Tensor> | Tensor;
} & Partial<O> & { [option: string]: unknown };

/** What an optimizer accepts: an iterable of tensors (one group) or a list of parameter groups. */
export type ParamsInput<O> = Iterable<Tensor> | readonly ParamGroupInput<O>[];

/** The state an optimizer keeps for one parameter (moment buffers, step counter...). */
export type ParamState = Record<string, Tensor | number>;

/**
 * A serialisable snapshot of an optimizer (PyTorch layout): `state` is keyed by the parameter's index
 * in the order of the groups, and each group lists its options plus `params` (those indices).
 * Everything is plain JSON except the tensors in `state`.
 */
export interface OptimizerState {
  /** Per-parameter state, keyed by parameter index. */
  state: Record<number, ParamState>;
  /** Group options with `params` as a list of parameter indices. */
  paramGroups: Record<string, unknown>[];
}

/** A closure that re-evaluates the model and returns the loss (run with grad mode on). */
export type Closure = () => Tensor | number;

/** Options of `zeroGrad`. */
export interface ZeroGradOptions {
  /** Set `.grad` to null (default true); false zeroes the gradient tensors in place instead. */
  setToNone?: boolean;
}

/** Deep-copies a JSON-like option value (arrays and plain objects; other values as they are). */
function cloneValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(cloneValue);
  if (v !== null && typeof v === 'object' && !(v instanceof Tensor)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = cloneValue(x);
    return out;
  }
  return v;
}

/** A contiguous copy of `t` (same dtype unless given): fresh storage, no autograd. */
function copyTensor(t: Tensor, dtype = t.dtype): Tensor {
  return new Tensor(t.storage.backend.copy(t, dtype), t.shape);
}

/**
 * Base class of the optimizers. Subclasses give the defaults, validate a group's options and
 * implement `updateGroup`, which updates each parameter of one group that has a gradient.
 */
export abstract class Optimizer<O extends GroupOptions = GroupOptions> {
  /** The parameter groups; schedulers and users may change the options between steps. */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state (created lazily by the first step that updates the parameter). */
  readonly state = new Map<Tensor, ParamState>();
  /** The options used for groups that leave them out. */
  readonly defaults: Readonly<O>;

  /**
   * @param name The optimizer's name, used in error messages.
   * @param params Tensors (one group) or parameter groups.
   * @param defaults Every option with its default value.
   */
  protected constructor(
    readonly name: string,
    params: ParamsInput<O>,
    defaults: O,
  ) {
    this.defaults = Object.freeze({ ...defaults });
    this.validateGroup(this.defaults, 'defaults');
    if (params instanceof Tensor) {
      throw new ValueError(
        `${name}: params must be an iterable of tensors or a list of parameter groups, got a single tensor ` +
          `(shape ${fmt(params.shape)}); wrap it in an array`,
      );
    }
    const list = [...(params as Iterable<Tensor | ParamGroupInput<O>>)];
    if (list.length === 0) throw new ValueError(`${name}: got an empty parameter list`);
    const isGroup = (x: unknown): boolean => !(x instanceof Tensor) && typeof x === 'object' && x !== null;
    if (list.every(isGroup)) {
      for (const g of list as ParamGroupInput<O>[]) this.addParamGroup(g);
    } else if (list.every((x) => x instanceof Tensor)) {
      this.addParamGroup({ params: list as Tensor[] } as unknown as ParamGroupInput<O>);
    } else {
      throw new ValueError(`${name}: params must be all tensors or all parameter groups, not a mixture`);
    }
  }

  /**
   * Throws a ValueError naming the optimizer and the option when an option of `group` is invalid.
   * `where` says which group ("defaults" or "param group 1") for the message.
   */
  protected abstract validateGroup(group: Readonly<O>, where: string): void;

  /** Updates every parameter of `group` whose `.grad` is set (called under noGrad). */
  protected abstract updateGroup(group: ParamGroup<O>): void;

  /** Adds a parameter group (options left out take the defaults), e.g. when unfreezing layers. */
  addParamGroup(group: ParamGroupInput<O>): void {
    const where = `param group ${this.paramGroups.length}`;
    if (group === null || typeof group !== 'object' || !('params' in group)) {
      throw new ValueError(`${this.name}: a parameter group must be an object with a 'params' entry`);
    }
    const raw = group.params;
    const params = raw instanceof Tensor ? [raw] : [...(raw as Iterable<Tensor>)];
    const seen = new Set<Tensor>();
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) {
        throw new ValueError(
          `${this.name}: can only optimize tensors, but ${where} has a ${typeof p} at index ${i}`,
        );
      }
      if (!isFloating(p.dtype)) {
        throw new DTypeError(
          `${this.name}: can only optimize floating tensors, but ${where} has a ${p.dtype} tensor of shape ` +
            `${fmt(p.shape)} at index ${i}`,
        );
      }
      if (!p.isLeaf) {
        throw new ValueError(
          `${this.name}: can't optimize a non-leaf tensor (${where}, index ${i}, shape ${fmt(p.shape)}); ` +
            'use detach().requiresGrad_() to make a leaf',
        );
      }
      if (seen.has(p)) {
        throw new ValueError(`${this.name}: ${where} contains the same parameter twice (index ${i})`);
      }
      seen.add(p);
    });
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (seen.has(p)) {
          throw new ValueError(`${this.name}: some parameters appear in more than one parameter group`);
        }
      }
    }
    const merged: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.defaults)) merged[k] = cloneValue(v);
    for (const [k, v] of Object.entries(group)) if (k !== 'params' && v !== undefined) merged[k] = v;
    this.validateGroup(merged as O, where);
    merged.params = params;
    this.paramGroups.push(merged as ParamGroup<O>);
  }

  /** Clears the gradients of all parameters (sets `.grad` to null unless `setToNone` is false). */
  zeroGrad(options: ZeroGradOptions = {}): void {
    const toNone = options.setToNone ?? true;
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (!p.grad) continue;
        if (toNone) p.grad = null;
        else {
          // like PyTorch: a gradient that is part of a graph (createGraph) is detached first
          const grad = p.grad.gradFn || p.grad.requiresGrad ? p.grad.detach() : p.grad;
          noGrad(() => grad.zero_());
          p.grad = grad;
        }
      }
    }
  }

  /**
   * Performs one update of every parameter that has a gradient (parameters whose `.grad` is null are
   * skipped). `closure`, if given, is called first with grad mode on; its loss is returned.
   */
  step(closure?: Closure): Tensor | number | undefined {
    const loss = closure ? enableGrad(closure) : undefined;
    noGrad(() => {
      for (const g of this.paramGroups) this.updateGroup(g);
    });
    return loss;
  }

  /** The state of `p`, created with `init` on first use. */
  protected stateOf(p: Tensor, init: () => ParamState): ParamState {
    let s = this.state.get(p);
    if (!s) {
      s = init();
      this.state.set(p, s);
    }
    return s;
  }

  /**
   * Calls `fn` for each parameter of `group` that has a gradient, with the gradient as a flat array
   * (read-only; its shape checked against the parameter's). Parameters without a gradient are skipped.
   */
  protected forEachGrad(group: ParamGroup<O>, fn: (p: Tensor, g: TypedArray) => void): void {
    group.params.forEach((p, j) => {
      const g = this.gradData(p, `parameter ${j}`);
      if (g) fn(p, g);
    });
  }

  /** The gradient of `p` as a flat array (read-only), after checking its shape; null when unset. */
  protected gradData(p: Tensor, where: string): TypedArray | null {
    const g = p.grad;
    if (!g) return null;
    if (!sameShape(g.shape, p.shape)) {
      throw new ShapeError(
        `${this.name}: ${where}: gradient of shape ${fmt(g.shape)} does not match the parameter's shape ` +
          `${fmt(p.shape)}`,
      );
    }
    return g.dataSync();
  }

  /**
   * A snapshot of the optimizer: state tensors are copied, group options deep-copied, parameters
   * replaced by their index (counting through the groups in order).
   */
  stateDict(): OptimizerState {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const packed: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) if (k !== 'params') packed[k] = cloneValue(v);
      packed.params = g.params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      });
      return packed;
    });
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      const entry: ParamState = {};
      for (const [k, v] of Object.entries(s)) entry[k] = v instanceof Tensor ? copyTensor(v) : v;
      state[i] = entry;
    }
    return { state, paramGroups };
  }

  /**
   * Restores a snapshot made by `stateDict` (of an optimizer of the same kind over parameters of the
   * same shapes, in the same group layout). State tensors are copied into the parameters' dtypes.
   */
  loadStateDict(sd: OptimizerState): void {
    const who = `${this.name}.loadStateDict`;
    if (!sd || typeof sd !== 'object' || !Array.isArray(sd.paramGroups) || typeof sd.state !== 'object') {
      throw new ValueError(`${who}: expected an object with 'state' and 'paramGroups' entries`);
    }
    const saved = sd.paramGroups;
    if (saved.length !== this.paramGroups.length) {
      throw new ValueError(
        `${who}: loaded state dict has ${saved.length} parameter groups, the optimizer has ${this.paramGroups.length}`,
      );
    }
    const byIndex = new Map<number, Tensor>();
    saved.forEach((sg, gi) => {
      const ids = sg.params;
      const own = this.paramGroups[gi]!.params;
      if (!Array.isArray(ids) || ids.length !== own.length) {
        throw new ValueError(
          `${who}: parameter group ${gi} of the loaded state dict has ${Array.isArray(ids) ? ids.length : 'no'} ` +
            `parameters, the optimizer's has ${own.length}`,
        );
      }
      ids.forEach((id, j) => {
        byIndex.set(id as number, own[j]!);
      });
    });
    const state = new Map<Tensor, ParamState>();
    for (const [key, entry] of Object.entries(sd.state)) {
      const p = byIndex.get(Number(key));
      if (!p) throw new ValueError(`${who}: state for parameter ${key}, which is in no parameter group`);
      const s: ParamState = {};
      for (const [k, v] of Object.entries(entry)) {
        if (v instanceof Tensor) {
          if (!sameShape(v.shape, p.shape)) {
            throw new ShapeError(
              `${who}: state '${k}' of parameter ${key} has shape ${fmt(v.shape)} but the parameter has shape ` +
                `${fmt(p.shape)}`,
            );
          }
          s[k] = copyTensor(v, p.dtype);
        } else if (typeof v === 'number') {
          s[k] = v;
        } else {
          throw new ValueError(`${who}: state '${k}' of parameter ${key} must be a tensor or a number`);
        }
      }
      state.set(p, s);
    }
    const groups = saved.map((sg, gi) => {
      const g: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(sg)) if (k !== 'params') g[k] = cloneValue(v);
      this.validateGroup(g as O, `loaded param group ${gi}`);
      g.params = this.paramGroups[gi]!.params;
      return g as ParamGroup<O>;
    });
    this.state.clear();
    for (const [p, s] of state) this.state.set(p, s);
    this.paramGroups.splice(0, this.paramGroups.length, ...groups);
  }
}

// ---------------------------------------------------------------------------------------------
// Raw float access for the update loops.

/** True when `t`'s elements can be updated directly in its live storage array. */
function isLive(t: Tensor): boolean {
  return t.storage instanceof CpuStorage && t.isContiguous();
}

/**
 * The elements of float tensor `t` as a writable flat array: the live storage on the CPU backend
 * for contiguous tensors, otherwise a copy. Call `commit(t, a)` after writing.
 */
export function openFloat(t: Tensor): FloatArray {
  if (isLive(t)) {
    const all = (t.storage as CpuStorage).data as FloatArray;
    const n = t.numel();
    return t.offset === 0 && all.length === n ? all : all.subarray(t.offset, t.offset + n);
  }
  return t.dataSync().slice() as FloatArray;
}

/** Finishes a write through `openFloat`: writes a copy back if needed and bumps the storage version. */
export function commit(t: Tensor, a: FloatArray): void {
  if (!isLive(t)) {
    const b = t.storage.backend;
    b.assign(t, new Tensor(b.fromArray(a), t.shape));
  }
  t.storage.version++;
}

/**
 * True when the float32 update of parameter `p` (of `n` elements) runs in the WebAssembly kernels
 * (src/backends/wasm/optim.ts, bit-identical to the TypeScript loops): parameters of the `wasm` backend
 * with at least OPTIM_WASM_MIN elements. The `cpu` backend always runs the TypeScript loops.
 */
export function wasmUpdate(p: Tensor, n: number): boolean {
  return n >= OPTIM_WASM_MIN && p.storage.backend.name === 'wasm';
}

/** A new zero (or `value`-filled) contiguous tensor shaped and typed like `p`, for optimizer state. */
export function stateLike(p: Tensor, value = 0): Tensor {
  const a = allocArray(p.dtype, numelOf(p.shape));
  if (value !== 0) a.fill(value);
  return new Tensor(p.storage.backend.fromArray(a), p.shape);
}

/** The state tensor `key` of `s`, created with `make` if missing (e.g. after an option changed). */
export function stateTensor(s: ParamState, key: string, make: () => Tensor): Tensor {
  const v = s[key];
  if (v instanceof Tensor) return v;
  const t = make();
  s[key] = t;
  return t;
}

/** Increments the per-parameter step counter `s.step` (0 when unset) and returns the new value. */
export function nextStep(s: ParamState): number {
  const step = ((s.step as number | undefined) ?? 0) + 1;
  s.step = step;
  return step;
}

// ---------------------------------------------------------------------------------------------
// Option validation helpers.

/**
 * Every option of `defaults`, taken from `options` where given there (not null or undefined). Keys of
 * `options` that are not in `defaults` are left out.
 */
export function withDefaults<O extends object>(options: Partial<O>, defaults: O): O {
  const out = { ...defaults };
  for (const k of Object.keys(defaults) as (keyof O)[]) out[k] = options[k] ?? defaults[k];
  return out;
}

/** How `validateOptions` checks one option: `'bool'`, or the range of a number (see `checkNumber`). */
export type OptionCheck = 'bool' | { min?: number; below?: number; max?: number; integer?: boolean };

/** A finite number >= 0: the usual check of a numeric option. */
export const NON_NEGATIVE: OptionCheck = { min: 0 };

/** Checks the options of `g` named in `checks`, in their order, with `checkNumber` or `checkBool`. */
export function validateOptions<O extends object>(
  opt: string,
  where: string,
  g: Readonly<O>,
  checks: { readonly [K in keyof O]?: OptionCheck },
): void {
  for (const [name, check] of Object.entries(checks) as [keyof O & string, OptionCheck][]) {
    if (check === 'bool') checkBool(opt, name, where, g[name]);
    else checkNumber(opt, name, where, g[name], check);
  }
}

/** Throws unless `v` is a finite number >= 0 (or in [lo, hi) when given). */
export function checkNumber(
  opt: string,
  name: string,
  where: string,
  v: unknown,
  range: { min?: number; below?: number; max?: number; integer?: boolean } = { min: 0 },
): void {
  const lo = range.min ?? Number.NEGATIVE_INFINITY;
  const ok =
    typeof v === 'number' &&
    !Number.isNaN(v) &&
    v >= lo &&
    (range.below === undefined || v < range.below) &&
    (range.max === undefined || v <= range.max) &&
    (!range.integer || Number.isInteger(v));
  if (!ok) {
    const parts: string[] = [];
    if (range.min !== undefined) parts.push(`>= ${range.min}`);
    if (range.below !== undefined) parts.push(`< ${range.below}`);
    if (range.max !== undefined) parts.push(`<= ${range.max}`);
    const expect = range.integer ? `an integer ${parts.join(' and ')}` : `a number ${parts.join(' and ')}`;
    const shown =
      typeof v === 'number' || typeof v === 'boolean' ? String(v) : (JSON.stringify(v) ?? String(v));
    throw new ValueError(`${opt}: invalid ${name} ${shown} in ${where} (expected ${expect.trim()})`);
  }
}

/** Throws unless `v` is a boolean. */
export function checkBool(opt: string, name: string, where: string, v: unknown): void {
  if (typeof v !== 'boolean') {
    throw new ValueError(`${opt}: invalid ${name} ${String(v)} in ${where} (expected true or false)`);
  }
}
