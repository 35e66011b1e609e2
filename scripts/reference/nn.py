"""PyTorch references for nn.functional: convolution, pooling, interpolation, linear/embedding and
normalisation. Writes test/reference/nn_{conv,pool,interpolate,basic,norm}.json.

Kwargs use Neurite's camelCase option names; `snake` translates them for PyTorch.
"""
import re
import warnings

import torch
import torch.nn.functional as F

from common import case, rnd, write

warnings.filterwarnings("ignore", message=".*padding='same'.*")

F32_TOL = {"atol": 2e-5, "rtol": 1e-4}


def snake(kw):
    return {re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), k): v for k, v in kw.items()}


def call(f):
    return lambda *a, **k: f(*a, **snake(k))


def f32(c):
    c["tol"] = F32_TOL
    return c


def conv_cases():
    cs = []
    c2 = call(F.conv2d)
    c1 = call(F.conv1d)
    ct2 = call(F.conv_transpose2d)
    ct1 = call(F.conv_transpose1d)
    cs.append(case("conv2d basic", "conv2d", [rnd(2, 3, 5, 6, seed=1), rnd(4, 3, 3, 3, seed=2), rnd(4, seed=3)], c2))
    cs.append(case("conv2d stride2 pad1", "conv2d", [rnd(2, 2, 7, 6, seed=4), rnd(3, 2, 3, 2, seed=5), rnd(3, seed=6)],
                   c2, {"stride": 2, "padding": 1}))
    cs.append(case("conv2d stride(2,1) pad(0,2)", "conv2d", [rnd(1, 2, 7, 5, seed=7), rnd(2, 2, 2, 3, seed=8)], c2,
                   {"stride": [2, 1], "padding": [0, 2]}))
    cs.append(case("conv2d dilation2", "conv2d", [rnd(1, 2, 8, 7, seed=9), rnd(2, 2, 3, 3, seed=10), rnd(2, seed=11)],
                   c2, {"dilation": 2, "padding": [1, 2]}))
    cs.append(case("conv2d groups2", "conv2d", [rnd(2, 4, 5, 5, seed=12), rnd(6, 2, 3, 3, seed=13), rnd(6, seed=14)],
                   c2, {"groups": 2}))
    cs.append(case("conv2d depthwise", "conv2d", [rnd(2, 3, 6, 5, seed=15), rnd(3, 1, 3, 3, seed=16), rnd(3, seed=17)],
                   c2, {"groups": 3, "padding": 1}))
    cs.append(case("conv2d groups2 stride2 dil2", "conv2d", [rnd(1, 4, 9, 8, seed=18), rnd(4, 2, 2, 3, seed=19)], c2,
                   {"groups": 2, "stride": 2, "dilation": 2, "padding": 1}))
    cs.append(case("conv2d same odd", "conv2d", [rnd(2, 3, 5, 4, seed=20), rnd(2, 3, 3, 3, seed=21), rnd(2, seed=22)],
                   c2, {"padding": "same"}))
    cs.append(case("conv2d same even", "conv2d", [rnd(1, 2, 5, 6, seed=23), rnd(3, 2, 4, 2, seed=24)], c2,
                   {"padding": "same"}))
    cs.append(case("conv2d same dilated", "conv2d", [rnd(1, 2, 6, 6, seed=25), rnd(2, 2, 2, 3, seed=26)], c2,
                   {"padding": "same", "dilation": [3, 2]}))
    cs.append(case("conv2d valid", "conv2d", [rnd(1, 1, 4, 4, seed=27), rnd(1, 1, 4, 4, seed=28), rnd(1, seed=29)],
                   c2, {"padding": "valid"}))
    cs.append(case("conv2d 1x1", "conv2d", [rnd(2, 3, 3, 2, seed=30), rnd(5, 3, 1, 1, seed=31), rnd(5, seed=32)], c2))
    cs.append(case("conv2d unbatched", "conv2d", [rnd(2, 5, 5, seed=33), rnd(3, 2, 3, 3, seed=34), rnd(3, seed=35)],
                   c2, {"padding": 1}))
    cs.append(case("conv2d odd sizes", "conv2d", [rnd(3, 1, 7, 3, seed=36), rnd(1, 1, 5, 3, seed=37)], c2,
                   {"stride": [3, 2], "padding": 2}))
    cs.append(f32(case("conv2d f32", "conv2d", [rnd(2, 3, 8, 8, seed=38, dtype=torch.float32),
                                                 rnd(4, 3, 3, 3, seed=39, dtype=torch.float32),
                                                 rnd(4, seed=40, dtype=torch.float32)], c2, {"padding": 1})))
    cs.append(f32(case("conv2d f32 groups stride", "conv2d", [rnd(2, 4, 9, 7, seed=41, dtype=torch.float32),
                                                               rnd(4, 2, 3, 3, seed=42, dtype=torch.float32)], c2,
                       {"groups": 2, "stride": 2})))
    cs.append(case("conv1d basic", "conv1d", [rnd(2, 3, 9, seed=43), rnd(4, 3, 3, seed=44), rnd(4, seed=45)], c1))
    cs.append(case("conv1d stride2 pad1 dil2", "conv1d", [rnd(2, 2, 11, seed=46), rnd(3, 2, 3, seed=47)], c1,
                   {"stride": 2, "padding": 1, "dilation": 2}))
    cs.append(case("conv1d groups same", "conv1d", [rnd(1, 4, 8, seed=48), rnd(4, 2, 4, seed=49), rnd(4, seed=50)],
                   c1, {"groups": 2, "padding": "same"}))
    cs.append(case("convTranspose2d basic", "convTranspose2d",
                   [rnd(2, 3, 4, 3, seed=51), rnd(3, 2, 3, 3, seed=52), rnd(2, seed=53)], ct2))
    cs.append(case("convTranspose2d stride2 pad1 outpad1", "convTranspose2d",
                   [rnd(1, 2, 3, 4, seed=54), rnd(2, 3, 3, 2, seed=55), rnd(3, seed=56)], ct2,
                   {"stride": 2, "padding": 1, "outputPadding": 1}))
    cs.append(case("convTranspose2d groups2 dil2", "convTranspose2d",
                   [rnd(2, 4, 3, 3, seed=57), rnd(4, 2, 2, 3, seed=58)], ct2,
                   {"groups": 2, "dilation": 2, "stride": [1, 2]}))
    cs.append(f32(case("convTranspose2d f32", "convTranspose2d",
                       [rnd(2, 3, 5, 4, seed=59, dtype=torch.float32), rnd(3, 4, 3, 3, seed=60, dtype=torch.float32),
                        rnd(4, seed=61, dtype=torch.float32)], ct2, {"stride": 2, "padding": 1})))
    cs.append(case("convTranspose1d stride2", "convTranspose1d",
                   [rnd(2, 3, 5, seed=62), rnd(3, 2, 3, seed=63), rnd(2, seed=64)], ct1,
                   {"stride": 2, "padding": 1, "outputPadding": 1}))
    cs.append(case("unfold", "unfold", [rnd(2, 2, 5, 4, seed=65)],
                   lambda x, kernelSize, **k: F.unfold(x, kernelSize, **snake(k)),
                   {"kernelSize": [2, 3], "stride": [2, 1], "padding": 1, "dilation": [1, 2]}))
    cs.append(case("fold", "fold", [rnd(2, 12, 6, seed=66)],
                   lambda x, outputSize, kernelSize, **k: F.fold(x, outputSize, kernelSize, **snake(k)),
                   {"outputSize": [5, 4], "kernelSize": [2, 3], "stride": [2, 1], "padding": 1, "dilation": [1, 2]}))
    return cs


