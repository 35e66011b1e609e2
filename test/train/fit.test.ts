import { describe, expect, it } from 'vitest';
import {
  type CallbackLike,
  cat,
  data,
  EarlyStopping,
  evaluate,
  fit as fitModel,
  Generator,
  LearningRateScheduler,
  manualSeed,
  NonFiniteLossError,
  nn,
  optim,
  randn,
  type Tensor,
  TerminateOnNaN,
  TrainingError,
  tensor,
  zeros,
} from '../../src/index.js';

const F = nn.functional;
const f32 = (a: number[][] | number[]) => tensor(a, { dtype: 'float32' });

/** Two Gaussian blobs in 2-d centred at (-2,-2) (class 0) and (2,2) (class 1). */
function blobs(n: number, seed = 0): { x: Tensor; y: Tensor } {
  manualSeed(seed);
  const x = cat([randn([n, 2]).sub(2), randn([n, 2]).add(2)]);
  const y = cat([zeros([n], { dtype: 'int32' }), zeros([n], { dtype: 'int32' }).add(1)]);
  return { x, y };
}

function loaders(seed = 0) {
  const train = blobs(64, seed);
  const val = blobs(32, seed + 100);
  return {
    train: new data.DataLoader(new data.TensorDataset(train.x, train.y), {
      batchSize: 16,
      shuffle: true,
      generator: new Generator(seed),
    }),
    val: new data.DataLoader(new data.TensorDataset(val.x, val.y), { batchSize: 32 }),
  };
}

