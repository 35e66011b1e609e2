"""PyTorch references for src/nn/functional/loss.ts (writes test/reference/loss.json).

Class-index targets are int32 (stored as such); PyTorch needs int64, so the lambdas call `.long()`.
"""
import torch
import torch.nn.functional as F

from common import case as _case, rnd, write

f32 = torch.float32


def case(*args, no_grad=(2, 3), **kwargs):
    """Inputs 2 and 3 are class weights / pos_weight: PyTorch does not differentiate them."""
    return _case(*args, no_grad=no_grad, **kwargs)


cs = []


def idx(*v):
    return torch.tensor(v, dtype=torch.int32)


def randidx(shape, C, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, C, shape, generator=g, dtype=torch.int32)


# regression losses
x, y = rnd(3, 4, seed=1, low=-2, high=2), rnd(3, 4, seed=2, low=-2, high=2)
for op, fn, extra in [
    ("mse_loss", F.mse_loss, [{}]),
    ("l1_loss", F.l1_loss, [{}]),
    ("smooth_l1_loss", F.smooth_l1_loss, [{}, {"beta": 0.5}, {"beta": 2.0}, {"beta": 0.0}]),
    ("huber_loss", F.huber_loss, [{}, {"delta": 0.5}, {"delta": 2.0}]),
]:
    for kw in extra:
        for red in ["mean", "sum", "none"]:
            k = dict(kw, reduction=red)
            cs.append(case(f"{op} {k}", op, [x, y], fn, k))
        cs.append(case(f"{op} {kw} float32", op, [x.to(f32), y.to(f32)], fn, kw))
    cs.append(case(f"{op} 0-d", op, [rnd(seed=3), rnd(seed=4)], fn))
    cs.append(case(f"{op} 3-d", op, [rnd(2, 3, 2, seed=5), rnd(2, 3, 2, seed=6)], fn))
    cs.append(case(f"{op} transposed", op + "_t", [rnd(4, 3, seed=7), y], lambda a, b, fn=fn: fn(a.t(), b)))

# nll_loss and cross_entropy with class indices
N, C = 5, 4
logits = rnd(N, C, seed=10, low=-3, high=3)
tgt = randidx((N,), C, 11)
tgt_ign = idx(0, 3, -100, 1, 3)
tgt_ign2 = idx(0, 2, 2, 1, 3)  # with ignore_index=2
w = rnd(C, seed=12, low=0.2, high=2)
lg3 = rnd(2, C, 3, 2, seed=13, low=-3, high=3)  # [N, C, d1, d2]
tg3 = randidx((2, 3, 2), C, 14)
tg3[0, 1, 1] = -100
logp = F.log_softmax(logits, 1).detach()


def nll(inp, t, **k):
    return F.nll_loss(inp, t.long(), **k)


def ce(inp, t, **k):
    if t.dtype == torch.int32:
        t = t.long()
    return F.cross_entropy(inp, t, **k)


for op, fn, inp, inp3 in [("nll_loss", nll, logp, F.log_softmax(lg3, 1).detach()), ("cross_entropy", ce, logits, lg3)]:
    for red in ["mean", "sum", "none"]:
        cs.append(case(f"{op} {red}", op, [inp, tgt], fn, {"reduction": red}))
        cs.append(case(f"{op} weight {red}", op, [inp, tgt, w], lambda a, t, ww, fn=fn, **k: fn(a, t, weight=ww, **k),
                       {"reduction": red}))
        cs.append(case(f"{op} ignore {red}", op, [inp, tgt_ign], fn, {"reduction": red}))
        cs.append(case(f"{op} weight+ignore {red}", op, [inp, tgt_ign, w],
                       lambda a, t, ww, fn=fn, **k: fn(a, t, weight=ww, **k), {"reduction": red}))
        cs.append(case(f"{op} ignore_index=2 {red}", op, [inp, tgt_ign2, w],
                       lambda a, t, ww, fn=fn, **k: fn(a, t, weight=ww, **k), {"reduction": red, "ignore_index": 2}))
        cs.append(case(f"{op} 4-d {red}", op, [inp3, tg3], fn, {"reduction": red}))
        cs.append(case(f"{op} 4-d weight {red}", op, [inp3, tg3, w], lambda a, t, ww, fn=fn, **k: fn(a, t, weight=ww, **k),
                       {"reduction": red}))
    cs.append(case(f"{op} unbatched", op, [inp[0].clone(), idx(2)[0].clone()], fn))
    cs.append(case(f"{op} unbatched none", op, [inp[1].clone(), idx(3)[0].clone()], fn, {"reduction": "none"}))
    cs.append(case(f"{op} float32", op, [inp.to(f32), tgt], fn))
    cs.append(case(f"{op} float32 weight", op, [inp.to(f32), tgt_ign, w.to(f32)],
                   lambda a, t, ww, fn=fn: fn(a, t, weight=ww)))
    cs.append(case(f"{op} transposed", op + "_t", [inp.t().contiguous(), tgt], lambda a, t, fn=fn: fn(a.t(), t)))
    cs.append(case(f"{op} one class", op, [rnd(3, 1, seed=15), idx(0, 0, 0)], fn))
    cs.append(case(f"{op} all ignored", op, [inp, idx(-100, -100, -100, -100, -100)], fn, {"reduction": "sum"}))

