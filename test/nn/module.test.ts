import { describe, expect, it } from 'vitest';
import { manualSeed, nn, randn, ShapeError, type Tensor, tensor, zeros } from '../../src/index.js';

class Net extends nn.Module {
  features = new nn.Sequential(
    new nn.Conv2d(1, 2, 3, { padding: 1 }),
    new nn.Conv2d(2, 3, 3),
    new nn.ReLU(),
    new nn.BatchNorm2d(3),
  );
  head = new nn.Linear(3, 2);
  override forward(x: Tensor): Tensor {
    const f = this.features.forward<Tensor>(x);
    return this.head.forward(f.mean([2, 3]));
  }
}

describe('Module registration and state dict', () => {
  it('registers parameters and children by assignment, in order', () => {
    const net = new Net();
    expect(net.namedParameters().map(([k]) => k)).toEqual([
      'features.0.weight',
      'features.0.bias',
      'features.1.weight',
      'features.1.bias',
      'features.3.weight',
      'features.3.bias',
      'head.weight',
      'head.bias',
    ]);
    expect(net.namedChildren().map(([k]) => k)).toEqual(['features', 'head']);
    expect(net.namedModules().map(([k]) => k)).toEqual([
      '',
      'features',
      'features.0',
      'features.1',
      'features.2',
      'features.3',
      'head',
    ]);
    expect(net.parameters()).toHaveLength(8);
    expect(net.parameters(false)).toHaveLength(0);
    expect(net.head.parameters(false)).toHaveLength(2);
  });

  it('stateDict has PyTorch keys including buffers', () => {
    const keys = [...new Net().stateDict().keys()];
    expect(keys).toEqual([
      'features.0.weight',
      'features.0.bias',
      'features.1.weight',
      'features.1.bias',
      'features.3.weight',
      'features.3.bias',
      'features.3.running_mean',
      'features.3.running_var',
      'features.3.num_batches_tracked',
      'head.weight',
      'head.bias',
    ]);
    const seq = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU(), new nn.Linear(3, 1, { bias: false }));
    expect([...seq.stateDict().keys()]).toEqual(['0.weight', '0.bias', '2.weight']);
    expect(new Net().namedBuffers().map(([k]) => k)).toEqual([
      'features.3.running_mean',
      'features.3.running_var',
      'features.3.num_batches_tracked',
    ]);
  });

  it('replacing a child by assignment keeps its place and drops the old parameters', () => {
    const net = new Net();
    const old = net.head.weight;
    net.head = new nn.Linear(3, 5);
    expect(net.namedChildren().map(([k]) => k)).toEqual(['features', 'head']);
    expect(net.parameters()).not.toContain(old);
    expect(net.stateDict().get('head.weight')!.shape).toEqual([5, 3]);
    expect(net.forward(randn([2, 1, 5, 5])).shape).toEqual([2, 5]);
    const seq = new nn.Sequential(new nn.Linear(2, 2), new nn.ReLU());
    seq.set(1, new nn.Tanh());
    expect(seq.at(1)).toBeInstanceOf(nn.Tanh);
  });

  it('register() entries are readable and writable as properties', () => {
    class M extends nn.Module {
      constructor() {
        super();
        this.register('weight_ih_l0', new nn.Parameter(zeros([2])));
        this.register('train', new nn.Linear(1, 1)); // clashes with a method: stays a map entry only
      }
      override forward(): void {}
    }
    const m = new M() as M & { weight_ih_l0: nn.Parameter | null };
    expect(m.weight_ih_l0!.shape).toEqual([2]);
    m.weight_ih_l0 = new nn.Parameter(zeros([3]));
    expect(m.stateDict().get('weight_ih_l0')!.shape).toEqual([3]);
    expect(typeof m.train).toBe('function');
    expect([...m.stateDict().keys()]).toEqual(['weight_ih_l0', 'train.weight', 'train.bias']);
    expect(() => {
      (m as unknown as Record<string, unknown>).weight_ih_l0 = 5;
    }).toThrow(/'weight_ih_l0' is a registered entry/);
    const seq = new nn.Sequential(new nn.ReLU()) as unknown as Record<string, unknown>;
    expect(seq['0']).toBeInstanceOf(nn.ReLU);
  });

  it('a shared parameter appears once in parameters()', () => {
    class Tied extends nn.Module {
      a = new nn.Linear(2, 2);
      b = new nn.Linear(2, 2);
      constructor() {
        super();
        this.b.weight = this.a.weight;
      }
      override forward(x: Tensor): Tensor {
        return this.b.forward(this.a.forward(x));
      }
    }
    const t = new Tied();
    expect(t.parameters()).toHaveLength(3);
    expect([...t.stateDict().keys()]).toEqual(['a.weight', 'a.bias', 'b.weight', 'b.bias']);
  });

  it('getSubmodule', () => {
    const net = new Net();
    expect(net.getSubmodule('features.3')).toBeInstanceOf(nn.BatchNorm2d);
    expect(net.getSubmodule('')).toBe(net);
    expect(() => net.getSubmodule('features.9')).toThrow(/Sequential at 'features' has no submodule '9'/);
  });
});

