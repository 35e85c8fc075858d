#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The KTAP results of the test guests: one parser, three reports.

guest/init writes one flat KTAP stream per boot (results.ktap):

    KTAP version 1
    # uffdwp: ...                      comments about the run
    1..N
    # NAME: cmd: COMMAND
      ...                              a test's own KTAP, indented by two
    # NAME: stderr: LAST STDERR LINE   (if any)
    # NAME: time: SECONDS
    ok N NAME | ok N NAME # SKIP REASON | not ok N NAME # REASON
    ...
    # uffdwp: run complete             the end marker (KTAP_END in lib.sh)

parse() turns such a stream into a Block of Tests, each with its name,
result, directive, the "# " diagnostics written before it and, as a Block
of their own, its subtests. The reports built on it:

    ktap.py report [--run-id ID] RESULTDIR...
        one row per test and kernel (scripts/report.sh)
    ktap.py compare [--run-id ID] TEST PATCHED-DIR BASE-DIR MAINLINE-DIR
        a kselftest's cases on three kernels (scripts/compare.sh)
    ktap.py mainline [--run-id ID] PATCHED-DIR MAINLINE-DIR
        mainline's uffd unit tests on two kernels (scripts/mainline-report.sh)

With --run-id, a result directory must hold a run.id file naming that run
(scripts/run-suites.sh writes it), so that no report shows results the
current run did not produce. The rules of each report are in the header of
its wrapper script. Python standard library only (Debian 12's 3.11 on).
"""

import dataclasses
import fnmatch
import os
import re
import sys

# The last line of a complete results stream. Keep in sync with KTAP_END
# in scripts/lib.sh and END_MARKER in guest/init.
KTAP_END = "# uffdwp: run complete"
INDENT = "  "

RESULT_RE = re.compile(r"(not )?ok ([0-9]+)(?: (.*))?")
PLAN_RE = re.compile(r"1\.\.([0-9]+)")
VERSION_RE = re.compile(r"K?TAP version [0-9]+")
# "# NAME: cmd: COMMAND", guest/init's line before a test runs
CMD_RE = re.compile(r"([^ ]+): cmd: (.*)")
# "# CASE: 1.23s", uffd-unit-ktap's line before a case's result
CASE_TIME_RE = re.compile(r"(.*): ([0-9.]+)s")
# err() in mainline's selftests ends with "@/path/to/file.c:LINE"
SOURCE_PATH_RE = re.compile(r"@/[^ ]*/")
# kselftest_harness.h's line after each case: "#          OK  fixture.variant.case"
HARNESS_DONE_RE = re.compile(r" *(?:OK|FAIL) +(\S+)")


class Fatal(Exception):
    """An error that ends the command: main() prints "error: MESSAGE"."""


# --- the parser ---------------------------------------------------------


@dataclasses.dataclass
class Test:
    """One result line, "ok N NAME # DIRECTIVE", with what led up to it.

    diagnostics are the "# " lines (without "# ") written at the test's own
    level since the previous result; block holds the indented lines written
    in that time, the test's subtests. A Test whose ok is None is one the
    stream ended inside: it has diagnostics and subtests but no result line.
    """

    name: str
    ok: bool | None
    number: int | None = None
    directive: str = ""
    diagnostics: list[str] = dataclasses.field(default_factory=list)
    block: "Block | None" = None

    @property
    def subtests(self):
        """The tests of the indented block before this result."""
        return self.block.tests if self.block else []

    @property
    def result(self):
        """PASS, FAIL or SKIP ("ok # SKIP"); None if the result never came."""
        if self.ok is None:
            return None
        if not self.ok:
            return "FAIL"
        if self.directive == "SKIP" or self.directive.startswith("SKIP "):
            return "SKIP"
        return "PASS"

    @property
    def reason(self):
        """The directive, without its "SKIP" word if the test skipped."""
        if self.result == "SKIP":
            return re.sub(r"^SKIP *", "", self.directive)
        return self.directive

    @property
    def time(self):
        """The test's seconds as text ("1.23"), or None if not given.

        guest/init writes "# NAME: time: 1.23" for a test, uffd-unit-ktap
        "# NAME: 1.23s" for a case; the last such line counts.
        """
        found = None
        for line in self.diagnostics:
            value = self.diagnostic_value(line, "time")
            if value is not None:
                found = value
                continue
            match = CASE_TIME_RE.fullmatch(line)
            if match and match[1] == self.name:
                found = match[2]
        return found

    @property
    def stderr(self):
        """The last stderr line guest/init recorded for the test, or None."""
        return self.diagnostic("stderr")

    def diagnostic_value(self, line, key):
        """VALUE if LINE is "NAME: KEY: VALUE" for this test's NAME."""
        prefix = f"{self.name}: {key}: "
        return line[len(prefix):] if line.startswith(prefix) else None

    def diagnostic(self, key):
        """The value of the last "# NAME: KEY: VALUE" line, or None."""
        found = None
        for line in self.diagnostics:
            value = self.diagnostic_value(line, key)
            if value is not None:
                found = value
        return found


@dataclasses.dataclass
class Block:
    """A list of tests at one level: a whole stream, or a test's subtests.

    comments are all its "# " lines in order (without "# "); plan is the
    number of its last "1..N" line, bail its last "Bail out!" line; and
    unfinished, if not None, holds the diagnostics and subtests that came
    after its last result line, as a Test without a result.
    """

    version: str | None = None
    plan: int | None = None
    bail: str | None = None
    comments: list[str] = dataclasses.field(default_factory=list)
    tests: list[Test] = dataclasses.field(default_factory=list)
    unfinished: Test | None = None

    @property
    def complete(self):
        """Whether the stream has guest/init's end marker."""
        return KTAP_END[len("# "):] in self.comments


def split_lines(text):
    """TEXT's lines, split at "\\n" only, as awk reads them."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def split_description(description):
    """NAME and DIRECTIVE of a result's description "NAME # DIRECTIVE".

    It splits at the first " # ". A description that starts with "# " has
    only a directive: 6.1's kselftest writes a skip as "ok 3 # SKIP NAME".
    """
    if description.startswith("# "):
        return "", description[2:]
    name, _, directive = description.partition(" # ")
    return name, directive


def new_test(match, diagnostics, sublines):
    """A Test from a result line's MATCH (None: no result line) and the
    diagnostics and indented lines (indent removed) that came before it."""
    test = Test(name="", ok=None, diagnostics=diagnostics)
    if match:
        test.ok = match[1] is None
        test.number = int(match[2])
        test.name, test.directive = split_description(match[3] or "")
    if sublines:
        test.block = parse_lines(sublines)
    return test


def parse_lines(lines):
    """The Block of a KTAP stream given as a list of lines."""
    block = Block()
    diagnostics, sublines = [], []
    for line in lines:
        if line.startswith(INDENT):
            sublines.append(line[len(INDENT):])
        elif line.startswith("# "):
            block.comments.append(line[2:])
            diagnostics.append(line[2:])
        elif match := RESULT_RE.fullmatch(line):
            block.tests.append(new_test(match, diagnostics, sublines))
            diagnostics, sublines = [], []
        elif match := PLAN_RE.fullmatch(line):
            block.plan = int(match[1])
        elif line.startswith("Bail out!"):
            block.bail = line
        elif VERSION_RE.fullmatch(line) and block.version is None:
            block.version = line
    if diagnostics or sublines:
        block.unfinished = new_test(None, diagnostics, sublines)
    return block


def parse(text):
    """The Block of a KTAP stream given as text."""
    return parse_lines(split_lines(text))


# --- what guest/init adds to KTAP ------------------------------------------


def commands(test):
    """(NAME, COMMAND) of each "# NAME: cmd: COMMAND" line before TEST."""
    return [m.groups() for line in test.diagnostics if (m := CMD_RE.fullmatch(line))]


def started_tests(run):
    """The tests guest/init started in RUN, in order: those with a result,
    then the one the stream ended inside, if it had started one."""
    tests = list(run.tests)
    if run.unfinished is not None and commands(run.unfinished):
        tests.append(run.unfinished)
    return tests


def run_problem(run):
    """Why RUN (a parsed results.ktap) is incomplete, or None if it is not."""
    if run.bail is not None:
        return run.bail
    if run.plan is None:
        return "no KTAP plan: the guest never started the suite"
    if len(run.tests) != run.plan:
        return f"{len(run.tests)} of {run.plan} planned results"
    if not run.complete:
        return "no end marker: the run did not complete"
    return None


# --- files ---------------------------------------------------------------


def read_text(path):
    """The text of the file PATH; bytes that are not UTF-8 survive as is."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
            return f.read()
    except OSError as e:
        raise Fatal(f"cannot read {path}: {e.strerror}") from e


def one_line(text):
    """TEXT without trailing newlines, inner ones made spaces (a table cell)."""
    return text.rstrip("\n").replace("\n", " ")


def shell_basename(path):
    """The last component of PATH, as basename(1) gives it."""
    stripped = path.rstrip("/")
    if not stripped:
        return "/" if path else ""
    return stripped.rsplit("/", 1)[-1]


def run_id_problem(directory, run_id):
    """Why DIRECTORY's results are not those of run RUN_ID, or None if they
    are (or if RUN_ID is None: no run asked for)."""
    if run_id is None:
        return None
    path = os.path.join(directory, "run.id")
    if not os.path.isfile(path):
        found = "no run.id"
    else:
        text = read_text(path).strip()
        if text == run_id:
            return None
        found = f"run.id {one_line(text)}" if text else "empty run.id"
    return f"results are not from this run ({found}, want {run_id})"


def load_run(directory, run_id):
    """The parsed DIRECTORY/results.ktap of a guest run that must exist and
    belong to run RUN_ID (if given); Fatal if it does not."""
    problem = run_id_problem(directory, run_id)
    if problem:
        raise Fatal(f"{directory}: {problem}")
    path = f"{directory}/results.ktap"
    if not os.path.isfile(path):
        raise Fatal(f"{path} missing: the guest run for {shell_basename(directory)} did not happen")
    return parse(read_text(path))


# --- output --------------------------------------------------------------


def info(out, text):
    """An indented progress line, as info() in lib.sh."""
    out.write(f"    {text}\n")


def awk_number(text):
    """The number at the start of TEXT, 0 if none, as awk reads one."""
    match = re.match(r"\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?", text)
    return float(match[0]) if match else 0.0


def awk_format(number):
    """NUMBER as mawk prints it: an integer as such, else with "%.6g"."""
    if number.is_integer() and -2147483647 <= number <= 2147483647:
        return str(int(number))
    return "%.6g" % number


# --- report: one row per test and kernel ---------------------------------


@dataclasses.dataclass
class Row:
    """One line of the report: a test on a kernel."""

    kernel: str
    test: str
    result: str
    time: str = ""
    reason: str = ""


def test_row(kernel, test):
    """The report row of TEST (a top-level result) on KERNEL."""
    time = f"{test.time}s" if test.time else ""
    reason = test.reason
    if test.result == "PASS":
        reason = ""
    elif test.result == "FAIL" and test.stderr and not test.directive.startswith("TIMEOUT"):
        reason = f"{reason}: {test.stderr}"
    return Row(kernel, test.name, test.result, time, reason)


def status_rows(kernel, directory):
    """The row for the status boot.sh left in DIRECTORY, if it says the
    run failed ("ok": no row; "running": boot.sh never finished)."""
    path = os.path.join(directory, "status")
    if not os.path.isfile(path):
        return []
    status = one_line(read_text(path))
    if status == "ok":
        return []
    if status == "running":
        status = "boot.sh did not finish"
    return [Row(kernel, "(run)", "FAIL", "", status)]


def run_rows(directory, run_id):
    """The report rows of the guest run in DIRECTORY."""
    kernel = shell_basename(os.path.realpath(directory))
    try:
        problem = run_id_problem(directory, run_id)
        if problem:
            return [Row(kernel, "(run)", "FAIL", "", problem)]
        rows = status_rows(kernel, directory)
        path = f"{directory}/results.ktap"
        if not os.path.isfile(path):
            return rows + [Row(kernel, "(run)", "FAIL", "", f"no {path}")]
        run = parse(read_text(path))
    except Fatal as e:
        return [Row(kernel, "(run)", "FAIL", "", str(e))]
    rows += [test_row(kernel, test) for test in run.tests]
    problem = run_problem(run)
    if problem:
        rows.append(Row(kernel, "(run)", "FAIL", "", problem))
    return rows


def format_rows(rows):
    """ROWS as the aligned lines of the report table."""
    cells = [dataclasses.astuple(row) for row in rows]
    width = [max((len(c[i]) for c in cells), default=0) for i in range(5)]
    lines = []
    for kernel, test, result, time, reason in cells:
        line = (f"{kernel.ljust(width[0])}  {test.ljust(width[1])}  {result.ljust(4)}  "
                f"{time.rjust(width[3])}  {reason}")
        lines.append(line.rstrip(" "))
    return lines


def report(directories, run_id, out):
    """Print the report of the guest runs in DIRECTORIES; 1 if anything
    failed, else 0."""
    rows = [row for d in directories for row in run_rows(d, run_id)]
    for line in format_rows(rows):
        out.write(line + "\n")
    count = {r: sum(row.result == r for row in rows) for r in ("PASS", "FAIL", "SKIP")}
    out.write(f"{count['PASS']} passed, {count['FAIL']} failed, {count['SKIP']} skipped\n")
    return 1 if count["FAIL"] else 0


# --- compare: a kselftest's cases on three kernels -----------------------

# The base must skip only for this (uffd-continue-wp's reason without it).
FEATURE_REASON = "CONTINUE_MODE_WP"


@dataclasses.dataclass(frozen=True)
class Case:
    """A subtest's outcome on one kernel: result, reason, time ("1.23" or
    ""), and, for a case reported twice, the first outcome."""

    result: str
    reason: str = ""
    time: str = ""
    earlier: str = ""


# a case a kernel did not report
NOT_RUN = Case("none")


def kselftest_case(test):
    """(NAME, Case) of a kselftest subtest.

    6.1's kselftest_harness.h writes a skip as "ok N # SKIP REASON": the
    name is then the one in the harness's "OK NAME" line just before it.
    Older tests of ours wrote "ok N # SKIP NAME" with the diagnostic
    "# NAME: REASON" before the result (names contain ": " too)."""
    name = test.name
    done = HARNESS_DONE_RE.fullmatch(test.diagnostics[-1]) if test.diagnostics else None
    if name == "" and done:
        return done[1], Case(test.result, test.reason)
    if name == "" and test.directive.startswith("SKIP "):
        name = test.directive[len("SKIP "):]
    reason = ""
    if test.diagnostics and test.diagnostics[-1].startswith(f"{name}: "):
        reason = test.diagnostics[-1][len(name) + 2:]
    return name, Case(test.result, reason)


def kselftest_cases(run, test_name):
    """{NAME: Case} of the subtests of guest test TEST_NAME in RUN, in
    order (the first run of the test; the last result of a case counts)."""
    for test in started_tests(run):
        if any(name == test_name for name, _ in commands(test)):
            return dict(kselftest_case(sub) for sub in test.subtests)
    return {}


def compare_note(patched, base, mainline):
    """The rules the Cases of one name break on the three kernels ("" if
    none), each word starting with a space."""
    note = ""
    if patched.result != "PASS":
        note += f" patched:{patched.result}"
    if base.result == "SKIP":
        if FEATURE_REASON not in base.reason:
            note += f" base skips for another reason: {base.reason}"
    elif base.result != "PASS":
        note += f" base:{base.result}"
    if patched.result != mainline.result:
        note += " patched!=mainline"
    return note


def compare_row(name, patched, base, mainline, note):
    """The table line of case NAME with its three Cases and NOTE."""
    return (f"{name[:72].ljust(72)} {patched.result.ljust(8)} {base.result.ljust(11)} "
            f"{mainline.result.ljust(11)}{'  <-- ' + note if note else ''}")


def load_kselftest_cases(directory, run_id, test_name):
    """{NAME: Case} of TEST_NAME's subtests in DIRECTORY; Fatal if none."""
    found = kselftest_cases(load_run(directory, run_id), test_name)
    if not found:
        raise Fatal(f"no '{test_name}' cases in {directory}/results.ktap (did the test run?)")
    return found


def compare(test_name, directories, run_id, out):
    """Print TEST_NAME's cases on the patched, base and mainline runs in
    DIRECTORIES side by side; Fatal if a rule is broken."""
    labels = [shell_basename(d) for d in directories]
    cases = [load_kselftest_cases(d, run_id, test_name) for d in directories]
    names = list(dict.fromkeys(name for found in cases for name in found))
    out.write(f"{(test_name + ' case').ljust(72)} {labels[0].ljust(8)} "
              f"{labels[1].ljust(11)} {labels[2].ljust(11)}\n")
    bad = base_skips = 0
    for name in names:
        patched, base, mainline = (found.get(name, NOT_RUN) for found in cases)
        note = compare_note(patched, base, mainline)
        out.write(compare_row(name, patched, base, mainline, note) + "\n")
        base_skips += base.result == "SKIP"
        bad += bool(note)
    if base_skips == 0:
        info(out, "the unpatched base skipped nothing: it should lack UFFDIO_CONTINUE_MODE_WP")
        bad += 1
    info(out, f"{len(names)} cases; base skipped {base_skips} for the missing feature")
    if bad:
        raise Fatal(f"{bad} case(s) break the rules above (marked <--)")
    info(out, "patched passes all, base skips only for the missing feature, patched = mainline")
    return 0


# --- mainline: mainline's uffd unit tests on two kernels ------------------

# Cases gated on a feature bit that Linux 6.1 (and so our series) lacks.
MISSING_6_1 = {
    "move": "UFFD_FEATURE_MOVE (6.8)",
    "move-pmd": "UFFD_FEATURE_MOVE (6.8)",
    "move-pmd-split": "UFFD_FEATURE_MOVE (6.8)",
    "wp-unpopulated": "UFFD_FEATURE_WP_UNPOPULATED (6.4)",
    "poison": "UFFD_FEATURE_POISON (6.6)",
}
# Cases the test kernel's config (tinyconfig + configs/test.config) keeps
# from running: the skip reason the test gives, then why.
TEST_CONFIG = {
    "minor-collapse": (
        "MADV_COLLAPSE failed",
        "tinyconfig's CONFIG_BASE_SMALL caps page cache folios below PMD order "
        "(MAX_PAGECACHE_ORDER 7), so shmem has no THP to collapse into",
    ),
}
MUST_PASS = ("minor-wp on shmem", "minor-wp on hugetlb")


def unit_cases(run):
    """{CASE: Case} of every subtest of the tests that ran uffd-unit-ktap in
    RUN, in order. A case reported twice (a test retried, see
    guest/bin/retry-on-6.12) has its last outcome, and the first in earlier.
    """
    cases = {}
    for test in started_tests(run):
        if not any("uffd-unit-ktap " in command for _, command in commands(test)):
            continue
        for sub in test.subtests:
            # err() ends its message with the source path: keep the file name
            reason = SOURCE_PATH_RE.sub("@", sub.reason)
            earlier = ""
            if sub.name in cases:
                first = cases[sub.name]
                earlier = first.earlier or " ".join(filter(None, (first.result, first.reason)))
            cases[sub.name] = Case(sub.result, reason, sub.time or "", earlier)
    return cases


def mainline_note(name, patched, mainline, labels):
    """(NOTE, BROKEN) for the Cases of NAME on the two kernels: the words
    after the row and whether a rule (same result on both) is broken."""
    test = name.split(" on ", 1)[0]
    config = TEST_CONFIG.get(test)
    if (patched.result == "SKIP" and mainline.result == "PASS" and test in MISSING_6_1
            and patched.reason == "feature missing"):
        return f" (6.1 lacks {MISSING_6_1[test]})", False
    if (patched.result == "SKIP" and mainline.result == "PASS" and config
            and patched.reason == config[0]):
        return f" (test kernel config: {config[1]})", False
    if patched.result != mainline.result:
        return f" <-- {labels[0]}!={labels[1]}", True
    if patched.result == "SKIP":
        return f" (both: {patched.reason})", False
    return "", False


def load_unit_cases(directory, run_id):
    """{CASE: Case} of mainline's unit tests in DIRECTORY; Fatal if none."""
    found = unit_cases(load_run(directory, run_id))
    if not found:
        raise Fatal(f"no uffd-unit-tests cases in {directory}/results.ktap "
                    "(did the mainline suite run?)")
    return found


def unit_note(name, both, labels):
    """(NOTE, BROKEN) of case NAME with its Cases BOTH on the two kernels:
    the words after its row and how many rules it breaks."""
    note = ""
    for label, case in zip(labels, both):
        if case.result == "FAIL":
            note += f" {label}:FAIL {case.reason}"
        if case.earlier:
            note += f" ({label}: retried, first run: {case.earlier})"
    more, broken = mainline_note(name, both[0], both[1], labels)
    note += more
    return note, broken + (":FAIL" in note)


def unit_row(name, both, note):
    """The table line of case NAME with its two Cases and NOTE."""
    times = [f"{case.time}s" if case.time else "" for case in both]
    row = (f"{name[:42].ljust(42)} {both[0].result.ljust(4)} {times[0].rjust(9)}   "
           f"{both[1].result.ljust(4)} {times[1].rjust(9)}  {note.removeprefix(' ')}")
    return row.rstrip(" ")


def unit_summary(label, found, names):
    """KERNEL's line of counts and seconds over the cases NAMES, given its
    {CASE: Case} FOUND (seconds added up as awk did, rounding included)."""
    count, total = {}, "0"
    for name in names:
        case = found.get(name, NOT_RUN)
        count[case.result] = count.get(case.result, 0) + 1
        total = awk_format(awk_number(total) + awk_number(case.time or "0"))
    return (f"{label}: {count.get('PASS', 0)} passed, {count.get('SKIP', 0)} skipped, "
            f"{count.get('FAIL', 0)} failed, {count.get('none', 0)} not run ({total}s in cases)")


def must_pass_problems(cases, labels):
    """The lines saying which MUST_PASS case does not pass on which kernel."""
    problems = []
    for name in MUST_PASS:
        for label, found in zip(labels, cases):
            result = found[name].result if name in found else "missing"
            if result != "PASS":
                problems.append(f"{label}: '{name}' is {result}, must pass: "
                                "it is the CONTINUE_MODE_WP case")
    return problems


def mainline(directories, run_id, out):
    """Print mainline's uffd unit test cases on the patched and mainline
    runs in DIRECTORIES side by side; Fatal if a rule is broken."""
    labels = [shell_basename(d) for d in directories]
    cases = [load_unit_cases(d, run_id) for d in directories]
    names = list(dict.fromkeys(name for found in cases for name in found))
    out.write(f"{'mainline uffd-unit-tests'.ljust(42)} {labels[0].ljust(16)} {labels[1]}\n")
    bad = 0
    for name in names:
        both = [found.get(name, NOT_RUN) for found in cases]
        note, broken = unit_note(name, both, labels)
        out.write(unit_row(name, both, note) + "\n")
        bad += broken
    problems = must_pass_problems(cases, labels)
    for line in problems:
        info(out, line)
    bad += len(problems)
    for label, found in zip(labels, cases):
        info(out, unit_summary(label, found, names))
    if bad:
        raise Fatal(f"{bad} mainline unit test case(s) break the rules above (marked <-- or FAIL)")
    info(out, f"mainline unit tests: no failure, minor-wp passes on shmem and hugetlb, "
         f"{labels[0]} = {labels[1]} but for the skips explained")
    return 0


# --- mutant: a kernel with a planted bug (mutants/) -----------------------

def mutant_header(patch_text, field):
    """The values of a mutant patch's "FIELD: VALUE" header lines."""
    found = []
    for line in split_lines(patch_text):
        if line.startswith("diff --git "):
            break
        if line.startswith(field + ":"):
            found.append(line[len(field) + 1:].strip())
    return found


def expected_failures(patch_text):
    """The globs of a mutant patch's "Expect-fail: GLOB" header lines."""
    return mutant_header(patch_text, "Expect-fail")


def all_cases(run, kselftest):
    """{NAME: Case} of every subtest in RUN: uffd-continue-wp's (KSELFTEST,
    its kselftest_cases()) and the mainline unit tests' by their own names,
    any other test's as "TEST/CASE"."""
    cases = dict(kselftest)
    cases.update(unit_cases(run))
    for test in started_tests(run):
        names = [name for name, _ in commands(test)]
        if not names or names[0] == "uffd-continue-wp" or any(
                "uffd-unit-ktap " in command for _, command in commands(test)):
            continue
        for sub_test in test.subtests:
            name, case = kselftest_case(sub_test)
            cases[f"{names[0]}/{name}"] = case
    return cases


def mutant(patch, directory, run_id, out):
    """Check the run of the mutant of PATCH in DIRECTORY: every case an
    Expect-fail glob names (at least one each) fails, the run ended with a
    kernel report matching Expect-splat if the patch has one, and the
    kselftest skips nothing (the kernel has the mode: a skip would let a
    broken feature pass as a missing one). Fatal otherwise."""
    text = read_text(patch)
    globs = expected_failures(text)
    splats = mutant_header(text, "Expect-splat")
    if not globs and not splats:
        raise Fatal(f"{patch} has no 'Expect-fail: GLOB' or 'Expect-splat: REGEX' line")
    problem = run_id_problem(directory, run_id)
    if problem:
        raise Fatal(f"{directory}: {problem}")
    bad = 0
    status = read_text(f"{directory}/status") if os.path.isfile(f"{directory}/status") else ""
    for regex in splats:
        caught = re.search(regex, status)
        out.write(f"{('kernel report /' + regex + '/').ljust(40)} "
                  f"{'seen: ' + one_line(status)[:100] if caught else 'not seen (status: ' + (one_line(status) or 'none') + ')'}\n")
        bad += not caught
    if not globs:
        if bad:
            raise Fatal(f"the tests did not catch {os.path.basename(patch)} as it expects")
        info(out, "caught: the kernel reported it")
        return 0
    run = load_run(directory, run_id)
    kselftest = kselftest_cases(run, "uffd-continue-wp")
    cases = all_cases(run, kselftest)
    if not cases:
        raise Fatal(f"no test cases in {directory}/results.ktap (did the suite run?)")
    for glob in globs:
        hits = [name for name in cases if fnmatch.fnmatchcase(name, glob)]
        failed = [name for name in hits if cases[name].result == "FAIL"]
        out.write(f"{glob.ljust(40)} {len(failed)} of {len(hits)} case(s) fail\n")
        for name in hits:
            if cases[name].result != "FAIL":
                out.write(f"    {name}: {cases[name].result}, want FAIL\n")
        bad += not hits or len(failed) != len(hits)
    skipped = [name for name, case in kselftest.items() if case.result == "SKIP"]
    for name in skipped:
        out.write(f"    {name}: SKIP ({cases[name].reason}), want no skip\n")
    bad += bool(skipped)
    others = sorted(name for name, case in cases.items() if case.result == "FAIL"
                    and not any(fnmatch.fnmatchcase(name, g) for g in globs))
    if others:
        info(out, f"also failed ({len(others)}): {' '.join(others)}")
    if bad:
        raise Fatal(f"the tests did not catch {os.path.basename(patch)} as it expects")
    info(out, f"caught: {sum(c.result == 'FAIL' for c in cases.values())} of {len(cases)} cases fail, none skips")
    return 0


# --- command line ----------------------------------------------------------

USAGE = {
    "report": "ktap.py report [--run-id ID] RESULTDIR...",
    "compare": "ktap.py compare [--run-id ID] TEST PATCHED-DIR BASE-DIR MAINLINE-DIR",
    "mainline": "ktap.py mainline [--run-id ID] PATCHED-DIR MAINLINE-DIR",
    "mutant": "ktap.py mutant [--run-id ID] MUTANT-PATCH RESULT-DIR",
}


class Help(Exception):
    """-h or --help was given: print the usage and succeed."""


def parse_args(command, args):
    """(RUN_ID or None, OPERANDS) of COMMAND's arguments ARGS."""
    run_id, operands = None, []
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            operands += rest
            break
        if arg in ("-h", "--help"):
            raise Help()
        if arg == "--run-id" or arg.startswith("--run-id="):
            if arg == "--run-id":
                if not rest:
                    raise Fatal(f"--run-id needs an ID; usage: {USAGE[command]}")
                arg = "--run-id=" + rest.pop(0)
            run_id = arg[len("--run-id="):]
            if not run_id:
                raise Fatal(f"--run-id needs a non-empty ID; usage: {USAGE[command]}")
        elif arg.startswith("-") and arg != "-":
            raise Fatal(f"unknown option '{arg}'; usage: {USAGE[command]}")
        else:
            operands.append(arg)
    return run_id, operands


def run_command(command, args, out):
    """Run COMMAND (report, compare, mainline, mutant) with ARGS; its exit status."""
    run_id, operands = parse_args(command, args)
    if command == "report" and operands:
        return report(operands, run_id, out)
    if command == "compare" and len(operands) == 4:
        return compare(operands[0], operands[1:], run_id, out)
    if command == "mainline" and len(operands) == 2:
        return mainline(operands, run_id, out)
    if command == "mutant" and len(operands) == 2:
        return mutant(operands[0], operands[1], run_id, out)
    raise Fatal(f"usage: {USAGE[command]}")


def main(argv=None, out=None, err=None):
    """The command line: ktap.py COMMAND [ARG...]; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    out = out or sys.stdout
    err = err or sys.stderr
    command = argv[0] if argv else ""
    try:
        if command in ("-h", "--help"):
            out.write("usage: " + "\n       ".join(USAGE.values()) + "\n")
            return 0
        if command not in USAGE:
            raise Fatal("usage: " + " | ".join(USAGE.values()))
        return run_command(command, argv[1:], out)
    except Help:
        out.write(f"usage: {USAGE[command]}\n")
        return 0
    except Fatal as e:
        out.flush()
        err.write(f"error: {e}\n")
        return 1


def cli():
    """Run main() on the process's arguments and standard streams."""
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(encoding="utf-8", errors="surrogateescape")
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away (report.sh | head): stop quietly, as awk would
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 1
    sys.exit(status)


if __name__ == "__main__":
    cli()
