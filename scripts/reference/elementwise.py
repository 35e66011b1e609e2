"""PyTorch references for the elementwise ops of src/ops/binary.ts and src/ops/unary.ts.

Writes two groups: test/reference/binary.json and test/reference/unary.json.
Non-contiguous inputs are made inside the op (`x.t()`, `x[::2, 1::2]` of a [4, 6] tensor); the
vitest side builds the same views.
"""
import torch

from common import case, rnd, write

f32 = torch.float32
GEN = "elementwise.py"


def strided(x):
    """The [2, 3] view x[::2, 1::2] of a [4, 6] tensor (strides [12, 2], offset 1)."""
    return x[::2, 1::2]


def binary_cases():
    cs = []
    a34, b34 = rnd(3, 4, seed=1), rnd(3, 4, seed=2)
    pos34 = rnd(3, 4, seed=3, low=0.5, high=2.0)
    # add / sub / mul / div with broadcasting both ways, 0-d, size-0 and non-contiguous inputs
    for op, fn in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul), ("div", torch.div)]:
        rhs = pos34 if op == "div" else b34
        cs.append(case(f"{op} same shape", op, [a34, rhs], fn))
        cs.append(case(f"{op} [3,1] x [1,4]", op, [rnd(3, 1, seed=4), rnd(1, 4, seed=5, low=0.5, high=2)], fn))
        cs.append(case(f"{op} [4] x [2,3,4]", op, [rnd(4, seed=6), rnd(2, 3, 4, seed=7, low=0.5, high=2)], fn))
        cs.append(case(f"{op} [2,3,4] x [3,1]", op, [rnd(2, 3, 4, seed=8), rnd(3, 1, seed=9, low=0.5, high=2)], fn))
        cs.append(case(f"{op} 0-d x [2,3]", op, [rnd(seed=10), rnd(2, 3, seed=11, low=0.5, high=2)], fn))
        cs.append(case(f"{op} [2,3] x 0-d", op, [rnd(2, 3, seed=12), rnd(seed=13, low=0.5, high=2)], fn))
        cs.append(case(f"{op} 0-d x 0-d", op, [rnd(seed=14), rnd(seed=15, low=0.5, high=2)], fn))
        cs.append(case(f"{op} size-0 [0,3] x [1,3]", op, [rnd(0, 3), rnd(1, 3, seed=16, low=0.5, high=2)], fn))
        cs.append(case(f"{op} size-0 [2,0] x [2,1]", op, [rnd(2, 0), rnd(2, 1, seed=17, low=0.5, high=2)], fn))
        cs.append(case(f"{op} transposed", op + "_t", [rnd(4, 3, seed=18), rnd(3, 4, seed=19, low=0.5, high=2)],
                       lambda x, y, fn=fn: fn(x.t(), y)))
        cs.append(case(f"{op} strided", op + "_strided", [rnd(4, 6, seed=20), rnd(2, 3, seed=21, low=0.5, high=2)],
                       lambda x, y, fn=fn: fn(strided(x), y)))
        cs.append(case(f"{op} both transposed", op + "_tt",
                       [rnd(4, 3, seed=22), rnd(4, 3, seed=23, low=0.5, high=2)], lambda x, y, fn=fn: fn(x.t(), y.t())))
        cs.append(case(f"{op} float32", op, [a34.to(f32), pos34.to(f32)], fn))
        cs.append(case(f"{op} python scalar", op + "_scalar", [a34, 1.5], fn))
        cs.append(case(f"{op} scalar lhs", op + "_rscalar", [2.5, pos34], lambda s, y, fn=fn: fn(s, y)))
    cs.append(case("add alpha", "add", [a34, b34], torch.add, {"alpha": 2.5}))
    cs.append(case("sub alpha", "sub", [a34, rnd(4, seed=24)], torch.sub, {"alpha": -3}))
    cs.append(case("add alpha scalar", "add_scalar", [a34, 1.5], torch.add, {"alpha": 2}))
    # pow
    cs.append(case("pow tensor exponent", "pow", [pos34, b34 * 2], torch.pow))
    cs.append(case("pow broadcast", "pow", [rnd(3, 1, seed=25, low=0.5, high=2), rnd(4, seed=26)], torch.pow))
    cs.append(case("pow scalar 2", "pow_scalar", [a34, 2.0], torch.pow))
    cs.append(case("pow scalar 3 int", "pow_scalar", [a34, 3], torch.pow))
    cs.append(case("pow scalar 0.5", "pow_scalar", [pos34, 0.5], torch.pow))
    cs.append(case("pow scalar base", "pow_rscalar", [2.0, b34], lambda s, y: torch.pow(s, y)))
    cs.append(case("pow zero base", "pow", [torch.tensor([0.0, 0.0, 0.0, 2.0], dtype=torch.float64),
                                           torch.tensor([0.0, 1.0, 2.0, 0.0], dtype=torch.float64)], torch.pow))
    cs.append(case("pow float32", "pow", [pos34.to(f32), b34.to(f32)], torch.pow))
    cs.append(case("pow transposed", "pow_t", [rnd(4, 3, seed=27, low=0.5, high=2), b34],
                   lambda x, y: torch.pow(x.t(), y)))
    # maximum / minimum with ties (gradient split evenly)
    ta = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 2.0, 2.0]], dtype=torch.float64)
    tb = torch.tensor([[1.0, 3.0, 2.0, 4.0], [0.5, 1.0, -2.0, 2.0]], dtype=torch.float64)
    for op, fn in [("maximum", torch.maximum), ("minimum", torch.minimum)]:
        cs.append(case(f"{op} with ties", op, [ta, tb], fn))
        cs.append(case(f"{op} broadcast", op, [rnd(3, 1, seed=28), rnd(4, seed=29)], fn))
        cs.append(case(f"{op} broadcast ties", op, [torch.tensor([[1.0], [2.0]], dtype=torch.float64),
                                                    torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)], fn))
        cs.append(case(f"{op} transposed", op + "_t", [rnd(4, 3, seed=30), b34], lambda x, y, fn=fn: fn(x.t(), y)))
        cs.append(case(f"{op} 0-d", op, [rnd(seed=31), rnd(2, 2, seed=32)], fn))
        cs.append(case(f"{op} float32", op, [ta.to(f32), tb.to(f32)], fn))
    cs.append(case("atan2", "atan2", [a34, b34], torch.atan2))
    cs.append(case("atan2 broadcast", "atan2", [rnd(3, 1, seed=33), rnd(4, seed=34)], torch.atan2))
    # comparisons (ties included), on floats and ints, with broadcasting
    ca = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=torch.float64)
    cb = torch.tensor([3.0, 2.0, 7.0], dtype=torch.float64)
    for op in ["eq", "ne", "lt", "le", "gt", "ge"]:
        fn = getattr(torch, op)
        cs.append(case(f"{op} broadcast", op, [ca, cb], fn, grad=False))
        cs.append(case(f"{op} scalar", op + "_scalar", [ca, 3.0], fn, grad=False))
        cs.append(case(f"{op} int32", op, [ca.to(torch.int32), cb.to(torch.int32)], fn, grad=False))
        cs.append(case(f"{op} int32 vs float scalar", op + "_scalar", [ca.to(torch.int32), 2.5], fn, grad=False))
        cs.append(case(f"{op} transposed", op + "_t", [ca.t().contiguous(), cb], lambda x, y, fn=fn: fn(x.t(), y),
                       grad=False))
    # logical ops
    la = torch.tensor([[True, False], [True, True], [False, False]])
    lb = torch.tensor([True, False])
    for op in ["logical_and", "logical_or", "logical_xor"]:
        fn = getattr(torch, op)
        cs.append(case(f"{op} broadcast", op, [la, lb], fn, grad=False))
        cs.append(case(f"{op} floats", op, [ca - 2, cb - 2], fn, grad=False))
        cs.append(case(f"{op} transposed", op + "_tt", [la.t().contiguous(), lb.reshape(2, 1)],
                       lambda x, y, fn=fn: fn(x.t(), y.t()), grad=False))
    # type promotion
    i32a = torch.tensor([[1, -2, 3], [4, 5, -6]], dtype=torch.int32)
    i32b = torch.tensor([2, 3, -4], dtype=torch.int32)
    cs.append(case("promote int32 + float32", "add", [i32a, rnd(2, 3, seed=35, dtype=f32)], torch.add))
    cs.append(case("promote int32 / int32", "div", [i32a, i32b], torch.div))
    cs.append(case("promote int32 * int32", "mul", [i32a, i32b], torch.mul))
    cs.append(case("promote int32 - int32", "sub", [i32a, i32b], torch.sub))
    cs.append(case("promote bool + bool", "add", [la, lb], torch.add, grad=False))
    cs.append(case("promote bool * bool", "mul", [la, lb], torch.mul, grad=False))
    cs.append(case("promote bool + int32", "add", [la, torch.tensor([3, 4], dtype=torch.int32)], torch.add))
    cs.append(case("promote float32 + python float", "add_scalar", [rnd(2, 3, seed=36, dtype=f32), 0.1],
                   torch.add))
    cs.append(case("promote float32 * python int", "mul_scalar", [rnd(2, 3, seed=37, dtype=f32), 3], torch.mul))
    cs.append(case("promote int32 + python float", "add_scalar", [i32a, 0.5], torch.add))
    cs.append(case("promote int32 * python int", "mul_scalar", [i32a, 3], torch.mul))
    cs.append(case("promote float32 + float64", "add", [rnd(2, 3, seed=38, dtype=f32), rnd(2, 3, seed=39)],
                   torch.add))
    cs.append(case("promote float32 * float64 broadcast", "mul", [rnd(3, 1, seed=40, dtype=f32), rnd(4, seed=41)],
                   torch.mul))
    cs.append(case("promote float32 [2,3] + float64 0-d", "add", [rnd(2, 3, seed=42, dtype=f32), rnd(seed=43)],
                   torch.add))
    cs.append(case("promote int32 [2,3] + float64 0-d", "add", [i32a, rnd(seed=44)], torch.add))
    return cs