describe('fit', () => {
  it('learns two blobs with a Linear model; history has Keras keys and one value per epoch', () => {
    const { train, val } = loaders();
    manualSeed(1);
    const model = new nn.Linear(2, 2);
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
    const history = fitModel(model, {
      train,
      val,
      loss: F.crossEntropy,
      optimizer,
      epochs: 5,
      metrics: ['accuracy'],
      verbose: 0,
    });
    expect(history.epoch).toEqual([0, 1, 2, 3, 4]);
    expect(Object.keys(history.history)).toEqual(['loss', 'accuracy', 'val_loss', 'val_accuracy', 'lr']);
    for (const v of Object.values(history.history)) expect(v).toHaveLength(5);
    expect(history.history.lr).toEqual([0.1, 0.1, 0.1, 0.1, 0.1]);
    expect(history.last('val_accuracy')).toBeGreaterThanOrEqual(0.95);
    expect(history.last('accuracy')).toBeGreaterThanOrEqual(0.95);
    const losses = history.history.loss!;
    expect(losses[4]!).toBeLessThan(losses[0]!);
    expect(history.stopReason).toBeNull();
    expect(history.params).toMatchObject({ epochs: 5, steps: 8, valSteps: 2, metrics: ['accuracy'] });
    // evaluate agrees with the last val values (same model, same data)
    const ev = evaluate(model, val, { loss: F.crossEntropy, metrics: ['accuracy'] });
    expect(ev.loss).toBeCloseTo(history.last('val_loss')!, 6);
    expect(ev.accuracy).toBe(history.last('val_accuracy'));
    // the model's mode is restored
    expect(model.training).toBe(true);
  });

  it('loss modules and Adam work, epoch loss is the sample-weighted mean of batch losses', () => {
    const { x, y } = blobs(10);
    // 20 samples in batches of 8, 8, 4
    const batches: [Tensor, Tensor][] = [0, 8, 16].map((s) => [x.slice(0, s, s + 8), y.slice(0, s, s + 8)]);
    manualSeed(2);
    const model = new nn.Linear(2, 2);
    const seen: { loss: number; size: number }[] = [];
    const spy: CallbackLike = {
      onBatchEnd: (_s, logs) => seen.push({ loss: logs.batchLoss!, size: logs.size! }),
    };
    const h = fitModel(model, {
      train: batches,
      loss: new nn.CrossEntropyLoss(),
      optimizer: new optim.Adam(model.parameters(), { lr: 0.01 }),
      epochs: 1,
      callbacks: [spy],
      verbose: 0,
    });
    expect(seen.map((s) => s.size)).toEqual([8, 8, 4]);
    const expected = seen.reduce((a, s) => a + s.loss * s.size, 0) / 20;
    expect(h.history.loss![0]).toBeCloseTo(expected, 10);
  });

  it('calls the hooks in order with 0-based epochs and steps', () => {
    const batches = [[f32([[1, 2]]), tensor([0], { dtype: 'int32' })]];
    const calls: string[] = [];
    const cb: CallbackLike = {
      onTrainBegin: () => calls.push('trainBegin'),
      onEpochBegin: (e) => calls.push(`epochBegin ${e}`),
      onBatchBegin: (s) => calls.push(`batchBegin ${s}`),
      onBatchEnd: (s) => calls.push(`batchEnd ${s}`),
      onEpochEnd: (e, logs) => {
        calls.push(`epochEnd ${e}`);
        logs.custom = e * 10; // extra logs land in the history
      },
      onTrainEnd: () => calls.push('trainEnd'),
    };
    const model = new nn.Linear(2, 2);
    const h = fitModel(model, {
      train: [...batches, ...batches],
      loss: F.crossEntropy,
      optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
      epochs: 3,
      initialEpoch: 1,
      callbacks: [cb],
      verbose: 0,
    });
    expect(calls).toEqual([
      'trainBegin',
      'epochBegin 1',
      'batchBegin 0',
      'batchEnd 0',
      'batchBegin 1',
      'batchEnd 1',
      'epochEnd 1',
      'epochBegin 2',
      'batchBegin 0',
      'batchEnd 0',
      'batchBegin 1',
      'batchEnd 1',
      'epochEnd 2',
      'trainEnd',
    ]);
    expect(h.epoch).toEqual([1, 2]);
    expect(h.history.custom).toEqual([10, 20]);
  });

  it('stepsPerEpoch limits the batches; a generator is continued across epochs', () => {
    const b = [f32([[1, 2]]), tensor([0], { dtype: 'int32' })];
    let made = 0;
    function* gen() {
      for (let i = 0; i < 5; i++) {
        made++;
        yield b;
      }
    }
    const model = new nn.Linear(2, 2);
    const steps: number[] = [];
    const h = fitModel(model, {
      train: gen(),
      loss: F.crossEntropy,
      optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
      epochs: 4,
      stepsPerEpoch: 2,
      callbacks: [{ onEpochEnd: (_e, _l, ctx) => steps.push(ctx.globalStep) }],
      verbose: 0,
    });
    // epochs of 2, 2, 1 batches, then the generator is exhausted and training stops
    expect(steps).toEqual([2, 4, 5]);
    expect(made).toBe(5);
    expect(h.epoch).toEqual([0, 1, 2]);
    expect(h.stopReason).toBe('fit: the train data ran out at the start of epoch 4');
  });

  it('validates its inputs with clear messages', () => {
    const model = new nn.Linear(2, 2);
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
    const good = [[f32([[1, 2]]), tensor([0], { dtype: 'int32' })]];
    const base = { train: good, loss: F.crossEntropy, optimizer, epochs: 1, verbose: 0 as const };
    expect(() => fitModel(model, { ...base, epochs: -1 })).toThrow(
      /fit: epochs must be a non-negative integer, got -1/,
    );
    expect(() => fitModel(model, { ...base, loss: 3 as never })).toThrow(/fit: loss must be a function/);
    expect(() => fitModel(model, { ...base, train: [[f32([1])]] })).toThrow(
      /fit: train epoch 1, step 1: expected a batch \[x, y\] of tensors, got an array of 1 \(Tensor\[1\]\)/,
    );
    expect(() => fitModel(model, { ...base, loss: (o) => o.sum(0) })).toThrow(
      /^fit: train epoch 1, step 1: the loss must return a one-element tensor, got a tensor of shape \[2\] \(use reduction 'mean'\)$/,
    );
    expect(() => fitModel(model, { ...base, loss: (o) => o })).toThrow(
      /the loss must return a one-element tensor, got a tensor of shape \[1,2\]/,
    );
    expect(() => fitModel(model, { ...base, train: [] })).toThrow(TrainingError);
    expect(() => fitModel(model, { ...base, train: [] })).toThrow(
      /fit: the train data yielded no batches in epoch 1/,
    );
    expect(() => fitModel(model, { ...base, val: [] })).toThrow(
      /fit: the val data yielded no batches in epoch 1/,
    );
    expect(() => fitModel(model, { ...base, metrics: ['accuracy', 'accuracy'] })).toThrow(
      /metric name 'accuracy' is used twice/,
    );
    expect(() => fitModel(model, { ...base, train: 5 as never })).toThrow(/fit: train must be an iterable/);
    // a layer error keeps the layer's prefix
    expect(() =>
      fitModel(model, { ...base, train: [[f32([[1, 2, 3]]), tensor([0], { dtype: 'int32' })]] }),
    ).toThrow(/Linear/);
  });
});

