"""PyTorch references for recurrent and attention layers (module-level cases).

Writes test/reference/nn_rnn.json (RNN, LSTM, GRU and the cells) and test/reference/nn_attention.json
(MultiheadAttention, TransformerEncoderLayer, TransformerEncoder). Each case stores the layer's
constructor options (camelCase, as Neurite takes them), its state dict, the forward inputs, the outputs,
a random cotangent per output and the gradients of sum(out_i * cot_i) with respect to the inputs and
every parameter. Layers run in eval mode (dropout off).
"""
import torch
import torch.nn as tnn

from common import T, rnd, write

torch.manual_seed(0)


def flat(outs):
    """Flattens nested tuples of tensors (LSTM's (out, (h, c))) into a list, dropping None."""
    res = []
    for o in outs if isinstance(outs, (tuple, list)) else [outs]:
        if isinstance(o, (tuple, list)):
            res.extend(flat(o))
        elif o is not None:
            res.append(o)
    return res


def module_case(name, kind, kwargs, module, inputs, call, dtype=torch.float64, tol=None, seed=0, extra=None,
                n_diff=None):
    """Runs `call(module, *inputs)` and records outputs, cotangents and gradients.

    inputs: list of tensors or None (a missing optional input); floating tensors among the first
    `n_diff` (default all) get requires_grad, the rest (masks) are constants.
    """
    module = module.to(dtype).eval()
    ins = [None if x is None else x.detach().clone().to(dtype) if x.is_floating_point() else x.detach().clone()
           for x in inputs]
    for i, x in enumerate(ins):
        if x is not None and x.is_floating_point() and (n_diff is None or i < n_diff):
            x.requires_grad_(True)
    outs = flat(call(module, *ins))
    g = torch.Generator().manual_seed(seed + 99)
    cots = [(torch.rand(o.shape, generator=g, dtype=torch.float64) * 2 - 1).to(o.dtype) for o in outs]
    loss = sum((o * c).sum() for o, c in zip(outs, cots))
    params = list(module.named_parameters())
    diff_ins = [x for x in ins if x is not None and x.requires_grad]
    grads = torch.autograd.grad(loss, diff_ins + [p for _, p in params], allow_unused=True)
    gi = iter(grads[: len(diff_ins)])
    c = {
        "name": name,
        "module": kind,
        "kwargs": kwargs,
        "dtype": "float64" if dtype == torch.float64 else "float32",
        "state": {k: T(v) for k, v in module.state_dict().items()},
        "inputs": [None if x is None else T(x) for x in ins],
        "out": [T(o) for o in outs],
        "cots": [T(x) for x in cots],
        "inputGrads": [None if x is None or not x.requires_grad else
                       (lambda gr: None if gr is None else T(gr))(next(gi)) for x in ins],
        "paramGrads": {k: T(gr) for (k, _), gr in zip(params, grads[len(diff_ins):]) if gr is not None},
    }
    if tol:
        c["tol"] = tol
    if extra:
        c.update(extra)
    return c


F32 = {"atol": 2e-5, "rtol": 2e-4}


