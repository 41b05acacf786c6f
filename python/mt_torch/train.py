"""Continue (or start) an mt run's training in PyTorch, on one or many processes (DDP).

    torchrun --nproc_per_node=N python/mt_torch/train.py --run runs/x            # one machine
    torchrun --nnodes=2 --node_rank=R --master_addr=HOST --master_port=29500 \\
             --nproc_per_node=8 python/mt_torch/train.py --run runs/x            # many machines
    python3 python/mt_torch/train.py --run runs/x                                # one process

What it does is `mt train`'s (src/train/): the run's prepared data encoded with its SentencePiece
models; mt's token-bucketed batches in mt's order; label-smoothed cross-entropy over the real
target tokens; Adam/AdamW with mt's settings; clipping by global norm; mt's learning-rate
schedules; validation loss and perplexity every train.valid_every steps; checkpoints written
into the run directory as mt checkpoints (weights, Adam moments, schedule, data position), so
`mt translate`, `mt eval` and `mt train` take over from them. It resumes from the run's newest
checkpoint, mt's or its own.

Data parallel: each of the N processes takes its own batch of every N consecutive batches of
mt's stream and DDP averages their gradients, so one update averages N × accum_steps batches
(`mt train` averages accum_steps): N times the tokens per update. Lower train.accum_steps (or
pass --accum-steps) to keep the update size. Not done here: BLEU/chrF validation (greedy
translation and sacreBLEU scoring are mt's), teacher_forcing < 1 (scheduled sampling).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import signal
import sys
import time

if __package__ in (None, ""):  # run as a script: python/mt_torch/train.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch
import torch.distributed as dist
import torch.nn.functional as F

import mt_torch
from mt_torch import checkpoint as ck
from mt_torch import data as D
from mt_torch.config import model_config, read_run_config


class LrSchedule:
    """src/train/schedule.ts: the rate of update s (1-based, counted since the schedule started)."""

    def __init__(self, cfg, base_lr, model_size, state=None):
        self.cfg, self.base_lr, self.model_size = cfg, base_lr, model_size
        self.s = dict(state) if state else {"type": cfg["type"], "steps": 0, "scale": 1, "best": None, "bad": 0}

    def rate(self):
        s = self.s["steps"] + 1
        w = max(self.cfg["warmup_steps"], 1)
        kind = self.cfg["type"]
        if kind == "constant":
            return self.base_lr * min(1, s / w)
        if kind == "plateau":
            return max(self.base_lr * self.s["scale"], self.cfg["min_learning_rate"]) * min(1, s / w)
        if kind == "inverse_sqrt":
            return self.base_lr * min(s / w, math.sqrt(w / s))
        if kind == "noam":
            return self.base_lr * self.model_size ** -0.5 * min(s ** -0.5, s * w ** -1.5)
        raise ValueError(f"unknown schedule {kind}")

    def advance(self):
        self.s["steps"] += 1

    def observe(self, value, better):
        if self.cfg["type"] != "plateau":
            return False
        if self.s["best"] is None or better(value, self.s["best"]):
            self.s["best"], self.s["bad"] = value, 0
            return False
        self.s["bad"] += 1
        if self.s["bad"] <= self.cfg["patience"]:
            return False
        self.s["bad"] = 0
        floor = self.cfg["min_learning_rate"] / self.base_lr
        nxt = max(self.s["scale"] * self.cfg["factor"], floor)
        lowered = nxt < self.s["scale"]
        self.s["scale"] = nxt
        return lowered

    def state(self):
        return dict(self.s)


def smoothed_loss(logits, tgt_out, tgt_mask, smoothing):
    """src/train/loss.ts: (mean smoothed loss per real token, summed -log p(gold), real tokens)."""
    V = logits.shape[-1]
    flat = logits.reshape(-1, V).float()
    lse = torch.logsumexp(flat, 1)
    nll = lse - flat.gather(1, tgt_out.reshape(-1, 1)).squeeze(1)
    real = tgt_mask.reshape(-1)
    nll_sum = (nll * real).sum()
    total = nll_sum
    if smoothing > 0:
        uniform = lse - flat.mean(1)
        total = (((1 - smoothing) * nll + smoothing * uniform) * real).sum()
    tokens = real.sum()
    return total / tokens.clamp(min=1), nll_sum, tokens


def rnd(x, digits=4):
    return float(f"{x:.{digits}f}")


class Trainer:
    def __init__(self, args):
        self.args = args
        self.run_dir = os.path.abspath(args.run)
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(self.world)))
        want = args.device
        if want == "auto":
            want = "cuda" if torch.cuda.is_available() else "cpu"
        if want == "cuda":
            torch.cuda.set_device(self.local_rank)
            self.device = torch.device("cuda", self.local_rank)
        else:
            self.device = torch.device("cpu")
            threads = args.threads or max(1, (os.cpu_count() or 1) // max(1, self.local_world))
            torch.set_num_threads(threads)
        if self.world > 1:
            backend = args.backend if args.backend != "auto" else ("nccl" if self.device.type == "cuda" else "gloo")
            dist.init_process_group(backend)
        self.cfg = read_run_config(self.run_dir)
        t = dict(self.cfg["train"])
        for key in ("max_steps", "valid_every", "log_every", "accum_steps", "batch_tokens", "max_epochs"):
            value = getattr(args, key)
            if value is not None:
                t[key] = value
        self.t = t
        if t.get("teacher_forcing", 1) < 1:
            self.say(f"train.teacher_forcing {t['teacher_forcing']}: scheduled sampling is not done here; training with full teacher forcing")
        self.metric = t["early_stopping"]["metric"]
        self.by_loss = self.metric in ("loss", "ppl")
        if not self.by_loss:
            self.say(f"early_stopping.metric is {self.metric}: validation here is loss/perplexity only, so best.json, the "
                     "plateau schedule and early stopping are left as they were (mt train scores BLEU/chrF)")

    # -- output -----------------------------------------------------------------------------

    def say(self, msg):
        if self.rank == 0:
            print(f"mt_torch: {msg}", flush=True)

    def metrics(self, record):
        if self.rank == 0:
            with open(os.path.join(self.run_dir, "logs", "metrics.jsonl"), "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")

    def truncate_metrics(self, step):
        path = os.path.join(self.run_dir, "logs", "metrics.jsonl")
        if self.rank != 0:
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if not os.path.exists(path):
            return
        kept = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(r.get("step"), (int, float)) and r["step"] <= step:
                    kept.append(line if line.endswith("\n") else line + "\n")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.writelines(kept)
        os.replace(path + ".tmp", path)

    def barrier(self):
        if self.world > 1:
            dist.barrier()

    # -- setup ------------------------------------------------------------------------------

    def load_data(self):
        cache_dir = os.path.join(self.run_dir, "torch")
        key = D.cache_key(self.run_dir, self.cfg["subword"])
        path = os.path.join(cache_dir, f"encoded-{key}.npz")
        if self.local_rank == 0 and not os.path.exists(path):
            os.makedirs(cache_dir, exist_ok=True)
            started = time.time()
            vocab, encoded = D.encode_run(self.run_dir, self.cfg["subword"], self.args.encoder)
            D.save_encoded(path, vocab, encoded)
            self.say(f"encoded the prepared data in {time.time() - started:.1f} s -> {os.path.relpath(path, self.run_dir)}")
        self.barrier()
        self.vocab, encoded = D.load_encoded(path)
        max_len = self.t["max_len"]
        self.train_pairs = D.filter_pairs(encoded["train"]["src"], encoded["train"]["tgt"], max_len)
        self.valid_pairs = D.filter_pairs(encoded["valid"]["src"], encoded["valid"]["tgt"], max_len)
        if not self.valid_pairs:
            raise SystemExit("mt_torch: no validation pairs (data/valid.*) within train.max_len")

    def setup(self):
        self.load_data()
        v = self.vocab
        cfg = model_config(self.cfg["model"])
        self.model = mt_torch.build(cfg, v.src_size, v.tgt_size)
        resume = None
        if self.args.checkpoint != "none" and ck.list_checkpoints(self.run_dir):
            d = ck.resolve(self.run_dir, self.args.checkpoint or "last")
            resume = ck.read(d, verify_first=False)
            ck.check_subwords(self.run_dir, resume.state, d)
            if model_config(resume.state["model"]) != cfg:
                raise SystemExit(f"mt_torch: {d} was trained with a different model config; use a new run directory")
            if (resume.state["src_vocab_size"], resume.state["tgt_vocab_size"]) != (v.src_size, v.tgt_size):
                raise SystemExit(f"mt_torch: {d}: vocabulary sizes differ from the run's subword models")
            self.model.load_mt_state_dict(resume.weights, source=d)
        else:
            torch.manual_seed(self.cfg.get("seed", 1234))
            self.model.reset_parameters_like_mt()
        self.model.to(self.device)
        self.optimizer = mt_torch.make_optimizer(self.model, self.t)
        width = cfg["d_model"] if cfg["type"] == "transformer" else cfg["hidden_size"]
        self.schedule = LrSchedule(self.t["schedule"], self.t["learning_rate"], width)
        self.stream = D.BatchStream.from_seed(self.train_pairs, self.t["batch_tokens"], self.t["max_sentences"], self.cfg.get("seed", 1234))
        self.state = {"step": 0, "epoch": 0, "model_rng": 0, "best": None, "bad_validations": 0, "tokens": 0, "elapsed_s": 0, "cpu_s": 0}
        self.last_validation = None
        if resume is not None:
            tr = resume.state["training"]
            name = os.path.basename(resume.dir)
            if self.args.reset_optimizer:
                self.say("--reset-optimizer: starting with fresh Adam moments")
            else:
                if not resume.optimizer:
                    raise SystemExit(f"mt_torch: {resume.dir} has no optimizer state; pass --reset-optimizer")
                mt_torch.load_optimizer_state(self.optimizer, self.model, resume.optimizer, tr["optimizer"]["updates"])
            if self.args.reset_schedule:
                self.say("--reset-schedule: the learning-rate schedule starts over")
            else:
                if tr["schedule"]["type"] != self.t["schedule"]["type"]:
                    raise SystemExit(f"mt_torch: train.schedule.type changed from {tr['schedule']['type']} to "
                                     f"{self.t['schedule']['type']} since {name}; pass --reset-schedule")
                self.schedule = LrSchedule(self.t["schedule"], self.t["learning_rate"], width, tr["schedule"])
            self.stream = D.BatchStream(self.train_pairs, self.t["batch_tokens"], self.t["max_sentences"], tr["data"])
            for k in self.state:
                self.state[k] = tr.get(k, self.state[k])
            self.last_validation = resume.state.get("validation")
            self.say(f"resuming from {name} (step {tr['step']}, written by {resume.state.get('written_by', 'mt')})")
        self.resumed_step = self.state["step"]
        self.elapsed_before = self.state["elapsed_s"]
        self.cpu_before = self.state["cpu_s"] if isinstance(self.state["cpu_s"], (int, float)) else 0
        self.started = time.time()
        self.cpu_started = process_cpu_seconds()
        self.valid_batches = D.plan_in_order(self.valid_pairs, self.t["batch_tokens"], self.t["max_sentences"])
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP
            self.ddp = DDP(self.model, device_ids=[self.local_rank] if self.device.type == "cuda" else None, broadcast_buffers=False)
        else:
            self.ddp = self.model
        self.params = [p for p in self.model.parameters() if p.requires_grad]

    # -- training ---------------------------------------------------------------------------

    def elapsed(self):
        return self.elapsed_before + (time.time() - self.started)

    def cpu(self):
        """CPU seconds spent training so far, every process of the run summed, across resumes
        (collective: every rank calls it)."""
        t = torch.tensor([process_cpu_seconds() - self.cpu_started], dtype=torch.float64)
        return self.cpu_before + float(self.all_sum(t)[0])

    def limit(self):
        t, s = self.t, self.state
        if t.get("max_steps") is not None and s["step"] >= t["max_steps"]:
            return "max_steps"
        if self.stream.position()["epoch"] > t["max_epochs"]:
            return "max_epochs"
        if s["best"] and s["bad_validations"] >= t["early_stopping"]["patience"]:
            return "early_stopping"
        return None

    def batch(self, indices):
        v = self.vocab
        return D.make_batch(self.train_pairs, indices, v.src_pad, v.tgt_pad, v.bos, v.eos, self.device)

    def step(self):
        """One update: every rank its own accum_steps batches of the stream's next N × accum_steps."""
        lr = self.schedule.rate()
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        accum = self.t["accum_steps"]
        mine, tokens = [], 0
        for _ in range(accum):
            for r in range(self.world):
                indices, epoch = self.stream.next()
                tokens += sum(len(self.train_pairs[i][1]) + 1 for i in indices)
                if r == self.rank:
                    mine.append(indices)
        self.state["epoch"] = epoch
        self.optimizer.zero_grad(set_to_none=True)
        # [loss, nll, batches] on the device: read only at log time (no sync per batch on a GPU).
        sums = torch.zeros(3, dtype=torch.float64, device=self.device)
        one = torch.ones((), dtype=torch.float64, device=self.device)
        for k, indices in enumerate(mine):
            src, mask, tgt_in, tgt_out, tgt_mask = self.batch(indices)
            sync = k == len(mine) - 1 or self.world == 1
            ctx = self.ddp.no_sync() if not sync else _nullcontext()
            with ctx:
                logits = self.ddp(src, mask, tgt_in)
                loss, nll, _ = smoothed_loss(logits, tgt_out, tgt_mask, self.t["label_smoothing"])
                (loss / accum).backward()
            sums += torch.stack([loss.detach().double(), nll.detach().double(), one])
        clip = self.t["clip_norm"]
        norm = torch.nn.utils.clip_grad_norm_(self.params, clip if clip > 0 else float("inf"))
        if not math.isfinite(float(norm)):
            raise FloatingPointError(f"step {self.state['step'] + 1}: gradient norm {float(norm)}; nothing applied, "
                                     f"the last checkpoint is the last good one")
        self.optimizer.step()
        self.schedule.advance()
        self.state["step"] += 1
        self.state["tokens"] += tokens
        return lr, sums, tokens

    @torch.no_grad()
    def validate(self):
        self.model.eval()
        v = self.vocab
        sums = torch.zeros(2, dtype=torch.float64, device=self.device)
        for i, indices in enumerate(self.valid_batches):
            if i % self.world != self.rank:
                continue
            src, mask, tgt_in, tgt_out, tgt_mask = D.make_batch(self.valid_pairs, indices, v.src_pad, v.tgt_pad, v.bos, v.eos, self.device)
            _, nll, n = smoothed_loss(self.model(src, mask, tgt_in), tgt_out, tgt_mask, 0)
            sums += torch.stack([nll.double(), n.double()])
        self.all_sum(sums)
        self.model.train()
        nll, n = sums.tolist()
        loss = nll / max(n, 1)
        return {"step": self.state["step"], "loss": rnd(loss, 6), "ppl": rnd(math.exp(min(loss, 700)), 4)}

    def all_sum(self, t):
        """Sum `t` over the processes in place (NCCL reduces CUDA tensors: moved there and back)."""
        if self.world > 1:
            on = t.to(self.device)
            dist.all_reduce(on, op=dist.ReduceOp.SUM)
            if on is not t:
                t.copy_(on)
        return t

    def validate_and_save(self):
        started = time.time()
        v = self.validate()
        cpu = self.cpu()
        self.last_validation = v
        is_best, lowered = False, False
        if self.by_loss:
            value = v[self.metric]
            best = self.state["best"]
            is_best = best is None or value < best["value"]
            if is_best:
                self.state["best"] = {"metric": self.metric, "value": value, "step": v["step"]}
                self.state["bad_validations"] = 0
            else:
                self.state["bad_validations"] += 1
            lowered = self.schedule.observe(value, lambda a, b: a < b)
        self.metrics({"kind": "valid", "step": v["step"], "epoch": self.state["epoch"], "valid_loss": v["loss"], "valid_ppl": v["ppl"],
                      "bleu": None, "chrf": None, "lr": self.schedule.rate(), "best": is_best, "elapsed_s": rnd(self.elapsed(), 1),
                      "cpu_s": rnd(cpu, 1), "valid_s": rnd(time.time() - started, 1), "engine": "torch"})
        self.say(f"validation at step {v['step']}: loss {v['loss']:.3f} | ppl {v['ppl']:.2f}" + (" | new best" if is_best else "")
                 + (f" | learning rate lowered to {self.schedule.rate():.2e}" if lowered else ""))
        self.save(is_best, v, cpu)

    def save(self, is_best, validation=None, cpu=None):
        """Every rank calls it (the CPU time is summed over them); rank 0 writes."""
        cpu = self.cpu() if cpu is None else cpu
        self.saved_step = self.state["step"]
        if self.rank != 0:
            return
        moments, updates = mt_torch.optimizer_moments(self.optimizer, self.model)
        training = {**self.state, "data": self.stream.position(), "schedule": self.schedule.state(),
                    "optimizer": {"type": self.t["optimizer"], "updates": updates}, "elapsed_s": rnd(self.elapsed(), 1),
                    "cpu_s": rnd(cpu, 3), "train_config": self.t}
        d = ck.write(self.run_dir, self.model.mt_state_dict(), training, optimizer=moments, validation=validation, best=is_best,
                     keep_last=self.t["keep_last"], src_vocab=self.vocab.src_size, tgt_vocab=self.vocab.tgt_size,
                     model=self.cfg["model"], written_by=f"mt_torch {mt_torch.__version__} (torch {torch.__version__}, "
                                                          f"{self.world} x {self.device.type})")
        self.say(f"checkpoint {os.path.relpath(d, self.run_dir)}")

    def record_stage(self, stopped):
        if self.rank != 0:
            return
        path = os.path.join(self.run_dir, "manifest.json")
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        now = ck._now()
        manifest.setdefault("stages", {})["train_torch"] = {
            "steps": self.state["step"], "epochs": self.state["epoch"], "stopped": stopped, "processes": self.world,
            "device": self.device.type, "torch": torch.__version__, "elapsed_s": rnd(self.elapsed(), 1),
            "checkpoint": os.path.join(self.run_dir, "checkpoints", ck.checkpoint_name(self.saved_step)) if self.saved_step is not None else None,
            "finished_at": now,
        }
        manifest["updated_at"] = now
        ck.write_json_atomic(path, manifest)

    def train(self):
        if self.args.encode_only:
            self.load_data()
            self.say(f"encoded: {len(self.train_pairs):,} training and {len(self.valid_pairs):,} validation pairs within train.max_len")
            return "encoded"
        self.setup()
        self.saved_step = None
        self.truncate_metrics(self.state["step"])
        interrupted = {"flag": False}

        def on_signal(signum, _frame):
            interrupted["flag"] = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, on_signal)
        n_params = sum(p.numel() for p in self.params)
        self.say(f"training {self.cfg['model']['type']} ({n_params:,} parameters) on {len(self.train_pairs):,} pairs, "
                 f"{self.world} process(es) on {self.device.type}, ~{math.ceil(len(self.stream.batches) / (self.t['accum_steps'] * self.world))} "
                 f"steps/epoch, {self.world * self.t['accum_steps']} batches of <= {self.t['batch_tokens']} tokens per update")
        already = self.limit()
        if already:
            self.say(f"training already finished at step {self.state['step']} ({already}); nothing to do")
            return already
        self.model.train()
        interval = torch.zeros(3, dtype=torch.float64, device=self.device)
        tokens_since, seconds_since = 0, 0.0
        stopped = None
        while True:
            reason = self.limit()
            if reason:
                stopped = reason
                if (self.last_validation or {}).get("step") != self.state["step"]:
                    self.validate_and_save()
                break
            flag = torch.tensor([1.0 if interrupted["flag"] else 0.0])
            if self.all_sum(flag).item() > 0:
                stopped = "interrupted"
                if self.state["step"] > 0 and self.saved_step != self.state["step"]:
                    self.save(False)
                break
            t0 = time.time()
            lr, sums, tokens = self.step()
            interval += sums
            tokens_since += tokens
            seconds_since += time.time() - t0
            step = self.state["step"]
            if step % self.t["log_every"] == 0:
                loss_sum, nll_sum, batches = self.all_sum(interval).tolist()
                loss = loss_sum / batches
                # nll summed over every rank's batches; the tokens of all ranks are known here.
                ppl = math.exp(min(nll_sum / max(tokens_since, 1), 700))
                tok_s = round(tokens_since / max(seconds_since, 1e-9))
                self.metrics({"kind": "train", "step": step, "epoch": self.state["epoch"], "loss": rnd(loss, 6), "ppl": rnd(ppl, 4),
                              "lr": lr, "tok_s": tok_s, "tokens": self.state["tokens"], "elapsed_s": rnd(self.elapsed(), 1),
                              "cpu_s": rnd(self.cpu(), 1), "engine": "torch"})
                self.say(f"step {step} | epoch {self.state['epoch']} | loss {loss:.3f} | ppl {ppl:.2f} | lr {lr:.2e} | {tok_s} tok/s")
                interval.zero_()
                tokens_since, seconds_since = 0, 0.0
            if step % self.t["valid_every"] == 0:
                self.validate_and_save()
        self.barrier()
        if stopped != "interrupted":
            self.record_stage(stopped)
        self.say(f"stopped: {stopped} at step {self.state['step']}")
        return stopped


