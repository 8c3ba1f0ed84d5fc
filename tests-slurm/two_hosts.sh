#!/bin/bash
# tests-slurm/two_hosts.sh: a Slurm cluster of two test hosts, and OxiMPI jobs across them
# under `srun --mpi=pmi2` and `srun --mpi=pmix` (issue 14: "a program runs across two test
# hosts ... under Slurm (pmi2 and pmix)").
#
# The hosts are network namespaces joined by a veth pair, hosta (10.77.0.1) and hostb
# (10.77.0.2), each with its own /etc/hosts and, for every process started in it, a UTS
# namespace whose hostname is the host's (as tests-hosts/run.sh makes them). slurmctld and
# one slurmd run on hosta, a second slurmd on hostb; munged (a Unix socket, shared through the
# file system) serves both. srun runs on hosta. Ranks on one host share memory, ranks on
# different hosts talk over TCP on the veth link.
#
#   tests-slurm/two_hosts.sh
#
# Needs root and build/ (scripts/build.sh); slurm-wlm, munge and libpmix2 come from
# tests-slurm/run.sh's installation (run it first, or have them installed). Skipped with a
# notice where namespaces or the daemons cannot run here. Everything it started is stopped by
# pid, and the namespaces and files are removed, on every exit.
set -u
here=$(cd -P -- "$(dirname -- "$0")" && pwd)
root=$(dirname -- "$here")

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS  $*"; }
ko() { fail=$((fail + 1)); echo "FAIL  $*"; }
skip() {
    echo "*** tests-slurm/two_hosts: SKIPPED: $* ***" >&2
    exit 0
}

tmp=$(mktemp -d /tmp/oximpi-slurm2.XXXXXX)
chmod 755 "$tmp"
daemons=()
cleanup() {
    local p ns
    for p in "${daemons[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${daemons[@]}"; do
        for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
    done
    declare -F netns_cleanup >/dev/null && netns_cleanup
    if [ -n "${KEEP_TMP:-}" ]; then echo "two_hosts: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$root/build/bin/mpicc" ] || { echo "two_hosts: build/ is missing; run scripts/build.sh" >&2; exit 2; }
