"""PyTorch reference for bench/decode-speed.ts: the same model families, sizes and searches as mt.

Reads a JSON job on stdin (model config, vocabulary sizes, source batches, search settings),
builds an untrained model of the same architecture as mt's (src/models/), runs batched greedy
and beam search exactly as src/decode/ does (encode once; per step one decoder call over all
live rows, each row's top 2K on the device, bookkeeping on the host from those few numbers,
rows gathered with index_select), and prints one JSON object with the timings (whole passes over
the sentences per search until the job's min_seconds have passed) and the peak RSS: one trial of
bench/decode-speed.ts.

Outputs are forced to a fixed length (eos banned below it, forced at it), so both sides do the
same number of steps whatever the weights. Run with Debian's python3-torch: /usr/bin/python3.
"""

import json
import math
import os
import resource
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

NEG = -1e9


# ---------------------------------------------------------------------------------------------
# Models: encode(src, mask) -> enc dict; init_state(enc) -> state dict;
# step(enc, state, prev) -> (log_probs [R, V], state). Every tensor's first axis is the row.


class RnnEncoder(nn.Module):
    """Embedding + (bi)GRU/LSTM; bidirectional final states go through a tanh bridge per layer."""

    def __init__(self, cfg, vocab):
        super().__init__()
        E, H, L = cfg["emb_size"], cfg["hidden_size"], cfg["layers"]
        self.cell, self.layers, self.bi = cfg["cell"], L, cfg["bidirectional"]
        self.embedding = nn.Embedding(vocab, E)
        rnn = nn.GRU if self.cell == "gru" else nn.LSTM
        self.rnn = rnn(E, H // 2 if self.bi else H, num_layers=L, bidirectional=self.bi, batch_first=True)
        if self.bi:
            self.bridge_h = nn.ModuleList(nn.Linear(H, H) for _ in range(L))
            if self.cell == "lstm":
                self.bridge_c = nn.ModuleList(nn.Linear(H, H) for _ in range(L))

    def forward(self, src, mask):
        lengths = mask.sum(1).long().cpu()
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(src), lengths, batch_first=True, enforce_sorted=False)
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


class RnnDecoderStack(nn.Module):
    def __init__(self, cell, input_size, hidden, layers):
        super().__init__()
        make = nn.GRUCell if cell == "gru" else nn.LSTMCell
        self.cell = cell
        self.cells = nn.ModuleList(make(input_size if i == 0 else hidden, hidden) for i in range(layers))

    def step(self, x, state):
        out = {}
        for i, cell in enumerate(self.cells):
            if self.cell == "gru":
                h = cell(x, state[f"h{i}"])
                out[f"h{i}"] = h
            else:
                h, c = cell(x, (state[f"h{i}"], state[f"c{i}"]))
                out[f"h{i}"], out[f"c{i}"] = h, c
            x = h
        return x, out


def states_dict(states):
    d = {}
    for i, (h, c) in enumerate(states):
        d[f"h{i}"] = h
        if c is not None:
            d[f"c{i}"] = c
    return d


class Seq2Seq(nn.Module):
    """Fixed context vector; with context_every_step it feeds every step and the output layer."""

    def __init__(self, cfg, src_vocab, tgt_vocab):
        super().__init__()
        E, H = cfg["emb_size"], cfg["hidden_size"]
        self.every = cfg["context_every_step"]
        self.encoder = RnnEncoder(cfg, src_vocab)
        self.embedding = nn.Embedding(tgt_vocab, E)
        self.decoder = RnnDecoderStack(cfg["cell"], E + (H if self.every else 0), H, cfg["layers"])
        self.output = nn.Linear(H + E + H if self.every else H, tgt_vocab)

    def encode(self, src, mask):
        _, states = self.encoder(src, mask)
        return {"context": states[-1][0], **{f"init_{k}": v for k, v in states_dict(states).items()}}

    def init_state(self, enc):
        return {k[5:]: v.clone() for k, v in enc.items() if k.startswith("init_")}

    def step(self, enc, state, prev):
        emb = self.embedding(prev)
        x = torch.cat([emb, enc["context"]], 1) if self.every else emb
        h, state = self.decoder.step(x, state)
        features = torch.cat([h, emb, enc["context"]], 1) if self.every else h
        return F.log_softmax(self.output(features), -1), state, None


