/**
 * Node-only training callbacks that write files: `ModelCheckpoint` (safetensors weights or full
 * checkpoints), `CSVLogger` and `JSONLinesLogger` (one row per epoch, appended and flushed as each
 * epoch ends, so a crashed run keeps its log).
 * @module
 */
import * as fs from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { ValueError } from '../core/errors.js';
import type { StatefulOptimizer, StatefulScheduler } from '../io/checkpoint.js';
import { Callback, Monitor, type MonitorMode } from '../train/callbacks.js';
import type { FitContext, Logs } from '../train/types.js';
import { saveCheckpoint, saveSafetensors } from './io.js';

/** Options of `ModelCheckpoint`. */
export interface ModelCheckpointOptions {
  /**
   * Where to save. Placeholders are filled from the epoch logs: `{epoch}` (1-based: the number of
   * epochs completed), `{epoch:03d}` (zero-padded), `{val_loss:.4f}`, `{loss:.2e}`, or any log name.
   */
  filepath: string;
  /** Logged value that decides the best epoch (default 'val_loss'). */
  monitor?: string;
  /** 'min', 'max' or 'auto' (default; see `Monitor`). */
  mode?: MonitorMode;
  /** Save only when the monitored value improves (default false: save every epoch). */
  saveBestOnly?: boolean;
  /**
   * Also write every epoch to a fixed path, overwriting it (for resuming): true means `last<ext>`
   * next to the formatted filepath; a string gives the path.
   */
  saveLast?: boolean | string;
  /**
   * true (default): save the model's state dict with `saveSafetensors` (metadata: epoch and logs);
   * false: a full `saveCheckpoint` (model, optimizer, scheduler, epoch, step, logs as `extra`, RNG state)
   * that `loadCheckpoint` can resume from.
   */
  saveWeightsOnly?: boolean;
  /** Smallest change of the monitored value that counts as an improvement (default 0). */
  minDelta?: number;
}

/** Saves the model after epochs (every epoch, or only when the monitored value improves). */
export class ModelCheckpoint extends Callback {
  /** Paths written so far, in order (not counting `saveLast` writes). */
  readonly saved: string[] = [];
  /** The path of the best epoch's save (with saveBestOnly), or null. */
  bestPath: string | null = null;
  private readonly tracker: Monitor;

  constructor(private readonly options: ModelCheckpointOptions) {
    super();
    if (!options || typeof options.filepath !== 'string' || !options.filepath) {
      throw new ValueError('ModelCheckpoint: filepath is required');
    }
    this.tracker = new Monitor(
      options.monitor ?? 'val_loss',
      options.mode,
      options.minDelta ?? 0,
      'ModelCheckpoint',
    );
  }

  /** Best monitored value seen. */
  get best(): number {
    return this.tracker.best;
  }

  override onTrainBegin(): void {
    this.tracker.reset();
    this.saved.length = 0;
    this.bestPath = null;
  }

  override onEpochEnd(epoch: number, logs: Logs, ctx: FitContext): void {
    const path = formatCheckpointPath(this.options.filepath, epoch, logs);
    if (!this.options.saveBestOnly) {
      this.save(path, epoch, logs, ctx);
      this.saved.push(path);
    } else {
      const v = this.tracker.read(logs);
      if (this.tracker.improves(v)) {
        this.tracker.best = v;
        this.save(path, epoch, logs, ctx);
        this.saved.push(path);
        this.bestPath = path;
      }
    }
    const last = this.options.saveLast;
    if (last) {
      const lastPath =
        typeof last === 'string' ? last : join(dirname(path), `last${extname(basename(path))}`);
      this.save(lastPath, epoch, logs, ctx);
    }
  }

  private save(path: string, epoch: number, logs: Logs, ctx: FitContext): void {
    fs.mkdirSync(dirname(path), { recursive: true });
    if (this.options.saveWeightsOnly ?? true) {
      const meta: Record<string, string> = { epoch: String(epoch + 1) };
      for (const [k, v] of Object.entries(logs)) meta[k] = String(v);
      saveSafetensors(path, ctx.model.stateDict(), meta);
      return;
    }
    const opt = ctx.optimizer as Partial<StatefulOptimizer>;
    const sched = ctx.scheduler as Partial<StatefulScheduler> | undefined;
    saveCheckpoint(path, {
      model: ctx.model,
      optimizer: typeof opt.stateDict === 'function' ? (opt as StatefulOptimizer) : undefined,
      scheduler: sched && typeof sched.stateDict === 'function' ? (sched as StatefulScheduler) : undefined,
      epoch: epoch + 1,
      step: ctx.globalStep,
      extra: { logs },
    });
  }
}

