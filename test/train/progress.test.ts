import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  defaultOutputStream,
  fit as fitModel,
  formatEta,
  formatValue,
  manualSeed,
  nn,
  type OutputStream,
  optim,
  ProgressBar,
  randn,
  type Tensor,
  TerminateOnNaN,
} from '../../src/index.js';

const F = nn.functional;

function capture(isTTY: boolean, columns?: number): OutputStream & { text: string } {
  const s = {
    text: '',
    isTTY,
    columns,
    write(t: string) {
      s.text += t;
    },
  };
  return s;
}

/** A clock that advances `stepMs` on every read. */
function fakeClock(stepMs: number) {
  let t = 0;
  return () => (t += stepMs);
}

/** 4 batches of 16 samples for a 3-class problem. */
function batches(): [Tensor, Tensor][] {
  manualSeed(0);
  return Array.from({ length: 4 }, () => {
    const x = randn([16, 4]);
    return [x, x.narrow(1, 0, 3).argmax(1)];
  });
}

function train(bar: ProgressBar | undefined, extra: Partial<Parameters<typeof fitModel>[1]> = {}) {
  manualSeed(1);
  const model = new nn.Linear(4, 3);
  const data = batches();
  return fitModel(model, {
    train: data,
    val: data.slice(0, 1),
    loss: F.crossEntropy,
    optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
    epochs: 2,
    metrics: ['accuracy'],
    callbacks: bar ? [bar] : [],
    ...extra,
  });
}

const NUM = '-?\\d+\\.\\d{4}';

