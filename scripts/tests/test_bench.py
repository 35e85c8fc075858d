"""Offline tests of scripts/bench.py on canned benchmark output."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bench  # noqa: E402  (needs the path above)
import ktap  # noqa: E402

RUN = """KTAP version 1
1..1
# uffd-bench: cmd: uffd-bench
  TAP version 13
  # mode: UFFDIO_CONTINUE_MODE_WP known; quick 0; clocksource {clock}
  # csv: shmem,ioctl,plain,8,1,median,100.0
  # csv: shmem,ioctl,plain,8,1,p10,90.0
  # csv: shmem,ioctl,plain,8,1,p90,110.0
  # csv: shmem,ioctl,one,8,1,median,104.0
  # csv: shmem,ioctl-ratio,one/plain,8,1,median,1.04
  # csv: shmem,ioctl-ratio,one/plain,8,1,p10,1.01
  # csv: shmem,ioctl-ratio,one/plain,8,1,p90,1.07
  {result} 1 shmem ioctl batch 8
  # csv: shmem,scaling,one,1,2,per_sec,5000
  ok 2 shmem scaling one threads 2
  1..2
{result} 1 uffd-bench
# uffdwp: run complete
"""


def rows_of(result="ok", clock="tsc"):
    return bench.bench_rows(ktap.parse(RUN.format(result=result, clock=clock)), "patched")


class BenchTest(unittest.TestCase):
    def test_rows(self):
        rows = rows_of()
        self.assertEqual(len(rows), 8)
        self.assertEqual(rows[0], {"memory": "shmem", "test": "ioctl", "strategy": "plain",
                                   "batch": "8", "threads": "1", "stat": "median",
                                   "value": 100.0, "kernel": "patched"})

    def test_failed_group(self):
        """A group that failed its own checks makes the whole run fail."""
        with self.assertRaisesRegex(ktap.Fatal, "shmem ioctl batch 8"):
            rows_of("not ok")

    def test_coarse_clock(self):
        """Figures timed with a jiffies clocksource are refused."""
        with self.assertRaisesRegex(ktap.Fatal, "too coarse.*tsc=reliable"):
            rows_of(clock="refined-jiffies")

    def test_not_run(self):
        with self.assertRaisesRegex(ktap.Fatal, "did not run"):
            bench.bench_rows(ktap.parse("KTAP version 1\n1..0\n"), "patched")

    def test_tables(self):
        text = bench.tables(rows_of(), ["patched"])
        self.assertIn("| shmem | 8 | 1.04 (1.01-1.07) | - |", text)
        self.assertIn("| shmem | 8 | plain | 100 (90-110) |", text)
        self.assertIn("| shmem | 2 | 5000 (one) |", text)

    def test_files(self):
        with tempfile.TemporaryDirectory() as tmp:
            os.makedirs(f"{tmp}/patched")
            with open(f"{tmp}/patched/results.ktap", "w", encoding="utf-8") as f:
                f.write(RUN.format(result="ok", clock="tsc"))
            self.assertEqual(bench.main([f"{tmp}/out", f"{tmp}/patched"]), 0)
            with open(f"{tmp}/out/ioctl.dat", encoding="utf-8") as f:
                self.assertEqual(f.read().split("\n")[:2],
                                 ["# shmem: batch patched:plain patched:one", "8 100.0 104.0"])
            self.assertTrue(os.path.exists(f"{tmp}/out/bench.gp"))


if __name__ == "__main__":
    unittest.main()
