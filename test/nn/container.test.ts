import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.js';
import {
  getBackend,
  IndexError,
  manualSeed,
  nn,
  randn,
  setBackend,
  Tensor,
  ValueError,
} from '../../src/index.js';

describe('Sequential', () => {
  it('indexes, replaces and appends children, keeping PyTorch keys', () => {
    manualSeed(0);
    const s = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU());
    expect(s.length).toBe(2);
    expect(s.at(-1)).toBeInstanceOf(nn.ReLU);
    s.append(new nn.Linear(4, 2));
    expect([...s.stateDict().keys()]).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    s.set(2, new nn.Linear(4, 5));
    expect(s.forward<Tensor>(randn([6, 3])).shape).toEqual([6, 5]);
    expect(() => s.at(3)).toThrow(/Sequential: index 3 out of range for 3 layers/);
    expect(() => s.set(-4, new nn.ReLU())).toThrow(IndexError);
  });
});

describe('Sequential: ReLU then MaxPool2d runs as the pool then the ReLU', () => {
  /** Integer values in [-3, 3]: many ties and zeros in the pooling windows, as well as negative windows. */
  function tiedInput(shape: number[]): Tensor {
    return randn(shape).mul(1.5).round().clamp(-3, 3).requiresGrad_();
  }
  /** Output and input gradient of `f` on x (backward of sum(out * weights), so that every entry counts). */
  function run(f: (x: Tensor) => Tensor, x: Tensor, wts: Tensor): [Float32Array, Float32Array] {
    x.grad = null;
    const y = f(x);
    y.mul(wts).sum().backward();
    return [y.dataSync() as Float32Array, x.grad!.dataSync() as Float32Array];
  }
  const variants: [string, nn.MaxPool2d][] = [
    ['2x2', new nn.MaxPool2d(2)],
    ['3x3 stride 2 padding 1', new nn.MaxPool2d(3, { stride: 2, padding: 1 })],
    ['2x2 ceil mode', new nn.MaxPool2d(2, { ceilMode: true })],
    ['2x2 dilation 2', new nn.MaxPool2d(2, { dilation: 2 })],
  ];
  for (const [name, pool] of variants) {
    it(`gives the same bits as relu then pool, forward and backward (${name})`, () => {
      manualSeed(11);
      for (const x of [tiedInput([2, 3, 7, 9]), randn([2, 3, 7, 9]).requiresGrad_()]) {
        const seq = new nn.Sequential(new nn.ReLU(), pool);
        const shape = pool.forward(x).shape;
        const wts = randn(shape);
        const [y0, g0] = run((t) => pool.forward(t.relu()), x, wts);
        const [y1, g1] = run((t) => seq.forward<Tensor>(t), x, wts);
        expect(y1).toEqual(y0);
        expect(g1).toEqual(g0);
      }
    });
  }

  it('applies the ReLU to the pooled tensor, unless a hook watches either layer', () => {
    manualSeed(12);
    const seen: number[][] = [];
    const relu = Tensor.prototype.relu;
    Tensor.prototype.relu = function (this: Tensor): Tensor {
      seen.push([...this.shape]);
      return relu.call(this);
    };
    try {
      const act = new nn.ReLU();
      const seq = new nn.Sequential(new nn.Conv2d(1, 2, 3, { padding: 1 }), act, new nn.MaxPool2d(2));
      const x = randn([1, 1, 6, 6]);
      const y = seq.forward<Tensor>(x);
      expect(seen).toEqual([[1, 2, 3, 3]]);
      const hooked: number[][] = [];
      const remove = act.registerForwardHook((_m, _in, out) => {
        hooked.push([...(out as Tensor).shape]);
      });
      seen.length = 0;
      const z = seq.forward<Tensor>(x);
      expect(seen).toEqual([[1, 2, 6, 6]]);
      expect(hooked).toEqual([[1, 2, 6, 6]]);
      expect(z.dataSync()).toEqual(y.dataSync());
      remove();
    } finally {
      Tensor.prototype.relu = relu;
    }
  });
});

describe('Sequential: Conv2d then MaxPool2d run as one conv2dMaxPool2d', () => {
  it('on the wasm backend the fused kernel serves each Conv2d [ReLU] MaxPool2d run, with the same bits', () => {
    const previous = getBackend().name;
    setBackend('wasm');
    const backend = getBackend() as Backend;
    const fused = backend.conv2dMaxPool2d;
    try {
      expect(backend.name).toBe('wasm');
      expect(fused).toBeDefined();
      let calls = 0;
      backend.conv2dMaxPool2d = (...args) => {
        calls++;
        return fused!.apply(backend, args);
      };
      manualSeed(13);
      const conv1 = new nn.Conv2d(2, 4, 3, { padding: 1 });
      const seq = new nn.Sequential(
        conv1,
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Conv2d(4, 6, 3, { padding: 1 }),
        new nn.MaxPool2d(2),
        new nn.Flatten(),
      );
      const x = randn([3, 2, 12, 12]);
      const pass = (): Float32Array[] => {
        for (const p of seq.parameters()) p.grad = null;
        const y = seq.forward<Tensor>(x);
        y.pow(2).sum().backward();
        return [y, ...seq.parameters().map((p) => p.grad!)].map((t) => t.dataSync() as Float32Array);
      };
      const got = pass();
      expect(calls).toBe(2);
      // A hook on the first conv: that block runs layer by layer (and its conv output is seen).
      const remove = conv1.registerForwardHook(() => undefined);
      calls = 0;
      const want = pass();
      remove();
      expect(calls).toBe(1);
      got.forEach((g, i) => {
        expect(g, `result ${i}`).toEqual(want[i]);
      });
      // Input the conv does not take: the layers run one by one and the conv names the error.
      expect(() => seq.forward(randn([3, 5, 12, 12]))).toThrow(/0 \(Conv2d\)/);
    } finally {
      backend.conv2dMaxPool2d = fused;
      setBackend(previous);
    }
  });
});

