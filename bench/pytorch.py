#!/usr/bin/python3
"""PyTorch (CPU) on the bench workloads, one thread count per process (run by bench/run.ts).

Usage: /usr/bin/python3 bench/pytorch.py --config torch-1|torch-2 [--quick|--tiny] [--only ids]
Prints one JSON object per line, in the shapes of bench/protocol.ts (info, row).

torch-N calls torch.set_num_threads(N). The BLAS thread count must come from the environment:
run.ts sets OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=N (see BENCHMARKS.md: with two thread pools
on two cores, torch's and OpenBLAS's, they fight each other). The protocol, workloads and sizes mirror
bench/protocol.ts and bench/neurite.ts; keep them in sync.
"""
import json
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PROTOCOLS = {
    "full": dict(target_s=0.25, reps=7, min_reps=3, max_total_s=6.0, warmup_calls=3, warmup_min_s=0.5,
                 warmup_max_s=2.0, slow_call_s=1.5, slow_reps=3, very_slow_call_s=15.0),
    "quick": dict(target_s=0.05, reps=3, min_reps=3, max_total_s=1.0, warmup_calls=1, warmup_min_s=0.1,
                  warmup_max_s=0.5, slow_call_s=0.5, slow_reps=1, very_slow_call_s=15.0),
    "tiny": dict(target_s=0.002, reps=2, min_reps=2, max_total_s=0.1, warmup_calls=1, warmup_min_s=0.0,
                 warmup_max_s=0.1, slow_call_s=0.5, slow_reps=1, very_slow_call_s=15.0),
}
SIZES = {
    "full": dict(gemm_n=1024, conv_batch=64, cnn_batch=64, mlp_batch=32, lstm_t=50, lstm_batch=32),
    "tiny": dict(gemm_n=64, conv_batch=2, cnn_batch=2, mlp_batch=4, lstm_t=3, lstm_batch=2),
}
UNITS = {"sgemm-1024": "GFLOP/s", "conv2d-fwd-bwd": "ms", "cnn-train": "samples/s", "mlp-train": "steps/s",
         "lstm-train": "ms/step"}


