#!/bin/bash
# OxiMPI under the launchers clusters run (issue 14 item 5, issue 15 item 1):
#   * Slurm on this one node: `srun --mpi=pmi2` and `srun --mpi=pmix`, with a private
#     slurm.conf, munged, slurmctld and slurmd started here and stopped by pid at the end;
#   * MPICH's hydra (`mpiexec.mpich`, PMI-1);
#   * launcher death: kill -9 of our mpiexec, of hydra's mpiexec and its proxy, and of srun,
#     while the ranks are blocked in MPI or computing: every rank must be gone within 2 s,
#     with the line "oximpi: rank N: the launcher (pid P) is gone" where OxiMPI notices it.
#
# usage: tests-slurm/run.sh [--no-install]
#   Needs build/ (scripts/build.sh). As root, apt-installs what is missing (slurm-wlm, munge,
#   libpmix2, libpmix-dev, mpich) unless --no-install. Skips a part with a loud notice only when its tools
#   cannot be had or its daemons cannot run here (the notice says why).
# Prints one line per check and "N passed, N failed, N skipped"; exits non-zero on a failure.
set -u

here=$(cd -P -- "$(dirname -- "$0")" && pwd)
root=$(dirname -- "$here")
. "$here/conf.sh"
install=yes
[ "${1:-}" = --no-install ] && install=no

pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "PASS  $*"; }
ko() { fail=$((fail + 1)); echo "FAIL  $*"; }
skipped() { skip=$((skip + 1)); echo "SKIP  $*"; }
loud() { echo "*** tests-slurm: $* ***" >&2; }

