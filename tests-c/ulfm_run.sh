#!/bin/bash
# Runs a ULFM test (ulfm_basic, ulfm_coord: the program $EXE) under -disable-auto-cleanup:
# the job must go on after one rank
# _exit(3)s, the survivors must pass, and the job's exit code must be the dead rank's (3).
# With OXIMPI_TEST_HYDRA=1 the same program also runs under MPICH's hydra
# (mpiexec.hydra -disable-auto-cleanup -genv OXIMPI_FT 1) on our library. Not by default:
# hydra 4.0.2 sometimes ends such a job with "Hangup (signal 1)" after the survivors
# finished (about one run in six here), which is still to be understood.
name=$(basename "$EXE")
run() {
    out=$("$@")
    rc=$?
    echo "$out" | grep -v '^PASS '
    if [ $rc -ne 3 ]; then
        echo "$name: $1: exit code $rc, expected 3 (the dead rank's)" >&2
        return 1
    fi
    echo "$out" | grep -qx "PASS $name" || {
        echo "$name: $1: no PASS line" >&2
        return 1
    }
}
run "$MPIEXEC" -disable-auto-cleanup -n "$NP" "$EXE" || exit 1
hydra=/usr/bin/mpiexec.hydra
lib=$(cd "$(dirname "$MPIEXEC")/../lib" 2>/dev/null && pwd)
if [ "${OXIMPI_TEST_HYDRA:-0}" = 1 ] && [ -x "$hydra" ] && [ -n "$lib" ] && [ -e "$lib/libmpi.so.12" ]; then
    LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
        run "$hydra" -disable-auto-cleanup -genv OXIMPI_FT 1 -n "$NP" "$EXE" || exit 1
fi
echo "PASS $name"
