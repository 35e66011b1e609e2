import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CallbackLike,
  CSVLogger,
  fit as fitModel,
  formatCheckpointPath,
  JSONLinesLogger,
  loadCheckpoint,
  loadSafetensors,
  ModelCheckpoint,
  manualSeed,
  nn,
  optim,
  randn,
  type Tensor,
} from '../../src/node/index.js';

const F = nn.functional;
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'neurite-train-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function batches(): [Tensor, Tensor][] {
  manualSeed(0);
  return Array.from({ length: 3 }, () => {
    const x = randn([8, 3]);
    return [x, x.argmax(1)];
  });
}

/** Overrides val_loss per epoch with scripted values (to control which epoch is best). */
function scriptedValLoss(vals: number[]): CallbackLike {
  let i = 0;
  return {
    onEpochEnd: (_e, logs) => {
      logs.val_loss = vals[i++]!;
    },
  };
}

function run(callbacks: CallbackLike[], epochs = 3, extra: Partial<Parameters<typeof fitModel>[1]> = {}) {
  manualSeed(1);
  const model = new nn.Linear(3, 3);
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const data = batches();
  const history = fitModel(model, {
    train: data,
    val: data.slice(0, 1),
    loss: F.crossEntropy,
    optimizer,
    epochs,
    metrics: ['accuracy'],
    callbacks,
    verbose: 0,
    ...extra,
  });
  return { model, optimizer, history };
}

describe('CSVLogger', () => {
  it('writes a header and one row per epoch matching the history', () => {
    const path = join(dir, 'logs', 'train.csv');
    const { history } = run([new CSVLogger(path)]);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('epoch,loss,accuracy,val_loss,val_accuracy,lr');
    expect(lines).toHaveLength(4);
    lines.slice(1).forEach((line, i) => {
      const cells = line.split(',').map(Number);
      expect(cells[0]).toBe(i);
      expect(cells[1]).toBe(history.history.loss![i]);
      expect(cells[2]).toBe(history.history.accuracy![i]);
      expect(cells[3]).toBe(history.history.val_loss![i]);
      expect(cells[5]).toBe(0.1);
    });
  });

  it('appends rows after each epoch (readable while training) and with append: true keeps old rows', () => {
    const path = join(dir, 'train.csv');
    const rowsSeen: number[] = [];
    const peek: CallbackLike = {
      onEpochEnd: () => void rowsSeen.push(readFileSync(path, 'utf8').trimEnd().split('\n').length),
    };
    run([new CSVLogger(path, { separator: ';' }), peek], 2);
    expect(rowsSeen).toEqual([2, 3]);
    run([new CSVLogger(path, { separator: ';', append: true })], 2, { initialEpoch: 0 });
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('epoch;loss;accuracy;val_loss;val_accuracy;lr');
    expect(lines.map((l) => l.split(';')[0])).toEqual(['epoch', '0', '1', '0', '1']);
    // without append the file starts afresh
    run([new CSVLogger(path, { separator: ';' })], 1);
    expect(readFileSync(path, 'utf8').trimEnd().split('\n')).toHaveLength(2);
  });

  it('reuses the columns of an existing header and leaves missing values empty', () => {
    const path = join(dir, 'train.csv');
    writeFileSync(path, 'epoch,val_loss,"odd,name",loss\n');
    run([new CSVLogger(path, { append: true })], 1);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    const row = lines[1]!.split(',');
    expect(row[0]).toBe('0');
    expect(Number(row[1])).toBeGreaterThan(0);
    expect(row[2]).toBe('');
    expect(Number(row[3])).toBeGreaterThan(0);
  });
});

describe('JSONLinesLogger', () => {
  it('writes one JSON object per epoch; NaN becomes null', () => {
    const path = join(dir, 'train.jsonl');
    const nan: CallbackLike = {
      onEpochEnd: (e, logs) => {
        logs.odd = e === 1 ? Number.NaN : e;
      },
    };
    const { history } = run([nan, new JSONLinesLogger(path)]);
    const rows = readFileSync(path, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number | null>);
    expect(rows).toHaveLength(3);
    expect(Object.keys(rows[0]!)).toEqual([
      'epoch',
      'loss',
      'accuracy',
      'val_loss',
      'val_accuracy',
      'lr',
      'odd',
    ]);
    expect(rows.map((r) => r.epoch)).toEqual([0, 1, 2]);
    expect(rows.map((r) => r.loss)).toEqual(history.history.loss);
    expect(rows.map((r) => r.odd)).toEqual([0, null, 2]);
  });
});

