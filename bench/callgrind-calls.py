#!/usr/bin/env python3
"""Inclusive instructions per call of functions in a callgrind output file (issue 13).

usage: bench/callgrind-calls.py CALLGRIND_OUT [REGEX ...]

For each function whose name matches one of the REGEXes (all when none is given): its call
count, inclusive instructions, and both per call (self = its own instructions). The calls are
those recorded while collection was on (valgrind --toggle-collect), so with
--toggle-collect='PMPI_*' a PMPI_ function's figure is what one call of it costs.
"""
import collections
import re
import sys

names = {}
incl = collections.Counter()
selfc = collections.Counter()
calls = collections.Counter()


def name(spec):
    """A function named by callgrind's name compression: '(id) name' or '(id)'."""
    m = re.match(r"\((\d+)\)(?: (.*))?", spec)
    if not m:
        return spec
    if m.group(2):
        names[m.group(1)] = m.group(2)
    return names.get(m.group(1), spec)


fn = cfn = None
pending = None  # the call count of the cost line that follows a calls= line
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("fn="):
        fn = name(line[3:])
    elif line.startswith("cfn="):
        cfn = name(line[4:])
    elif line.startswith("calls="):
        pending = int(line[6:].split()[0])
    elif line[:1].isdigit() or line[:1] in "+-*":
        parts = line.split()
        if len(parts) < 2:
            continue
        cost = int(parts[1])
        if pending is not None:
            calls[cfn] += pending
            if cfn != fn:  # a recursive call's cost is already in the caller's own lines
                incl[fn] += cost
            pending = None
        else:
            selfc[fn] += cost
            incl[fn] += cost

want = [re.compile(w) for w in sys.argv[2:]]
for f in sorted(incl, key=lambda f: -incl[f]):
    if want and not any(w.fullmatch(f) for w in want):
        continue
    n = max(calls[f], 1)
    print(f"{f:28s} calls {calls[f]:8d}  per call {incl[f] / n:9.1f}  self {selfc[f] / n:7.1f}")
