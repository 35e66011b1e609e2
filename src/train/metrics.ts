/**
 * Evaluation metrics, as plain functions of (output, target) tensors and as streaming `Metric`
 * objects that `fit` updates batch by batch (`metrics: ['accuracy']` or `metrics: [new F1Score()]`).
 *
 * Classification outputs are read the way PyTorch's losses read them: scores (logits or
 * probabilities) of shape [N, C, d1, ...] against int class indices [N, d1, ...] (the class is the
 * argmax over dim 1); or predictions of the target's shape: int/bool labels, or float probabilities
 * thresholded at `threshold` (0.5 by default; use 0 for logits) for binary problems. A [N, 1] score
 * against a [N] target is read as binary too. With scores, every target must be a class index in
 * [0, C): anything else throws, naming the label and the number of classes.
 *
 * Precision, recall and F1 follow scikit-learn: a class with no predicted (precision) or no true
 * (recall) samples scores 0, and the macro average is taken over the classes that occur in the
 * target or the predictions.
 * @module
 */

import { tensor } from '../core/creation.js';
import { isFloating } from '../core/dtype.js';
import { IndexError, ShapeError, ValueError } from '../core/errors.js';
import { fmt } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';

/** A metric accumulated over batches: `reset()` at the start of an epoch, `update` per batch, `compute()` to read. */
export interface Metric {
  /** Name in the logs (`accuracy`; validation values get the `val_` prefix). */
  readonly name: string;
  /** Clears the accumulated state. */
  reset(): void;
  /** Adds one batch of model outputs and targets. */
  update(output: Tensor, target: Tensor): void;
  /** The metric over everything seen since the last reset (0 when nothing was seen). */
  compute(): number;
}

/** Options of the classification metrics. */
export interface ClassificationOptions {
  /** Probability above which a binary prediction counts as class 1 (default 0.5; use 0 for logits). */
  threshold?: number;
}

/** How precision/recall/F1 average over classes. */
export type Average = 'macro' | 'micro' | 'weighted' | 'none';

/** Options of precision, recall and F1. */
export interface PrecisionRecallOptions extends ClassificationOptions {
  /** Number of classes (default: the output's class dim, else the largest label + 1). */
  numClasses?: number;
  /**
   * 'macro' (default): unweighted mean over the classes that occur; 'weighted': mean weighted by
   * each class's number of true samples; 'micro': from the summed counts (equals accuracy for
   * single-label problems); 'none': one value per class.
   */
  average?: Average;
}

interface Labels {
  pred: ArrayLike<number>;
  truth: ArrayLike<number>;
  /** Class count implied by a score output ([N, C, ...]), else undefined. */
  classes: number | undefined;
}

/** Predicted and true labels of a classification batch (see the module doc for the accepted forms). */
function labels(op: string, output: Tensor, target: Tensor, threshold = 0.5): Labels {
  const o = output.detach();
  const t = target.detach();
  if (o.ndim === t.ndim + 1 && o.ndim >= 2) {
    const rest = o.shape.filter((_, i) => i !== 1);
    if (fmt(rest) !== fmt(t.shape)) throw mismatch(op, o, t);
    if (o.shape[1] === 1) return binaryLabels(o.reshape(t.shape), t, threshold);
    const classes = o.shape[1]!;
    const truth = t.dataSync();
    for (let i = 0; i < truth.length; i++) checkLabel(op, truth[i]!, classes, 'target');
    return { pred: o.argmax(1).dataSync(), truth, classes };
  }
  if (fmt(o.shape) !== fmt(t.shape)) throw mismatch(op, o, t);
  if (isFloating(o.dtype)) return binaryLabels(o, t, threshold);
  return { pred: o.dataSync(), truth: t.dataSync(), classes: undefined };
}

function binaryLabels(o: Tensor, t: Tensor, threshold: number): Labels {
  const p = o.dataSync();
  const pred = new Int32Array(p.length);
  for (let i = 0; i < p.length; i++) pred[i] = p[i]! > threshold ? 1 : 0;
  return { pred, truth: t.dataSync(), classes: 2 };
}

function mismatch(op: string, o: Tensor, t: Tensor): ShapeError {
  return new ShapeError(
    `${op}: output shape ${fmt(o.shape)} does not fit target shape ${fmt(t.shape)} (expected scores ` +
      `[N, C, ...] with class indices [N, ...], or predictions of the target's shape)`,
  );
}