[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces"
for t in unshare nsenter slurmd slurmctld srun munged; do
    command -v $t >/dev/null || skip "$t is not installed (tests-slurm/run.sh installs Slurm and munge)"
done
[ -r /etc/munge/munge.key ] || skip "no /etc/munge/munge.key"

# --- the hosts -----------------------------------------------------------------------------
# hosta 10.77.0.1 and hostb 10.77.0.2, as tests-hosts makes them.
. "$root/tests-hosts/netns.sh"
. "$here/conf.sh"
netns_setup || skip "$netns_why"

# --- the cluster ---------------------------------------------------------------------------
# Ports from the pid, so that a concurrent tests-slurm/run.sh (root namespace) never collides.
p=$(( 20000 + ($$ % 20000) ))
conf=$tmp/slurm.conf
mkdir -p "$tmp/state"
cat >"$conf" <<EOF
ClusterName=oximpi2
SlurmctldHost=hosta(10.77.0.1)
SlurmctldPort=$p
SlurmdPort=$((p + 1))
SrunPortRange=$((p + 2))-$((p + 40))
AuthInfo=socket=$tmp/munge.sock
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool-%n
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd-%n.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd-%n.log
NodeName=hosta NodeAddr=10.77.0.1 CPUs=2 State=UNKNOWN
NodeName=hostb NodeAddr=10.77.0.2 CPUs=2 State=UNKNOWN
PartitionName=oximpi Nodes=hosta,hostb Default=YES MaxTime=10 State=UP OverSubscribe=FORCE:4
EOF
slurm_conf_common >>"$conf"
echo "PMIxCliTmpDirBase=$tmp/pmix" >"$tmp/mpi.conf"
mkdir -p "$tmp/pmix" "$tmp/pmix-hosta" "$tmp/pmix-hostb"
export SLURM_CONF=$conf OXH_PMIX_DIR=$tmp/pmix

# on HOST CMD...: CMD on HOST: in its network namespace, with its /etc/hosts and a UTS
# namespace named for it. Not `ip netns exec` (tests-hosts/nsexec): that remounts /sys, and
# slurmd needs the cgroup file systems mounted under /sys/fs/cgroup. The hosts share one file
# system, but Slurm's PMIx plugin wants a directory of its own per node: HOST sees
# $tmp/pmix-HOST at $tmp/pmix (PMIxCliTmpDirBase). A script, so that `timeout` can run it.
on=$tmp/on
cat >"$on" <<'EOF'
#!/bin/sh
h=$1
shift
eval "ns=\$OXH_NS_$h"
exec nsenter --net="/run/netns/$ns" unshare --mount --uts sh -c \
    'mount --bind "$0" /etc/hosts && mount --bind "$1-$2" "$1" && hostname "$2" && shift 2 &&
     exec "$@"' "/etc/netns/$ns/hosts" "$OXH_PMIX_DIR" "$h" "$@"
EOF
chmod +x "$on"

timeout 20 munged --force --socket="$tmp/munge.sock" --pid-file="$tmp/munged.pid" \
    --log-file="$tmp/munged.log" --seed-file="$tmp/munge.seed" ||
    skip "munged cannot start here: $(tail -2 "$tmp/munged.log" 2>/dev/null)"
daemons+=("$(cat "$tmp/munged.pid")")
# wait_pid FILE: the pid a daemon wrote once it is up.
wait_pid() {
    for _ in $(seq 100); do [ -s "$1" ] && { cat "$1"; return 0; }; sleep 0.1; done
    return 1
}
timeout 20 "$on" hosta slurmctld -f "$conf" ||
    skip "slurmctld cannot start here: $(tail -2 "$tmp/slurmctld.log")"
pid=$(wait_pid "$tmp/slurmctld.pid") || skip "slurmctld wrote no pid: $(tail -2 "$tmp/slurmctld.log")"
daemons+=("$pid")
for h in hosta hostb; do
    mkdir -p "$tmp/spool-$h"
    timeout 20 "$on" $h slurmd -f "$conf" -N $h ||
        skip "slurmd cannot start on $h: $(tail -2 "$tmp/slurmd-$h.log")"
    pid=$(wait_pid "$tmp/slurmd-$h.pid") || skip "slurmd on $h wrote no pid"
    daemons+=("$pid")
done
up=0
for _ in $(seq 150); do
    n=$(timeout 5 "$on" hosta sinfo -h -N -o %t 2>/dev/null | grep -cx idle)
    [ "$n" = 2 ] && { up=1; break; }
    sleep 0.2
done
[ $up = 1 ] || { ko "the two nodes never became idle: $(timeout 5 "$on" hosta sinfo -N 2>&1 | tr '\n' ' ') $(tail -2 "$tmp"/slurmd-*.log | tr '\n' ' ')"; exit 1; }
echo "two_hosts: Slurm up on hosta and hostb"

# --- the programs --------------------------------------------------------------------------
cc=$root/build/bin/mpicc
"$cc" -O1 -o "$tmp/hostinfo" "$root/tests-hosts/hostinfo.c" || exit 1
progs=(sendrecv coll_ops dtype_order rma_fence)
for name in "${progs[@]}"; do
    "$cc" -O1 -I"$root/tests-c" -o "$tmp/$name" "$root/tests-c/$name.c" || exit 1
done

# job NAME CMD...: CMD on hosta under a time limit; output in $tmp/NAME.{out,err}, code in $rc.
job() {
    local name=$1
    shift
    timeout -k 2 120 "$on" hosta "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    rc=$?
}
show() { sed 's/^/    | /' "$tmp/$1.out" "$tmp/$1.err" | head -30; }

for mpi in pmi2 pmix; do
    srun="srun --mpi=$mpi -N 2 -n 4 --ntasks-per-node=2 -t 2"
    # Two ranks on each host, each seeing its own host's name.
    t=srun-$mpi-hosts
    job $t $srun -l "$tmp/hostinfo" info
    got=$(sed -E 's/ pid [0-9]+//; s/^ *//' "$tmp/$t.out" | sort)
    exp=$(printf '0: rank 0 of 4 on hosta\n1: rank 1 of 4 on hosta\n2: rank 2 of 4 on hostb\n3: rank 3 of 4 on hostb')
    if [ $rc = 0 ] && [ "$got" = "$exp" ]; then ok $t; else ko "$t: rc=$rc, got: $got"; show $t; fi
    # MPI traffic between the hosts: p2p, collectives, datatypes, one-sided.
    for name in "${progs[@]}"; do
        t=srun-$mpi-$name
        job $t $srun "$tmp/$name"
        if [ $rc = 0 ] && grep -q "PASS $name" "$tmp/$t.out"; then ok $t; else ko "$t: rc=$rc"; show $t; fi
    done
done

# The ranks of the other host are reached over TCP, not through a shared segment (the hosts
# share /dev/shm, so a wrong node map would still pass the tests above): with the TCP
# interface named wrongly, the job must fail, naming the interface.
for mpi in pmi2 pmix; do
    t=srun-$mpi-needs-tcp
    job $t env OXIMPI_TCP_IFACE=oxnone0 srun --mpi=$mpi -N 2 -n 4 --ntasks-per-node=2 -t 2 "$tmp/sendrecv"
    if [ $rc != 0 ] && [ $rc != 124 ] && grep -q oxnone0 "$tmp/$t.err"; then ok $t; else ko "$t: rc=$rc"; show $t; fi
done

echo "two_hosts: $pass passed, $fail failed"
[ $fail = 0 ]
