"""PyTorch reference trajectories for src/optim: optimizer steps and learning-rate schedules.

Optimizer cases fit W [3,4] and b [3] to loss = sum((x W^T + b - y)^2) from fixed starting values and
record the parameters after each step. Scheduler cases record get_last_lr() (and the momentum for
OneCycleLR) after construction and after each step. Options are stored with Neurite's camelCase names.
"""
import re

import torch

from common import T, rnd, write

STEPS = 6
SCHED_STEPS = 30


def snake(name):
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def torch_opts(opts):
    return {snake(k): (tuple(v) if isinstance(v, list) else v) for k, v in opts.items()}


OPTIMIZERS = {
    "SGD": torch.optim.SGD,
    "Adam": torch.optim.Adam,
    "AdamW": torch.optim.AdamW,
    "Adagrad": torch.optim.Adagrad,
    "RMSprop": torch.optim.RMSprop,
}


def problem(dtype):
    w = rnd(3, 4, seed=1, dtype=dtype)
    b = rnd(3, seed=2, dtype=dtype)
    x = rnd(5, 4, seed=3, dtype=dtype)
    y = rnd(5, 3, seed=4, dtype=dtype)
    return w, b, x, y


def opt_case(name, opt, options, groups=None, dtype=torch.float64, steps=STEPS):
    """groups: None (one group of [W, b]) or a list of (param indices, group options)."""
    w0, b0, x, y = problem(dtype)
    params = [w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)]
    if groups is None:
        o = OPTIMIZERS[opt](params, **torch_opts(options))
    else:
        o = OPTIMIZERS[opt]([dict(params=[params[i] for i in idx], **torch_opts(go)) for idx, go in groups],
                            **torch_opts(options))
    traj = []
    for _ in range(steps):
        o.zero_grad()
        loss = ((x @ params[0].t() + params[1] - y) ** 2).sum()
        loss.backward()
        o.step()
        traj.append([T(p) for p in params])
    return {"name": name, "op": "optimizer", "optimizer": opt, "options": options,
            "groups": None if groups is None else [{"params": idx, "options": go} for idx, go in groups],
            "inputs": [T(w0), T(b0), T(x), T(y)], "steps": traj, "out": []}


SCHEDULERS = {
    "StepLR": torch.optim.lr_scheduler.StepLR,
    "MultiStepLR": torch.optim.lr_scheduler.MultiStepLR,
    "ExponentialLR": torch.optim.lr_scheduler.ExponentialLR,
    "CosineAnnealingLR": torch.optim.lr_scheduler.CosineAnnealingLR,
    "LinearLR": torch.optim.lr_scheduler.LinearLR,
    "OneCycleLR": torch.optim.lr_scheduler.OneCycleLR,
    "ReduceLROnPlateau": torch.optim.lr_scheduler.ReduceLROnPlateau,
}

RENAME = {"tMax": "T_max"}

METRICS = [1.0, 0.9, 0.95, 0.95, 0.97, 0.96, 0.99, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9, 0.7,
           0.7, 0.7, 0.71, 0.72, 0.69, 0.69, 0.69, 0.69, 0.69, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6]


def sched_case(name, scheds, opt="SGD", opt_options=None, steps=SCHED_STEPS, metrics=None):
    """scheds: list of (scheduler name, options) stepped together each epoch (chaining)."""
    opt_options = opt_options or {"lr": 0.1, "momentum": 0.9}
    p1 = torch.zeros(2, requires_grad=True)
    p2 = torch.zeros(3, requires_grad=True)
    o = OPTIMIZERS[opt]([{"params": [p1]}, {"params": [p2], "lr": opt_options["lr"] / 10}],
                        **torch_opts(opt_options))
    ss = []
    for sname, sopts in scheds:
        kw = {RENAME.get(k, snake(k)): v for k, v in sopts.items()}
        ss.append(SCHEDULERS[sname](o, **kw))

    def momenta():
        if opt == "SGD":
            return [g["momentum"] for g in o.param_groups]
        return [g["betas"][0] for g in o.param_groups]

    lrs = [[g["lr"] for g in o.param_groups]]
    moms = [momenta()]
    for e in range(steps):
        o.step()
        for s in ss:
            if metrics is not None:
                s.step(metrics[e])
            else:
                s.step()
        lrs.append([g["lr"] for g in o.param_groups])
        moms.append(momenta())
    return {"name": name, "op": "scheduler", "optimizer": opt, "options": opt_options,
            "schedulers": [{"name": n, "options": so} for n, so in scheds], "metrics": metrics,
            "lrs": lrs, "momenta": moms, "inputs": [], "out": []}


