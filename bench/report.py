#!/usr/bin/env python3
"""Tables and a plot from bench/run.sh's raw outputs.

usage: report.py [--rounds N] OUTDIR IMPL...   (the first IMPL is the one compared)

Reads OUTDIR/IMPL.{p2p,coll2,coll4,over}.ROUND and IMPL.start, takes per line the median over
the rounds of each benchmark's per-iteration median (P50), and writes OUTDIR/report.md (also
printed): one table per benchmark with every implementation's figure and the ratio of the
first implementation to the BEST peer (times: below 1 means faster; bandwidth: above 1 means
faster), plus the machine, the rounds and the statistic. When bench/probe.c's figures
(IMPL.probe.TEST.ROUND.{before,after}) show the machine in two modes, a last section sorts
each benchmark's rounds by mode and compares its key lines within each mode. If matplotlib
imports, also
OUTDIR/bench.png: latency and bandwidth by size, bcast and allreduce by size at 2 and 4 ranks.
"""
import glob
import os
import platform
import statistics
import sys
import time


def fmt_size(s):
    for unit, n in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if s >= n and s % n == 0:
            return f"{s // n} {unit}"
    return f"{s} B"


def machine():
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Linux {platform.release()}"


def load_rounds(out, impl, test):
    """{round: {(name, bytes): value}} from the lines 'NAME BYTES VALUE' of
    OUTDIR/IMPL.TEST.ROUND."""
    res = {}
    for f in glob.glob(os.path.join(out, f"{impl}.{test}.*")):
        r = f.rsplit(".", 1)[1]
        if not r.isdigit():
            continue
        one = {}
        for line in open(f):
            p = line.split()
            if len(p) == 3 and not line.startswith("#"):
                try:
                    one[(p[0], int(p[1]))] = float(p[2])
                except ValueError:
                    continue
        res[int(r)] = one
    return res


def load(out, impl, test):
    """{(name, bytes): [value per round]}, the rounds in order."""
    res = {}
    for _, one in sorted(load_rounds(out, impl, test).items()):
        for k, v in one.items():
            res.setdefault(k, []).append(v)
    return res


def load_over(out, impl):
    """bench/pingpong.c's 'size iters latency bw' lines: {('lat', size): [latency]}."""
    res = {}
    for f in glob.glob(os.path.join(out, f"{impl}.over.*")):
        if f.endswith(".err"):
            continue
        for line in open(f):
            p = line.split()
            if len(p) == 4 and not line.startswith("#"):
                res.setdefault(("lat", int(p[0])), []).append(float(p[2]))
    return res


def probe_line_ns(out, impl, test, r, when):
    """bench/probe.c's one-way time of a cache line just before or after round `r` of
    `test`, or None."""
    try:
        for line in open(os.path.join(out, f"{impl}.probe.{test}.{r}.{when}")):
            p = line.split()
            if len(p) == 2 and p[0] == "line":
                return float(p[1])
    except (OSError, ValueError):
        pass
    return None


# The lines compared per mode, by benchmark: the small and mid sizes where the two modes
# differ most, and the collectives' lines that issue 13's targets name.
COLL_MODE = [("barrier", 0), ("bcast", 8), ("reduce", 8), ("allreduce", 8), ("reduce", 64),
             ("scatter", 8), ("alltoall", 64)]
MODE_LINES = {
    "p2p": [("lat", 8), ("lat", 1024), ("lat", 2048), ("lat", 16384), ("lat", 4 << 20),
            ("bw", 8), ("bw", 1024), ("bw", 2048), ("bw", 16384), ("bw", 32768)],
    "coll2": COLL_MODE,
    "coll4": COLL_MODE + [("bcast", 256 << 10), ("allgather", 1 << 20)],
}
MODE_TITLES = {"p2p": "Point-to-point", "coll2": "Collectives, 2 ranks,",
               "coll4": "Collectives, 4 ranks on 2 cores,"}


def probed_rounds(out, impls, test):
    """{(impl, round): ([probe before, after], {(name, bytes): value})} of the rounds of
    `test` that carry both probes."""
    rounds = {}
    for impl in impls:
        for r, vals in load_rounds(out, impl, test).items():
            pb = [probe_line_ns(out, impl, test, r, w) for w in ("before", "after")]
            if None not in pb:
                rounds[impl, r] = (pb, vals)
    return rounds