def pool_cases():
    cs = []
    mp2 = call(F.max_pool2d)
    mp1 = call(F.max_pool1d)
    ap2 = call(F.avg_pool2d)
    ap1 = call(F.avg_pool1d)
    cs.append(case("maxPool2d k2", "maxPool2d", [rnd(2, 3, 6, 5, seed=1)], mp2, {"kernelSize": 2}))
    cs.append(case("maxPool2d k3 s2 p1", "maxPool2d", [rnd(2, 2, 7, 6, seed=2)], mp2,
                   {"kernelSize": 3, "stride": 2, "padding": 1}))
    cs.append(case("maxPool2d dil2", "maxPool2d", [rnd(1, 2, 8, 9, seed=3)], mp2,
                   {"kernelSize": [2, 3], "stride": [1, 2], "dilation": 2, "padding": [1, 1]}))
    cs.append(case("maxPool2d ceil", "maxPool2d", [rnd(1, 2, 7, 8, seed=4)], mp2,
                   {"kernelSize": 3, "stride": 2, "ceilMode": True}))
    cs.append(case("maxPool2d ceil pad", "maxPool2d", [rnd(1, 1, 6, 6, seed=5)], mp2,
                   {"kernelSize": 2, "stride": 2, "padding": 1, "ceilMode": True}))
    cs.append(case("maxPool2d indices", "maxPool2d", [rnd(2, 2, 5, 7, seed=6)], mp2,
                   {"kernelSize": [3, 2], "stride": [2, 2], "padding": [1, 0], "returnIndices": True}))
    cs.append(case("maxPool2d unbatched", "maxPool2d", [rnd(2, 5, 5, seed=7)], mp2, {"kernelSize": 2}))
    cs.append(f32(case("maxPool2d f32", "maxPool2d", [rnd(2, 3, 8, 8, seed=8, dtype=torch.float32)], mp2,
                       {"kernelSize": 3, "stride": 2, "padding": 1})))
    cs.append(case("maxPool1d", "maxPool1d", [rnd(2, 3, 11, seed=9)], mp1,
                   {"kernelSize": 3, "stride": 2, "padding": 1, "ceilMode": True, "returnIndices": True}))
    cs.append(case("maxPool1d dil", "maxPool1d", [rnd(1, 2, 10, seed=10)], mp1, {"kernelSize": 2, "dilation": 3}))
    cs.append(case("avgPool2d k2", "avgPool2d", [rnd(2, 3, 6, 5, seed=11)], ap2, {"kernelSize": 2}))
    cs.append(case("avgPool2d k3 s2 p1", "avgPool2d", [rnd(2, 2, 7, 6, seed=12)], ap2,
                   {"kernelSize": 3, "stride": 2, "padding": 1}))
    cs.append(case("avgPool2d exclude pad", "avgPool2d", [rnd(2, 2, 7, 6, seed=13)], ap2,
                   {"kernelSize": 3, "stride": 2, "padding": 1, "countIncludePad": False}))
    cs.append(case("avgPool2d ceil pad", "avgPool2d", [rnd(1, 2, 6, 7, seed=14)], ap2,
                   {"kernelSize": [3, 2], "stride": 2, "padding": 1, "ceilMode": True}))
    cs.append(case("avgPool2d ceil exclude", "avgPool2d", [rnd(1, 2, 6, 7, seed=15)], ap2,
                   {"kernelSize": 3, "stride": 2, "padding": 1, "ceilMode": True, "countIncludePad": False}))
    cs.append(case("avgPool2d divisor", "avgPool2d", [rnd(1, 2, 5, 5, seed=16)], ap2,
                   {"kernelSize": 2, "divisorOverride": 3}))
    cs.append(f32(case("avgPool2d f32", "avgPool2d", [rnd(2, 3, 8, 8, seed=17, dtype=torch.float32)], ap2,
                       {"kernelSize": 2})))
    cs.append(case("avgPool1d", "avgPool1d", [rnd(2, 3, 10, seed=18)], ap1,
                   {"kernelSize": 3, "stride": 2, "padding": 1, "ceilMode": True, "countIncludePad": False}))
    cs.append(case("adaptiveAvgPool2d", "adaptiveAvgPool2d", [rnd(2, 3, 7, 5, seed=19)],
                   lambda x, outputSize: F.adaptive_avg_pool2d(x, outputSize), {"outputSize": [3, 2]}))
    cs.append(case("adaptiveAvgPool2d None", "adaptiveAvgPool2d", [rnd(1, 2, 5, 6, seed=20)],
                   lambda x, outputSize: F.adaptive_avg_pool2d(x, outputSize), {"outputSize": [None, 4]}))
    cs.append(case("adaptiveAvgPool2d 1", "adaptiveAvgPool2d", [rnd(2, 3, 4, 4, seed=21)],
                   lambda x, outputSize: F.adaptive_avg_pool2d(x, outputSize), {"outputSize": 1}))
    cs.append(case("adaptiveAvgPool2d upsize", "adaptiveAvgPool2d", [rnd(1, 1, 3, 2, seed=22)],
                   lambda x, outputSize: F.adaptive_avg_pool2d(x, outputSize), {"outputSize": [5, 3]}))
    cs.append(case("adaptiveMaxPool2d", "adaptiveMaxPool2d", [rnd(2, 2, 7, 9, seed=23)],
                   lambda x, outputSize, returnIndices: F.adaptive_max_pool2d(x, outputSize, returnIndices),
                   {"outputSize": [3, 4], "returnIndices": True}))
    cs.append(f32(case("adaptiveMaxPool2d f32", "adaptiveMaxPool2d", [rnd(2, 3, 6, 6, seed=24, dtype=torch.float32)],
                       lambda x, outputSize: F.adaptive_max_pool2d(x, outputSize), {"outputSize": 4})))
    cs.append(case("adaptiveAvgPool1d", "adaptiveAvgPool1d", [rnd(2, 3, 10, seed=25)],
                   lambda x, outputSize: F.adaptive_avg_pool1d(x, outputSize), {"outputSize": 4}))
    cs.append(case("adaptiveMaxPool1d", "adaptiveMaxPool1d", [rnd(2, 3, 10, seed=26)],
                   lambda x, outputSize: F.adaptive_max_pool1d(x, outputSize), {"outputSize": 3}))
    return cs


