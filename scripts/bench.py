#!/usr/bin/env python3
"""bench.py [--run-id ID] OUT-DIR RESULT-DIR...: the figures of a make bench run.

Reads the "# csv: MEMORY,TEST,STRATEGY,BATCH,THREADS,STAT,VALUE" lines that
guest/bench/uffd-bench.c wrote into each RESULT-DIR/results.ktap (one
directory per kernel, named after it) and writes into OUT-DIR:
  results.csv   every figure, with the kernel in front
  ratios.md     the tables the README shows: ratios, round trips, scaling
  ioctl.dat     ns per page by batch, one gnuplot data block per memory type
  bench.gp      the gnuplot script that draws bench.png from ioctl.dat
Fails if a kernel's benchmark did not run, or any of its groups failed (the
benchmark checks its own work: every ioctl, every page's pagemap bits).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ktap  # noqa: E402  (needs the path above)

FIELDS = ("memory", "test", "strategy", "batch", "threads", "stat", "value")
LABELS = {"patched": "patched 6.1", "debian-6.12": "6.12", "debian-6.1": "6.1"}


def bench_rows(run, kernel):
    """The figures (dicts of FIELDS and kernel) of the uffd-bench test in
    RUN; Fatal if it did not run or a group failed."""
    for test in ktap.started_tests(run):
        if not any(command.split()[:1] == ["uffd-bench"] for _, command in ktap.commands(test)):
            continue
        clock = [d for sub in test.subtests for d in sub.diagnostics
                 if d.startswith("mode:") and "clocksource" in d]
        if not clock or "jiffies" in clock[0]:
            raise ktap.Fatal(f"{kernel}: the guest's clock is too coarse to time with "
                             f"({clock[0] if clock else 'no clocksource line'}): "
                             "boot with tsc=reliable (make bench does)")
        failed = [sub.name for sub in test.subtests if sub.result != "PASS"]
        if test.result != "PASS" or failed or not test.subtests:
            raise ktap.Fatal(f"{kernel}: uffd-bench {test.result or 'did not finish'}"
                             f"{': ' + ', '.join(failed) if failed else ''}")
        rows = []
        for sub in test.subtests:
            for line in sub.diagnostics:
                if not line.startswith("csv: "):
                    continue
                values = line[len("csv: "):].split(",")
                if len(values) != len(FIELDS):
                    raise ktap.Fatal(f"{kernel}: bad csv line '{line}'")
                row = dict(zip(FIELDS, values))
                row["kernel"] = kernel
                row["value"] = float(row["value"])
                rows.append(row)
        return rows
    raise ktap.Fatal(f"{kernel}: uffd-bench did not run (no 'cmd: uffd-bench' test)")


def figure(rows, kernel, memory, test, strategy, batch, threads, stat):
    """The VALUE of one figure, or None."""
    for r in rows:
        if (r["kernel"], r["memory"], r["test"], r["strategy"], r["batch"],
                r["threads"], r["stat"]) == (kernel, memory, test, strategy,
                                             str(batch), str(threads), stat):
            return r["value"]
    return None


def spread(rows, kernel, memory, test, strategy, batch, threads=1, digits=2):
    """"MEDIAN (P10-P90)" of a figure, "-" if the kernel has none."""
    med = figure(rows, kernel, memory, test, strategy, batch, threads, "median")
    if med is None:
        return "-"
    lo = figure(rows, kernel, memory, test, strategy, batch, threads, "p10")
    hi = figure(rows, kernel, memory, test, strategy, batch, threads, "p90")
    if lo is None or hi is None:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})"


def values(rows, key, **match):
    """The distinct values of KEY among the rows that MATCH, in order."""
    seen = []
    for r in rows:
        if all(r[k] == v for k, v in match.items()) and r[key] not in seen:
            seen.append(r[key])
    return seen


def table(header, lines):
    """A markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    out += ["| " + " | ".join(line) + " |" for line in lines]
    return "\n".join(out) + "\n"


def tables(rows, kernels):
    """The markdown of ratios.md."""
    mainline = [k for k in kernels if k != "debian-6.1"]
    label = [LABELS.get(k, k) for k in mainline]
    out = ["## ioctl cost: ratios of ns per page, median of the rounds (p10-p90)\n"]
    lines = []
    for memory in values(rows, "memory"):
        for batch in values(rows, "batch", memory=memory, test="ioctl-ratio"):
            lines.append([memory, batch] +
                         [spread(rows, k, memory, "ioctl-ratio", "one/plain", batch) for k in mainline] +
                         [spread(rows, k, memory, "ioctl-ratio", "two/one", batch) for k in mainline])
    out.append(table(["memory", "pages/ioctl"] + [f"one/plain {x}" for x in label] +
                     [f"two/one {x}" for x in label], lines))

    out.append("\n## ioctl cost: ns per page, median (p10-p90)\n")
    lines = []
    for memory in values(rows, "memory"):
        for batch in values(rows, "batch", memory=memory, test="ioctl"):
            for strategy in ("plain", "one", "two"):
                lines.append([memory, batch, strategy] +
                             [spread(rows, k, memory, "ioctl", strategy, batch, digits=0)
                              for k in kernels])
    out.append(table(["memory", "pages/ioctl", "strategy"] +
                     [LABELS.get(k, k) for k in kernels], lines))

    out.append("\n## fault round trip and write tracking: ns, median (p10-p90)\n")
    lines = []
    for memory in values(rows, "memory"):
        for test, strategies in (("fault", ("plain", "one", "two")),
                                 ("wp-fault", ("one", "two"))):
            for strategy in strategies:
                cells = [spread(rows, k, memory, test, strategy, 1, digits=0) for k in kernels]
                if any(c != "-" for c in cells):
                    lines.append([memory, test, strategy] + cells)
    out.append(table(["memory", "test", "strategy"] + [LABELS.get(k, k) for k in kernels],
                     lines))

    out.append("\n## scaling: faults per second, one handler, write tracking strategy\n")
    lines = []
    for memory in values(rows, "memory"):
        for threads in values(rows, "threads", memory=memory, test="scaling"):
            cells = []
            for k in kernels:
                strategy = next(iter(values(rows, "strategy", kernel=k, memory=memory,
                                            test="scaling")), None)
                v = figure(rows, k, memory, "scaling", strategy, 1, threads, "per_sec")
                cells.append("-" if v is None else f"{v:.0f} ({strategy})")
            lines.append([memory, threads] + cells)
    out.append(table(["memory", "faulting threads"] + [LABELS.get(k, k) for k in kernels],
                     lines))
    return "\n".join(out)


