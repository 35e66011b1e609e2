import { describe, expect, it } from 'vitest';
import {
  Accuracy,
  accuracy,
  ConfusionMatrix,
  confusionMatrix,
  F1Score,
  f1,
  formatConfusionMatrix,
  getMetric,
  MeanSquaredError,
  mae,
  mse,
  Precision,
  precision,
  recall,
  TopKAccuracy,
  tensor,
  topKAccuracy,
} from '../../src/index.js';

// 3 classes; confusion matrix (rows = true class) [[2,1,0],[0,2,0],[1,0,2]]
const target = tensor([0, 0, 1, 1, 2, 2, 2, 0], { dtype: 'int32' });
const pred = tensor([0, 1, 1, 1, 2, 0, 2, 0], { dtype: 'int32' });

/** Logits whose argmax is `labels`. */
function logitsFor(labels: number[], C: number) {
  return tensor(labels.map((l) => Array.from({ length: C }, (_, c) => (c === l ? 2 : -1 + 0.1 * c))));
}

describe('confusionMatrix', () => {
  it('counts true class by row, predicted class by column', () => {
    const cm = confusionMatrix(pred, target, 3);
    expect(cm.dtype).toBe('int32');
    expect(cm.shape).toEqual([3, 3]);
    expect(cm.toArray()).toEqual([
      [2, 1, 0],
      [0, 2, 0],
      [1, 0, 2],
    ]);
  });

  it('takes scores [N, C] (argmax over dim 1) and infers the class count', () => {
    expect(confusionMatrix(logitsFor([0, 1, 1, 1, 2, 0, 2, 0], 3), target).toArray()).toEqual([
      [2, 1, 0],
      [0, 2, 0],
      [1, 0, 2],
    ]);
    // inferred from the labels: largest + 1
    expect(
      confusionMatrix(tensor([1, 1], { dtype: 'int32' }), tensor([0, 1], { dtype: 'int32' })).shape,
    ).toEqual([2, 2]);
    // more classes than seen when numClasses is given
    expect(confusionMatrix(pred, target, 5).shape).toEqual([5, 5]);
  });

  it('rejects bad labels and shapes', () => {
    expect(() => confusionMatrix(pred, target, 2)).toThrow(
      /confusionMatrix: target label 2 out of range for 2 classes/,
    );
    expect(() =>
      confusionMatrix(tensor([0, -1], { dtype: 'int32' }), tensor([0, 1], { dtype: 'int32' })),
    ).toThrow(/predicted labels must be non-negative integers, got -1/);
    expect(() => confusionMatrix(tensor([[1, 2, 3]]), tensor([0, 1], { dtype: 'int32' }))).toThrow(
      /confusionMatrix: output shape \[1,3\] does not fit target shape \[2\]/,
    );
    expect(() => confusionMatrix(pred, target, 0)).toThrow(/numClasses must be a positive integer, got 0/);
  });

  it('rejects targets outside the class dim of the scores (every classification metric)', () => {
    const scores = logitsFor([0, 1, 2], 3);
    const bad = tensor([0, 3, 1], { dtype: 'int32' });
    expect(() => confusionMatrix(scores, bad)).toThrow(
      /confusionMatrix: target label 3 out of range for 3 classes/,
    );
    expect(() => accuracy(scores, bad)).toThrow(/accuracy: target label 3 out of range for 3 classes/);
    expect(() => new F1Score().update(scores, bad)).toThrow(/f1: target label 3 out of range for 3 classes/);
    expect(() => accuracy(scores, tensor([0, -1, 1], { dtype: 'int32' }))).toThrow(
      /accuracy: target labels must be non-negative integers, got -1/,
    );
  });

  it('streams over batches', () => {
    const cm = new ConfusionMatrix({ numClasses: 3 });
    cm.update(pred.slice(0, 0, 4), target.slice(0, 0, 4));
    cm.update(pred.slice(0, 4, 8), target.slice(0, 4, 8));
    expect(cm.toArray()).toEqual([
      [2, 1, 0],
      [0, 2, 0],
      [1, 0, 2],
    ]);
    cm.reset();
    expect(cm.toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });
});

describe('accuracy and friends', () => {
  it('accuracy of labels, scores, binary probabilities and segmentation maps', () => {
    expect(accuracy(pred, target)).toBe(0.75);
    expect(accuracy(logitsFor([0, 1, 1, 1, 2, 0, 2, 0], 3), target)).toBe(0.75);
    // binary probabilities, threshold 0.5 (strictly above counts as 1)
    const p = tensor([0.9, 0.2, 0.5, 0.7]);
    const y = tensor([1, 0, 1, 1]);
    expect(accuracy(p, y)).toBe(0.75);
    expect(accuracy(p, y, { threshold: 0.4 })).toBe(1);
    // [N, 1] scores against [N] targets are binary too
    expect(accuracy(p.reshape(4, 1), y)).toBe(0.75);
    // [N, C, H, W] against [N, H, W]
    const seg = tensor([
      [
        [
          [1, 0],
          [0, 1],
        ],
        [
          [0, 1],
          [1, 0],
        ],
      ],
    ]); // argmax over C: [[0,1],[1,0]]
    expect(
      accuracy(
        seg,
        tensor(
          [
            [
              [0, 1],
              [1, 1],
            ],
          ],
          { dtype: 'int32' },
        ),
      ),
    ).toBe(0.75);
  });

  it('topKAccuracy counts ties in favour of the sample', () => {
    const s = tensor([
      [0.1, 0.5, 0.4],
      [0.8, 0.15, 0.05],
      [0.2, 0.3, 0.5],
      [0.3, 0.3, 0.4],
    ]);
    const y = tensor([2, 1, 0, 1], { dtype: 'int32' });
    expect(topKAccuracy(s, y, 1)).toBe(0);
    expect(topKAccuracy(s, y, 2)).toBe(0.75);
    expect(topKAccuracy(s, y, 3)).toBe(1);
    expect(() => topKAccuracy(s, y, 4)).toThrow(/topKAccuracy: k=4 is larger than the number of classes 3/);
    expect(() => topKAccuracy(s, y, 0)).toThrow(/k must be a positive integer, got 0/);
    expect(() => topKAccuracy(s, y.reshape(2, 2), 1)).toThrow(
      /topKAccuracy: expected scores \[N, C, \.\.\.\]/,
    );
  });

  it('mae and mse', () => {
    const o = tensor([1, 2, 3, 4]);
    const t = tensor([1.5, 2, 2, 6]);
    expect(mae(o, t)).toBeCloseTo(0.875, 12);
    expect(mse(o, t)).toBeCloseTo(1.3125, 12);
    // [N, 1] vs [N] is accepted (same elements), [2, 2] vs [4] too, [3] vs [4] not
    expect(mse(o.reshape(4, 1), t)).toBeCloseTo(1.3125, 12);
    expect(() => mae(o.slice(0, 0, 3), t)).toThrow(
      /mae: output shape \[3\] and target shape \[4\] do not match/,
    );
  });
});

describe('precision, recall, f1 (scikit-learn definitions)', () => {
  it('per class', () => {
    const close = (a: number[], b: number[]) => {
      for (const [i, v] of a.entries()) expect(v).toBeCloseTo(b[i]!, 12);
    };
    close(precision(pred, target, { average: 'none' }), [2 / 3, 2 / 3, 1]);
    close(recall(pred, target, { average: 'none' }), [2 / 3, 1, 2 / 3]);
    close(f1(pred, target, { average: 'none' }), [2 / 3, 0.8, 0.8]);
  });

  it('macro, micro and weighted averages', () => {
    expect(precision(pred, target)).toBeCloseTo(7 / 9, 12);
    expect(recall(pred, target)).toBeCloseTo(7 / 9, 12);
    expect(f1(pred, target)).toBeCloseTo((2 / 3 + 1.6) / 3, 12);
    expect(f1(pred, target, { average: 'micro' })).toBeCloseTo(0.75, 12);
    expect(precision(pred, target, { average: 'weighted' })).toBeCloseTo((2 + 4 / 3 + 3) / 8, 12);
    expect(recall(pred, target, { average: 'weighted' })).toBeCloseTo(0.75, 12);
  });

  it('zero division gives 0; macro skips classes absent from target and predictions', () => {
    // everything predicted as class 0: cm [[2,0,0],[2,0,0],[0,0,0]]
    const y = tensor([0, 0, 1, 1], { dtype: 'int32' });
    const p = tensor([0, 0, 0, 0], { dtype: 'int32' });
    expect(precision(p, y, { numClasses: 3, average: 'none' })).toEqual([0.5, 0, 0]);
    expect(recall(p, y, { numClasses: 3, average: 'none' })).toEqual([1, 0, 0]);
    const f = f1(p, y, { numClasses: 3, average: 'none' });
    expect(f[0]).toBeCloseTo(2 / 3, 12);
    expect(f.slice(1)).toEqual([0, 0]);
    expect(precision(p, y, { numClasses: 3 })).toBeCloseTo(0.25, 12);
    expect(recall(p, y, { numClasses: 3 })).toBeCloseTo(0.5, 12);
    expect(f1(p, y, { numClasses: 3 })).toBeCloseTo(1 / 3, 12);
    expect(() => precision(p, y, { average: 'mean' as 'macro' })).toThrow(
      /precision: average must be 'macro', 'micro', 'weighted' or 'none', got 'mean'/,
    );
  });

  it('binary problems from probabilities', () => {
    const p = tensor([0.9, 0.8, 0.3, 0.6]);
    const y = tensor([1, 0, 0, 1]);
    // pred [1,1,0,1]: class 1 precision 2/3, recall 1
    expect(precision(p, y, { average: 'none' })).toEqual([1, 2 / 3]);
    expect(recall(p, y, { average: 'none' })).toEqual([0.5, 1]);
  });
});

describe('streaming metrics', () => {
  it('pool over batches exactly', () => {
    const acc = new Accuracy();
    acc.update(pred.slice(0, 0, 3), target.slice(0, 0, 3)); // 2/3
    acc.update(pred.slice(0, 3, 8), target.slice(0, 3, 8)); // 4/5
    expect(acc.compute()).toBe(0.75);
    acc.reset();
    expect(acc.compute()).toBe(0);
    const f = new F1Score({ numClasses: 3 });
    f.update(pred.slice(0, 0, 5), target.slice(0, 0, 5));
    f.update(pred.slice(0, 5, 8), target.slice(0, 5, 8));
    expect(f.compute()).toBeCloseTo((2 / 3 + 1.6) / 3, 12);
    const m = new MeanSquaredError();
    m.update(tensor([1, 2]), tensor([0, 0]));
    m.update(tensor([3]), tensor([0]));
    expect(m.compute()).toBeCloseTo(14 / 3, 12);
    expect(() => new Precision({ average: 'none' as 'macro' })).toThrow(
      /average must be 'macro', 'micro' or 'weighted'/,
    );
  });

  it('getMetric resolves names', () => {
    expect(getMetric('accuracy')).toBeInstanceOf(Accuracy);
    expect(getMetric('acc').name).toBe('acc');
    const t5 = getMetric('top5_accuracy');
    expect(t5).toBeInstanceOf(TopKAccuracy);
    expect((t5 as TopKAccuracy).k).toBe(5);
    expect(getMetric('top3').name).toBe('top3');
    expect(getMetric('f1').name).toBe('f1');
    expect(getMetric('mae').name).toBe('mae');
    const own = new Accuracy({ name: 'acc2' });
    expect(getMetric(own)).toBe(own);
    expect(() => getMetric('auc')).toThrow(/getMetric: unknown metric 'auc'/);
  });
});

describe('formatConfusionMatrix', () => {
  it('prints an aligned table with the true class down the side', () => {
    const cm = confusionMatrix(pred, target, 3);
    expect(formatConfusionMatrix(cm)).toBe(
      ['true \\ pred  0  1  2', '          0  2  1  0', '          1  0  2  0', '          2  1  0  2'].join(
        '\n',
      ),
    );
    expect(formatConfusionMatrix(cm, { labels: ['cat', 'dog', 'bird'], normalize: true })).toBe(
      [
        'true \\ pred   cat   dog  bird',
        '        cat  0.67  0.33  0.00',
        '        dog  0.00  1.00  0.00',
        '       bird  0.33  0.00  0.67',
      ].join('\n'),
    );
    expect(() => formatConfusionMatrix([[1, 2]])).toThrow(/formatConfusionMatrix: expected a square matrix/);
    expect(() => formatConfusionMatrix(cm, { labels: ['a'] })).toThrow(/1 labels given for 3 classes/);
  });
});
