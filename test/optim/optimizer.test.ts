import { describe, expect, it } from 'vitest';
import {
  DTypeError,
  manualSeed,
  nn,
  noGrad,
  optim,
  randn,
  ShapeError,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '../../src/index.js';
import { expectClose, fromRef, loadCases, type RefTensor } from '../helpers/reference.js';

type Opt = optim.Optimizer;
type Options = Record<string, unknown>;

/** The optimizers by name, built from (params or groups, options). */
const MAKE: Record<string, (p: never, o: never) => Opt> = {
  SGD: (p, o) => new optim.SGD(p, o),
  Adam: (p, o) => new optim.Adam(p, o),
  AdamW: (p, o) => new optim.AdamW(p, o),
  Adagrad: (p, o) => new optim.Adagrad(p, o),
  RMSprop: (p, o) => new optim.RMSprop(p, o),
};

function make(name: string, params: unknown, options: Options): Opt {
  return MAKE[name]!(params as never, options as never);
}

interface OptCase {
  name: string;
  optimizer: string;
  options: Options;
  groups: { params: number[]; options: Options }[] | null;
  inputs: RefTensor[];
  steps: RefTensor[][];
}

/** loss = sum((x Wᵀ + b - y)²) */
function lossOf(w: Tensor, b: Tensor, x: Tensor, y: Tensor): Tensor {
  return x.matmul(w.t()).add(b).sub(y).square().sum();
}

function build(c: OptCase): { params: Tensor[]; opt: Opt; x: Tensor; y: Tensor } {
  const [w0, b0, xr, yr] = c.inputs;
  const params = [fromRef(w0!, true), fromRef(b0!, true)];
  const groups = c.groups
    ? c.groups.map((g) => ({ params: g.params.map((i) => params[i]!), ...g.options }))
    : params;
  return { params, opt: make(c.optimizer, groups, c.options), x: fromRef(xr!), y: fromRef(yr!) };
}

function trainStep(opt: Opt, params: Tensor[], x: Tensor, y: Tensor): void {
  opt.zeroGrad();
  lossOf(params[0]!, params[1]!, x, y).backward();
  opt.step();
}

const optCases = loadCases<OptCase & { op: string }>('optim').filter((c) => c.op === 'optimizer');

describe('optimizers: PyTorch 1.13 reference trajectories', () => {
  it('has cases for every optimizer', () => {
    expect(new Set(optCases.map((c) => c.optimizer))).toEqual(new Set(Object.keys(MAKE)));
  });
  for (const c of optCases) {
    it(c.name, () => {
      const { params, opt, x, y } = build(c);
      const f32 = c.inputs[0]!.dtype === 'float32';
      c.steps.forEach((expected, k) => {
        trainStep(opt, params, x, y);
        params.forEach((p, i) => {
          expectClose(
            p,
            expected[i]!,
            `${c.name} step ${k + 1} param ${i}`,
            f32 ? 1e-5 : 1e-9,
            f32 ? 1e-4 : 1e-9,
          );
        });
      });
    });
  }
});

describe('Optimizer: step mechanics', () => {
  const setup = (dtype: 'float32' | 'float64' = 'float64') => {
    const w = tensor(
      [
        [0.5, -0.2],
        [0.1, 0.3],
      ],
      { dtype, requiresGrad: true },
    );
    const b = tensor([0.2, -0.4], { dtype, requiresGrad: true });
    return { w, b };
  };

  it('updates parameters in place: same objects, same storage, version bumped', () => {
    const { w, b } = setup();
    const opt = new optim.Adam([w, b], { lr: 0.1 });
    const storage = w.storage;
    const v0 = w.version;
    w.mul(b).sum().backward();
    opt.step();
    expect(opt.paramGroups[0]!.params[0]).toBe(w);
    expect(w.storage).toBe(storage);
    expect(w.version).toBeGreaterThan(v0);
    expect(w.isLeaf).toBe(true);
    expect(w.requiresGrad).toBe(true);
    // one Adam step moves each element by about lr
    expect(w.dataSync()[0]).toBeCloseTo(0.4, 6);
  });

  it('SGD step equals p - lr * grad', () => {
    const { w } = setup();
    const opt = new optim.SGD([w], { lr: 0.5 });
    w.square().sum().backward();
    opt.step();
    expect(Array.from(w.dataSync())).toEqual([0.5 - 0.5, -0.2 + 0.2, 0.1 - 0.1, 0.3 - 0.3]);
  });

  it('SGD without momentum matches a plain loop (float32/float64, odd lengths, maximize, weight decay)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const round = dtype === 'float32' ? Math.fround : (v: number) => v;
      for (const n of [1, 7, 8, 13, 37]) {
        for (const [maximize, weightDecay] of [
          [false, 0],
          [true, 0],
          [false, 0.1],
          [true, 0.3],
        ] as const) {
          const p = randn([n], { dtype }).requiresGrad_();
          const g = randn([n], { dtype });
          const p0 = Array.from(p.dataSync());
          const gd = Array.from(g.dataSync());
          p.grad = g;
          new optim.SGD([p], { lr: 0.37, maximize, weightDecay }).step();
          const sign = maximize ? -1 : 1;
          const want = p0.map((v, i) =>
            round(v - 0.37 * (sign * gd[i]! + (weightDecay ? weightDecay * v : 0))),
          );
          expect(Array.from(p.dataSync())).toEqual(want);
        }
      }
    }
  });

  it('SGD with momentum (float32) matches a plain loop with float32 rounding of the buffer', () => {
    const f = Math.fround;
    for (const [momentum, dampening, nesterov, weightDecay, maximize] of [
      [0.9, 0, false, 0, false],
      [0.9, 0, true, 0.1, false],
      [0.5, 0.3, false, 0.2, true],
    ] as const) {
      const n = 9;
      const lr = 0.05;
      const p = randn([n]).requiresGrad_();
      const opt = new optim.SGD([p], { lr, momentum, dampening, nesterov, weightDecay, maximize });
      const pw = Array.from(p.dataSync());
      const buf = new Array<number>(n).fill(0);
      for (let step = 1; step <= 3; step++) {
        const g = randn([n]);
        const gd = Array.from(g.dataSync());
        p.grad = g;
        opt.step();
        for (let i = 0; i < n; i++) {
          const d = (maximize ? -gd[i]! : gd[i]!) + weightDecay * pw[i]!;
          buf[i] = f(step === 1 ? d : buf[i]! * momentum + (1 - dampening) * d);
          pw[i] = f(pw[i]! - lr * (nesterov ? d + momentum * buf[i]! : buf[i]!));
        }
        expect(Array.from(p.dataSync())).toEqual(pw);
      }
    }
  });

  it('Adam/AdamW float32 steps match a plain loop with float32 rounding of the stored values', () => {
    const f = Math.fround;
    for (const [decoupled, weightDecay, maximize] of [
      [false, 0, false],
      [false, 0.1, true],
      [true, 0.05, false],
    ] as const) {
      const n = 11;
      const p = randn([n]).requiresGrad_();
      const opt = decoupled
        ? new optim.AdamW([p], { lr: 0.01, weightDecay, maximize })
        : new optim.Adam([p], { lr: 0.01, weightDecay, maximize });
      const pw = Array.from(p.dataSync());
      const m = new Array<number>(n).fill(0);
      const v = new Array<number>(n).fill(0);
      const [b1, b2, eps, lr] = [0.9, 0.999, 1e-8, 0.01];
      for (let step = 1; step <= 3; step++) {
        const g = randn([n]);
        const gd = Array.from(g.dataSync());
        p.grad = g;
        opt.step();
        const bc2sqrt = Math.sqrt(1 - b2 ** step);
        const stepSize = lr / (1 - b1 ** step);
        for (let i = 0; i < n; i++) {
          const p0 = decoupled ? pw[i]! * (1 - lr * weightDecay) : pw[i]!;
          const gi = (maximize ? -gd[i]! : gd[i]!) + (decoupled ? 0 : weightDecay * pw[i]!);
          m[i] = f(m[i]! * b1 + (1 - b1) * gi);
          v[i] = f(v[i]! * b2 + (1 - b2) * gi * gi);
          pw[i] = f(p0 - stepSize * (m[i]! / (Math.sqrt(v[i]!) / bc2sqrt + eps)));
        }
        expect(Array.from(p.dataSync())).toEqual(pw);
      }
    }
  });

  it('skips parameters whose grad is null and creates no state for them', () => {
    const { w, b } = setup();
    const opt = new optim.SGD([w, b], { lr: 0.1, momentum: 0.9 });
    w.sum().backward();
    const before = Array.from(b.dataSync());
    const vb = b.version;
    opt.step();
    expect(Array.from(b.dataSync())).toEqual(before);
    expect(b.version).toBe(vb);
    expect(opt.state.has(b)).toBe(false);
    expect(opt.state.has(w)).toBe(true);
    for (const O of [optim.Adam, optim.AdamW, optim.RMSprop]) {
      const o = new O([w, b]);
      o.step();
      expect(Array.from(b.dataSync())).toEqual(before);
      expect(o.state.has(b)).toBe(false);
    }
  });

  it('zeroGrad sets gradients to null, or zeroes them in place with setToNone: false', () => {
    const { w, b } = setup();
    const opt = new optim.SGD([w, b], { lr: 0.1 });
    w.mul(b).sum().backward();
    const g = w.grad!;
    opt.zeroGrad({ setToNone: false });
    expect(w.grad).toBe(g);
    expect(Array.from(g.dataSync())).toEqual([0, 0, 0, 0]);
    opt.zeroGrad();
    expect(w.grad).toBeNull();
    expect(b.grad).toBeNull();
  });

  it('zeroGrad with setToNone: false detaches a gradient that is part of a graph', () => {
    const { w } = setup();
    const opt = new optim.SGD([w], { lr: 0.1 });
    w.grad = w.mul(2);
    expect(w.grad.requiresGrad).toBe(true);
    opt.zeroGrad({ setToNone: false });
    expect(w.grad!.requiresGrad).toBe(false);
    expect(w.grad!.gradFn).toBeNull();
    expect(Array.from(w.grad!.dataSync())).toEqual([0, 0, 0, 0]);
  });

  it('step(closure) evaluates the closure with grad on and returns its loss', () => {
    const { w } = setup();
    const opt = new optim.SGD([w], { lr: 0.1 });
    const loss = noGrad(() =>
      opt.step(() => {
        opt.zeroGrad();
        const l = w.square().sum();
        l.backward();
        return l;
      }),
    ) as Tensor;
    expect(loss.item()).toBeCloseTo(0.39, 12);
    expect(w.dataSync()[0]).toBeCloseTo(0.5 - 0.1 * 1.0, 12);
    expect(opt.step()).toBeUndefined();
  });

  it('updates non-contiguous and offset parameters like contiguous ones', () => {
    const data = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    const run = (p: Tensor): number[] => {
      p.requiresGrad_();
      const opt = new optim.Adam([p], { lr: 0.1, weightDecay: 0.1 });
      for (let i = 0; i < 3; i++) {
        opt.zeroGrad();
        p.mul(p)
          .mul(tensor([1, 2, 3], { dtype: 'float64' }))
          .sum()
          .backward();
        opt.step();
      }
      return Array.from(p.dataSync());
    };
    const ref = run(tensor(data, { dtype: 'float64' }));
    const transposed = tensor(data, { dtype: 'float64' }).t().contiguous().t().detach();
    expect(transposed.isContiguous()).toBe(false);
    const v0 = transposed.version;
    expect(run(transposed)).toEqual(ref);
    expect(transposed.version).toBeGreaterThan(v0);
    const big = tensor([0, 0, 0, ...data.flat()], { dtype: 'float64' });
    const sliced = big.narrow(0, 3, 6).view(2, 3).detach();
    expect(sliced.offset).toBe(3);
    expect(run(sliced)).toEqual(ref);
    expect(Array.from(big.dataSync()).slice(3)).toEqual(ref);
  });

  it('works with nn.Module parameters', () => {
    manualSeed(0);
    const model = new nn.Linear(4, 2);
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const x = randn([8, 4]);
    const first = model.forward(x).square().mean().item();
    for (let i = 0; i < 20; i++) {
      opt.zeroGrad();
      model.forward(x).square().mean().backward();
      opt.step();
    }
    expect(model.forward(x).square().mean().item()).toBeLessThan(first * 0.1);
    expect(model.weight).toBe(opt.paramGroups[0]!.params[0]);
  });

  it('Adam on a ~100k-parameter MLP: optimizer step takes well under a few ms', () => {
    manualSeed(1);
    const model = new nn.Sequential(new nn.Linear(256, 256), new nn.ReLU(), new nn.Linear(256, 128));
    const params = model.parameters();
    const n = params.reduce((s, p) => s + p.numel(), 0);
    expect(n).toBeGreaterThan(90_000);
    for (const p of params) p.grad = randn(p.shape as number[]);
    const opt = new optim.Adam(params, { lr: 1e-3, weightDecay: 1e-4 });
    for (let i = 0; i < 20; i++) opt.step(); // warm-up (JIT)
    // best of several batches, so that a busy machine does not make the test flaky
    let ms = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      for (let i = 0; i < 10; i++) opt.step();
      ms = Math.min(ms, (performance.now() - t0) / 10);
    }
    console.log(`Adam step on ${n} float32 params: ${ms.toFixed(3)} ms`);
    expect(ms).toBeLessThan(10);
  });
});

