"""mt's three model families (src/models/) as PyTorch modules, with mt's mathematics.

Every module computes what mt's does for the same weights (tests: logits within 1e-4 in
float32), in PyTorch's own layouts: nn.Linear [out, in], nn.GRU/nn.LSTM with PyTorch's gate
order, so cuDNN runs the recurrences on a GPU. convert.py maps the weights to and from mt's
names and layouts. Dropout sits where mt has it; its random masks are PyTorch's, not mt's.

Interface of each family (B rows, S source length, T target length, V target vocabulary):
  forward(src [B, S] long, mask [B, S] float 1/0, tgt_in [B, T] long) -> logits [B, T, V]
  encode(src, mask) -> dict of tensors, first axis the row
  init_state(enc) -> dict of tensors, first axis the row
  step(enc, state, prev [B] long, t) -> (logits [B, V], new state)
"""

from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

# Added to the scores of masked positions before a softmax (mt's MASKED_SCORE).
NEG = -1e9


def _drop(x, p, training):
    return F.dropout(x, p, training) if p > 0 and training else x


class OutputLayer(nn.Module):
    """Features [..., F] -> logits. Untied: a Linear. Tied to the target embedding E [V, e]:
    (x W_b) Eᵀ + b, W_b (no bias) only when F differs from e (mt's OutputLayer)."""

    def __init__(self, features, vocab, tied_size=None):
        super().__init__()
        self.tied = tied_size is not None
        if not self.tied:
            self.linear = nn.Linear(features, vocab)
        else:
            self.bottleneck = nn.Linear(features, tied_size, bias=False) if features != tied_size else None
            self.bias = nn.Parameter(torch.zeros(vocab))

    def forward(self, x, table=None):
        if not self.tied:
            return self.linear(x)
        if self.bottleneck is not None:
            x = self.bottleneck(x)
        return F.linear(x, table, self.bias)


def _rnn(cell, input_size, hidden, layers, dropout, bidirectional=False):
    make = nn.GRU if cell == "gru" else nn.LSTM
    rnn = make(input_size, hidden, num_layers=layers, bidirectional=bidirectional, batch_first=True,
               dropout=dropout if layers > 1 else 0.0)
    if cell == "lstm":
        # mt's LSTM has one bias per gate; PyTorch adds bias_ih and bias_hh. bias_hh is held at 0
        # (no gradient), so bias_ih is mt's bias and Adam sees the same parameters as in mt.
        for name, p in rnn.named_parameters():
            if name.startswith("bias_hh"):
                with torch.no_grad():
                    p.zero_()
                p.requires_grad_(False)
    return rnn