describe('ProgressBar', () => {
  it('off a terminal: one plain line per epoch, no carriage returns', () => {
    const out = capture(false);
    train(new ProgressBar({ stream: out, now: fakeClock(1000) }));
    expect(out.text).not.toContain('\r');
    const lines = out.text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    // clock: epoch begins at 1000, 4 batches, epoch ends at 6000 -> 5 s, 64 samples -> 13 samples/s
    const re = new RegExp(
      `^Epoch 1/2  4/4 - loss: ${NUM} - accuracy: ${NUM} - val_loss: ${NUM} - val_accuracy: ${NUM} - 13 samples/s - 5\\.00s$`,
    );
    expect(lines[0]).toMatch(re);
    expect(lines[1]).toMatch(/^Epoch 2\/2 {2}4\/4 - loss: /);
  });

  it('off a terminal with lineEvery: an extra line every N steps', () => {
    const out = capture(false);
    train(new ProgressBar({ stream: out, lineEvery: 2, now: fakeClock(1000) }));
    const lines = out.text.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    // step 2 of 4 at t=3000 (2 s after the start): 32 samples -> 16 samples/s, ETA 2 s
    expect(lines[0]).toMatch(
      new RegExp(`^Epoch 1/2  2/4 - loss: ${NUM} - accuracy: ${NUM} - 16 samples/s - ETA 2s$`),
    );
    expect(lines[1]).toMatch(/^Epoch 1\/2 {2}4\/4 - loss: .* - val_loss: .* - 5\.00s$/);
    expect(lines[2]).toMatch(/^Epoch 2\/2 {2}2\/4 - /);
  });

  it('on a terminal: redraws in place with \\r, a bar and an ETA, one finished line per epoch', () => {
    const out = capture(true);
    train(new ProgressBar({ stream: out, width: 10, now: fakeClock(1000) }));
    const epochs = out.text.split('\n');
    expect(epochs).toHaveLength(3); // two finished lines and the empty rest
    const frames = epochs[0]!.split('\r').slice(1);
    expect(frames).toHaveLength(5); // 4 batches + the final frame
    expect(frames[0]).toMatch(
      new RegExp(
        `^Epoch 1/2  1/4 \\[=>        \\] - loss: ${NUM} - accuracy: ${NUM} - 16 samples/s - ETA 3s`,
      ),
    );
    expect(frames[1]).toMatch(/^Epoch 1\/2 {2}2\/4 \[====> {5}\] - .* - ETA 2s/);
    expect(frames[4]).toMatch(
      /^Epoch 1\/2 {2}4\/4 \[==========\] - loss: .* - val_accuracy: .* - 13 samples\/s - 5\.00s/,
    );
  });

  it('on a terminal: cuts redrawn lines to the terminal width', () => {
    const s = capture(true, 40);
    train(new ProgressBar({ stream: s, now: fakeClock(1000) }));
    const frames = s.text.split('\n')[0]!.split('\r').slice(1);
    for (const f of frames) expect(f.length).toBeLessThanOrEqual(39);
    expect(frames[0]).toBe('Epoch 1/2  1/4 [======>                ');
  });

  it('on a terminal: throttles redraws', () => {
    const out = capture(true);
    train(new ProgressBar({ stream: out, throttleMs: 100, now: fakeClock(40) }));
    const frames = out.text.split('\n')[0]!.split('\r').slice(1);
    // batches end at t=80 (drawn), 120, 160 (skipped), 200 (drawn); then the final frame
    expect(frames).toHaveLength(3);
  });

  it('verbose 2 prints one summary line per epoch, even on a terminal', () => {
    const out = capture(true);
    train(undefined, { verbose: 2, progress: { stream: out, now: fakeClock(1000) } });
    expect(out.text).not.toContain('\r');
    const lines = out.text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^Epoch 1/2 - loss: ${NUM} - accuracy: ${NUM} - val_loss: `));
  });

  it('verbose 1 adds a default bar; verbose 0 prints nothing', () => {
    const out = capture(false);
    train(undefined, { verbose: 1, progress: { stream: out } });
    expect(out.text.trimEnd().split('\n')).toHaveLength(2);
    const quiet = capture(false);
    train(undefined, { verbose: 0, progress: { stream: quiet } });
    expect(quiet.text).toBe('');
  });

  it('prints why training stopped, and ends a half-drawn line when fit throws', () => {
    const out = capture(false);
    let calls = 0;
    const nanAt3 = (o: Tensor, t: Tensor) => (calls++ === 2 ? o.sum().mul(Number.NaN) : F.crossEntropy(o, t));
    train(undefined, { loss: nanAt3, callbacks: [new TerminateOnNaN(), new ProgressBar({ stream: out })] });
    expect(out.text).toContain('loss: NaN');
    expect(out.text.trimEnd().split('\n').at(-1)).toBe(
      'Training stopped: TerminateOnNaN: loss became NaN at epoch 1, step 3',
    );
    const tty = capture(true);
    calls = 0;
    expect(() => train(new ProgressBar({ stream: tty, throttleMs: 0 }), { loss: nanAt3 })).toThrow(
      /epoch 1, step 3/,
    );
    expect(tty.text.endsWith('\n')).toBe(true);
    expect(tty.text.split('\r')).toHaveLength(3); // two batches drawn before the failing one
  });
});

describe('formatting helpers', () => {
  it('formatValue uses 4 decimals or exponent form', () => {
    expect(formatValue(0.123456)).toBe('0.1235');
    expect(formatValue(0)).toBe('0.0000');
    expect(formatValue(1.5e-5)).toBe('1.5000e-5');
    expect(formatValue(123456)).toBe('1.2346e+5');
    expect(formatValue(Number.NaN)).toBe('NaN');
  });

  it('formatEta', () => {
    expect(formatEta(1.6)).toBe('2s');
    expect(formatEta(65)).toBe('1:05');
    expect(formatEta(3723)).toBe('1:02:03');
  });
});

describe('defaultOutputStream', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  it('is process.stdout under Node', () => {
    expect(defaultOutputStream()).toBe(process.stdout);
  });

  it('falls back to console.log of whole lines without process', () => {
    vi.stubGlobal('process', undefined);
    const s = defaultOutputStream();
    vi.unstubAllGlobals();
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(s.isTTY).toBe(false);
    s.write('Epoch 1/2 - loss');
    expect(log).not.toHaveBeenCalled();
    s.write(': 1\nEpoch 2/2\rEpoch 2/2 done\n');
    expect(log.mock.calls).toEqual([['Epoch 1/2 - loss: 1'], ['Epoch 2/2 done']]);
  });
});