describe('Optimizer: parameter groups', () => {
  const p = () => zeros([2], { dtype: 'float64' }).requiresGrad_();

  it('groups inherit the defaults and keep their own options', () => {
    const a = p();
    const b = p();
    const opt = new optim.SGD([{ params: [a], lr: 0.5 }, { params: b }], { lr: 0.1, momentum: 0.9 });
    expect(opt.paramGroups.length).toBe(2);
    expect(opt.paramGroups[0]!.lr).toBe(0.5);
    expect(opt.paramGroups[1]!.lr).toBe(0.1);
    expect(opt.paramGroups[0]!.momentum).toBe(0.9);
    expect(opt.paramGroups[1]!.params).toEqual([b]);
    const c = p();
    opt.addParamGroup({ params: [c], weightDecay: 0.01 });
    expect(opt.paramGroups[2]!.weightDecay).toBe(0.01);
    expect(opt.paramGroups[2]!.lr).toBe(0.1);
    expect(opt.defaults.lr).toBe(0.1);
  });

  it('groups with an undefined option take the default', () => {
    const opt = new optim.Adam([{ params: [p()], lr: undefined }], { lr: 0.02 });
    expect(opt.paramGroups[0]!.lr).toBe(0.02);
    expect(opt.paramGroups[0]!.betas).toEqual([0.9, 0.999]);
  });

  it('each group gets its own copy of array options', () => {
    const opt = new optim.Adam([{ params: [p()] }, { params: [p()] }], { betas: [0.8, 0.9] });
    opt.paramGroups[0]!.betas[0] = 0.5;
    expect(opt.paramGroups[1]!.betas).toEqual([0.8, 0.9]);
    expect(opt.defaults.betas).toEqual([0.8, 0.9]);
  });

  it('rejects bad parameter lists', () => {
    const a = p();
    expect(() => new optim.SGD([], { lr: 0.1 })).toThrow(/SGD: got an empty parameter list/);
    expect(() => new optim.SGD(a as never, { lr: 0.1 })).toThrow(
      /SGD: params must be an iterable.*single tensor/,
    );
    expect(() => new optim.SGD([{ params: [a] }, { params: [a] }], { lr: 0.1 })).toThrow(
      /SGD: some parameters appear in more than one parameter group/,
    );
    expect(() => new optim.SGD([a, a], { lr: 0.1 })).toThrow(
      /SGD: param group 0 contains the same parameter twice/,
    );
    const nonLeaf = a.mul(2);
    expect(() => new optim.Adam([nonLeaf])).toThrow(
      /Adam: can't optimize a non-leaf tensor \(param group 0, index 0/,
    );
    expect(() => new optim.Adam([zeros([2], { dtype: 'int32' })])).toThrow(DTypeError);
    expect(() => new optim.Adam([zeros([2], { dtype: 'int32' })])).toThrow(
      /Adam: can only optimize floating tensors, but param group 0 has a int32 tensor of shape \[2\]/,
    );
    expect(() => new optim.Adam([{ params: [a] }, a] as never)).toThrow(
      /Adam: params must be all tensors or all/,
    );
    expect(() => new optim.Adam([1] as never)).toThrow(
      /Adam: params must be all tensors or all parameter groups/,
    );
    const opt = new optim.Adam([a]);
    expect(() => opt.addParamGroup({ params: [a] })).toThrow(/Adam: some parameters appear in more than one/);
    expect(() => opt.addParamGroup({ params: [p()], lr: -1 })).toThrow(
      /Adam: invalid lr -1 in param group 1/,
    );
    expect(() => opt.addParamGroup({ params: [5 as never] })).toThrow(/Adam: can only optimize tensors/);
  });

  it('throws a ShapeError when a gradient has the wrong shape', () => {
    const a = p();
    const opt = new optim.SGD([a], { lr: 0.1 });
    a.grad = zeros([3], { dtype: 'float64' });
    expect(() => opt.step()).toThrow(ShapeError);
    expect(() => opt.step()).toThrow(
      /SGD: parameter 0: gradient of shape \[3\] does not match the parameter's shape \[2\]/,
    );
  });
});

