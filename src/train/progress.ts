/**
 * `ProgressBar`: the callback `fit` adds by default (verbose 1). On a terminal it redraws one line
 * per epoch in place with `\r`:
 * `Epoch 3/10  120/125 [=========================>    ] - loss: 0.1234 - accuracy: 0.9650 - 812 samples/s - ETA 2s`;
 * elsewhere (a file, CI logs, the browser console) it prints plain lines: one per epoch and,
 * with `lineEvery`, one every N steps.
 * @module
 */
import { Callback } from './callbacks.js';
import type { FitContext, Logs } from './types.js';

/** Where progress text goes: `process.stdout`, or anything with `write` (tests capture the text this way). */
export interface OutputStream {
  /** Writes text as-is (no newline added). */
  write(s: string): unknown;
  /** True for an interactive terminal (enables in-place redraws). */
  isTTY?: boolean;
  /** Terminal width; in-place redraws are cut to fit so that a wrapped line cannot garble the display. */
  columns?: number;
}

/** `process.stdout` when running under Node, else a writer that prints whole lines with console.log. */
export function defaultOutputStream(): OutputStream {
  const proc = (globalThis as { process?: { stdout?: OutputStream } }).process;
  if (proc?.stdout && typeof proc.stdout.write === 'function') return proc.stdout;
  let pending = '';
  return {
    isTTY: false,
    write(s: string) {
      pending += s;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) console.log(line.slice(line.lastIndexOf('\r') + 1));
    },
  };
}

/** Options of `ProgressBar`. */
export interface ProgressBarOptions {
  /** Output (default: `defaultOutputStream()`). */
  stream?: OutputStream;
  /** 'bar' (default; verbose 1) or 'epoch': one summary line per epoch and nothing per step (verbose 2). */
  mode?: 'bar' | 'epoch';
  /** Width of the bar in characters (default 30). */
  width?: number;
  /** Minimum milliseconds between in-place redraws on a terminal (default 100). */
  throttleMs?: number;
  /** Off a terminal, also print a line every this many steps (default 0: only at the end of each epoch). */
  lineEvery?: number;
  /** Clock in milliseconds (default `performance.now`); tests pass a fake one. */
  now?: () => number;
}

/** Log names that are bookkeeping rather than results, never displayed. */
const HIDDEN = new Set(['size', 'batchLoss', 'lr']);

/** Per-epoch progress display (see the module doc). */
export class ProgressBar extends Callback {
  private readonly stream: OutputStream;
  private readonly mode: 'bar' | 'epoch';
  private readonly width: number;
  private readonly throttleMs: number;
  private readonly lineEvery: number;
  private readonly now: () => number;
  private start = 0;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private lastLen = 0;
  private midLine = false;
  private samples = 0;
  private steps = 0;

  constructor(options: ProgressBarOptions = {}) {
    super();
    this.stream = options.stream ?? defaultOutputStream();
    this.mode = options.mode ?? 'bar';
    this.width = Math.max(1, options.width ?? 30);
    this.throttleMs = options.throttleMs ?? 100;
    this.lineEvery = options.lineEvery ?? 0;
    this.now = options.now ?? (() => performance.now());
  }

  private get tty(): boolean {
    return this.stream.isTTY === true && this.mode === 'bar';
  }

  override onEpochBegin(): void {
    this.start = this.now();
    this.lastDraw = Number.NEGATIVE_INFINITY;
    this.lastLen = 0;
    this.samples = 0;
    this.steps = 0;
  }

  override onBatchEnd(step: number, logs: Logs, ctx: FitContext): void {
    this.steps = step + 1;
    this.samples += logs.size ?? 0;
    if (this.mode !== 'bar') return;
    const t = this.now();
    if (this.tty) {
      if (t - this.lastDraw < this.throttleMs) return;
      this.lastDraw = t;
      this.redraw(this.line(ctx, logs, t, false));
    } else if (this.lineEvery > 0 && this.steps % this.lineEvery === 0 && this.steps !== ctx.params.steps) {
      this.stream.write(`${this.line(ctx, logs, t, false)}\n`);
    }
  }

  override onEpochEnd(_epoch: number, logs: Logs, ctx: FitContext): void {
    const line = this.line(ctx, logs, this.now(), true);
    if (this.tty) {
      this.redraw(line);
      this.stream.write('\n');
      this.midLine = false;
    } else this.stream.write(`${line}\n`);
  }

  override onTrainEnd(_logs: Logs, ctx: FitContext): void {
    if (ctx.stopReason) this.stream.write(`Training stopped: ${ctx.stopReason}\n`);
  }

  override onTrainError(): void {
    if (this.midLine) this.stream.write('\n');
    this.midLine = false;
  }

  private redraw(line: string): void {
    const cols = this.stream.columns;
    if (cols && cols > 1 && line.length >= cols) line = line.slice(0, cols - 1);
    this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.lastLen - line.length))}`);
    this.lastLen = line.length;
    this.midLine = true;
  }

  /** One progress line; `done` replaces the ETA by the epoch's elapsed time. */
  private line(ctx: FitContext, logs: Logs, t: number, done: boolean): string {
    const { epochs, steps } = ctx.params;
    const parts = [`Epoch ${ctx.epoch + 1}/${epochs}`];
    if (this.mode === 'bar') {
      let count = `${this.steps}/${steps ?? '?'}`;
      if (this.tty && steps) count += ` ${bar(this.steps / steps, this.width)}`;
      parts[0] += `  ${count}`;
    }
    for (const [k, v] of Object.entries(logs)) if (!HIDDEN.has(k)) parts.push(`${k}: ${formatValue(v)}`);
    const sec = (t - this.start) / 1000;
    if (this.samples > 0 && sec > 0) parts.push(`${Math.round(this.samples / sec)} samples/s`);
    if (done) parts.push(formatElapsed(sec));
    else if (steps && this.steps > 0)
      parts.push(`ETA ${formatEta((sec / this.steps) * (steps - this.steps))}`);
    return parts.join(' - ');
  }
}

/** `[=====>    ]` for a fraction in [0, 1]. */
function bar(frac: number, width: number): string {
  const filled = Math.floor(Math.min(1, Math.max(0, frac)) * width);
  if (filled >= width) return `[${'='.repeat(width)}]`;
  const head = filled > 0 ? `${'='.repeat(filled - 1)}>` : '';
  return `[${head}${' '.repeat(width - filled)}]`;
}

/** A logged number with 4 decimals, or in exponent form when very small or large. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(4) : v.toFixed(4);
}

/** Seconds as `2s`, `1:05` or `1:02:03`. */
export function formatEta(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${r}` : `${m}:${r}`;
}

/** Elapsed seconds as `0.42s`, `12.3s` or `2:05`. */
function formatElapsed(sec: number): string {
  if (sec < 10) return `${sec.toFixed(2)}s`;
  if (sec < 60) return `${sec.toFixed(1)}s`;
  return formatEta(sec);
}