// ---------------------------------------------------------------------------------------------
// Streaming metrics

/** Fraction of correctly classified samples. */
export class Accuracy implements Metric {
  readonly name: string;
  private correct = 0;
  private total = 0;

  constructor(private readonly options: ClassificationOptions & { name?: string } = {}) {
    this.name = options.name ?? 'accuracy';
  }
  reset(): void {
    this.correct = 0;
    this.total = 0;
  }
  update(output: Tensor, target: Tensor): void {
    const { pred, truth } = labels('accuracy', output, target, this.options.threshold);
    let c = 0;
    for (let i = 0; i < pred.length; i++) if (pred[i] === truth[i]) c++;
    this.correct += c;
    this.total += pred.length;
  }
  compute(): number {
    return this.total ? this.correct / this.total : 0;
  }
}

/** Fraction of samples whose true class is among the `k` highest scores (ties count in the sample's favour). */
export class TopKAccuracy implements Metric {
  readonly name: string;
  private correct = 0;
  private total = 0;

  constructor(
    readonly k: number,
    options: { name?: string } = {},
  ) {
    if (!Number.isInteger(k) || k < 1)
      throw new ValueError(`topKAccuracy: k must be a positive integer, got ${k}`);
    this.name = options.name ?? `top${k}_accuracy`;
  }
  reset(): void {
    this.correct = 0;
    this.total = 0;
  }
  update(output: Tensor, target: Tensor): void {
    const op = 'topKAccuracy';
    const o = output.detach();
    const t = target.detach();
    if (o.ndim !== t.ndim + 1 || o.ndim < 2 || fmt(o.shape.filter((_, i) => i !== 1)) !== fmt(t.shape)) {
      throw new ShapeError(
        `${op}: expected scores [N, C, ...] and class indices [N, ...], got output shape ${fmt(o.shape)} ` +
          `and target shape ${fmt(t.shape)}`,
      );
    }
    const C = o.shape[1]!;
    if (this.k > C) throw new ValueError(`${op}: k=${this.k} is larger than the number of classes ${C}`);
    const s = o.dataSync();
    const y = t.dataSync();
    const inner = y.length / Math.max(1, o.shape[0]!);
    let c = 0;
    for (let i = 0; i < y.length; i++) {
      const label = y[i]!;
      checkLabel(op, label, C, 'target');
      const n = Math.floor(i / inner);
      const base = n * C * inner + (i % inner);
      const v = s[base + label * inner]!;
      let above = 0;
      for (let j = 0; j < C && above < this.k; j++) if (s[base + j * inner]! > v) above++;
      if (above < this.k) c++;
    }
    this.correct += c;
    this.total += y.length;
  }
  compute(): number {
    return this.total ? this.correct / this.total : 0;
  }
}

abstract class ErrorMean implements Metric {
  private sum = 0;
  private count = 0;
  constructor(readonly name: string) {}
  protected abstract err(d: number): number;
  reset(): void {
    this.sum = 0;
    this.count = 0;
  }
  update(output: Tensor, target: Tensor): void {
    const o = output.detach();
    const t = target.detach();
    const squeezed = (s: readonly number[]) => fmt(s.filter((d) => d !== 1));
    if (o.numel() !== t.numel() || squeezed(o.shape) !== squeezed(t.shape)) {
      throw new ShapeError(
        `${this.name}: output shape ${fmt(o.shape)} and target shape ${fmt(t.shape)} do not match`,
      );
    }
    const a = o.dataSync();
    const b = t.dataSync();
    let s = 0;
    for (let i = 0; i < a.length; i++) s += this.err(a[i]! - b[i]!);
    this.sum += s;
    this.count += a.length;
  }
  compute(): number {
    return this.count ? this.sum / this.count : 0;
  }
}

/** Mean absolute error over all elements. */
export class MeanAbsoluteError extends ErrorMean {
  constructor(options: { name?: string } = {}) {
    super(options.name ?? 'mae');
  }
  protected err(d: number): number {
    return Math.abs(d);
  }
}

/** Mean squared error over all elements. */
export class MeanSquaredError extends ErrorMean {
  constructor(options: { name?: string } = {}) {
    super(options.name ?? 'mse');
  }
  protected err(d: number): number {
    return d * d;
  }
}

