"""Greedy decoding as mt's (src/decode/greedy.ts, search.ts): encode once, one decoder step
over the live rows at a time, finished sentences leave the batch. eos is banned below
decode.min_len and forced at the length limit floor(max_len_a · source length + max_len_b)
(for a Transformer at most max_positions − 1)."""

from __future__ import annotations

import math

import torch

NEG = -1e9


def _select(d, idx):
    return {k: v.index_select(0, idx) for k, v in d.items()}


@torch.no_grad()
def greedy(model, src_ids, *, bos, eos, pad, max_len_a=1.5, max_len_b=10, min_len=0, device=None):
    """src_ids: non-empty lists of source ids -> the output ids of each (no bos/eos) and their
    summed log-probabilities (the final eos included)."""
    if any(len(s) == 0 for s in src_ids):
        raise ValueError("greedy: empty source sentence (skip empty lines)")
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    B, S = len(src_ids), max(len(s) for s in src_ids)
    src = torch.full((B, S), pad, dtype=torch.long)
    mask = torch.zeros(B, S)
    for i, s in enumerate(src_ids):
        src[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    src, mask = src.to(device), mask.to(device)
    cap = model.max_positions - 1 if math.isfinite(model.max_positions) else None
    max_lens = [math.floor(max_len_a * len(s) + max_len_b) for s in src_ids]
    if cap is not None:
        max_lens = [min(m, cap) for m in max_lens]
    encoded = model.encode(src, mask)
    enc = encoded
    state = model.init_state(encoded)
    rows = list(range(B))
    out = [[] for _ in src_ids]
    scores = [0.0] * B
    prev = [bos] * B
    t = 0
    while prev:
        logits, state = model.step(enc, state, torch.tensor(prev, dtype=torch.long, device=device), t)
        logp = torch.log_softmax(logits.float(), -1)
        kinds = [2 if t >= max_lens[s] else 1 if t < min_len else 0 for s in rows]
        if any(kinds):
            extra = torch.zeros_like(logp)
            for r, k in enumerate(kinds):
                if k == 1:
                    extra[r, eos] = NEG
                elif k == 2:
                    extra[r] = NEG
                    extra[r, eos] = 0
            logp = logp + extra
        values, ids = logp.max(1)
        values, ids = values.tolist(), ids.tolist()
        t += 1
        origins, sentences, nxt = [], [], []
        for r, s in enumerate(rows):
            scores[s] += values[r]
            if ids[r] == eos:
                continue
            out[s].append(ids[r])
            origins.append(r)
            sentences.append(s)
            nxt.append(ids[r])
        if nxt:
            if origins != list(range(len(rows))):
                state = _select(state, torch.tensor(origins, device=device))
            if sentences != rows:
                enc = _select(encoded, torch.tensor(sentences, device=device))
                rows = sentences
        prev = nxt
    model.train(was_training)
    return out, scores
