"""Small run directories for the Python tests: no mt, no sentencepiece needed."""

import json
import os
import random
import shutil
import tempfile

import numpy as np

from mt_torch import data as D

CONFIG = """# Resolved by mt 0.1.0: defaults filled in, paths absolute. Edit the source config, not this file.
seed: 7
backend: auto
data:
  src_lang: xx
  tgt_lang: yy
  train:
    - src: /nowhere/unused.src
      tgt: /nowhere/unused.tgt
  split:
    valid_size: 1000
    test_size: 1000
    seed: 1234
subword:
  type: bpe
  vocab_size: 24
  joint: true
  user_defined_symbols: []
  pad_id: 0
  unk_id: 1
  bos_id: 2
  eos_id: 3
model:
{model}
train:
  optimizer: adam
  learning_rate: 0.003
  betas:
    - 0.9
    - 0.98
  weight_decay: 0
  schedule:
    type: {schedule}
    warmup_steps: 4
    factor: 0.5
    patience: 0
    min_learning_rate: 1e-7
  batch_tokens: 120
  max_sentences: 16
  max_len: 20
  accum_steps: 1
  clip_norm: 1
  label_smoothing: 0.1
  teacher_forcing: 1
  max_steps: {max_steps}
  max_epochs: 100
  log_every: 10
  valid_every: 20
  keep_last: 2
  early_stopping:
    metric: loss
    patience: 5
decode:
  beam_size: 1
  max_len_a: 1.5
  max_len_b: 4
eval:
  metrics: [bleu]
"""

TRANSFORMER = """  type: transformer
  d_model: 16
  heads: 2
  ff_size: 32
  encoder_layers: 1
  decoder_layers: 1
  dropout: 0.1
  norm: pre
  positions: sinusoidal
  max_positions: 64
  tie_embeddings: true"""


def make_run(test, model=TRANSFORMER, schedule="plateau", max_steps=60, vocab=20):
    """A run directory whose data is a copy task over ids 4..vocab-1, already encoded (the cache
    train.py reads), so no subword model is needed; subword/joint.model is a stand-in file.
    Removed when `test` (a unittest.TestCase) ends."""
    root = tempfile.mkdtemp(prefix="mt-torch-test-")
    test.addCleanup(shutil.rmtree, root, True)
    run = os.path.join(root, "run")
    for sub in ("data", "subword", "logs"):
        os.makedirs(os.path.join(run, sub))
    with open(os.path.join(run, "config.yaml"), "w") as f:
        f.write(CONFIG.format(model=model, schedule=schedule, max_steps=max_steps))
    with open(os.path.join(run, "manifest.json"), "w") as f:
        json.dump({"format": "mt-run", "format_version": 1, "mt_version": "0.1.0", "created_at": "x", "updated_at": "x",
                   "identity_hash": "i" * 64, "config_hash": "c" * 64, "stages": {}}, f)
    with open(os.path.join(run, "subword", "joint.model"), "wb") as f:
        f.write(b"stand-in subword model")
    rng = random.Random(3)
    encoded = {}
    for split, n in (("train", 160), ("valid", 16)):
        seqs = [[rng.randrange(4, vocab) for _ in range(rng.randrange(2, 8))] for _ in range(n)]
        encoded[split] = {"src": seqs, "tgt": [list(s) for s in seqs]}
        for side in ("src", "tgt"):
            with open(os.path.join(run, "data", f"{split}.{side}"), "w") as f:
                f.write("".join(" ".join(map(str, s)) + "\n" for s in seqs))
    cfg = {"joint": True}
    os.makedirs(os.path.join(run, "torch"))
    D.save_encoded(os.path.join(run, "torch", f"encoded-{D.cache_key(run, cfg)}.npz"), D.Vocab(vocab, vocab, 0, 0, 2, 3), encoded)
    return run


def metrics(run):
    with open(os.path.join(run, "logs", "metrics.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def rand(shape, seed):
    return np.random.default_rng(seed).normal(0, 0.5, shape).astype(np.float32)
