import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  defaultGenerator,
  FileError,
  Generator,
  io,
  loadCheckpoint,
  loadSafetensors,
  manualSeed,
  nn,
  optim,
  randn,
  ShapeError,
  saveCheckpoint,
  saveSafetensors,
  type Tensor,
  tensor,
  ValueError,
  writeFileAtomic,
} from '../../src/node/index.js';

const root = fs.mkdtempSync(join(tmpdir(), 'neurite-io-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

let dir = '';
let n = 0;
beforeEach(() => {
  dir = join(root, `case${n++}`);
  fs.mkdirSync(dir);
});
afterEach(() => vi.restoreAllMocks());

const files = (): string[] => fs.readdirSync(dir).sort();

function sameState(a: Map<string, Tensor>, b: Map<string, Tensor>): void {
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  for (const [k, t] of a) {
    const u = b.get(k)!;
    expect(u.dtype, k).toBe(t.dtype);
    expect(u.shape, k).toEqual(t.shape);
    const x = t.contiguous().dataSync();
    const y = u.contiguous().dataSync();
    expect(
      Buffer.from(y.buffer, y.byteOffset, y.byteLength).equals(
        Buffer.from(x.buffer, x.byteOffset, x.byteLength),
      ),
      k,
    ).toBe(true);
  }
}

describe('saveSafetensors / loadSafetensors', () => {
  it('round-trips a Map, a plain object and a module, leaving no temporary file', () => {
    const path = join(dir, 'w.safetensors');
    const state = new Map<string, Tensor>([
      ['a', randn([3, 2]).t()],
      ['b', tensor([1, 2, 3], { dtype: 'int32' })],
    ]);
    saveSafetensors(path, state, { k: 'v' });
    const loaded = loadSafetensors(path);
    sameState(state, loaded.tensors);
    expect(loaded.metadata).toEqual({ k: 'v' });
    expect(files()).toEqual(['w.safetensors']);

    saveSafetensors(path, { x: tensor([true]) });
    expect(loadSafetensors(path).tensors.get('x')!.toArray()).toEqual([true]);

    const model = new nn.Sequential(new nn.Linear(3, 2), new nn.Linear(2, 1));
    saveSafetensors(path, model);
    sameState(model.stateDict(), loadSafetensors(path).tensors);
    expect(loadSafetensors(path, { dtype: 'float64' }).tensors.get('0.weight')!.dtype).toBe('float64');
    expect(files()).toEqual(['w.safetensors']);
  });

  it('reports a missing file, a directory and a damaged file with the path', () => {
    const missing = join(dir, 'nope.safetensors');
    expect(() => loadSafetensors(missing)).toThrow(FileError);
    expect(() => loadSafetensors(missing)).toThrow(`loadSafetensors: cannot read '${missing}': no such file`);
    try {
      loadSafetensors(missing);
    } catch (e) {
      expect((e as FileError).code).toBe('ENOENT');
      expect((e as FileError).path).toBe(missing);
    }
    expect(() => loadSafetensors(dir)).toThrow(`loadSafetensors: cannot read '${dir}': it is a directory`);

    const bad = join(dir, 'bad.safetensors');
    fs.writeFileSync(bad, new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 0x7b]));
    expect(() => loadSafetensors(bad)).toThrow(io.SafetensorsError);
    expect(() => loadSafetensors(bad)).toThrow(`loadSafetensors '${bad}': header is not valid JSON (`);
    const trunc = join(dir, 'trunc.safetensors');
    fs.writeFileSync(trunc, io.serializeSafetensors({ w: randn([4]) }).subarray(0, 30));
    expect(() => loadSafetensors(trunc)).toThrow(
      /^loadSafetensors '.*trunc\.safetensors': header length \d+ runs past/,
    );
  });
});