describe('ModuleList', () => {
  it('registers its modules as 0, 1, ...: parameters, state dict, iteration, train/eval', () => {
    manualSeed(1);
    class Tower extends nn.Module {
      blocks = new nn.ModuleList([new nn.Linear(2, 2), new nn.Linear(2, 2)]);
      override forward(x: Tensor): Tensor {
        let y = x;
        for (const b of this.blocks) y = (b as nn.Linear).forward(y).relu();
        return y;
      }
    }
    const t = new Tower();
    t.blocks.append(new nn.Dropout(0.5));
    expect(t.blocks.length).toBe(3);
    expect([...t.stateDict().keys()]).toEqual([
      'blocks.0.weight',
      'blocks.0.bias',
      'blocks.1.weight',
      'blocks.1.bias',
    ]);
    expect(t.parameters()).toHaveLength(4);
    expect(t.blocks.at(-1)).toBeInstanceOf(nn.Dropout);
    expect([...t.blocks].map((m) => m.constructor.name)).toEqual(['Linear', 'Linear', 'Dropout']);
    t.eval();
    expect(t.blocks.at(2).training).toBe(false);
    const y = t.forward(randn([3, 2]));
    expect(y.shape).toEqual([3, 2]);
    y.sum().backward();
    expect(t.blocks.at(0).parameters()[0]!.grad).not.toBeNull();
    expect(t.toString()).toMatch(/\(blocks\): ModuleList\(\n {4}\(0\): Linear/);
    expect(() => t.blocks.at(5)).toThrow(/ModuleList: index 5 out of range for 3 modules/);
    expect(() => t.blocks.forward()).toThrow(/ModuleList has no forward/);
  });

  it('an error inside a listed module names its path', () => {
    class Net extends nn.Module {
      layers = new nn.ModuleList([new nn.Linear(2, 3), new nn.Linear(4, 1)]);
      override forward(x: Tensor): Tensor {
        return (this.layers.at(1) as nn.Linear).forward((this.layers.at(0) as nn.Linear).forward(x));
      }
    }
    expect(() => new Net().forward(randn([1, 2]))).toThrow(
      /^layers\.1 \(Linear\): linear: input has 3 features/,
    );
  });
});

describe('ModuleDict', () => {
  it('registers modules by name: get, set, keys, state dict, loadStateDict', () => {
    manualSeed(2);
    const heads = new nn.ModuleDict({ digits: new nn.Linear(4, 10), parity: new nn.Linear(4, 2) });
    expect(heads.keys()).toEqual(['digits', 'parity']);
    expect(heads.get('parity')).toBeInstanceOf(nn.Linear);
    heads.set('act', new nn.ReLU());
    heads.set('parity', new nn.Linear(4, 3)); // replaces in place
    expect(heads.keys()).toEqual(['digits', 'parity', 'act']);
    expect([...heads.stateDict().keys()]).toEqual([
      'digits.weight',
      'digits.bias',
      'parity.weight',
      'parity.bias',
    ]);
    expect((heads.get('parity') as nn.Linear).weight.shape).toEqual([3, 4]);

    const copy = new nn.ModuleDict({ digits: new nn.Linear(4, 10), parity: new nn.Linear(4, 3) });
    expect(copy.loadStateDict(heads.stateDict())).toEqual({
      missingKeys: [],
      unexpectedKeys: [],
      shapeMismatches: [],
    });
    const x = randn([2, 4]);
    expect((copy.get('digits') as nn.Linear).forward(x).toArray()).toEqual(
      (heads.get('digits') as nn.Linear).forward(x).toArray(),
    );
    expect(heads.toString()).toBe(
      'ModuleDict(\n  (digits): Linear(inFeatures=4, outFeatures=10, bias=true)\n  (parity): Linear(inFeatures=4, outFeatures=3, bias=true)\n  (act): ReLU()\n)',
    );
    expect(() => heads.get('colour')).toThrow(/ModuleDict: no module named 'colour'/);
    expect(() => heads.set('a.b', new nn.ReLU())).toThrow(ValueError);
    expect(() => heads.forward()).toThrow(/ModuleDict has no forward/);
  });

  it('keys that clash with methods still work through get()', () => {
    const d = new nn.ModuleDict({ keys: new nn.Linear(1, 1), train: new nn.Linear(1, 2) });
    expect(d.keys()).toEqual(['keys', 'train']);
    expect((d.get('train') as nn.Linear).weight.shape).toEqual([2, 1]);
    expect([...d.stateDict().keys()]).toEqual(['keys.weight', 'keys.bias', 'train.weight', 'train.bias']);
    d.eval();
    expect(d.get('train').training).toBe(false);
  });
});
