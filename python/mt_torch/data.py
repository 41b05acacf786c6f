"""The run's prepared data as `mt train` sees it: subword ids and token-bucketed batches.

The prepared text (data/{train,valid}.{src,tgt}, written by `mt prepare`) is encoded with the
run's SentencePiece models, by the `sentencepiece` module when it is installed (the same C++
library mt runs as WebAssembly), else by mt itself (node, mt_encode.mjs beside this file). The
batches are mt's (src/train/batching.ts) to the bit: the same sfc32 generator, shuffle, length
pools, token budget and order, so the data position a checkpoint stores means the same to both.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass

import numpy as np

M32 = 0xFFFFFFFF


def splitmix32(seed):
    x = seed & M32

    def nxt():
        nonlocal x
        x = (x + 0x9E3779B9) & M32
        z = x
        z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M32
        z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
        return (z ^ (z >> 16)) & M32

    return nxt


class Sfc32:
    """mt's sfc32 (src/util/random.ts): the batch order's generator, state four uint32."""

    def __init__(self, state):
        if len(state) != 4 or not all(isinstance(x, int) and 0 <= x <= M32 for x in state):
            raise ValueError(f"invalid RNG state {state!r}")
        self.a, self.b, self.c, self.d = state

    @classmethod
    def from_seed(cls, seed):
        nxt = splitmix32(seed)
        rng = cls([nxt(), nxt(), nxt(), nxt()])
        for _ in range(12):
            rng.uint32()
        return rng

    def state(self):
        return [self.a, self.b, self.c, self.d]

    def uint32(self):
        t = (self.a + self.b + self.d) & M32
        self.d = (self.d + 1) & M32
        self.a = (self.b ^ (self.b >> 9)) & M32
        self.b = (self.c + (self.c << 3)) & M32
        self.c = ((self.c << 21) | (self.c >> 11)) & M32
        self.c = (self.c + t) & M32
        return t

    def int(self, n):
        return int(self.uint32() / 4294967296 * n)

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.int(i + 1)
            items[i], items[j] = items[j], items[i]
        return items


POOL_BATCHES = 100


def _cost(src_len, tgt_len):
    return max(src_len, tgt_len + 1)


def cut_batches(pairs, order, batch_tokens, max_sentences):
    batches, current, longest = [], [], 0
    for i in order:
        c = _cost(len(pairs[i][0]), len(pairs[i][1]))
        longer = max(longest, c)
        if current and (longer * (len(current) + 1) > batch_tokens or len(current) + 1 > max_sentences):
            batches.append(current)
            current, longest = [], 0
        current.append(i)
        longest = max(longest, c)
    if current:
        batches.append(current)
    return batches


def plan_epoch(pairs, batch_tokens, max_sentences, rng):
    order = rng.shuffle(list(range(len(pairs))))
    pool = POOL_BATCHES * max_sentences
    batches = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start:start + pool], key=lambda i: (len(pairs[i][1]), len(pairs[i][0])))
        batches += cut_batches(pairs, chunk, batch_tokens, max_sentences)
    return rng.shuffle(batches)


def plan_in_order(pairs, batch_tokens, max_sentences):
    order = sorted(range(len(pairs)), key=lambda i: (len(pairs[i][1]), len(pairs[i][0])))
    return cut_batches(pairs, order, batch_tokens, max_sentences)


class BatchStream:
    """mt's BatchStream: epoch after epoch of plan_epoch, resumable from a data position
    {epoch, batch, rng} (the generator state at the start of `epoch`)."""

    def __init__(self, pairs, batch_tokens, max_sentences, position):
        if not pairs:
            raise ValueError("no training pairs left after filtering (check train.max_len and the prepared data)")
        self.pairs, self.batch_tokens, self.max_sentences = pairs, batch_tokens, max_sentences
        self.epoch, self.epoch_start = position["epoch"], list(position["rng"])
        rng = Sfc32(self.epoch_start)
        self.batches = plan_epoch(pairs, batch_tokens, max_sentences, rng)
        self.after_plan = rng.state()
        self.batch = min(position["batch"], len(self.batches))

    @classmethod
    def from_seed(cls, pairs, batch_tokens, max_sentences, seed):
        return cls(pairs, batch_tokens, max_sentences, {"epoch": 1, "batch": 0, "rng": Sfc32.from_seed(seed).state()})

    def position(self):
        if self.batch >= len(self.batches):
            return {"epoch": self.epoch + 1, "batch": 0, "rng": list(self.after_plan)}
        return {"epoch": self.epoch, "batch": self.batch, "rng": list(self.epoch_start)}

    def next(self):
        if self.batch >= len(self.batches):
            self.epoch += 1
            self.batch = 0
            self.epoch_start = self.after_plan
            rng = Sfc32(self.epoch_start)
            self.batches = plan_epoch(self.pairs, self.batch_tokens, self.max_sentences, rng)
            self.after_plan = rng.state()
        indices = self.batches[self.batch]
        self.batch += 1
        return indices, self.epoch


def make_batch(pairs, indices, src_pad, tgt_pad, bos, eos, device=None):
    """As mt's makeBatch: padded source and mask, bos+target in, target+eos out, target mask."""
    import torch
    rows = [pairs[i] for i in indices]
    B = len(rows)
    S = max(len(s) for s, _ in rows)
    T = max(len(t) for _, t in rows) + 1
    src = np.full((B, S), src_pad, dtype=np.int64)
    mask = np.zeros((B, S), dtype=np.float32)
    tgt_in = np.full((B, T), tgt_pad, dtype=np.int64)
    tgt_out = np.full((B, T), tgt_pad, dtype=np.int64)
    tgt_mask = np.zeros((B, T), dtype=np.float32)
    for r, (s, t) in enumerate(rows):
        src[r, :len(s)] = s
        mask[r, :len(s)] = 1
        tgt_in[r, 0] = bos
        tgt_in[r, 1:len(t) + 1] = t
        tgt_out[r, :len(t)] = t
        tgt_out[r, len(t)] = eos
        tgt_mask[r, :len(t) + 1] = 1
    as_t = (lambda a: torch.from_numpy(a).to(device)) if device is not None else torch.from_numpy
    return as_t(src), as_t(mask), as_t(tgt_in), as_t(tgt_out), as_t(tgt_mask)