def rnn_cases():
    cases = []
    I, H = 3, 4

    def rnn(name, kind, kw, tkw, T_, B, h0=False, c0=False, batch_first=False, unbatched=False,
            dtype=torch.float64, seed=0):
        torch.manual_seed(seed)
        cls = {"RNN": tnn.RNN, "LSTM": tnn.LSTM, "GRU": tnn.GRU}[kind]
        m = cls(**tkw)
        D = 2 if tkw.get("bidirectional") else 1
        L = tkw.get("num_layers", 1)
        inp = rnd(T_, I, seed=seed + 1) if unbatched else (
            rnd(B, T_, I, seed=seed + 1) if batch_first else rnd(T_, B, I, seed=seed + 1))
        hs = [L * D, H] if unbatched else [L * D, B, H]
        hh = rnd(*hs, seed=seed + 2) if h0 else None
        cc = rnd(*hs, seed=seed + 3) if c0 else None
        if kind == "LSTM":
            call = lambda mod, x, h, c: mod(x, (h, c)) if h is not None else mod(x)
            ins = [inp, hh, cc]
        else:
            call = lambda mod, x, h: mod(x, h) if h is not None else mod(x)
            ins = [inp, hh]
        cases.append(module_case(name, kind, kw, m, ins, call, dtype=dtype,
                                 tol=F32 if dtype == torch.float32 else None, seed=seed))

    base = {"inputSize": I, "hiddenSize": H}
    tb = {"input_size": I, "hidden_size": H}
    rnn("rnn tanh 2 layers with h0", "RNN", {**base, "numLayers": 2}, {**tb, "num_layers": 2}, 5, 2, h0=True)
    rnn("rnn relu bidirectional batchFirst", "RNN", {**base, "nonlinearity": "relu", "bidirectional": True,
                                                     "batchFirst": True},
        {**tb, "nonlinearity": "relu", "bidirectional": True, "batch_first": True}, 4, 3, batch_first=True, seed=1)
    rnn("rnn tanh no bias unbatched", "RNN", {**base, "bias": False}, {**tb, "bias": False}, 3, 1, h0=True,
        unbatched=True, seed=2)
    rnn("lstm 2 layers bidirectional with h0 c0", "LSTM", {**base, "numLayers": 2, "bidirectional": True},
        {**tb, "num_layers": 2, "bidirectional": True}, 4, 3, h0=True, c0=True, seed=3)
    rnn("lstm batchFirst no bias", "LSTM", {**base, "batchFirst": True, "bias": False},
        {**tb, "batch_first": True, "bias": False}, 5, 2, batch_first=True, seed=4)
    rnn("lstm unbatched with h0 c0", "LSTM", {**base, "numLayers": 2}, {**tb, "num_layers": 2}, 3, 1,
        h0=True, c0=True, unbatched=True, seed=5)
    rnn("lstm dropout (eval) 3 layers", "LSTM", {**base, "numLayers": 3, "dropout": 0.5},
        {**tb, "num_layers": 3, "dropout": 0.5}, 3, 2, seed=6)
    rnn("lstm float32 bidirectional", "LSTM", {**base, "bidirectional": True}, {**tb, "bidirectional": True},
        6, 2, h0=True, c0=True, dtype=torch.float32, seed=7)
    rnn("gru 2 layers bidirectional with h0", "GRU", {**base, "numLayers": 2, "bidirectional": True},
        {**tb, "num_layers": 2, "bidirectional": True}, 4, 2, h0=True, seed=8)
    rnn("gru batchFirst no bias", "GRU", {**base, "batchFirst": True, "bias": False},
        {**tb, "batch_first": True, "bias": False}, 3, 3, batch_first=True, seed=9)
    rnn("gru unbatched", "GRU", base, tb, 4, 1, h0=True, unbatched=True, seed=10)
    rnn("gru float32", "GRU", {**base, "numLayers": 2}, {**tb, "num_layers": 2}, 5, 3, dtype=torch.float32,
        seed=11)

    def cell(name, kind, kw, tkw, B, hx=False, unbatched=False, seed=0, dtype=torch.float64):
        torch.manual_seed(seed)
        cls = {"RNNCell": tnn.RNNCell, "LSTMCell": tnn.LSTMCell, "GRUCell": tnn.GRUCell}[kind]
        m = cls(I, H, **tkw)
        inp = rnd(I, seed=seed + 1) if unbatched else rnd(B, I, seed=seed + 1)
        hs = [H] if unbatched else [B, H]
        hh = rnd(*hs, seed=seed + 2) if hx else None
        if kind == "LSTMCell":
            cc = rnd(*hs, seed=seed + 3) if hx else None
            call = lambda mod, x, h, c: mod(x, (h, c)) if h is not None else mod(x)
            ins = [inp, hh, cc]
        else:
            call = lambda mod, x, h: mod(x, h) if h is not None else mod(x)
            ins = [inp, hh]
        cases.append(module_case(name, kind, {"inputSize": I, "hiddenSize": H, **kw}, m, ins, call, dtype=dtype,
                                 tol=F32 if dtype == torch.float32 else None, seed=seed))

    cell("rnncell tanh with hx", "RNNCell", {}, {}, 3, hx=True, seed=20)
    cell("rnncell relu no hx", "RNNCell", {"nonlinearity": "relu"}, {"nonlinearity": "relu"}, 2, seed=21)
    cell("rnncell unbatched no bias", "RNNCell", {"bias": False}, {"bias": False}, 1, hx=True, unbatched=True,
         seed=22)
    cell("lstmcell with hx", "LSTMCell", {}, {}, 3, hx=True, seed=23)
    cell("lstmcell unbatched no hx", "LSTMCell", {}, {}, 1, unbatched=True, seed=24)
    cell("lstmcell float32", "LSTMCell", {}, {}, 2, hx=True, seed=25, dtype=torch.float32)
    cell("grucell with hx", "GRUCell", {}, {}, 3, hx=True, seed=26)
    cell("grucell unbatched no bias", "GRUCell", {"bias": False}, {"bias": False}, 1, hx=True, unbatched=True,
         seed=27)
    return cases


