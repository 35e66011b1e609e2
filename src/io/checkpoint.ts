/**
 * Training checkpoints as one safetensors file (browser-safe encoding; `neurite/node` adds the file IO).
 * Model tensors are stored under `model.<key>`, optimizer state tensors under
 * `optimizer.state.<paramIndex>.<name>`; everything else (optimizer param groups and scalar state,
 * scheduler state, epoch, step, extra, random generator states) is JSON in `__metadata__`.
 *
 * Optimizers and schedulers are used through the small structural interfaces below, so any object
 * with PyTorch-style `stateDict()` / `loadStateDict()` works.
 * @module
 */
import { ValueError } from '../core/errors.js';
import { defaultGenerator, type Generator } from '../core/random.js';
import { Tensor } from '../core/tensor.js';
import { parseSafetensors, serializeSafetensors } from './safetensors.js';

/** An optimizer's state dict: per-parameter state (by parameter index) and the param groups. */
export interface OptimizerStateDict {
  /** Per-parameter state, keyed by parameter index (tensors such as momentum buffers, or numbers). */
  state: Record<number, Record<string, Tensor | number>>;
  /** Hyper-parameters of each group, with `params` as parameter indices. */
  paramGroups: Record<string, unknown>[];
}

/** What a checkpoint needs from an optimizer. */
export interface StatefulOptimizer {
  /** The current state (tensors may be shared with the optimizer; they are copied when saved). */
  stateDict(): { state: Record<number, Record<string, unknown>>; paramGroups: readonly object[] };
  /** Restores a state returned by `stateDict()`. */
  loadStateDict(state: OptimizerStateDict): void;
}

/** What a checkpoint needs from a learning-rate scheduler (its state is plain JSON). */
export interface StatefulScheduler {
  /** The current state, JSON-serialisable. */
  stateDict(): unknown;
  /** Restores a state returned by `stateDict()`. */
  loadStateDict(state: never): void;
}

/** What a checkpoint needs from a model (`nn.Module` has it). */
export interface StatefulModel {
  /** Parameters and buffers by name. */
  stateDict(): Map<string, Tensor>;
  /** Copies values into the parameters and buffers. */
  loadStateDict(state: Map<string, Tensor>, options?: { strict?: boolean }): unknown;
}

/** Generators saved with a checkpoint besides the default one: a list or named. */
export type GeneratorSet = readonly Generator[] | Record<string, Generator>;

/** What `saveCheckpoint` stores. */
export interface CheckpointContents {
  /** The model (its `stateDict()` is saved). */
  model: StatefulModel;
  /** Optimizer whose state is saved. */
  optimizer?: StatefulOptimizer;
  /** Learning-rate scheduler whose state is saved. */
  scheduler?: StatefulScheduler;
  /** The epoch (e.g. number of epochs completed). */
  epoch: number;
  /** Global step (default 0). */
  step?: number;
  /** Any JSON-serialisable value (best metric, config, ...). */
  extra?: unknown;
  /** Generators (besides the default one, which is always saved) whose state is saved. */
  generators?: GeneratorSet;
}

/** Where `loadCheckpoint` restores state into. */
export interface CheckpointTargets {
  /** Model to load the weights into. */
  model: StatefulModel;
  /** Optimizer to restore (the checkpoint must hold optimizer state). */
  optimizer?: StatefulOptimizer;
  /** Scheduler to restore (the checkpoint must hold scheduler state). */
  scheduler?: StatefulScheduler;
  /** Generators to restore, with the same names (or positions) as when saved. */
  generators?: GeneratorSet;
  /** Require the model's keys and shapes to match exactly (default true). */
  strict?: boolean;
  /** Restore the default generator's state (default true), so a resumed run draws the same numbers. */
  restoreDefaultGenerator?: boolean;
}

/** What `loadCheckpoint` returns besides restoring state. */
export interface CheckpointInfo {
  /** The saved epoch. */
  epoch: number;
  /** The saved step (0 when none was given). */
  step: number;
  /** The saved `extra` value (undefined when none was given). */
  extra: unknown;
}

/** `__metadata__` key marking a Neurite checkpoint (value: format version). */
export const CHECKPOINT_FORMAT_KEY = 'neurite.checkpoint';
const VERSION = '1';
const MODEL = 'model.';
const OPT_STATE = 'optimizer.state.';

