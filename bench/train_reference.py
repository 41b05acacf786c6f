"""PyTorch reference for bench/train-throughput.ts: one training step of each mt model family.

Reads a JSON job on stdin (model and train config as mt parses them, vocabulary sizes, special
ids, batches of sentence pairs as subword ids, warm-up steps, the minimum measured steps and
seconds, threads), trains an untrained model of the same architecture as mt's (src/models/) the
way a PyTorch user would, and prints one JSON object with the step times and the peak RSS: one
trial of bench/train-throughput.ts. One step is what `mt train` does per update (src/train/step.ts):
teacher-forced forward with dropout, label-smoothed cross-entropy over the real target tokens,
backward, gradient clipping by global norm, an Adam/AdamW update.

The encoder and the Transformer's layers are the modules of bench/decode_reference.py; the
training forwards below add dropout where mt has it (embeddings, between RNN layers, before the
attentional and output layers, on every Transformer sublayer and inside its feed-forward).
Run with Debian's python3-torch: /usr/bin/python3.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decode_reference import NEG, RnnEncoder, SourceAttention, Transformer, blas_in_use  # noqa: E402


def with_dropout(encoder, p):
    """mt's encoder dropout on decode_reference's RnnEncoder: on the embeddings and between layers."""
    encoder.embedding.register_forward_hook(lambda module, inputs, out: F.dropout(out, p, module.training))
    encoder.rnn.dropout = p
    return encoder


class Seq2SeqTrain(nn.Module):
    """Fixed context vector; with context_every_step it feeds every step and the output layer."""

    def __init__(self, cfg, src_vocab, tgt_vocab):
        super().__init__()
        E, H, L, p = cfg["emb_size"], cfg["hidden_size"], cfg["layers"], cfg["dropout"]
        self.p, self.every, self.cell = p, cfg["context_every_step"], cfg["cell"]
        self.encoder = with_dropout(RnnEncoder(cfg, src_vocab), p)
        self.embedding = nn.Embedding(tgt_vocab, E)
        rnn = nn.GRU if self.cell == "gru" else nn.LSTM
        self.decoder = rnn(E + (H if self.every else 0), H, num_layers=L, dropout=p if L > 1 else 0, batch_first=True)
        self.output = nn.Linear(H + E + H if self.every else H, tgt_vocab)

    def forward(self, src, mask, tgt_in):
        _, states = self.encoder(src, mask)
        h0 = torch.stack([h for h, _ in states])
        init = h0 if self.cell == "gru" else (h0, torch.stack([c for _, c in states]))
        context = states[-1][0]
        emb = F.dropout(self.embedding(tgt_in), self.p, self.training)
        T = tgt_in.shape[1]
        ctx = context.unsqueeze(1).expand(-1, T, -1)
        h, _ = self.decoder(torch.cat([emb, ctx], 2) if self.every else emb, init)
        features = torch.cat([h, emb, ctx], 2) if self.every else h
        return self.output(F.dropout(features, self.p, self.training))


class AttentionTrain(nn.Module):
    """RNN encoder-decoder with Bahdanau or Luong attention and input feeding (a step loop)."""

    def __init__(self, cfg, src_vocab, tgt_vocab):
        super().__init__()
        E, H, L, p = cfg["emb_size"], cfg["hidden_size"], cfg["layers"], cfg["dropout"]
        self.p, self.H, self.feeding, self.cell = p, H, cfg["input_feeding"], cfg["cell"]
        self.encoder = with_dropout(RnnEncoder(cfg, src_vocab), p)
        self.embedding = nn.Embedding(tgt_vocab, E)
        make = nn.GRUCell if self.cell == "gru" else nn.LSTMCell
        self.cells = nn.ModuleList(make((E + (H if self.feeding else 0)) if i == 0 else H, H) for i in range(L))
        self.attention = SourceAttention(cfg["attention"], H)
        self.attentional = nn.Linear(2 * H, H)
        self.output = nn.Linear(H, tgt_vocab)

    def forward(self, src, mask, tgt_in):
        drop = lambda x: F.dropout(x, self.p, self.training)  # noqa: E731
        memory, states = self.encoder(src, mask)
        keys = self.attention.keys(memory)
        bias = (1 - mask) * NEG
        emb = drop(self.embedding(tgt_in))
        feed = torch.zeros(src.shape[0], self.H)
        outputs = []
        for t in range(tgt_in.shape[1]):
            x = torch.cat([emb[:, t], feed], 1) if self.feeding else emb[:, t]
            new = []
            for i, cell in enumerate(self.cells):
                h, c = states[i]
                if i > 0:
                    x = drop(x)
                if self.cell == "gru":
                    h = cell(x, h)
                else:
                    h, c = cell(x, (h, c))
                new.append((h, c))
                x = h
            states = new
            context, _ = self.attention(h, keys, memory, bias)
            feed = torch.tanh(self.attentional(drop(torch.cat([h, context], 1))))
            outputs.append(feed)
        return self.output(drop(torch.stack(outputs, 1)))


class TransformerTrain(Transformer):
    """decode_reference's Transformer, teacher-forced with a causal mask, with mt's dropout."""

    def __init__(self, cfg, src_vocab, tgt_vocab):
        super().__init__(cfg, src_vocab, tgt_vocab)
        self.p = cfg["dropout"]

    def forward(self, src, mask, tgt_in):
        drop = lambda x: F.dropout(x, self.p, self.training)  # noqa: E731
        split = self.split

        def feed_forward(m):
            return lambda y: drop(m["ff2"](drop(F.relu(m["ff1"](y)))))

        def self_attention(m, bias):
            def f(y):
                q, k, v = m["self_q"](y).chunk(3, -1)
                return drop(m["self_o"](self.attend(split(q), split(k), split(v), bias)[0]))
            return f

        x = drop(self.src_emb(src) * math.sqrt(self.d) + self.pos[: src.shape[1]])
        src_bias = ((1 - mask) * NEG)[:, None, None, :]
        for m in self.enc_layers:
            x = self.sublayer(x, m["n1"], self_attention(m, src_bias))
            x = self.sublayer(x, m["n2"], feed_forward(m))
        memory = self.enc_norm(x) if self.pre else x
        T = tgt_in.shape[1]
        causal = torch.triu(torch.full((T, T), NEG), 1)
        y = drop(self.tgt_emb(tgt_in) * math.sqrt(self.d) + self.pos[:T])
        for m in self.dec_layers:
            k, v = m["cross_kv"](memory).chunk(2, -1)

            def cross(z, m=m, k=k, v=v):
                return drop(m["cross_o"](self.attend(split(m["cross_q"](z)), split(k), split(v), src_bias)[0]))

            y = self.sublayer(y, m["n1"], self_attention(m, causal))
            y = self.sublayer(y, m["n3"], cross)
            y = self.sublayer(y, m["n2"], feed_forward(m))
        h = self.dec_norm(y) if self.pre else y
        return h @ self.tgt_emb.weight.t() + self.out_bias if self.tied else self.output(h)


FAMILIES = {"seq2seq": Seq2SeqTrain, "attention": AttentionTrain, "transformer": TransformerTrain}


def make_batch(pairs, job):
    """As src/train/batching.ts makeBatch: padded source, bos+target in, target+eos out, masks."""
    B = len(pairs)
    S = max(len(p["src"]) for p in pairs)
    T = max(len(p["tgt"]) for p in pairs) + 1
    src = torch.full((B, S), job["pad"], dtype=torch.long)
    mask = torch.zeros(B, S)
    tgt_in = torch.full((B, T), job["pad"], dtype=torch.long)
    tgt_out = torch.full((B, T), job["pad"], dtype=torch.long)
    for i, p in enumerate(pairs):
        src[i, : len(p["src"])] = torch.tensor(p["src"])
        mask[i, : len(p["src"])] = 1
        tgt_in[i, 0] = job["bos"]
        tgt_in[i, 1 : len(p["tgt"]) + 1] = torch.tensor(p["tgt"])
        tgt_out[i, : len(p["tgt"])] = torch.tensor(p["tgt"])
        tgt_out[i, len(p["tgt"])] = job["eos"]
    return src, mask, tgt_in, tgt_out


def main():
    job = json.load(sys.stdin)
    torch.set_num_threads(job["threads"])
    torch.manual_seed(1234)
    cfg, train = job["model"], job["train"]
    model = FAMILIES[cfg["type"]](cfg, job["src_vocab"], job["tgt_vocab"]).train()
    make_optimizer = torch.optim.AdamW if train["optimizer"] == "adamw" else torch.optim.Adam
    optimizer = make_optimizer(model.parameters(), lr=train["learning_rate"], betas=tuple(train["betas"]), eps=1e-8,
                               weight_decay=train["weight_decay"])
    torch.mm(torch.randn(64, 64), torch.randn(64, 64))
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_in_use(), "seconds": [], "tokens": [], "losses": []}
    warmup, batches = job["warmup"], job["batches"]
    k = 0
    # As bench/train-throughput.ts's mt side: the warm-up batches, then the measured ones cycled
    # until at least min_steps steps and min_seconds seconds are measured.
    while len(result["seconds"]) < job["min_steps"] or sum(result["seconds"]) < job["min_seconds"]:
        pairs = batches[k] if k < warmup else batches[warmup + (k - warmup) % (len(batches) - warmup)]
        src, mask, tgt_in, tgt_out = make_batch(pairs, job)
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        logits = model(src, mask, tgt_in)
        tokens = sum(len(p["tgt"]) + 1 for p in pairs)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1), ignore_index=job["pad"],
                               label_smoothing=train["label_smoothing"], reduction="sum") / tokens
        loss.backward()
        if train["clip_norm"] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), train["clip_norm"])
        optimizer.step()
        value = loss.item()
        seconds = time.perf_counter() - start
        if k >= warmup:
            result["seconds"].append(seconds)
            result["tokens"].append(tokens)
            result["losses"].append(value)
        k += 1
    # Linux reports ru_maxrss in KiB: the peak of this process (all its threads).
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
