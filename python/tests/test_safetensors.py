import json
import struct
import unittest

import numpy as np

from mt_torch import safetensors


class SafetensorsTest(unittest.TestCase):
    def test_round_trip_and_layout(self):
        tensors = {"b/w": np.arange(6, dtype=np.float32).reshape(2, 3), "a": np.array([1, -2], dtype=np.int32)}
        raw = safetensors.encode(tensors, {"step": "5"})
        n = struct.unpack("<Q", raw[:8])[0]
        self.assertEqual(n % 8, 0, "data 8-byte aligned")
        header = json.loads(raw[8:8 + n])
        self.assertEqual(list(header), ["__metadata__", "a", "b/w"], "metadata first, names sorted")
        self.assertEqual(header["b/w"], {"dtype": "F32", "shape": [2, 3], "data_offsets": [8, 32]})
        back, meta = safetensors.decode(raw)
        self.assertEqual(meta, {"step": "5"})
        for k, v in tensors.items():
            self.assertEqual(back[k].dtype, v.dtype)
            np.testing.assert_array_equal(back[k], v)
        self.assertEqual(safetensors.encode(back, meta), raw, "re-encoding is byte-identical")

    def test_malformed(self):
        with self.assertRaisesRegex(safetensors.SafetensorsError, "too short"):
            safetensors.decode(b"abc")
        with self.assertRaisesRegex(safetensors.SafetensorsError, "exceeds"):
            safetensors.decode(struct.pack("<Q", 100) + b"{}")
        bad = json.dumps({"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}).encode()
        with self.assertRaisesRegex(safetensors.SafetensorsError, "do not fit"):
            safetensors.decode(struct.pack("<Q", len(bad)) + bad + b"\0" * 8)


if __name__ == "__main__":
    unittest.main()