/** JSON that keeps NaN and ±Infinity (as `{"$float": "NaN"}`), which plain JSON turns into null. */
function toJson(value: unknown, what: string, op: string): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(value, (_k, v: unknown) =>
      typeof v === 'number' && !Number.isFinite(v) ? { $float: String(v) } : v,
    );
  } catch (e) {
    throw new ValueError(
      `${op}: ${what} is not JSON-serialisable (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  if (s === undefined) throw new ValueError(`${op}: ${what} is not JSON-serialisable`);
  return s;
}

function fromJson(text: string, what: string, op: string): unknown {
  try {
    return JSON.parse(text, (_k, v: unknown) => {
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        const keys = Object.keys(v);
        const f = (v as Record<string, unknown>).$float;
        if (keys.length === 1 && typeof f === 'string') return Number(f);
      }
      return v;
    });
  } catch (e) {
    throw new ValueError(
      `${op}: ${what} in the checkpoint is not valid JSON (${e instanceof Error ? e.message : String(e)})`,
    );
  }
}

function generatorEntries(gens: GeneratorSet): [string, Generator][] {
  return Array.isArray(gens)
    ? (gens as readonly Generator[]).map((g, i): [string, Generator] => [String(i), g])
    : Object.entries(gens as Record<string, Generator>);
}

/** The tensors and metadata of a checkpoint (what `serializeCheckpoint` writes). */
export function encodeCheckpoint(contents: CheckpointContents): {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
} {
  const op = 'saveCheckpoint';
  const { model, optimizer, scheduler, epoch, step = 0, extra, generators } = contents;
  if (typeof epoch !== 'number' || !Number.isFinite(epoch)) {
    throw new ValueError(`${op}: epoch must be a finite number, got ${String(epoch)}`);
  }
  if (typeof step !== 'number' || !Number.isFinite(step)) {
    throw new ValueError(`${op}: step must be a finite number, got ${String(step)}`);
  }
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of model.stateDict()) tensors.set(MODEL + k, t);
  const metadata: Record<string, string> = {
    [CHECKPOINT_FORMAT_KEY]: VERSION,
    epoch: toJson(epoch, 'epoch', op),
    step: toJson(step, 'step', op),
  };
  if (extra !== undefined) metadata.extra = toJson(extra, 'extra', op);
  if (optimizer) {
    const sd = optimizer.stateDict();
    const scalars: Record<string, Record<string, unknown>> = {};
    for (const [idx, entry] of Object.entries(sd.state)) {
      scalars[idx] = {};
      for (const [name, v] of Object.entries(entry)) {
        if (v instanceof Tensor) tensors.set(`${OPT_STATE}${idx}.${name}`, v);
        else scalars[idx][name] = v;
      }
    }
    metadata.optimizer = toJson({ paramGroups: sd.paramGroups, state: scalars }, 'optimizer state', op);
  }
  if (scheduler) metadata.scheduler = toJson(scheduler.stateDict(), 'scheduler state', op);
  metadata['rng.default'] = JSON.stringify(defaultGenerator.getState());
  if (generators) {
    const states: Record<string, number[]> = {};
    for (const [name, g] of generatorEntries(generators)) states[name] = g.getState();
    metadata['rng.generators'] = JSON.stringify(states);
  }
  return { tensors, metadata };
}

/** Encodes a checkpoint as safetensors bytes (see the module docs for the layout). */
export function serializeCheckpoint(contents: CheckpointContents): Uint8Array {
  const { tensors, metadata } = encodeCheckpoint(contents);
  return serializeSafetensors(tensors, metadata);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Restores a checkpoint from parsed safetensors contents into a model and, when given, an optimizer,
 * scheduler and generators; also restores the default generator's state unless told not to.
 * Everything is checked before any state changes (except what the optimizer's and scheduler's own
 * `loadStateDict` check).
 */
export function restoreCheckpoint(
  parsed: { tensors: Map<string, Tensor>; metadata: Record<string, string> },
  targets: CheckpointTargets,
): CheckpointInfo {
  const op = 'loadCheckpoint';
  const { tensors, metadata } = parsed;
  if (metadata[CHECKPOINT_FORMAT_KEY] === undefined) {
    throw new ValueError(
      `${op}: not a Neurite checkpoint (no '${CHECKPOINT_FORMAT_KEY}' in __metadata__); ` +
        'plain weight files load with loadSafetensors / parseSafetensors',
    );
  }
  if (metadata[CHECKPOINT_FORMAT_KEY] !== VERSION) {
    throw new ValueError(
      `${op}: unsupported checkpoint format version ${metadata[CHECKPOINT_FORMAT_KEY]} (this Neurite reads ${VERSION})`,
    );
  }
  const num = (key: string): number => {
    const text = metadata[key];
    if (text === undefined) throw new ValueError(`${op}: checkpoint has no '${key}'`);
    const v = fromJson(text, key, op);
    if (typeof v !== 'number') throw new ValueError(`${op}: '${key}' in the checkpoint is not a number`);
    return v;
  };
  const info: CheckpointInfo = {
    epoch: num('epoch'),
    step: num('step'),
    extra: metadata.extra === undefined ? undefined : fromJson(metadata.extra, 'extra', op),
  };

  // Split the tensors by owner.
  const modelState = new Map<string, Tensor>();
  const optTensors = new Map<string, Record<string, Tensor>>();
  for (const [k, t] of tensors) {
    if (k.startsWith(MODEL)) modelState.set(k.slice(MODEL.length), t);
    else if (k.startsWith(OPT_STATE)) {
      const rest = k.slice(OPT_STATE.length);
      const dot = rest.indexOf('.');
      const idx = rest.slice(0, dot);
      if (dot <= 0 || !/^\d+$/.test(idx))
        throw new ValueError(`${op}: malformed optimizer tensor key '${k}'`);
      const entry = optTensors.get(idx) ?? {};
      entry[rest.slice(dot + 1)] = t;
      optTensors.set(idx, entry);
    } else throw new ValueError(`${op}: unexpected tensor '${k}' in the checkpoint`);
  }

  // Prepare (and check) everything before changing any state.
  let optState: OptimizerStateDict | undefined;
  if (targets.optimizer) {
    if (metadata.optimizer === undefined)
      throw new ValueError(`${op}: the checkpoint has no optimizer state`);
    const saved = fromJson(metadata.optimizer, 'optimizer state', op);
    if (!isRecord(saved) || !Array.isArray(saved.paramGroups) || !isRecord(saved.state)) {
      throw new ValueError(`${op}: optimizer state in the checkpoint is malformed`);
    }
    const current = targets.optimizer.stateDict().paramGroups as Record<string, unknown>[];
    const groups = saved.paramGroups as Record<string, unknown>[];
    if (current.length !== groups.length) {
      throw new ValueError(
        `${op}: the checkpoint's optimizer has ${groups.length} param groups, the given optimizer has ${current.length}`,
      );
    }
    for (let i = 0; i < groups.length; i++) {
      const a = groups[i]!.params;
      const b = current[i]!.params;
      if (Array.isArray(a) && Array.isArray(b) && a.length !== b.length) {
        throw new ValueError(
          `${op}: param group ${i} has ${a.length} parameters in the checkpoint but ${b.length} in the given optimizer`,
        );
      }
    }
    const state: Record<number, Record<string, Tensor | number>> = {};
    for (const [idx, entry] of Object.entries(saved.state)) {
      if (!isRecord(entry))
        throw new ValueError(`${op}: optimizer state ${idx} in the checkpoint is malformed`);
      state[Number(idx)] = { ...(entry as Record<string, number>) };
    }
    for (const [idx, entry] of optTensors) state[Number(idx)] = { ...state[Number(idx)], ...entry };
    optState = { state, paramGroups: groups };
  }
  let schedState: unknown;
  if (targets.scheduler) {
    if (metadata.scheduler === undefined)
      throw new ValueError(`${op}: the checkpoint has no scheduler state`);
    schedState = fromJson(metadata.scheduler, 'scheduler state', op);
  }
  const genStates: [Generator, number[]][] = [];
  if (targets.generators) {
    const saved = metadata['rng.generators'];
    const states = saved === undefined ? {} : fromJson(saved, 'generator states', op);
    if (!isRecord(states)) throw new ValueError(`${op}: generator states in the checkpoint are malformed`);
    for (const [name, g] of generatorEntries(targets.generators)) {
      const s = states[name];
      if (!Array.isArray(s))
        throw new ValueError(`${op}: the checkpoint has no state for generator '${name}'`);
      genStates.push([g, checkGeneratorState(s, `generator '${name}'`, op)]);
    }
  }
  let defaultState: number[] | undefined;
  if (targets.restoreDefaultGenerator ?? true) {
    const s = metadata['rng.default'];
    if (s !== undefined) {
      defaultState = checkGeneratorState(fromJson(s, 'default generator state', op), 'default generator', op);
    }
  }

  targets.model.loadStateDict(modelState, { strict: targets.strict ?? true });
  if (targets.optimizer && optState) targets.optimizer.loadStateDict(optState);
  if (targets.scheduler) targets.scheduler.loadStateDict(schedState as never);
  for (const [g, s] of genStates) g.setState(s);
  if (defaultState) defaultGenerator.setState(defaultState);
  return info;
}

function checkGeneratorState(s: unknown, what: string, op: string): number[] {
  if (
    !Array.isArray(s) ||
    s.length !== 4 ||
    !s.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff)
  ) {
    throw new ValueError(`${op}: the state of the ${what} in the checkpoint is malformed`);
  }
  return s as number[];
}

/** Restores a checkpoint from safetensors bytes (see `restoreCheckpoint`). */
export function deserializeCheckpoint(bytes: Uint8Array, targets: CheckpointTargets): CheckpointInfo {
  return restoreCheckpoint(parseSafetensors(bytes), targets);
}
