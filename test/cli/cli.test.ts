import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, checkpointName, loadModel, runCli } from '../../src/cli/index.js';
import { encodeGrayPng } from '../../src/cli/png.js';
import { getBackend, loadMnist, loadSafetensors, setBackend } from '../../src/node/index.js';

/** Output streams that record what was written. */
function capture(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s), isTTY: false },
    stderr: { write: (s: string) => (err += s) },
    out: () => out,
    err: () => err,
  };
}

async function run(args: string[]) {
  const io = capture();
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

/** A usage or runtime error: non-zero exit, one line on stderr matching `re`, no stack trace. */
function expectOneLineError(r: { code: number; err: string }, re: RegExp, code: number): void {
  expect(r.code).toBe(code);
  expect(r.err).toMatch(re);
  expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  expect(r.err).not.toMatch(/^\s+at /m);
}

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'neurite-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('neurite CLI: argument validation', () => {
  it.each([
    [
      ['train', 'mnist', '--epochs', '-1'],
      /option '--epochs <n>' argument '-1' is invalid.*positive integer/,
    ],
    [['train', 'mnist', '--epochs', '0'], /'--epochs <n>' argument '0' is invalid/],
    [['train', 'mnist', '--epochs', '2.5'], /'--epochs <n>' argument '2.5' is invalid/],
    [['train', 'mnist', '--batch-size', 'ten'], /'--batch-size <n>' argument 'ten' is invalid/],
    [
      ['train', 'mnist', '--batch-size', '0'],
      /option '--batch-size <n>' argument '0' is invalid.*positive integer/,
    ],
    [['train', 'mnist', '--lr', 'abc'], /option '--lr <x>' argument 'abc' is invalid.*greater than 0/],
    [['--backend', 'gpu', 'train', 'mnist'], /option '--backend <name>' argument 'gpu' is invalid/],
    [['train', 'mnist', '--lr', '-0.1'], /'--lr <x>' argument '-0.1' is invalid/],
    [['train', 'mnist', '--lr', 'Infinity'], /'--lr <x>' argument 'Infinity' is invalid/],
    [['train', 'mnist', '--seed', '-3'], /'--seed <n>' argument '-3' is invalid/],
    [
      ['train', 'mnist', '--optimizer', 'lbfgs'],
      /argument 'lbfgs' is invalid.*adam, sgd, adamw, rmsprop, adagrad/,
    ],
    [['train', 'mnist', '--epochs'], /'--epochs <n>' argument missing/],
    [['train', 'mnist', '--bogus'], /unknown option '--bogus'/],
    [['train', 'cifar10'], /'cifar10' is invalid for argument 'dataset'.*mnist/],
    [['train'], /missing required argument 'dataset'/],
    [['fly'], /unknown command 'fly'/],
    [['eval'], /missing required argument 'model'/],
    [['predict', 'model.safetensors'], /missing required argument 'image'/],
  ])('%j is a usage error', async (args, re) => {
    const r = await run(args);
    expectOneLineError(r, re, 2);
    expect(r.out).toBe('');
  });

  it('without a command prints the usage on stderr and fails', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^Usage: neurite/);
    expect(r.err).toMatch(/train \[options\] <dataset>/);
  });

  it('prints help on --help and exits 0', async () => {
    const r = await run(['train', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--epochs <n>/);
    expect(r.out).toMatch(/--optimizer <name>/);
    expect(r.out).not.toMatch(/--limit/); // hidden flag
  });
});

describe('neurite CLI: backend', () => {
  it('runs on the backend --backend names (wasm by default)', async () => {
    const model = join(dir, 'missing.safetensors');
    await run(['--backend', 'cpu', 'eval', model]);
    expect(getBackend().name).toBe('cpu');
    await run(['eval', model]);
    expect(getBackend().name).toBe('wasm');
    const info = await run(['info']);
    expect(info.code).toBe(0);
    expect(info.out).toMatch(/^Backend: wasm \(SIMD(, relaxed FMA)?, \d+ threads?\)$/m);
    expect((await run(['--backend', 'cpu', 'info'])).out).toMatch(/^Backend: cpu$/m);
    setBackend(process.env.NEURITE_BACKEND ?? 'cpu');
  });
});

