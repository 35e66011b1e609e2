"""PyTorch references for view ops (group `views`) and shape ops (group `shape`).

`pre` kwargs make an input non-contiguous before the op: 't' transposes the last two dims,
'step' takes every second element of the last dim. The vitest files apply the same transforms.
"""
import torch
import torch.nn.functional as F

from common import case, rnd, write

f32 = torch.float32


def P(x, pre=None):
    if pre == "t":
        return x.transpose(-1, -2)
    if pre == "step":
        return x[..., ::2]
    return x


def op(fn):
    """Wraps fn(x, *rest, **kw) so that kwargs['pre'] is applied to the first input."""
    def run(x, *rest, pre=None, **kw):
        return fn(P(x, pre), *rest, **kw)
    return run


def decode_items(items):
    out = []
    for it in items:
        if it is None:
            out.append(slice(None))
        elif it == "...":
            out.append(Ellipsis)
        elif it == "newaxis":
            out.append(None)
        elif isinstance(it, list):
            out.append(slice(*(it + [None] * (3 - len(it)))))  # [start, end, step], missing = None
        else:
            out.append(it)
    return tuple(out)


def views():
    c = []
    x234 = rnd(2, 3, 4, seed=1)
    c.append(case("reshape_infer", "reshape", [x234], op(lambda x, shape: x.reshape(shape)), {"shape": [4, -1]}))
    c.append(case("reshape_t_copy", "reshape", [rnd(3, 4, seed=2)], op(lambda x, shape: x.reshape(shape)),
                  {"shape": [-1], "pre": "t"}))
    c.append(case("reshape_step", "reshape", [rnd(2, 3, 6, seed=3)], op(lambda x, shape: x.reshape(shape)),
                  {"shape": [6, 3], "pre": "step"}))
    c.append(case("reshape_zero", "reshape", [rnd(0, 4, seed=4)], op(lambda x, shape: x.reshape(shape)),
                  {"shape": [2, 0, 2]}))
    c.append(case("reshape_scalar", "reshape", [torch.tensor(1.5, dtype=torch.float64)],
                  op(lambda x, shape: x.reshape(shape)), {"shape": [1, 1]}))
    c.append(case("reshape_f32", "reshape", [rnd(2, 6, dtype=f32, seed=5)], op(lambda x, shape: x.reshape(shape)),
                  {"shape": [3, 2, 2]}))
    c.append(case("view_infer", "view", [x234], op(lambda x, shape: x.view(shape)), {"shape": [-1, 12]}))
    c.append(case("view_t_split_dim", "view", [rnd(4, 6, seed=6)], op(lambda x, shape: x.view(shape)),
                  {"shape": [2, 3, 4], "pre": "t"}))
    c.append(case("flatten_all", "flatten", [x234], op(lambda x, start, end: x.flatten(start, end)),
                  {"start": 0, "end": -1}))
    c.append(case("flatten_mid_t", "flatten", [rnd(2, 3, 4, seed=7)], op(lambda x, start, end: x.flatten(start, end)),
                  {"start": 0, "end": 1, "pre": "t"}))
    c.append(case("flatten_scalar", "flatten", [torch.tensor(2.0, dtype=torch.float64)],
                  op(lambda x, start, end: x.flatten(start, end)), {"start": 0, "end": -1}))
    c.append(case("transpose_neg", "transpose", [x234], op(lambda x, a, b: x.transpose(a, b)), {"a": -1, "b": 0}))
    c.append(case("transpose_f32", "transpose", [rnd(3, 5, dtype=f32, seed=8)], op(lambda x, a, b: x.transpose(a, b)),
                  {"a": 0, "b": 1}))
    c.append(case("t_2d", "t", [rnd(3, 5, seed=9)], op(lambda x: x.t())))
    c.append(case("permute_neg", "permute", [x234], op(lambda x, dims: x.permute(dims)), {"dims": [2, -3, 1]}))
    c.append(case("permute_step", "permute", [rnd(2, 3, 4, seed=10)], op(lambda x, dims: x.permute(dims)),
                  {"dims": [1, 2, 0], "pre": "step"}))
    c.append(case("expand_lead", "expand", [rnd(3, 1, seed=11)], op(lambda x, shape: x.expand(shape)),
                  {"shape": [2, 3, 4]}))
    c.append(case("expand_keep", "expand", [rnd(1, 4, seed=12)], op(lambda x, shape: x.expand(shape)),
                  {"shape": [-1, 5, -1, 4][1:]}))
    c.append(case("expand_scalar", "expand", [torch.tensor(0.5, dtype=torch.float64)],
                  op(lambda x, shape: x.expand(shape)), {"shape": [2, 2]}))
    c.append(case("expand_zero", "expand", [rnd(1, 3, seed=13)], op(lambda x, shape: x.expand(shape)),
                  {"shape": [0, 3]}))
    x1 = rnd(1, 3, 1, 2, seed=14)
    c.append(case("squeeze_all", "squeeze", [x1], op(lambda x: x.squeeze())))
    c.append(case("squeeze_dim", "squeeze", [x1], op(lambda x, dim: x.squeeze(dim)), {"dim": -2}))
    c.append(case("squeeze_non1", "squeeze", [x1], op(lambda x, dim: x.squeeze(dim)), {"dim": 1}))
    c.append(case("unsqueeze_neg", "unsqueeze", [x234], op(lambda x, dim: x.unsqueeze(dim)), {"dim": -1}))
    c.append(case("unsqueeze_0_t", "unsqueeze", [rnd(3, 4, seed=15)], op(lambda x, dim: x.unsqueeze(dim)),
                  {"dim": 1, "pre": "t"}))
    c.append(case("contiguous_t", "contiguous", [rnd(3, 4, seed=16)], op(lambda x: x.contiguous()), {"pre": "t"}))
    c.append(case("clone_step", "clone", [rnd(2, 6, seed=17)], op(lambda x: x.clone()), {"pre": "step"}))
    c.append(case("to_float32", "to", [rnd(2, 3, seed=18)], op(lambda x, dtype: x.to(torch.float32)),
                  {"dtype": "float32"}))
    c.append(case("to_float64", "to", [rnd(2, 3, dtype=f32, seed=19)], op(lambda x, dtype: x.to(torch.float64)),
                  {"dtype": "float64"}))
    c.append(case("to_int32", "to", [rnd(2, 3, seed=20, low=-3, high=3)], op(lambda x, dtype: x.to(torch.int32)),
                  {"dtype": "int32"}, grad=False))
    return c


