"""PyTorch references for the reductions and scans of src/ops/reduce.ts.

Writes test/reference/reduce.json. Every case runs `op(pre(x), **kw)` where the kwarg `pre` picks how
the input is viewed first (the vitest side builds the same views):
  none: x itself;  t: x.transpose(-1, -2);  s: x[..., ::2] (strided);  e: x.expand(2, 3, 4) of [2, 1, 4].
Other kwargs: dim (null = all), keepdim, unbiased/correction (var/std), p (norm).
"""
import torch

from common import case, rnd, write

f32 = torch.float32


def pre(x, p):
    if p == "t":
        return x.transpose(-1, -2)
    if p == "s":
        return x[..., ::2]
    if p == "e":
        return x.expand(2, 3, 4)
    return x


def dimarg(kw):
    d = kw.get("dim")
    return tuple(d) if isinstance(d, list) else d


def ties(*shape, seed=0):
    """Values in {-1, -0.5, 0, 0.5, 1}: many ties."""
    return torch.round(rnd(*shape, seed=seed) * 2) / 2


def sum_like(fn):
    def run(x, **kw):
        x = pre(x, kw.get("pre"))
        d = dimarg(kw)
        if d is None:
            return fn(x)
        return fn(x, d, keepdim=kw.get("keepdim", False))
    return run


def mk(name, op, x, fn, **kw):
    kw.setdefault("pre", "none")
    c = case(name, op, [x], fn, kw)
    if "grads" in c and not any(c["grads"]):  # PyTorch gives no gradient (e.g. the 0-norm)
        del c["grads"], c["cot"]
    if x.dtype == f32:
        c["tol"] = {"atol": 1e-5, "rtol": 1e-4}
    return c


def layouts(op, fn, cs, seed, low=-1.0, high=1.0):
    """The standard shapes and layouts for reduction `op` (fn takes x and the kwargs)."""
    x = rnd(2, 3, 4, seed=seed, low=low, high=high)
    cs.append(mk(f"{op} all", op, x, fn))
    cs.append(mk(f"{op} dim 1", op, x, fn, dim=1))
    cs.append(mk(f"{op} dim -1 keepdim", op, x, fn, dim=-1, keepdim=True))
    cs.append(mk(f"{op} dim 0", op, x, fn, dim=0))
    cs.append(mk(f"{op} dims [0,2]", op, x, fn, dim=[0, 2]))
    cs.append(mk(f"{op} dims [-1,0] keepdim", op, x, fn, dim=[-1, 0], keepdim=True))
    cs.append(mk(f"{op} transposed dim 1", op, x, fn, dim=1, pre="t"))
    cs.append(mk(f"{op} transposed all", op, x, fn, pre="t"))
    cs.append(mk(f"{op} strided dim -1", op, rnd(2, 3, 8, seed=seed + 1, low=low, high=high), fn, dim=-1, pre="s"))
    cs.append(mk(f"{op} strided dims [0,1]", op, rnd(2, 3, 8, seed=seed + 1, low=low, high=high), fn,
                 dim=[0, 1], pre="s"))
    cs.append(mk(f"{op} expanded dim 1", op, rnd(2, 1, 4, seed=seed + 2, low=low, high=high), fn, dim=1, pre="e"))
    cs.append(mk(f"{op} size-1 dim", op, rnd(3, 1, seed=seed + 3, low=low, high=high), fn, dim=1))
    cs.append(mk(f"{op} 0-d", op, rnd(seed=seed + 4, low=low, high=high), fn))
    cs.append(mk(f"{op} 0-d dim 0", op, rnd(seed=seed + 4, low=low, high=high), fn, dim=0))
    cs.append(mk(f"{op} float32 dim 1", op, x.to(f32), fn, dim=1))


def minmax_dim(fn):
    def run(x, **kw):
        x = pre(x, kw.get("pre"))
        d = kw.get("dim")
        if d is None:
            return fn(x)
        r = fn(x, d, keepdim=kw.get("keepdim", False))
        return (r.values, r.indices)
    return run


def var_like(fn):
    def run(x, **kw):
        x = pre(x, kw.get("pre"))
        args = {"keepdim": kw.get("keepdim", False)}
        if "correction" in kw:
            args["correction"] = kw["correction"]
        elif "unbiased" in kw:
            args["unbiased"] = kw["unbiased"]
        return fn(x, dimarg(kw), **args)
    return run


def norm_fn(x, **kw):
    x = pre(x, kw.get("pre"))
    p = kw.get("p", 2)
    p = float("inf") if p == "inf" else float("-inf") if p == "-inf" else p
    return torch.linalg.vector_norm(x, p, dimarg(kw), keepdim=kw.get("keepdim", False))


def scan(fn):
    def run(x, **kw):
        return fn(pre(x, kw.get("pre")), kw["dim"])
    return run