# cross entropy extras: large logits, label smoothing, probability targets
cs.append(case("cross_entropy large logits", "cross_entropy", [torch.tensor([[1000.0, -1000.0, 0.0], [500.0, 501.0, 499.0]],
                                                                          dtype=torch.float64), idx(1, 2)], ce))
cs.append(case("cross_entropy large logits float32", "cross_entropy",
               [torch.tensor([[1000.0, -1000.0, 0.0], [80.0, 90.0, 100.0]], dtype=f32), idx(1, 0)], ce))
for red in ["mean", "sum", "none"]:
    for ls in [0.1, 0.3]:
        cs.append(case(f"cross_entropy smoothing {ls} {red}", "cross_entropy", [logits, tgt_ign], ce,
                       {"reduction": red, "label_smoothing": ls}))
        cs.append(case(f"cross_entropy smoothing {ls} weight {red}", "cross_entropy", [logits, tgt_ign, w],
                       lambda a, t, ww, **k: ce(a, t, weight=ww, **k), {"reduction": red, "label_smoothing": ls}))
    cs.append(case(f"cross_entropy smoothing 4-d {red}", "cross_entropy", [lg3, tg3, w],
                   lambda a, t, ww, **k: ce(a, t, weight=ww, **k), {"reduction": red, "label_smoothing": 0.2}))
probs = F.softmax(rnd(N, C, seed=16, low=-2, high=2), 1)
probs3 = F.softmax(rnd(2, C, 3, 2, seed=17, low=-2, high=2), 1)
for red in ["mean", "sum", "none"]:
    cs.append(case(f"cross_entropy probs {red}", "cross_entropy", [logits, probs], ce, {"reduction": red}))
    cs.append(case(f"cross_entropy probs weight {red}", "cross_entropy", [logits, probs, w],
                   lambda a, t, ww, **k: ce(a, t, weight=ww, **k), {"reduction": red}))
    cs.append(case(f"cross_entropy probs smoothing {red}", "cross_entropy", [logits, probs], ce,
                   {"reduction": red, "label_smoothing": 0.25}))
    cs.append(case(f"cross_entropy probs 4-d {red}", "cross_entropy", [lg3, probs3], ce, {"reduction": red}))
cs.append(case("cross_entropy probs unbatched", "cross_entropy", [logits[0].clone(), probs[0].clone()], ce))
cs.append(case("cross_entropy probs float32", "cross_entropy", [logits.to(f32), probs.to(f32)], ce))

# binary cross entropy
p = rnd(3, 4, seed=20, low=0.02, high=0.98)
t01 = (rnd(3, 4, seed=21) > 0).to(torch.float64)
tsoft = rnd(3, 4, seed=22, low=0, high=1)
bw = rnd(4, seed=23, low=0.2, high=2)
for red in ["mean", "sum", "none"]:
    cs.append(case(f"bce {red}", "bce", [p, t01], F.binary_cross_entropy, {"reduction": red}))
    cs.append(case(f"bce soft target {red}", "bce", [p, tsoft], F.binary_cross_entropy, {"reduction": red}))
    cs.append(case(f"bce weight {red}", "bce", [p, t01, bw],
                   lambda a, t, ww, **k: F.binary_cross_entropy(a, t, weight=ww, **k), {"reduction": red}))
cs.append(case("bce float32", "bce", [p.to(f32), tsoft.to(f32)], F.binary_cross_entropy))
cs.append(case("bce at 0 and 1 (log clamp)", "bce",
               [torch.tensor([0.0, 1.0, 0.0, 1.0, 1e-50], dtype=torch.float64),
                torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0], dtype=torch.float64)], F.binary_cross_entropy,
               no_grad=(1,)))  # PyTorch's target gradient ignores the clamp there (inf); ours is the clamped one