def write_dat(path, rows, memories, test, columns, digits):
    """A gnuplot data file: per memory type a block of lines "BATCH VALUE...",
    the median of TEST for each (kernel, strategy) of COLUMNS."""
    with open(path, "w", encoding="utf-8") as f:
        for memory in memories:
            f.write(f"# {memory}: batch " + " ".join(f"{k}:{s}" for k, s in columns) + "\n")
            for batch in values(rows, "batch", memory=memory, test=test):
                cells = [figure(rows, k, memory, test, s, batch, 1, "median")
                         for k, s in columns]
                f.write(batch + " " + " ".join("NaN" if c is None else f"{c:.{digits}f}"
                                               for c in cells) + "\n")
            f.write("\n\n")


def plot_files(rows, kernels, out_dir):
    """ioctl.dat, ratio.dat and bench.gp: ns per page against pages per
    ioctl, and the per-round ratios, one panel per memory type each."""
    columns = [(k, s) for k in kernels for s in ("plain", "one", "two")
               if any(r["kernel"] == k and r["strategy"] == s and r["test"] == "ioctl"
                      for r in rows)]
    ratios = [(k, r) for k in kernels for r in ("one/plain", "two/one")
              if any(x["kernel"] == k and x["strategy"] == r for x in rows)]
    memories = values(rows, "memory")
    write_dat(f"{out_dir}/ioctl.dat", rows, memories, "ioctl", columns, 1)
    write_dat(f"{out_dir}/ratio.dat", rows, memories, "ioctl-ratio", ratios, 3)
    with open(f"{out_dir}/bench.gp", "w", encoding="utf-8") as f:
        f.write('set terminal png size 1200,900\nset output "bench.png"\n'
                f"set multiplot layout 2,{len(memories)}\n"
                "set key top right\nset grid\n"
                'set xlabel "pages per ioctl"\n')
        f.write('set logscale xy\nset ylabel "ns per page (median of rounds)"\n')
        for i, memory in enumerate(memories):
            f.write(f'set title "{memory}: ns per page"\nplot ' + ", \\\n     ".join(
                f'"ioctl.dat" index {i} using 1:{j + 2} with linespoints '
                f'title "{LABELS.get(k, k)} {s}"' for j, (k, s) in enumerate(columns)) + "\n")
        f.write('unset logscale y\nset ylabel "ratio (median of per-round ratios)"\n')
        for i, memory in enumerate(memories):
            f.write(f'set title "{memory}: one/plain and two/one"\nplot ' + ", \\\n     ".join(
                f'"ratio.dat" index {i} using 1:{j + 2} with linespoints '
                f'title "{LABELS.get(k, k)} {r}"' for j, (k, r) in enumerate(ratios)) + "\n")
        f.write("unset multiplot\n")


def main(argv):
    run_id = None
    if argv[:1] == ["--run-id"] and len(argv) > 1:
        run_id, argv = argv[1], argv[2:]
    if len(argv) < 2:
        sys.stderr.write("usage: bench.py [--run-id ID] OUT-DIR RESULT-DIR...\n")
        return 2
    out_dir, directories = argv[0], argv[1:]
    kernels = [ktap.shell_basename(d) for d in directories]
    try:
        rows = []
        for directory, kernel in zip(directories, kernels):
            rows += bench_rows(ktap.load_run(directory, run_id), kernel)
    except ktap.Fatal as e:
        sys.stderr.write(f"error: {e}\n")
        return 1
    os.makedirs(out_dir, exist_ok=True)
    with open(f"{out_dir}/results.csv", "w", encoding="utf-8") as f:
        f.write("kernel," + ",".join(FIELDS) + "\n")
        for r in rows:
            f.write(",".join([r["kernel"]] + [str(r[k]) for k in FIELDS]) + "\n")
    text = tables(rows, kernels)
    with open(f"{out_dir}/ratios.md", "w", encoding="utf-8") as f:
        f.write(text)
    plot_files(rows, kernels, out_dir)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
