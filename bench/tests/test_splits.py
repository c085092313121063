"""The frozen test split: its definition, the options it refuses, and the dev/test table."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harmony_bench import cli, corpus, report  # noqa: E402

# Seeds that rendered training or tuning audio (bench/README.md, "Splits"): the test seed is none of them.
USED_SEEDS = {1, 2, 5}


class Splits(unittest.TestCase):
    def test_test_split_is_frozen(self):
        songs = corpus.song_list(corpus.SPLITS["test"]["set"])
        self.assertEqual(songs, list(range(2, 201, 2)))
        self.assertEqual(corpus.SPLITS["test"]["seed"], 101)
        self.assertNotIn(corpus.SPLITS["test"]["seed"], USED_SEEDS)
        self.assertEqual(corpus.SPLITS["dev"], {"set": "dev", "seed": 1})

    def test_test_split_refuses_gates_and_quick(self):
        if not corpus.corpus_present(cli.paths.shared_dir()):
            self.skipTest("../shared absent: bench/run exits 0 before looking at the options")
        for extra in (["--quick"], ["--quick", "--check-baseline"], ["--update-baseline", "--quick"]):
            self.assertEqual(cli.main(["--split", "test"] + extra), 2, extra)

    def test_comparison_rows(self):
        def rows(seed, songs, acc1):
            return [{"tool": "harmony", "set": "corpus", "track": "pop909-%03d-s%d-r0" % (s, seed), "status": "ok",
                     "scores": {"acc1": a}} for s, a in zip(songs, acc1)]
        tools = [{"name": "harmony", "available": True}]
        dev = {"meta": {"git": {"commit": "0" * 40}},
               "suites": {"rhythm": {"tools": tools, "results": rows(1, [1, 2, 3, 4], [0, 1, 1, 0])}}}
        here = {"meta": {"split": "test", "set": "test", "git": {"commit": "1" * 40}},
                "suites": {"rhythm": {"tools": tools, "results": rows(101, [2, 4], [1, 1])}}}
        old = report._load_results
        report._load_results = lambda path: dev
        try:
            lines = report.split_comparison(here)
        finally:
            report._load_results = old
        table = [ln for ln in lines if ln.startswith("| harmony")]
        self.assertEqual(len(table), 3)
        self.assertIn("| 4 | 0.500 |", table[0])  # dev, all songs
        self.assertIn("| 2 | 0.500 |", table[1])  # dev, only the test songs (2 and 4)
        self.assertIn("reported, never tuned on", table[2])
        self.assertIn("| 2 | 1.000 |", table[2])


if __name__ == "__main__":
    unittest.main()
