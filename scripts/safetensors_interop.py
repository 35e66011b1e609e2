"""Safetensors interop between PyTorch and Neurite.

  /usr/bin/python3 scripts/safetensors_interop.py write
      Writes the fixtures Neurite's tests read, with torch + the `safetensors` package:
        test/fixtures/torch_sequential.safetensors  state dict of nn.Sequential(Linear, BatchNorm1d, Linear)
                                                     (incl. the int64 num_batches_tracked), with metadata
        test/fixtures/torch_dtypes.safetensors      f64 / i32 / bool / i64 / f16 / bf16 / i8 / u8 / i16
                                                     tensors, a 0-d and a zero-size tensor
        test/fixtures/torch_fixtures.json           the expected keys, dtypes, shapes, values and metadata,
                                                     plus an input and the model's eval-mode output

  /usr/bin/python3 scripts/safetensors_interop.py check FILE [--expect EXPECT.json]
      Loads FILE (written by Neurite) with safetensors.torch.load_file and prints a JSON summary.
      With --expect, validates it against EXPECT.json:
        {"tensors": {key: {"dtype": "float32", "shape": [...], "values": [...]}},
         "metadata": {...},
         "model": {"input": [[...]], "output": [[...]], "tol": 1e-5},   (optional: Sequential as above)
         "byteIdentical": true}                                          (optional: same bytes as
                                                                          safetensors.torch.save)
      Exits with status 1 (and says why on stderr) on any mismatch.

Requires torch and safetensors (`python3 -m pip install safetensors`).
"""

import json
import math
import os
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save, save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "test", "fixtures")


def make_model():
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 2))


def flat_values(t):
    """Row-major values as JSON-friendly Python numbers (floats exact, NaN/inf as strings)."""
    vals = t.detach().reshape(-1)
    if t.dtype == torch.bool:
        return [bool(v) for v in vals.tolist()]
    if t.dtype in (torch.float16, torch.bfloat16):
        vals = vals.float()
    out = []
    for v in vals.tolist():
        if isinstance(v, float) and not math.isfinite(v):
            out.append(str(v))
        else:
            out.append(v)
    return out


def describe(tensors, metadata):
    return {
        "tensors": {
            k: {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "values": flat_values(t)}
            for k, t in sorted(tensors.items())
        },
        "metadata": metadata or {},
    }


def write():
    os.makedirs(FIXTURES, exist_ok=True)
    torch.manual_seed(0)
    model = make_model()
    # A few training steps so the batch-norm running statistics and num_batches_tracked are not trivial.
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        x = torch.randn(8, 4)
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    seq_meta = {"format": "pt", "source": "scripts/safetensors_interop.py"}
    save_file(state, os.path.join(FIXTURES, "torch_sequential.safetensors"), metadata=seq_meta)
    x = torch.randn(5, 4)
    with torch.no_grad():
        y = model(x)

    g = torch.Generator().manual_seed(1)
    dtypes = {
        "f64": torch.randn(2, 3, generator=g, dtype=torch.float64),
        "i32": torch.tensor([[-(2**31), -1, 0], [1, 7, 2**31 - 1]], dtype=torch.int32),
        "bool": torch.tensor([True, False, False, True, True]),
        "i64": torch.tensor([-(2**31), -5, 0, 3, 2**31 - 1], dtype=torch.int64),
        "f16": torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 6.1e-5, 5.96e-8, 0.333], dtype=torch.float16),
        "f16_special": torch.tensor([float("inf"), float("-inf")], dtype=torch.float16),
        "bf16": torch.tensor([1.0, -3.140625, 1e30, -1e-30, 0.1], dtype=torch.bfloat16),
        "i8": torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 1, 200, 255], dtype=torch.uint8),
        "i16": torch.tensor([-32768, 0, 32767], dtype=torch.int16),
        "scalar": torch.tensor(2.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
        "transposed": torch.arange(6, dtype=torch.float32).reshape(2, 3).t().contiguous(),
    }
    save_file(dtypes, os.path.join(FIXTURES, "torch_dtypes.safetensors"))

    expected = {
        "torch_sequential.safetensors": describe(state, seq_meta),
        "torch_dtypes.safetensors": describe(dtypes, {}),
        "model": {"input": x.tolist(), "output": y.tolist(), "eps": 1e-5},
    }
    with open(os.path.join(FIXTURES, "torch_fixtures.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print("wrote", ", ".join(sorted(os.listdir(FIXTURES))))


def fail(msg):
    print(f"safetensors_interop check FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def same_value(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return str(a) == str(b)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def check(path, expect_path):
    tensors = load_file(path)
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata() or {}
    summary = describe(tensors, metadata)
    report = {
        "keys": sorted(tensors),
        "dtypes": {k: v["dtype"] for k, v in summary["tensors"].items()},
        "shapes": {k: v["shape"] for k, v in summary["tensors"].items()},
        "metadata": metadata,
    }
    if expect_path is None:
        print(json.dumps(report, indent=1))
        return
    with open(expect_path) as f:
        expect = json.load(f)
    want = expect.get("tensors", {})
    if sorted(want) != sorted(tensors):
        fail(f"keys differ: file has {sorted(tensors)}, expected {sorted(want)}")
    for k, w in want.items():
        got = summary["tensors"][k]
        if got["dtype"] != w["dtype"]:
            fail(f"{k}: dtype {got['dtype']}, expected {w['dtype']}")
        if got["shape"] != w["shape"]:
            fail(f"{k}: shape {got['shape']}, expected {w['shape']}")
        if len(got["values"]) != len(w["values"]):
            fail(f"{k}: {len(got['values'])} values, expected {len(w['values'])}")
        for i, (a, b) in enumerate(zip(got["values"], w["values"])):
            if not same_value(a, b):
                fail(f"{k}: value {a!r} at flat index {i}, expected {b!r}")
    if "metadata" in expect and metadata != expect["metadata"]:
        fail(f"metadata {metadata}, expected {expect['metadata']}")
    if "model" in expect:
        model = make_model()
        model.load_state_dict(tensors, strict=True)
        model.eval()
        spec = expect["model"]
        x = torch.tensor(spec["input"], dtype=torch.float32)
        with torch.no_grad():
            y = model(x)
        err = (y - torch.tensor(spec["output"], dtype=torch.float32)).abs().max().item()
        report["model_max_abs_err"] = err
        if not err <= spec.get("tol", 1e-5):
            fail(f"model output differs from the expected output by {err}")
    if expect.get("byteIdentical"):
        with open(path, "rb") as f:
            raw = f.read()
        ref = save(tensors, metadata=metadata or None)
        report["byte_identical"] = raw == ref
        if raw != ref:
            fail(f"file ({len(raw)} bytes) is not byte-identical to safetensors.torch.save ({len(ref)} bytes)")
    report["ok"] = True
    print(json.dumps(report, indent=1))


def main(argv):
    if len(argv) >= 1 and argv[0] == "write":
        write()
    elif len(argv) >= 2 and argv[0] == "check":
        expect = None
        if "--expect" in argv:
            expect = argv[argv.index("--expect") + 1]
        check(argv[1], expect)
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