describe('atomic writes', () => {
  const old = new Map([['w', tensor([1, 2, 3], { dtype: 'float32' })]]);
  const next = new Map([['w', tensor([9, 9, 9, 9], { dtype: 'float32' })]]);

  function expectOldIntact(path: string): void {
    expect(loadSafetensors(path).tensors.get('w')!.toArray()).toEqual([1, 2, 3]);
    expect(files()).toEqual([path.split('/').pop()]);
  }

  it('leaves the old file when serialization fails (nothing is written)', () => {
    const path = join(dir, 'm.safetensors');
    saveSafetensors(path, old);
    const broken = { w: tensor([1]), bad: 'not a tensor' as unknown as Tensor };
    expect(() => saveSafetensors(path, broken)).toThrow(/value for 'bad' is not a Tensor/);
    expectOldIntact(path);
  });

  it('leaves the old file and no temporary file when fsync fails', () => {
    const path = join(dir, 'm.safetensors');
    saveSafetensors(path, old);
    const seen: string[] = [];
    vi.spyOn(fs, 'fsyncSync').mockImplementation(() => {
      seen.push(...files());
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    });
    let err: unknown;
    try {
      saveSafetensors(path, next);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).code).toBe('EIO');
    expect((err as Error).message).toBe(`saveSafetensors: could not write '${path}': EIO: i/o error, fsync`);
    // The temporary file was there (same directory, pid + random suffix) and has been removed.
    expect(seen.some((f) => new RegExp(`^m\\.safetensors\\.tmp-${process.pid}-[0-9a-f]{12}$`).test(f))).toBe(
      true,
    );
    expectOldIntact(path);
  });

  it('leaves the old file when a write fails half way (disk full)', () => {
    const path = join(dir, 'm.safetensors');
    saveSafetensors(path, old);
    const real = fs.writeSync;
    let calls = 0;
    vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, buf: Uint8Array, off: number, len: number) => {
      calls++;
      if (calls === 1) return real(fd, buf, off, Math.min(len, 10)); // a short write
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }) as typeof fs.writeSync);
    expect(() => saveSafetensors(path, next)).toThrow(/could not write .*ENOSPC/);
    expect(calls).toBe(2);
    expectOldIntact(path);
  });

  it('handles short writes by writing the rest', () => {
    const path = join(dir, 'm.safetensors');
    const real = fs.writeSync;
    vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, buf: Uint8Array, off: number, len: number) =>
      real(fd, buf, off, Math.min(len, 7))) as typeof fs.writeSync);
    saveSafetensors(path, next);
    vi.restoreAllMocks();
    expect(loadSafetensors(path).tensors.get('w')!.toArray()).toEqual([9, 9, 9, 9]);
  });

  it('removes the temporary file when the rename fails (target is a directory)', () => {
    const path = join(dir, 'taken');
    fs.mkdirSync(path);
    fs.writeFileSync(join(path, 'keep'), 'x');
    expect(() => saveSafetensors(path, next)).toThrow(FileError);
    expect(files()).toEqual(['taken']);
    expect(fs.readdirSync(path)).toEqual(['keep']);
  });

  it('fails cleanly when the directory does not exist', () => {
    const path = join(dir, 'missing', 'm.safetensors');
    expect(() => writeFileAtomic(path, new Uint8Array(4))).toThrow(
      /^writeFileAtomic: could not write .*ENOENT/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Checkpoints

function makeModel(): nn.Sequential {
  return new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Dropout(0.25), new nn.Linear(8, 2));
}

interface Run {
  model: nn.Sequential;
  opt: optim.Adam;
  sched: optim.lrScheduler.StepLR;
  data: Generator;
}

function makeRun(seed: number): Run {
  manualSeed(seed);
  const model = makeModel();
  const opt = new optim.Adam(model.parameters(), { lr: 0.01, weightDecay: 1e-3 });
  const sched = new optim.lrScheduler.StepLR(opt, { stepSize: 2, gamma: 0.5 });
  return { model, opt, sched, data: new Generator(seed + 1) };
}

/** One epoch of 3 steps: data from `r.data`, dropout from the default generator. */
function trainEpoch(r: Run): void {
  r.model.train();
  for (let i = 0; i < 3; i++) {
    const x = randn([5, 4], { generator: r.data });
    const y = randn([5, 2], { generator: r.data });
    r.opt.zeroGrad();
    nn.functional.mseLoss(r.model.forward(x) as Tensor, y).backward();
    r.opt.step();
  }
  r.sched.step();
}

describe('saveCheckpoint / loadCheckpoint', () => {
  it('stores model, optimizer and scheduler state, epoch, step, extra and RNG states', () => {
    const path = join(dir, 'ckpt.safetensors');
    const r = makeRun(1);
    trainEpoch(r);
    const named = new Generator(5);
    named.random();
    saveCheckpoint(path, {
      model: r.model,
      optimizer: r.opt,
      scheduler: r.sched,
      epoch: 1,
      step: 3,
      extra: { best: 0.25, worst: Infinity, missing: Number.NaN, tags: ['a'] },
      generators: { data: r.data, named },
    });
    expect(files()).toEqual(['ckpt.safetensors']);

    // The file is plain safetensors with the documented layout.
    const { tensors, metadata } = loadSafetensors(path);
    expect([...tensors.keys()].filter((k) => k.startsWith('model.')).sort()).toEqual([
      'model.0.bias',
      'model.0.weight',
      'model.3.bias',
      'model.3.weight',
    ]);
    // Optimizer state tensors (Adam's two moment buffers, whatever the optimizer calls them).
    const optTensorKeys = Object.entries(r.opt.stateDict().state).flatMap(([i, st]) =>
      Object.entries(st)
        .filter(([, v]) => typeof v !== 'number')
        .map(([name]) => `optimizer.state.${i}.${name}`),
    );
    expect(optTensorKeys.length).toBe(8);
    expect([...tensors.keys()].filter((k) => k.startsWith('optimizer.')).sort()).toEqual(
      optTensorKeys.sort(),
    );
    expect(metadata['neurite.checkpoint']).toBe('1');
    expect(JSON.parse(metadata.epoch!)).toBe(1);
    expect(JSON.parse(metadata.step!)).toBe(3);
    expect(JSON.parse(metadata['rng.default']!)).toEqual(defaultGenerator.getState());
    expect(JSON.parse(metadata['rng.generators']!)).toEqual({
      data: r.data.getState(),
      named: named.getState(),
    });
    const optMeta = JSON.parse(metadata.optimizer!);
    expect(optMeta.paramGroups[0].params).toEqual([0, 1, 2, 3]);
    expect(optMeta.state['0'].step).toBe(3);
    expect(JSON.parse(metadata.scheduler!)).toEqual(JSON.parse(JSON.stringify(r.sched.stateDict())));

    // Load into fresh objects.
    const fresh = makeRun(99);
    const g2 = new Generator(0);
    const data2 = new Generator(0);
    defaultGenerator.manualSeed(12345);
    const info = loadCheckpoint(path, {
      model: fresh.model,
      optimizer: fresh.opt,
      scheduler: fresh.sched,
      generators: { data: data2, named: g2 },
    });
    expect(info.epoch).toBe(1);
    expect(info.step).toBe(3);
    expect(info.extra).toEqual({ best: 0.25, worst: Infinity, missing: Number.NaN, tags: ['a'] });
    sameState(r.model.stateDict(), fresh.model.stateDict());
    expect(fresh.sched.stateDict()).toEqual(r.sched.stateDict());
    expect(fresh.opt.paramGroups[0]!.lr).toBe(r.opt.paramGroups[0]!.lr);
    const so = r.opt.stateDict();
    const sf = fresh.opt.stateDict();
    expect(sf.paramGroups).toEqual(so.paramGroups);
    for (const i of [0, 1, 2, 3]) {
      const tensorsOf = (st: Record<string, Tensor | number>): Map<string, Tensor> =>
        new Map(Object.entries(st).filter((e): e is [string, Tensor] => typeof e[1] !== 'number'));
      const numbersOf = (st: Record<string, Tensor | number>): [string, number][] =>
        Object.entries(st).filter((e): e is [string, number] => typeof e[1] === 'number');
      expect(numbersOf(sf.state[i]!)).toEqual(numbersOf(so.state[i]!));
      sameState(tensorsOf(so.state[i]!), tensorsOf(sf.state[i]!));
    }
    expect(data2.getState()).toEqual(r.data.getState());
    expect(g2.getState()).toEqual(named.getState());
    expect(defaultGenerator.getState()).toEqual(JSON.parse(metadata['rng.default']!));
  });

  it('resumes training exactly: save after N steps, continue M == load into fresh objects, run M (bit for bit)', () => {
    const path = join(dir, 'resume.safetensors');
    const a = makeRun(3);
    trainEpoch(a);
    trainEpoch(a);
    saveCheckpoint(path, {
      model: a.model,
      optimizer: a.opt,
      scheduler: a.sched,
      epoch: 2,
      generators: [a.data],
    });
    trainEpoch(a);
    trainEpoch(a);
    trainEpoch(a);

    const b = makeRun(77); // different initial weights, data stream and default RNG
    defaultGenerator.manualSeed(4242);
    const info = loadCheckpoint(path, {
      model: b.model,
      optimizer: b.opt,
      scheduler: b.sched,
      generators: [b.data],
    });
    expect(info).toEqual({ epoch: 2, step: 0, extra: undefined });
    trainEpoch(b);
    trainEpoch(b);
    trainEpoch(b);

    sameState(a.model.stateDict(), b.model.stateDict());
    expect(b.opt.paramGroups[0]!.lr).toBe(a.opt.paramGroups[0]!.lr);
    expect(b.sched.getLastLr()).toEqual(a.sched.getLastLr());
    expect(b.opt.paramGroups[0]!.lr).toBe(0.01 * 0.5 * 0.5);

    // Sanity: without restoring the default generator, the dropout masks differ and so do the weights.
    const c = makeRun(77);
    loadCheckpoint(path, {
      model: c.model,
      optimizer: c.opt,
      scheduler: c.sched,
      generators: [c.data],
      restoreDefaultGenerator: false,
    });
    trainEpoch(c);
    const wa = a.model.stateDict().get('0.weight')!.toArray();
    expect(c.model.stateDict().get('0.weight')!.toArray()).not.toEqual(wa);
  });

  it('resumes SGD with momentum exactly, in float64', () => {
    const path = join(dir, 'sgd.safetensors');
    const build = (seed: number) => {
      manualSeed(seed);
      const model = new nn.Sequential(
        new nn.Linear(3, 3, { dtype: 'float64' }),
        new nn.Tanh(),
        new nn.Linear(3, 1, { dtype: 'float64' }),
      );
      const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
      return { model, opt };
    };
    const x = randn([6, 3], { dtype: 'float64' });
    const y = randn([6, 1], { dtype: 'float64' });
    const step = (r: ReturnType<typeof build>): void => {
      r.opt.zeroGrad();
      nn.functional.mseLoss(r.model.forward(x) as Tensor, y).backward();
      r.opt.step();
    };
    const a = build(1);
    for (let i = 0; i < 4; i++) step(a);
    saveCheckpoint(path, { model: a.model, optimizer: a.opt, epoch: 0, step: 4 });
    for (let i = 0; i < 5; i++) step(a);
    const b = build(2);
    expect(loadCheckpoint(path, { model: b.model, optimizer: b.opt }).step).toBe(4);
    for (let i = 0; i < 5; i++) step(b);
    sameState(a.model.stateDict(), b.model.stateDict());
  });

  it('refuses what does not fit, naming the file, without changing the model', () => {
    const path = join(dir, 'c.safetensors');
    const r = makeRun(1);
    saveCheckpoint(path, { model: r.model, epoch: 0 });

    const other = makeRun(2);
    const before = other.model.stateDict().get('0.weight')!.toArray();
    expect(() => loadCheckpoint(path, { model: other.model, optimizer: other.opt })).toThrow(
      `loadCheckpoint: the checkpoint has no optimizer state (file '${path}')`,
    );
    expect(() => loadCheckpoint(path, { model: other.model, scheduler: other.sched })).toThrow(
      /loadCheckpoint: the checkpoint has no scheduler state/,
    );
    expect(() => loadCheckpoint(path, { model: other.model, generators: { g: new Generator() } })).toThrow(
      "loadCheckpoint: the checkpoint has no state for generator 'g'",
    );
    expect(other.model.stateDict().get('0.weight')!.toArray()).toEqual(before);

    const wrong = new nn.Sequential(new nn.Linear(4, 7));
    expect(() => loadCheckpoint(path, { model: wrong })).toThrow(ShapeError);
    expect(() => loadCheckpoint(path, { model: wrong })).toThrow(new RegExp(`file '${path}'`));

    // Optimizer over a different number of parameters.
    const path2 = join(dir, 'd.safetensors');
    saveCheckpoint(path2, { model: r.model, optimizer: r.opt, epoch: 0 });
    const small = new nn.Linear(4, 8);
    const host = makeRun(3);
    const smallOpt = new optim.Adam(small.parameters(), { lr: 0.1 });
    expect(() => loadCheckpoint(path2, { model: host.model, optimizer: smallOpt })).toThrow(
      /param group 0 has 4 parameters in the checkpoint but 2 in the given optimizer/,
    );

    // A plain weights file is not a checkpoint.
    const plain = join(dir, 'plain.safetensors');
    saveSafetensors(plain, r.model);
    expect(() => loadCheckpoint(plain, { model: r.model })).toThrow(ValueError);
    expect(() => loadCheckpoint(plain, { model: r.model })).toThrow(/not a Neurite checkpoint/);
    expect(() => loadCheckpoint(join(dir, 'none'), { model: r.model })).toThrow(FileError);
  });

  it('refuses bad values when saving, writing nothing', () => {
    const path = join(dir, 'x.safetensors');
    const r = makeRun(1);
    expect(() => saveCheckpoint(path, { model: r.model, epoch: Number.NaN })).toThrow(
      'saveCheckpoint: epoch must be a finite number, got NaN',
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => saveCheckpoint(path, { model: r.model, epoch: 0, extra: cyclic })).toThrow(
      /^saveCheckpoint: extra is not JSON-serialisable/,
    );
    expect(() => saveCheckpoint(path, { model: r.model, epoch: 0, extra: 10n })).toThrow(
      /^saveCheckpoint: extra is not JSON-serialisable/,
    );
    expect(files()).toEqual([]);
  });

  it('works in memory too (io.serializeCheckpoint / io.deserializeCheckpoint)', () => {
    const r = makeRun(4);
    trainEpoch(r);
    const bytes = io.serializeCheckpoint({
      model: r.model,
      optimizer: r.opt,
      epoch: 5,
      step: 15,
      extra: 'x',
    });
    const f = makeRun(5);
    expect(io.deserializeCheckpoint(bytes, { model: f.model, optimizer: f.opt })).toEqual({
      epoch: 5,
      step: 15,
      extra: 'x',
    });
    sameState(r.model.stateDict(), f.model.stateDict());
  });
});
