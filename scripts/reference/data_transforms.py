"""Reference outputs for the image transforms (src/data/transforms.ts), computed with PyTorch's
affine_grid/grid_sample (the machinery torchvision's rotate/affine use) and interpolate.

Warp convention (Neurite's): the forward map is p' = A (p - c) + c about the centre
c = ((W-1)/2, (H-1)/2) in pixel-index coordinates, A = scale * R(angle) * Shear, R = [[cos, sin], [-sin, cos]]
(counter-clockwise as displayed), Shear = [[1, tan(shear)], [0, 1]]. Pixels sampled from outside the
image take `fill`: grid_sample with zero padding plus fill * (1 - grid_sample(ones)).
"""
import math

import torch
import torch.nn.functional as F

from common import T, rnd, write


def inverse_pixel_matrix(h, w, angle, scale, shear):
    a = math.radians(angle)
    cos, sin, sh = math.cos(a), math.sin(a), math.tan(math.radians(shear))
    A = torch.tensor([[cos, cos * sh + sin], [-sin, -sin * sh + cos]], dtype=torch.float64) * scale
    Ai = torch.linalg.inv(A)
    c = torch.tensor([(w - 1) / 2, (h - 1) / 2], dtype=torch.float64)
    M = torch.eye(3, dtype=torch.float64)
    M[:2, :2] = Ai
    M[:2, 2] = c - Ai @ c
    return M


def warp(img, angle, scale, shear, fill, mode):
    h, w = img.shape[-2:]
    M = inverse_pixel_matrix(h, w, angle, scale, shear)
    # normalized (align_corners=False) <-> pixel: x_n = (2x + 1) / W - 1
    N = torch.tensor([[2 / w, 0, 1 / w - 1], [0, 2 / h, 1 / h - 1], [0, 0, 1]], dtype=torch.float64)
    theta = (N @ M @ torch.linalg.inv(N))[:2].unsqueeze(0)
    x = img.reshape(1, -1, h, w)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)
    mask = F.grid_sample(torch.ones_like(x), grid, mode=mode, padding_mode="zeros", align_corners=False)
    return (out + fill * (1 - mask)).reshape(img.shape)


def resize(img, size, mode):
    x = img.reshape(1, -1, *img.shape[-2:])
    kw = {"align_corners": False} if mode == "bilinear" else {}
    return F.interpolate(x, size=size, mode=mode, **kw).reshape(*img.shape[:-2], *size)


cases = []
warps = [
    ("rot30_5x5", [1, 5, 5], dict(angle=30, scale=1, shear=0, fill=0, mode="bilinear")),
    ("rot-37_2x4x6_fill", [2, 4, 6], dict(angle=-37, scale=1, shear=0, fill=0.5, mode="bilinear")),
    ("rot60_nearest_6x6", [6, 6], dict(angle=60, scale=1, shear=0, fill=-1, mode="nearest")),
    ("affine_7x5", [1, 7, 5], dict(angle=10, scale=1.2, shear=8, fill=0, mode="bilinear")),
    ("affine_shrink_3x8x8", [3, 8, 8], dict(angle=-15, scale=0.7, shear=-12, fill=0.25, mode="bilinear")),
]
for i, (name, shape, kw) in enumerate(warps):
    x = rnd(*shape, seed=i, low=0, high=1)
    cases.append({"name": name, "op": "affine", "kwargs": kw, "inputs": [T(x)], "out": [T(warp(x, **kw))]})
resizes = [
    ("resize_up_bilinear", [1, 4, 4], dict(size=[7, 5], mode="bilinear")),
    ("resize_down_bilinear", [2, 9, 9], dict(size=[4, 6], mode="bilinear")),
    ("resize_nearest", [1, 5, 5], dict(size=[8, 3], mode="nearest")),
]
for i, (name, shape, kw) in enumerate(resizes):
    x = rnd(*shape, seed=10 + i, low=0, high=1)
    cases.append({"name": name, "op": "resize", "kwargs": kw, "inputs": [T(x)],
                  "out": [T(resize(x, kw["size"], kw["mode"]))]})
write("data_transforms", cases)