def by_mode(out, impls, lines):
    """Sort each implementation's rounds of every benchmark into the machine's fast and slow
    mode (by the probe before and after the run; a run whose probes disagree is left out)
    and compare MODE_LINES within each mode. One split for all benchmarks: the geometric
    mean of the extreme probes. Nothing is written when the probes saw one mode only."""
    probed = {test: probed_rounds(out, impls, test) for test in MODE_LINES}
    probes = [p for rounds in probed.values() for pb, _ in rounds.values() for p in pb]
    if not probes or max(probes) < 1.8 * min(probes):
        return
    split = (min(probes) * max(probes)) ** 0.5
    lines.extend(["", "## By the machine's mode", "",
                  f"bench/probe.c's one-way time of a dirty cache line between the two CPUs, "
                  f"just before and after each benchmark run, ranged {min(probes):.0f}-"
                  f"{max(probes):.0f} ns; a run is fast when both are below {split:.0f} ns, "
                  "slow when both are above, and left out when they disagree."])
    for test, rounds in probed.items():
        if rounds:
            mode_tables(test, rounds, split, impls, lines)


def mode_tables(test, rounds, split, impls, lines):
    """The rounds of `test` by mode, then its MODE_LINES per mode."""
    mode = {}
    for key, (pb, _) in rounds.items():
        kinds = {"fast" if p < split else "slow" for p in pb}
        mode[key] = kinds.pop() if len(kinds) == 1 else "mixed"
    lines.extend(["", f"### {MODE_TITLES[test]} rounds by mode", ""])
    nr = max(r for _, r in rounds)
    lines.append("| round |" + "".join(f" {i} |" for i in impls))
    lines.append("|" + "---|" * (len(impls) + 1))
    for r in range(1, nr + 1):
        cells = ""
        for i in impls:
            if (i, r) in rounds:
                pb = rounds[i, r][0]
                cells += f" {mode[i, r]} ({pb[0]:.0f}/{pb[1]:.0f} ns) |"
            else:
                cells += " - |"
        lines.append(f"| {r} |{cells}")
    for m in ("fast", "slow"):
        if m not in mode.values():
            continue
        lines.extend(["", f"Medians of the {m} rounds (rounds counted in brackets; times in "
                      "microseconds, bandwidth in MB/s; ratio to the best peer as above):", ""])
        lines.append("| line |" + "".join(f" {i} |" for i in impls) + f" {impls[0]}/best |")
        lines.append("|" + "---|" * (len(impls) + 2))
        for name, size in MODE_LINES[test]:
            med = []
            for i in impls:
                v = [vals[name, size] for (j, r), (_, vals) in rounds.items()
                     if j == i and mode[j, r] == m and (name, size) in vals]
                med.append((statistics.median(v), len(v)) if v else None)
            pv = [x[0] for x in med[1:] if x]
            ratio = "-"
            if med[0] and pv:
                best = max(pv) if name == "bw" else min(pv)
                ratio = f"{med[0][0] / best:.2f}"
            cells = "".join(f" {x[0]:.{1 if name == 'bw' else 2}f} ({x[1]}) |" if x else " - |"
                            for x in med)
            lines.append(f"| {name} {fmt_size(size)} |{cells} {ratio} |")