# ---------------------------------------------------------------------------------------------
# Encoding


@dataclass
class Vocab:
    """What training needs of the run's subword models."""
    src_size: int
    tgt_size: int
    src_pad: int
    tgt_pad: int
    bos: int
    eos: int


def subword_files(run_dir, subword_cfg):
    names = ["joint"] if subword_cfg.get("joint", True) else ["src", "tgt"]
    files = [os.path.join(run_dir, "subword", f"{n}.model") for n in names]
    for f in files:
        if not os.path.exists(f):
            raise FileNotFoundError(f"{f}: missing; run `mt vocab` on this run directory first")
    return files


def read_lines(path):
    """As mt's readLinesSync: split on \\n, a final empty line dropped."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def have_sentencepiece():
    try:
        import sentencepiece  # noqa: F401
        return True
    except ImportError:
        return False


def _encode_sentencepiece(run_dir, files):
    import sentencepiece as spm
    models = [spm.SentencePieceProcessor(model_file=f) for f in files]
    src, tgt = models[0], models[-1]
    vocab = Vocab(src.get_piece_size(), tgt.get_piece_size(), src.pad_id(), tgt.pad_id(), tgt.bos_id(), tgt.eos_id())
    out = {}
    for split in ("train", "valid"):
        out[split] = {side: model.encode(read_lines(os.path.join(run_dir, "data", f"{split}.{side}")), out_type=int)
                      for side, model in (("src", src), ("tgt", tgt))}
    return vocab, out


def mt_repo():
    """The mt checkout this package sits in (python/mt_torch -> the repository root), or MT_HOME."""
    root = os.environ.get("MT_HOME") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if not os.path.exists(os.path.join(root, "src", "subword", "index.ts")):
        raise FileNotFoundError(f"{root}: not an mt checkout (set MT_HOME, or install python3-sentencepiece)")
    return root


def _encode_mt(run_dir):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mt_encode.mjs")
    with tempfile.TemporaryDirectory() as tmp:
        out_file = os.path.join(tmp, "ids.json")
        r = subprocess.run(["node", script, os.path.abspath(run_dir), out_file], cwd=mt_repo(), capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"encoding with mt failed: {r.stderr.strip()[-2000:]}")
        with open(out_file, encoding="utf-8") as f:
            data = json.load(f)
    v = data["vocab"]
    return Vocab(v["src_size"], v["tgt_size"], v["src_pad"], v["tgt_pad"], v["bos"], v["eos"]), {k: data[k] for k in ("train", "valid")}


def encode_run(run_dir, subword_cfg, encoder="auto"):
    """-> (Vocab, {"train"|"valid": {"src"|"tgt": [[ids]]}}), every line encoded (no filtering)."""
    files = subword_files(run_dir, subword_cfg)
    for split in ("train", "valid"):
        for side in ("src", "tgt"):
            f = os.path.join(run_dir, "data", f"{split}.{side}")
            if not os.path.exists(f):
                raise FileNotFoundError(f"{f}: missing; run `mt prepare` on this run directory first")
    if encoder == "auto":
        encoder = "sentencepiece" if have_sentencepiece() else "mt"
    if encoder == "sentencepiece":
        return _encode_sentencepiece(run_dir, files)
    if encoder == "mt":
        return _encode_mt(run_dir)
    raise ValueError(f"unknown encoder {encoder!r} (auto, sentencepiece or mt)")


def cache_key(run_dir, subword_cfg):
    """sha256 over the data files and subword models: an encoding cache is valid while it matches."""
    h = hashlib.sha256()
    paths = [os.path.join(run_dir, "data", f"{s}.{x}") for s in ("train", "valid") for x in ("src", "tgt")]
    for p in paths + subword_files(run_dir, subword_cfg):
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()[:16]


def save_encoded(path, vocab, encoded):
    arrays = {"vocab": np.array([vocab.src_size, vocab.tgt_size, vocab.src_pad, vocab.tgt_pad, vocab.bos, vocab.eos], dtype=np.int64)}
    for split, sides in encoded.items():
        for side, seqs in sides.items():
            lengths = np.array([len(s) for s in seqs], dtype=np.int64)
            arrays[f"{split}_{side}_len"] = lengths
            arrays[f"{split}_{side}_ids"] = np.array([i for s in seqs for i in s], dtype=np.int32)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def load_encoded(path):
    with np.load(path) as z:
        vocab = Vocab(*[int(x) for x in z["vocab"]])
        encoded = {}
        for split in ("train", "valid"):
            encoded[split] = {}
            for side in ("src", "tgt"):
                ids = z[f"{split}_{side}_ids"].tolist()
                ends = np.cumsum(z[f"{split}_{side}_len"]).tolist()
                starts = [0] + ends[:-1]
                encoded[split][side] = [ids[a:b] for a, b in zip(starts, ends)]
    return vocab, encoded


def filter_pairs(src, tgt, max_len=None):
    """As mt's encodeCorpus: drop pairs with an empty source or a side longer than max_len."""
    if len(src) != len(tgt):
        raise ValueError(f"{len(tgt)} target lines but {len(src)} source lines; the files must be line-aligned")
    pairs = []
    for s, t in zip(src, tgt):
        if not s or (max_len is not None and (len(s) > max_len or len(t) > max_len)):
            continue
        pairs.append((s, t))
    return pairs
