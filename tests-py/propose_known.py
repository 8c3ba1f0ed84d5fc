"""Propose known-failures.txt lines from the last suite runs (tests-py/work/LABEL-np*/).

    python3 tests-py/propose_known.py [--label oximpi] > /tmp/kf && review, then merge

Every test that failed or errored at some rank count gets one line: its id, np= when it did
not fail at every rank count that ran it (a count, or "singleton"), and the reason recorded
by observe/sitecustomize.py (exception and the mpi4py.MPI method it came from). Lines are grouped by reason, most frequent first,
so the output doubles as a list of what the library lacks, by impact.
"""

import argparse
import collections
import json
import pathlib
import re

HERE = pathlib.Path(__file__).resolve().parent


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--label", default="oximpi")
    ap.add_argument("--workdir", default=str(HERE / "work"))
    args = ap.parse_args()

    failed = collections.defaultdict(dict)  # id -> {np: msg}
    ran = collections.defaultdict(set)  # id -> nps where it ran (not skipped)
    nps = []
    for d in sorted(pathlib.Path(args.workdir).glob(f"{args.label}-np*")):
        np = d.name.rsplit("np", 1)[1]
        np = int(np) if np.isdigit() else np
        nps.append(np)
        for ev_file in d.glob("rank*.events"):
            for line in ev_file.read_text(errors="replace").splitlines():
                try:
                    ev = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if ev.get("ev") != "end":
                    continue
                if ev["outcome"] != "skip":
                    ran[ev["id"]].add(np)
                if ev["outcome"] in ("fail", "error", "xpass"):
                    failed[ev["id"]].setdefault(np, ev.get("msg", ""))

    by_reason = collections.defaultdict(list)
    for tid, per_np in failed.items():
        msg = next(iter(per_np.values()))
        # One reason per root cause: drop object addresses and numbers that vary by test.
        reason = re.sub(r"0x[0-9a-f]+", "0x..", msg) or "(no message)"
        np_field = ""
        if set(per_np) != ran[tid]:
            np_field = "np=" + ",".join(str(n) for n in sorted(per_np, key=str))
        by_reason[reason].append((tid, np_field))

    for reason, tests in sorted(by_reason.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"# {len(tests)} tests: {reason}")
        for tid, np_field in sorted(tests):
            print(f"{tid:<70} {np_field:<12} {reason}".rstrip())
        print()


if __name__ == "__main__":
    main()
