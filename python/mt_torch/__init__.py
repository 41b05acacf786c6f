"""mt_torch: continue an mt run in PyTorch (one GPU, many GPUs, many nodes) and bring it back.

    import mt_torch
    model = mt_torch.load("runs/x", "last")        # the run's family as a torch.nn.Module
    logits = model(src, src_mask, tgt_in)           # [B, T, V], as mt's forward
    mt_torch.save(model, "runs/x", step=1200)       # an mt checkpoint: mt translate/eval/train read it

Training: torchrun --nproc_per_node=N python/mt_torch/train.py --run runs/x (see README.md).
"""

from __future__ import annotations

import copy
import os

import torch

from . import checkpoint as _ck
from .config import model_config, read_run_config
from .convert import to_mt, to_torch
from .decode import greedy
from .models import FAMILIES, MtModule, build

__version__ = "0.1.0"
__all__ = ["load", "save", "build", "greedy", "MtModule", "FAMILIES", "read_run_config", "make_optimizer",
           "load_optimizer_state", "optimizer_moments", "model_config", "__version__"]


def load(run_dir, checkpoint=None, *, device="cpu", with_optimizer=False):
    """The PyTorch module of `run_dir`'s checkpoint `checkpoint` ('last', 'best', a folder name
    under checkpoints/ or a path; None: best if one was validated, else last, as `mt translate`).

    The checksums are verified and the subword models must be the run's. The module is in eval
    mode; `module.mt` holds the checkpoint's dir, state (state.json) and, with `with_optimizer`,
    its Adam moments by mt's names (`moments`)."""
    run_dir = os.path.abspath(run_dir)
    read_run_config(run_dir)  # a clear error when it is not a run directory
    d = _ck.resolve(run_dir, checkpoint)
    ck = _ck.read(d, verify_first=False)
    _ck.check_subwords(run_dir, ck.state, d)
    model = build(ck.state["model"], ck.state["src_vocab_size"], ck.state["tgt_vocab_size"])
    model.load_mt_state_dict(ck.weights, source=os.path.join(d, "model.safetensors"))
    model.mt = {"run_dir": run_dir, "dir": d, "state": ck.state, "moments": ck.optimizer if with_optimizer else None}
    return model.to(device).eval()


def make_optimizer(model, train_cfg):
    """Adam or AdamW as mt's (src/train/optimizer.ts): eps 1e-8, Adam's weight decay as L2 on the
    gradient, AdamW's decoupled; over the parameters that train (not an LSTM's zero bias_hh)."""
    params = [p for p in model.parameters() if p.requires_grad]
    kind = train_cfg.get("optimizer", "adam")
    make = torch.optim.AdamW if kind == "adamw" else torch.optim.Adam
    return make(params, lr=train_cfg.get("learning_rate", 1e-3), betas=tuple(train_cfg.get("betas", (0.9, 0.98))), eps=1e-8,
                weight_decay=train_cfg.get("weight_decay", 0.0))


def load_optimizer_state(optimizer, model, moments, updates):
    """Put mt's Adam moments (m/<name>, v/<name>) and update count into a torch Adam/AdamW."""
    names = {id(p): n for n, p in model.named_parameters()}
    m = to_torch(model.cfg, {k[2:]: torch.as_tensor(v) for k, v in moments.items() if k.startswith("m/")}, source="optimizer m")
    v = to_torch(model.cfg, {k[2:]: torch.as_tensor(v) for k, v in moments.items() if k.startswith("v/")}, source="optimizer v")
    for group in optimizer.param_groups:
        for p in group["params"]:
            n = names[id(p)]
            optimizer.state[p] = {"step": torch.tensor(float(updates)), "exp_avg": m[n].to(p.device).clone(),
                                  "exp_avg_sq": v[n].to(p.device).clone()}


def optimizer_moments(optimizer, model):
    """A torch Adam/AdamW's moments by mt's names (m/<name>, v/<name>) and its update count;
    zeros for parameters that have no state yet."""
    named = dict(model.named_parameters())
    m, v, updates = {}, {}, 0
    for n, p in named.items():
        st = optimizer.state.get(p, {})
        m[n] = st["exp_avg"] if "exp_avg" in st else torch.zeros_like(p)
        v[n] = st["exp_avg_sq"] if "exp_avg_sq" in st else torch.zeros_like(p)
        if "step" in st:
            updates = max(updates, int(st["step"]))
    frozen = {n for n, p in named.items() if not p.requires_grad}
    out = {}
    for prefix, d in (("m", m), ("v", v)):
        for k, t in to_mt(model.cfg, {n: t for n, t in d.items() if n not in frozen}).items():
            out[f"{prefix}/{k}"] = t.detach().cpu().numpy()
    return out, updates


def save(model, run_dir, step=None, *, optimizer=None, training=None, validation=None, best=False, keep_last=None):
    """Write the module's weights as an mt checkpoint checkpoints/step-NNNNNN of `run_dir`
    (model.safetensors by mt's names, state.json, the run's subword models, manifest.json) and
    point last.json at it (best.json too with best=True). Returns its folder.

    `optimizer`: a torch Adam/AdamW (its moments are stored, and `mt train` can resume without
    --reset-optimizer) or a dict of mt-named moments; None stores none (`mt train
    --reset-optimizer` resumes from it). `training`: the TrainingState to store; by default the
    loaded checkpoint's (module.mt), else a fresh one at `step`."""
    run_dir = os.path.abspath(run_dir)
    run_cfg = read_run_config(run_dir)
    loaded = getattr(model, "mt", None) or {}
    if training is None:
        if loaded.get("state"):
            training = copy.deepcopy(loaded["state"]["training"])
            if step is not None:
                training["step"] = step
        else:
            training = _ck.default_training_state(run_cfg, step or 0)
    elif step is not None:
        training = {**training, "step": step}
    if training is None or "step" not in training:
        raise ValueError("save: give the step")
    moments = None
    if optimizer is not None:
        if isinstance(optimizer, dict):
            moments = optimizer
        else:
            moments, updates = optimizer_moments(optimizer, model)
            training = {**training, "optimizer": {"type": run_cfg["train"]["optimizer"], "updates": updates}}
    if validation is None and loaded.get("state") and training.get("step") == loaded["state"].get("step"):
        validation = loaded["state"].get("validation")
    model_cfg = loaded["state"]["model"] if loaded.get("state") else run_cfg["model"]
    return _ck.write(run_dir, model.mt_state_dict(), training, optimizer=moments, validation=validation, best=best,
                     keep_last=keep_last, src_vocab=model.src_vocab, tgt_vocab=model.tgt_vocab, model=model_cfg,
                     written_by=f"mt_torch {__version__} (torch {torch.__version__})")