def unary_cases():
    cs = []
    x = rnd(3, 4, seed=1, low=-2, high=2)
    pos = rnd(3, 4, seed=2, low=0.2, high=3)
    unit = rnd(3, 4, seed=3, low=-0.9, high=0.9)
    ops = [
        ("neg", x), ("abs", x), ("exp", x), ("log", pos), ("log1p", unit), ("expm1", x), ("sqrt", pos),
        ("rsqrt", pos), ("square", x), ("reciprocal", pos), ("sin", x), ("cos", x), ("tan", unit),
        ("asin", unit), ("acos", unit), ("atan", x), ("sinh", x), ("cosh", x), ("tanh", x), ("sigmoid", x * 4),
        ("relu", x), ("erf", x), ("floor", x), ("ceil", x), ("round", x * 3), ("trunc", x * 3), ("sign", x),
    ]
    for op, inp in ops:
        fn = getattr(torch, op)
        cs.append(case(f"{op}", op, [inp], fn))
        cs.append(case(f"{op} float32", op, [inp.to(f32)], fn))
        cs.append(case(f"{op} transposed", op + "_t", [inp.t().contiguous()], lambda t, fn=fn: fn(t.t())))
        cs.append(case(f"{op} 0-d", op, [inp[1, 2].clone()], fn))
        cs.append(case(f"{op} size-0", op, [rnd(0, 3)], fn))
    # special points
    z = torch.tensor([0.0, -0.0, 1.0, -1.0, 0.5, -0.5], dtype=torch.float64)
    cs.append(case("abs at zero", "abs", [z], torch.abs))
    cs.append(case("relu at zero", "relu", [z], torch.relu))
    cs.append(case("sign at zero", "sign", [z], torch.sign))
    halves = torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 0.49], dtype=torch.float64)
    cs.append(case("round half to even", "round", [halves], torch.round))
    cs.append(case("sigmoid large", "sigmoid", [torch.tensor([-800.0, -30.0, 30.0, 800.0], dtype=torch.float64)],
                   torch.sigmoid))
    cs.append(case("tanh large", "tanh", [torch.tensor([-800.0, 800.0], dtype=torch.float64)], torch.tanh))
    cs.append(case("erf wide", "erf", [torch.tensor([-7.0, -3.0, -2.4, -1e-3, 0.0, 2.6, 4.0, 7.0],
                                                    dtype=torch.float64)], torch.erf))
    cs.append(case("exp strided", "exp_strided", [rnd(4, 6, seed=4)], lambda t: torch.exp(strided(t))))
    cs.append(case("sin strided", "sin_strided", [rnd(4, 6, seed=5)], lambda t: torch.sin(strided(t))))
    # integer inputs of float ops compute in float32; neg/abs/sign keep int32
    iv = torch.tensor([[1, -2, 3], [0, 5, -6]], dtype=torch.int32)
    for op in ["exp", "sqrt", "sin", "sigmoid", "neg", "abs", "sign", "floor", "square"]:
        cs.append(case(f"{op} int32", op, [iv.abs() if op == "sqrt" else iv], getattr(torch, op)))
    # logical not
    cs.append(case("logical_not bool", "logical_not", [torch.tensor([[True, False], [False, False]])],
                   torch.logical_not))
    cs.append(case("logical_not float", "logical_not", [torch.tensor([0.0, 1.5, -2.0], dtype=torch.float64)],
                   torch.logical_not, grad=False))
    # clamp: scalar bounds, one-sided, tensor bounds (broadcast), ties at the bounds
    cx = torch.tensor([[-2.0, -1.0, -0.5, 0.0], [0.5, 1.0, 1.5, 3.0]], dtype=torch.float64)
    cs.append(case("clamp scalar both", "clamp", [cx, -1.0, 1.0], torch.clamp))
    cs.append(case("clamp min only", "clamp", [cx, 0.0, None], torch.clamp))
    cs.append(case("clamp max only", "clamp", [cx, None, 0.5], torch.clamp))
    cs.append(case("clamp float32", "clamp", [cx.to(f32), -0.7, 1.2], torch.clamp))
    cs.append(case("clamp tensor bounds", "clamp", [cx, torch.tensor([-1.0, -0.6, 0.2, -3.0], dtype=torch.float64),
                                                   torch.tensor([[0.8], [1.2]], dtype=torch.float64)], torch.clamp))
    cs.append(case("clamp tensor min", "clamp", [rnd(3, 4, seed=6), rnd(4, seed=7), None], torch.clamp))
    cs.append(case("clamp tensor max 0-d", "clamp", [rnd(3, 4, seed=8), None, rnd(seed=9)], torch.clamp))
    cs.append(case("clamp transposed", "clamp_t", [cx.t().contiguous(), -0.5, 1.0],
                   lambda t, lo, hi: torch.clamp(t.t(), lo, hi)))
    cs.append(case("clamp int32", "clamp", [iv, -1, 2], torch.clamp))
    # where
    cond = torch.tensor([[True, False, True, False], [False, False, True, True], [True, True, False, False]])
    cs.append(case("where same shape", "where", [cond, rnd(3, 4, seed=10), rnd(3, 4, seed=11)], torch.where))
    cs.append(case("where broadcast", "where", [cond, rnd(3, 1, seed=12), rnd(1, 4, seed=13)], torch.where))
    cs.append(case("where cond broadcast", "where", [torch.tensor([True, False, True, False]), rnd(3, 4, seed=14),
                                                     rnd(3, 4, seed=15)], torch.where))
    cs.append(case("where scalar other", "where", [cond, rnd(3, 4, seed=16), 0.5], torch.where))
    cs.append(case("where 0-d", "where", [torch.tensor(True), rnd(seed=17), rnd(2, seed=18)], torch.where))
    cs.append(case("where float32 + float64", "where", [cond, rnd(3, 4, seed=19, dtype=f32), rnd(3, 4, seed=20)],
                   torch.where))
    cs.append(case("where transposed", "where_t", [cond, rnd(4, 3, seed=21), rnd(3, 4, seed=22)],
                   lambda c, a, b: torch.where(c, a.t(), b)))
    return cs


write("binary", binary_cases(), generator=GEN)
write("unary", unary_cases(), generator=GEN)