def attention_cases():
    cases = []

    def mha(name, E, nh, mkw, tkw, q, k, v, fkw, tfkw, masks=(), seed=0, dtype=torch.float64):
        """masks: names of forward kwargs holding tensors (passed as extra inputs after q, k, v)."""
        torch.manual_seed(seed)
        m = tnn.MultiheadAttention(E, nh, **tkw)
        # Non-zero biases so the test exercises them (PyTorch initialises them to zero).
        with torch.no_grad():
            for n, p in m.named_parameters():
                if "bias" in n:
                    p.copy_(rnd(*p.shape, seed=seed + 5, dtype=p.dtype) * 0.5)
        mask_vals = [tfkw.pop(n) for n in masks]
        self_attn = q is k and k is v

        def call(mod, *xs):
            qq, kk, vv = (xs[0], xs[0], xs[0]) if self_attn else xs[:3]
            rest = xs[1:] if self_attn else xs[3:]
            kw = dict(tfkw)
            for n, t in zip(masks, rest):
                kw[n] = t
            return mod(qq, kk, vv, **kw)

        ins = ([q] if self_attn else [q, k, v]) + list(mask_vals)
        c = module_case(name, "MultiheadAttention", {"embedDim": E, "numHeads": nh, **mkw}, m, ins, call,
                        dtype=dtype, tol=F32 if dtype == torch.float32 else None, seed=seed,
                        extra={"forward": fkw, "selfAttention": self_attn, "masks": list(masks)},
                        n_diff=1 if self_attn else 3)
        # Bool masks must not be differentiated; float masks are constants in the test as well.
        cases.append(c)

    L, S, N, E = 4, 5, 2, 8
    x = rnd(L, N, E, seed=1)
    mha("mha self-attention averaged weights", E, 2, {}, {}, x, x, x, {}, {})
    causal = torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=1)
    xb = rnd(N, L, E, seed=2)
    mha("mha self batchFirst causal bool mask per-head weights", E, 4, {"batchFirst": True},
        {"batch_first": True}, xb, xb, xb, {"averageAttnWeights": False},
        {"average_attn_weights": False, "attn_mask": causal}, masks=("attn_mask",), seed=3)
    q = rnd(L, N, 6, seed=4)
    kk = rnd(S, N, 5, seed=5)
    vv = rnd(S, N, 3, seed=6)
    kpm = torch.tensor([[False, False, True, False, True], [False, False, False, False, True]])
    fmask = rnd(L, S, seed=7)
    mha("mha kdim vdim key padding mask float attn mask", 6, 3, {"kdim": 5, "vdim": 3}, {"kdim": 5, "vdim": 3},
        q, kk, vv, {}, {"key_padding_mask": kpm, "attn_mask": fmask}, masks=("key_padding_mask", "attn_mask"),
        seed=8)
    qu = rnd(L, E, seed=9)
    ku = rnd(S, E, seed=10)
    vu = rnd(S, E, seed=11)
    mha("mha unbatched cross attention no bias", E, 2, {"bias": False}, {"bias": False}, qu, ku, vu, {}, {},
        seed=12)
    m3 = rnd(N * 2, L, S, seed=13)
    kb = rnd(N, S, E, seed=14)
    qb = rnd(N, L, E, seed=15)
    mha("mha 3-d float attn mask batchFirst", E, 2, {"batchFirst": True}, {"batch_first": True}, qb, kb, kb, {},
        {"attn_mask": m3}, masks=("attn_mask",), seed=16)
    mha("mha float32", E, 2, {}, {}, x.float(), x.float(), x.float(), {}, {}, seed=17, dtype=torch.float32)

    def enc_layer(name, d, nh, mkw, tkw, src, fmasks, seed):
        torch.manual_seed(seed)
        m = tnn.TransformerEncoderLayer(d, nh, **tkw)
        with torch.no_grad():
            for n, p in m.named_parameters():
                if "bias" in n:
                    p.copy_(rnd(*p.shape, seed=seed + 5, dtype=p.dtype) * 0.5)
        names = list(fmasks.keys())

        def call(mod, s, *ms):
            return mod(s, **dict(zip(names, ms)))

        cases.append(module_case(name, "TransformerEncoderLayer", {"dModel": d, "nhead": nh, **mkw}, m,
                                 [src] + list(fmasks.values()), call, seed=seed, extra={"masks": names},
                                 n_diff=1))

    src = rnd(L, N, E, seed=30)
    sm = torch.triu(torch.full((L, L), float("-inf"), dtype=torch.float64), diagonal=1)
    skpm = torch.tensor([[False, False, False, True], [False, False, False, False]])
    enc_layer("encoder layer relu post-norm masks", E, 2, {"dimFeedforward": 16},
              {"dim_feedforward": 16}, src, {"src_mask": sm, "src_key_padding_mask": skpm}, 31)
    enc_layer("encoder layer gelu norm-first batchFirst", E, 4,
              {"dimFeedforward": 12, "activation": "gelu", "normFirst": True, "batchFirst": True,
               "layerNormEps": 1e-6},
              {"dim_feedforward": 12, "activation": "gelu", "norm_first": True, "batch_first": True,
               "layer_norm_eps": 1e-6}, rnd(N, L, E, seed=32), {}, 33)

    torch.manual_seed(40)
    layer = tnn.TransformerEncoderLayer(E, 2, dim_feedforward=16)
    enc = tnn.TransformerEncoder(layer, 2, norm=tnn.LayerNorm(E), enable_nested_tensor=False)
    with torch.no_grad():
        for n, p in enc.named_parameters():
            if "bias" in n:
                p.copy_(rnd(*p.shape, seed=41 + len(n), dtype=p.dtype) * 0.5)
        # Distinct weights per layer (deepcopy makes them equal at first).
        for p in enc.layers[1].parameters():
            p.add_(rnd(*p.shape, seed=42, dtype=p.dtype) * 0.1)
    cases.append(module_case("encoder 2 layers with final norm and mask", "TransformerEncoder",
                             {"dModel": E, "nhead": 2, "dimFeedforward": 16, "numLayers": 2, "norm": True},
                             enc, [rnd(L, N, E, seed=43), skpm],
                             lambda mod, s, kp: mod(s, src_key_padding_mask=kp), seed=44,
                             extra={"masks": ["src_key_padding_mask"]}, n_diff=1))
    return cases


if __name__ == "__main__":
    write("nn_rnn", rnn_cases())
    write("nn_attention", attention_cases(), generator="nn_rnn.py")