def main():
    args = sys.argv[1:]
    rounds = "?"
    if args[:1] == ["--rounds"]:
        rounds, args = args[1], args[2:]
    out, impls = args[0], args[1:]
    base, peers = impls[0], impls[1:]
    data = {}
    for impl in impls:
        for test in ("p2p", "coll2", "coll4"):
            data[impl, test] = {k: statistics.median(v) for k, v in load(out, impl, test).items()}
        data[impl, "over"] = {k: statistics.median(v) for k, v in load_over(out, impl).items()}

    lines = [
        "# OxiMPI and its peers, side by side",
        "",
        f"{time.strftime('%Y-%m-%d')}; {machine()}; {rounds} rounds alternating the "
        "implementations; each figure is the median over the rounds of the benchmark's "
        "median per-iteration time (P50). Ratio: OxiMPI / the best peer on that line "
        "(time: below 1 is faster; bandwidth: above 1 is faster). Sources: bench/p2p.c, "
        "bench/coll.c, bench/pingpong.c; runner bench/run.sh.",
    ]
    worst = []

    def table(title, test, names, unit, higher_better=False):
        keys = sorted(
            {k for impl in impls for k in data[impl, test] if k[0] in names},
            key=lambda k: (names.index(k[0]), k[1]),
        )
        if not keys:
            return
        lines.extend(["", f"## {title}", ""])
        head = f"| {'op' if len(names) > 1 else ''} | size |" + "".join(f" {i} |" for i in impls)
        head += f" {base}/best |"
        lines.append(head)
        lines.append("|" + "---|" * (len(impls) + 3))
        for k in keys:
            vals = [data[impl, test].get(k) for impl in impls]
            pv = [v for v in vals[1:] if v is not None and v > 0]
            ratio = "-"
            if vals[0] is not None and vals[0] > 0 and pv:
                best = max(pv) if higher_better else min(pv)
                r = vals[0] / best
                ratio = f"{r:.2f}"
                worst.append((r if not higher_better else 1 / r, title, k))
            cells = "".join(
                f" {v:.{1 if higher_better else 2}f} |" if v is not None else " - |" for v in vals
            )
            lines.append(f"| {k[0] if len(names) > 1 else ''} | {fmt_size(k[1])} |{cells} {ratio} |")
        lines.append(f"\n({unit})")

    table("Latency, 2 ranks (one way)", "p2p", ["lat"], "microseconds")
    table("Bandwidth, 2 ranks (window of 64)", "p2p", ["bw"], "MB/s", higher_better=True)
    colls = ["barrier", "bcast", "reduce", "allreduce", "gather", "allgather", "scatter", "alltoall"]
    table("Collectives, 2 ranks", "coll2", colls, "microseconds, slowest rank")
    table("Collectives, 4 ranks on 2 cores (oversubscribed)", "coll4", colls,
          "microseconds, slowest rank")
    table("Two ping-pong pairs at once, 4 ranks on 2 cores", "over", ["lat"],
          "microseconds, mean of the pairs' one-way latency")

    med = {}
    for impl in impls:
        f = os.path.join(out, f"{impl}.start")
        ts = [float(x) for x in open(f)] if os.path.exists(f) else []
        med[impl] = statistics.median(ts) if ts else None
    lines.extend(["", "## Start-up: wall time of `mpiexec -n 4 hello` (median of 10)", ""])
    lines.append("|" + "".join(f" {i} |" for i in impls))
    lines.append("|" + "---|" * len(impls))
    lines.append("|" + "".join(f" {med[i] * 1e3:.0f} ms |" if med[i] else " - |" for i in impls))

    by_mode(out, impls, lines)

    if worst:
        worst.sort(reverse=True)
        lines.extend(["", "## Where OxiMPI is furthest behind the best peer", ""])
        for r, title, k in worst[:8]:
            lines.append(f"- {title}: {k[0]} {fmt_size(k[1])}: {r:.2f}x the best peer's time")
    text = "\n".join(lines) + "\n"
    open(os.path.join(out, "report.md"), "w").write(text)
    print(text)
    plot(out, impls, data)


def plot(out, impls, data):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(no matplotlib: no plot)")
        return
    panels = [
        ("p2p", "lat", "Latency, 2 ranks (us)"),
        ("p2p", "bw", "Bandwidth, 2 ranks (MB/s)"),
        ("coll2", "bcast", "Bcast, 2 ranks (us)"),
        ("coll2", "allreduce", "Allreduce, 2 ranks (us)"),
        ("coll4", "bcast", "Bcast, 4 ranks on 2 cores (us)"),
        ("coll4", "allreduce", "Allreduce, 4 ranks on 2 cores (us)"),
    ]
    fig, axes = plt.subplots(3, 2, figsize=(11, 12))
    for ax, (test, name, title) in zip(axes.flat, panels):
        for impl in impls:
            pts = sorted((k[1], v) for k, v in data[impl, test].items() if k[0] == name and k[1] > 0)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3,
                        label=impl, lw=2.2 if impl == impls[0] else 1.2)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("message size (bytes)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"OxiMPI and its peers: medians of per-iteration times, {machine()}", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "bench.png"), dpi=90)
    print(f"plot: {os.path.join(out, 'bench.png')}")


if __name__ == "__main__":
    main()
