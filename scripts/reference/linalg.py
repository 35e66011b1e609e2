"""PyTorch references for src/ops/matmul.ts and src/ops/linalg.ts.

Writes two groups: test/reference/matmul.json (matmul/mm/bmm) and test/reference/linalg.json
(dot, outer, einsum). Non-contiguous operands are made inside the op: `_t` transposes the last two
dims of the first operand, `_s` takes x[..., ::2] of it (the vitest side builds the same views).
"""
import torch

from common import case, rnd, write

f32 = torch.float32
GEN = "linalg.py"


def pre(x, p):
    if p == "t":
        return x.transpose(-1, -2)
    if p == "s":
        return x[..., ::2]
    return x


def mk(name, op, inputs, fn, **kw):
    c = case(name, op, inputs, fn, kw)
    if any(isinstance(x, torch.Tensor) and x.dtype == f32 for x in inputs):
        c["tol"] = {"atol": 1e-5, "rtol": 1e-4}
    return c


def mm_fn(name):
    f = {"matmul": torch.matmul, "mm": torch.mm, "bmm": torch.bmm}[name]

    def run(a, b, **kw):
        return f(pre(a, kw.get("pa")), pre(b, kw.get("pb")))
    return run


def matmul_cases():
    cs = []
    mm = mm_fn("matmul")
    shapes = [
        ("1-d x 1-d", (4,), (4,)),
        ("1-d x 2-d", (3,), (3, 4)),
        ("2-d x 1-d", (2, 3), (3,)),
        ("2-d x 2-d", (2, 3), (3, 4)),
        ("batched [2,1,3,4] x [5,4,2]", (2, 1, 3, 4), (5, 4, 2)),
        ("batched [3,2,4] x [4,5]", (3, 2, 4), (4, 5)),
        ("batched [2,4] x [3,4,5]", (2, 4), (3, 4, 5)),
        ("1-d x batched", (4,), (2, 4, 3)),
        ("batched x 1-d", (2, 3, 4), (4,)),
        ("batched same batch", (3, 2, 4), (3, 4, 2)),
        ("batched [1,3,2] x [4,1,2,3]", (1, 3, 2), (4, 1, 2, 3)),
        ("size-1 dims", (1, 3), (3, 1)),
        ("zero-size k", (2, 0), (0, 3)),
        ("zero-size m", (0, 3), (3, 2)),
        ("zero-size n", (2, 3), (3, 0)),
        ("zero-size batch", (0, 2, 3), (3, 4)),
        ("zero-size k 1-d", (0,), (0,)),
    ]
    for i, (name, sa, sb) in enumerate(shapes):
        cs.append(mk(f"matmul {name}", "matmul", [rnd(*sa, seed=2 * i), rnd(*sb, seed=2 * i + 1)], mm))
    cs.append(mk("matmul transposed a", "matmul", [rnd(3, 2, seed=40), rnd(3, 4, seed=41)], mm, pa="t"))
    cs.append(mk("matmul transposed b", "matmul", [rnd(2, 3, seed=42), rnd(4, 3, seed=43)], mm, pb="t"))
    cs.append(mk("matmul both transposed", "matmul", [rnd(3, 2, seed=44), rnd(4, 3, seed=45)], mm, pa="t", pb="t"))
    cs.append(mk("matmul batched transposed", "matmul", [rnd(2, 4, 3, seed=46), rnd(2, 5, 4, seed=47)], mm,
                 pa="t", pb="t"))
    cs.append(mk("matmul strided a", "matmul", [rnd(2, 6, seed=48), rnd(3, 4, seed=49)], mm, pa="s"))
    cs.append(mk("matmul strided b batched", "matmul", [rnd(2, 3, 4, seed=50), rnd(2, 4, 10, seed=51)], mm, pb="s"))
    cs.append(mk("matmul float32", "matmul", [rnd(3, 5, seed=52).to(f32), rnd(5, 4, seed=53).to(f32)], mm))
    cs.append(mk("matmul float32 batched", "matmul", [rnd(2, 1, 3, 4, seed=54).to(f32), rnd(5, 4, 2, seed=55).to(f32)],
                 mm))
    cs.append(mk("mm", "mm", [rnd(3, 4, seed=58), rnd(4, 2, seed=59)], mm_fn("mm")))
    cs.append(mk("mm transposed", "mm", [rnd(4, 3, seed=60), rnd(4, 2, seed=61)], mm_fn("mm"), pa="t"))
    cs.append(mk("bmm", "bmm", [rnd(2, 3, 4, seed=62), rnd(2, 4, 5, seed=63)], mm_fn("bmm")))
    return cs