cs.append(case("bce 0-d", "bce", [torch.tensor(0.3, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)],
               F.binary_cross_entropy))
cs.append(case("bce transposed", "bce_t", [p.t().contiguous(), tsoft], lambda a, t: F.binary_cross_entropy(a.t(), t)))

z = rnd(3, 4, seed=24, low=-4, high=4)
pw = rnd(4, seed=25, low=0.5, high=3)
bcel = F.binary_cross_entropy_with_logits
for red in ["mean", "sum", "none"]:
    cs.append(case(f"bce_logits {red}", "bce_logits", [z, tsoft], bcel, {"reduction": red}))
    cs.append(case(f"bce_logits weight {red}", "bce_logits", [z, t01, bw],
                   lambda a, t, ww, **k: bcel(a, t, weight=ww, **k), {"reduction": red}))
    cs.append(case(f"bce_logits pos_weight {red}", "bce_logits_pw", [z, tsoft, pw],
                   lambda a, t, pp, **k: bcel(a, t, pos_weight=pp, **k), {"reduction": red}))
    cs.append(case(f"bce_logits weight+pos_weight {red}", "bce_logits_wpw", [z, tsoft, bw, pw],
                   lambda a, t, ww, pp, **k: bcel(a, t, weight=ww, pos_weight=pp, **k), {"reduction": red}))
cs.append(case("bce_logits large", "bce_logits", [torch.tensor([-1000.0, -50.0, 50.0, 1000.0], dtype=torch.float64),
                                                 torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64)], bcel,
               {"reduction": "none"}))
cs.append(case("bce_logits float32", "bce_logits", [z.to(f32), tsoft.to(f32)], bcel))
cs.append(case("bce_logits transposed", "bce_logits_t", [z.t().contiguous(), tsoft], lambda a, t: bcel(a.t(), t)))

# kl_div
lp = F.log_softmax(rnd(3, 4, seed=30, low=-2, high=2), 1)
tq = F.softmax(rnd(3, 4, seed=31, low=-2, high=2), 1)
tq0 = tq.clone()
tq0[0, 1] = 0.0
for red in ["mean", "batchmean", "sum", "none"]:
    cs.append(case(f"kl_div {red}", "kl_div", [lp, tq], F.kl_div, {"reduction": red}))
    cs.append(case(f"kl_div log_target {red}", "kl_div", [lp, tq.log()], F.kl_div, {"reduction": red, "log_target": True}))
cs.append(case("kl_div zero target (input grad)", "kl_div_nt", [lp, tq0], lambda a, t, **k: F.kl_div(a, t.detach(), **k),
               {"reduction": "batchmean"}))
cs.append(case("kl_div float32", "kl_div", [lp.to(f32), tq.to(f32)], F.kl_div, {"reduction": "batchmean"}))
cs.append(case("kl_div 3-d", "kl_div", [rnd(2, 3, 2, seed=32, low=-3, high=-0.1), rnd(2, 3, 2, seed=33, low=0.1, high=1)],
               F.kl_div, {"reduction": "batchmean"}))

# cosine similarity
a, b = rnd(3, 5, seed=40), rnd(3, 5, seed=41)
cosf = F.cosine_similarity
cs.append(case("cosine dim 1", "cosine", [a, b], cosf))
cs.append(case("cosine dim 0", "cosine", [a, b], cosf, {"dim": 0}))
cs.append(case("cosine dim -1 3-d", "cosine", [rnd(2, 3, 4, seed=42), rnd(2, 3, 4, seed=43)], cosf, {"dim": -1}))
cs.append(case("cosine broadcast", "cosine", [rnd(3, 5, seed=44), rnd(1, 5, seed=45)], cosf))
cs.append(case("cosine broadcast other way", "cosine", [rnd(5, seed=46), rnd(3, 5, seed=47)], cosf, {"dim": -1}))
cs.append(case("cosine float32", "cosine", [a.to(f32), b.to(f32)], cosf))
cs.append(case("cosine transposed", "cosine_t", [a.t().contiguous(), b], lambda u, v, **k: cosf(u.t(), v, **k)))
az = a.clone()
az[1] = 0
cs.append(case("cosine zero vector", "cosine", [az, b], cosf))
cs.append(case("cosine tiny vectors", "cosine", [a * 1e-9, b], cosf))
cs.append(case("cosine eps", "cosine", [a * 1e-3, b * 1e-3], cosf, {"eps": 1e-2}))

write("loss", cs)
