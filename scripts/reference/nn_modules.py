"""PyTorch references for nn layers (modules): each case builds a PyTorch layer with a fixed seed and
stores its state dict, then runs one or more steps (train or eval mode) recording input(s), output,
the gradients of sum(out * cot) w.r.t. the floating inputs and the parameters, and finally the state
dict after the steps (running statistics). The test loads the state dict into the Neurite layer
with `loadStateDict` (which also proves the key names match) and replays the steps.

Writes test/reference/nn_modules.json (layers) and test/reference/nn_utils.json (clip_grad_norm_,
clip_grad_value_, calculate_gain).

Neurite constructors are described as {"ctor", "args", "kwargs"} (camelCase options); "tensorKwargs"
maps an option name to a state-dict key whose tensor is passed as that option (loss class weights).
"""
import math
import warnings

import torch
import torch.nn as nn

from common import T, rnd, write

warnings.filterwarnings("ignore")

F32_TOL = {"atol": 2e-5, "rtol": 1e-4}


def spec(ctor, args=(), kwargs=None):
    return {"ctor": ctor, "args": list(args), "kwargs": kwargs}


def layer_case(name, neurite, make, steps, dtype=torch.float64, seed=0, tensor_kwargs=None, tol=None):
    """make(): builds the torch module (after torch.manual_seed(seed)); steps: [(mode, [inputs])]."""
    torch.manual_seed(seed)
    mod = make().to(dtype)
    c = {"name": name, **neurite, "dtype": "float64" if dtype == torch.float64 else "float32",
         "state": {k: T(v) for k, v in mod.state_dict().items()}, "steps": []}
    if tensor_kwargs:
        c["tensorKwargs"] = tensor_kwargs
    if tol:
        c["tol"] = tol
    for i, (mode, inputs) in enumerate(steps):
        mod.train(mode == "train")
        ins = []
        for x in inputs:
            x = x.detach().clone()
            if x.is_floating_point():
                x = x.to(dtype).requires_grad_(True)
            ins.append(x)
        out = mod(*ins)
        step = {"mode": mode, "inputs": [T(x) for x in ins], "out": T(out)}
        if out.requires_grad:
            g = torch.Generator().manual_seed(seed + 1234 + i)
            cot = torch.rand(out.shape, generator=g, dtype=torch.float64).to(out.dtype) * 2 - 1
            mod.zero_grad()
            (out * cot).sum().backward()
            step["cot"] = T(cot)
            step["inputGrads"] = [T(x.grad) if x.grad is not None else None for x in ins]
            step["paramGrads"] = {k: T(p.grad) for k, p in mod.named_parameters() if p.grad is not None}
        c["steps"].append(step)
    c["stateAfter"] = {k: T(v) for k, v in mod.state_dict().items()}
    return c


def ints(*shape, high, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, high, shape, generator=g)


def one(x):
    return [("train", [x])]


