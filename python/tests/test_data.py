import unittest

from mt_torch import data as D


def pairs():
    return [([5] * (1 + (i * 7) % 13), [6] * (1 + (i * 5) % 11)) for i in range(300)]


class DataTest(unittest.TestCase):
    """Expected values computed by mt (src/util/random.ts, src/train/batching.ts)."""

    def test_sfc32_is_mts(self):
        r = D.Sfc32.from_seed(1234)
        self.assertEqual(r.state(), [3160558255, 714450744, 1389365533, 4171268921])
        self.assertEqual([r.uint32(), r.uint32(), r.uint32()], [3751310624, 208782122, 4280206736])
        self.assertEqual(r.int(1000), 543)
        self.assertEqual(r.state(), [1964578392, 3968046717, 2244600574, 4171268925])

    def test_batches_are_mts(self):
        b = D.plan_epoch(pairs(), 40, 2, D.Sfc32.from_seed(7))
        self.assertEqual(len(b), 150)
        self.assertEqual(b[:5], [[51, 40], [162, 19], [103, 92], [70, 213], [88, 33]])
        self.assertEqual(b[-1], [271, 93])
        self.assertEqual(D.plan_in_order(pairs(), 40, 2)[:3], [[0, 143], [286, 132], [275, 121]])

    def test_stream_position_resumes(self):
        s = D.BatchStream.from_seed(pairs(), 40, 2, 9)
        for _ in range(200):
            s.next()
        pos = s.position()
        self.assertEqual(pos, {"epoch": 2, "batch": 50, "rng": [1892641789, 391492365, 1934232749, 482444158]})
        again = D.BatchStream(pairs(), 40, 2, pos)
        self.assertEqual(s.next(), ([234, 91], 2))
        self.assertEqual(again.next(), ([234, 91], 2))

    def test_make_batch_and_filter(self):
        kept = D.filter_pairs([[4, 5], [], [4] * 9], [[6], [7], [8]], max_len=8)
        self.assertEqual(kept, [([4, 5], [6])])
        src, mask, tgt_in, tgt_out, tgt_mask = D.make_batch([([4, 5], [6]), ([7], [8, 9])], [0, 1], 0, 0, 2, 3)
        self.assertEqual(src.tolist(), [[4, 5], [7, 0]])
        self.assertEqual(mask.tolist(), [[1, 1], [1, 0]])
        self.assertEqual(tgt_in.tolist(), [[2, 6, 0], [2, 8, 9]])
        self.assertEqual(tgt_out.tolist(), [[6, 3, 0], [8, 9, 3]])
        self.assertEqual(tgt_mask.tolist(), [[1, 1, 0], [1, 1, 1]])


if __name__ == "__main__":
    unittest.main()