describe('neurite CLI: missing and invalid files', () => {
  it('eval with a missing model file', async () => {
    const r = await run(['eval', join(dir, 'nope.safetensors')]);
    expectOneLineError(r, /^error: model file not found: .*nope\.safetensors$/m, 1);
  });

  it('eval with a file that is not a safetensors model', async () => {
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, 'definitely not safetensors');
    const r = await run(['eval', bad]);
    expectOneLineError(r, /^error: cannot read model .*bad\.safetensors/m, 1);
  });

  it('predict with a missing model file', async () => {
    const r = await run(['predict', join(dir, 'nope.safetensors'), join(dir, 'x.png')]);
    expectOneLineError(r, /model file not found/, 1);
  });

  it('resume from a missing checkpoint', async () => {
    const r = await run(['train', 'mnist', '--resume', join(dir, 'none.safetensors'), '--out', dir]);
    expectOneLineError(r, /checkpoint not found/, 1);
  });
});

describe('neurite CLI: train, eval, predict, resume', () => {
  let out: string;
  let trainOut: string;

  beforeAll(async () => {
    out = join(dir, 'run');
    const r = await run([
      'train',
      'mnist',
      '--epochs',
      '2',
      '--limit',
      '1000',
      '--test-limit',
      '300',
      '--batch-size',
      '32',
      '--lr',
      '0.005',
      '--out',
      out,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    trainOut = r.out;
  }, 120_000);

  it('train reports progress, accuracy and a confusion matrix and writes model, config and checkpoints', () => {
    expect(trainOut).toMatch(
      /Training the MNIST CNN on 1000 digits \(300 held out\): 2 epochs, batch size 32, adam/,
    );
    expect(trainOut).toMatch(/Epoch 1\/2/);
    expect(trainOut).toMatch(/Epoch 2\/2/);
    const acc = Number(/Test accuracy: ([\d.]+)% \((\d+)\/300\)/.exec(trainOut)![1]);
    expect(acc).toBeGreaterThan(80);
    expect(trainOut).toMatch(/true \\ pred/);
    const model = loadSafetensors(join(out, 'model.safetensors'));
    // PyTorch key names
    expect([...model.tensors.keys()]).toEqual(
      expect.arrayContaining([
        'features.0.weight',
        'features.0.bias',
        'features.1.weight',
        'features.1.running_mean',
        'features.1.running_var',
        'features.4.weight',
        'classifier.2.weight',
        'classifier.4.bias',
      ]),
    );
    expect(model.tensors.get('features.0.weight')!.shape).toEqual([16, 1, 5, 5]);
    expect(model.metadata?.['neurite.architecture']).toBe('mnist-cnn');
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.architecture).toBe('mnist-cnn');
    expect(config.config.channels).toEqual([16, 32]);
    expect(config.training.testAccuracy).toBeCloseTo(acc / 100, 4);
    for (const e of [1, 2]) expect(() => readFileSync(join(out, checkpointName(e)))).not.toThrow();
  });

  it('eval prints the accuracy and a 10x10 confusion matrix', async () => {
    const r = await run(['eval', join(out, 'model.safetensors'), '--limit', '300']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Test accuracy: [\d.]+% \(\d+\/300\)/);
    const table = r.out.slice(r.out.indexOf('true \\ pred')).trimEnd().split('\n');
    expect(table).toHaveLength(11);
    expect(table[0]!.trim().split(/\s+/).slice(-10)).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
    ]);
    // the counts add up to the number of digits
    const total = table
      .slice(1)
      .flatMap((row) => row.trim().split(/\s+/).slice(1).map(Number))
      .reduce((a, b) => a + b, 0);
    expect(total).toBe(300);
    // same numbers as at the end of training
    expect(/Test accuracy: ([\d.]+%)/.exec(r.out)![1]).toBe(/Test accuracy: ([\d.]+%)/.exec(trainOut)![1]);
  });

  it('predict classifies PNGs written from MNIST test digits, in both polarities and other sizes', async () => {
    const test = loadMnist({ split: 'test' });
    const model = loadModel(join(out, 'model.safetensors'));
    const labels = test.labels.dataSync();
    let right = 0;
    let agree = 0;
    const n = 12;
    for (let i = 0; i < n; i++) {
      const digit = test.images.narrow(0, i, 1);
      const pixels = digit.dataSync();
      const png = join(dir, `digit-${i}.png`);
      writeFileSync(png, encodeGrayPng(pixels, 28, 28));
      const r = await run(['predict', join(out, 'model.safetensors'), png, '--json']);
      expect(r.code).toBe(0);
      const res = JSON.parse(r.out) as { digit: number; probabilities: number[]; inverted: boolean };
      expect(res.inverted).toBe(false);
      expect(res.probabilities).toHaveLength(10);
      expect(res.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      // the PNG round trip (8-bit pixels) gives the model's own prediction on the tensor
      const direct = model.forward(digit).argmax(1).item();
      if (direct === res.digit) agree++;
      if (res.digit === labels[i]) right++;
      // dark digit on a light background, upscaled to 56x56: inverted and resized back
      const big = new Float32Array(56 * 56);
      for (let y = 0; y < 56; y++)
        for (let x = 0; x < 56; x++) big[y * 56 + x] = 1 - pixels[(y >> 1) * 28 + (x >> 1)]!;
      const png2 = join(dir, `digit-${i}-inverted.png`);
      writeFileSync(png2, encodeGrayPng(big, 56, 56));
      const r2 = await run(['predict', join(out, 'model.safetensors'), png2, '--json']);
      const res2 = JSON.parse(r2.out) as { digit: number; inverted: boolean };
      expect(res2.inverted).toBe(true);
      expect(res2.digit).toBe(res.digit);
    }
    expect(agree).toBe(n);
    expect(right).toBeGreaterThanOrEqual(n - 2);
  });

  it('predict reads an RGB PNG (dark blue ink on a light yellow background) like the gray digit', async () => {
    const test = loadMnist({ split: 'test' });
    const model = join(out, 'model.safetensors');
    for (let i = 0; i < 4; i++) {
      const pixels = test.images.narrow(0, i, 1).dataSync();
      const gray = join(dir, `rgb-ref-${i}.png`);
      writeFileSync(gray, encodeGrayPng(pixels, 28, 28));
      const png = new PNG({ width: 28, height: 28 });
      pixels.forEach((v, k) => {
        // background (250, 240, 180) blended towards ink (20, 30, 120) by the digit's intensity
        png.data.set([250 - 230 * v, 240 - 210 * v, 180 - 60 * v, 255].map(Math.round), 4 * k);
      });
      const rgb = join(dir, `rgb-${i}.png`);
      writeFileSync(rgb, PNG.sync.write(png, { colorType: 2 }));
      const r = await run(['predict', model, rgb, '--json']);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const res = JSON.parse(r.out) as { digit: number; inverted: boolean };
      expect(res.inverted).toBe(true);
      const ref = JSON.parse((await run(['predict', model, gray, '--json'])).out) as { digit: number };
      expect(res.digit).toBe(ref.digit);
    }
  });

  it('predict prints the digit and the class probabilities as text', async () => {
    const test = loadMnist({ split: 'test' });
    const png = join(dir, 'one.png');
    writeFileSync(png, encodeGrayPng(test.images.narrow(0, 0, 1).dataSync(), 28, 28));
    const r = await run(['predict', join(out, 'model.safetensors'), png]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Predicted digit: \d \(probability [\d.]+\)$/m);
    for (let d = 0; d < 10; d++) expect(r.out).toMatch(new RegExp(`^  ${d}: [\\d.]+`, 'm'));
  });

  it('predict rejects a missing image, a non-PNG file and a corrupt PNG with one line', async () => {
    const model = join(out, 'model.safetensors');
    expectOneLineError(await run(['predict', model, join(dir, 'missing.png')]), /image file not found/, 1);
    const txt = join(dir, 'notes.png');
    writeFileSync(txt, 'hello, not an image');
    expectOneLineError(await run(['predict', model, txt]), /notes\.png is not a PNG image/, 1);
    const corrupt = join(dir, 'corrupt.png');
    writeFileSync(
      corrupt,
      Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(40, 7)]),
    );
    expectOneLineError(await run(['predict', model, corrupt]), /could not decode PNG .*corrupt\.png/, 1);
    expectOneLineError(await run(['predict', model, dir]), /image path is a directory/, 1);
  });

  it('resuming from the epoch-1 checkpoint reproduces the uninterrupted run exactly', async () => {
    const flags = ['--epochs', '2', '--limit', '96', '--test-limit', '20', '--batch-size', '32'];
    const full = join(dir, 'full');
    expect((await run(['train', 'mnist', ...flags, '--out', full])).code).toBe(0);
    const resumed = join(dir, 'resumed');
    mkdirSync(resumed);
    copyFileSync(join(full, checkpointName(1)), join(resumed, checkpointName(1)));
    const r = await run(['train', 'mnist', '--resume', resumed, '--test-limit', '20', '--out', resumed]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Resuming from .*checkpoint-epoch-001\.safetensors \(epoch 1 of 2\)/);
    expect(r.out).toMatch(/Epoch 2\/2/);
    expect(r.out).not.toMatch(/Epoch 1\/2/);
    const a = loadSafetensors(join(full, 'model.safetensors')).tensors;
    const b = loadSafetensors(join(resumed, 'model.safetensors')).tensors;
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, t] of a) expect(Array.from(b.get(k)!.dataSync()), k).toEqual(Array.from(t.dataSync()));
    // the epoch-2 checkpoints agree too, and resuming a finished run trains nothing
    const again = await run([
      'train',
      'mnist',
      '--resume',
      full,
      '--test-limit',
      '20',
      '--out',
      join(dir, 'again'),
    ]);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/already has 2 epochs; nothing to train/);
  });

  it('refuses to resume with settings that contradict the checkpoint', async () => {
    const r = await run([
      'train',
      'mnist',
      '--resume',
      join(out, checkpointName(1)),
      '--optimizer',
      'sgd',
      '--out',
      dir,
    ]);
    expectOneLineError(r, /cannot resume .* with --optimizer sgd: it was trained with adam/, 1);
  });
});

