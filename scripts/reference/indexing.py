"""PyTorch references for index-tensor ops (group `indexing`) and in-place ops used inside
differentiable code (group `inplace`). Index tensors are int64 here and int32 in Neurite.

`pre` kwargs make the first input non-contiguous: 't' transposes the last two dims.
"""
import torch
import torch.nn.functional as F

from common import case, rnd, write

f32 = torch.float32


def P(x, pre=None):
    return x.transpose(-1, -2) if pre == "t" else x


def idx(*shape, high, seed=0):
    g = torch.Generator().manual_seed(seed + 77)
    return torch.randint(0, high, shape, generator=g)


def perm_idx(n, k, seed=0):
    """k distinct indices in [0, n) (no duplicates, so scatter is deterministic)."""
    g = torch.Generator().manual_seed(seed + 99)
    return torch.randperm(n, generator=g)[:k]


def indexing():
    c = []
    x = rnd(3, 4, seed=1)
    gather = lambda x, i, dim, pre=None: torch.gather(P(x, pre), dim, i)
    c.append(case("gather_d1", "gather", [x, idx(3, 5, high=4)], gather, {"dim": 1}))
    c.append(case("gather_d0_small", "gather", [x, idx(2, 3, high=3, seed=1)], gather, {"dim": 0}))
    c.append(case("gather_neg_t", "gather", [x, idx(4, 2, high=3, seed=2)], gather, {"dim": -1, "pre": "t"}))
    c.append(case("gather_3d", "gather", [rnd(2, 3, 4, seed=2), idx(2, 2, 4, high=3, seed=3)], gather, {"dim": 1}))
    c.append(case("gather_f32", "gather", [rnd(3, 4, dtype=f32, seed=3), idx(3, 2, high=4, seed=4)], gather,
                  {"dim": 1}))
    c.append(case("gather_empty", "gather", [x, torch.zeros(3, 0, dtype=torch.long)], gather, {"dim": 1}))

    def scatter(x, i, src, dim, pre=None):
        return torch.scatter(P(x, pre), dim, i, src)
    i_rows = torch.stack([perm_idx(4, 3, s) for s in range(3)])  # [3, 3], distinct per row
    c.append(case("scatter_d1", "scatter", [x, i_rows, rnd(3, 3, seed=5)], scatter, {"dim": 1}))
    c.append(case("scatter_src_larger", "scatter", [x, i_rows[:2, :2], rnd(3, 5, seed=6)], scatter, {"dim": 1},
                  grad=False))  # torch 1.13 has no backward for src larger than index
    c.append(case("scatter_d0_t", "scatter", [x, perm_idx(4, 2, 7).reshape(2, 1), rnd(2, 1, seed=7)], scatter,
                  {"dim": 0, "pre": "t"}))

    def scatter_value(x, i, dim, value):
        return torch.scatter(x, dim, i, value)
    c.append(case("scatter_scalar", "scatter_value", [x, i_rows], scatter_value, {"dim": 1, "value": 2.5}))

    def scatter_add(x, i, src, dim, pre=None):
        return torch.scatter_add(P(x, pre), dim, i, src)
    c.append(case("scatter_add_dups", "scatter_add", [x, idx(3, 6, high=4, seed=8), rnd(3, 6, seed=9)],
                  scatter_add, {"dim": 1}))
    c.append(case("scatter_add_d0_small", "scatter_add", [x, idx(5, 2, high=3, seed=10), rnd(5, 2, seed=11)],
                  scatter_add, {"dim": 0}))
    c.append(case("scatter_add_f32_t", "scatter_add",
                  [rnd(4, 3, dtype=f32, seed=12), idx(3, 4, high=3, seed=13), rnd(3, 4, dtype=f32, seed=14)],
                  scatter_add, {"dim": -1, "pre": "t"}))

    isel = lambda x, i, dim, pre=None: torch.index_select(P(x, pre), dim, i)
    c.append(case("index_select_d0_dups", "index_select", [x, torch.tensor([2, 0, 2, 1])], isel, {"dim": 0}))
    c.append(case("index_select_neg", "index_select", [rnd(2, 3, 4, seed=15), torch.tensor([3, 1])], isel,
                  {"dim": -1}))
    c.append(case("index_select_t", "index_select", [x, torch.tensor([1, 1])], isel, {"dim": 1, "pre": "t"}))
    c.append(case("index_select_0d_index", "index_select", [x, torch.tensor(2)], isel, {"dim": 1}))
    c.append(case("index_select_empty", "index_select", [x, torch.zeros(0, dtype=torch.long)], isel, {"dim": 0}))
    c.append(case("index_select_f32", "index_select", [rnd(5, 2, dtype=f32, seed=16), torch.tensor([4, 0])], isel,
                  {"dim": 0}))

    def iadd(x, i, src, dim, alpha, pre=None):
        return torch.index_add(P(x, pre), dim, i, src, alpha=alpha)
    c.append(case("index_add_dups", "index_add", [x, torch.tensor([0, 2, 0]), rnd(3, 3, seed=17)], iadd,
                  {"dim": 1, "alpha": 1.0}))
    c.append(case("index_add_alpha_t", "index_add", [x, torch.tensor([3, 1]), rnd(2, 3, seed=18)], iadd,
                  {"dim": 0, "alpha": -2.0, "pre": "t"}))

    # torch 1.13's masked_select backward is wrong for non-contiguous inputs (it scatters the gradient in
    # the input's memory order); contiguous() gives the same forward and the mathematically right gradient.
    msel = lambda x, m, pre=None: torch.masked_select(P(x, pre).contiguous(), m)
    m34 = rnd(3, 4, seed=19) > 0
    c.append(case("masked_select", "masked_select", [x, m34], msel))
    c.append(case("masked_select_bcast_mask", "masked_select", [x, torch.tensor([True, False, False, True])], msel))
    c.append(case("masked_select_bcast_x", "masked_select", [rnd(4, seed=20), m34], msel))
    c.append(case("masked_select_t", "masked_select", [rnd(4, 3, seed=21), m34], msel, {"pre": "t"}))
    c.append(case("masked_select_none_f32", "masked_select", [rnd(2, 2, dtype=f32, seed=22),
                                                              torch.zeros(2, 2, dtype=torch.bool)], msel))

    mfill = lambda x, m, value, pre=None: P(x, pre).masked_fill(m, value)
    c.append(case("masked_fill", "masked_fill", [x, m34], mfill, {"value": -1.5}))
    c.append(case("masked_fill_bcast_t", "masked_fill", [rnd(4, 3, seed=23), torch.tensor([[True], [False], [True]])],
                  mfill, {"value": 0.0, "pre": "t"}))
    c.append(case("masked_fill_bcast_up", "masked_fill", [rnd(4, seed=24), m34], mfill, {"value": 3.0}))
    c.append(case("masked_fill_f32", "masked_fill", [rnd(3, 4, dtype=f32, seed=25), m34], mfill, {"value": 2.0}))
    mfill_t = lambda x, m, v: x.masked_fill(m, v)
    c.append(case("masked_fill_tensor_value", "masked_fill_tensor", [x, m34, torch.tensor(0.75, dtype=torch.float64)],
                  mfill_t))

    oh = lambda i, num_classes: F.one_hot(i, num_classes)
    c.append(case("one_hot", "one_hot", [torch.tensor([0, 3, 1, 1])], oh, {"num_classes": -1}, grad=False))
    c.append(case("one_hot_2d", "one_hot", [torch.tensor([[0, 2], [1, 0]])], oh, {"num_classes": 4}, grad=False))
    c.append(case("one_hot_empty", "one_hot", [torch.zeros(0, dtype=torch.long)], oh, {"num_classes": 3}, grad=False))
    return c