def process_cpu_seconds():
    """User + system CPU seconds of this process, all its threads (getrusage RUSAGE_SELF)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="train.py", description="Train an mt run directory with PyTorch (launch with torchrun for DDP).")
    p.add_argument("--run", required=True, help="the mt run directory (after mt prepare and mt vocab)")
    p.add_argument("--checkpoint", help="resume from this checkpoint (default: the newest intact one); 'none' starts afresh")
    p.add_argument("--reset-optimizer", action="store_true", help="when resuming: fresh Adam moments")
    p.add_argument("--reset-schedule", action="store_true", help="when resuming: restart the learning-rate schedule")
    p.add_argument("--max-steps", dest="max_steps", type=int, help="stop at this step (default: train.max_steps)")
    p.add_argument("--max-epochs", dest="max_epochs", type=int, help="default: train.max_epochs")
    p.add_argument("--valid-every", dest="valid_every", type=int, help="default: train.valid_every")
    p.add_argument("--log-every", dest="log_every", type=int, help="default: train.log_every")
    p.add_argument("--accum-steps", dest="accum_steps", type=int, help="batches per process per update (default: train.accum_steps)")
    p.add_argument("--batch-tokens", dest="batch_tokens", type=int, help="padded tokens per batch (default: train.batch_tokens)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="auto: cuda when available")
    p.add_argument("--backend", default="auto", choices=["auto", "nccl", "gloo"], help="auto: nccl on cuda, gloo on cpu")
    p.add_argument("--threads", type=int, help="CPU threads per process (default: cores / processes on this node)")
    p.add_argument("--encoder", default="auto", choices=["auto", "sentencepiece", "mt"],
                   help="how to encode the prepared text: the sentencepiece module, or mt itself via node (auto: the module if installed)")
    p.add_argument("--encode-only", action="store_true", help="encode the prepared data into RUN/torch/ (the cache training reads) and stop")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    trainer = Trainer(args)
    try:
        trainer.train()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


if __name__ == "__main__":
    main()
