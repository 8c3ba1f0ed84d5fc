#!/bin/bash
# Runs tcp_reject over TCP on loopback and checks that every rank logged the rejections.
# usage: MPIEXEC=... EXE=... NP=N [TIMEOUT=S] tests-c/tcp_reject.sh
set -u
err=$(mktemp)
trap 'rm -f -- "$err"' EXIT
"${MPIEXEC:?}" -genv OXIMPI_TRANSPORT tcp -genv OXIMPI_TCP_IFACE lo -n "${NP:?}" "${EXE:?}" 2>"$err"
rc=$?
cat "$err" >&2
[ $rc -eq 0 ] || exit $rc
[ "$NP" -gt 1 ] || exit 0
for r in $(seq 0 $((NP - 1))); do
    for why in "does not know the job's secret" "not an OxiMPI TCP connection" \
        "closed before completing the handshake" "no handshake within the deadline"; do
        if ! grep -q "^oximpi: rank $r: rejected a TCP connection from 127\.0\.0\.1:[0-9]*: .*$why" "$err"; then
            echo "tcp_reject.sh: rank $r did not log a rejection: $why" >&2
            exit 1
        fi
    done
done