describe('non-finite losses', () => {
  /** MSE, but NaN on call number `bad` (0-based). */
  function nanAt(bad: number) {
    let calls = 0;
    return (o: Tensor, t: Tensor) => (calls++ === bad ? o.sum().mul(Number.NaN) : F.mseLoss(o, t));
  }
  const reg = () => {
    manualSeed(3);
    const x = randn([40, 3]);
    const y = x.sum(1, { keepdim: true });
    return new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 8 }); // 5 batches/epoch
  };

  it('throws NonFiniteLossError naming the 1-based epoch and step, before the optimizer step', () => {
    manualSeed(4);
    const model = new nn.Linear(3, 1);
    let before: number[] = [];
    const cb: CallbackLike = {
      onBatchEnd: (step, _l, ctx) => {
        if (ctx.epoch === 2 && step === 0) before = Array.from(model.weight.dataSync());
      },
    };
    const run = () =>
      fitModel(model, {
        train: reg(),
        loss: nanAt(2 * 5 + 1), // epoch index 2, step index 1
        optimizer: new optim.SGD(model.parameters(), { lr: 0.01 }),
        epochs: 5,
        callbacks: [cb],
        verbose: 0,
      });
    let err: unknown;
    try {
      run();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as Error).message).toBe('fit: loss became NaN at epoch 3, step 2');
    expect((err as NonFiniteLossError).epoch).toBe(2);
    expect((err as NonFiniteLossError).step).toBe(1);
    // the NaN batch did not update the weights
    expect(Array.from(model.weight.dataSync())).toEqual(before);
  });

  it('an exploding learning rate ends in a NonFiniteLossError', () => {
    manualSeed(5);
    const model = new nn.Linear(3, 1);
    expect(() =>
      fitModel(model, {
        train: reg(),
        loss: F.mseLoss,
        optimizer: new optim.SGD(model.parameters(), { lr: 1e30 }),
        epochs: 3,
        verbose: 0,
      }),
    ).toThrow(/^fit: loss became (NaN|Infinity) at epoch 1, step [2-5]$/);
  });

  it('TerminateOnNaN stops training and records why', () => {
    manualSeed(4);
    const model = new nn.Linear(3, 1);
    const t = new TerminateOnNaN();
    const h = fitModel(model, {
      train: reg(),
      loss: nanAt(7), // epoch index 1, step index 2
      optimizer: new optim.SGD(model.parameters(), { lr: 0.01 }),
      epochs: 5,
      callbacks: [t],
      verbose: 0,
    });
    expect(h.stopReason).toBe('TerminateOnNaN: loss became NaN at epoch 2, step 3');
    expect(t.stoppedAt).toEqual({ epoch: 1, step: 2, value: Number.NaN });
    expect(h.epoch).toEqual([0, 1]);
    expect(h.history.loss![1]).toBeNaN();
    expect(Array.from(model.weight.dataSync()).every(Number.isFinite)).toBe(true);
  });
});

