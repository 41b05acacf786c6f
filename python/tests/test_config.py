import os
import tempfile
import unittest

from mt_torch import config
from tests.helpers import CONFIG, TRANSFORMER

TEXT = CONFIG.format(model=TRANSFORMER, schedule="noam", max_steps=5) + """extra:
  quoted: "a: b # not a comment"
  single: 'it''s'
  empty_list: []
  flow: [1, 2.5, x]
  nested:
    - a: 1
      b:
        - 2
        - 3
    - plain
  none: null
"""


class ConfigTest(unittest.TestCase):
    def test_own_reader_matches_pyyaml(self):
        ours = config.parse_yaml(TEXT)
        self.assertEqual(ours["train"]["schedule"]["min_learning_rate"], 1e-7)
        self.assertEqual(ours["train"]["betas"], [0.9, 0.98])
        self.assertEqual(ours["data"]["train"], [{"src": "/nowhere/unused.src", "tgt": "/nowhere/unused.tgt"}])
        self.assertEqual(ours["extra"]["quoted"], "a: b # not a comment")
        self.assertEqual(ours["extra"]["single"], "it's")
        self.assertEqual(ours["extra"]["nested"], [{"a": 1, "b": [2, 3]}, "plain"])
        self.assertIsNone(ours["extra"]["none"])
        if config._yaml is None:
            self.skipTest("PyYAML not installed")
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(TEXT)
        try:
            self.assertEqual(config.read_yaml(f.name), ours)
        finally:
            os.unlink(f.name)

    def test_model_defaults_and_checks(self):
        cfg = config.model_config({"type": "attention", "hidden_size": 8})
        self.assertEqual((cfg["attention"], cfg["input_feeding"], cfg["cell"]), ("bahdanau", True, "gru"))
        with self.assertRaisesRegex(ValueError, "divisible"):
            config.model_config({"type": "transformer", "d_model": 10, "heads": 3})
        with self.assertRaisesRegex(ValueError, "unknown keys"):
            config.model_config({"type": "seq2seq", "attention": "bahdanau"})


if __name__ == "__main__":
    unittest.main()
