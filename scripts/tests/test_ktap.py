#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Offline tests of scripts/ktap.py: its parser on KTAP text, and its three
reports on the canned guest results in data/ (see data/README).

Run from the top of the repository with either of
    python3 -m unittest discover -s scripts/tests
    python3 scripts/tests/test_ktap.py
(scripts/tests/run.sh does the first). Nothing here boots a guest.
"""

import io
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in scripts/
TESTS = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.dirname(TESTS)
TOP = os.path.dirname(SCRIPTS)
DATA = os.path.join(TESTS, "data")
sys.path.insert(0, SCRIPTS)
import ktap  # noqa: E402  (needs the path above)

RUN_ID = "20261122T091500Z-4242"
KERNELS = ("patched", "debian-6.1", "debian-6.12")


def dirs(scenario, *kernels):
    """The result directories (relative to data/) of SCENARIO's KERNELS,
    all three by default."""
    return [f"{scenario}/{k}" for k in kernels or KERNELS]


def run(program, *args):
    """(exit status, stdout, stderr) of PROGRAM ARGS run in data/; PROGRAM
    is ktap.py (run with this Python) or a wrapper script in scripts/."""
    path = os.path.join(SCRIPTS, program)
    argv = [sys.executable, path] if program.endswith(".py") else ["bash", path]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(argv + list(args), cwd=DATA, capture_output=True, env=env, check=False)
    return (proc.returncode, proc.stdout.decode("utf-8", "surrogateescape"),
            proc.stderr.decode("utf-8", "surrogateescape"))


def expected(name):
    """The text of the expected output data/NAME."""
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read().decode("utf-8", "surrogateescape")


def parse(text):
    """ktap.parse() of TEXT given as an indented block (dedented here)."""
    lines = text.strip("\n").split("\n")
    margin = min(len(line) - len(line.lstrip(" ")) for line in lines if line.strip())
    return ktap.parse("".join(line[margin:] + "\n" for line in lines))


class ScenarioTest(unittest.TestCase):
    """Base of the tests that run a report on canned results."""

    maxDiff = None

    def check(self, args, stdout, status, stderr="", program="ktap.py"):
        """PROGRAM ARGS must print the file data/STDOUT (None: nothing),
        exit with STATUS and print STDERR on stderr; its stdout is returned."""
        rc, out, err = run(program, *args)
        self.assertEqual(out, expected(stdout) if stdout else "")
        self.assertEqual(err, stderr)
        self.assertEqual(rc, status)
        return out


# --- the parser --------------------------------------------------------------


MUTANT_PATCH = """Plants: something.
Expect-fail: continue_wp.*.dontwake_wp
Expect-fail: minor-wp on shmem

diff --git a/fs/userfaultfd.c b/fs/userfaultfd.c
Expect-fail: not a header line
"""

MUTANT_RUN = """KTAP version 1
1..2
# uffd-continue-wp: cmd: uffd-continue-wp
  TAP version 13
  1..3
  #            OK  continue_wp.shmem.dontwake
  ok 1 continue_wp.shmem.dontwake
  #          FAIL  continue_wp.shmem.dontwake_wp
  not ok 2 continue_wp.shmem.dontwake_wp
  #          {hugetlb}  continue_wp.hugetlb.dontwake_wp
  {hugetlb_line}
not ok 1 uffd-continue-wp
# uffd-unit-minor: cmd: uffd-unit-ktap -f minor uffd-unit-tests
  # minor-wp on shmem: 0.10s
  not ok 1 minor-wp on shmem # ERROR: pagemap uffd-wp bit error: 0x8100000000000000
  1..1
