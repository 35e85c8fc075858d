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


class MutantIsDebug(unittest.TestCase):
    def test_kernel_header(self):
        """Only a patch with "Kernel: debug" asks for the debug kernel."""
        self.assertEqual(lib("mutant_is_debug extra-put-continue").returncode, 0)
        self.assertNotEqual(lib("mutant_is_debug dontwake-ignored").returncode, 0)
        self.assertNotEqual(lib("mutant_is_debug no-such-mutant").returncode, 0)


LDD = """\tlinux-vdso.so.1 (0x00007ffd3a5f2000)
\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f32878f5000)
\tlibEGL.so.1 => /lib/x86_64-linux-gnu/libEGL.so.1 (0x00007f32878df000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f3286a1e000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f3288b35000)
"""


class GuestTools(unittest.TestCase):
    def test_lines(self):
        """Comments and blank lines go; each program is NAME PACKAGE PATH."""
        canned = "# a comment\n\nstress-ng\tstress-ng\t/usr/bin/stress-ng\ntrinity  trinity  /usr/bin/trinity\n"
        with tempfile.NamedTemporaryFile("w", suffix=".tools") as f:
            f.write(canned)
            f.flush()
            r = lib(f"guest_tools {f.name}")
        self.assertEqual((r.returncode, r.stdout), (0, "stress-ng stress-ng /usr/bin/stress-ng\ntrinity trinity /usr/bin/trinity\n"))

    def test_bad_line_fails(self):
        """A line that is not three words fails, and is named."""
        with tempfile.NamedTemporaryFile("w", suffix=".tools") as f:
            f.write("stress-ng stress-ng /usr/bin/stress-ng\ntrinity /usr/bin/trinity\n")
            f.flush()
            r = lib(f"guest_tools {f.name}")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("line 2", r.stderr)

    def test_repository_list(self):
        """guest/tools itself parses."""
        self.assertEqual(lib('guest_tools "$TOP/guest/tools"').returncode, 0)


class LddPaths(unittest.TestCase):
    def test_libraries_and_loader(self):
        """Every library with its path, and the loader; not the vDSO."""
        r = lib("ldd_paths", LDD)
        self.assertEqual((r.returncode, r.stdout.split()), (0, [
            "/lib/x86_64-linux-gnu/libm.so.6",
            "/lib/x86_64-linux-gnu/libEGL.so.1",
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/lib64/ld-linux-x86-64.so.2"]))

    def test_missing_library_fails(self):
        """A library ldd did not find fails, and is named."""
        r = lib("ldd_paths", LDD + "\tlibJudy.so.1 => not found\n")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("libJudy.so.1", r.stderr)


class DurationSecs(unittest.TestCase):
    def test_forms(self):
        for text, secs in (("90", "90"), ("90s", "90"), ("30m", "1800"), ("2h", "7200")):
            r = lib(f"duration_secs {text}")
            self.assertEqual((r.returncode, r.stdout), (0, secs + "\n"), text)

    def test_refused(self):
        for text in ("", "0", "3h", "7201", "m", "1.5h", "10x", "-5"):
            self.assertNotEqual(lib(f"duration_secs '{text}'").returncode, 0, text)


# One line of each report the debug kernel's options print (as 6.1 words
# them), and lines of a clean debug boot that must not count.
SPLATS = {
    "KASAN": "BUG: KASAN: use-after-free in hugetlb_mfill_atomic_pte+0x8d1/0x9a0",
    "KFENCE": "BUG: KFENCE: use-after-free read in shmem_fault+0x40/0x2a0",
    "lockdep cycle": "WARNING: possible circular locking dependency detected",
    "lockdep recursion": "WARNING: possible recursive locking detected",
    "lockdep state": "WARNING: inconsistent lock state",
    "RCU": "WARNING: suspicious RCU usage",
    "bad page": "BUG: Bad page state in process uffd-stress  pfn:0a3c1",
    "bad page map": "BUG: Bad page map in process uffd-stress  pte:8000000012345067 pmd:1234067",
    "bad rss": "BUG: Bad rss-counter state mm:00000000a1b2c3d4 type:MM_SHMEMPAGES val:-1",
    "VM_BUG_ON": "page dumped because: VM_BUG_ON_FOLIO(!folio_test_locked(folio))",
    "page_table_check": "kernel BUG at mm/page_table_check.c:73!",
    "DEBUG_LIST add": "list_add corruption. prev->next should be next (ffff888003c0a0c8), but was 0000000000000000.",
    "DEBUG_LIST del": "list_del corruption, ffff888003c0a0c8->next is LIST_POISON1 (dead000000000100)",
    "atomic sleep": "BUG: sleeping function called from invalid context at mm/hugetlb.c:6315",
    "scheduling while atomic": "BUG: scheduling while atomic: uffd-stress/123/0x00000002",
    "UBSAN": "UBSAN: shift-out-of-bounds in mm/userfaultfd.c:100:5",
    "warning": "WARNING: CPU: 1 PID: 123 at mm/userfaultfd.c:120 mfill_atomic+0x1/0x2",
    "oops": "Oops: 0000 [#1] PREEMPT SMP KASAN",
    "stall": "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:",
}
CLEAN_DEBUG_BOOT = """kasan: KernelAddressSanitizer initialized
rcu: \tRCU lockdep checking is enabled.
Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar
... MAX_LOCKDEP_KEYS:        8192
 memory used by lock dependency info: 6493 kB
uffdwp: [3/8] uffd-bug: echo 'BUG: not a kernel line'
"""


class KernelSplat(unittest.TestCase):
    def first(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".log") as f:
            f.write(text)
            f.flush()
            r = lib(f'console_first "$KERNEL_SPLAT" {f.name}')
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_each_kind_is_caught(self):
        for kind, line in SPLATS.items():
            with self.subTest(kind=kind):
                self.assertEqual(self.first(CLEAN_DEBUG_BOOT + f"[   12.345678] {line}\n"),
                                 f"7:[   12.345678] {line}\n")

    def test_clean_debug_boot(self):
        self.assertEqual(self.first(CLEAN_DEBUG_BOOT), "")


if __name__ == "__main__":
    unittest.main()