class SourceAttention(nn.Module):
    """Bahdanau (additive) or Luong (dot, general, scaled dot) attention over the encoder states."""

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
        """memory [B, S, H] -> keys [B, S, H] (bahdanau) or [B, H, S] (luong), made once per sentence."""
        if self.kind == "bahdanau":
            return self.key(memory)
        return (self.key(memory) if self.kind == "luong_general" else memory).transpose(1, 2)

    def forward(self, h, keys, memory, bias):
        """query h [B, H] -> context [B, H] and weights [B, S]."""
        if self.kind == "bahdanau":
            scores = self.score(torch.tanh(self.query(h).unsqueeze(1) + keys)).squeeze(2)
        else:
            scores = torch.bmm(h.unsqueeze(1), keys).squeeze(1)
            if self.kind == "luong_scaled_dot":
                scores = scores / math.sqrt(self.H)
        weights = torch.softmax(scores + bias, -1)
        return torch.bmm(weights.unsqueeze(1), memory).squeeze(1), weights


class Attention(nn.Module):
    """RNN encoder-decoder with Bahdanau or Luong attention and input feeding (as mt's)."""

    def __init__(self, cfg, src_vocab, tgt_vocab):
        super().__init__()
        E, H = cfg["emb_size"], cfg["hidden_size"]
        self.feeding = cfg["input_feeding"]
        self.encoder = RnnEncoder(cfg, src_vocab)
        self.embedding = nn.Embedding(tgt_vocab, E)
        self.decoder = RnnDecoderStack(cfg["cell"], E + (H if self.feeding else 0), H, cfg["layers"])
        self.attention = SourceAttention(cfg["attention"], H)
        self.attentional = nn.Linear(2 * H, H)
        self.output = nn.Linear(H, tgt_vocab)

    def encode(self, src, mask):
        memory, states = self.encoder(src, mask)
        keys = self.attention.keys(memory).contiguous()
        bias = (1 - mask) * NEG
        return {"memory": memory, "keys": keys, "bias": bias, **{f"init_{k}": v for k, v in states_dict(states).items()}}

    def init_state(self, enc):
        state = {k[5:]: v.clone() for k, v in enc.items() if k.startswith("init_")}
        if self.feeding:
            state["feed"] = torch.zeros_like(state["h0"])
        return state

    def step(self, enc, state, prev):
        emb = self.embedding(prev)
        x = torch.cat([emb, state["feed"]], 1) if self.feeding else emb
        h, new = self.decoder.step(x, state)
        context, weights = self.attention(h, enc["keys"], enc["memory"], enc["bias"])
        attentional = torch.tanh(self.attentional(torch.cat([h, context], 1)))
        if self.feeding:
            new["feed"] = attentional
        return F.log_softmax(self.output(attentional), -1), new, weights


