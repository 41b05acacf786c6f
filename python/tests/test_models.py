import itertools
import unittest

import numpy as np
import torch

import mt_torch
from mt_torch.convert import to_mt, to_torch
from tests.helpers import rand

RNN = {"emb_size": 6, "hidden_size": 8, "dropout": 0.3}
VARIANTS = [
    {"type": "seq2seq", "cell": "gru", **RNN, "bidirectional": False},
    {"type": "seq2seq", "cell": "lstm", **RNN, "layers": 2, "context_every_step": True, "tie_embeddings": True},
    {"type": "attention", "cell": "gru", **RNN, "attention": "bahdanau"},
    {"type": "attention", "cell": "lstm", **RNN, "attention": "luong_dot", "input_feeding": False, "bidirectional": False},
    {"type": "attention", "cell": "gru", **RNN, "layers": 2, "attention": "luong_general", "tie_embeddings": True},
    {"type": "attention", "cell": "lstm", **RNN, "attention": "luong_scaled_dot"},
    {"type": "transformer", "d_model": 8, "heads": 2, "ff_size": 16, "encoder_layers": 2, "decoder_layers": 2, "max_positions": 32},
    {"type": "transformer", "d_model": 8, "heads": 2, "ff_size": 16, "encoder_layers": 1, "decoder_layers": 1, "norm": "post",
     "positions": "learned", "tie_embeddings": False, "max_positions": 32},
]


def random_model(cfg, seed=0, src_vocab=13, tgt_vocab=11):
    m = mt_torch.build(cfg, src_vocab, tgt_vocab)
    weights = {k: rand(v.shape, seed + i) + (1 if k.endswith("/gain") else 0) for i, (k, v) in enumerate(sorted(m.mt_state_dict().items()))}
    m.load_mt_state_dict(weights)
    return m.eval(), weights


def batch(seed=0, B=3, S=6, T=5, src_vocab=13, tgt_vocab=11):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(4, src_vocab, (B, S), generator=g)
    lengths = [S] + [int(x) for x in torch.randint(1, S + 1, (B - 1,), generator=g)]
    mask = torch.zeros(B, S)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
        src[i, n:] = 0
    tgt_in = torch.randint(4, tgt_vocab, (B, T), generator=g)
    tgt_in[:, 0] = 2
    return src, mask, tgt_in


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def mt_cell(kind, w, prefix, x, h, c):
    """mt's RnnCell.step (src/models/common/rnn.ts) on mt-layout weights, in numpy."""
    H = h.shape[1]
    xp = x @ w[f"{prefix}/input_kernel"] + w[f"{prefix}/bias"]
    hp = h @ w[f"{prefix}/recurrent_kernel"]
    if kind == "gru":
        hp = hp + w[f"{prefix}/recurrent_bias"]
        r, z = np.split(sigmoid(xp[:, :2 * H] + hp[:, :2 * H]), 2, 1)
        n = np.tanh(xp[:, 2 * H:] + r * hp[:, 2 * H:])
        return n + z * (h - n), None
    i, f, o = np.split(sigmoid((xp + hp)[:, :3 * H]), 3, 1)
    c = f * c + i * np.tanh((xp + hp)[:, 3 * H:])
    return o * np.tanh(c), c


