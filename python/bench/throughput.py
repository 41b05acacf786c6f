"""Training throughput of `mt train --threads T` next to `torchrun --nproc_per_node=N train.py` on
the same run directory, trials interleaved (A B A B …) so that both see the same machine load.

    /usr/bin/python3 python/bench/throughput.py --run runs/x --trials 5 --batches 12

Each trial trains a fresh copy of the run (no checkpoints; validation cut to 40 pairs, and not
run before the end) for the same `--batches` batches of mt's stream: mt `--batches` steps,
PyTorch `--batches / N` steps of N batches. Figures are target tokens per second over the
steps after the first log interval (warm-up), from logs/metrics.jsonl (both write `tok_s`, the
tokens of the interval over the time spent in its updates). Prints one JSON line per trial and
the medians; docs/scale-out.md has a measured table.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TRAIN_PY = os.path.join(REPO, "python", "mt_torch", "train.py")


def fresh_copy(run, tmp, name):
    dst = os.path.join(tmp, name)
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(os.path.join(dst, "logs"))
    for item in ("config.yaml", "manifest.json", "data", "subword", "torch"):
        src = os.path.join(run, item)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dst, item))
        elif os.path.exists(src):
            shutil.copy(src, os.path.join(dst, item))
    for side in ("src", "tgt"):
        path = os.path.join(dst, "data", f"valid.{side}")
        with open(path) as f:
            lines = f.readlines()[:40]
        with open(path, "w") as f:
            f.writelines(lines)
    return dst


def interval_rates(run, log_every):
    with open(os.path.join(run, "logs", "metrics.jsonl")) as f:
        records = [json.loads(line) for line in f if line.strip()]
    train = [r for r in records if r["kind"] == "train"]
    return [r["tok_s"] for r in train[1:]]  # the first interval is warm-up


def torchrun_workaround(python):
    probe = 'from torch.distributed.elastic.multiprocessing.api import Std; print(Std.from_str("0") is None)'
    out = subprocess.run([python, "-c", probe], capture_output=True, text=True).stdout.strip()
    return ["--redirects", "1", "--tee", "1"] if out == "True" else []


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--run", required=True)
    p.add_argument("--trials", type=int, default=5)
    p.add_argument("--batches", type=int, default=12, help="batches per trial (even)")
    p.add_argument("--procs", type=int, default=2, help="torchrun processes (1 thread each)")
    p.add_argument("--threads", type=int, default=2, help="mt train --threads")
    p.add_argument("--python", default=sys.executable)
    args = p.parse_args()
    run = os.path.abspath(args.run)
    tmp = tempfile.mkdtemp(prefix="mt-throughput-")
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    results = {"mt": [], "torch": []}
    mt_log = 2
    torch_steps = args.batches // args.procs
    torch_log = max(1, torch_steps // 3)
    try:
        for trial in range(args.trials):
            for side in ("mt", "torch"):
                d = fresh_copy(run, tmp, f"{side}{trial}")
                started = time.time()
                if side == "mt":
                    cmd = ["node", os.path.join(REPO, "bin", "mt.js"), "train", "--run", d, "--threads", str(args.threads), "--force", "--quiet",
                           "--set", f"train.max_steps={args.batches}", "--set", f"train.log_every={mt_log}", "--set", "train.valid_every=1000000"]
                    log_every = mt_log
                else:
                    cmd = ["torchrun", "--standalone", "--nnodes=1", f"--nproc_per_node={args.procs}", *torchrun_workaround(args.python), TRAIN_PY,
                           "--run", d, "--max-steps", str(torch_steps), "--log-every", str(torch_log), "--valid-every", "1000000", "--threads", "1"]
                    log_every = torch_log
                r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
                if r.returncode != 0:
                    raise SystemExit(f"{' '.join(cmd)}: exit {r.returncode}\n{r.stderr[-3000:]}")
                rates = interval_rates(d, log_every)
                load = os.getloadavg()[0]
                rate = statistics.median(rates)
                results[side].append(rate)
                print(json.dumps({"trial": trial, "side": side, "tok_s": rate, "intervals": rates, "wall_s": round(time.time() - started, 1),
                                  "load1": round(load, 2)}), flush=True)
                shutil.rmtree(d, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    mt, pt = statistics.median(results["mt"]), statistics.median(results["torch"])
    print(json.dumps({"median_tok_s": {"mt": mt, "torch": pt}, "torch_over_mt": round(pt / mt, 2), "trials": args.trials}))


if __name__ == "__main__":
    main()
