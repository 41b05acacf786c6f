"""The PyTorch side of test/torch-bridge.test.ts (mt's side runs in the node test itself).

  bridge.py logits JOB_DIR          job.json: cases of (model config, vocab sizes, mt weights
                                    file, batch); writes NAME.logits.safetensors (teacher-forced
                                    logits) and NAME.back.safetensors (the weights after mt ->
                                    PyTorch -> mt), and NAME.greedy.json for the case's `greedy` job
  bridge.py greedy JOB.json OUT.json   greedy ids of a run's checkpoint for given source ids
  bridge.py resave RUN CHECKPOINT DEST  load RUN's checkpoint (and its Adam moments into a torch
                                    Adam), save it as an mt checkpoint of run DEST
  bridge.py encode RUN OUT.json [ENCODER]  the run's prepared data as ids (sentencepiece or mt)
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import mt_torch  # noqa: E402
from mt_torch import data as D  # noqa: E402
from mt_torch import safetensors  # noqa: E402


def logits(job_dir):
    torch.set_num_threads(1)
    with open(os.path.join(job_dir, "job.json")) as f:
        job = json.load(f)
    for case in job["cases"]:
        name = case["name"]
        model = mt_torch.build(case["model"], case["src_vocab"], case["tgt_vocab"])
        weights, _ = safetensors.read(os.path.join(job_dir, case["weights"]))
        model.load_mt_state_dict(weights)
        model.eval()
        b = case["batch"]
        with torch.no_grad():
            out = model(torch.tensor(b["src"]), torch.tensor(b["mask"], dtype=torch.float32), torch.tensor(b["tgt_in"]))
        safetensors.write(os.path.join(job_dir, f"{name}.logits.safetensors"), {"logits": out.numpy()})
        safetensors.write(os.path.join(job_dir, f"{name}.back.safetensors"), model.mt_state_dict())
        g = case.get("greedy")
        if g:
            ids, _ = mt_torch.greedy(model, g["src_ids"], bos=g["bos"], eos=g["eos"], pad=g["pad"], max_len_a=g["max_len_a"],
                                     max_len_b=g["max_len_b"], min_len=g["min_len"])
            with open(os.path.join(job_dir, f"{name}.greedy.json"), "w") as f:
                json.dump(ids, f)


def greedy(job_file, out_file):
    torch.set_num_threads(1)
    with open(job_file) as f:
        job = json.load(f)
    model = mt_torch.load(job["run"], job["checkpoint"])
    ids, scores = mt_torch.greedy(model, job["src_ids"], bos=job["bos"], eos=job["eos"], pad=job["pad"], max_len_a=job["max_len_a"],
                                  max_len_b=job["max_len_b"], min_len=job["min_len"])
    with open(out_file, "w") as f:
        json.dump({"ids": ids, "scores": scores}, f)


def resave(run, checkpoint, dest):
    model = mt_torch.load(run, checkpoint, with_optimizer=True)
    state = model.mt["state"]
    optimizer = mt_torch.make_optimizer(model, state["training"]["train_config"])
    mt_torch.load_optimizer_state(optimizer, model, model.mt["moments"], state["training"]["optimizer"]["updates"])
    print(mt_torch.save(model, dest, optimizer=optimizer))


def encode(run, out_file, encoder="auto"):
    cfg = mt_torch.read_run_config(run)
    vocab, encoded = D.encode_run(run, cfg["subword"], encoder)
    with open(out_file, "w") as f:
        json.dump({"vocab": vocab.__dict__, **encoded, "encoder": encoder if encoder != "auto" else ("sentencepiece" if D.have_sentencepiece() else "mt")}, f)


if __name__ == "__main__":
    cmd, *rest = sys.argv[1:]
    {"logits": logits, "greedy": greedy, "resave": resave, "encode": encode}[cmd](*rest)
