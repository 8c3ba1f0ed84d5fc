"""Run the mpi4py tutorial programs of examples/py/ and check their output.

Each example (NAME.py, or NAME.cmd for a `python -m ...` command) carries its test in
header comments:
    # np: N                     ranks to run it with
    # run: ARGS...              (.cmd) arguments given to python instead of the file
    # expect: REGEX             must occur in stdout (re.search over the whole text)
    # expect-count: K REGEX     must occur exactly K times in stdout (re.findall)
The launcher may splice the output of different ranks in the middle of a line, so the
patterns are searched in the whole text, not anchored to lines.
An example passes when it exits 0 within the timeout and every expectation holds. The
examples also assert their own results (rank 0 compares with a serial computation, ...).
Prints one line per example and "N passed, N failed" last; exit 1 on any failure.
"""

import argparse
import pathlib
import re
import subprocess
import sys
import time


def parse_header(path):
    spec = {"np": 1, "run": None, "expect": [], "lines": []}
    for line in path.read_text().splitlines():
        m = re.match(r"#\s*(np|run|expect|expect-count):\s*(.*)$", line)
        if not m:
            continue
        key, value = m.group(1), m.group(2).strip()
        if key == "np":
            spec["np"] = int(value)
        elif key == "run":
            spec["run"] = value.split()
        elif key == "expect":
            spec["expect"].append(re.compile(value))
        else:
            count, regex = value.split(None, 1)
            spec["lines"].append((int(count), re.compile(regex)))
    if path.suffix == ".cmd" and spec["run"] is None:
        sys.exit(f"{path}: a .cmd example needs a '# run:' line")
    if not spec["expect"] and not spec["lines"]:
        sys.exit(f"{path}: no '# expect:' or '# expect-count:' line: nothing would be checked")
    return spec


def check(path, spec, proc, timed_out):
    errors = []
    if timed_out:
        errors.append("timed out")
    elif proc.returncode != 0:
        errors.append(f"exit status {proc.returncode}")
    for rx in spec["expect"]:
        if not rx.search(proc.stdout):
            errors.append(f"the output lacks {rx.pattern!r}")
    for count, rx in spec["lines"]:
        got = len(rx.findall(proc.stdout))
        if got != count:
            errors.append(f"{rx.pattern!r} occurs {got} times in the output, expected {count}")
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--python", required=True)
    ap.add_argument("--mpiexec", required=True, help="launcher command (split on spaces)")
    ap.add_argument("--dir", required=True, help="examples directory")
    ap.add_argument("--timeout", type=int, default=60, help="seconds per example")
    ap.add_argument("--filter", default="", help="only examples whose name matches this regex")
    args = ap.parse_args()

    paths = sorted(pathlib.Path(args.dir).glob("*.py")) + sorted(
        pathlib.Path(args.dir).glob("*.cmd")
    )
    paths = [p for p in paths if re.search(args.filter, p.stem)]
    passed = failed = 0
    for path in paths:
        spec = parse_header(path)
        argv = spec["run"] if spec["run"] is not None else [str(path)]
        cmd = [*args.mpiexec.split(), "-n", str(spec["np"]), args.python, *argv]
        start = time.monotonic()
        proc = subprocess.run(
            ["timeout", "-k", "10", str(args.timeout), *cmd],
            capture_output=True,
            text=True,
            check=False,
        )
        secs = time.monotonic() - start
        errors = check(path, spec, proc, proc.returncode in (124, 137))
        if errors:
            failed += 1
            print(f"FAIL {path.name} (np={spec['np']}, {secs:.1f}s): {'; '.join(errors)}")
            out = (proc.stdout + proc.stderr).strip().splitlines()
            for line in out[-30:]:
                print(f"    | {line}")
        else:
            passed += 1
            print(f"ok   {path.name} (np={spec['np']}, {secs:.1f}s)")
        sys.stdout.flush()
    print(f"examples: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
