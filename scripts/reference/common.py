"""Shared helpers for the PyTorch reference generators.

Each generator (one per op group, e.g. `binary.py`) builds cases with `case(...)` and writes them with
`write(...)` to `test/reference/<group>.json`. The JSON is committed, so CI needs no Python.
Run all generators with `npm run gen:reference` (needs Debian's python3-torch: apt-get install python3-torch).
"""
import json
import math
import os
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_DIR = os.path.join(ROOT, "test", "reference")

_DTYPES = {
    torch.float32: "float32",
    torch.float64: "float64",
    torch.int32: "int32",
    torch.int64: "int32",
    torch.bool: "bool",
}


def _num(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
    return v


def T(t):
    """Serialises a tensor as {shape, dtype, data} (int64 is stored as int32)."""
    t = t.detach().contiguous()
    data = t.reshape(-1).tolist()
    return {"shape": list(t.shape), "dtype": _DTYPES[t.dtype], "data": [_num(v) for v in data]}


def case(name, op, inputs, fn, kwargs=None, grad=True, seed=0, no_grad=()):
    """Runs fn(*inputs, **kwargs) in PyTorch and records output and input gradients.

    inputs: tensors (floating ones get requires_grad when grad=True) or plain JSON values.
    The gradient is d(sum(out * cot))/d(input) with a fixed random cotangent `cot`, also stored.
    Tuple/list outputs are stored as a list; only the first output is differentiated.
    no_grad: indices of floating inputs that must not require grad (e.g. class weights).
    """
    kwargs = kwargs or {}
    ins = []
    for i, x in enumerate(inputs):
        if isinstance(x, torch.Tensor):
            x = x.detach().clone()
            if grad and x.is_floating_point() and i not in no_grad:
                x.requires_grad_(True)
        ins.append(x)
    out = fn(*ins, **kwargs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    c = {"name": name, "op": op, "kwargs": kwargs,
         "inputs": [T(x) if isinstance(x, torch.Tensor) else {"value": x} for x in ins],
         "out": [T(o) for o in outs]}
    first = outs[0]
    if grad and first.requires_grad:
        g = torch.Generator().manual_seed(seed + 1234)
        cot = torch.rand(first.shape, generator=g, dtype=torch.float64).to(first.dtype) * 2 - 1
        diff = [x for x in ins if isinstance(x, torch.Tensor) and x.requires_grad]
        grads = torch.autograd.grad((first * cot).sum(), diff, allow_unused=True)
        it = iter(grads)
        c["cot"] = T(cot)
        c["grads"] = [None if not (isinstance(x, torch.Tensor) and x.requires_grad) else
                      (lambda gr: None if gr is None else T(gr))(next(it)) for x in ins]
    return c


def write(group, cases, generator=None):
    """Writes test/reference/<group>.json; `generator` names the script when it is not <group>.py."""
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, group + ".json")
    with open(path + ".tmp", "w") as f:
        json.dump({"generator": "scripts/reference/" + (generator or group + ".py"), "torch": torch.__version__,
                   "cases": cases}, f, separators=(",", ":"))
    os.replace(path + ".tmp", path)
    print(f"wrote {len(cases)} cases to {os.path.relpath(path, ROOT)}", file=sys.stderr)


def rnd(*shape, dtype=torch.float64, seed=0, low=-1.0, high=1.0):
    """Deterministic uniform tensor in [low, high)."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(tuple(shape), generator=g, dtype=dtype) * (high - low) + low