function checkLabel(op: string, v: number, C: number | undefined, what: string): void {
  if (!Number.isInteger(v) || v < 0) {
    throw new ValueError(`${op}: ${what} labels must be non-negative integers, got ${v}`);
  }
  if (C !== undefined && v >= C) {
    throw new IndexError(`${op}: ${what} label ${v} out of range for ${C} classes`);
  }
}

/**
 * Streaming confusion matrix: counts[i][j] = samples of true class i predicted as j. With
 * `numClasses` unset, the class count comes from the output's class dim or grows with the labels.
 */
export class ConfusionMatrix {
  private counts = new Float64Array(0);
  private C = 0;

  constructor(private readonly options: ClassificationOptions & { numClasses?: number; op?: string } = {}) {
    const n = options.numClasses;
    if (n !== undefined) {
      if (!Number.isInteger(n) || n < 1) {
        throw new ValueError(`${this.op}: numClasses must be a positive integer, got ${n}`);
      }
      this.resize(n);
    }
  }
  private get op(): string {
    return this.options.op ?? 'confusionMatrix';
  }
  /** Number of classes seen or given. */
  get numClasses(): number {
    return this.C;
  }
  private resize(n: number): void {
    if (n <= this.C) return;
    const next = new Float64Array(n * n);
    for (let i = 0; i < this.C; i++)
      for (let j = 0; j < this.C; j++) next[i * n + j] = this.counts[i * this.C + j]!;
    this.counts = next;
    this.C = n;
  }
  /** Clears the counts (keeps the class count). */
  reset(): void {
    this.counts.fill(0);
  }
  /** Adds a batch. */
  update(output: Tensor, target: Tensor): void {
    const op = this.op;
    const fixed = this.options.numClasses;
    const { pred, truth, classes } = labels(op, output, target, this.options.threshold);
    if (fixed !== undefined && classes !== undefined && classes > fixed) {
      throw new ShapeError(`${op}: output has ${classes} classes (dim 1) but numClasses is ${fixed}`);
    }
    let top = classes ?? 0;
    for (let i = 0; i < pred.length; i++) {
      checkLabel(op, truth[i]!, fixed, 'target');
      checkLabel(op, pred[i]!, fixed, 'predicted');
      top = Math.max(top, truth[i]! + 1, pred[i]! + 1);
    }
    this.resize(top);
    const C = this.C;
    for (let i = 0; i < pred.length; i++) this.counts[truth[i]! * C + pred[i]!]!++;
  }
  /** The counts as nested arrays (rows = true class). */
  toArray(): number[][] {
    const C = this.C;
    return Array.from({ length: C }, (_, i) => Array.from(this.counts.subarray(i * C, (i + 1) * C)));
  }
  /** The counts as an int32 tensor [C, C] (rows = true class). */
  toTensor(): Tensor {
    return tensor(Int32Array.from(this.counts), { shape: [this.C, this.C] });
  }
  /** Precision, recall or F1 from the counts. */
  score(kind: 'precision' | 'recall' | 'f1', average: Average): number | number[] {
    return scoreFromCounts(this.counts, this.C, kind, average);
  }
}

function scoreFromCounts(
  cm: Float64Array,
  C: number,
  kind: 'precision' | 'recall' | 'f1',
  average: Average,
): number | number[] {
  const tp = new Float64Array(C);
  const predicted = new Float64Array(C);
  const support = new Float64Array(C);
  for (let i = 0; i < C; i++) {
    for (let j = 0; j < C; j++) {
      const v = cm[i * C + j]!;
      support[i]! += v;
      predicted[j]! += v;
    }
    tp[i] = cm[i * C + i]!;
  }
  const ratio = (num: number, den: number) => (den > 0 ? num / den : 0);
  const one = (t: number, p: number, s: number) =>
    kind === 'precision' ? ratio(t, p) : kind === 'recall' ? ratio(t, s) : ratio(2 * t, p + s);
  if (average === 'micro') {
    let t = 0;
    let p = 0;
    let s = 0;
    for (let c = 0; c < C; c++) {
      t += tp[c]!;
      p += predicted[c]!;
      s += support[c]!;
    }
    return one(t, p, s);
  }
  const per = Array.from({ length: C }, (_, c) => one(tp[c]!, predicted[c]!, support[c]!));
  if (average === 'none') return per;
  let num = 0;
  let den = 0;
  for (let c = 0; c < C; c++) {
    const w = average === 'weighted' ? support[c]! : support[c]! + predicted[c]! > 0 ? 1 : 0;
    num += w * per[c]!;
    den += w;
  }
  return ratio(num, den);
}

