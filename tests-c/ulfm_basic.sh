#!/bin/bash
# Runs ulfm_basic under -disable-auto-cleanup: the job must go on after its last rank
# _exit(3)s, the survivors must pass, and the job's exit code must be the dead rank's (3).
# Under MPICH's hydra (mode mpich) the same flag is hydra's own.
out=$("$MPIEXEC" -disable-auto-cleanup -n "$NP" "$EXE")
rc=$?
echo "$out" | grep -v '^PASS '
if [ $rc -ne 3 ]; then
    echo "ulfm_basic.sh: exit code $rc, expected 3 (the dead rank's)" >&2
    exit 1
fi
echo "$out" | grep -qx 'PASS ulfm_basic' && echo 'PASS ulfm_basic'