class ModelsTest(unittest.TestCase):
    def test_weights_round_trip_bit_identical(self):
        for cfg in VARIANTS:
            m, weights = random_model(cfg)
            back = m.mt_state_dict()
            self.assertEqual(sorted(back), sorted(weights), cfg)
            for k, v in weights.items():
                self.assertEqual(back[k].tobytes(), v.tobytes(), f"{cfg['type']} {k}")

    def test_optimizer_moments_round_trip(self):
        for cfg in VARIANTS[:2] + VARIANTS[-1:]:
            m, weights = random_model(cfg)
            moments = {f"{p}/{k}": rand(v.shape, 99 + i) for i, (k, v) in enumerate(sorted(weights.items())) for p in ("m", "v")}
            opt = mt_torch.make_optimizer(m, {"optimizer": "adamw", "learning_rate": 1e-3, "betas": [0.9, 0.98], "weight_decay": 0.01})
            mt_torch.load_optimizer_state(opt, m, moments, 17)
            back, updates = mt_torch.optimizer_moments(opt, m)
            self.assertEqual(updates, 17)
            self.assertEqual(sorted(back), sorted(moments))
            for k, v in moments.items():
                self.assertEqual(back[k].tobytes(), v.tobytes(), k)

    def test_encoder_is_mts_recurrence(self):
        """Gate order, transposes, bridges and padding: torch's nn.GRU/LSTM against mt's cell equations."""
        for cell, bi in itertools.product(("gru", "lstm"), (False, True)):
            cfg = {"type": "attention", "cell": cell, **RNN, "layers": 2, "bidirectional": bi}
            m, w = random_model(cfg, seed=5)
            src, mask, _ = batch(seed=1)
            memory, states = m.encoder(src, mask)
            H = 8
            x = w["encoder/embedding/table"][src.numpy()]
            lengths = mask.sum(1).int().tolist()
            for layer in range(2):
                dirs = ("forward", "backward") if bi else ("forward",)
                outs, finals = [], []
                for d in dirs:
                    size = H // 2 if bi else H
                    prefix = f"encoder/layer{layer}/{d}/{cell}"
                    h = np.zeros((3, size), np.float32)
                    c = np.zeros((3, size), np.float32)
                    out = np.zeros((3, x.shape[1], size), np.float32)
                    steps = range(x.shape[1]) if d == "forward" else reversed(range(x.shape[1]))
                    for t in steps:
                        nh, nc = mt_cell(cell, w, prefix, x[:, t], h, c)
                        keep = (mask[:, t].numpy() > 0)[:, None]
                        h = np.where(keep, nh, h)
                        c = np.where(keep, nc, c) if nc is not None else c
                        out[:, t] = h
                    outs.append(out)
                    finals.append((h, c))
                x = np.concatenate(outs, 2)
                if bi:
                    hb = np.tanh(np.concatenate([finals[0][0], finals[1][0]], 1) @ w[f"encoder/layer{layer}/bridge_h/weight"] + w[f"encoder/layer{layer}/bridge_h/bias"])
                else:
                    hb = finals[0][0]
                np.testing.assert_allclose(states[layer][0].detach().numpy(), hb, atol=1e-5, err_msg=f"{cell} bi={bi} layer {layer} h")
                if cell == "lstm":
                    cb = (np.tanh(np.concatenate([finals[0][1], finals[1][1]], 1) @ w[f"encoder/layer{layer}/bridge_c/weight"]
                                  + w[f"encoder/layer{layer}/bridge_c/bias"]) if bi else finals[0][1])
                    np.testing.assert_allclose(states[layer][1].detach().numpy(), cb, atol=1e-5)
            got = memory.detach().numpy()
            for i, n in enumerate(lengths):  # padded positions are "don't care" in mt
                np.testing.assert_allclose(got[i, :n], x[i, :n], atol=1e-5, err_msg=f"{cell} bi={bi} memory")

    def test_steps_equal_teacher_forcing_and_padding_is_invisible(self):
        for cfg in VARIANTS:
            m, _ = random_model(cfg, seed=3)
            src, mask, tgt_in = batch(seed=2)
            with torch.no_grad():
                full = m(src, mask, tgt_in)
                padded = m(torch.cat([src, torch.zeros(3, 2, dtype=torch.long)], 1), torch.cat([mask, torch.zeros(3, 2)], 1), tgt_in)
                torch.testing.assert_close(padded, full, atol=1e-5, rtol=0)
                enc = m.encode(src, mask)
                state = m.init_state(enc)
                for t in range(tgt_in.shape[1]):
                    logits, state = m.step(enc, state, tgt_in[:, t], t)
                    torch.testing.assert_close(logits, full[:, t], atol=1e-5, rtol=0, msg=f"{cfg} step {t}")

    def test_mt_initialisation(self):
        m = mt_torch.build(VARIANTS[2], 500, 400)
        torch.manual_seed(0)
        m.reset_parameters_like_mt()
        w = m.mt_state_dict()
        self.assertAlmostEqual(float(w["decoder/embedding/table"].std()), 0.88, delta=0.05)  # N(0, 1) cut at 2σ
        self.assertLessEqual(float(np.abs(w["decoder/embedding/table"]).max()), 2.0)
        self.assertEqual(float(np.abs(w["decoder/attentional/bias"]).max()), 0.0)
        limit = np.sqrt(6 / (16 + 8))
        self.assertLessEqual(float(np.abs(w["decoder/attentional/weight"]).max()), limit)
        self.assertTrue(all(not p.requires_grad for n, p in mt_torch.build(VARIANTS[1], 5, 5).named_parameters() if "bias_hh" in n))

    def test_wrong_weights_are_named(self):
        m, weights = random_model(VARIANTS[0])
        with self.assertRaisesRegex(ValueError, "has no weights for decoder/embedding/table"):
            m.load_mt_state_dict({k: v for k, v in weights.items() if k != "decoder/embedding/table"})
        with self.assertRaisesRegex(ValueError, "has weights extra/x"):
            m.load_mt_state_dict({**weights, "extra/x": np.zeros(1, np.float32)})
        self.assertEqual(to_mt(m.cfg, {}), {})
        self.assertEqual(set(to_torch(m.cfg, {k: torch.from_numpy(v) for k, v in weights.items()})), {n for n, _ in m.named_parameters()})


if __name__ == "__main__":
    unittest.main()