tmp=$(mktemp -d /tmp/oximpi-slurm.XXXXXX)
daemons=()      # pids of the daemons we started
cleanup() {
    local p
    for p in "${daemons[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${daemons[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$p" 2>/dev/null
    done
    if [ -n "${KEEP_TMP:-}" ]; then echo "tests-slurm: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# --- what we need --------------------------------------------------------------------------
[ -x "$root/build/bin/mpicc" ] && [ -x "$root/build/bin/mpiexec" ] || {
    echo "tests-slurm: build/ is missing; run scripts/build.sh first" >&2; exit 2; }
missing=()
command -v slurmd >/dev/null && command -v srun >/dev/null || missing+=(slurm-wlm)
command -v munged >/dev/null || missing+=(munge)
ldconfig -p | grep -q 'libpmix\.so\.2 ' || missing+=(libpmix2)
# Slurm's mpi/pmix plugin dlopens the unversioned pmix2/lib/libpmix.so, which only the -dev
# package ships: without it every `srun --mpi=pmix` fails in srun ("can not load PMIx library").
[ -e /usr/lib/x86_64-linux-gnu/pmix2/lib/libpmix.so ] || missing+=(libpmix-dev)
command -v mpiexec.mpich >/dev/null || missing+=(mpich)
if [ ${#missing[@]} -gt 0 ] && [ "$install" = yes ] && [ "$(id -u)" = 0 ]; then
    echo "tests-slurm: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y --no-install-recommends \
        "${missing[@]}" >"$tmp/apt.log" 2>&1 ||
        { timeout 300 apt-get update >/dev/null 2>&1 &&
          DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y \
              --no-install-recommends "${missing[@]}" >"$tmp/apt.log" 2>&1; } ||
        loud "apt-get install ${missing[*]} failed: $(tail -1 "$tmp/apt.log")"
fi

# --- the programs --------------------------------------------------------------------------
cc=$root/build/bin/mpicc
progs=(launched hang env sendrecv coll_all)
for p in "${progs[@]}"; do
    src=$here/$p.c
    [ -f "$src" ] || src=$root/tests-c/$p.c
    if ! timeout 120 "$cc" -O1 -g -pthread -I"$root/tests-c" "$src" -o "$tmp/$p" \
        >"$tmp/$p.compile" 2>&1; then
        ko "compile $p: $(head -3 "$tmp/$p.compile")"
    fi
done

# run_job NAME EXPECT_PASS CMD...: the job ends with 0 and prints "PASS EXPECT_PASS", and no
# rank took the normal end of its launcher for a death.
run_job() {
    local name=$1 expect=$2 rc
    shift 2
    timeout 60 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    rc=$?
    if grep -q 'oximpi: rank [0-9]*: the launcher' "$tmp/$name.err"; then
        ko "$name: a false launcher-death alarm in a normal run: $(grep -m1 oximpi: "$tmp/$name.err")"
    elif [ $rc -eq 0 ] && grep -q "^PASS $expect\$" "$tmp/$name.out"; then
        ok "$name"
    else
        ko "$name (exit $rc): $(tail -3 "$tmp/$name.err" | tr '\n' ' ')"
    fi
}

# gone PID...: true once none of the pids is a live process (zombies count as gone).
gone() {
    local p st
    for p in "$@"; do
        st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) || continue
        [ "$st" = Z ] || return 1
    done
    return 0
}

# death NAME NRANKS WHO MESSAGE CMD...: starts CMD (a 4-rank `hang` job), waits for every rank
# to say READY, kills -9 the launcher (WHO=launcher), the ranks' parent (WHO=parent) or the
# launcher's child called WHO (e.g. hydra_pmi_proxy), and checks that all ranks are gone within 2 s; MESSAGE=yes also wants
# OxiMPI's line on stderr.
death() {
    local name=$1 n=$2 who=$3 want_msg=$4 lpid target t0 t1 ms pids i
    shift 4
    "$@" >"$tmp/$name.out" 2>>"$tmp/$name.err" &
    lpid=$!
    disown "$lpid"   # no "Killed" notice from bash: killing it is the point
    for i in $(seq 300); do
        [ "$(grep -c '^READY' "$tmp/$name.out")" -ge "$n" ] && break
        sleep 0.1
    done
    pids=$(awk '/^READY/ {print $3}' "$tmp/$name.out")
    if [ "$(echo "$pids" | grep -c .)" -lt "$n" ]; then
        ko "$name: the job did not start: $(tail -3 "$tmp/$name.err" | tr '\n' ' ')"
        kill -9 $pids "$lpid" 2>/dev/null
        return
    fi
    target=$lpid
    if [ "$who" = parent ]; then
        # The ranks' own parent (slurmstepd under srun), found from the first rank.
        target=$(awk '{print $4}' "/proc/$(echo "$pids" | head -1)/stat")
    elif [ "$who" != launcher ]; then
        target=$(pgrep -P "$lpid" -x "$who" | head -1)
        [ -n "$target" ] || { ko "$name: no $who under pid $lpid"; kill -9 $pids "$lpid"; return; }
    fi
    t0=$(date +%s%N)
    kill -9 "$target"
    for i in $(seq 400); do
        gone $pids && break
        sleep 0.01
    done
    t1=$(date +%s%N)
    ms=$(( (t1 - t0) / 1000000 ))
    if ! gone $pids; then
        ko "$name: ranks still alive 4 s after kill -9 of $who (pid $target)"
        kill -9 $pids 2>/dev/null
    elif [ "$ms" -gt 2000 ]; then
        ko "$name: ranks took $ms ms to go (at most 2000)"
    elif [ "$want_msg" = yes ] && ! grep -q 'oximpi: rank [0-9]*: the launcher (pid [0-9]*) is gone' "$tmp/$name.err"; then
        ko "$name: ranks gone in $ms ms but without the launcher line: $(head -2 "$tmp/$name.err" | tr '\n' ' ')"
    else
        ok "$name: all $n ranks gone $ms ms after kill -9 of $who"
        [ "$want_msg" = yes ] && grep -m1 'oximpi: rank' "$tmp/$name.err" | sed 's/^/      /'
    fi
    kill -9 "$lpid" 2>/dev/null
}

# --- our mpiexec and hydra (no daemons needed) ----------------------------------------------
# A rank's stderr normally runs through its launcher, which is dead when the line is written;
# `keep_err FILE` makes the ranks write it to FILE instead (exec keeps the launcher as parent).
keep_err() { wrapped=(sh -c 'exec "$0" 2>>"$1"' "$tmp/hang" "$1"); }
keep_err "$tmp/death-oximpi-mpiexec.err"
death death-oximpi-mpiexec 4 launcher yes "$root/build/bin/mpiexec" -n 4 "${wrapped[@]}"
if command -v mpiexec.mpich >/dev/null; then
    # Without -usize hydra reports a universe of -1; the runtime then takes the world size.
    run_job hydra-launched launched timeout 60 mpiexec.mpich -n 4 "$tmp/launched" 4
    run_job hydra-pmi-port-launched launched timeout 60 mpiexec.mpich -pmi-port -n 4 \
        "$tmp/launched" 4
    run_job hydra-env env timeout 60 mpiexec.mpich -n 4 "$tmp/env"
    run_job hydra-sendrecv sendrecv timeout 60 mpiexec.mpich -n 3 "$tmp/sendrecv"
    run_job hydra-coll_all coll_all timeout 60 mpiexec.mpich -n 4 "$tmp/coll_all"
    # Hydra's proxy kills its ranks itself when mpiexec dies; when the proxy dies, OxiMPI's
    # watcher must notice.
    death death-hydra-mpiexec 4 launcher no mpiexec.mpich -n 4 "$tmp/hang"
    keep_err "$tmp/death-hydra-proxy.err"
    death death-hydra-proxy 4 hydra_pmi_proxy yes mpiexec.mpich -n 4 "${wrapped[@]}"
else
    loud "mpiexec.mpich (Debian's mpich) is not installed: hydra checks skipped"
    skipped "hydra (no mpiexec.mpich)"
fi

# --- Slurm ----------------------------------------------------------------------------------
start_slurm() {
    local host conf p
    command -v slurmd >/dev/null && command -v munged >/dev/null || {
        loud "slurm-wlm or munge is not installed (and could not be): Slurm checks skipped"
        return 1; }
    host=$(hostname -s)
    mkdir -p "$tmp/state" "$tmp/spool"
    # Ports from the pid, so two runs on one host do not collide.
    p=$(( 20000 + ($$ % 20000) ))
    conf=$tmp/slurm.conf
    cat >"$conf" <<EOF
ClusterName=oximpi
SlurmctldHost=$host
SlurmctldPort=$p
SlurmdPort=$((p + 1))
AuthInfo=socket=$tmp/munge.sock
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
NodeName=$host CPUs=2 State=UNKNOWN
PartitionName=oximpi Nodes=$host Default=YES MaxTime=10 State=UP OverSubscribe=FORCE:4
EOF
slurm_conf_common >>"$conf"
    # The PMIx plugin's per-step client dirs go to our temp dir too: left in /tmp by a
    # killed slurmstepd, they would make a later run's step with the same id fail.
    echo "PMIxCliTmpDirBase=$tmp/spool" >"$tmp/mpi.conf"
    export SLURM_CONF=$conf
    [ -r /etc/munge/munge.key ] || { loud "no /etc/munge/munge.key: Slurm checks skipped"; return 1; }
    timeout 20 munged --force --socket="$tmp/munge.sock" --pid-file="$tmp/munged.pid" \
        --log-file="$tmp/munged.log" --seed-file="$tmp/munge.seed" ||
        { loud "munged cannot start here: $(tail -2 "$tmp/munged.log" 2>/dev/null)"; return 1; }
    daemons+=("$(cat "$tmp/munged.pid")")
    timeout 20 slurmctld -f "$conf" ||
        { loud "slurmctld cannot start here: $(tail -2 "$tmp/slurmctld.log")"; return 1; }
    for _ in $(seq 50); do [ -s "$tmp/slurmctld.pid" ] && break; sleep 0.1; done
    daemons+=("$(cat "$tmp/slurmctld.pid")")
    timeout 20 slurmd -f "$conf" ||
        { loud "slurmd cannot start here: $(tail -2 "$tmp/slurmd.log")"; return 1; }
    for _ in $(seq 50); do [ -s "$tmp/slurmd.pid" ] && break; sleep 0.1; done
    daemons+=("$(cat "$tmp/slurmd.pid")")
    for _ in $(seq 100); do
        timeout 5 sinfo -h -o %t 2>/dev/null | grep -qx idle && return 0
        sleep 0.2
    done
    loud "the node never became idle: $(tail -3 "$tmp/slurmd.log" | tr '\n' ' ')"
    return 1
}

if start_slurm; then
    for mpi in pmi2 pmix; do
        srun=(timeout 60 srun --mpi=$mpi -O -n 4 -t 2)
        run_job "srun-$mpi-launched" launched "${srun[@]}" "$tmp/launched" 4
        run_job "srun-$mpi-env" env "${srun[@]}" "$tmp/env"
        run_job "srun-$mpi-sendrecv" sendrecv timeout 60 srun --mpi=$mpi -O -n 3 -t 2 "$tmp/sendrecv"
        run_job "srun-$mpi-coll_all" coll_all "${srun[@]}" "$tmp/coll_all"
        # slurmstepd (the PMI server, alive) ends the step itself when srun dies.
        death "death-srun-$mpi" 4 launcher no srun --mpi=$mpi -O -n 4 -t 2 "$tmp/hang"
        # When slurmstepd itself dies, OxiMPI must notice: the PMI-2 socket hangs up; under
        # PMIx (whose socket libpmix keeps) the parent changes. Ranks write to a file, since
        # their stdio went through the dead slurmstepd.
        keep_err "$tmp/death-slurmstepd-$mpi.err"
        death "death-slurmstepd-$mpi" 4 parent yes srun --mpi=$mpi -O -n 4 -t 2 "${wrapped[@]}"
    done
    # A PMIx job whose library cannot be loaded fails clearly instead of running singletons.
    OXIMPI_PMIX_LIBRARY=libpmix-missing.so.2 timeout 60 srun --mpi=pmix -O -n 2 -t 2 \
        "$tmp/launched" 2 >"$tmp/nolib.out" 2>"$tmp/nolib.err"
    rc=$?
    if [ $rc -ne 0 ] && grep -q 'libpmix-missing.so.2' "$tmp/nolib.err" &&
        grep -q 'PMIX_NAMESPACE' "$tmp/nolib.err" && ! grep -q PASS "$tmp/nolib.out"; then
        ok "srun-pmix-without-library fails clearly (exit $rc)"
        grep -m1 libpmix-missing "$tmp/nolib.err" | fold -w 100 | sed 's/^/      /'
    else
        ko "srun-pmix-without-library: exit $rc, stderr: $(head -2 "$tmp/nolib.err" | tr '\n' ' ')"
    fi
else
    skipped "slurm (daemons unavailable, see the notice above)"
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