not ok 2 uffd-unit-minor
# uffdwp: run complete
"""


class MutantTest(unittest.TestCase):
    """ktap.py mutant: the planted bug must make its expected cases fail."""

    def check(self, hugetlb, hugetlb_line):
        with tempfile.TemporaryDirectory() as tmp:
            with open(f"{tmp}/m.patch", "w", encoding="utf-8") as f:
                f.write(MUTANT_PATCH)
            with open(f"{tmp}/results.ktap", "w", encoding="utf-8") as f:
                f.write(MUTANT_RUN.format(hugetlb=hugetlb, hugetlb_line=hugetlb_line))
            out = io.StringIO()
            try:
                return ktap.mutant(f"{tmp}/m.patch", tmp, None, out), out.getvalue()
            except ktap.Fatal as e:
                return str(e), out.getvalue()

    def test_headers(self):
        self.assertEqual(ktap.expected_failures(MUTANT_PATCH),
                         ["continue_wp.*.dontwake_wp", "minor-wp on shmem"])

    def test_caught(self):
        status, out = self.check("FAIL", "not ok 3 continue_wp.hugetlb.dontwake_wp")
        self.assertEqual(status, 0)
        self.assertIn("continue_wp.*.dontwake_wp                2 of 2 case(s) fail", out)

    def test_one_passes(self):
        status, out = self.check("OK", "ok 3 continue_wp.hugetlb.dontwake_wp")
        self.assertIn("did not catch m.patch", status)
        self.assertIn("continue_wp.hugetlb.dontwake_wp: PASS, want FAIL", out)

    def test_splat(self):
        """Expect-splat: the run's status must name the kernel report."""
        patch = "Plants: x.\nExpect-splat: ^kernel (splat|panic)\n\ndiff --git a/x b/x\n"
        for status, want in (("kernel splat in the console: BUG: Bad page state\n", 0),
                             ("", "did not catch")):
            with tempfile.TemporaryDirectory() as tmp:
                with open(f"{tmp}/m.patch", "w", encoding="utf-8") as f:
                    f.write(patch)
                if status:
                    with open(f"{tmp}/status", "w", encoding="utf-8") as f:
                        f.write(status)
                out = io.StringIO()
                try:
                    got = ktap.mutant(f"{tmp}/m.patch", tmp, None, out)
                except ktap.Fatal as e:
                    got = str(e)
                if want == 0:
                    self.assertEqual(got, 0)
                    self.assertIn("seen: kernel splat in the console: BUG: Bad page state",
                                  out.getvalue())
                else:
                    self.assertIn(want, got)

    def test_other_tests_cases(self):
        """A stress test's scenarios count as TEST/CASE."""
        run = parse("""
            # uffd-stress: cmd: uffd-stress -t 60
              TAP version 13
              1..2
              ok 1 shmem
              not ok 2 hugetlb
            not ok 1 uffd-stress
        """)
        self.assertEqual(ktap.all_cases(run, {}), {"uffd-stress/shmem": ktap.Case("PASS"),
                                               "uffd-stress/hugetlb": ktap.Case("FAIL")})

    def test_skip_is_not_caught(self):
        status, out = self.check("OK", "ok 3 # SKIP kernel lacks UFFDIO_CONTINUE_MODE_WP")
        self.assertIn("did not catch", status)
        self.assertIn("continue_wp.hugetlb.dontwake_wp: SKIP (kernel lacks "
                      "UFFDIO_CONTINUE_MODE_WP), want no skip", out)