def shape_cases():
    c = []
    a, b, d = rnd(2, 3, seed=1), rnd(2, 1, seed=2), rnd(2, 4, seed=3)
    cat = op(lambda *xs, dim: torch.cat(xs, dim))
    c.append(case("cat_dim1", "cat", [a, b, d], cat, {"dim": 1}))
    c.append(case("cat_neg_zero_piece", "cat", [a, rnd(2, 0, seed=4), d], cat, {"dim": -1}))
    c.append(case("cat_dim0_t", "cat", [rnd(3, 2, seed=5), rnd(1, 3, seed=6)], cat, {"dim": 0, "pre": "t"}))
    c.append(case("cat_f32", "cat", [rnd(2, 2, dtype=f32, seed=7), rnd(1, 2, dtype=f32, seed=8)], cat, {"dim": 0}))
    c.append(case("cat_mixed", "cat", [rnd(2, 2, dtype=f32, seed=9), rnd(1, 2, seed=10)], cat, {"dim": 0}))
    c.append(case("cat_legacy_empty", "cat", [rnd(0, seed=11), rnd(2, 2, seed=12)], cat, {"dim": 1}))
    stack = op(lambda *xs, dim: torch.stack(xs, dim))
    c.append(case("stack_0", "stack", [a, rnd(2, 3, seed=13)], stack, {"dim": 0}))
    c.append(case("stack_neg", "stack", [a, rnd(2, 3, seed=14), rnd(2, 3, seed=15)], stack, {"dim": -1}))
    c.append(case("stack_mid_t", "stack", [rnd(3, 2, seed=16), rnd(2, 3, seed=17)], stack, {"dim": 1, "pre": "t"}))
    x = rnd(5, 4, seed=20)
    c.append(case("split_int", "split", [x], op(lambda x, s, dim: torch.split(x, s, dim)), {"s": 2, "dim": 0}))
    c.append(case("split_list", "split", [x], op(lambda x, s, dim: torch.split(x, s, dim)), {"s": [1, 3], "dim": -1}))
    c.append(case("split_list_t", "split", [x], op(lambda x, s, dim: torch.split(x, s, dim)),
                  {"s": [3, 0, 2], "dim": 1, "pre": "t"}))
    c.append(case("chunk_3", "chunk", [x], op(lambda x, n, dim: torch.chunk(x, n, dim)), {"n": 3, "dim": 0}))
    c.append(case("chunk_fewer", "chunk", [rnd(6, 2, seed=21)], op(lambda x, n, dim: torch.chunk(x, n, dim)),
                  {"n": 4, "dim": 0}))
    c.append(case("unbind_1", "unbind", [rnd(2, 3, seed=22)], op(lambda x, dim: torch.unbind(x, dim)), {"dim": 1}))
    narrow = op(lambda x, dim, start, length: torch.narrow(x, dim, start, length))
    c.append(case("narrow_1", "narrow", [x], narrow, {"dim": 1, "start": 1, "length": 2}))
    c.append(case("narrow_neg_t", "narrow", [x], narrow, {"dim": -1, "start": -3, "length": 3, "pre": "t"}))
    c.append(case("narrow_empty", "narrow", [x], narrow, {"dim": 0, "start": 5, "length": 0}))
    c.append(case("select_neg", "select", [x], op(lambda x, dim, index: x.select(dim, index)), {"dim": 1, "index": -1}))
    c.append(case("select_step", "select", [rnd(3, 6, seed=23)], op(lambda x, dim, index: x.select(dim, index)),
                  {"dim": 0, "index": 2, "pre": "step"}))

    def sl(x, dim, start, end, step):
        idx = [slice(None)] * x.dim()
        idx[dim] = slice(start, end, step)
        return x[tuple(idx)]
    c.append(case("slice_step", "slice", [x], op(sl), {"dim": 0, "start": 1, "end": None, "step": 2}))
    c.append(case("slice_neg", "slice", [x], op(sl), {"dim": -1, "start": -3, "end": -1, "step": 1}))
    c.append(case("slice_clamp", "slice", [x], op(sl), {"dim": 0, "start": -100, "end": 100, "step": 3}))
    c.append(case("slice_empty", "slice", [x], op(sl), {"dim": 1, "start": 3, "end": 1, "step": 1}))
    c.append(case("slice_t_f32", "slice", [rnd(4, 5, dtype=f32, seed=24)], op(sl),
                  {"dim": 1, "start": None, "end": None, "step": 2, "pre": "t"}))
    get = op(lambda x, items: x[decode_items(items)])
    y = rnd(2, 3, 4, seed=25)
    c.append(case("get_mixed", "get", [y], get, {"items": [0, [1, None], [None, None, 2]]}))
    c.append(case("get_ellipsis", "get", [y], get, {"items": ["...", -1]}))
    c.append(case("get_newaxis", "get", [y], get, {"items": [None, "newaxis", [-2], 1]}))
    c.append(case("get_step_t", "get", [y], get, {"items": [1, [None, None, 3]], "pre": "t"}))
    c.append(case("get_partial", "get", [y], get, {"items": [[1]]}))
    flip = op(lambda x, dims: torch.flip(x, dims))
    c.append(case("flip_0", "flip", [y], flip, {"dims": [0]}))
    c.append(case("flip_multi_t", "flip", [y], flip, {"dims": [-1, 1], "pre": "t"}))
    c.append(case("flip_f32", "flip", [rnd(3, 4, dtype=f32, seed=26)], flip, {"dims": [1]}))
    roll = op(lambda x, shifts, dims: torch.roll(x, shifts, dims))
    c.append(case("roll_1", "roll", [y], roll, {"shifts": 1, "dims": 2}))
    c.append(case("roll_multi_neg", "roll", [y], roll, {"shifts": [-1, 5], "dims": [1, -1]}))
    c.append(case("roll_flat", "roll", [y], roll, {"shifts": 7, "dims": None}))
    c.append(case("roll_step", "roll", [rnd(3, 8, seed=27)], roll, {"shifts": 2, "dims": 1, "pre": "step"}))
    rep = op(lambda x, sizes: x.repeat(*sizes))
    c.append(case("repeat_2d", "repeat", [rnd(2, 3, seed=28)], rep, {"sizes": [2, 3]}))
    c.append(case("repeat_lead", "repeat", [rnd(2, 3, seed=29)], rep, {"sizes": [2, 1, 2]}))
    c.append(case("repeat_zero_t", "repeat", [rnd(2, 3, seed=30)], rep, {"sizes": [0, 2], "pre": "t"}))
    c.append(case("repeat_f32", "repeat", [rnd(3, dtype=f32, seed=31)], rep, {"sizes": [2, 2]}))
    tile = op(lambda x, reps: torch.tile(x, reps))
    c.append(case("tile_short", "tile", [rnd(2, 3, seed=32)], tile, {"reps": [2]}))
    c.append(case("tile_long", "tile", [rnd(3, seed=33)], tile, {"reps": [2, 1, 2]}))
    pad = op(lambda x, pad, mode, value: F.pad(x, pad, mode=mode, value=value) if mode == "constant"
             else F.pad(x, pad, mode=mode))
    z = rnd(2, 3, 4, seed=34)
    c.append(case("pad_const", "pad", [z], pad, {"pad": [1, 2], "mode": "constant", "value": 0.0}))
    c.append(case("pad_const_value_2d", "pad", [z], pad, {"pad": [0, 1, 2, 0], "mode": "constant", "value": 1.5}))
    c.append(case("pad_const_neg", "pad", [z], pad, {"pad": [-1, 2, 1, -2, 0, 1], "mode": "constant", "value": -1.0}))
    c.append(case("pad_const_t", "pad", [z], pad, {"pad": [1, 1], "mode": "constant", "value": 0.0, "pre": "t"}))
    c.append(case("pad_reflect", "pad", [z], pad, {"pad": [3, 2], "mode": "reflect", "value": 0.0}))
    c.append(case("pad_reflect_2d", "pad", [rnd(1, 2, 3, 4, seed=35)], pad,
                  {"pad": [1, 2, 2, 1], "mode": "reflect", "value": 0.0}))
    c.append(case("pad_replicate", "pad", [z], pad, {"pad": [2, 3], "mode": "replicate", "value": 0.0}))
    c.append(case("pad_replicate_2d_t", "pad", [rnd(2, 3, 4, seed=36)], pad,
                  {"pad": [1, 0, 2, 3], "mode": "replicate", "value": 0.0, "pre": "t"}))
    c.append(case("pad_circular", "pad", [z], pad, {"pad": [2, 3], "mode": "circular", "value": 0.0}))
    c.append(case("pad_circular_2d", "pad", [rnd(1, 2, 3, 4, seed=37)], pad,
                  {"pad": [1, 2, 3, 0], "mode": "circular", "value": 0.0}))
    c.append(case("pad_f32", "pad", [rnd(2, 3, 5, dtype=f32, seed=38)], pad,
                  {"pad": [2, 1], "mode": "reflect", "value": 0.0}))
    tri = op(lambda x, fn, diagonal: (torch.tril if fn == "tril" else torch.triu)(x, diagonal))
    w = rnd(2, 4, 5, seed=39)
    for fn in ("tril", "triu"):
        for dg in (0, 1, -2, 7):
            c.append(case(f"{fn}_{dg}", "tri", [w], tri, {"fn": fn, "diagonal": dg}))
        c.append(case(f"{fn}_t", "tri", [w], tri, {"fn": fn, "diagonal": -1, "pre": "t"}))
        c.append(case(f"{fn}_f32", "tri", [rnd(3, 3, dtype=f32, seed=40)], tri, {"fn": fn, "diagonal": 0}))
    return c


write("views", views())
write("shape", shape_cases())
