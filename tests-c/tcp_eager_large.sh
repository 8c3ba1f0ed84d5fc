#!/bin/bash
# Runs tcp_eager_large over TCP on loopback.
# usage: MPIEXEC=... EXE=... NP=N [TIMEOUT=S] tests-c/tcp_eager_large.sh
exec "${MPIEXEC:?}" -genv OXIMPI_TRANSPORT tcp -genv OXIMPI_TCP_IFACE lo -n "${NP:?}" "${EXE:?}"