def inplace():
    """In-place ops inside differentiable code (on non-leaf tensors)."""
    c = []

    def add_then_square(x, z):
        y = x * 2
        y.add_(z)
        return y * y
    c.append(case("add_bcast", "add_then_square", [rnd(2, 3, seed=1), rnd(3, seed=2)], add_then_square))
    c.append(case("add_f32", "add_then_square", [rnd(2, 3, dtype=f32, seed=3), rnd(2, 3, dtype=f32, seed=4)],
                  add_then_square))

    def chain(x, z):
        y = x * 1.5
        y.mul_(z)
        y.sub_(x, alpha=2.0)
        y.div_(z.abs() + 1)
        y.clamp_(-0.4, 0.4)
        return y.exp()
    c.append(case("chain", "chain", [rnd(3, 4, seed=5), rnd(3, 4, seed=6)], chain))

    def copy_into(x, z):
        y = x * 2
        y.copy_(z)
        return y * x
    c.append(case("copy_bcast", "copy_into", [rnd(2, 3, seed=7), rnd(3, seed=8)], copy_into))

    def buffer_add(w):
        buf = torch.zeros(3, dtype=w.dtype)
        buf.add_(w, alpha=3.0)
        buf.mul_(w)
        return buf * w
    c.append(case("buffer_add", "buffer_add", [rnd(3, seed=9)], buffer_add))

    def fill_then(x):
        y = x * 2
        z = y + 1  # (sin would save y, which fill_ then overwrites: an error in both libraries)
        y.fill_(0.5)
        return y * x + z
    c.append(case("fill", "fill_then", [rnd(2, 2, seed=10)], fill_then))
    return c


write("indexing", indexing())
write("inplace", inplace())