def interp_cases():
    cs = []
    it = lambda x, **k: F.interpolate(x, **snake(k))  # noqa: E731
    cs.append(case("nearest size", "interpolate", [rnd(2, 2, 4, 3, seed=1)], it, {"size": [7, 5]}))
    cs.append(case("nearest down", "interpolate", [rnd(1, 2, 7, 6, seed=2)], it, {"size": [3, 4]}))
    cs.append(case("nearest scale2", "interpolate", [rnd(1, 2, 3, 4, seed=3)], it, {"scaleFactor": 2}))
    cs.append(case("nearest scale1.5", "interpolate", [rnd(1, 1, 5, 4, seed=4)], it, {"scaleFactor": [1.5, 2.5]}))
    cs.append(case("nearest 1d", "interpolate", [rnd(2, 3, 5, seed=5)], it, {"size": 8}))
    cs.append(case("bilinear size", "interpolate", [rnd(2, 2, 4, 3, seed=6)], it,
                   {"size": [7, 5], "mode": "bilinear"}))
    cs.append(case("bilinear align", "interpolate", [rnd(1, 2, 4, 5, seed=7)], it,
                   {"size": [6, 3], "mode": "bilinear", "alignCorners": True}))
    cs.append(case("bilinear scale", "interpolate", [rnd(1, 2, 3, 5, seed=8)], it,
                   {"scaleFactor": [2, 0.6], "mode": "bilinear", "alignCorners": False}))
    cs.append(case("bilinear down", "interpolate", [rnd(1, 1, 7, 8, seed=9)], it, {"size": [3, 3], "mode": "bilinear"}))
    cs.append(case("bilinear to 1 aligned", "interpolate", [rnd(1, 1, 3, 4, seed=10)], it,
                   {"size": [1, 2], "mode": "bilinear", "alignCorners": True}))
    cs.append(case("linear 1d", "interpolate", [rnd(2, 2, 5, seed=11)], it, {"size": 9, "mode": "linear"}))
    cs.append(case("linear 1d align", "interpolate", [rnd(2, 2, 5, seed=12)], it,
                   {"scaleFactor": 1.7, "mode": "linear", "alignCorners": True}))
    cs.append(f32(case("bilinear f32", "interpolate", [rnd(2, 3, 5, 4, seed=13, dtype=torch.float32)], it,
                       {"scaleFactor": 2, "mode": "bilinear"})))
    return cs


