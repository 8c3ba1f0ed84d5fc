#!/bin/bash
# Connect/accept between two separate mpiexec runs on this host, through the name service
# (tests-c/dpm_two_jobs.c does the MPI part: "server" publishes, "client" looks up).
#
# usage: MPIEXEC=LAUNCHER EXE=PROGRAM [NP=N] [TIMEOUT=S] tests-c/dpm_two_jobs.sh
#   MPIEXEC   the launcher (may carry options, split on spaces)
#   EXE       dpm_two_jobs compiled for that launcher's MPI (tests-c/run.sh builds it)
#   NP        ranks per job (default 1); TIMEOUT: limit for the whole test (default 60 s)
#
# Both jobs must reach the same name service:
#   - our mpiexec: OXIMPI_NAMESERVER=@<unique name> in both runs' environment;
#   - MPICH's hydra: a hydra_nameserver started here on a free port, given to both runs
#     with -nameserver 127.0.0.1:PORT.
# Prints both jobs' output (prefixed "server| " and "client| ") and "PASS dpm_two_jobs" when
# both jobs exit 0 and report success; exits non-zero otherwise. Everything it starts is
# ended on exit, also when it is itself interrupted or timed out (SIGTERM).
set -u

read -r -a launcher <<<"${MPIEXEC:?MPIEXEC must name the launcher to test}"
exe=${EXE:?EXE must name the compiled dpm_two_jobs program}
np=${NP:-1}
limit=${TIMEOUT:-60}
# The jobs stop a little before the caller's limit, so their output can still be shown.
job_limit=$((limit > 20 ? limit - 10 : limit))
service=oximpi-test-$$
work=$(mktemp -d "${TMPDIR:-/tmp}/dpm_two_jobs.XXXXXX")
pids=()

cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "dpm_two_jobs.sh: interrupted" >&2; exit 143' TERM INT HUP

extra=()
if "${launcher[0]}" --version 2>&1 | grep -q HYDRA; then
    # Hydra: a private name server on a free port (retry a few random ports).
    for try in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 30000))
        hydra_nameserver -port "$port" >"$work/nameserver.log" 2>&1 &
        ns=$!
        sleep 0.3
        if kill -0 "$ns" 2>/dev/null; then
            pids+=("$ns")
            extra=(-nameserver "127.0.0.1:$port")
            break
        fi
    done
    if [ ${#extra[@]} -eq 0 ]; then
        echo "dpm_two_jobs.sh: could not start hydra_nameserver" >&2
        cat "$work/nameserver.log" >&2
        exit 1
    fi
else
    export OXIMPI_NAMESERVER=@$service
fi

# The client starts first, so its lookup really has to wait for the publication.
timeout -k 5 "$job_limit" "${launcher[@]}" "${extra[@]}" -n "$np" "$exe" client "$service" \
    </dev/null >"$work/client.out" 2>&1 &
cpid=$!
pids+=("$cpid")
sleep 0.5
timeout -k 5 "$job_limit" "${launcher[@]}" "${extra[@]}" -n "$np" "$exe" server "$service" \
    </dev/null >"$work/server.out" 2>&1 &
spid=$!
pids+=("$spid")

wait "$spid"
src=$?
wait "$cpid"
crc=$?

sed 's/^/server| /' "$work/server.out"
sed 's/^/client| /' "$work/client.out"
ok=1
[ $src -eq 0 ] || { echo "dpm_two_jobs.sh: server job exited with $src" >&2; ok=0; }
[ $crc -eq 0 ] || { echo "dpm_two_jobs.sh: client job exited with $crc" >&2; ok=0; }
grep -qx "server ok" "$work/server.out" || { echo "dpm_two_jobs.sh: no 'server ok'" >&2; ok=0; }
grep -qx "client ok" "$work/client.out" || { echo "dpm_two_jobs.sh: no 'client ok'" >&2; ok=0; }
if [ $ok -eq 1 ]; then
    echo "PASS dpm_two_jobs"
    exit 0
fi
exit 1
