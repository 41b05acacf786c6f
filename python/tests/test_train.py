import json
import math
import os
import unittest

import numpy as np
import torch

import mt_torch
from mt_torch import checkpoint as ck
from mt_torch import train as T
from tests.helpers import make_run, metrics


def run_train(*args):
    T.main(["--threads", "1", "--device", "cpu", *args])


class ScheduleTest(unittest.TestCase):
    def test_rates_are_mts(self):
        cfg = {"type": "noam", "warmup_steps": 4, "factor": 0.5, "patience": 1, "min_learning_rate": 1e-6}
        s = T.LrSchedule(cfg, 2.0, 16)
        rates = []
        for _ in range(6):
            rates.append(s.rate())
            s.advance()
        self.assertAlmostEqual(rates[0], 2.0 * 16 ** -0.5 * 1 * 4 ** -1.5)
        self.assertAlmostEqual(rates[5], 2.0 * 16 ** -0.5 * 6 ** -0.5)
        inv = T.LrSchedule({**cfg, "type": "inverse_sqrt"}, 1e-3, 16, {"type": "inverse_sqrt", "steps": 15, "scale": 1, "best": None, "bad": 0})
        self.assertAlmostEqual(inv.rate(), 1e-3 * math.sqrt(4 / 16))
        p = T.LrSchedule({**cfg, "type": "plateau"}, 1e-3, 16)
        better = lambda a, b: a < b  # noqa: E731
        self.assertEqual([p.observe(v, better) for v in (3.0, 2.0, 2.5, 2.6)], [False, False, False, True])
        self.assertEqual(p.state()["scale"], 0.5)

    def test_loss_is_mts(self):
        logits = torch.randn(2, 3, 7)
        target = torch.randint(0, 7, (2, 3))
        mask = torch.tensor([[1.0, 1, 0], [1, 1, 1]])
        loss, nll, n = T.smoothed_loss(logits, target, mask, 0.1)
        ref = torch.nn.functional.cross_entropy(logits.reshape(-1, 7), target.reshape(-1), reduction="none", label_smoothing=0.1)
        self.assertAlmostEqual(float(loss), float((ref * mask.reshape(-1)).sum() / 5), places=5)
        self.assertEqual(float(n), 5)


class TrainTest(unittest.TestCase):
    def test_train_resume_checkpoints_and_save(self):
        run = make_run(self, max_steps=40)
        run_train("--run", run)
        names = [n for _, n, _ in ck.list_checkpoints(run)]
        self.assertEqual(names[-1], "step-000040")
        self.assertLessEqual(len(names), 3, "keep_last 2 plus the best")
        records = metrics(run)
        train_loss = [r["loss"] for r in records if r["kind"] == "train"]
        self.assertEqual(len(train_loss), 4)
        self.assertLess(train_loss[-1], train_loss[0])
        with open(os.path.join(run, "checkpoints", "last.json")) as f:
            self.assertEqual(json.load(f)["checkpoint"], "step-000040")
        self.assertTrue(os.path.exists(os.path.join(run, "checkpoints", "best.json")), "metric loss: torch keeps best.json")
        state = ck.read(os.path.join(run, "checkpoints", "step-000040")).state
        self.assertEqual(state["training"]["schedule"]["steps"], 40)
        self.assertEqual(state["training"]["optimizer"]["updates"], 40)
        self.assertGreater(state["training"]["cpu_s"], 0)
        with open(os.path.join(run, "manifest.json")) as f:
            self.assertEqual(json.load(f)["stages"]["train_torch"]["stopped"], "max_steps")

        # Resuming goes on from the stream position, schedule and moments of step 40.
        run_train("--run", run, "--max-steps", "50", "--valid-every", "5")
        after = ck.read(os.path.join(run, "checkpoints", "step-000050")).state["training"]
        self.assertEqual(after["schedule"]["steps"], 50)
        # Carried over, not restarted from 0 (ten tiny steps may add less than the rounding).
        self.assertGreaterEqual(after["cpu_s"], state["training"]["cpu_s"], "CPU time carries over a resume")
        self.assertEqual([r["step"] for r in metrics(run) if r["kind"] == "train"], [10, 20, 30, 40, 50])

        # load/save: the module of step 50, saved again as step 51, reads back the same.
        model = mt_torch.load(run, "last", with_optimizer=True)
        self.assertEqual(model.mt["state"]["step"], 50)
        d = mt_torch.save(model, run, step=51)
        self.assertFalse(os.path.exists(os.path.join(d, "optimizer.safetensors")))
        again = mt_torch.load(run, "step-000051")
        for k, v in model.mt_state_dict().items():
            np.testing.assert_array_equal(again.mt_state_dict()[k], v)
        self.assertEqual(again.mt["state"]["training"]["step"], 51)

    def test_encode_only_trains_nothing(self):
        run = make_run(self, max_steps=4)
        run_train("--run", run, "--encode-only")
        self.assertEqual(ck.list_checkpoints(run), [])

    def test_refuses_a_checkpoint_of_another_model(self):
        run = make_run(self, max_steps=2)
        run_train("--run", run, "--valid-every", "2")
        cfg_path = os.path.join(run, "config.yaml")
        with open(cfg_path) as f:
            text = f.read()
        with open(cfg_path, "w") as f:
            f.write(text.replace("ff_size: 32", "ff_size: 48").replace("max_steps: 2", "max_steps: 4"))
        with self.assertRaisesRegex(SystemExit, "different model config"):
            run_train("--run", run)

    def test_corrupted_checkpoint_is_skipped(self):
        run = make_run(self, max_steps=4)
        run_train("--run", run, "--valid-every", "2")
        with open(os.path.join(run, "checkpoints", "step-000004", "model.safetensors"), "r+b") as f:
            f.seek(100)
            f.write(b"\xff\xff")
        self.assertTrue(ck.resolve(run, "last").endswith("step-000002"))
        with self.assertRaisesRegex(ck.CheckpointError, "corrupted"):
            ck.resolve(run, "step-000004")


if __name__ == "__main__":
    unittest.main()