describe('ModelCheckpoint', () => {
  it('formatCheckpointPath fills placeholders', () => {
    const logs = { loss: 0.123456, val_loss: 0.5 };
    expect(formatCheckpointPath('ck/e{epoch}.st', 2, logs)).toBe('ck/e3.st');
    expect(formatCheckpointPath('e{epoch:03d}-{val_loss:.2f}-{loss:.1e}', 9, logs)).toBe('e010-0.50-1.2e-1');
    expect(() => formatCheckpointPath('{acc}', 0, logs)).toThrow(
      /placeholder \{acc\} is not in the epoch logs \(have: epoch, loss, val_loss\)/,
    );
    expect(() => formatCheckpointPath('{loss:x}', 0, logs)).toThrow(/unsupported format '\{loss:x\}'/);
  });

  it('saves every epoch by default, as safetensors with the epoch in the metadata', () => {
    const { model } = run([new ModelCheckpoint({ filepath: join(dir, 'ck', 'epoch-{epoch}.safetensors') })]);
    expect(readdirSync(join(dir, 'ck')).sort()).toEqual([
      'epoch-1.safetensors',
      'epoch-2.safetensors',
      'epoch-3.safetensors',
    ]);
    const last = loadSafetensors(join(dir, 'ck', 'epoch-3.safetensors'));
    expect(last.metadata?.epoch).toBe('3');
    expect(Array.from(last.tensors.get('weight')!.dataSync())).toEqual(Array.from(model.weight.dataSync()));
  });

  it('saveBestOnly keeps the best epoch; saveLast overwrites a fixed file', () => {
    const weights: number[][] = [];
    const grab: CallbackLike = {
      onEpochEnd: (_e, _l, ctx) =>
        void weights.push(Array.from(ctx.model.stateDict().get('weight')!.dataSync())),
    };
    const ck = new ModelCheckpoint({
      filepath: join(dir, 'best.safetensors'),
      saveBestOnly: true,
      saveLast: true,
    });
    run([scriptedValLoss([0.9, 0.5, 0.7, 0.6]), grab, ck], 4);
    expect(ck.saved).toEqual([join(dir, 'best.safetensors'), join(dir, 'best.safetensors')]);
    expect(ck.bestPath).toBe(join(dir, 'best.safetensors'));
    expect(ck.best).toBe(0.5);
    const best = loadSafetensors(join(dir, 'best.safetensors'));
    expect(best.metadata?.epoch).toBe('2');
    expect(best.metadata?.val_loss).toBe('0.5');
    expect(Array.from(best.tensors.get('weight')!.dataSync())).toEqual(weights[1]);
    const last = loadSafetensors(join(dir, 'last.safetensors'));
    expect(last.metadata?.epoch).toBe('4');
    expect(Array.from(last.tensors.get('weight')!.dataSync())).toEqual(weights[3]);
  });

  it('saveWeightsOnly: false writes a full checkpoint that resumes training', () => {
    const path = join(dir, 'run.ckpt');
    const first = run([new ModelCheckpoint({ filepath: path, saveWeightsOnly: false })], 2);
    manualSeed(99);
    const model = new nn.Linear(3, 3);
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const info = loadCheckpoint(path, { model, optimizer });
    expect(info.epoch).toBe(2);
    expect(info.step).toBe(6);
    expect((info.extra as { logs: { loss: number } }).logs.loss).toBe(first.history.history.loss![1]);
    expect(Array.from(model.weight.dataSync())).toEqual(Array.from(first.model.weight.dataSync()));
    expect(optimizer.stateDict().state).toHaveProperty('0');
  });

  it('requires the monitored value with saveBestOnly', () => {
    expect(() =>
      run([new ModelCheckpoint({ filepath: join(dir, 'x.st'), saveBestOnly: true, monitor: 'val_f1' })], 1),
    ).toThrow(/ModelCheckpoint: monitored 'val_f1' is not in the epoch logs/);
    expect(() => new ModelCheckpoint({ filepath: '' })).toThrow(/ModelCheckpoint: filepath is required/);
  });
});