describe('EarlyStopping', () => {
  /** A loss whose value per epoch follows `vals` (val loss is what is monitored here). */
  function scripted(vals: number[]) {
    let epoch = 0;
    const cb: CallbackLike = {
      onEpochEnd: (_e, logs) => {
        logs.val_loss = vals[epoch++]!;
      },
    };
    return cb;
  }

  it('stops after `patience` epochs without improvement and restores the best weights', () => {
    const { train } = loaders();
    manualSeed(6);
    const model = new nn.Linear(2, 2);
    const weightsAt: number[][] = [];
    const es = new EarlyStopping({ patience: 2, restoreBestWeights: true });
    const h = fitModel(model, {
      train,
      loss: F.crossEntropy,
      optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
      epochs: 20,
      callbacks: [
        scripted([1.0, 0.5, 0.6, 0.4, 0.45, 0.41, 0.3]),
        { onEpochEnd: () => void weightsAt.push(Array.from(model.weight.dataSync())) },
        es,
      ],
      verbose: 0,
    });
    // best at epoch index 3 (0.4), then 2 epochs without improvement: stopped after epoch index 5
    expect(h.epoch).toEqual([0, 1, 2, 3, 4, 5]);
    expect(es.bestEpoch).toBe(3);
    expect(es.best).toBe(0.4);
    expect(es.stoppedEpoch).toBe(5);
    expect(h.stopReason).toBe('EarlyStopping: val_loss did not improve for 2 epochs (best 0.4 at epoch 4)');
    expect(Array.from(model.weight.dataSync())).toEqual(weightsAt[3]);
    expect(weightsAt[5]).not.toEqual(weightsAt[3]);
  });

  it('mode max with minDelta; auto picks max for accuracy', () => {
    const model = new nn.Linear(2, 2);
    const opt = new optim.SGD(model.parameters(), { lr: 0 });
    const batches = [[f32([[1, 2]]), tensor([0], { dtype: 'int32' })]];
    const accs = [0.5, 0.6, 0.605, 0.61, 0.7];
    let i = 0;
    const es = new EarlyStopping({ monitor: 'acc', minDelta: 0.05, patience: 1 });
    const h = fitModel(model, {
      train: batches,
      loss: F.crossEntropy,
      optimizer: opt,
      epochs: 5,
      callbacks: [
        {
          onEpochEnd: (_e, logs) => {
            logs.acc = accs[i++]!;
          },
        },
        es,
      ],
      verbose: 0,
    });
    // 0.5 -> 0.6 improves (by > 0.05); 0.605 does not: patience 1 reached after epoch index 2
    expect(h.epoch).toEqual([0, 1, 2]);
    expect(es.best).toBe(0.6);
  });

  it('names the missing monitored value', () => {
    const model = new nn.Linear(2, 2);
    expect(() =>
      fitModel(model, {
        train: [[f32([[1, 2]]), tensor([0], { dtype: 'int32' })]],
        loss: F.crossEntropy,
        optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
        epochs: 2,
        callbacks: [new EarlyStopping()],
        verbose: 0,
      }),
    ).toThrow(
      /EarlyStopping: monitored 'val_loss' is not in the epoch logs \(have: loss, lr\) \(pass val data/,
    );
    expect(() => new EarlyStopping({ patience: -1 })).toThrow(/patience must be a non-negative integer/);
    expect(() => new EarlyStopping({ mode: 'up' as 'min' })).toThrow(
      /EarlyStopping: mode must be 'min', 'max' or 'auto'/,
    );
  });
});

describe('learning-rate schedules', () => {
  const batches = [
    [f32([[1, 2]]), tensor([0], { dtype: 'int32' })],
    [f32([[2, 1]]), tensor([1], { dtype: 'int32' })],
  ];
  const run = (
    extra: Partial<Parameters<typeof fitModel>[1]>,
    make?: (o: optim.SGD) => Partial<Parameters<typeof fitModel>[1]>,
  ) => {
    const model = new nn.Linear(2, 2);
    const optimizer = new optim.SGD(model.parameters(), { lr: 1 });
    return {
      h: fitModel(model, {
        train: batches,
        loss: F.crossEntropy,
        optimizer,
        epochs: 5,
        verbose: 0,
        ...extra,
        ...make?.(optimizer),
      }),
      optimizer,
    };
  };

  it('an epoch scheduler (StepLR) is stepped once per epoch; history.lr is the rate each epoch used', () => {
    const { h, optimizer } = run({}, (o) => ({
      scheduler: new optim.lrScheduler.StepLR(o, { stepSize: 2, gamma: 0.1 }),
    }));
    const lr = h.history.lr!;
    for (const [i, v] of [1, 1, 0.1, 0.1, 0.01].entries()) expect(lr[i]).toBeCloseTo(v, 12);
    expect(optimizer.paramGroups[0]!.lr).toBeCloseTo(0.01, 12); // after 5 steps: epoch 5 -> 1 * 0.1^2
  });

  it('a batch scheduler is stepped after every optimizer step', () => {
    const seen: number[] = [];
    run(
      {
        schedulerInterval: 'batch',
        epochs: 2,
        callbacks: [{ onBatchEnd: (_s, l) => void seen.push(l.lr!) }],
      },
      (o) => ({ scheduler: new optim.lrScheduler.ExponentialLR(o, { gamma: 0.5 }) }),
    );
    expect(seen).toEqual([1, 0.5, 0.25, 0.125]);
  });

  it('OneCycleLR per batch', () => {
    const seen: number[] = [];
    run(
      {
        schedulerInterval: 'batch',
        epochs: 2,
        callbacks: [{ onBatchEnd: (_s, l) => void seen.push(l.lr!) }],
      },
      (o) => ({
        scheduler: new optim.lrScheduler.OneCycleLR(o, { maxLr: 1, totalSteps: 4 }),
      }),
    );
    expect(seen).toHaveLength(4);
    expect(seen[0]).toBeCloseTo(1 / 25, 10); // starts at maxLr / divFactor
    expect(seen[1]!).toBeGreaterThan(seen[0]!); // warms up, then anneals
    expect(seen[3]!).toBeLessThan(seen[1]!);
  });

  it('ReduceLROnPlateau gets the monitored value', () => {
    // a metric that never improves: constant 1, logged as val_flat
    const flat = { name: 'flat', reset() {}, update() {}, compute: () => 1 };
    const plateau = (o: optim.SGD) => ({
      scheduler: new optim.lrScheduler.ReduceLROnPlateau(o, { patience: 1, factor: 0.5 }),
    });
    const { h } = run({ val: batches, schedulerMonitor: 'val_flat', metrics: [flat] }, plateau);
    // best after epoch 0, bad epochs 1, 2 -> reduced after epoch index 2; bad 3, 4 -> reduced again
    expect(h.history.lr).toEqual([1, 1, 1, 0.5, 0.5]);
    expect(() => run({ schedulerMonitor: 'val_flat' }, plateau)).toThrow(
      /fit: the scheduler needs the monitored 'val_flat', which is not in the epoch logs \(have: loss, lr\)/,
    );
  });

  it('LearningRateScheduler callback sets every group at the start of each epoch', () => {
    const { h } = run({ callbacks: [new LearningRateScheduler((epoch, lr) => (epoch === 0 ? lr : lr / 2))] });
    expect(h.history.lr).toEqual([1, 0.5, 0.25, 0.125, 0.0625]);
    expect(() => run({ callbacks: [new LearningRateScheduler(() => Number.NaN)] })).toThrow(
      /LearningRateScheduler: the schedule returned NaN for epoch 0/,
    );
  });
});