def basic_cases():
    cs = []
    cs.append(case("linear 2d", "linear", [rnd(3, 4, seed=1), rnd(5, 4, seed=2), rnd(5, seed=3)], F.linear))
    cs.append(case("linear 3d nobias", "linear", [rnd(2, 3, 4, seed=4), rnd(2, 4, seed=5)], F.linear))
    cs.append(case("linear 1d", "linear", [rnd(4, seed=6), rnd(3, 4, seed=7), rnd(3, seed=8)], F.linear))
    cs.append(f32(case("linear f32", "linear", [rnd(6, 8, seed=9, dtype=torch.float32),
                                                 rnd(5, 8, seed=10, dtype=torch.float32),
                                                 rnd(5, seed=11, dtype=torch.float32)], F.linear)))
    idx = torch.tensor([[1, 4, 1], [0, 9, 4]])
    emb = lambda i, w, **k: F.embedding(i, w, **snake(k))  # noqa: E731
    cs.append(case("embedding", "embedding", [idx, rnd(10, 3, seed=12)], emb))
    cs.append(case("embedding padding", "embedding", [idx, rnd(10, 3, seed=13)], emb, {"paddingIdx": 4}))
    cs.append(case("embedding padding neg", "embedding", [torch.tensor([9, 2, 9, 0]), rnd(10, 2, seed=14)], emb,
                   {"paddingIdx": -1}))
    return cs