def layers():
    cs = []
    d = {"dtype": "float64"}
    f = {"dtype": "float32"}
    # linear family
    cs.append(layer_case("Linear", spec("Linear", [4, 3], d), lambda: nn.Linear(4, 3), one(rnd(5, 4, seed=1))))
    cs.append(layer_case("Linear no bias 3-d input", spec("Linear", [4, 2], {**d, "bias": False}),
                         lambda: nn.Linear(4, 2, bias=False), one(rnd(2, 3, 4, seed=2))))
    cs.append(layer_case("Bilinear", spec("Bilinear", [3, 4, 2], d), lambda: nn.Bilinear(3, 4, 2),
                         [("train", [rnd(5, 3, seed=3), rnd(5, 4, seed=4)])]))
    cs.append(layer_case("Bilinear no bias", spec("Bilinear", [2, 3, 4], {**d, "bias": False}),
                         lambda: nn.Bilinear(2, 3, 4, bias=False), [("train", [rnd(2, 3, 2, seed=5), rnd(2, 3, 3, seed=6)])]))
    # convolutions
    cs.append(layer_case("Conv1d stride2 pad1", spec("Conv1d", [2, 3, 3], {**d, "stride": 2, "padding": 1}),
                         lambda: nn.Conv1d(2, 3, 3, stride=2, padding=1), one(rnd(2, 2, 9, seed=7))))
    cs.append(layer_case("Conv1d same reflect", spec("Conv1d", [2, 2, 4], {**d, "padding": "same", "paddingMode": "reflect"}),
                         lambda: nn.Conv1d(2, 2, 4, padding="same", padding_mode="reflect"), one(rnd(1, 2, 7, seed=8))))
    cs.append(layer_case("Conv2d pad1", spec("Conv2d", [3, 4, 3], {**d, "padding": 1}),
                         lambda: nn.Conv2d(3, 4, 3, padding=1), one(rnd(2, 3, 5, 4, seed=9))))
    cs.append(layer_case("Conv2d stride2 dilation2 groups2", spec("Conv2d", [4, 6, [3, 2]], {**d, "stride": 2, "dilation": 2, "groups": 2}),
                         lambda: nn.Conv2d(4, 6, (3, 2), stride=2, dilation=2, groups=2), one(rnd(1, 4, 9, 8, seed=10))))
    cs.append(layer_case("Conv2d same", spec("Conv2d", [2, 3, [3, 4]], {**d, "padding": "same", "bias": False}),
                         lambda: nn.Conv2d(2, 3, (3, 4), padding="same", bias=False), one(rnd(2, 2, 5, 6, seed=11))))
    for mode in ("reflect", "replicate", "circular"):
        cs.append(layer_case(f"Conv2d pad {mode}", spec("Conv2d", [2, 2, 3], {**d, "padding": [1, 2], "paddingMode": mode}),
                             lambda mode=mode: nn.Conv2d(2, 2, 3, padding=(1, 2), padding_mode=mode), one(rnd(1, 2, 4, 5, seed=12))))
    cs.append(layer_case("Conv2d unbatched", spec("Conv2d", [2, 3, 2], d), lambda: nn.Conv2d(2, 3, 2),
                         one(rnd(2, 4, 4, seed=13))))
    cs.append(layer_case("Conv2d float32", spec("Conv2d", [3, 2, 3], {**f, "stride": [1, 2]}),
                         lambda: nn.Conv2d(3, 2, 3, stride=(1, 2)), one(rnd(2, 3, 6, 7, seed=14)), dtype=torch.float32, tol=F32_TOL))
    cs.append(layer_case("ConvTranspose2d", spec("ConvTranspose2d", [4, 2, 3], {**d, "stride": 2, "padding": 1, "outputPadding": 1}),
                         lambda: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1), one(rnd(2, 4, 3, 3, seed=15))))
    cs.append(layer_case("ConvTranspose2d groups2 dilation", spec("ConvTranspose2d", [4, 6, [2, 3]], {**d, "groups": 2, "dilation": [1, 2]}),
                         lambda: nn.ConvTranspose2d(4, 6, (2, 3), groups=2, dilation=(1, 2)), one(rnd(1, 4, 3, 4, seed=16))))
    cs.append(layer_case("ConvTranspose1d", spec("ConvTranspose1d", [3, 2, 3], {**d, "stride": 3}),
                         lambda: nn.ConvTranspose1d(3, 2, 3, stride=3), one(rnd(2, 3, 4, seed=17))))
    # pooling
    x4 = rnd(2, 3, 7, 6, seed=18)
    x3 = rnd(2, 3, 9, seed=19)
    cs.append(layer_case("MaxPool1d", spec("MaxPool1d", [2]), lambda: nn.MaxPool1d(2), one(x3)))
    cs.append(layer_case("MaxPool2d k3 s2 p1", spec("MaxPool2d", [3], {"stride": 2, "padding": 1}),
                         lambda: nn.MaxPool2d(3, stride=2, padding=1), one(x4)))
    cs.append(layer_case("MaxPool2d ceil dilation", spec("MaxPool2d", [2], {"ceilMode": True, "dilation": [1, 2]}),
                         lambda: nn.MaxPool2d(2, ceil_mode=True, dilation=(1, 2)), one(x4)))
    cs.append(layer_case("AvgPool1d", spec("AvgPool1d", [3], {"stride": 2}), lambda: nn.AvgPool1d(3, stride=2), one(x3)))
    cs.append(layer_case("AvgPool2d", spec("AvgPool2d", [2]), lambda: nn.AvgPool2d(2), one(x4)))
    cs.append(layer_case("AvgPool2d pad no-count", spec("AvgPool2d", [3], {"stride": 2, "padding": 1, "countIncludePad": False}),
                         lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), one(x4)))
    cs.append(layer_case("AdaptiveAvgPool2d [3,2]", spec("AdaptiveAvgPool2d", [[3, 2]]), lambda: nn.AdaptiveAvgPool2d((3, 2)), one(x4)))
    cs.append(layer_case("AdaptiveAvgPool2d 1", spec("AdaptiveAvgPool2d", [1]), lambda: nn.AdaptiveAvgPool2d(1), one(x4)))
    cs.append(layer_case("AdaptiveMaxPool2d", spec("AdaptiveMaxPool2d", [[4, None]]), lambda: nn.AdaptiveMaxPool2d((4, None)), one(x4)))
    # reshaping, dropout in eval mode
    cs.append(layer_case("Flatten", spec("Flatten"), lambda: nn.Flatten(), one(rnd(2, 3, 2, 2, seed=20))))
    cs.append(layer_case("Flatten 0..-2", spec("Flatten", [0, -2]), lambda: nn.Flatten(0, -2), one(rnd(2, 3, 4, seed=21))))
    cs.append(layer_case("Unflatten", spec("Unflatten", [1, [2, -1]]), lambda: nn.Unflatten(1, (2, -1)), one(rnd(2, 6, 3, seed=22))))
    cs.append(layer_case("Dropout eval", spec("Dropout", [0.3]), lambda: nn.Dropout(0.3), [("eval", [rnd(4, 5, seed=23)])]))
    cs.append(layer_case("Dropout2d eval", spec("Dropout2d", [0.3]), lambda: nn.Dropout2d(0.3), [("eval", [rnd(2, 3, 2, 2, seed=24)])]))
    # normalisation: two training steps, then eval
    cs.append(layer_case("BatchNorm1d 2-d", spec("BatchNorm1d", [3], d), lambda: nn.BatchNorm1d(3),
                         [("train", [rnd(6, 3, seed=25, low=-2, high=3)]), ("train", [rnd(4, 3, seed=26, low=0, high=1)]),
                          ("eval", [rnd(2, 3, seed=27)])], seed=1))
    cs.append(layer_case("BatchNorm1d 3-d momentum0.3", spec("BatchNorm1d", [2], {**d, "momentum": 0.3}),
                         lambda: nn.BatchNorm1d(2, momentum=0.3),
                         [("train", [rnd(3, 2, 4, seed=28, low=1, high=4)]), ("train", [rnd(3, 2, 4, seed=29)]),
                          ("eval", [rnd(2, 2, 3, seed=30)])]))
    cs.append(layer_case("BatchNorm2d", spec("BatchNorm2d", [3], d), lambda: nn.BatchNorm2d(3),
                         [("train", [rnd(2, 3, 3, 2, seed=31, low=-1, high=3)]), ("train", [rnd(3, 3, 2, 2, seed=32)]),
                          ("eval", [rnd(1, 3, 2, 2, seed=33)])], seed=2))
    cs.append(layer_case("BatchNorm2d momentum None", spec("BatchNorm2d", [2], {**d, "momentum": None}),
                         lambda: nn.BatchNorm2d(2, momentum=None),
                         [("train", [rnd(2, 2, 2, 2, seed=34, low=2, high=5)]), ("train", [rnd(2, 2, 3, 2, seed=35)]),
                          ("eval", [rnd(1, 2, 2, 2, seed=36)])]))
    cs.append(layer_case("BatchNorm2d no affine", spec("BatchNorm2d", [2], {**d, "affine": False}),
                         lambda: nn.BatchNorm2d(2, affine=False),
                         [("train", [rnd(2, 2, 2, 2, seed=37)]), ("eval", [rnd(1, 2, 2, 2, seed=38)])]))
    cs.append(layer_case("BatchNorm2d no running stats", spec("BatchNorm2d", [2], {**d, "trackRunningStats": False}),
                         lambda: nn.BatchNorm2d(2, track_running_stats=False),
                         [("train", [rnd(2, 2, 2, 2, seed=39)]), ("eval", [rnd(3, 2, 2, 2, seed=40)])]))
    cs.append(layer_case("BatchNorm2d float32", spec("BatchNorm2d", [3], f), lambda: nn.BatchNorm2d(3),
                         [("train", [rnd(2, 3, 2, 2, seed=41)]), ("train", [rnd(2, 3, 2, 2, seed=42)]),
                          ("eval", [rnd(1, 3, 2, 2, seed=43)])], dtype=torch.float32, tol=F32_TOL))
    cs.append(layer_case("LayerNorm", spec("LayerNorm", [4], d), lambda: nn.LayerNorm(4), one(rnd(2, 3, 4, seed=44))))
    cs.append(layer_case("LayerNorm [3,4] no affine", spec("LayerNorm", [[3, 4]], {**d, "elementwiseAffine": False, "eps": 1e-3}),
                         lambda: nn.LayerNorm((3, 4), elementwise_affine=False, eps=1e-3), one(rnd(2, 3, 4, seed=45))))
    cs.append(layer_case("GroupNorm", spec("GroupNorm", [2, 4], d), lambda: nn.GroupNorm(2, 4), one(rnd(2, 4, 3, seed=46))))

    def perturbed(m):
        # non-trivial affine parameters for the norm layers
        with torch.no_grad():
            for p in m.parameters():
                p.add_(torch.rand(p.shape, generator=torch.Generator().manual_seed(7), dtype=p.dtype) - 0.5)
        return m
    cs.append(layer_case("GroupNorm perturbed 4-d", spec("GroupNorm", [3, 6], {**d, "eps": 1e-4}),
                         lambda: perturbed(nn.GroupNorm(3, 6, eps=1e-4)), one(rnd(2, 6, 2, 2, seed=47))))
    cs.append(layer_case("LayerNorm perturbed", spec("LayerNorm", [5], d), lambda: perturbed(nn.LayerNorm(5)),
                         one(rnd(3, 5, seed=48))))
    cs.append(layer_case("Embedding paddingIdx", spec("Embedding", [10, 3], {**d, "paddingIdx": 0}),
                         lambda: nn.Embedding(10, 3, padding_idx=0), one(torch.tensor([[0, 3, 3], [9, 0, 1]]))))
    # activations
    xa = rnd(3, 5, seed=49, low=-4, high=4)
    acts = [("ReLU", [], None, nn.ReLU()), ("LeakyReLU", [], {"negativeSlope": 0.2}, nn.LeakyReLU(0.2)),
            ("ELU", [], {"alpha": 0.7}, nn.ELU(0.7)), ("SELU", [], None, nn.SELU()), ("GELU", [], None, nn.GELU()),
            ("GELU", [], {"approximate": "tanh"}, nn.GELU(approximate="tanh")), ("SiLU", [], None, nn.SiLU()),
            ("Sigmoid", [], None, nn.Sigmoid()), ("Tanh", [], None, nn.Tanh()),
            ("Softplus", [], {"beta": 2, "threshold": 3}, nn.Softplus(beta=2, threshold=3)), ("Mish", [], None, nn.Mish()),
            ("Hardtanh", [], {"minVal": -2, "maxVal": 1.5}, nn.Hardtanh(-2, 1.5)), ("ReLU6", [], None, nn.ReLU6()),
            ("Hardsigmoid", [], None, nn.Hardsigmoid()), ("Hardswish", [], None, nn.Hardswish()),
            ("LogSigmoid", [], None, nn.LogSigmoid()), ("Softmax", [1], None, nn.Softmax(dim=1)),
            ("LogSoftmax", [0], None, nn.LogSoftmax(dim=0)), ("Identity", [], None, nn.Identity())]
    for ctor, args, kw, m in acts:
        cs.append(layer_case(f"{ctor} {kw or ''}".strip(), spec(ctor, args, kw), lambda m=m: m, one(xa)))
    # losses
    logits = rnd(4, 5, seed=50, low=-2, high=2)
    cls = torch.tensor([1, 0, 4, 2])
    cw = rnd(5, seed=51, low=0.5, high=2)
    reg_in, reg_t = rnd(3, 4, seed=52, low=-2, high=2), rnd(3, 4, seed=53, low=-2, high=2)
    prob, ptarget = rnd(3, 4, seed=54, low=0.05, high=0.95), rnd(3, 4, seed=55, low=0, high=1)

    def loss(name, neurite, make, inputs, tensor_kwargs=None):
        cs.append(layer_case(name, neurite, make, [("train", inputs)], tensor_kwargs=tensor_kwargs))

    loss("MSELoss", spec("MSELoss"), nn.MSELoss, [reg_in, reg_t])
    loss("L1Loss sum", spec("L1Loss", [], {"reduction": "sum"}), lambda: nn.L1Loss(reduction="sum"), [reg_in, reg_t])
    loss("SmoothL1Loss", spec("SmoothL1Loss", [], {"beta": 0.5}), lambda: nn.SmoothL1Loss(beta=0.5), [reg_in, reg_t])
    loss("HuberLoss none", spec("HuberLoss", [], {"delta": 1.5, "reduction": "none"}),
         lambda: nn.HuberLoss(delta=1.5, reduction="none"), [reg_in, reg_t])
    loss("CrossEntropyLoss", spec("CrossEntropyLoss"), nn.CrossEntropyLoss, [logits, cls])
    loss("CrossEntropyLoss weight smoothing ignore", spec("CrossEntropyLoss", [], {"labelSmoothing": 0.1, "ignoreIndex": 2}),
         lambda: nn.CrossEntropyLoss(weight=cw, label_smoothing=0.1, ignore_index=2), [logits, cls],
         tensor_kwargs={"weight": "weight"})
    loss("CrossEntropyLoss probabilities", spec("CrossEntropyLoss"), nn.CrossEntropyLoss,
         [logits, torch.softmax(rnd(4, 5, seed=56), 1)])
    loss("NLLLoss weight", spec("NLLLoss"), lambda: nn.NLLLoss(weight=cw), [torch.log_softmax(logits, 1), cls],
         tensor_kwargs={"weight": "weight"})
    loss("BCELoss", spec("BCELoss"), nn.BCELoss, [prob, ptarget])
    loss("BCEWithLogitsLoss posWeight", spec("BCEWithLogitsLoss"), lambda: nn.BCEWithLogitsLoss(pos_weight=rnd(4, seed=57, low=0.5, high=3)),
         [reg_in, ptarget], tensor_kwargs={"posWeight": "pos_weight"})
    loss("KLDivLoss batchmean", spec("KLDivLoss", [], {"reduction": "batchmean"}), lambda: nn.KLDivLoss(reduction="batchmean"),
         [torch.log_softmax(logits, 1), torch.softmax(rnd(4, 5, seed=58), 1)])
    loss("CosineSimilarity", spec("CosineSimilarity", [], {"dim": 0}), lambda: nn.CosineSimilarity(dim=0), [reg_in, reg_t])
    # a small model: nested keys like `1.running_mean`
    cs.append(layer_case(
        "Sequential CNN",
        spec("Sequential", [spec("Conv2d", [2, 3, 3], {**d, "padding": 1}), spec("BatchNorm2d", [3], d), spec("ReLU"),
                            spec("MaxPool2d", [2]), spec("Flatten"), spec("Linear", [12, 2], d)]),
        lambda: nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(12, 2)),
        [("train", [rnd(2, 2, 4, 4, seed=59)]), ("eval", [rnd(1, 2, 4, 4, seed=60)])]))
    return cs