class Transformer(nn.Module):
    """Pre- or post-norm encoder-decoder with a key/value cache for decoding."""

    def __init__(self, cfg, src_vocab, tgt_vocab):
        super().__init__()
        d, self.heads, ff = cfg["d_model"], cfg["heads"], cfg["ff_size"]
        self.d, self.pre = d, cfg["norm"] == "pre"
        self.src_emb = nn.Embedding(src_vocab, d)
        self.tgt_emb = nn.Embedding(tgt_vocab, d)
        P = cfg["max_positions"]
        if cfg["positions"] == "learned":
            self.register_buffer("pos", torch.randn(P, d) * 0.02)
        else:
            pos = torch.arange(P).unsqueeze(1)
            div = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))
            pe = torch.zeros(P, d)
            pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
            self.register_buffer("pos", pe)

        def block(cross):
            m = nn.ModuleDict({"self_q": nn.Linear(d, 3 * d), "self_o": nn.Linear(d, d), "ff1": nn.Linear(d, ff), "ff2": nn.Linear(ff, d),
                               "n1": nn.LayerNorm(d), "n2": nn.LayerNorm(d)})
            if cross:
                m.update({"cross_q": nn.Linear(d, d), "cross_kv": nn.Linear(d, 2 * d), "cross_o": nn.Linear(d, d), "n3": nn.LayerNorm(d)})
            return m

        self.enc_layers = nn.ModuleList(block(False) for _ in range(cfg["encoder_layers"]))
        self.dec_layers = nn.ModuleList(block(True) for _ in range(cfg["decoder_layers"]))
        self.enc_norm, self.dec_norm = nn.LayerNorm(d), nn.LayerNorm(d)
        self.tied = cfg["tie_embeddings"]
        self.out_bias = nn.Parameter(torch.zeros(tgt_vocab))
        if not self.tied:
            self.output = nn.Linear(d, tgt_vocab)

    def split(self, x):  # [R, T, d] -> [R, h, T, d/h]
        R, T, _ = x.shape
        return x.view(R, T, self.heads, self.d // self.heads).transpose(1, 2)

    def attend(self, q, k, v, bias):
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.d // self.heads) + bias
        w = torch.softmax(scores, -1)
        out = torch.matmul(w, v)
        R, h, T, dh = out.shape
        return out.transpose(1, 2).reshape(R, T, h * dh), w

    def sublayer(self, x, norm, fn):
        return x + fn(norm(x)) if self.pre else norm(x + fn(x))

    def encode(self, src, mask):
        x = self.src_emb(src) * math.sqrt(self.d) + self.pos[: src.shape[1]]
        bias = ((1 - mask) * NEG)[:, None, None, :]
        for m in self.enc_layers:
            def self_att(y, m=m):
                q, k, v = m["self_q"](y).chunk(3, -1)
                return m["self_o"](self.attend(self.split(q), self.split(k), self.split(v), bias)[0])
            x = self.sublayer(x, m["n1"], self_att)
            x = self.sublayer(x, m["n2"], lambda y, m=m: m["ff2"](F.relu(m["ff1"](y))))
        memory = self.enc_norm(x) if self.pre else x
        enc = {"bias": bias}
        for i, m in enumerate(self.dec_layers):  # cross-attention keys/values once per sentence
            k, v = m["cross_kv"](memory).chunk(2, -1)
            enc[f"k{i}"], enc[f"v{i}"] = self.split(k), self.split(v)
        return enc

    def init_state(self, enc):
        R = enc["bias"].shape[0]
        dh = self.d // self.heads
        state = {}
        for i in range(len(self.dec_layers)):
            state[f"sk{i}"] = torch.zeros(R, self.heads, 0, dh)
            state[f"sv{i}"] = torch.zeros(R, self.heads, 0, dh)
        return state

    def step(self, enc, state, prev):
        t = state["sk0"].shape[2]
        x = (self.tgt_emb(prev) * math.sqrt(self.d) + self.pos[t]).unsqueeze(1)
        new, weights = {}, None
        for i, m in enumerate(self.dec_layers):
            def self_att(y, m=m, i=i):
                q, k, v = m["self_q"](y).chunk(3, -1)
                new[f"sk{i}"] = torch.cat([state[f"sk{i}"], self.split(k)], 2)
                new[f"sv{i}"] = torch.cat([state[f"sv{i}"], self.split(v)], 2)
                return m["self_o"](self.attend(self.split(q), new[f"sk{i}"], new[f"sv{i}"], 0.0)[0])

            def cross_att(y, m=m, i=i):
                nonlocal weights
                out, w = self.attend(self.split(m["cross_q"](y)), enc[f"k{i}"], enc[f"v{i}"], enc["bias"])
                weights = w.mean(1)[:, 0]
                return m["cross_o"](out)

            x = self.sublayer(x, m["n1"], self_att)
            x = self.sublayer(x, m["n3"], cross_att)
            x = self.sublayer(x, m["n2"], lambda y, m=m: m["ff2"](F.relu(m["ff1"](y))))
        h = (self.dec_norm(x) if self.pre else x)[:, 0]
        logits = h @ self.tgt_emb.weight.t() + self.out_bias if self.tied else self.output(h)
        return F.log_softmax(logits, -1), new, weights


FAMILIES = {"seq2seq": Seq2Seq, "attention": Attention, "transformer": Transformer}


# ---------------------------------------------------------------------------------------------
# Search, mirroring src/decode/search.ts, greedy.ts and beam.ts.


def select(d, idx):
    return {k: v.index_select(0, idx) for k, v in d.items()}


class Runner:
    def __init__(self, model, src_ids, job):
        self.model, self.job = model, job
        B, S = len(src_ids), max(len(s) for s in src_ids)
        src = torch.full((B, S), job["pad"], dtype=torch.long)
        mask = torch.zeros(B, S)
        for i, s in enumerate(src_ids):
            src[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = 1
        self.encoded = model.encode(src, mask)
        self.enc = self.encoded
        self.state = model.init_state(self.encoded)
        self.rows = list(range(B))
        self.t = 0
        V = job["tgt_vocab"]
        masks = torch.zeros(3, V)
        masks[1, job["eos"]] = NEG
        masks[2, :] = NEG
        masks[2, job["eos"]] = 0
        self.masks = masks

    def next(self, prev, k):
        kind = 2 if self.t >= self.job["max_len"] else 1 if self.t < self.job["min_len"] else 0
        logp, self.state, _ = self.model.step(self.enc, self.state, torch.tensor(prev, dtype=torch.long))
        if kind:
            logp = logp + self.masks[kind]
        values, ids = logp.topk(min(k, logp.shape[1]), 1)
        self.t += 1
        return values.tolist(), ids.tolist()

    def reorder(self, origins, sentences):
        if origins != list(range(len(self.rows))):
            self.state = select(self.state, torch.tensor(origins))
        if sentences != self.rows:
            self.enc = select(self.encoded, torch.tensor(sentences))
            self.rows = sentences


def greedy(model, src_ids, job):
    r = Runner(model, src_ids, job)
    out = [[] for _ in src_ids]
    prev = [job["bos"]] * len(src_ids)
    while prev:
        values, ids = r.next(prev, 1)
        origins, sentences, nxt = [], [], []
        for row, s in enumerate(r.rows):
            tok = ids[row][0]
            if tok == job["eos"]:
                continue
            out[s].append(tok)
            origins.append(row)
            sentences.append(s)
            nxt.append(tok)
        if nxt:
            r.reorder(origins, sentences)
        prev = nxt
    return out


def beam(model, src_ids, job):
    K, alpha = job["beam"], job["alpha"]
    r = Runner(model, src_ids, job)
    finished = [[] for _ in src_ids]
    live = [([], 0.0) for _ in src_ids]
    while live:
        prev = [ids[-1] if ids else job["bos"] for ids, _ in live]
        values, ids = r.next(prev, 2 * K)
        nxt, origins, sentences = [], [], []
        first = 0
        while first < len(live):
            s = r.rows[first]
            end = first
            while end < len(live) and r.rows[end] == s:
                end += 1
            cands = [(live[row][1] + v, row, tok) for row in range(first, end) for v, tok in zip(values[row], ids[row]) if v > NEG / 2]
            cands.sort(key=lambda c: -c[0])
            kept = 0
            for rank, (lp, row, tok) in enumerate(cands):
                if kept >= K:
                    break
                parent = live[row][0]
                if tok == job["eos"]:
                    if rank < K:
                        finished[s].append((lp / ((5 + len(parent) + 1) / 6) ** alpha, parent))
                    continue
                nxt.append((parent + [tok], lp))
                origins.append(row)
                sentences.append(s)
                kept += 1
            if len(finished[s]) >= K:
                del nxt[len(nxt) - kept:], origins[len(origins) - kept:], sentences[len(sentences) - kept:]
            first = end
        if nxt:
            r.reorder(origins, sentences)
        live = nxt
    return [max(f)[1] if f else [] for f in finished]


def blas_in_use():
    """The BLAS shared libraries mapped into this process (after a matmul has run)."""
    libs = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in os.path.basename(path) or "lapack" in os.path.basename(path):
                libs.add(os.path.realpath(path))
    return sorted(libs)


def main():
    job = json.load(sys.stdin)
    torch.set_num_threads(job["threads"])
    torch.manual_seed(1234)
    model = FAMILIES[job["config"]["type"]](job["config"], job["src_vocab"], job["tgt_vocab"]).eval()
    result = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    with torch.inference_mode():
        torch.mm(torch.randn(64, 64), torch.randn(64, 64))
        result["blas"] = blas_in_use()
        greedy(model, job["batches"][0], job)  # warm-up
        for name, search in (("greedy", greedy), ("beam", beam)):
            # Whole passes over the sentences until min_seconds have passed (one at least), as
            # bench/decode-speed.ts's mt side; tokens and sentences are per pass.
            pass_seconds, tokens = [], 0
            while not pass_seconds or sum(pass_seconds) < job.get("min_seconds", 0):
                start = time.perf_counter()
                tokens = sum(len(h) for b in job["batches"] for h in search(model, b, job))
                pass_seconds.append(time.perf_counter() - start)
            result[name] = {"seconds": sum(pass_seconds), "passes": len(pass_seconds), "pass_seconds": pass_seconds, "tokens": tokens,
                            "sentences": sum(len(b) for b in job["batches"])}
    # Linux reports ru_maxrss in KiB: the peak of this process (all its threads).
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
