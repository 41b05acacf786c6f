"""mt checkpoints (docs/checkpoints.md) read and written from Python.

  checkpoints/step-000500/model.safetensors      weights by mt's names, mt's layouts
                          optimizer.safetensors  Adam moments m/<name>, v/<name>
                          state.json             step, model config, vocab sizes, hashes, resume state
                          subword/*.model        the SentencePiece models the ids refer to
                          manifest.json          sha256 and size of every other file
  checkpoints/last.json, best.json               pointers

A folder is filled under a temporary name (.step-….PID.tmp, which mt's trainer clears if a
crash leaves one) and renamed into place, as mt does.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field

import numpy as np

from . import safetensors
from .config import model_config, read_run_config

FORMAT_VERSION = 1
STEP_RE = re.compile(r"^step-(\d+)$")


class CheckpointError(ValueError):
    pass


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path) -> str:
    with open(path, "rb") as f:
        return sha256_bytes(f.read())


def checkpoint_name(step: int) -> str:
    return f"step-{step:06d}"


def list_checkpoints(run_dir):
    """[(step, name, dir)] oldest first."""
    root = os.path.join(run_dir, "checkpoints")
    if not os.path.isdir(root):
        return []
    out = []
    for name in os.listdir(root):
        m = STEP_RE.match(name)
        if m and os.path.isdir(os.path.join(root, name)):
            out.append((int(m.group(1)), name, os.path.join(root, name)))
    return sorted(out)


def verify(dir_):
    """Check every file against manifest.json (as mt's verifyCheckpoint)."""
    path = os.path.join(dir_, "manifest.json")
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: checkpoint manifest is missing") from None
    except json.JSONDecodeError:
        raise CheckpointError(f"{path}: checkpoint manifest is unreadable") from None
    if manifest.get("format") != "mt-checkpoint-manifest" or not isinstance(manifest.get("files"), dict):
        raise CheckpointError(f"{path}: not an mt checkpoint manifest")
    for required in ("model.safetensors", "state.json"):
        if required not in manifest["files"]:
            raise CheckpointError(f"{path}: does not list {required}")
    for rel, expected in manifest["files"].items():
        file = os.path.join(dir_, rel)
        if not os.path.exists(file):
            raise CheckpointError(f"{file}: missing from checkpoint")
        with open(file, "rb") as f:
            data = f.read()
        if len(data) != expected["bytes"] or sha256_bytes(data) != expected["sha256"]:
            raise CheckpointError(f"{file}: corrupted (does not match manifest.json)")


def _pointer(run_dir, which):
    path = os.path.join(run_dir, "checkpoints", f"{which}.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f).get("checkpoint")


def resolve(run_dir, which=None):
    """The verified folder `which` names: 'last' (newest intact), 'best', a folder name under
    checkpoints/ or a path; None: best when one was validated, else last (as `mt translate`)."""
    if which is None:
        which = "best" if os.path.exists(os.path.join(run_dir, "checkpoints", "best.json")) else "last"
    if which == "last":
        problems = []
        for _, _, d in reversed(list_checkpoints(run_dir)):
            try:
                verify(d)
                return d
            except CheckpointError as e:
                problems.append(str(e))
        raise CheckpointError(problems[0] if problems else f"{os.path.join(run_dir, 'checkpoints')}: no checkpoints yet")
    if which == "best":
        name = _pointer(run_dir, "best")
        if not name:
            raise CheckpointError(f"{run_dir}: no best checkpoint yet (none validated); use 'last'")
        d = os.path.join(run_dir, "checkpoints", name)
    elif os.path.isabs(which) or os.path.exists(which):
        d = os.path.abspath(which)
    else:
        d = os.path.join(run_dir, "checkpoints", which)
    if not os.path.isdir(d):
        raise CheckpointError(f"{d}: no such checkpoint")
    verify(d)
    return d


@dataclass
class Checkpoint:
    dir: str
    state: dict
    weights: dict
    optimizer: dict = field(default_factory=dict)

    @property
    def step(self):
        return self.state["step"]


def read(dir_, verify_first=True) -> Checkpoint:
    if verify_first:
        verify(dir_)
    with open(os.path.join(dir_, "state.json"), encoding="utf-8") as f:
        state = json.load(f)
    if state.get("format") != "mt-checkpoint":
        raise CheckpointError(f"{dir_}/state.json: not an mt checkpoint")
    if state.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{dir_}/state.json: checkpoint format {state.get('format_version')} is not supported (expected {FORMAT_VERSION})")
    weights, _ = safetensors.read(os.path.join(dir_, "model.safetensors"))
    opt_path = os.path.join(dir_, "optimizer.safetensors")
    optimizer = safetensors.read(opt_path)[0] if os.path.exists(opt_path) else {}
    return Checkpoint(dir_, state, weights, optimizer)


def check_subwords(run_dir, state, dir_):
    """Refuse a checkpoint whose subword models differ from the run's (mt's checkSubwords)."""
    for name, digest in state.get("subword", {}).items():
        f = os.path.join(run_dir, "subword", name)
        if not os.path.exists(f):
            raise CheckpointError(f"{f}: missing; checkpoint {dir_} was trained with it")
        if sha256_file(f) != digest:
            raise CheckpointError(f"{f}: differs from the subword model checkpoint {dir_} was trained with")


def _now():
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _write_atomic(path, data: bytes):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json_atomic(path, value):
    _write_atomic(path, (json.dumps(value, indent=2) + "\n").encode("utf-8"))


def default_training_state(run_cfg, step, updates=None):
    """A TrainingState (src/checkpoint/training-state.ts) for weights that come without one:
    the data stream at the start of epoch 1, the schedule at `step` updates."""
    from .data import Sfc32
    train = run_cfg["train"]
    return {
        "step": step,
        "epoch": 0,
        "data": {"epoch": 1, "batch": 0, "rng": Sfc32.from_seed(run_cfg.get("seed", 1234)).state()},
        "model_rng": 0,
        "schedule": {"type": train["schedule"]["type"], "steps": step, "scale": 1, "best": None, "bad": 0},
        "optimizer": {"type": train["optimizer"], "updates": step if updates is None else updates},
        "best": None,
        "bad_validations": 0,
        "tokens": 0,
        "elapsed_s": 0,
        "cpu_s": 0,
        "train_config": train,
    }


def write(run_dir, weights: dict, training: dict, *, optimizer: dict | None = None, validation=None, best=False,
          keep_last=None, src_vocab=None, tgt_vocab=None, model=None, written_by="mt_torch"):
    """Write checkpoints/step-NNNNNN of `run_dir` (weights by mt's names) and point last.json
    (and best.json) at it; with keep_last, remove all but the newest keep_last and the best.
    Returns the folder."""
    run_cfg = read_run_config(run_dir)
    with open(os.path.join(run_dir, "manifest.json"), encoding="utf-8") as f:
        run_manifest = json.load(f)
    from .data import subword_files
    files_sw = subword_files(run_dir, run_cfg["subword"])
    model_cfg = model if model is not None else run_cfg["model"]
    step = int(training["step"])
    name = checkpoint_name(step)
    root = os.path.join(run_dir, "checkpoints")
    os.makedirs(root, exist_ok=True)
    if src_vocab is None or tgt_vocab is None:
        src_vocab, tgt_vocab = vocab_sizes(model_config(model_cfg), weights)
    state = {
        "format": "mt-checkpoint",
        "format_version": FORMAT_VERSION,
        "mt_version": run_manifest.get("mt_version", "unknown"),
        "created_at": _now(),
        "step": step,
        "model": model_cfg,
        "src_vocab_size": int(src_vocab),
        "tgt_vocab_size": int(tgt_vocab),
        "parameters": int(sum(int(np.prod(a.shape)) for a in weights.values())),
        # The hashes of the run's config as mt computed them (manifest.json): the checkpoint
        # belongs to this run's config, as one mt writes does.
        "identity_hash": run_manifest["identity_hash"],
        "config_hash": run_manifest["config_hash"],
        "subword": {os.path.basename(f): sha256_file(f) for f in files_sw},
        "validation": validation,
        "training": training,
        "written_by": written_by,
    }
    metadata = {"format": "mt-checkpoint", "step": str(step)}
    blobs = {"model.safetensors": safetensors.encode({k: np.asarray(v, dtype=np.float32) for k, v in weights.items()},
                                                     {**metadata, "model_type": model_cfg["type"]})}
    if optimizer is not None:
        blobs["optimizer.safetensors"] = safetensors.encode({k: np.asarray(v, dtype=np.float32) for k, v in optimizer.items()},
                                                            {**metadata, "optimizer": training["optimizer"]["type"]})
    blobs["state.json"] = (json.dumps(state, indent=2) + "\n").encode("utf-8")
    for f in files_sw:
        with open(f, "rb") as fh:
            blobs[f"subword/{os.path.basename(f)}"] = fh.read()
    tmp = os.path.join(root, f".{name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "subword"))
    manifest = {"format": "mt-checkpoint-manifest", "files": {}}
    for rel, data in blobs.items():
        _write_atomic(os.path.join(tmp, rel), data)
        manifest["files"][rel] = {"sha256": sha256_bytes(data), "bytes": len(data)}
    write_json_atomic(os.path.join(tmp, "manifest.json"), manifest)
    final = os.path.join(root, name)
    if os.path.exists(final):
        aside = os.path.join(root, f".{name}.{os.getpid()}.old")
        os.replace(final, aside)
        os.replace(tmp, final)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(tmp, final)
    pointer = {"checkpoint": name, "step": step, "validation": validation}
    write_json_atomic(os.path.join(root, "last.json"), pointer)
    if best:
        write_json_atomic(os.path.join(root, "best.json"), {**pointer, "best": training.get("best")})
    if keep_last:
        prune(run_dir, keep_last)
    return final


def prune(run_dir, keep_last):
    everything = list_checkpoints(run_dir)
    keep = {n for _, n, _ in everything[-keep_last:]}
    best = _pointer(run_dir, "best")
    if best:
        keep.add(best)
    for _, n, d in everything:
        if n in keep:
            continue
        aside = os.path.join(os.path.dirname(d), f".{n}.{os.getpid()}.removed.old")
        os.replace(d, aside)
        shutil.rmtree(aside, ignore_errors=True)


def vocab_sizes(cfg, weights):
    """Source and target vocabulary sizes implied by mt-named weights."""
    src = weights["encoder/embedding/table"].shape[0]
    tgt = weights["decoder/embedding/table"].shape[0]
    return int(src), int(tgt)
