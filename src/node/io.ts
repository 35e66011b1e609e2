/**
 * File IO for Node: safetensors files and training checkpoints. Every write is atomic: the bytes go to
 * a temporary file in the same directory, which is flushed to disk and then renamed over the target,
 * so a crash or an error never leaves a half-written file (an existing file stays as it was).
 * @module
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { dirname } from 'node:path';
import { NeuriteError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import {
  type CheckpointContents,
  type CheckpointInfo,
  type CheckpointTargets,
  restoreCheckpoint,
  serializeCheckpoint,
} from '../io/checkpoint.js';
import {
  type ParsedSafetensors,
  type ParseOptions,
  parseSafetensors,
  SafetensorsError,
  serializeSafetensors,
  type TensorMap,
} from '../io/safetensors.js';

/** A file system failure while saving or loading (missing file, permissions, full disk, ...). */
export class FileError extends NeuriteError {
  /** The file involved. */
  readonly path: string;
  /** The system error code (`ENOENT`, `EACCES`, ...), when there is one. */
  readonly code: string | undefined;

  constructor(message: string, path: string, code?: string, options?: { cause?: unknown }) {
    super(message);
    this.path = path;
    this.code = code;
    if (options && 'cause' in options) (this as { cause?: unknown }).cause = options.cause;
  }
}

function errCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string'
    ? (e as { code: string }).code
    : undefined;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Writes `data` to `path` atomically: into `path.tmp-<pid>-<random>` in the same directory, fsync,
 * then rename over `path`. On any failure the temporary file is removed, `path` is left untouched and
 * a `FileError` is thrown.
 */
export function writeFileAtomic(path: string, data: Uint8Array, op = 'writeFileAtomic'): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    let written = 0;
    while (written < data.length) {
      written += fs.writeSync(fd, data, written, data.length - written);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      // the temporary file may never have been created
    }
    throw new FileError(`${op}: could not write '${path}': ${errText(e)}`, path, errCode(e), { cause: e });
  }
  // Make the rename itself durable (best effort: not every platform can fsync a directory).
  try {
    const dfd = fs.openSync(dirname(path), 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // ignored
  }
}

function readBytes(path: string, op: string): Uint8Array {
  try {
    return fs.readFileSync(path);
  } catch (e) {
    const code = errCode(e);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : errText(e);
    throw new FileError(`${op}: cannot read '${path}': ${why}`, path, code, { cause: e });
  }
}

function parseFile(path: string, op: string, options?: ParseOptions): ParsedSafetensors {
  const bytes = readBytes(path, op);
  try {
    return parseSafetensors(bytes, options);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new SafetensorsError(`${op} '${path}': ${e.message}`);
    throw e;
  }
}

/** Named tensors, or anything with a `stateDict()` (such as an `nn.Module`). */
export type TensorSource = TensorMap | { stateDict(): Map<string, Tensor> };

/**
 * Saves named tensors (a Map, a plain object, or a module's `stateDict()`) as a safetensors file,
 * readable by Python's `safetensors.torch.load_file`. The write is atomic.
 */
export function saveSafetensors(path: string, state: TensorSource, metadata?: Record<string, string>): void {
  const tensors =
    !(state instanceof Map) && typeof (state as { stateDict?: unknown }).stateDict === 'function'
      ? (state as { stateDict(): Map<string, Tensor> }).stateDict()
      : (state as TensorMap);
  const bytes = serializeSafetensors(tensors, metadata);
  writeFileAtomic(path, bytes, 'saveSafetensors');
}

/**
 * Loads a safetensors file (e.g. written by PyTorch's `safetensors.torch.save_file`): tensors by name
 * and the string metadata. A missing file throws a `FileError`; a damaged one a `SafetensorsError`
 * naming the file, the problem and the tensor.
 */
export function loadSafetensors(path: string, options: ParseOptions = {}): ParsedSafetensors {
  return parseFile(path, 'loadSafetensors', options);
}

/**
 * Saves a training checkpoint (model weights, optimizer and scheduler state, epoch, step, `extra`,
 * the default generator's state and those of `generators`) as one safetensors file, atomically.
 */
export function saveCheckpoint(path: string, contents: CheckpointContents): void {
  writeFileAtomic(path, serializeCheckpoint(contents), 'saveCheckpoint');
}

/**
 * Loads a checkpoint written by `saveCheckpoint` into `targets.model` (and the optimizer, scheduler
 * and generators when given; the default generator's state is restored too) and returns the saved
 * epoch, step and extra value.
 */
export function loadCheckpoint(path: string, targets: CheckpointTargets): CheckpointInfo {
  const parsed = parseFile(path, 'loadCheckpoint');
  try {
    return restoreCheckpoint(parsed, targets);
  } catch (e) {
    if (e instanceof Error) e.message = `${e.message} (file '${path}')`;
    throw e;
  }
}