class RnnEncoder(nn.Module):
    """Embedding, n (bi)GRU/LSTM layers; bidirectional: hidden/2 per direction and a tanh
    bridge per layer from [h_fw; h_bw] (and [c_fw; c_bw]) to the decoder's initial state."""

    def __init__(self, cfg, vocab):
        super().__init__()
        E, H, L = cfg["emb_size"], cfg["hidden_size"], cfg["layers"]
        self.cell, self.layers, self.bi, self.p = cfg["cell"], L, cfg["bidirectional"], cfg["dropout"]
        self.embedding = nn.Embedding(vocab, E)
        self.rnn = _rnn(self.cell, E, H // 2 if self.bi else H, L, self.p, self.bi)
        if self.bi:
            self.bridge_h = nn.ModuleList(nn.Linear(H, H) for _ in range(L))
            if self.cell == "lstm":
                self.bridge_c = nn.ModuleList(nn.Linear(H, H) for _ in range(L))

    def forward(self, src, mask):
        """-> memory [B, S, H] (padded positions: zeros) and one (h, c) per layer (c None for GRUs)."""
        x = _drop(self.embedding(src), self.p, self.training)
        lengths = mask.sum(1).long().cpu()
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, final = self.rnn(packed)
        memory, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        h, c = (final, None) if self.cell == "gru" else final
        states = []
        for layer in range(self.layers):
            if self.bi:
                hl = torch.tanh(self.bridge_h[layer](torch.cat([h[2 * layer], h[2 * layer + 1]], 1)))
                cl = torch.tanh(self.bridge_c[layer](torch.cat([c[2 * layer], c[2 * layer + 1]], 1))) if c is not None else None
            else:
                hl, cl = h[layer], (c[layer] if c is not None else None)
            states.append((hl, cl))
        return memory, states


def _stack_states(states):
    """[(h, c)] per layer -> (h [B, L, H], c [B, L, H] or None): row-first for decoding."""
    h = torch.stack([s[0] for s in states], 1)
    c = torch.stack([s[1] for s in states], 1) if states[0][1] is not None else None
    return h, c


def _rnn_hidden(cell, h, c):
    """Row-first [B, L, H] -> what nn.GRU/nn.LSTM take: [L, B, H] (and the pair for LSTMs)."""
    h = h.transpose(0, 1).contiguous()
    return h if cell == "gru" else (h, c.transpose(0, 1).contiguous())


def _from_rnn_hidden(cell, hidden):
    if cell == "gru":
        return hidden.transpose(0, 1), None
    return hidden[0].transpose(0, 1), hidden[1].transpose(0, 1)


class MtModule(nn.Module):
    """What the three families share: their config, vocabulary sizes and weight conversion."""

    family = ""

    def __init__(self, cfg, src_vocab, tgt_vocab):
        super().__init__()
        self.cfg = dict(cfg)
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab

    @property
    def max_positions(self):
        return math.inf

    def mt_state_dict(self):
        """The weights by mt's names, in mt's layouts (float32 numpy arrays)."""
        from .convert import to_mt
        return {k: v.detach().cpu().numpy() for k, v in to_mt(self.cfg, dict(self.named_parameters())).items()}

    def load_mt_state_dict(self, weights, source="weights"):
        """Assign weights given by mt's names (numpy arrays or tensors); every one must be there."""
        from .convert import to_torch
        tensors = to_torch(self.cfg, {k: torch.as_tensor(v) for k, v in weights.items()}, source=source, expected=self)
        own = dict(self.named_parameters())
        with torch.no_grad():
            for name, t in tensors.items():
                own[name].copy_(t)

    def reset_parameters_like_mt(self, generator=None):
        """mt's initialisation (src/models/common/params.ts): Glorot-uniform matrices, zero biases,
        unit gains, truncated-normal embeddings (std 1 for the RNNs, 1/√d for the Transformer)."""
        shapes = self.mt_state_dict()
        table_std = 1.0 / math.sqrt(self.cfg["d_model"]) if self.family == "transformer" else 1.0
        init = {}
        for name, a in shapes.items():
            t = torch.empty(a.shape)
            if name.endswith("/table") or name == "positions":
                std = table_std
                nn.init.trunc_normal_(t, 0.0, std, -2 * std, 2 * std)
            elif name.endswith("/gain"):
                t.fill_(1.0)
            elif t.dim() == 1:
                t.zero_()
            else:
                limit = math.sqrt(6.0 / (a.shape[0] + a.shape[1]))
                t.uniform_(-limit, limit, generator=generator)
            init[name] = t
        self.load_mt_state_dict(init)


class Seq2Seq(MtModule):
    """Fixed context vector: the encoder's final state initialises the decoder; with
    context_every_step the top layer's final h is also fed to every step and the output layer."""

    family = "seq2seq"

    def __init__(self, cfg, src_vocab, tgt_vocab):
        super().__init__(cfg, src_vocab, tgt_vocab)
        E, H = cfg["emb_size"], cfg["hidden_size"]
        self.every, self.cell, self.p = cfg["context_every_step"], cfg["cell"], cfg["dropout"]
        self.encoder = RnnEncoder(cfg, src_vocab)
        self.embedding = nn.Embedding(tgt_vocab, E)
        self.decoder = _rnn(self.cell, E + (H if self.every else 0), H, cfg["layers"], self.p)
        self.output = OutputLayer(2 * H + E if self.every else H, tgt_vocab, E if cfg["tie_embeddings"] else None)

    def _logits(self, features):
        return self.output(_drop(features, self.p, self.training), self.embedding.weight)

    def forward(self, src, mask, tgt_in):
        _, states = self.encoder(src, mask)
        h0, c0 = _stack_states(states)
        context = states[-1][0]
        emb = _drop(self.embedding(tgt_in), self.p, self.training)
        ctx = context.unsqueeze(1).expand(-1, tgt_in.shape[1], -1)
        h, _ = self.decoder(torch.cat([emb, ctx], 2) if self.every else emb, _rnn_hidden(self.cell, h0, c0))
        return self._logits(torch.cat([h, emb, ctx], 2) if self.every else h)

    def encode(self, src, mask):
        _, states = self.encoder(src, mask)
        h, c = _stack_states(states)
        enc = {"context": states[-1][0], "init_h": h}
        if c is not None:
            enc["init_c"] = c
        return enc

    def init_state(self, enc):
        return {k[5:]: v.clone() for k, v in enc.items() if k.startswith("init_")}

    def step(self, enc, state, prev, t=0):
        emb = _drop(self.embedding(prev), self.p, self.training).unsqueeze(1)
        ctx = enc["context"].unsqueeze(1)
        h, hidden = self.decoder(torch.cat([emb, ctx], 2) if self.every else emb, _rnn_hidden(self.cell, state["h"], state.get("c")))
        new_h, new_c = _from_rnn_hidden(self.cell, hidden)
        logits = self._logits(torch.cat([h, emb, ctx], 2) if self.every else h)[:, 0]
        return logits, ({"h": new_h} if new_c is None else {"h": new_h, "c": new_c})


class SourceAttention(nn.Module):
    """Scores of queries [B, T, H] against the encoder states: bahdanau vᵀ tanh(W_q q + W_k m + b),
    luong_dot qᵀm, luong_general qᵀ(W_a m), luong_scaled_dot qᵀm/√H (src/models/attention/attention.ts)."""

    def __init__(self, kind, H):
        super().__init__()
        self.kind, self.H = kind, H
        if kind == "bahdanau":
            self.query = nn.Linear(H, H, bias=False)
            self.key = nn.Linear(H, H)
            self.score = nn.Linear(H, 1, bias=False)
        elif kind == "luong_general":
            self.key = nn.Linear(H, H, bias=False)

    def keys(self, memory):
        """memory [B, S, H] -> keys [B, S, H] (bahdanau) or [B, H, S] (luong); once per source."""
        if self.kind == "bahdanau":
            return self.key(memory)
        return (self.key(memory) if self.kind == "luong_general" else memory).transpose(1, 2)

    def forward(self, query, keys, memory, bias):
        """query [B, T, H], bias [B, S] -> context [B, T, H], weights [B, T, S]."""
        if self.kind == "bahdanau":
            hidden = torch.tanh(self.query(query).unsqueeze(2) + keys.unsqueeze(1))
            scores = self.score(hidden).squeeze(3)
        else:
            scores = torch.matmul(query, keys)
            if self.kind == "luong_scaled_dot":
                scores = scores * (1.0 / math.sqrt(self.H))
        weights = torch.softmax(scores + bias.unsqueeze(1), -1)
        return torch.matmul(weights, memory), weights


class Attention(MtModule):
    """RNN encoder-decoder with attention (Luong et al. 2015): the top decoder state queries the
    encoder states; h̃ = tanh(W_c [h; context]) gives the logits and, with input feeding, joins
    the next step's input."""

    family = "attention"

    def __init__(self, cfg, src_vocab, tgt_vocab):
        super().__init__(cfg, src_vocab, tgt_vocab)
        E, H = cfg["emb_size"], cfg["hidden_size"]
        self.H, self.feeding, self.cell, self.p = H, cfg["input_feeding"], cfg["cell"], cfg["dropout"]
        self.encoder = RnnEncoder(cfg, src_vocab)
        self.embedding = nn.Embedding(tgt_vocab, E)
        self.decoder = _rnn(self.cell, E + (H if self.feeding else 0), H, cfg["layers"], self.p)
        self.attention = SourceAttention(cfg["attention"], H)
        self.attentional = nn.Linear(2 * H, H)
        self.output = OutputLayer(H, tgt_vocab, E if cfg["tie_embeddings"] else None)

    def _source(self, src, mask):
        memory, states = self.encoder(src, mask)
        return memory, self.attention.keys(memory), (1.0 - mask) * NEG, states

    def _attentional(self, h, keys, memory, bias):
        context, weights = self.attention(h, keys, memory, bias)
        return torch.tanh(self.attentional(_drop(torch.cat([h, context], 2), self.p, self.training))), weights

    def forward(self, src, mask, tgt_in, return_attention=False):
        memory, keys, bias, states = self._source(src, mask)
        h0, c0 = _stack_states(states)
        hidden = _rnn_hidden(self.cell, h0, c0)
        emb = _drop(self.embedding(tgt_in), self.p, self.training)
        if not self.feeding:
            h, _ = self.decoder(emb, hidden)
            att, weights = self._attentional(h, keys, memory, bias)
        else:
            feed = emb.new_zeros(emb.shape[0], 1, self.H)
            outs, ws = [], []
            for t in range(emb.shape[1]):
                h, hidden = self.decoder(torch.cat([emb[:, t:t + 1], feed], 2), hidden)
                feed, w = self._attentional(h, keys, memory, bias)
                outs.append(feed)
                ws.append(w)
            att, weights = torch.cat(outs, 1), torch.cat(ws, 1)
        logits = self.output(_drop(att, self.p, self.training), self.embedding.weight)
        return (logits, weights) if return_attention else logits

    def encode(self, src, mask):
        memory, keys, bias, states = self._source(src, mask)
        h, c = _stack_states(states)
        enc = {"memory": memory, "keys": keys, "bias": bias, "init_h": h}
        if c is not None:
            enc["init_c"] = c
        return enc

    def init_state(self, enc):
        state = {k[5:]: v.clone() for k, v in enc.items() if k.startswith("init_")}
        if self.feeding:
            state["feed"] = enc["memory"].new_zeros(enc["memory"].shape[0], self.H)
        return state

    def step(self, enc, state, prev, t=0):
        emb = _drop(self.embedding(prev), self.p, self.training).unsqueeze(1)
        x = torch.cat([emb, state["feed"].unsqueeze(1)], 2) if self.feeding else emb
        h, hidden = self.decoder(x, _rnn_hidden(self.cell, state["h"], state.get("c")))
        att, weights = self._attentional(h, enc["keys"], enc["memory"], enc["bias"])
        new_h, new_c = _from_rnn_hidden(self.cell, hidden)
        new = {"h": new_h} if new_c is None else {"h": new_h, "c": new_c}
        if self.feeding:
            new["feed"] = att[:, 0]
        return self.output(att, self.embedding.weight)[:, 0], new


def sinusoidal_table(length, d):
    """PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(…), computed in float64 as mt does."""
    import numpy as np
    pos = np.arange(length, dtype=np.float64)[:, None]
    i = np.arange(0, d, 2, dtype=np.float64)
    angle = pos / np.power(10000.0, i / d)
    table = np.zeros((length, d), dtype=np.float64)
    table[:, 0::2] = np.sin(angle)
    table[:, 1::2] = np.cos(angle[:, : d // 2])
    return torch.from_numpy(table.astype(np.float32))


class MultiHeadAttention(nn.Module):
    """Scaled dot-product attention over `heads` subspaces; self-attention projects [q; k; v]
    in one Linear, cross-attention q from the decoder and [k; v] from the memory."""

    def __init__(self, d, heads, self_attention):
        super().__init__()
        self.d, self.heads, self.dk = d, heads, d // heads
        if self_attention:
            self.qkv = nn.Linear(d, 3 * d)
        else:
            self.query = nn.Linear(d, d)
            self.kv = nn.Linear(d, 2 * d)
        self.out = nn.Linear(d, d)

    def split(self, x):  # [B, T, d] -> [B, h, T, dk]
        B, T, _ = x.shape
        return x.view(B, T, self.heads, self.dk).transpose(1, 2)

    def attend(self, q, k, v, bias):
        """q [B, h, T, dk] (unscaled), k/v [B, h, S, dk], bias broadcastable to [B, h, T, S]."""
        scores = torch.matmul(q * (1.0 / math.sqrt(self.dk)), k.transpose(-1, -2))
        if bias is not None:
            scores = scores + bias
        weights = torch.softmax(scores, -1)
        out = torch.matmul(weights, v)
        B, _, T, _ = out.shape
        return self.out(out.transpose(1, 2).reshape(B, T, self.d)), weights


class FeedForward(nn.Module):
    def __init__(self, d, ff):
        super().__init__()
        self.inner = nn.Linear(d, ff)
        self.outer = nn.Linear(ff, d)

    def forward(self, x, p, training):
        return self.outer(_drop(F.relu(self.inner(x)), p, training))


class EncoderLayer(nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.self_attention = MultiHeadAttention(d, heads, True)
        self.feed_forward = FeedForward(d, ff)
        self.norms = nn.ModuleList(nn.LayerNorm(d, eps=1e-6) for _ in range(2))


class DecoderLayer(nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.self_attention = MultiHeadAttention(d, heads, True)
        self.cross_attention = MultiHeadAttention(d, heads, False)
        self.feed_forward = FeedForward(d, ff)
        # norms[0] self-attention, norms[1] cross-attention, norms[2] feed-forward (as mt).
        self.norms = nn.ModuleList(nn.LayerNorm(d, eps=1e-6) for _ in range(3))


class Transformer(MtModule):
    """Pre- or post-norm Transformer (src/models/transformer/model.ts): embeddings × √d plus
    sinusoidal or learned positions, dropout on every sublayer's output and inside the
    feed-forward; tied target embedding and output projection by default."""

    family = "transformer"

    def __init__(self, cfg, src_vocab, tgt_vocab):
        super().__init__(cfg, src_vocab, tgt_vocab)
        d, heads, ff, P = cfg["d_model"], cfg["heads"], cfg["ff_size"], cfg["max_positions"]
        self.d, self.p, self.pre = d, cfg["dropout"], cfg["norm"] == "pre"
        self.src_embedding = nn.Embedding(src_vocab, d)
        self.tgt_embedding = nn.Embedding(tgt_vocab, d)
        if cfg["positions"] == "learned":
            self.positions = nn.Parameter(torch.zeros(P, d))
        else:
            self.register_buffer("positions", sinusoidal_table(P, d), persistent=False)
        self.encoder_layers = nn.ModuleList(EncoderLayer(d, heads, ff) for _ in range(cfg["encoder_layers"]))
        self.decoder_layers = nn.ModuleList(DecoderLayer(d, heads, ff) for _ in range(cfg["decoder_layers"]))
        if self.pre:
            self.encoder_norm = nn.LayerNorm(d, eps=1e-6)
            self.decoder_norm = nn.LayerNorm(d, eps=1e-6)
        self.output = OutputLayer(d, tgt_vocab, d if cfg["tie_embeddings"] else None)

    @property
    def max_positions(self):
        return self.cfg["max_positions"]

    def embed(self, embedding, ids, offset=0):
        T = ids.shape[1]
        if offset + T > self.cfg["max_positions"]:
            raise ValueError(f"a sequence of {offset + T} tokens is longer than model.max_positions ({self.cfg['max_positions']})")
        x = embedding(ids) * math.sqrt(self.d) + self.positions[offset:offset + T]
        return _drop(x, self.p, self.training)

    def sublayer(self, x, norm, f):
        if self.pre:
            return x + _drop(f(norm(x)), self.p, self.training)
        return norm(x + _drop(f(x), self.p, self.training))

    def encode_memory(self, src, mask):
        bias = ((1.0 - mask) * NEG)[:, None, None, :]
        x = self.embed(self.src_embedding, src)
        for layer in self.encoder_layers:
            att = layer.self_attention

            def self_att(y, att=att):
                q, k, v = att.qkv(y).chunk(3, -1)
                return att.attend(att.split(q), att.split(k), att.split(v), bias)[0]

            x = self.sublayer(x, layer.norms[0], self_att)
            x = self.sublayer(x, layer.norms[1], lambda y, layer=layer: layer.feed_forward(y, self.p, self.training))
        return (self.encoder_norm(x) if self.pre else x), bias

    def _decode(self, y, cross, cross_bias, self_bias, cache=None):
        """The decoder stack over y [B, T, d]; cache: each layer's earlier keys/values (decoding)."""
        new_cache, weights = [], None
        for i, layer in enumerate(self.decoder_layers):
            sa, ca = layer.self_attention, layer.cross_attention

            def self_att(z, sa=sa, i=i):
                q, k, v = sa.qkv(z).chunk(3, -1)
                k, v = sa.split(k), sa.split(v)
                if cache is not None:
                    k, v = torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)
                new_cache.append((k, v))
                return sa.attend(sa.split(q), k, v, self_bias)[0]

            def cross_att(z, ca=ca, i=i):
                nonlocal weights
                out, weights = ca.attend(ca.split(ca.query(z)), cross[i][0], cross[i][1], cross_bias)
                return out

            y = self.sublayer(y, layer.norms[0], self_att)
            y = self.sublayer(y, layer.norms[1], cross_att)
            y = self.sublayer(y, layer.norms[2], lambda z, layer=layer: layer.feed_forward(z, self.p, self.training))
        return (self.decoder_norm(y) if self.pre else y), new_cache, weights

    def _cross(self, memory):
        out = []
        for layer in self.decoder_layers:
            k, v = layer.cross_attention.kv(memory).chunk(2, -1)
            out.append((layer.cross_attention.split(k), layer.cross_attention.split(v)))
        return out

    def forward(self, src, mask, tgt_in, return_attention=False):
        memory, bias = self.encode_memory(src, mask)
        T = tgt_in.shape[1]
        causal = torch.triu(torch.full((T, T), NEG, device=src.device), 1)
        h, _, weights = self._decode(self.embed(self.tgt_embedding, tgt_in), self._cross(memory), bias, causal)
        logits = self.output(h, self.tgt_embedding.weight)
        return (logits, weights.mean(1)) if return_attention else logits

    def encode(self, src, mask):
        memory, bias = self.encode_memory(src, mask)
        enc = {"bias": bias}
        for i, (k, v) in enumerate(self._cross(memory)):
            enc[f"k{i}"], enc[f"v{i}"] = k, v
        return enc

    def init_state(self, enc):
        R = enc["bias"].shape[0]
        dk = self.d // self.cfg["heads"]
        z = enc["bias"].new_zeros(R, self.cfg["heads"], 0, dk)
        return {f"{kv}{i}": z for i in range(len(self.decoder_layers)) for kv in ("sk", "sv")}

    def step(self, enc, state, prev, t):
        n = len(self.decoder_layers)
        cross = [(enc[f"k{i}"], enc[f"v{i}"]) for i in range(n)]
        cache = [(state[f"sk{i}"], state[f"sv{i}"]) for i in range(n)]
        x = self.embed(self.tgt_embedding, prev.unsqueeze(1), t)
        h, new_cache, _ = self._decode(x, cross, enc["bias"], None, cache)
        new = {}
        for i, (k, v) in enumerate(new_cache):
            new[f"sk{i}"], new[f"sv{i}"] = k, v
        return self.output(h, self.tgt_embedding.weight)[:, 0], new


FAMILIES = {"seq2seq": Seq2Seq, "attention": Attention, "transformer": Transformer}


def build(model_cfg: dict, src_vocab: int, tgt_vocab: int) -> MtModule:
    """An (uninitialised) module of the family `model_cfg` names; mt's defaults are filled in."""
    from .config import model_config
    cfg = model_config(model_cfg)
    return FAMILIES[cfg["type"]](cfg, src_vocab, tgt_vocab)