def arg(fn):
    def run(x, **kw):
        x = pre(x, kw.get("pre"))
        d = kw.get("dim")
        return fn(x, d, keepdim=kw.get("keepdim", False))
    return run


def main():
    cs = []
    # sum / mean
    layouts("sum", sum_like(torch.sum), cs, 10)
    cs.append(mk("sum size-0 all", "sum", rnd(2, 0), sum_like(torch.sum)))
    cs.append(mk("sum size-0 dim 1", "sum", rnd(2, 0), sum_like(torch.sum), dim=1))
    cs.append(mk("sum size-0 dim 0", "sum", rnd(2, 0), sum_like(torch.sum), dim=0))
    cs.append(mk("sum bool", "sum", torch.tensor([[True, False, True], [True, True, True]]), sum_like(torch.sum),
                 dim=1))
    cs.append(mk("sum int32", "sum", torch.tensor([[1, -2, 3], [4, 5, 6]], dtype=torch.int32),
                 sum_like(torch.sum)))
    layouts("mean", sum_like(torch.mean), cs, 20)
    cs.append(mk("mean size-0 all", "mean", rnd(2, 0), sum_like(torch.mean)))
    cs.append(mk("mean size-0 dim 0", "mean", rnd(2, 0), sum_like(torch.mean), dim=0))
    # prod (with zeros)
    layouts("prod", sum_like(lambda x, *a, **k: torch.prod(x, *a, **k) if not a or isinstance(a[0], int)
                              else torch.prod(torch.prod(x, a[0][1], keepdim=k["keepdim"]), a[0][0],
                                              keepdim=k["keepdim"])), cs, 30, low=0.5, high=1.5)
    z = rnd(3, 4, seed=31, low=0.5, high=1.5)
    z[0, 1] = 0  # one zero in row 0
    z[1, 0] = 0
    z[1, 3] = 0  # two zeros in row 1
    cs.append(mk("prod zeros dim 1", "prod", z, sum_like(torch.prod), dim=1))
    cs.append(mk("prod zeros dim 0", "prod", z, sum_like(torch.prod), dim=0))
    cs.append(mk("prod one zero all", "prod", torch.tensor([2.0, 0.0, 3.0, -1.5], dtype=torch.float64),
                 sum_like(torch.prod)))
    cs.append(mk("prod two zeros all", "prod", torch.tensor([2.0, 0.0, 3.0, 0.0], dtype=torch.float64),
                 sum_like(torch.prod)))
    cs.append(mk("prod size-0 dim 1", "prod", rnd(2, 0), sum_like(torch.prod), dim=1))
    # max / min: overall (ties split evenly) and along a dim (values, indices)
    for op, fn in [("max", torch.max), ("min", torch.min)]:
        run = minmax_dim(fn)
        x = rnd(2, 3, 4, seed=40)
        t = ties(3, 5, seed=41)
        cs.append(mk(f"{op} all", op, x, run))
        cs.append(mk(f"{op} all ties", op, t, run))
        cs.append(mk(f"{op} all constant", op, torch.full((2, 3), 0.5, dtype=torch.float64), run))
        cs.append(mk(f"{op} dim 1", op, x, run, dim=1))
        cs.append(mk(f"{op} dim -1 keepdim", op, x, run, dim=-1, keepdim=True))
        cs.append(mk(f"{op} dim 0", op, x, run, dim=0))
        cs.append(mk(f"{op} dim 1 ties", op, t, run, dim=1))
        cs.append(mk(f"{op} dim 0 ties", op, t, run, dim=0))
        cs.append(mk(f"{op} transposed dim 1", op, x, run, dim=1, pre="t"))
        cs.append(mk(f"{op} strided dim -1", op, rnd(2, 3, 8, seed=42), run, dim=-1, pre="s"))
        cs.append(mk(f"{op} expanded dim 1", op, rnd(2, 1, 4, seed=43), run, dim=1, pre="e"))
        cs.append(mk(f"{op} 0-d", op, rnd(seed=44), run))
        cs.append(mk(f"{op} 0-d dim 0", op, rnd(seed=44), run, dim=0))
        cs.append(mk(f"{op} size-0 other dim", op, rnd(0, 3), run, dim=1))
        cs.append(mk(f"{op} float32 dim 1", op, x.to(f32), run, dim=1))
        cs.append(mk(f"{op} nan", op, torch.tensor([[1.0, float("nan"), 3.0], [0.0, 2.0, -1.0]],
                                                  dtype=torch.float64), run, dim=1))
        cs.append(mk(f"{op} int32 dim 1", op, torch.tensor([[3, 1, 3], [-2, 5, 0]], dtype=torch.int32), run, dim=1))
    # amax / amin over several dims (ties split evenly)
    for op, fn in [("amax", torch.amax), ("amin", torch.amin)]:
        def run(x, fn=fn, **kw):
            x = pre(x, kw.get("pre"))
            d = dimarg(kw)
            return fn(x, () if d is None else d, keepdim=kw.get("keepdim", False))
        x = rnd(2, 3, 4, seed=50)
        t = ties(2, 3, 4, seed=51)
        cs.append(mk(f"{op} all", op, x, run))
        cs.append(mk(f"{op} all ties", op, t, run))
        cs.append(mk(f"{op} dim 1", op, x, run, dim=1))
        cs.append(mk(f"{op} dims [0,2] ties", op, t, run, dim=[0, 2]))
        cs.append(mk(f"{op} dims [-1,-2] keepdim ties", op, t, run, dim=[-1, -2], keepdim=True))
        cs.append(mk(f"{op} transposed dim 1 ties", op, t, run, dim=1, pre="t"))
        cs.append(mk(f"{op} strided dim -1", op, rnd(2, 3, 8, seed=52), run, dim=-1, pre="s"))
        cs.append(mk(f"{op} expanded dim 1", op, rnd(2, 1, 4, seed=53), run, dim=1, pre="e"))
        cs.append(mk(f"{op} float32 dims [0,1]", op, t.to(f32), run, dim=[0, 1]))
    # var / std
    for op, fn in [("var", torch.var), ("std", torch.std)]:
        run = var_like(fn)
        x = rnd(2, 3, 4, seed=60)
        cs.append(mk(f"{op} all", op, x, run))
        cs.append(mk(f"{op} dim 1", op, x, run, dim=1))
        cs.append(mk(f"{op} dim -1 keepdim", op, x, run, dim=-1, keepdim=True))
        cs.append(mk(f"{op} dims [0,2]", op, x, run, dim=[0, 2]))
        cs.append(mk(f"{op} biased", op, x, run, dim=1, unbiased=False))
        cs.append(mk(f"{op} correction 0", op, x, run, dim=0, correction=0))
        cs.append(mk(f"{op} correction 2", op, x, run, dim=2, correction=2))
        cs.append(mk(f"{op} transposed dim 1", op, x, run, dim=1, pre="t"))
        cs.append(mk(f"{op} strided dim -1", op, rnd(2, 3, 8, seed=61), run, dim=-1, pre="s"))
        cs.append(mk(f"{op} expanded dim 1", op, rnd(2, 1, 4, seed=62), run, dim=1, pre="e"))
        cs.append(mk(f"{op} constant rows", op, torch.tensor([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]],
                                                           dtype=torch.float64), run, dim=1))
        cs.append(mk(f"{op} float32 dim 1", op, x.to(f32), run, dim=1))
    # logsumexp (stable for large values and -inf)
    def lse(x, **kw):
        x = pre(x, kw.get("pre"))
        return torch.logsumexp(x, dimarg(kw) if dimarg(kw) is not None else tuple(range(x.dim())),
                               keepdim=kw.get("keepdim", False))
    x = rnd(2, 3, 4, seed=70, low=-3, high=3)
    cs.append(mk("logsumexp all", "logsumexp", x, lse))
    cs.append(mk("logsumexp dim 1", "logsumexp", x, lse, dim=1))
    cs.append(mk("logsumexp dim -1 keepdim", "logsumexp", x, lse, dim=-1, keepdim=True))
    cs.append(mk("logsumexp dims [0,2]", "logsumexp", x, lse, dim=[0, 2]))
    cs.append(mk("logsumexp transposed dim 1", "logsumexp", x, lse, dim=1, pre="t"))
    cs.append(mk("logsumexp strided dim -1", "logsumexp", rnd(2, 3, 8, seed=71), lse, dim=-1, pre="s"))
    cs.append(mk("logsumexp large", "logsumexp", torch.tensor([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0]],
                                                             dtype=torch.float64), lse, dim=1))
    cs.append(mk("logsumexp -inf", "logsumexp", torch.tensor([[0.0, float("-inf"), 1.0], [2.0, 1.0, float("-inf")]],
                                                            dtype=torch.float64), lse, dim=1))
    cs.append(mk("logsumexp float32", "logsumexp", (x * 30).to(f32), lse, dim=1))
    # argmax / argmin
    for op, fn in [("argmax", torch.argmax), ("argmin", torch.argmin)]:
        run = arg(fn)
        x = rnd(2, 3, 4, seed=80)
        t = ties(3, 5, seed=81)
        cs.append(mk(f"{op} all", op, x, run))
        cs.append(mk(f"{op} all keepdim", op, x, run, keepdim=True))
        cs.append(mk(f"{op} all ties", op, t, run))
        cs.append(mk(f"{op} dim 1", op, x, run, dim=1))
        cs.append(mk(f"{op} dim -1 keepdim", op, x, run, dim=-1, keepdim=True))
        cs.append(mk(f"{op} dim 0 ties", op, t, run, dim=0))
        cs.append(mk(f"{op} dim 1 ties", op, t, run, dim=1))
        cs.append(mk(f"{op} transposed dim 1", op, x, run, dim=1, pre="t"))
        cs.append(mk(f"{op} transposed all", op, x, run, pre="t"))
        cs.append(mk(f"{op} strided dim -1", op, rnd(2, 3, 8, seed=82), run, dim=-1, pre="s"))
        cs.append(mk(f"{op} int32", op, torch.tensor([[3, 1, 3], [-2, 5, 5]], dtype=torch.int32), run, dim=1))
    # norm
    x = rnd(2, 3, 4, seed=90)
    for p in [2, 1, "inf", "-inf", 3, 0.5, 0, -1]:
        cs.append(mk(f"norm p={p} all", "norm", x, norm_fn, p=p))
        cs.append(mk(f"norm p={p} dim 1", "norm", x, norm_fn, p=p, dim=1))
        cs.append(mk(f"norm p={p} dims [0,2] keepdim", "norm", x, norm_fn, p=p, dim=[0, 2], keepdim=True))
    cs.append(mk("norm p=2 zero row", "norm", torch.tensor([[0.0, 0.0, 0.0], [3.0, 0.0, -4.0]], dtype=torch.float64),
                 norm_fn, p=2, dim=1))
    cs.append(mk("norm p=3 zero row", "norm", torch.tensor([[0.0, 0.0, 0.0], [3.0, 1.0, -4.0]], dtype=torch.float64),
                 norm_fn, p=3, dim=1))
    cs.append(mk("norm p=1 with zero", "norm", torch.tensor([[0.0, 2.0, -1.0]], dtype=torch.float64), norm_fn, p=1,
                 dim=1))
    cs.append(mk("norm p=inf ties", "norm", ties(3, 5, seed=91), norm_fn, p="inf", dim=1))
    cs.append(mk("norm p=-inf ties", "norm", ties(3, 5, seed=92) + 2, norm_fn, p="-inf", dim=1))
    cs.append(mk("norm transposed", "norm", x, norm_fn, p=2, dim=1, pre="t"))
    cs.append(mk("norm strided", "norm", rnd(2, 3, 8, seed=93), norm_fn, p=2, dim=-1, pre="s"))
    cs.append(mk("norm float32", "norm", x.to(f32), norm_fn, p=2, dim=1))
    cs.append(mk("norm size-0", "norm", rnd(2, 0), norm_fn, p=2, dim=1))
    # cumsum / cumprod
    for op, fn in [("cumsum", torch.cumsum), ("cumprod", torch.cumprod)]:
        run = scan(fn)
        x = rnd(2, 3, 4, seed=100, low=0.5, high=1.5) if op == "cumprod" else rnd(2, 3, 4, seed=100)
        cs.append(mk(f"{op} dim 0", op, x, run, dim=0))
        cs.append(mk(f"{op} dim 1", op, x, run, dim=1))
        cs.append(mk(f"{op} dim -1", op, x, run, dim=-1))
        cs.append(mk(f"{op} transposed dim -1", op, x, run, dim=-1, pre="t"))
        cs.append(mk(f"{op} strided dim -1", op, rnd(2, 3, 8, seed=101), run, dim=-1, pre="s"))
        cs.append(mk(f"{op} expanded dim 1", op, rnd(2, 1, 4, seed=102), run, dim=1, pre="e"))
        cs.append(mk(f"{op} 0-d", op, rnd(seed=103), run, dim=0))
        cs.append(mk(f"{op} size-0", op, rnd(2, 0), run, dim=1))
        cs.append(mk(f"{op} size-1 dim", op, rnd(3, 1, seed=104), run, dim=1))
        cs.append(mk(f"{op} float32", op, x.to(f32), run, dim=1))
        cs.append(mk(f"{op} int32", op, torch.tensor([[1, 2, 3], [-1, 4, 2]], dtype=torch.int32), run, dim=1))
    z = torch.tensor([[2.0, 0.0, 3.0, 1.5, -1.0], [0.5, 2.0, 0.0, 4.0, 0.0], [0.0, 0.0, 1.0, 2.0, 3.0],
                      [1.0, 2.0, 3.0, 4.0, 0.0]], dtype=torch.float64)
    cs.append(mk("cumprod zeros dim 1", "cumprod", z, scan(torch.cumprod), dim=1))
    cs.append(mk("cumprod zeros dim 0", "cumprod", z, scan(torch.cumprod), dim=0))
    cs.append(mk("cumprod zeros transposed", "cumprod", z, scan(torch.cumprod), dim=1, pre="t"))
    write("reduce", cs)


if __name__ == "__main__":
    main()
