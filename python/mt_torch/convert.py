"""mt's weight names and layouts <-> the PyTorch modules' (models.py).

Each mapping entry names one PyTorch tensor, the mt tensors it is made of, and the two exact
functions between them: transposes (mt stores matrices [in, out], nn.Linear [out, in]),
concatenations (a decoder's first-layer input kernel with the context or input-feed kernel) and,
for LSTMs, the gate order (mt i, f, o, g; PyTorch i, f, g, o). They only move bits, so a
round trip mt -> PyTorch -> mt is bit-identical. They apply to Adam's moments as to the weights.

mt's names (src/models/): encoder/embedding/table; encoder/layer{l}/{forward,backward}/{gru,lstm}/
{input_kernel,recurrent_kernel,bias,recurrent_bias}; encoder/layer{l}/bridge_{h,c}/{weight,bias};
decoder/embedding/table; decoder/layer{l}/{cell}/…; decoder/context/weight (seq2seq with
context_every_step); decoder/input_feed/weight, attention/{query,key,score}/…,
decoder/attentional/… (attention); output/weight, output/bias or, tied, output/bias and
output/bottleneck/weight; Transformer: {encoder,decoder}/layer{l}/{self_attention,cross_attention}/
{qkv,query,kv,out}/{weight,bias}, …/feed_forward/{inner,outer}/…, …/norm{i}/{gain,bias},
{encoder,decoder}/final_norm/… (pre-norm), positions (learned).
"""

from __future__ import annotations

import torch

LSTM_ORDER = [0, 1, 3, 2]  # mt i, f, o, g <-> PyTorch i, f, g, o (its own inverse)


def _reorder(t, cell, axis):
    """Permute the gate blocks of the last (axis=-1) or first (axis=0) axis for LSTMs."""
    if cell != "lstm":
        return t
    blocks = t.chunk(4, axis)
    return torch.cat([blocks[i] for i in LSTM_ORDER], axis)


class Entry:
    def __init__(self, torch_name, mt_names, to_torch, to_mt):
        self.torch_name, self.mt_names, self.to_torch, self.to_mt = torch_name, mt_names, to_torch, to_mt


def copy(torch_name, mt_name):
    return Entry(torch_name, [mt_name], lambda ts: ts[0], lambda t: [t])


def transposed(torch_name, mt_name):
    return Entry(torch_name, [mt_name], lambda ts: ts[0].t(), lambda t: [t.t()])


def linear(torch_prefix, mt_prefix, bias=True):
    out = [transposed(f"{torch_prefix}.weight", f"{mt_prefix}/weight")]
    if bias:
        out.append(copy(f"{torch_prefix}.bias", f"{mt_prefix}/bias"))
    return out


def layer_norm(torch_prefix, mt_prefix):
    return [copy(f"{torch_prefix}.weight", f"{mt_prefix}/gain"), copy(f"{torch_prefix}.bias", f"{mt_prefix}/bias")]


def rnn_layer(torch_prefix, suffix, mt_prefix, cell, extra=(), sizes=()):
    """One direction of one layer of an nn.GRU/nn.LSTM. `extra`: mt kernels [size, G·H] whose
    inputs follow the layer's own input in PyTorch's (concatenated) input, `sizes` their rows."""
    kernels = [f"{mt_prefix}/input_kernel", *extra]

    def ih_to_torch(ts):
        return _reorder(torch.cat(ts, 0), cell, 1).t()

    def ih_to_mt(t):
        whole = _reorder(t.t(), cell, 1)
        if not extra:
            return [whole]
        own = whole.shape[0] - sum(sizes)
        return list(whole.split([own, *sizes], 0))

    out = [
        Entry(f"{torch_prefix}.weight_ih_l{suffix}", kernels, ih_to_torch, ih_to_mt),
        Entry(f"{torch_prefix}.weight_hh_l{suffix}", [f"{mt_prefix}/recurrent_kernel"],
              lambda ts: _reorder(ts[0], cell, 1).t(), lambda t: [_reorder(t.t(), cell, 1)]),
        Entry(f"{torch_prefix}.bias_ih_l{suffix}", [f"{mt_prefix}/bias"],
              lambda ts: _reorder(ts[0], cell, 0), lambda t: [_reorder(t, cell, 0)]),
    ]
    if cell == "gru":
        out.append(copy(f"{torch_prefix}.bias_hh_l{suffix}", f"{mt_prefix}/recurrent_bias"))
    return out


def output_layer(cfg, features, emb):
    if not cfg["tie_embeddings"]:
        return linear("output.linear", "output")
    out = [copy("output.bias", "output/bias")]
    if features != emb:
        out += linear("output.bottleneck", "output/bottleneck", bias=False)
    return out


def rnn_encoder(cfg):
    cell, L, bi = cfg["cell"], cfg["layers"], cfg["bidirectional"]
    out = [copy("encoder.embedding.weight", "encoder/embedding/table")]
    for l in range(L):
        out += rnn_layer("encoder.rnn", str(l), f"encoder/layer{l}/forward/{cell}", cell)
        if bi:
            out += rnn_layer("encoder.rnn", f"{l}_reverse", f"encoder/layer{l}/backward/{cell}", cell)
            out += linear(f"encoder.bridge_h.{l}", f"encoder/layer{l}/bridge_h")
            if cell == "lstm":
                out += linear(f"encoder.bridge_c.{l}", f"encoder/layer{l}/bridge_c")
    return out