describe('loadStateDict', () => {
  it('round-trips between two models', () => {
    manualSeed(1);
    const a = new Net();
    const b = new Net();
    const x = randn([2, 1, 5, 5]);
    a.eval();
    b.eval();
    expect(a.forward(x).toArray()).not.toEqual(b.forward(x).toArray());
    b.loadStateDict(a.stateDict());
    expect(b.forward(x).toArray()).toEqual(a.forward(x).toArray());
  });

  it('strict: one error listing missing, unexpected keys and shape mismatches; nothing changes', () => {
    const net = new Net();
    const before = net.head.weight.toArray();
    const sd = new Map(net.stateDict());
    sd.delete('features.0.bias');
    sd.set('extra.weight', zeros([1]));
    sd.set('head.weight', zeros([4, 3]));
    sd.set('head.bias', zeros([2]));
    let err: Error | null = null;
    try {
      net.loadStateDict(sd);
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(ShapeError);
    expect(err!.message).toBe(
      'loadStateDict (Net): missing keys: features.0.bias; unexpected keys: extra.weight; ' +
        'shape mismatches: head.weight: [2,3] in the model vs [4,3] given',
    );
    expect(net.head.weight.toArray()).toEqual(before);
    expect(net.head.bias!.toArray()).not.toEqual([0, 0]);
  });

  it('non-strict: loads what matches and reports the rest', () => {
    const net = new Net();
    const sd = new Map<string, Tensor>([
      ['head.bias', tensor([5, 6], { dtype: 'float32' })],
      ['head.weight', zeros([1, 1])],
      ['nope', zeros([1])],
    ]);
    const res = net.loadStateDict(sd, { strict: false });
    expect(res.unexpectedKeys).toEqual(['nope']);
    expect(res.shapeMismatches).toEqual(['head.weight: [2,3] in the model vs [1,1] given']);
    expect(res.missingKeys).toHaveLength(9);
    expect(net.head.bias!.toArray()).toEqual([5, 6]);
  });

  it('accepts a plain object and converts dtypes; loading does not track autograd', () => {
    const l = new nn.Linear(2, 1);
    l.loadStateDict({
      weight: tensor([[1.5, 2.5]], { dtype: 'float64' }),
      bias: tensor([0.25], { dtype: 'float64' }),
    });
    expect(l.weight.dtype).toBe('float32');
    expect(l.weight.toArray()).toEqual([[1.5, 2.5]]);
    expect(l.weight.isLeaf).toBe(true);
    expect(l.weight.requiresGrad).toBe(true);
  });
});

describe('modes, freezing, conversion', () => {
  it('train/eval propagate to every submodule', () => {
    const net = new Net();
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
    net.features.train(false);
    expect(net.training).toBe(true);
    expect(net.getSubmodule('features.3').training).toBe(false);
  });

  it('requiresGrad_(false) freezes a part: no gradients flow into it', () => {
    const net = new Net();
    net.features.requiresGrad_(false);
    const y = net.forward(randn([2, 1, 5, 5]));
    y.sum().backward();
    for (const p of net.features.parameters()) expect(p.grad).toBeNull();
    for (const p of net.head.parameters()) expect(p.grad).not.toBeNull();
    net.zeroGrad();
    expect(net.head.weight.grad).toBeNull();
  });

  it('to(float64) converts parameters and buffers, keeping sharing and values', () => {
    const net = new Net();
    const w = net.head.weight.toArray() as number[][];
    net.double();
    expect(net.parameters().every((p) => p.dtype === 'float64' && p.requiresGrad)).toBe(true);
    expect(net.buffers().map((b) => b.dtype)).toEqual(['float64', 'float64', 'int32']);
    const w2 = net.head.weight.toArray() as number[][];
    expect(w2[0]![0]).toBeCloseTo(w[0]![0]!, 6);
    expect(net.forward(randn([2, 1, 5, 5], { dtype: 'float64' })).dtype).toBe('float64');
    expect(() => net.to('int32')).toThrow(/only floating dtypes/);
  });

  it('apply visits children first, then the module', () => {
    const seen: string[] = [];
    new nn.Sequential(new nn.Linear(1, 1), new nn.ReLU()).apply((m) => seen.push(m.constructor.name));
    expect(seen).toEqual(['Linear', 'ReLU', 'Sequential']);
  });
});

describe('hooks and errors', () => {
  it('forward pre-hooks can replace inputs and forward hooks can read or replace outputs', () => {
    const l = new nn.Linear(2, 2);
    const seen: number[][] = [];
    const rmPre = l.registerForwardPreHook((_m, [x]) => [(x as Tensor).mul(0)]);
    const rm = l.registerForwardHook((_m, _in, out) => {
      seen.push((out as Tensor).shape.slice());
      return (out as Tensor).add(1);
    });
    const y = l.forward(randn([3, 2]));
    expect(seen).toEqual([[3, 2]]);
    const b = l.bias!.toArray() as number[];
    expect((y.toArray() as number[][])[0]).toEqual([b[0]! + 1, b[1]! + 1].map((v) => Math.fround(v)));
    rmPre();
    rm();
    l.forward(randn([1, 2]));
    expect(seen).toHaveLength(1);
  });

  it('an error inside a nested layer names its path and type', () => {
    const net = new Net();
    expect(() => net.forward(randn([2, 3, 5, 5]))).toThrow(
      /^features\.0 \(Conv2d\): conv2d: input has 3 channels but weight expects 1/,
    );
    // the path is relative to the outermost module called
    expect(() => net.features.forward(randn([2, 3, 5, 5]))).toThrow(/^0 \(Conv2d\): conv2d/);
    class Deep extends nn.Module {
      body = new nn.Sequential(new nn.Linear(4, 4), new nn.Sequential(new nn.ReLU(), new nn.Linear(3, 2)));
      override forward(x: Tensor): Tensor {
        return this.body.forward(x);
      }
    }
    expect(() => new Deep().forward(randn([1, 4]))).toThrow(
      /^body\.1\.1 \(Linear\): linear: input has 4 features/,
    );
    // top-level layer: just the type
    expect(() => new nn.Linear(2, 2).forward(randn([1, 3]))).toThrow(/^\(Linear\): linear:/);
  });

  it('toString prints the tree like PyTorch', () => {
    expect(new Net().toString()).toBe(
      [
        'Net(',
        '  (features): Sequential(',
        '    (0): Conv2d(1, 2, kernelSize=[3,3], padding=[1,1])',
        '    (1): Conv2d(2, 3, kernelSize=[3,3])',
        '    (2): ReLU()',
        '    (3): BatchNorm2d(3, eps=0.00001, momentum=0.1, affine=true, trackRunningStats=true)',
        '  )',
        '  (head): Linear(inFeatures=3, outFeatures=2, bias=true)',
        ')',
      ].join('\n'),
    );
  });
});
