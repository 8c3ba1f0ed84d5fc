#!/usr/bin/env python3
"""bench/tcp-report.py: the table of bench/tcp.sh (docs/bench-tcp.md).

usage: tcp-report.py --rounds N --scale F OUTDIR REPORT IMPL...

Reads OUTDIR/IMPL.ROUND (bench/p2p.c output: "lat BYTES USEC", "bw BYTES MBPS"), takes the
median over the rounds of each figure, and writes the table with OxiMPI's ratio to the best
of the other implementations at every size. An existing REPORT keeps everything from its
first "## " heading on (the analysis and the earlier runs): only the latest table is new.
"""
import argparse
import datetime
import os
import platform
import statistics

ROWS = [("lat", 8, "latency 8 B (us)"), ("lat", 1024, "latency 1 KiB (us)"),
        ("bw", 65536, "bandwidth 64 KiB (MB/s)"), ("bw", 4194304, "bandwidth 4 MiB (MB/s)")]
NAMES = {"oximpi": "OxiMPI", "mpich": "MPICH 4.0.2 (ch4:ucx, tcp)", "openmpi": "Open MPI (ob1, tcp)"}


def figures(path):
    got = {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) == 3 and w[0] in ("lat", "bw"):
                got[(w[0], int(w[1]))] = float(w[2])
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--scale", required=True)
    ap.add_argument("--load", default="", help="the host's load average, as the script read it")
    ap.add_argument("--oximpi-env", default="", help="settings OxiMPI's ranks were given")
    ap.add_argument("outdir")
    ap.add_argument("report")
    ap.add_argument("impls", nargs="+")
    a = ap.parse_args()
    med, counts = {}, {}
    for impl in a.impls:
        runs = []
        for r in range(1, a.rounds + 1):
            p = os.path.join(a.outdir, f"{impl}.{r}")
            if os.path.exists(p):
                f = figures(p)
                if f:
                    runs.append(f)
        counts[impl] = len(runs)
        for kind, size, _ in ROWS:
            vals = [f[(kind, size)] for f in runs if (kind, size) in f]
            if vals:
                med[(impl, kind, size)] = statistics.median(vals)
    peers = [i for i in a.impls if i != "oximpi"]
    head = "| | " + " | ".join(NAMES.get(i, i) for i in a.impls) + " | OxiMPI / best peer |"
    lines = [head, "|---" * (len(a.impls) + 2) + "|"]
    for kind, size, label in ROWS:
        cells = [f"{med[(i, kind, size)]:.2f}" if (i, kind, size) in med else "-" for i in a.impls]
        pv = [med[(i, kind, size)] for i in peers if (i, kind, size) in med]
        ratio = "-"
        if pv and ("oximpi", kind, size) in med:
            best = min(pv) if kind == "lat" else max(pv)
            ratio = f"{med[('oximpi', kind, size)] / best:.2f}"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {ratio} |")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = f"\nLoad average of the {os.cpu_count()} cores: {a.load}." if a.load else ""
    env = f"\nOxiMPI's ranks ran with {a.oximpi_env}." if a.oximpi_env else ""
    doc = f"""# Point-to-point over TCP between two hosts

Made by `bench/tcp.sh` ({now}, {platform.node()}, {os.cpu_count()} cores): two test hosts
(network namespaces of tests-hosts, one veth pair), one rank on each, `bench/p2p.c` built by
each implementation's own mpicc. Medians over {a.rounds} alternating rounds (runs that gave
figures: {", ".join(f"{NAMES.get(i, i)} {counts[i]}" for i in a.impls)}) of each run's
per-iteration P50; scale {a.scale}. Latency is one-way (half the round trip); bandwidth is a
window of 64 messages, as OSU's osu_bw. Ratio: latency below 1 and bandwidth above 1 mean
OxiMPI is ahead of the best of the others.{load}{env}

{chr(10).join(lines)}

Both "hosts" share one machine's cores, so these are TCP stack and progress costs over a
virtual link, not a physical network: the relative figures are what this measures. See the
script's header for each implementation's options.
"""
    kept = ""
    if os.path.exists(a.report):
        with open(a.report) as f:
            old = f.read()
        at = old.find("\n## ")
        if at >= 0:
            kept = old[at:]
    with open(a.report, "w") as f:
        f.write(doc + kept)
    print(doc)


if __name__ == "__main__":
    main()