class ParseTest(unittest.TestCase):
    """ktap.parse() and the data model, on KTAP given as strings."""

    def test_results(self):
        """Each result line is a Test with number, name, result, directive."""
        run = parse("""
            KTAP version 1
            1..4
            ok 1 uffd-anon
            not ok 2 uffd-shmem # exit=1
            ok 3 uffd-hugetlb # SKIP no huge pages
            not ok 4 uffd-hugetlb-shared # TIMEOUT 300 seconds
        """)
        self.assertEqual(run.version, "KTAP version 1")
        self.assertEqual(run.plan, 4)
        got = [(t.number, t.name, t.ok, t.result, t.directive, t.reason) for t in run.tests]
        self.assertEqual(got, [
            (1, "uffd-anon", True, "PASS", "", ""),
            (2, "uffd-shmem", False, "FAIL", "exit=1", "exit=1"),
            (3, "uffd-hugetlb", True, "SKIP", "SKIP no huge pages", "no huge pages"),
            (4, "uffd-hugetlb-shared", False, "FAIL", "TIMEOUT 300 seconds", "TIMEOUT 300 seconds"),
        ])
        self.assertIsNone(run.unfinished)

    def test_skip_directive(self):
        """Only "ok ... # SKIP [REASON]" skips; a "not ok" is a failure."""
        run = parse("""
            ok 1 a # SKIP
            ok 2 b # SKIP   feature missing
            not ok 3 c # SKIP feature missing
            ok 4 d # TODO later
        """)
        got = [(t.result, t.reason) for t in run.tests]
        self.assertEqual(got, [("SKIP", ""), ("SKIP", "feature missing"),
                               ("FAIL", "SKIP feature missing"), ("PASS", "TODO later")])

    def test_guest_diagnostics(self):
        """guest/init's cmd, stderr and time lines belong to the next result."""
        run = parse("""
            # uffdwp: suites: selftests
            1..2
            # uffd-anon: cmd: retry-on-6.12 userfaultfd anon 16 16
            # uffd-anon: stderr: ERROR: UFFDIO_COPY error: -2 (errno=2, line=421)
            # uffd-anon: time: 9.84
            not ok 1 uffd-anon # exit=1
            not ok 2 uffd-shmem # bad suite line: no command
            # uffdwp: run complete
        """)
        anon, shmem = run.tests
        self.assertEqual(anon.time, "9.84")
        self.assertEqual(anon.stderr, "ERROR: UFFDIO_COPY error: -2 (errno=2, line=421)")
        self.assertEqual(ktap.commands(anon),
                         [("uffd-anon", "retry-on-6.12 userfaultfd anon 16 16")])
        self.assertEqual((shmem.time, shmem.stderr, ktap.commands(shmem)), (None, None, []))
        self.assertTrue(run.complete)
        self.assertIsNone(ktap.run_problem(run))
        self.assertEqual(run.comments[0], "uffdwp: suites: selftests")

    def test_diagnostics_of_another_test(self):
        """A time or stderr line names its test: another test's is ignored."""
        run = parse("""
            # uffd-anon: time: 1.00
            # uffd-anon: stderr: not mine
            not ok 1 uffd-shmem # exit=1
        """)
        self.assertEqual((run.tests[0].time, run.tests[0].stderr), (None, None))

    def test_subtests(self):
        """A test's indented KTAP, before its result line, is its subtests."""
        run = parse("""
            1..2
            # uffd-continue-wp: cmd: uffd-continue-wp
              # kernel 6.1.192
              1..3
              ok 1 shmem: continue-wp maps page with uffd-wp bit
              # hugetlb: continue-wp maps page with uffd-wp bit: no uffd-wp bit
              not ok 2 hugetlb: continue-wp maps page with uffd-wp bit
                ok 1 nested
              ok 3 anon: copy-wp maps page with uffd-wp bit
              # Totals: pass:2 fail:1 xfail:0 xpass:0 skip:0 error:0
            # uffd-continue-wp: time: 8.73
            not ok 1 uffd-continue-wp # exit=1
            ok 2 postcopy-demo
        """)
        cwp, demo = run.tests
        self.assertEqual(cwp.block.plan, 3)
        self.assertEqual([(t.name, t.result) for t in cwp.subtests], [
            ("shmem: continue-wp maps page with uffd-wp bit", "PASS"),
            ("hugetlb: continue-wp maps page with uffd-wp bit", "FAIL"),
            ("anon: copy-wp maps page with uffd-wp bit", "PASS"),
        ])
        self.assertEqual(cwp.subtests[1].diagnostics,
                         ["hugetlb: continue-wp maps page with uffd-wp bit: no uffd-wp bit"])
        self.assertEqual([t.name for t in cwp.subtests[2].subtests], ["nested"])
        self.assertIn("Totals: pass:2 fail:1 xfail:0 xpass:0 skip:0 error:0",
                      cwp.block.unfinished.diagnostics)
        self.assertEqual(cwp.time, "8.73")
        self.assertEqual(demo.subtests, [])
        self.assertEqual(len(run.tests), 2)

    def test_kselftest_cases(self):
        """6.1's kselftest skip form and the reason line before a result."""
        run = parse("""
            # uffd-continue-wp: cmd: uffd-continue-wp
              # shmem: continue-wp maps page with uffd-wp bit: UFFDIO_CONTINUE_MODE_WP not supported
              ok 1 # SKIP shmem: continue-wp maps page with uffd-wp bit
              ok 2 shmem: copy-wp maps page with uffd-wp bit # SKIP
              # hugetlb: copy-wp maps page: child exited with 1, no result
              not ok 3 hugetlb: copy-wp maps page
              # this line names no case
              not ok 4 anon: copy-wp maps page
            ok 1 uffd-continue-wp
        """)
        skip = run.tests[0].subtests[0]
        self.assertEqual((skip.name, skip.directive, skip.result),
                         ("", "SKIP shmem: continue-wp maps page with uffd-wp bit", "SKIP"))
        self.assertEqual(ktap.kselftest_cases(run, "uffd-continue-wp"), {
            "shmem: continue-wp maps page with uffd-wp bit":
                ktap.Case("SKIP", "UFFDIO_CONTINUE_MODE_WP not supported"),
            "shmem: copy-wp maps page with uffd-wp bit": ktap.Case("SKIP"),
            "hugetlb: copy-wp maps page": ktap.Case("FAIL", "child exited with 1, no result"),
            "anon: copy-wp maps page": ktap.Case("FAIL"),
        })
        self.assertEqual(ktap.kselftest_cases(run, "postcopy-demo"), {})

    def test_kselftest_harness_cases(self):
        """kselftest_harness.h's output: a skip's name comes from the "OK"
        line before it, a skip's reason from its directive."""
        run = parse("""
            # uffd-continue-wp: cmd: uffd-continue-wp
              TAP version 13
              1..3
              # Starting 3 tests from 2 test cases.
              #  RUN           continue_wp.shmem.maps_wp ...
              #            OK  continue_wp.shmem.maps_wp
              ok 1 # SKIP kernel lacks UFFDIO_CONTINUE_MODE_WP (the probe got EINVAL, not ENOENT)
              #  RUN           continue_wp.shmem.maps ...
              #            OK  continue_wp.shmem.maps
              ok 2 continue_wp.shmem.maps
              #  RUN           continue_wp.hugetlb.dontwake_wp ...
              #          FAIL  continue_wp.hugetlb.dontwake_wp
              not ok 3 continue_wp.hugetlb.dontwake_wp
              # FAILED: 2 / 3 tests passed.
            not ok 1 uffd-continue-wp
        """)
        self.assertEqual(ktap.kselftest_cases(run, "uffd-continue-wp"), {
            "continue_wp.shmem.maps_wp": ktap.Case(
                "SKIP", "kernel lacks UFFDIO_CONTINUE_MODE_WP (the probe got EINVAL, not ENOENT)"),
            "continue_wp.shmem.maps": ktap.Case("PASS"),
            "continue_wp.hugetlb.dontwake_wp": ktap.Case("FAIL"),
        })

    def test_unit_cases(self):
        """uffd-unit-ktap's times; a case reported again has its last
        outcome and keeps its first as earlier."""
        run = parse("""
            # uffd-unit-events-wp: cmd: retry-on-6.12 uffd-unit-ktap -f events-wp uffd-unit-tests
              # uffd-unit-ktap: uffd-unit-tests -f events-wp
              # events-wp on anon: 4.17s
              not ok 1 events-wp on anon # ERROR: UFFDIO_COPY error: -2 (errno=2, @/mm/uffd-common.c:624)
              1..1
              # uffd-unit-ktap: uffd-unit-tests -f events-wp
              # events-wp on anon: 9.37s
              ok 1 events-wp on anon
              # events-wp on hugetlb: 0.66s
              ok 2 events-wp on hugetlb # SKIP feature missing
              1..2
              # uffd-unit-ktap: uffd-unit-tests -f events-wp
              # events-wp on anon: 9.02s
              ok 1 events-wp on anon
              # events-wp on hugetlb: 0.71s
              ok 2 events-wp on hugetlb
              1..2
            ok 1 uffd-unit-events-wp
            # uffd-demo: cmd: uffd-postcopy-demo
              ok 1 not a unit test
            ok 2 uffd-demo
        """)
        self.assertEqual(run.tests[0].subtests[0].time, "4.17")
        self.assertEqual(ktap.unit_cases(run), {
            "events-wp on anon": ktap.Case("PASS", "", "9.02", "FAIL ERROR: UFFDIO_COPY "
                                           "error: -2 (errno=2, @uffd-common.c:624)"),
            "events-wp on hugetlb": ktap.Case("PASS", "", "0.71", "SKIP feature missing"),
        })

    def test_unfinished(self):
        """A stream that ends inside a test: no result, but its subtests."""
        run = parse("""
            KTAP version 1
            1..2
            # uffd-anon: time: 9.84
            ok 1 uffd-anon
            # uffd-continue-wp: cmd: uffd-continue-wp
              1..25
              ok 1 shmem: register minor|wp advertises continue and writeprotect
        """)
        self.assertEqual(len(run.tests), 1)
        self.assertIsNone(run.unfinished.result)
        self.assertEqual(ktap.started_tests(run)[-1], run.unfinished)
        self.assertEqual(list(ktap.kselftest_cases(run, "uffd-continue-wp")),
                         ["shmem: register minor|wp advertises continue and writeprotect"])
        self.assertEqual(ktap.run_problem(run), "1 of 2 planned results")

    def test_run_problems(self):
        """Bail out, no plan, fewer results than planned, no end marker."""
        cases = [
            ("", "no KTAP plan: the guest never started the suite"),
            ("KTAP version 1\n# uffdwp: suites: selftests\n",
             "no KTAP plan: the guest never started the suite"),
            ("1..2\nok 1 a\n# uffdwp: run complete\n", "1 of 2 planned results"),
            ("1..1\nok 1 a\nok 2 b\n# uffdwp: run complete\n", "2 of 1 planned results"),
            ("1..1\nok 1 a\n", "no end marker: the run did not complete"),
            ("1..1\nok 1 a\n# uffdwp: run complete \n", "no end marker: the run did not complete"),
            ("Bail out! no suite 'x' in the guest\n# uffdwp: run complete\n",
             "Bail out! no suite 'x' in the guest"),
            ("1..0\n# uffdwp: run complete\n", None),
        ]
        for text, problem in cases:
            with self.subTest(text=text):
                self.assertEqual(ktap.run_problem(ktap.parse(text)), problem)

    def test_lines(self):
        """Lines split at newlines only; other lines are not KTAP."""
        run = ktap.parse("ok 1 a\r\nok 2 b\x0cc\n ok 3 d\nok 4\nok 5 e")
        self.assertEqual([(t.number, t.name) for t in run.tests],
                         [(1, "a\r"), (2, "b\x0cc"), (4, ""), (5, "e")])

    def test_awk_arithmetic(self):
        """Times add up and print as awk's "print a + b" did."""
        total = ktap.awk_number("52.21") + ktap.awk_number("0.01")
        self.assertEqual(ktap.awk_format(total), "52.22")
        self.assertEqual(ktap.awk_format(3.0), "3")
        self.assertEqual(ktap.awk_format(1234567.5), "1.23457e+06")
        self.assertEqual(ktap.awk_number("1.2.3"), 1.2)
        self.assertEqual(ktap.awk_number("."), 0.0)

    def test_shell_basename(self):
        """Kernel labels are the directories' names, as basename(1) gives."""
        got = [ktap.shell_basename(p) for p in ("a/patched", "a/patched/", "patched", "/", "")]
        self.assertEqual(got, ["patched", "patched", "patched", "/", ""])

    def test_end_marker_in_sync(self):
        """KTAP_END is the marker guest/init writes and lib.sh looks for."""
        with open(os.path.join(SCRIPTS, "lib.sh"), encoding="utf-8") as f:
            lib = re.search(r"^KTAP_END='(.*)'$", f.read(), re.M)
        with open(os.path.join(TOP, "guest", "init"), encoding="utf-8") as f:
            init = re.search(r"^END_MARKER='(.*)'$", f.read(), re.M)
        self.assertEqual((lib[1], init[1]), (ktap.KTAP_END, ktap.KTAP_END))

    def test_arguments(self):
        """--run-id ID or --run-id=ID, anywhere; -- ends the options."""
        self.assertEqual(ktap.parse_args("report", ["--run-id", "x", "a", "b"]), ("x", ["a", "b"]))
        self.assertEqual(ktap.parse_args("report", ["a", "--run-id=x"]), ("x", ["a"]))
        self.assertEqual(ktap.parse_args("report", ["--", "--run-id"]), (None, ["--run-id"]))
        for bad in (["--run-id"], ["--run-id="], ["--run-id", ""], ["-x", "a"]):
            with self.subTest(args=bad):
                self.assertRaises(ktap.Fatal, ktap.parse_args, "report", bad)

    def test_main_in_process(self):
        """main() writes to the streams it is given and returns the status."""
        out, err = io.StringIO(), io.StringIO()
        self.assertEqual(ktap.main(["report"], out, err), 1)
        self.assertEqual((out.getvalue(), err.getvalue()),
                         ("", "error: usage: ktap.py report [--run-id ID] RESULTDIR...\n"))

    def test_non_utf8_survives(self):
        """Bytes that are not UTF-8 reach the report unchanged."""
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "patched")
            os.mkdir(d)
            with open(os.path.join(d, "results.ktap"), "wb") as f:
                f.write(b"1..1\n# t: stderr: caf\xe9\n# t: time: 1.00\nnot ok 1 t # exit=1\n"
                        b"# uffdwp: run complete\n")
            proc = subprocess.run([sys.executable, os.path.join(SCRIPTS, "ktap.py"), "report", d],
                                  capture_output=True, check=False)
        self.assertEqual(proc.stdout, b"patched  t  FAIL  1.00s  exit=1: caf\xe9\n"
                                      b"0 passed, 1 failed, 0 skipped\n")
        self.assertEqual(proc.returncode, 1)