const AVERAGES: readonly Average[] = ['macro', 'micro', 'weighted', 'none'];

function checkAverage(op: string, average: Average, streaming: boolean): void {
  if (!AVERAGES.includes(average) || (streaming && average === 'none')) {
    const allowed = streaming ? "'macro', 'micro' or 'weighted'" : "'macro', 'micro', 'weighted' or 'none'";
    throw new ValueError(`${op}: average must be ${allowed}, got '${average}'`);
  }
}

/** Options of the streaming `Precision`, `Recall` and `F1Score`. */
export interface ScoreMetricOptions extends ClassificationOptions {
  /** Number of classes (default: the output's class dim, else grows with the labels seen). */
  numClasses?: number;
  /** 'macro' (default), 'micro' or 'weighted' (see `PrecisionRecallOptions`). */
  average?: 'macro' | 'micro' | 'weighted';
  /** Name in the logs (default 'precision', 'recall' or 'f1'). */
  name?: string;
}

abstract class ScoreMetric implements Metric {
  readonly name: string;
  private readonly cm: ConfusionMatrix;
  private readonly average: Average;

  constructor(
    private readonly kind: 'precision' | 'recall' | 'f1',
    options: ScoreMetricOptions,
  ) {
    this.average = options.average ?? 'macro';
    checkAverage(kind, this.average, true);
    this.name = options.name ?? kind;
    this.cm = new ConfusionMatrix({ ...options, op: kind });
  }
  reset(): void {
    this.cm.reset();
  }
  update(output: Tensor, target: Tensor): void {
    this.cm.update(output, target);
  }
  compute(): number {
    return this.cm.score(this.kind, this.average) as number;
  }
}

/** Streaming precision (macro-averaged by default). */
export class Precision extends ScoreMetric {
  constructor(options: ScoreMetricOptions = {}) {
    super('precision', options);
  }
}

/** Streaming recall (macro-averaged by default). */
export class Recall extends ScoreMetric {
  constructor(options: ScoreMetricOptions = {}) {
    super('recall', options);
  }
}

/** Streaming F1 score (macro-averaged by default). */
export class F1Score extends ScoreMetric {
  constructor(options: ScoreMetricOptions = {}) {
    super('f1', options);
  }
}

/**
 * The metric named `m` (`'accuracy'`/`'acc'`, `'topK_accuracy'` like `'top5_accuracy'`, `'mae'`,
 * `'mse'`, `'precision'`, `'recall'`, `'f1'`), or `m` itself when it is a metric object.
 */
export function getMetric(m: string | Metric): Metric {
  if (typeof m !== 'string') return m;
  switch (m) {
    case 'accuracy':
    case 'acc':
      return new Accuracy({ name: m });
    case 'mae':
      return new MeanAbsoluteError();
    case 'mse':
      return new MeanSquaredError();
    case 'precision':
      return new Precision();
    case 'recall':
      return new Recall();
    case 'f1':
      return new F1Score();
  }
  const top = /^top(\d+)(?:_accuracy)?$/.exec(m);
  if (top) return new TopKAccuracy(Number(top[1]), { name: m });
  throw new ValueError(
    `getMetric: unknown metric '${m}' (known: accuracy, acc, topK_accuracy e.g. top5_accuracy, mae, mse, ` +
      'precision, recall, f1; or pass a Metric object)',
  );
}

// ---------------------------------------------------------------------------------------------
// Functions

function once(metric: Metric, output: Tensor, target: Tensor): number {
  metric.update(output, target);
  return metric.compute();
}

/** Fraction of correct predictions (see the module doc for the accepted output forms). */
export function accuracy(output: Tensor, target: Tensor, options: ClassificationOptions = {}): number {
  return once(new Accuracy(options), output, target);
}