def utils():
    cs = []
    for name, norm_type, max_norm in [("l2 clipped", 2.0, 1.0), ("l2 not clipped", 2.0, 100.0), ("inf", math.inf, 0.5),
                                      ("l1", 1.0, 2.0), ("p3", 3.0, 0.7)]:
        ps = [rnd(3, 4, seed=61), rnd(5, seed=62), rnd(2, 2, seed=63)]
        grads = [rnd(3, 4, seed=64, low=-2, high=2), rnd(5, seed=65), None]
        params = []
        for p, g in zip(ps, grads):
            p = p.clone().requires_grad_(True)
            if g is not None:
                p.grad = g.clone()
            params.append(p)
        total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
        cs.append({"name": f"clipGradNorm {name}", "op": "clipGradNorm", "normType": "inf" if math.isinf(norm_type) else norm_type,
                   "maxNorm": max_norm, "grads": [T(g) if g is not None else None for g in grads],
                   "total": float(total), "clipped": [T(p.grad) if p.grad is not None else None for p in params]})
    p = rnd(3, 4, seed=66).requires_grad_(True)
    p.grad = rnd(3, 4, seed=67, low=-2, high=2)
    g0 = p.grad.clone()
    torch.nn.utils.clip_grad_value_([p], 0.5)
    cs.append({"name": "clipGradValue", "op": "clipGradValue", "clipValue": 0.5, "grads": [T(g0)], "clipped": [T(p.grad)]})
    gains = []
    for nl, param in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                      ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]:
        gains.append({"nonlinearity": nl, "param": param, "gain": nn.init.calculate_gain(nl, param)})
    cs.append({"name": "calculateGain", "op": "calculateGain", "gains": gains})
    return cs


if __name__ == "__main__":
    write("nn_modules", layers())
    write("nn_utils", utils(), generator="nn_modules.py")