# --- report ------------------------------------------------------------------


class ReportTest(ScenarioTest):
    """ktap.py report (scripts/report.sh) on canned runs."""

    def test_good(self):
        """A complete good run on three kernels."""
        self.check(["report"] + dirs("good"), "good/report.stdout", 0)

    def test_good_with_run_id(self):
        """This run's results (run.id matches): the same report."""
        self.check(["report", "--run-id", RUN_ID] + dirs("good"), "good/report.stdout", 0)

    def test_outcomes(self):
        """FAIL, SKIP, TIMEOUT, a signal, stderr reasons, a bad suite line."""
        self.check(["report"] + dirs("outcomes", "patched"), "outcomes/report.stdout", 1)

    def test_outcomes_as_check_harness_wants(self):
        """The report lines scripts/check-harness.sh greps for are there."""
        out = self.check(["report"] + dirs("outcomes", "patched"), "outcomes/report.stdout", 1)
        for regex in [
            r"harness-pass +PASS",
            r"harness-skip +SKIP +[0-9.]+s +feature missing$",
            r"harness-fail +FAIL +[0-9.]+s +exit=1: ERROR: it broke$",
            r"harness-segv +FAIL +[0-9.]+s +killed by signal 11 \(SIGSEGV\)",
            r"harness-timeout +FAIL +[0-9.]+s +TIMEOUT 3 seconds$",
            r"harness-orphan +PASS",
            r"harness-missing +FAIL +[0-9.]+s +exit=127",
            r"harness-badline +FAIL +bad suite line: timeout 'ten' is not a number",
            r"harness-order +PASS",
            r"harness-ktap +PASS",
            r"^4 passed, 5 failed, 1 skipped$",
        ]:
            self.assertRegex(out, re.compile(regex, re.M))

    def test_no_plan(self):
        """A panic before the guest started: the status and no plan."""
        self.check(["report"] + dirs("no-plan", "patched"), "no-plan/report.stdout", 1)

    def test_fewer_results_than_planned(self):
        """boot.sh's deadline stopped the guest in its 5th of 7 tests."""
        self.check(["report"] + dirs("short", "patched"), "short/report.stdout", 1)

    def test_bail_out(self):
        """The guest bailed out (a suite it does not have)."""
        self.check(["report"] + dirs("bail-out", "patched"), "bail-out/report.stdout", 1)

    def test_no_end_marker(self):
        """Every planned result, but the run did not complete."""
        self.check(["report"] + dirs("no-end-marker", "patched"), "no-end-marker/report.stdout", 1)

    def test_status_text(self):
        """A complete run that boot.sh failed (kernel splat)."""
        self.check(["report"] + dirs("splat", "patched"), "splat/report.stdout", 1)

    def test_status_running(self):
        """boot.sh never finished: no results.ktap either."""
        self.check(["report"] + dirs("running", "patched"), "running/report.stdout", 1)

    def test_results_missing(self):
        """No results.ktap, with and without a status."""
        self.check(["report"] + dirs("missing"), "missing/report.stdout", 1)

    def test_kselftest_bailed_out(self):
        """A kselftest its watchdog stopped fails with its exit status."""
        self.check(["report"] + dirs("compare-missing-case"),
                   "compare-missing-case/report.stdout", 1)

    def test_failed_unit_tests(self):
        """A failed test's reason ends with its last stderr line."""
        self.check(["report"] + dirs("mainline-fail", "patched", "debian-6.12"),
                   "mainline-fail/report.stdout", 1)

    def test_old_results_without_run_id(self):
        """Without --run-id, results of any run are reported."""
        self.check(["report"] + dirs("run-id"), "run-id/report.stdout", 1)

    def test_run_id_mismatch_and_missing(self):
        """With --run-id, another run's results, or none named, are one FAIL
        row, and their own rows (debian-6.1's FAIL) are neither shown nor
        counted."""
        out = self.check(["report", f"--run-id={RUN_ID}"] + dirs("run-id"),
                         "run-id/report-run-id.stdout", 1)
        self.assertNotIn("debian-6.1   uffd-continue-wp", out)

    def test_directory_names(self):
        """The label is the directory's name; paths print as given."""
        rc, out, _ = run("ktap.py", "report", "good/patched/", "./missing/debian-6.1/")
        self.assertEqual(out.splitlines()[0], "patched     uffd-anon            PASS   9.84s")
        self.assertEqual(out.splitlines()[-2],
                         "debian-6.1  (run)                FAIL          "
                         "no ./missing/debian-6.1//results.ktap")
        self.assertEqual(rc, 1)

    def test_usage(self):
        """No result directory: usage on stderr, status 1."""
        self.check(["report"], None, 1, "error: usage: ktap.py report [--run-id ID] RESULTDIR...\n")
        self.check(["report", "--run-id"], None, 1, "error: --run-id needs an ID; "
                   "usage: ktap.py report [--run-id ID] RESULTDIR...\n")


