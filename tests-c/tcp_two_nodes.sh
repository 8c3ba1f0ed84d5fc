#!/bin/bash
# Runs tcp_two_nodes as a job on two pretend hosts: MPICH's hydra (PMI-1) with a launcher
# command that runs each host's proxy here, so the process mapping names two nodes and
# the ranks reach the other "node" over TCP (on loopback: OXIMPI_TCP_IFACE=lo).
# usage: EXE=... NP=N [TIMEOUT=S] tests-c/tcp_two_nodes.sh   (NP even; MPIEXEC is ignored)
set -u
hydra=$(command -v mpiexec.hydra || true)
if [ -z "$hydra" ]; then
    echo "tcp_two_nodes.sh: mpiexec.hydra not found (install mpich: scripts/deps.sh)" >&2
    exit 1
fi
[ $((NP % 2)) -eq 0 ] || { echo "tcp_two_nodes.sh: NP must be even" >&2; exit 2; }
ppn=$((NP / 2))
launcher=$(mktemp)
trap 'rm -f -- "$launcher"' EXIT
# hydra calls it as an ssh: options, the host, then the command line.
cat >"$launcher" <<'L'
#!/bin/sh
while [ $# -gt 0 ]; do case $1 in -*) shift ;; *) shift; break ;; esac; done
exec sh -c "$*"
L
chmod +x "$launcher"
MPIEXEC_TIMEOUT=${TIMEOUT:-60} "$hydra" -hosts "oximpi-node-a:$ppn,oximpi-node-b:$ppn" \
    -launcher ssh -launcher-exec "$launcher" -genv OXIMPI_TCP_IFACE lo -n "$NP" "${EXE:?}" "$ppn"
