#!/bin/bash
# Runs tcp_stream_both over TCP on loopback.
# usage: MPIEXEC=... EXE=... NP=N [TIMEOUT=S] tests-c/tcp_stream_both.sh
exec "${MPIEXEC:?}" -genv OXIMPI_TRANSPORT tcp -genv OXIMPI_TCP_IFACE lo -n "${NP:?}" "${EXE:?}"