def main():
    f32 = torch.float32
    cases = [
        opt_case("sgd", "SGD", {"lr": 0.01}),
        opt_case("sgd momentum", "SGD", {"lr": 0.01, "momentum": 0.9}),
        opt_case("sgd momentum dampening wd", "SGD", {"lr": 0.01, "momentum": 0.8, "dampening": 0.3,
                                                      "weightDecay": 0.1}),
        opt_case("sgd nesterov", "SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True, "weightDecay": 0.05}),
        opt_case("sgd maximize", "SGD", {"lr": 0.01, "momentum": 0.5, "maximize": True}),
        opt_case("sgd groups", "SGD", {"lr": 0.01, "momentum": 0.9},
                 groups=[([0], {"lr": 0.03}), ([1], {"momentum": 0.5})]),
        opt_case("adam", "Adam", {"lr": 0.05}),
        opt_case("adam betas eps wd", "Adam", {"lr": 0.02, "betas": [0.8, 0.9], "eps": 1e-3, "weightDecay": 0.1}),
        opt_case("adam amsgrad", "Adam", {"lr": 0.05, "amsgrad": True, "weightDecay": 0.01}),
        opt_case("adam maximize", "Adam", {"lr": 0.05, "maximize": True}),
        opt_case("adam groups", "Adam", {"lr": 0.05},
                 groups=[([1], {"lr": 0.1, "amsgrad": True}), ([0], {"betas": [0.5, 0.6]})]),
        opt_case("adamw", "AdamW", {"lr": 0.05}),
        opt_case("adamw wd amsgrad", "AdamW", {"lr": 0.05, "weightDecay": 0.5, "amsgrad": True}),
        opt_case("adagrad", "Adagrad", {"lr": 0.1}),
        opt_case("adagrad decay init wd", "Adagrad", {"lr": 0.1, "lrDecay": 0.05, "initialAccumulatorValue": 0.5,
                                                      "weightDecay": 0.1, "eps": 1e-6}),
        opt_case("adagrad maximize", "Adagrad", {"lr": 0.1, "maximize": True}),
        opt_case("rmsprop", "RMSprop", {"lr": 0.01}),
        opt_case("rmsprop centered momentum wd", "RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True,
                                                             "momentum": 0.5, "weightDecay": 0.1}),
        opt_case("rmsprop momentum", "RMSprop", {"lr": 0.01, "momentum": 0.9, "eps": 1e-4}),
        opt_case("rmsprop centered", "RMSprop", {"lr": 0.01, "centered": True}),
        opt_case("rmsprop groups", "RMSprop", {"lr": 0.01},
                 groups=[([0], {"lr": 0.02, "centered": True}), ([1], {"momentum": 0.3})]),
        opt_case("sgd nesterov float32", "SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True}, dtype=f32),
        opt_case("adam float32", "Adam", {"lr": 0.05, "weightDecay": 0.1}, dtype=f32),
        opt_case("adamw float32", "AdamW", {"lr": 0.05, "amsgrad": True}, dtype=f32),
        opt_case("rmsprop float32", "RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}, dtype=f32),
        opt_case("adagrad float32", "Adagrad", {"lr": 0.1, "lrDecay": 0.01}, dtype=f32),
        sched_case("step", [("StepLR", {"stepSize": 7, "gamma": 0.5})]),
        sched_case("multistep", [("MultiStepLR", {"milestones": [3, 10, 10, 25], "gamma": 0.3})]),
        sched_case("exponential", [("ExponentialLR", {"gamma": 0.9})]),
        sched_case("cosine", [("CosineAnnealingLR", {"tMax": 10, "etaMin": 0.001})]),
        sched_case("cosine no min", [("CosineAnnealingLR", {"tMax": 12})]),
        sched_case("linear", [("LinearLR", {"startFactor": 0.1, "endFactor": 1.0, "totalIters": 8})]),
        sched_case("linear decay", [("LinearLR", {"startFactor": 1.0, "endFactor": 0.25, "totalIters": 12})]),
        sched_case("linear default", [("LinearLR", {})]),
        sched_case("warmup then cosine", [("LinearLR", {"startFactor": 0.2, "totalIters": 5}),
                                          ("CosineAnnealingLR", {"tMax": 30, "etaMin": 0.0})]),
        sched_case("warmup then step", [("LinearLR", {"startFactor": 0.5, "totalIters": 4}),
                                        ("StepLR", {"stepSize": 10, "gamma": 0.1})]),
        sched_case("onecycle cos", [("OneCycleLR", {"maxLr": 1.0, "totalSteps": 30})]),
        sched_case("onecycle linear", [("OneCycleLR", {"maxLr": [0.5, 0.2], "epochs": 5, "stepsPerEpoch": 7,
                                                       "pctStart": 0.25, "annealStrategy": "linear",
                                                       "divFactor": 10.0, "finalDivFactor": 100.0})]),
        sched_case("onecycle three phase", [("OneCycleLR", {"maxLr": 0.8, "totalSteps": 31, "threePhase": True,
                                                            "baseMomentum": 0.8, "maxMomentum": 0.9})]),
        sched_case("onecycle no momentum", [("OneCycleLR", {"maxLr": 0.3, "totalSteps": 30,
                                                            "cycleMomentum": False})]),
        sched_case("onecycle adam", [("OneCycleLR", {"maxLr": 0.01, "totalSteps": 30})], opt="Adam",
                   opt_options={"lr": 0.001}),
        sched_case("plateau min rel", [("ReduceLROnPlateau", {"patience": 2})], metrics=METRICS),
        sched_case("plateau min abs cooldown", [("ReduceLROnPlateau", {"patience": 1, "factor": 0.5,
                                                                       "thresholdMode": "abs", "threshold": 0.05,
                                                                       "cooldown": 2, "minLr": [0.02, 0.004]})],
                   metrics=METRICS),
        sched_case("plateau max", [("ReduceLROnPlateau", {"mode": "max", "patience": 0, "factor": 0.7,
                                                          "minLr": 0.003})], metrics=METRICS),
        sched_case("plateau max abs", [("ReduceLROnPlateau", {"mode": "max", "patience": 1, "factor": 0.5,
                                                              "thresholdMode": "abs", "threshold": 0.01})],
                   metrics=METRICS),
    ]
    write("optim", cases)


if __name__ == "__main__":
    main()
