import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CSVLogger,
  data,
  EarlyStopping,
  evaluate,
  fit as fitModel,
  Generator,
  JSONLinesLogger,
  loadCheckpoint,
  loadIris,
  loadSafetensors,
  ModelCheckpoint,
  manualSeed,
  nn,
  optim,
  ProgressBar,
  type Tensor,
  TerminateOnNaN,
  tensor,
} from '../../src/node/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'neurite-fit-all-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function build(seed: number) {
  manualSeed(seed);
  const model = new nn.Sequential(
    new nn.Linear(4, 16),
    new nn.BatchNorm1d(16),
    new nn.ReLU(),
    new nn.Dropout(0.1),
    new nn.Linear(16, 3),
  );
  const optimizer = new optim.Adam(model.parameters(), { lr: 0.05 });
  const scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: 5, gamma: 0.5 });
  return { model, optimizer, scheduler };
}

function sameWeights(a: Map<string, Tensor>, b: Map<string, Tensor>): void {
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  for (const [k, t] of a) expect(Array.from(b.get(k)!.dataSync()), k).toEqual(Array.from(t.dataSync()));
}

describe('fit on Iris with a scheduler and every callback in one run', () => {
  it('history, logs, checkpoints, restored best weights and progress lines agree', () => {
    const train = loadIris({ split: 'train' });
    const test = loadIris({ split: 'test' });
    const { model, optimizer, scheduler } = build(7);
    const loader = new data.DataLoader(new data.TensorDataset(train.features, train.labels), {
      batchSize: 16,
      shuffle: true,
      generator: new Generator(3),
    });
    const testLoader = new data.DataLoader(new data.TensorDataset(test.features, test.labels), {
      batchSize: 30,
    });
    let printed = '';
    const progress = new ProgressBar({ stream: { write: (s: string) => (printed += s), isTTY: false } });
    const early = new EarlyStopping({ monitor: 'val_loss', patience: 4, restoreBestWeights: true });
    const best = new ModelCheckpoint({
      filepath: join(dir, 'best-{epoch:02d}.safetensors'),
      monitor: 'val_loss',
      saveBestOnly: true,
    });
    const last = new ModelCheckpoint({
      filepath: join(dir, 'ckpt', 'epoch-{epoch}.safetensors'),
      saveWeightsOnly: false,
      saveLast: true,
    });
    const csv = join(dir, 'log.csv');
    const jsonl = join(dir, 'log.jsonl');
    const epochs = 200;
    const history = fitModel(model, {
      train: loader,
      val: testLoader,
      loss: new nn.CrossEntropyLoss(),
      optimizer,
      scheduler,
      epochs,
      metrics: ['accuracy', 'f1'],
      callbacks: [
        new TerminateOnNaN(),
        early,
        best,
        last,
        new CSVLogger(csv),
        new JSONLinesLogger(jsonl),
        progress,
      ],
    });
    const n = history.epoch.length;

    // EarlyStopping ended the run (long before 200 epochs) and said why
    expect(n).toBeLessThan(epochs);
    expect(early.stoppedEpoch).toBe(n - 1);
    expect(history.stopReason).toMatch(
      /^EarlyStopping: val_loss did not improve for 4 epochs \(best .* at epoch \d+\)$/,
    );
    expect(n - 1 - early.bestEpoch).toBe(4);

    // the StepLR rate each epoch trained with; the scheduler stepped once per epoch
    history.history.lr!.forEach((lr, e) => {
      expect(lr).toBeCloseTo(0.05 * 0.5 ** Math.floor(e / 5), 12);
    });
    expect(scheduler.getLastLr()[0]).toBeCloseTo(0.05 * 0.5 ** Math.floor(n / 5), 12);

    // logs: one CSV row and one JSON line per epoch, with the history's values
    const rows = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(rows[0]).toBe('epoch,loss,accuracy,f1,val_loss,val_accuracy,val_f1,lr');
    expect(rows).toHaveLength(n + 1);
    rows.slice(1).forEach((r, e) => {
      const cells = r.split(',').map(Number);
      expect(cells[0]).toBe(e);
      expect(cells[4]).toBe(history.history.val_loss![e]);
    });
    const lines = readFileSync(jsonl, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(n);
    expect(lines.map((l) => l.val_accuracy)).toEqual(history.history.val_accuracy);

    // ModelCheckpoint (best): one file per improvement, the last one is the best epoch
    expect(best.bestPath).toBe(join(dir, `best-${String(early.bestEpoch + 1).padStart(2, '0')}.safetensors`));
    expect(best.best).toBe(early.best);
    expect(Math.min(...history.history.val_loss!)).toBe(best.best);
    // EarlyStopping restored the best epoch's weights: exactly what the best checkpoint holds
    const bestFile = loadSafetensors(best.bestPath!);
    sameWeights(bestFile.tensors, model.stateDict());
    expect(Number(bestFile.metadata.epoch)).toBe(early.bestEpoch + 1);
    // ... and they evaluate to the best val_loss again
    const again = evaluate(model, testLoader, { loss: new nn.CrossEntropyLoss(), metrics: ['accuracy'] });
    expect(again.loss).toBeCloseTo(best.best, 5);
    expect(again.accuracy).toBeGreaterThanOrEqual(0.9);

    // ModelCheckpoint (last, full checkpoint): resumable state of the final epoch
    expect(last.saved).toHaveLength(n);
    const fresh = build(99);
    const info = loadCheckpoint(join(dir, 'ckpt', 'last.safetensors'), fresh);
    expect(info.epoch).toBe(n);
    expect(info.step).toBe(n * loader.length);
    expect(fresh.scheduler.stateDict()).toEqual(scheduler.stateDict());
    expect(fresh.optimizer.paramGroups[0]!.lr).toBe(optimizer.paramGroups[0]!.lr);
    expect((info.extra as { logs: Record<string, number> }).logs.val_loss).toBe(history.last('val_loss'));

    // progress off a terminal: plain lines, one per epoch, then why training stopped
    expect(printed).not.toMatch(/\r/);
    const out = printed.trimEnd().split('\n');
    expect(out).toHaveLength(n + 1);
    expect(out[0]).toMatch(
      /^Epoch 1\/200 {2}8\/8 - loss: [\d.]+ - accuracy: [\d.]+ - f1: [\d.]+ - val_loss: [\d.]+ - val_accuracy: [\d.]+ - val_f1: [\d.]+ - \d+ samples\/s - /,
    );
    expect(out[n]).toBe(`Training stopped: ${history.stopReason}`);
    // fit restored training mode
    expect(model.training).toBe(true);
  });
});

describe('labels out of range during fit', () => {
  it('names the label, the number of classes, the epoch and the step', () => {
    manualSeed(0);
    const model = new nn.Sequential(new nn.Linear(2, 3));
    const x = tensor([
      [0, 1],
      [1, 0],
      [1, 1],
      [0, 0],
    ]).to('float32');
    const loader = new data.DataLoader(new data.TensorDataset(x, tensor([0, 1, 2, 3])), { batchSize: 2 });
    const before = model.stateDict().get('0.weight')!.toArray();
    for (const loss of [nn.functional.crossEntropy, new nn.CrossEntropyLoss()]) {
      expect(() =>
        fitModel(model, {
          train: loader,
          loss,
          optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
          epochs: 1,
          verbose: 0,
        }),
      ).toThrow(/fit: train epoch 1, step 2: .*crossEntropy: target 3 is out of bounds for 3 classes/);
    }
    expect(model.stateDict().get('0.weight')!.toArray()).not.toEqual(before); // step 1 was trained
  });
});