def einsum_fn(eq, *ops, **kw):
    ops = list(ops)
    ops[0] = pre(ops[0], kw.get("pa"))
    return torch.einsum(eq, *ops)


def linalg_cases():
    cs = []
    cs.append(mk("dot", "dot", [rnd(5, seed=1), rnd(5, seed=2)], torch.dot))
    cs.append(mk("dot size-0", "dot", [rnd(0), rnd(0)], torch.dot))
    cs.append(mk("dot strided", "dot_s", [rnd(10, seed=3), rnd(5, seed=4)], lambda a, b: torch.dot(a[::2], b)))
    cs.append(mk("dot float32", "dot", [rnd(5, seed=5).to(f32), rnd(5, seed=6).to(f32)], torch.dot))
    cs.append(mk("outer", "outer", [rnd(3, seed=7), rnd(4, seed=8)], torch.outer))
    cs.append(mk("outer size-0", "outer", [rnd(0), rnd(4, seed=9)], torch.outer))
    cs.append(mk("outer float32", "outer", [rnd(3, seed=10).to(f32), rnd(2, seed=11).to(f32)], torch.outer))
    E = [
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
        ("i,i->", [(5,), (5,)]),
        ("ij->ji", [(2, 3)]),
        ("ii->i", [(3, 3)]),
        ("ii->", [(3, 3)]),
        ("ii", [(4, 4)]),
        ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
        ("ij,jk", [(2, 3), (3, 4)]),
        ("ij->j", [(2, 3)]),
        ("ij->", [(2, 3)]),
        ("ij", [(2, 3)]),
        ("ji", [(2, 3)]),
        ("i,j->ij", [(3,), (4,)]),
        ("ij,ij->ij", [(2, 3), (2, 3)]),
        ("ij,ij->", [(2, 3), (2, 3)]),
        ("ij,kj->ik", [(2, 3), (4, 3)]),
        ("ijk->kji", [(2, 3, 4)]),
        ("ijk,ik->j", [(2, 3, 4), (2, 4)]),
        ("ij,j->i", [(3, 4), (4,)]),
        ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
        ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
        ("...ij->...ji", [(2, 3, 4)]),
        ("i...->...", [(3, 2, 2)]),
        ("bij,bjk->bki", [(2, 3, 4), (2, 4, 5)]),
        ("iij->j", [(3, 3, 2)]),
        ("ij,jk->ik", [(2, 0), (0, 3)]),
        ("ij,jk->ik", [(0, 3), (3, 2)]),
        ("aBc,cBd->aBd", [(2, 3, 4), (4, 3, 2)]),
        (" ij , jk -> ik ", [(2, 3), (3, 4)]),
        ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
        ("ibj,jb->i", [(2, 3, 4), (4, 3)]),
    ]
    for i, (eq, shapes) in enumerate(E):
        ops = [rnd(*s, seed=100 + 10 * i + j) for j, s in enumerate(shapes)]
        cs.append(mk(f"einsum '{eq}' {shapes}", "einsum", [eq, *ops], einsum_fn))
    cs.append(mk("einsum transposed 'ij,jk->ik'", "einsum", ["ij,jk->ik", rnd(3, 2, seed=1), rnd(3, 4, seed=2)],
                 einsum_fn, pa="t"))
    cs.append(mk("einsum strided 'ij->i'", "einsum", ["ij->i", rnd(3, 8, seed=3)], einsum_fn, pa="s"))
    cs.append(mk("einsum transposed 'bhqd,bhkd->bhqk'", "einsum",
                 ["bhqd,bhkd->bhqk", rnd(2, 3, 5, 4, seed=4), rnd(2, 3, 6, 5, seed=5)], einsum_fn, pa="t"))
    cs.append(mk("einsum float32", "einsum", ["bij,bjk->bik", rnd(2, 3, 4, seed=6).to(f32),
                                                 rnd(2, 4, 5, seed=7).to(f32)], einsum_fn))
    return cs


if __name__ == "__main__":
    write("matmul", matmul_cases(), generator=GEN)
    write("linalg", linalg_cases(), generator=GEN)