def measure(fn, p):
    """bench/protocol.ts measure(): warm up, calibrate the calls per repeat, time the repeats."""
    w0 = time.perf_counter()
    calls = 0
    last = 0.0
    while True:
        t0 = time.perf_counter()
        fn()
        last = time.perf_counter() - t0
        calls += 1
        if calls == 1 and last > p["slow_call_s"]:
            reps = 1 if last > p["very_slow_call_s"] else p["slow_reps"]
            per_call = []
            for _ in range(reps):
                t1 = time.perf_counter()
                fn()
                per_call.append(time.perf_counter() - t1)
            return dict(med=statistics.median(per_call), min=min(per_call), max=max(per_call), inner=1,
                        reps=reps, warmup=1, capped=True)
        spent = time.perf_counter() - w0
        if spent >= p["warmup_max_s"]:
            break
        if calls >= p["warmup_calls"] and spent >= p["warmup_min_s"]:
            break
    dt = max(last, 1e-7)
    inner = max(1, round(p["target_s"] / dt))
    reps = max(p["min_reps"], min(p["reps"], int(p["max_total_s"] // (inner * dt))))
    per_call = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        per_call.append((time.perf_counter() - t0) / inner)
    return dict(med=statistics.median(per_call), min=min(per_call), max=max(per_call), inner=inner, reps=reps,
                warmup=calls, capped=False)


def unit_value(unit, work, seconds):
    if unit == "GFLOP/s":
        return work / seconds / 1e9
    if unit in ("samples/s", "steps/s"):
        return work / seconds
    return seconds * 1e3


def emit(obj):
    print(json.dumps(obj), flush=True)


def row(config, wid, work, t, threads):
    unit = UNITS[wid]
    r = lambda x: float(f"{x:.5g}")
    v = lambda s: r(unit_value(unit, work, s))
    up = unit in ("GFLOP/s", "samples/s", "steps/s")
    return dict(kind="row", config=config, id=wid, unit=unit, value=v(t["med"]),
                lo=v(t["max"]) if up else v(t["min"]), hi=v(t["min"]) if up else v(t["max"]),
                medianMs=r(t["med"] * 1e3), minMs=r(t["min"] * 1e3), maxMs=r(t["max"] * 1e3), inner=t["inner"],
                reps=t["reps"], warmup=t["warmup"], capped=t["capped"], threads=threads)


def train_step(opt, loss_fn):
    """zero_grad, forward + loss, backward, optimizer step, loss read back."""
    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        opt.step()
        return loss.item()
    return step


def jobs(s):
    """Workload id -> (work per call, builder of the timed call)."""
    def sgemm():
        torch.manual_seed(1)
        n = s["gemm_n"]
        a = torch.randn(n, n)
        b = torch.randn(n, n)
        c = torch.empty(n, n)
        return lambda: torch.mm(a, b, out=c)

    def conv():
        torch.manual_seed(2)
        x = torch.randn(s["conv_batch"], 1, 28, 28, requires_grad=True)
        w = torch.randn(32, 1, 5, 5, requires_grad=True)
        dy = torch.randn(s["conv_batch"], 32, 28, 28)

        def fn():
            y = F.conv2d(x, w, stride=1, padding=2)  # no bias
            return torch.autograd.grad(y, (x, w), dy)
        return fn

    def cnn():
        torch.manual_seed(3)
        model = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.randn(s["cnn_batch"], 1, 28, 28)
        y = torch.randint(0, 10, (s["cnn_batch"],))
        return train_step(opt, lambda: F.cross_entropy(model(x), y))

    def mlp():
        torch.manual_seed(4)
        model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        x = torch.randn(s["mlp_batch"], 784)
        y = torch.randint(0, 10, (s["mlp_batch"],))
        return train_step(opt, lambda: F.cross_entropy(model(x), y))

    def lstm():
        torch.manual_seed(5)
        model = nn.LSTM(64, 128, num_layers=1)  # (seq, batch, feature)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.randn(s["lstm_t"], s["lstm_batch"], 64)
        target = torch.randn(1, s["lstm_batch"], 128)

        def loss():
            _, (h, _) = model(x)
            return F.mse_loss(h, target)
        return train_step(opt, loss)

    return {
        "sgemm-1024": (2 * s["gemm_n"] ** 3, sgemm),
        "conv2d-fwd-bwd": (1, conv),
        "cnn-train": (s["cnn_batch"], cnn),
        "mlp-train": (1, mlp),
        "lstm-train": (1, lstm),
    }


def openblas_thread_setter(libs):
    """Sets OpenBLAS's thread count in every loaded BLAS library that has openblas_set_num_threads (Debian's
    libblas.so.3 may be OpenBLAS itself beside libopenblasp), via ctypes; None when there is none."""
    import ctypes
    setters = []
    for path in libs:
        try:
            fn = ctypes.CDLL(path).openblas_set_num_threads
        except (OSError, AttributeError):
            continue
        fn.argtypes = [ctypes.c_int]
        setters.append(fn)
    if not setters:
        return None

    def set_threads(n):
        for fn in setters:
            fn(n)
    return set_threads


def main():
    argv = sys.argv[1:]

    def value(name):
        return argv[argv.index(name) + 1] if name in argv else None
    config = value("--config") or "torch-1"
    if not config.startswith("torch-") or not config[6:].isdigit():
        raise SystemExit(f"torch bench: unknown --config {config} (torch-<threads>)")
    threads = int(config[6:])
    mode = "tiny" if "--tiny" in argv else "quick" if "--quick" in argv else "full"
    only = [p for p in (value("--only") or "").split(",") if p]
    default_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:  # which BLAS got loaded
        with open("/proc/self/maps") as f:
            blas = sorted({line.split()[-1] for line in f if "blas" in line.lower()})
    except OSError:
        blas = []
    details = {
        "torch": torch.__version__, "python": platform.python_version(), "threads": str(torch.get_num_threads()),
        "default threads": str(default_threads), "interop threads": str(torch.get_num_interop_threads()),
        "blas": " ".join(os.path.basename(b) for b in blas),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", ""),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", ""),
    }
    set_blas_threads = openblas_thread_setter(blas)
    details["sgemm BLAS threads"] = str(threads if set_blas_threads else os.environ.get("OPENBLAS_NUM_THREADS", ""))
    emit(dict(kind="info", config=config, framework="pytorch", version=torch.__version__, details=details))
    p = PROTOCOLS[mode]
    sizes = SIZES["tiny" if mode == "tiny" else "full"]
    for wid, (work, build) in jobs(sizes).items():
        if only and not any(wid.startswith(o) for o in only):
            continue
        # torch.mm runs inside OpenBLAS, so its best N-thread set-up is OpenBLAS on N threads (BENCHMARKS.md:
        # 204-217 GFLOP/s on 2); the other workloads keep OpenBLAS on 1 thread beside torch's own pool.
        gemm = wid.startswith("sgemm") and set_blas_threads is not None
        if gemm:
            set_blas_threads(threads)
        emit(row(config, wid, work, measure(build(), p), torch.get_num_threads()))
        if gemm:
            set_blas_threads(1)


if __name__ == "__main__":
    main()
