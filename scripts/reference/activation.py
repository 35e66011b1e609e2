"""PyTorch references for src/ops/activation.ts (writes test/reference/activation.json)."""
import torch
import torch.nn.functional as F

from common import case, rnd, write

f32 = torch.float32


def pts(*v):
    return torch.tensor(v, dtype=torch.float64)


cs = []
x = rnd(3, 5, seed=1, low=-4, high=4)
# special points: kinks and ends of the linear pieces
edges = pts(-7.0, -6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 7.0)
big = pts(-1000.0, -50.0, -20.5, 20.5, 50.0, 1000.0)

acts = [
    ("leaky_relu", F.leaky_relu, {}),
    ("leaky_relu", F.leaky_relu, {"negative_slope": 0.2}),
    ("elu", F.elu, {}),
    ("elu", F.elu, {"alpha": 0.7}),
    ("selu", F.selu, {}),
    ("gelu", F.gelu, {}),
    ("gelu", F.gelu, {"approximate": "tanh"}),
    ("silu", F.silu, {}),
    ("softplus", F.softplus, {}),
    ("softplus", F.softplus, {"beta": 2.0, "threshold": 3.0}),
    ("softplus", F.softplus, {"beta": 0.5}),
    ("mish", F.mish, {}),
    ("hardtanh", F.hardtanh, {}),
    ("hardtanh", F.hardtanh, {"min_val": -0.5, "max_val": 2.0}),
    ("relu6", F.relu6, {}),
    ("hardsigmoid", F.hardsigmoid, {}),
    ("hardswish", F.hardswish, {}),
    ("logsigmoid", F.logsigmoid, {}),
]
for op, fn, kw in acts:
    tag = f"{op} {kw}" if kw else op
    cs.append(case(f"{tag}", op, [x], fn, kw))
    cs.append(case(f"{tag} edges", op, [edges], fn, kw))
    cs.append(case(f"{tag} float32", op, [x.to(f32)], fn, kw))
    cs.append(case(f"{tag} transposed", op + "_t", [x.t().contiguous()], lambda t, fn=fn, **k: fn(t.t(), **k), kw))
    cs.append(case(f"{tag} 0-d", op, [x[1, 1].clone()], fn, kw))
    cs.append(case(f"{tag} size-0", op, [rnd(2, 0)], fn, kw))
    if op in ("softplus", "logsigmoid", "mish", "silu", "gelu", "elu", "selu"):
        cs.append(case(f"{tag} large", op, [big], fn, kw))

# softmax / log_softmax
x3 = rnd(2, 3, 4, seed=2, low=-3, high=3)
for op, fn in [("softmax", F.softmax), ("log_softmax", F.log_softmax)]:
    for d in [0, 1, 2, -1, -2]:
        cs.append(case(f"{op} 3-d dim {d}", op, [x3], fn, {"dim": d}))
    cs.append(case(f"{op} 2-d", op, [x], fn, {"dim": 1}))
    cs.append(case(f"{op} float32", op, [x3.to(f32)], fn, {"dim": -1}))
    cs.append(case(f"{op} float32 dim 0", op, [x3.to(f32)], fn, {"dim": 0}))
    cs.append(case(f"{op} large inputs", op, [pts(1000.0, 999.0, 0.0, -1000.0).reshape(2, 2)], fn, {"dim": 1}))
    cs.append(case(f"{op} large float32", op, [pts(1000.0, 990.0, 1000.0, -80.0).to(f32)], fn, {"dim": 0}))
    cs.append(case(f"{op} with -inf", op, [pts(0.0, float("-inf"), 1.0, 2.0)], fn, {"dim": 0}, grad=False))
    cs.append(case(f"{op} transposed", op + "_t", [x.t().contiguous()], lambda t, fn=fn, **k: fn(t.t(), **k),
                   {"dim": 1}))
    cs.append(case(f"{op} permuted dim 0", op + "_p", [x3], lambda t, fn=fn, **k: fn(t.permute(2, 0, 1), **k),
                   {"dim": 0}))
    cs.append(case(f"{op} size-1 dim", op, [rnd(3, 1, seed=3)], fn, {"dim": 1}))
    cs.append(case(f"{op} size-0 batch", op, [rnd(0, 4)], fn, {"dim": 1}))
    cs.append(case(f"{op} size-0 dim", op, [rnd(3, 0)], fn, {"dim": 1}))
    cs.append(case(f"{op} 0-d", op, [rnd(seed=4)], fn, {"dim": 0}))
    cs.append(case(f"{op} 1-d", op, [rnd(5, seed=5)], fn, {"dim": -1}))
    cs.append(case(f"{op} dtype float64", op + "_dtype", [x.to(f32)], lambda t, fn=fn, **k: fn(t, **k, dtype=torch.float64),
                   {"dim": 1}))

write("activation", cs)