def rnn_decoder(cfg, extra_name, extra_on):
    cell, H = cfg["cell"], cfg["hidden_size"]
    out = [copy("embedding.weight", "decoder/embedding/table")]
    for l in range(cfg["layers"]):
        extra = [extra_name] if (l == 0 and extra_on) else []
        out += rnn_layer("decoder", str(l), f"decoder/layer{l}/{cell}", cell, extra, [H] * len(extra))
    return out


def entries(cfg):
    kind = cfg["type"]
    if kind == "seq2seq":
        E, H = cfg["emb_size"], cfg["hidden_size"]
        every = cfg["context_every_step"]
        return rnn_encoder(cfg) + rnn_decoder(cfg, "decoder/context/weight", every) + output_layer(cfg, 2 * H + E if every else H, E)
    if kind == "attention":
        E, H = cfg["emb_size"], cfg["hidden_size"]
        out = rnn_encoder(cfg) + rnn_decoder(cfg, "decoder/input_feed/weight", cfg["input_feeding"])
        att = cfg["attention"]
        if att == "bahdanau":
            out += linear("attention.query", "attention/query", bias=False)
            out += linear("attention.key", "attention/key")
            out += linear("attention.score", "attention/score", bias=False)
        elif att == "luong_general":
            out += linear("attention.key", "attention/key", bias=False)
        out += linear("attentional", "decoder/attentional")
        return out + output_layer(cfg, H, E)
    # transformer
    d = cfg["d_model"]
    out = [copy("src_embedding.weight", "encoder/embedding/table"), copy("tgt_embedding.weight", "decoder/embedding/table")]
    if cfg["positions"] == "learned":
        out.append(copy("positions", "positions"))
    for l in range(cfg["encoder_layers"]):
        t, m = f"encoder_layers.{l}", f"encoder/layer{l}"
        out += linear(f"{t}.self_attention.qkv", f"{m}/self_attention/qkv") + linear(f"{t}.self_attention.out", f"{m}/self_attention/out")
        out += linear(f"{t}.feed_forward.inner", f"{m}/feed_forward/inner") + linear(f"{t}.feed_forward.outer", f"{m}/feed_forward/outer")
        for i in range(2):
            out += layer_norm(f"{t}.norms.{i}", f"{m}/norm{i}")
    for l in range(cfg["decoder_layers"]):
        t, m = f"decoder_layers.{l}", f"decoder/layer{l}"
        out += linear(f"{t}.self_attention.qkv", f"{m}/self_attention/qkv") + linear(f"{t}.self_attention.out", f"{m}/self_attention/out")
        out += linear(f"{t}.cross_attention.query", f"{m}/cross_attention/query")
        out += linear(f"{t}.cross_attention.kv", f"{m}/cross_attention/kv") + linear(f"{t}.cross_attention.out", f"{m}/cross_attention/out")
        out += linear(f"{t}.feed_forward.inner", f"{m}/feed_forward/inner") + linear(f"{t}.feed_forward.outer", f"{m}/feed_forward/outer")
        for i in range(3):
            out += layer_norm(f"{t}.norms.{i}", f"{m}/norm{i}")
    if cfg["norm"] == "pre":
        out += layer_norm("encoder_norm", "encoder/final_norm") + layer_norm("decoder_norm", "decoder/final_norm")
    return out + output_layer(cfg, d, d)


def to_mt(cfg, tensors):
    """{PyTorch parameter name: tensor} -> {mt name: tensor}. Entries whose PyTorch tensor is
    absent (e.g. Adam moments of a frozen parameter) are left out."""
    out = {}
    for e in entries(cfg):
        t = tensors.get(e.torch_name)
        if t is None:
            continue
        for name, part in zip(e.mt_names, e.to_mt(t.detach())):
            out[name] = part.contiguous()
    return out


class WeightsMismatch(ValueError):
    pass


def to_torch(cfg, tensors, source="weights", expected=None):
    """{mt name: tensor} -> {PyTorch parameter name: tensor}. Every mt name the config implies
    must be present, none other, each with its shape (checked against `expected`'s parameters)."""
    es = entries(cfg)
    wanted = {n for e in es for n in e.mt_names}
    extra = sorted(set(tensors) - wanted)
    if extra:
        raise WeightsMismatch(f"{source}: has weights {extra[0]} that the model does not" + (f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""))
    missing = sorted(wanted - set(tensors))
    if missing:
        raise WeightsMismatch(f"{source}: has no weights for {missing[0]}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    own = dict(expected.named_parameters()) if expected is not None else {}
    out = {}
    for e in es:
        t = e.to_torch([tensors[n].to(torch.float32) if tensors[n].dtype != torch.float32 else tensors[n] for n in e.mt_names]).contiguous()
        if e.torch_name in own and tuple(own[e.torch_name].shape) != tuple(t.shape):
            raise WeightsMismatch(f"{source}: {', '.join(e.mt_names)} gives shape {list(t.shape)} but the model expects {list(own[e.torch_name].shape)}")
        out[e.torch_name] = t
    return out