# --- compare -----------------------------------------------------------------


class CompareTest(ScenarioTest):
    """ktap.py compare (scripts/compare.sh) on canned runs of uffd-continue-wp."""

    def compare(self, scenario, stdout, status, stderr, *options):
        """Compare uffd-continue-wp on SCENARIO's three kernels."""
        args = ["compare", *options, "uffd-continue-wp"] + dirs(scenario)
        return self.check(args, stdout, status, stderr)

    def test_good(self):
        """Patched passes all, the base skips for the feature, 6.12 = patched."""
        self.compare("good", "good/compare.stdout", 0, "")

    def test_good_with_run_id(self):
        """This run's results: the same comparison."""
        self.compare("good", "good/compare.stdout", 0, "", "--run-id", RUN_ID)

    def test_base_fails(self):
        """The unpatched base fails a case."""
        self.compare("compare-base-fails", "compare-base-fails/compare.stdout", 1,
                     "error: 1 case(s) break the rules above (marked <--)\n")

    def test_base_skips_for_another_reason(self):
        """The base skips hugetlb cases for want of huge pages."""
        self.compare("compare-base-skip-other", "compare-base-skip-other/compare.stdout", 1,
                     "error: 6 case(s) break the rules above (marked <--)\n")

    def test_base_skips_nothing(self):
        """The "base" has the feature: it skipped nothing."""
        self.compare("compare-base-skips-nothing", "compare-base-skips-nothing/compare.stdout", 1,
                     "error: 1 case(s) break the rules above (marked <--)\n")

    def test_patched_differs_from_mainline(self):
        """The patched kernel fails a case 6.12 passes."""
        self.compare("compare-mismatch", "compare-mismatch/compare.stdout", 1,
                     "error: 1 case(s) break the rules above (marked <--)\n")

    def test_case_missing_on_a_kernel(self):
        """6.12's kselftest stopped after 18 cases: the others are none."""
        self.compare("compare-missing-case", "compare-missing-case/compare.stdout", 1,
                     "error: 7 case(s) break the rules above (marked <--)\n")

    def test_old_results_without_run_id(self):
        """Without --run-id, another run's results are compared."""
        self.compare("run-id", "run-id/compare.stdout", 1,
                     "error: 1 case(s) break the rules above (marked <--)\n")

    def test_run_id_mismatch(self):
        """With --run-id, another run's results end the comparison."""
        self.compare("run-id", None, 1,
                     f"error: run-id/debian-6.1: results are not from this run "
                     f"(run.id 20261121T180207Z-3117, want {RUN_ID})\n", "--run-id", RUN_ID)

    def test_results_missing(self):
        """A kernel without results.ktap."""
        self.compare("missing", None, 1, "error: missing/debian-6.1/results.ktap missing: "
                     "the guest run for debian-6.1 did not happen\n")

    def test_no_cases(self):
        """A test that did not run."""
        self.check(["compare", "postcopy-demo"] + dirs("good"), None, 1,
                   "error: no 'postcopy-demo' cases in good/patched/results.ktap "
                   "(did the test run?)\n")

    def test_usage(self):
        """Not four operands."""
        self.check(["compare", "uffd-continue-wp"] + dirs("good")[:2], None, 1,
                   "error: usage: ktap.py compare [--run-id ID] TEST PATCHED-DIR BASE-DIR "
                   "MAINLINE-DIR\n")


