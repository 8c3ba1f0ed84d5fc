#!/bin/bash
# Runs dpm_singleton WITHOUT a launcher: the program must get one on demand when it spawns.
# usage: EXE=PROGRAM [TIMEOUT=S] tests-c/dpm_singleton.sh  (MPIEXEC and NP are ignored).
# Fails if the program fails or if any process it started outlives it by more than 10 s.
set -u
exe=${EXE:?EXE must name the compiled dpm_singleton program}
limit=${TIMEOUT:-60}
timeout "$limit" "$exe"
rc=$?
# Its launcher and children end on their own once it has gone.
for _ in $(seq 100); do
    left=$(pgrep -f -- "$exe" || true)
    [ -z "$left" ] && break
    sleep 0.1
done
if [ -n "$left" ]; then
    echo "dpm_singleton.sh: processes left behind:" >&2
    ps -o pid,ppid,stat,args -p $(echo $left | tr ' ' ,) >&2
    exit 1
fi
exit $rc