/** Fraction of samples whose true class is among the `k` highest of the scores [N, C, ...]. */
export function topKAccuracy(output: Tensor, target: Tensor, k: number): number {
  return once(new TopKAccuracy(k), output, target);
}

/** Mean absolute error over all elements. */
export function mae(output: Tensor, target: Tensor): number {
  return once(new MeanAbsoluteError(), output, target);
}

/** Mean squared error over all elements. */
export function mse(output: Tensor, target: Tensor): number {
  return once(new MeanSquaredError(), output, target);
}

/**
 * Confusion matrix as an int32 tensor [C, C]: entry [i, j] counts samples of true class i predicted
 * as class j. `pred` holds labels of the target's shape or scores [N, C, ...].
 */
export function confusionMatrix(pred: Tensor, target: Tensor, numClasses?: number): Tensor {
  const cm = new ConfusionMatrix({ numClasses });
  cm.update(pred, target);
  return cm.toTensor();
}

function scoreFn(kind: 'precision' | 'recall' | 'f1') {
  function fn(
    output: Tensor,
    target: Tensor,
    options: PrecisionRecallOptions & { average: 'none' },
  ): number[];
  function fn(output: Tensor, target: Tensor, options?: PrecisionRecallOptions): number;
  function fn(output: Tensor, target: Tensor, options: PrecisionRecallOptions = {}): number | number[] {
    const average = options.average ?? 'macro';
    checkAverage(kind, average, false);
    const cm = new ConfusionMatrix({ ...options, op: kind });
    cm.update(output, target);
    return cm.score(kind, average);
  }
  return fn;
}

/**
 * Precision: of the samples predicted as a class, the fraction truly of it (0 for a class never
 * predicted). Macro-averaged by default; `average: 'none'` gives one value per class.
 */
export const precision = scoreFn('precision');

/**
 * Recall: of the samples of a class, the fraction predicted as it (0 for a class absent from the
 * target). Macro-averaged by default; `average: 'none'` gives one value per class.
 */
export const recall = scoreFn('recall');

/**
 * F1 score, the harmonic mean of precision and recall per class, 2·tp / (2·tp + fp + fn) (0 when
 * the class is neither present nor predicted). Macro-averaged by default; `average: 'none'` gives one
 * value per class.
 */
export const f1 = scoreFn('f1');

/** Options of `formatConfusionMatrix`. */
export interface FormatConfusionMatrixOptions {
  /** Class names (default 0, 1, ...). */
  labels?: readonly string[];
  /** Show each row as fractions of the row total (recall per cell) instead of counts. */
  normalize?: boolean;
}

/**
 * A confusion matrix (tensor [C, C] or nested arrays, rows = true class) as an aligned text table
 * with the true class down the side and the predicted class across, for CLI output.
 */
export function formatConfusionMatrix(
  cm: Tensor | readonly (readonly number[])[],
  options: FormatConfusionMatrixOptions = {},
): string {
  const rows = cm instanceof Tensor ? (cm.toArray() as number[][]) : cm.map((r) => r.slice());
  const C = rows.length;
  if (rows.some((r) => r.length !== C)) {
    const shape =
      cm instanceof Tensor ? fmt(cm.shape) : `${C} rows of lengths ${rows.map((r) => r.length).join(',')}`;
    throw new ShapeError(`formatConfusionMatrix: expected a square matrix, got ${shape}`);
  }
  const names = options.labels ?? Array.from({ length: C }, (_, i) => String(i));
  if (names.length !== C) {
    throw new ValueError(`formatConfusionMatrix: ${names.length} labels given for ${C} classes`);
  }
  const cell = (v: number, rowTotal: number) =>
    options.normalize ? (rowTotal > 0 ? v / rowTotal : 0).toFixed(2) : String(v);
  const body = rows.map((r) => {
    const total = r.reduce((a, b) => a + b, 0);
    return r.map((v) => cell(v, total));
  });
  const corner = 'true \\ pred';
  const w0 = Math.max(corner.length, ...names.map((n) => n.length));
  const w = Math.max(1, ...names.map((n) => n.length), ...body.flat().map((s) => s.length));
  const line = (head: string, cells: readonly string[]) =>
    [head.padStart(w0), ...cells.map((c) => c.padStart(w))].join('  ');
  return [line(corner, names), ...body.map((cells, i) => line(names[i]!, cells))].join('\n');
}