# --- mainline ----------------------------------------------------------------


class MainlineTest(ScenarioTest):
    """ktap.py mainline (scripts/mainline-report.sh) on canned runs."""

    def mainline(self, scenario, stdout, status, stderr, *options):
        """Compare mainline's unit tests on SCENARIO's patched and 6.12."""
        args = ["mainline", *options] + dirs(scenario, "patched", "debian-6.12")
        return self.check(args, stdout, status, stderr)

    def good_row(self, name):
        """The row of case NAME in the good run's report."""
        rows = [line for line in expected("good/mainline.stdout").splitlines()
                if line.startswith(name + "  ")]
        self.assertEqual(len(rows), 1, name)
        return rows[0]

    def test_good(self):
        """Everything passes or skips as explained."""
        self.mainline("good", "good/mainline.stdout", 0, "")

    def test_good_with_run_id(self):
        """This run's results: the same report."""
        self.mainline("good", "good/mainline.stdout", 0, "", "--run-id", RUN_ID)

    def test_missing_6_1_skip_allowed(self):
        """A case gated on a feature 6.1 lacks skips on the patched kernel."""
        self.assertTrue(self.good_row("wp-unpopulated on anon").endswith(
            "SKIP     0.02s   PASS     0.03s  (6.1 lacks UFFD_FEATURE_WP_UNPOPULATED (6.4))"))

    def test_test_config_skip_allowed(self):
        """minor-collapse skips for what the test kernel's config leaves out."""
        self.assertIn("SKIP     2.96s   PASS     4.06s  (test kernel config: tinyconfig's "
                      "CONFIG_BASE_SMALL", self.good_row("minor-collapse on shmem"))

    def test_retried_case_shows_earlier_result(self):
        """6.12 retried events-wp: its last result counts, the first shows."""
        self.assertTrue(self.good_row("events-wp on anon").endswith(
            "PASS     6.84s   PASS     9.37s  (debian-6.12: retried, first run: FAIL ERROR: "
            "UFFDIO_COPY error: -2 (errno=2, @uffd-common.c:624))"))

    def test_both_skip(self):
        """A case both kernels skip says why."""
        self.assertIn("(both: Possibly CONFIG_GUP_TEST missing or unprivileged)",
                      self.good_row("wp-fork-pin on anon"))

    def test_case_fails(self):
        """wp-fork fails on hugetlb-private on the patched kernel."""
        self.mainline("mainline-fail", "mainline-fail/mainline.stdout", 1,
                      "error: 2 mainline unit test case(s) break the rules above "
                      "(marked <-- or FAIL)\n")

    def test_minor_wp_not_passing(self):
        """minor-wp skips on the patched kernel (built without the gate patch)."""
        self.mainline("mainline-minor-wp", "mainline-minor-wp/mainline.stdout", 1,
                      "error: 4 mainline unit test case(s) break the rules above "
                      "(marked <-- or FAIL)\n")

    def test_mismatch(self):
        """minor-collapse skips on the patched kernel for another reason."""
        self.mainline("mainline-mismatch", "mainline-mismatch/mainline.stdout", 1,
                      "error: 1 mainline unit test case(s) break the rules above "
                      "(marked <-- or FAIL)\n")

    def test_results_missing(self):
        """6.12 was not run."""
        self.mainline("missing", None, 1, "error: missing/debian-6.12/results.ktap missing: "
                      "the guest run for debian-6.12 did not happen\n")

    def test_no_cases(self):
        """A kernel that did not run the mainline suite."""
        self.check(["mainline"] + dirs("good", "debian-6.1", "debian-6.12"), None, 1,
                   "error: no uffd-unit-tests cases in good/debian-6.1/results.ktap "
                   "(did the mainline suite run?)\n")

    def test_run_id_missing(self):
        """With --run-id, a result directory without run.id."""
        self.check(["mainline", "--run-id", RUN_ID, "good/patched", "run-id/debian-6.12"], None, 1,
                   f"error: run-id/debian-6.12: results are not from this run "
                   f"(no run.id, want {RUN_ID})\n")

    def test_run_id_mismatch(self):
        """With --run-id, results of another run."""
        self.mainline("good", None, 1, f"error: good/patched: results are not from this run "
                      f"(run.id {RUN_ID}, want 20261123T080000Z-77)\n",
                      "--run-id", "20261123T080000Z-77")


# --- the wrappers ------------------------------------------------------------


class WrapperTest(ScenarioTest):
    """scripts/report.sh, compare.sh and mainline-report.sh call ktap.py."""

    def test_report_sh(self):
        """report.sh passes its arguments, --run-id included."""
        self.check(["--run-id", RUN_ID] + dirs("run-id"), "run-id/report-run-id.stdout", 1,
                   program="report.sh")

    def test_compare_sh(self):
        """compare.sh prints the comparison and dies like ktap.py."""
        self.check(["uffd-continue-wp"] + dirs("good"), "good/compare.stdout", 0,
                   program="compare.sh")
        self.check(["uffd-continue-wp"] + dirs("compare-mismatch"),
                   "compare-mismatch/compare.stdout", 1,
                   "error: 1 case(s) break the rules above (marked <--)\n", program="compare.sh")

    def test_mainline_report_sh(self):
        """mainline-report.sh prints the mainline comparison."""
        self.check(dirs("good", "patched", "debian-6.12"), "good/mainline.stdout", 0,
                   program="mainline-report.sh")


if __name__ == "__main__":
    unittest.main()