describe('neurite CLI: spawned process', () => {
  it('runs via tsx: a usage error and a runtime error give one stderr line and an exit code', async () => {
    const exec = promisify(execFile);
    const main = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
    const tsx = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'tsx');
    const usage = await exec(tsx, [main, 'train', 'mnist', '--epochs', '-1']).then(
      () => null,
      (e: { code: number; stderr: string; stdout: string }) => e,
    );
    expect(usage?.code).toBe(2);
    expect(usage?.stderr.trim()).toBe(
      "error: option '--epochs <n>' argument '-1' is invalid. expected a positive integer.",
    );
    const missing = await exec(tsx, [main, 'eval', join(dir, 'absent.safetensors')]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(missing?.code).toBe(1);
    expect(missing?.stderr.trim()).toMatch(/^error: model file not found: .*absent\.safetensors$/);
  }, 60_000);

  it('turns on relaxed SIMD at start-up: `info` reports the relaxed FMA build (plain with NEURITE_WASM_RELAXED=0)', async () => {
    const exec = promisify(execFile);
    const main = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
    const tsx = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'tsx');
    const env = (relaxed?: string) => {
      const e = { ...process.env };
      delete e.NEURITE_WASM_RELAXED;
      return relaxed === undefined ? e : { ...e, NEURITE_WASM_RELAXED: relaxed };
    };
    const [on, off] = await Promise.all([
      exec(tsx, [main, 'info'], { env: env() }),
      exec(tsx, [main, 'info'], { env: env('0') }),
    ]);
    expect(on.stdout).toMatch(/^Backend: wasm \(SIMD, relaxed FMA, \d+ threads?\)$/m);
    expect(off.stdout).toMatch(/^Backend: wasm \(SIMD, \d+ threads?\)$/m);
    expect(on.stderr).toBe('');
  }, 60_000);
});