describe('Optimizer: option validation', () => {
  const ps = () => [zeros([2], { dtype: 'float64' }).requiresGrad_()];
  const bad: [string, () => unknown, RegExp][] = [
    [
      'SGD lr',
      () => new optim.SGD(ps(), { lr: -0.1 }),
      /SGD: invalid lr -0.1 in defaults \(expected a number >= 0\)/,
    ],
    ['SGD lr NaN', () => new optim.SGD(ps(), { lr: Number.NaN }), /SGD: invalid lr NaN/],
    ['SGD lr missing', () => new optim.SGD(ps(), {} as never), /SGD: invalid lr undefined/],
    ['SGD momentum', () => new optim.SGD(ps(), { lr: 0.1, momentum: -1 }), /SGD: invalid momentum -1/],
    [
      'SGD weightDecay',
      () => new optim.SGD(ps(), { lr: 0.1, weightDecay: -1 }),
      /SGD: invalid weightDecay -1/,
    ],
    [
      'SGD nesterov without momentum',
      () => new optim.SGD(ps(), { lr: 0.1, nesterov: true }),
      /SGD: nesterov momentum requires a momentum > 0 and zero dampening \(defaults has momentum 0, dampening 0\)/,
    ],
    [
      'SGD nesterov with dampening',
      () => new optim.SGD(ps(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }),
      /SGD: nesterov momentum requires/,
    ],
    [
      'SGD nesterov in a group',
      () => new optim.SGD([{ params: ps(), momentum: 0 }], { lr: 0.1, momentum: 0.9, nesterov: true }),
      /SGD: nesterov momentum requires a momentum > 0 and zero dampening \(param group 0 has momentum 0/,
    ],
    [
      'SGD maximize type',
      () => new optim.SGD(ps(), { lr: 0.1, maximize: 1 as never }),
      /SGD: invalid maximize 1/,
    ],
    ['Adam lr', () => new optim.Adam(ps(), { lr: -1e-3 }), /Adam: invalid lr -0.001/],
    ['Adam eps', () => new optim.Adam(ps(), { eps: -1 }), /Adam: invalid eps -1/],
    [
      'Adam beta1',
      () => new optim.Adam(ps(), { betas: [1, 0.999] }),
      /Adam: invalid betas\[0\] 1 in defaults \(expected a number >= 0 and < 1\)/,
    ],
    ['Adam beta2', () => new optim.Adam(ps(), { betas: [0.9, -0.1] }), /Adam: invalid betas\[1\] -0.1/],
    [
      'Adam betas shape',
      () => new optim.Adam(ps(), { betas: [0.9] as never }),
      /Adam: invalid betas \[0.9\] in defaults \(expected \[beta1, beta2\]\)/,
    ],
    ['Adam weightDecay', () => new optim.Adam(ps(), { weightDecay: -1 }), /Adam: invalid weightDecay -1/],
    ['Adam amsgrad', () => new optim.Adam(ps(), { amsgrad: 'yes' as never }), /Adam: invalid amsgrad yes/],
    ['AdamW beta', () => new optim.AdamW(ps(), { betas: [0.9, 1] }), /AdamW: invalid betas\[1\] 1/],
    [
      'AdamW weightDecay',
      () => new optim.AdamW(ps(), { weightDecay: -0.01 }),
      /AdamW: invalid weightDecay -0.01/,
    ],
    ['Adagrad lr', () => new optim.Adagrad(ps(), { lr: -1 }), /Adagrad: invalid lr -1/],
    ['Adagrad lrDecay', () => new optim.Adagrad(ps(), { lrDecay: -1 }), /Adagrad: invalid lrDecay -1/],
    [
      'Adagrad initialAccumulatorValue',
      () => new optim.Adagrad(ps(), { initialAccumulatorValue: -1 }),
      /Adagrad: invalid initialAccumulatorValue -1/,
    ],
    ['Adagrad eps', () => new optim.Adagrad(ps(), { eps: -1 }), /Adagrad: invalid eps -1/],
    ['RMSprop lr', () => new optim.RMSprop(ps(), { lr: -1 }), /RMSprop: invalid lr -1/],
    ['RMSprop alpha', () => new optim.RMSprop(ps(), { alpha: 1.5 }), /RMSprop: invalid alpha 1.5 .*<= 1/],
    ['RMSprop momentum', () => new optim.RMSprop(ps(), { momentum: -0.5 }), /RMSprop: invalid momentum -0.5/],
    ['RMSprop eps', () => new optim.RMSprop(ps(), { eps: -1 }), /RMSprop: invalid eps -1/],
    [
      'RMSprop weightDecay',
      () => new optim.RMSprop(ps(), { weightDecay: -1 }),
      /RMSprop: invalid weightDecay -1/,
    ],
  ];
  for (const [what, fn, re] of bad) {
    it(what, () => {
      expect(fn).toThrow(ValueError);
      expect(fn).toThrow(re);
    });
  }
});

describe('Optimizer: state dict', () => {
  const CONFIGS: [string, Options][] = [
    ['SGD', { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 0.01 }],
    ['Adam', { lr: 0.05, amsgrad: true, weightDecay: 0.01 }],
    ['AdamW', { lr: 0.05 }],
    ['Adagrad', { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1 }],
    ['RMSprop', { lr: 0.01, centered: true, momentum: 0.5 }],
  ];
  const base = optCases.find((c) => c.name === 'sgd')!;

  const fresh = (name: string, options: Options, dtype: 'float32' | 'float64') => {
    const params = [fromRef(base.inputs[0]!, true), fromRef(base.inputs[1]!, true)].map((p) =>
      dtype === 'float64' ? p : p.detach().to('float32').requiresGrad_(),
    );
    const groups = [{ params: [params[0]!], lr: (options.lr as number) * 2 }, { params: [params[1]!] }];
    const x = fromRef(base.inputs[2]!).to(dtype);
    const y = fromRef(base.inputs[3]!).to(dtype);
    return { params, opt: make(name, groups, options), x, y };
  };

  for (const [name, options] of CONFIGS) {
    for (const dtype of ['float64', 'float32'] as const) {
      it(`${name} (${dtype}): 5 steps + save/load + 5 steps == 10 steps, bit for bit`, () => {
        const a = fresh(name, options, dtype);
        for (let i = 0; i < 10; i++) trainStep(a.opt, a.params, a.x, a.y);

        const b = fresh(name, options, dtype);
        for (let i = 0; i < 5; i++) trainStep(b.opt, b.params, b.x, b.y);
        const sd = b.opt.stateDict();
        // the group options survive a JSON round trip
        const groups = JSON.parse(JSON.stringify(sd.paramGroups)) as Options[];
        expect(groups).toEqual(sd.paramGroups);
        expect(groups[0]!.params).toEqual([0]);
        expect(groups[1]!.params).toEqual([1]);

        const c = fresh(name, options, dtype);
        // continue from b's parameter values with a new optimizer that loads b's state
        noGrad(() => {
          c.params.forEach((p, i) => {
            p.copy_(b.params[i]!);
          });
        });
        const opt2 = make(name, [{ params: [c.params[0]!] }, { params: [c.params[1]!] }], { lr: 123 });
        opt2.loadStateDict({ state: sd.state, paramGroups: groups });
        expect(opt2.paramGroups[0]!.lr).toBe((options.lr as number) * 2);
        expect(opt2.paramGroups[0]!.params[0]).toBe(c.params[0]);
        for (let i = 0; i < 5; i++) trainStep(opt2, c.params, c.x, c.y);
        c.params.forEach((p, i) => {
          expect(Array.from(p.dataSync())).toEqual(Array.from(a.params[i]!.dataSync()));
        });
      });
    }
  }

  it('stateDict is a snapshot and uses PyTorch-like keys', () => {
    const w = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.Adam([w], { lr: 0.1, amsgrad: true });
    w.square().sum().backward();
    opt.step();
    const sd = opt.stateDict();
    expect(Object.keys(sd.state)).toEqual(['0']);
    expect(Object.keys(sd.state[0]!).sort()).toEqual(['expAvg', 'expAvgSq', 'maxExpAvgSq', 'step']);
    expect(sd.state[0]!.step).toBe(1);
    const m = sd.state[0]!.expAvg as Tensor;
    const before = Array.from(m.dataSync());
    opt.step();
    expect(Array.from(m.dataSync())).toEqual(before);
    expect(sd.paramGroups[0]).toEqual({
      lr: 0.1,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      amsgrad: true,
      maximize: false,
      params: [0],
    });
    const sgd = new optim.SGD([w], { lr: 0.1, momentum: 0.9 });
    sgd.step();
    expect(Object.keys(sgd.stateDict().state[0]!)).toEqual(['momentumBuffer']);
    const ada = new optim.Adagrad([w]);
    expect(Object.keys(ada.stateDict().state[0]!).sort()).toEqual(['step', 'sum']);
    const rms = new optim.RMSprop([w], { centered: true, momentum: 0.1 });
    rms.step();
    expect(Object.keys(rms.stateDict().state[0]!).sort()).toEqual([
      'gradAvg',
      'momentumBuffer',
      'squareAvg',
      'step',
    ]);
  });

  it('loadStateDict copies tensors into the parameter dtype and does not alias the source', () => {
    const w = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const opt = new optim.SGD([w], { lr: 0.1, momentum: 0.9 });
    const buf = tensor([0.5, 0.25], { dtype: 'float64' });
    opt.loadStateDict({
      state: { 0: { momentumBuffer: buf } },
      paramGroups: [{ ...opt.stateDict().paramGroups[0] }],
    });
    const loaded = opt.state.get(w)!.momentumBuffer as Tensor;
    expect(loaded.dtype).toBe('float32');
    expect(loaded).not.toBe(buf);
    w.grad = tensor([1, 1], { dtype: 'float32' });
    opt.step();
    expect(Array.from(buf.dataSync())).toEqual([0.5, 0.25]);
    expect(Array.from(loaded.dataSync())).toEqual([Math.fround(0.5 * 0.9 + 1), Math.fround(0.25 * 0.9 + 1)]);
  });

  it('loadStateDict validates the layout', () => {
    const a = zeros([2], { dtype: 'float64' }).requiresGrad_();
    const b = zeros([3], { dtype: 'float64' }).requiresGrad_();
    const opt = new optim.Adam([a, b]);
    a.grad = zeros([2], { dtype: 'float64' });
    b.grad = zeros([3], { dtype: 'float64' });
    opt.step();
    const sd = opt.stateDict();
    const two = new optim.Adam([{ params: [a] }, { params: [b] }]);
    expect(() => two.loadStateDict(sd)).toThrow(
      /Adam.loadStateDict: loaded state dict has 1 parameter groups, the optimizer has 2/,
    );
    const one = new optim.Adam([a]);
    expect(() => one.loadStateDict(sd)).toThrow(
      /Adam.loadStateDict: parameter group 0 of the loaded state dict has 2 parameters, the optimizer's has 1/,
    );
    const swapped = new optim.Adam([b, a]);
    expect(() => swapped.loadStateDict(sd)).toThrow(ShapeError);
    expect(() => swapped.loadStateDict(sd)).toThrow(
      /Adam.loadStateDict: state '(expAvg|expAvgSq)' of parameter 0 has shape \[2\] but the parameter has shape \[3\]/,
    );
    const bad = { state: sd.state, paramGroups: [{ ...sd.paramGroups[0], lr: -1 }] };
    expect(() => new optim.Adam([a, b]).loadStateDict(bad)).toThrow(
      /Adam: invalid lr -1 in loaded param group 0/,
    );
    expect(() => new optim.Adam([a, b]).loadStateDict({} as never)).toThrow(
      /expected an object with 'state'/,
    );
  });
});