/** Fills `{name}` / `{name:spec}` placeholders of a checkpoint path (see `ModelCheckpointOptions.filepath`). */
export function formatCheckpointPath(template: string, epoch: number, logs: Logs): string {
  return template.replace(
    /\{([A-Za-z_][\w]*)(?::([^}]*))?\}/g,
    (_m, key: string, spec: string | undefined) => {
      const v = key === 'epoch' ? epoch + 1 : logs[key];
      if (v === undefined) {
        throw new ValueError(
          `ModelCheckpoint: filepath placeholder {${key}} is not in the epoch logs (have: epoch, ${Object.keys(logs).join(', ')})`,
        );
      }
      if (spec === undefined || spec === '') return String(v);
      let m = /^0?(\d+)d$/.exec(spec);
      if (m) return String(Math.round(v)).padStart(Number(m[1]), spec.startsWith('0') ? '0' : ' ');
      m = /^\.(\d+)([fe])$/.exec(spec);
      if (m) return m[2] === 'f' ? v.toFixed(Number(m[1])) : v.toExponential(Number(m[1]));
      throw new ValueError(
        `ModelCheckpoint: unsupported format '{${key}:${spec}}' in filepath (use e.g. {epoch:03d}, {val_loss:.4f}, {loss:.2e})`,
      );
    },
  );
}

/** Options of the file loggers. */
export interface FileLoggerOptions {
  /** Append to an existing file instead of starting it afresh (default false; use when resuming). */
  append?: boolean;
}

/** Shared file handling of the loggers: truncates (or keeps) the file at train begin, appends per epoch. */
abstract class FileLogger extends Callback {
  constructor(
    /** The log file. */
    readonly path: string,
    protected readonly append: boolean,
  ) {
    super();
    if (typeof path !== 'string' || !path) throw new ValueError(`${new.target.name}: path is required`);
  }

  override onTrainBegin(): void {
    fs.mkdirSync(dirname(this.path), { recursive: true });
    if (!this.append || !fs.existsSync(this.path)) fs.writeFileSync(this.path, '');
    this.begin();
  }

  /** Called after the file is ready at train begin. */
  protected abstract begin(): void;

  /** Appends `text` (appendFileSync: written to the OS when it returns). */
  protected write(text: string): void {
    fs.appendFileSync(this.path, text);
  }
}

/**
 * Writes one CSV row per epoch: `epoch` (0-based, as in `History.epoch`) then the epoch logs in the
 * order of the first epoch (`loss`, metrics, `val_*`, `lr`). A value missing in a later epoch is left
 * empty; NaN is written as `NaN`. With `append`, the columns of an existing file's header are reused.
 */
export class CSVLogger extends FileLogger {
  private readonly separator: string;
  private columns: string[] | null = null;

  constructor(path: string, options: FileLoggerOptions & { separator?: string } = {}) {
    super(path, options.append ?? false);
    this.separator = options.separator ?? ',';
  }

  protected begin(): void {
    this.columns = null;
    const text = fs.readFileSync(this.path, 'utf8');
    const header = text.split('\n', 1)[0];
    if (header) this.columns = parseCsvLine(header, this.separator);
  }

  override onEpochEnd(epoch: number, logs: Logs): void {
    let out = '';
    if (!this.columns) {
      this.columns = ['epoch', ...Object.keys(logs).filter((k) => k !== 'epoch')];
      out += `${this.columns.map((c) => this.cell(c)).join(this.separator)}\n`;
    }
    const row = this.columns.map((c) => {
      const v = c === 'epoch' ? epoch : logs[c];
      return v === undefined ? '' : String(v);
    });
    this.write(`${out}${row.join(this.separator)}\n`);
  }

  private cell(s: string): string {
    return s.includes(this.separator) || s.includes('"') || s.includes('\n')
      ? `"${s.replaceAll('"', '""')}"`
      : s;
  }
}

function parseCsvLine(line: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (line.startsWith(sep, i)) {
      out.push(cur);
      cur = '';
      i += sep.length - 1;
    } else cur += ch;
  }
  out.push(cur.replace(/\r$/, ''));
  return out;
}

/**
 * Writes one JSON object per epoch and line: `{"epoch": 0, "loss": ..., ...}` (epoch 0-based; NaN
 * and ±Infinity become null, as JSON has no such numbers).
 */
export class JSONLinesLogger extends FileLogger {
  constructor(path: string, options: FileLoggerOptions = {}) {
    super(path, options.append ?? false);
  }

  protected begin(): void {}

  override onEpochEnd(epoch: number, logs: Logs): void {
    this.write(`${JSON.stringify({ epoch, ...logs })}\n`);
  }
}