def norm_cases():
    cs = []

    def bn(x, rm, rv, w=None, b=None, **k):
        rmt = None if rm is None else torch.tensor(rm, dtype=x.dtype)
        rvt = None if rv is None else torch.tensor(rv, dtype=x.dtype)
        out = F.batch_norm(x, rmt, rvt, w, b, **k)
        return (out,) + tuple(t for t in (rmt, rvt) if t is not None)

    rm = [0.1, -0.2, 0.3]
    rv = [1.0, 0.5, 2.0]
    cs.append(case("batchNorm train", "batchNorm", [rnd(4, 3, 2, 3, seed=1), rm, rv, rnd(3, seed=2), rnd(3, seed=3)],
                   bn, {"training": True, "momentum": 0.2, "eps": 1e-5}))
    cs.append(case("batchNorm train 2d", "batchNorm", [rnd(5, 3, seed=4), rm, rv, rnd(3, seed=5), rnd(3, seed=6)],
                   bn, {"training": True}))
    cs.append(case("batchNorm train noaffine", "batchNorm", [rnd(3, 3, 4, seed=7), rm, rv], bn, {"training": True}))
    cs.append(case("batchNorm train nostats", "batchNorm", [rnd(3, 3, 4, seed=8), None, None, rnd(3, seed=9)], bn,
                   {"training": True}))
    cs.append(case("batchNorm eval", "batchNorm", [rnd(2, 3, 3, 2, seed=10), rm, rv, rnd(3, seed=11), rnd(3, seed=12)],
                   bn, {"training": False, "eps": 1e-3}))
    cs.append(f32(case("batchNorm f32", "batchNorm",
                       [rnd(4, 3, 3, 3, seed=13, dtype=torch.float32), rm, rv, rnd(3, seed=14, dtype=torch.float32),
                        rnd(3, seed=15, dtype=torch.float32)], bn, {"training": True})))
    ln = lambda x, normalizedShape, w=None, b=None, **k: F.layer_norm(x, normalizedShape, w, b, **k)  # noqa: E731
    cs.append(case("layerNorm last", "layerNorm", [rnd(2, 3, 4, seed=16), [4], rnd(4, seed=17), rnd(4, seed=18)], ln))
    cs.append(case("layerNorm two", "layerNorm", [rnd(2, 3, 4, seed=19), [3, 4], rnd(3, 4, seed=20),
                                                  rnd(3, 4, seed=21)], ln, {"eps": 1e-3}))
    cs.append(case("layerNorm noaffine", "layerNorm", [rnd(3, 5, seed=22), [5]], ln))
    cs.append(f32(case("layerNorm f32", "layerNorm", [rnd(4, 6, seed=23, dtype=torch.float32), [6],
                                                      rnd(6, seed=24, dtype=torch.float32),
                                                      rnd(6, seed=25, dtype=torch.float32)], ln)))
    gn = lambda x, g, w=None, b=None, **k: F.group_norm(x, g, w, b, **k)  # noqa: E731
    cs.append(case("groupNorm 3", "groupNorm", [rnd(2, 6, 3, 2, seed=26), 3, rnd(6, seed=27), rnd(6, seed=28)], gn))
    cs.append(case("groupNorm 1", "groupNorm", [rnd(2, 4, 5, seed=29), 1, rnd(4, seed=30), rnd(4, seed=31)], gn,
                   {"eps": 1e-3}))
    cs.append(case("groupNorm per channel", "groupNorm", [rnd(3, 4, 2, 2, seed=32), 4], gn))
    cs.append(f32(case("groupNorm f32", "groupNorm", [rnd(2, 6, 4, 4, seed=33, dtype=torch.float32), 2,
                                                      rnd(6, seed=34, dtype=torch.float32),
                                                      rnd(6, seed=35, dtype=torch.float32)], gn)))
    return cs


if __name__ == "__main__":
    write("nn_conv", conv_cases(), generator="nn.py")
    write("nn_pool", pool_cases(), generator="nn.py")
    write("nn_interpolate", interp_cases(), generator="nn.py")
    write("nn_basic", basic_cases(), generator="nn.py")
    write("nn_norm", norm_cases(), generator="nn.py")
