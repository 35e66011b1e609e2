import { describe, expect, it } from 'vitest';
import { IndexError, manualSeed, nn, randn, type Tensor, ValueError } from '../../src/index.js';

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
