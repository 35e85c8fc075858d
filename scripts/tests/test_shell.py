"""Offline tests of shell helpers in scripts/lib.sh, on canned input."""
import os
import subprocess
import tempfile
import unittest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def lib(script, stdin=""):
    """Run SCRIPT in bash with scripts/lib.sh sourced, a scratch cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "UFFDWP_CACHE": cache}
        return subprocess.run(
            ["/bin/bash", "-c",
             "set -euo pipefail; . scripts/lib.sh; " + script],
            cwd=TOP, env=env, input=stdin, capture_output=True, text=True,
            check=False)


README = """intro
<!-- check-fresh: setup -->
```sh
apt-get install git
```
<!-- check-fresh: commands -->
```sh
make
make check
```
```sh
not this one
```
"""


class ReadmeBlock(unittest.TestCase):
    def test_blocks(self):
        r = lib("readme_block check-fresh setup", README)
        self.assertEqual((r.returncode, r.stdout), (0, "apt-get install git\n"))
        r = lib("readme_block check-fresh commands", README)
        self.assertEqual((r.returncode, r.stdout), (0, "make\nmake check\n"))

    def test_missing_block_is_empty(self):
        r = lib("readme_block check-fresh nosuch", README)
        self.assertEqual((r.returncode, r.stdout), (0, ""))

    def test_reads_to_the_end_of_a_pipe(self):
        # A writer still writing after the block must not get SIGPIPE
        # (check-fresh.sh feeds it from git show under pipefail).
        r = lib("{ cat; head -c 4000000 /dev/zero | tr '\\0' x; echo; } | "
                "readme_block check-fresh setup", README)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (0, "apt-get install git\n", ""))


class WarningLines(unittest.TestCase):
    def test_paths_and_line_numbers_go(self):
        log = ("  CC      mm/hugetlb.o\n"
               "/root/.cache/uffd-continue-wp/check/mm/hugetlb.c:6401:13: "
               "warning: unused variable 'x' [-Wunused-variable]\n"
               "../mm/shmem.c:12: warning: context imbalance\n"
               "/root/.cache/uffd-continue-wp/check/mm/hugetlb.c:7:1: "
               "warning: unused variable 'x' [-Wunused-variable]\n")
        with tempfile.NamedTemporaryFile("w", suffix=".log") as f:
            f.write(log)
            f.flush()
            r = lib('warning_lines "$0"'.replace('"$0"', "'" + f.name + "'"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout,
                         "mm/hugetlb.c: warning: unused variable 'x' "
                         "[-Wunused-variable]\n"
                         "mm/shmem.c: warning: context imbalance\n")


class SeriesStable(unittest.TestCase):
    def test_sections(self):
        with tempfile.TemporaryDirectory() as top:
            os.mkdir(os.path.join(top, "patches"))
            with open(os.path.join(top, "patches", "series"), "w") as f:
                f.write("# Apply in this order.\n"
                        "# Stable material: fixes.\n"
                        "0001-a.patch\n0002-b.patch  # note\n"
                        "# The feature.\n0003-c.patch\n")
            r = lib('TOP="$1"; series_stable; echo --; series_patches'
                    .replace('"$1"', "'" + top + "'"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, "0001-a.patch\n0002-b.patch\n--\n"
                             "0001-a.patch\n0002-b.patch\n0003-c.patch\n")


if __name__ == "__main__":
    unittest.main()
