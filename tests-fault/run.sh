#!/bin/bash
# Fault injection (issue 15): faults a job can meet, each asserting that every process of
# the job is gone within 2 s, the exit code and the message, and that /dev/shm, /tmp and
# the abstract socket namespace (/proc/net/unix) hold nothing of the job afterwards.
#
# usage: tests-fault/run.sh [--filter REGEX] [--no-cargo]
#
#   --filter REGEX  only the cases whose name matches (grep -E)
#   --no-cargo      skip the cargo parts (fuzz targets, argument sweep build)
#
# Needs build/ (scripts/build.sh). Prints one line per case with the time from the fault
# to the last process gone, and a final line "N passed, N failed"; exits non-zero if
# anything failed. Every case is bounded in time.
set -u

here=$(cd -P -- "$(dirname -- "$0")" && pwd)
root=$(dirname -- "$here")
filter=
cargo=1
while [ $# -gt 0 ]; do
    case $1 in
        --filter) filter=${2:?--filter needs a value}; shift 2 ;;
        --filter=*) filter=${1#*=}; shift ;;
        --no-cargo) cargo=0; shift ;;
        -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

mpicc=$root/build/bin/mpicc
mpiexec=$root/build/bin/mpiexec
[ -x "$mpiexec" ] || { echo "run.sh: $mpiexec missing: run scripts/build.sh" >&2; exit 2; }

work=$(mktemp -d /tmp/oximpi-fault.XXXXXX)
trap 'rm -rf "$work"' EXIT
prog=$work/fault
"$mpicc" -O1 -o "$prog" "$here/fault.c" -lpthread || { echo "run.sh: cannot build fault.c" >&2; exit 2; }

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
want() { [ -z "$filter" ] || echo "$1" | grep -qE -- "$filter"; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# alive PID: true while PID exists and is not a zombie.
alive() {
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ]
}

# wait_files N PATTERN SECONDS: waits until N files match $dir/PATTERN.
wait_files() {
    local n=$1 pat=$2 t=$(($3 * 10)) c
    while [ $t -gt 0 ]; do
        c=$(ls $dir/$pat 2>/dev/null | wc -l)
        [ "$c" -ge "$n" ] && return 0
        sleep 0.1
        t=$((t - 1))
    done
    return 1
}

job_pids() { cat "$dir"/pid.* 2>/dev/null | sort -u; }

# The socket inodes the job's processes hold (to find them in /proc/net/unix later).
job_sockets() {
    local p
    for p in $(job_pids) $mpx; do
        ls -l "/proc/$p/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\].*/\1/p'
    done | sort -u
}

# The abstract names the job listens on.
job_listeners() {
    local inodes
    inodes=$(job_sockets | tr '\n' '|' | sed 's/|$//')
    [ -n "$inodes" ] || return 0
    awk -v re="^($inodes)\$" '$6 == "01" && $7 ~ re && $8 ~ /^@/ {print $8}' /proc/net/unix
}

# start NAME NP ARGS...: starts mpiexec -n NP prog ARGS in the background.
start() {
    case_name=$1
    shift
    dir=$work/$case_name
    mkdir -p "$dir"
    shm_before=$(ls /dev/shm 2>/dev/null | sort)
    FAULT_DIR=$dir "$mpiexec" -n "$@" >"$dir/out" 2>"$dir/err" &
    mpx=$!
}

# finish EXPECTED_CODE MESSAGE_REGEX T0_MS: checks the ending of the job started last.
finish() {
    local code_want=$1 msg=$2 t0=$3 gone_ms="" p left t
    local pids sockets
    pids="$(job_pids) $mpx"
    sockets=$(cat "$dir/sockets" 2>/dev/null)
    t=0
    while [ $t -lt 100 ]; do
        left=
        for p in $pids; do alive "$p" && left="$left $p"; done
        if [ -z "$left" ]; then
            gone_ms=$(($(now_ms) - t0))
            break
        fi
        sleep 0.02
        t=$((t + 1))
    done
    for p in $left; do kill -9 "$p" 2>/dev/null; done
    wait "$mpx" 2>/dev/null
    local code=$?
    local why=
    [ -n "$gone_ms" ] || why="$why; processes left after 2 s:$left"
    [ -n "$gone_ms" ] && [ "$gone_ms" -gt 2000 ] && why="$why; last process gone after ${gone_ms} ms"
    [ "$code_want" = any ] || [ "$code" = "$code_want" ] || why="$why; exit code $code, wanted $code_want"
    if [ -n "$msg" ] && ! grep -qE -- "$msg" "$dir/err"; then
        why="$why; no message /$msg/ on stderr: $(head -c 300 "$dir/err" | tr '\n' ' ')"
    fi
    # Nothing of the job left: /dev/shm names of its pids, /tmp entries naming them,
    # sockets it held.
    for p in $pids; do
        ls /dev/shm 2>/dev/null | grep -E "^oximpi-$p-" | sed "s|^|; left in /dev/shm: |" | tr -d '\n' >>"$dir/leftovers"
        ls /tmp 2>/dev/null | grep -E "(^|[^0-9])$p([^0-9]|$)" | grep -i -E "oximpi|mpi" | sed "s|^|; left in /tmp: |" | tr -d '\n' >>"$dir/leftovers"
    done
    local s
    for s in $sockets; do
        awk -v i="$s" '$7 == i {print "; socket left: inode " i " " $8}' /proc/net/unix | tr -d '\n' >>"$dir/leftovers"
    done
    [ -s "$dir/leftovers" ] && why="$why$(cat "$dir/leftovers")"
    if [ -z "$why" ]; then
        ok "$case_name: exit $code, all gone ${gone_ms} ms after the fault"
    else
        bad "$case_name${why}"
    fi
}

# not_ready NAME: the job started last never reached the state the case needs.
not_ready() {
    kill -9 "$mpx" 2>/dev/null
    wait "$mpx" 2>/dev/null
    bad "$1: the job did not get ready: $(head -c 300 "$dir/err")"
}

# kill_rank_case NAME MODE NP TAG READY_COUNT READY_PATTERN MSG
kill_rank_case() {
    local name=$1 mode=$2 np=$3 victim_tag=$4 nready=$5 pat=$6 msg=$7
    want "$name" || return 0
    start "$name" "$np" "$prog" "$mode"
    if ! wait_files "$nready" "$pat" 30; then
        not_ready "$name"
        return
    fi
    sleep 0.2
    job_sockets >"$dir/sockets"
    local victim
    victim=$(cat "$dir"/pid.$mode.$victim_tag.* 2>/dev/null | head -1)
    local t0
    t0=$(now_ms)
    kill -9 "$victim"
    finish 137 "$msg" "$t0"
}

kill_rank_case kill9-in-collective coll 3 1 3 'ready.coll.*' 'rank 1 \(pid [0-9]+\) killed by signal 9'
kill_rank_case kill9-in-receive recv 3 2 3 'ready.recv.*' 'rank 2 \(pid [0-9]+\) killed by signal 9'
kill_rank_case kill9-during-init init 3 1 1 'ready.init.1' 'rank 1 \(pid [0-9]+\) killed by signal 9'
kill_rank_case kill9-during-spawn spawnwait 2 100 3 'ready.spawnwait.*' 'job 1 rank 0 \(pid [0-9]+\) killed by signal 9'
kill_rank_case kill9-spawned-child spawn 2 101 2 'ready.spawn.1*' 'job 1 rank 1 \(pid [0-9]+\) killed by signal 9'

if want abort-from-thread; then
    start abort-from-thread 2 "$prog" abort_thread
    t0=$(now_ms)
    wait_files 2 'pid.*' 30
    job_sockets >"$dir/sockets"
    # The fault is the abort itself, 200 ms after rank 0 starts its thread.
    finish 7 'rank 0 \(pid [0-9]+\) aborted the job with code 7' "$t0"
fi

# signal_case NAME SIGNAL CODE MSG
signal_case() {
    local name=$1 sig=$2 code=$3 msg=$4
    want "$name" || return 0
    start "$name" 3 "$prog" sleep
    if ! wait_files 3 'ready.sleep.*' 30; then
        not_ready "$name"
        return
    fi
    sleep 0.2
    job_sockets >"$dir/sockets"
    local t0
    t0=$(now_ms)
    kill -s "$sig" $mpx
    finish "$code" "$msg" "$t0"
}

signal_case sigint-to-mpiexec INT 130 'Interrupt \(signal 2\): forwarding'
signal_case sigterm-to-mpiexec TERM 143 'Terminated \(signal 15\): forwarding'
signal_case sighup-to-mpiexec HUP 129 'Hangup \(signal 1\): forwarding'
# Nothing of mpiexec runs after SIGKILL: the ranks go by their parent-death signal.
signal_case sigkill-to-mpiexec KILL 137 ''

# Under a foreign launcher (hydra) the node segment has a name in /dev/shm while the ranks
# attach. A rank killed in that window leaves no name behind for long: its peers are ended
# (SIGTERM: the creator's handler removes the name) or, if the creator itself died by
# SIGKILL, the next job on the host removes the name (the creator's pid is gone).
hydra=/usr/bin/mpiexec.hydra
if want hydra-segment; then
    if [ ! -x $hydra ]; then
        echo "SKIP hydra-segment: $hydra missing (scripts/deps.sh installs it)"
    elif ! grep -q create_node_segment "$root/src/runtime.rs"; then
        echo "SKIP hydra-segment: src/runtime.rs does not create the segment with Shm::create_node_segment yet"
    else
        dir=$work/hydra
        mkdir -p "$dir"
        # Names of dead jobs, in the current and the older format.
        touch /dev/shm/oximpi-4194305-12345-0 /dev/shm/oximpi-4194306-0
        FAULT_DIR=$dir timeout 60 $hydra -n 2 "$prog" init >"$dir/out" 2>"$dir/err" &
        hpid=$!
        if wait_files 1 'ready.init.1' 30; then
            sleep 0.5
            t0=$(now_ms)
            kill -9 "$(cat "$dir"/pid.init.1.* | head -1)"
            wait $hpid
            hcode=$?
            ms=$(($(now_ms) - t0))
            left1=$(ls /dev/shm | grep -E '^oximpi-(4194305-12345|4194306)-' | tr '\n' ' ')
            # The next job sweeps whatever a dead creator left.
            timeout 60 $hydra -n 2 "$prog" pingpong 100 >"$dir/out2" 2>"$dir/err2"
            code2=$?
            left=
            for p in $(cat "$dir"/pid.* 2>/dev/null); do
                left="$left$(ls /dev/shm | grep -E "^oximpi-$p-" | tr '\n' ' ')"
            done
            if [ -z "$left1" ] && [ -z "$left" ] && [ $code2 = 0 ]; then
                ok "hydra-segment: stale names swept; rank killed in the window: hydra exit $hcode after ${ms} ms, no name left after the next job"
            else
                bad "hydra-segment: stale left: [$left1]; job names left: [$left]; next job exit $code2: $(head -c 300 "$dir/err2")"
            fi
        else
            mpx=$hpid
            not_ready hydra-segment
        fi
        rm -f /dev/shm/oximpi-4194305-12345-0 /dev/shm/oximpi-4194306-0
    fi
fi

# Every descriptor the library opens is close-on-exec: a program a rank starts (fork+exec,
# system()) sees only 0, 1 and 2.
if want fds-close-on-exec; then
    dir=$work/fds
    mkdir -p "$dir"
    if timeout 60 "$mpiexec" -n 2 "$prog" fds >"$dir/out" 2>"$dir/err"; then
        ok "fds-close-on-exec: $(grep -h 'fork+exec' "$dir/out")"
    else
        bad "fds-close-on-exec: $(cat "$dir/out" "$dir/err" | head -c 600 | tr '\n' ' ')"
    fi
fi

# A hostile peer attacks every listener of a running job (the ranks' socket listeners and
# the name server): garbage, wrong secrets, idle and slow connections, hundreds at once.
# The job must finish with every message checked; its rate is compared with a quiet run.
if want hostile-peer; then
    dir=$work/hostile
    mkdir -p "$dir"
    ns=@oximpi-fault-ns-$$
    FAULT_DIR=$dir timeout 120 "$mpiexec" -nameserver "$ns" -n 2 "$prog" pingpong 0 \
        >"$dir/out" 2>"$dir/err" &
    mpx=$!
    if wait_files 2 'ready.pingpong.*' 30; then
        addrs="$(job_listeners) $ns"
        python3 "$here/hostile.py" 3 $addrs >"$dir/attack" 2>&1
        touch "$dir/stop"
        wait $mpx
        code=$?
        rate=$(sed -n 's/.*(\([0-9]*\)\/s).*/\1/p' "$dir/out")
        # The same job without the attacker, right after, for the comparison.
        rm -f "$dir/stop"
        (sleep 3; touch "$dir/stop") >/dev/null 2>&1 &
        quiet=$(FAULT_DIR=$dir timeout 120 "$mpiexec" -nameserver "$ns" -n 2 "$prog" pingpong 0 2>&1 |
            sed -n 's/.*(\([0-9]*\)\/s).*/\1/p')
        rejects=$(grep -c 'rejected a connection' "$dir/err")
        if [ $code = 0 ] && grep -q ', 0 errors' "$dir/out" && [ "$(echo $addrs | wc -w)" -ge 2 ]; then
            ok "hostile-peer: listeners [$addrs]; $(cat "$dir/attack"); job ok at ${rate:-?}/s under attack vs ${quiet:-?}/s quiet; $rejects rejection line(s)"
        else
            bad "hostile-peer: exit $code, listeners [$addrs]: $(cat "$dir/out" "$dir/err" "$dir/attack" | head -c 800 | tr '\n' ' ')"
        fi
    else
        not_ready hostile-peer
    fi
fi

# The same attack on a rank that has few descriptors: accept runs out (EMFILE) and must
# back off, not spin; the job still finishes.
if want hostile-emfile; then
    dir=$work/emfile
    mkdir -p "$dir"
    (ulimit -n 40; FAULT_DIR=$dir exec timeout 120 "$mpiexec" -n 2 "$prog" pingpong 0) \
        >"$dir/out" 2>"$dir/err" &
    mpx=$!
    if wait_files 2 'ready.pingpong.*' 30; then
        addrs="$(job_listeners)"
        p0=$(cat "$dir"/pid.pingpong.0.* | head -1)
        # The CPU time of rank 0's accept thread (a spin on EMFILE would burn ~200 ticks).
        acc=$(grep -l '^oximpi-accept$' /proc/$p0/task/*/comm 2>/dev/null | head -1)
        acc=${acc%/comm}
        cpu0=$(awk '{print $14 + $15}' "$acc/stat" 2>/dev/null || echo 0)
        python3 "$here/hostile.py" 2 $addrs >"$dir/attack" 2>&1
        cpu1=$(awk '{print $14 + $15}' "$acc/stat" 2>/dev/null || echo "$cpu0")
        touch "$dir/stop"
        wait $mpx
        code=$?
        resting=$(grep -c 'cannot accept connections for now' "$dir/err")
        if [ $code = 0 ] && grep -q ', 0 errors' "$dir/out" && [ "$resting" -le 1 ] &&
            [ -n "$acc" ] && [ $((cpu1 - cpu0)) -lt 50 ]; then
            ok "hostile-emfile: $(cat "$dir/attack"); rank 0's accept thread used $((cpu1 - cpu0)) ticks in 2 s of attack; back-off reported $resting time(s)"
        else
            bad "hostile-emfile: exit $code: $(cat "$dir/out" "$dir/err" "$dir/attack" | head -c 800 | tr '\n' ' ')"
        fi
    else
        not_ready hostile-emfile
    fi
fi

# A spawn request far above the bound is refused with a clear error, nothing started.
if want spawn-bound; then
    dir=$work/spawnbound
    mkdir -p "$dir"
    cat >"$dir/big.c" <<'EOF'
#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm inter;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int rc = MPI_Comm_spawn("/bin/true", MPI_ARGV_NULL, 100000, MPI_INFO_NULL, 0, MPI_COMM_WORLD,
                            &inter, MPI_ERRCODES_IGNORE);
    int cls;
    MPI_Error_class(rc, &cls);
    printf("spawn of 100000: rc class %d\n", cls);
    MPI_Finalize();
    return rc == MPI_SUCCESS;
}
EOF
    "$mpicc" -o "$dir/big" "$dir/big.c"
    t0=$(now_ms)
    OXIMPI_MAX_SPAWN=64 timeout 60 "$mpiexec" -n 1 "$dir/big" >"$dir/out" 2>"$dir/err"
    code=$?
    ms=$(($(now_ms) - t0))
    if [ $code = 0 ] && grep -q 'rc class' "$dir/out"; then
        ok "spawn-bound: refused in ${ms} ms: $(cat "$dir/out")"
    else
        bad "spawn-bound: exit $code: $(cat "$dir/out" "$dir/err" | head -c 600 | tr '\n' ' ')"
    fi
fi

# A 4 MiB PMI line is answered once, and the rank's next line still works.
if want pmi-long-line; then
    dir=$work/longline
    mkdir -p "$dir"
    cat >"$dir/long.py" <<'EOF'
import os, socket, sys
s = socket.socket(fileno=int(os.environ["PMI_FD"]))
s.sendall(b"cmd=init pmi_version=1 pmi_subversion=1\n")
s.recv(4096)
s.sendall(b"cmd=put kvsname=x key=k value=" + b"v" * (4 << 20) + b"\n")
s.sendall(b"cmd=get_maxes\n")
got = b""
while got.count(b"\n") < 2:
    got += s.recv(4096)
print(got.decode().strip().replace("\n", " | "))
s.sendall(b"cmd=finalize\n")
s.recv(4096)
EOF
    timeout 60 "$mpiexec" -n 1 python3 "$dir/long.py" >"$dir/out" 2>"$dir/err"
    code=$?
    n=$(grep -c 'bad PMI input' "$dir/err")
    if [ $code = 0 ] && [ "$n" = 1 ] && grep -q 'cmd=maxes' "$dir/out"; then
        ok "pmi-long-line: one message, one reply, the next request answered: $(cat "$dir/out")"
    else
        bad "pmi-long-line: exit $code, $n message(s): $(cat "$dir/out" "$dir/err" | head -c 600 | tr '\n' ' ')"
    fi
fi

# The bad-argument sweep, generated from reference/mpi-functions.tsv and include/mpi.h (see
# sweep_gen.py): no crash, no hang, and the right class, except the cases listed in
# sweep-known.tsv (defects of the argument checks, to be fixed in src/abi).
if want bad-argument-sweep; then
    dir=$work/sweep
    mkdir -p "$dir"
    if python3 "$here/sweep_gen.py" "$root" "$dir/sweep.c" 2>"$dir/gen" &&
        "$mpicc" -w -o "$dir/sweep" "$dir/sweep.c" 2>"$dir/cc"; then
        # A singleton (no mpiexec): each case runs in a forked child of the one process.
        (cd "$dir" && timeout 600 ./sweep >"$dir/out" 2>"$dir/err")
        code=$?
        grep -v '^#' "$here/sweep-known.tsv" | sort >"$dir/known"
        awk -F'\t' '$4 != "ok" {print $1"\t"$2"\t"$3"\t"$4}' "$dir/out" | sort >"$dir/bad"
        new=$(comm -13 "$dir/known" "$dir/bad")
        fixed=$(comm -23 "$dir/known" "$dir/bad")
        if [ $code = 0 ] && [ -z "$new" ] && [ -z "$fixed" ]; then
            ok "bad-argument-sweep: $(tail -1 "$dir/err" | sed 's/^sweep: //') (all known: sweep-known.tsv)"
        else
            [ -n "$new" ] && new="; new failures: $(echo "$new" | head -20 | tr '\t\n' ' ;')"
            [ -n "$fixed" ] && fixed="; now passing (remove from sweep-known.tsv): $(echo "$fixed" | head -20 | tr '\t\n' ' ;')"
            bad "bad-argument-sweep: exit $code: $(tail -1 "$dir/err")$new$fixed"
        fi
    else
        bad "bad-argument-sweep: cannot generate or build: $(cat "$dir/gen" "$dir/cc" | head -c 600)"
    fi
fi

if [ $cargo = 1 ] && want fuzz; then
    # proptest targets for the socket hello/frame decoder and the PMI-1 parser, bounded by
    # their case counts (PROPTEST_CASES overrides).
    if (cd "$root" && timeout 600 nice cargo test --release --test fuzz_wire) >"$work/fuzz" 2>&1; then
        ok "fuzz: $(grep -E '^test result' "$work/fuzz" | tail -1)"
    else
        bad "fuzz: $(grep -E 'panicked|FAILED|error' "$work/fuzz" | head -5 | tr '\n' ' ')"
    fi
fi

echo "$passed passed, $failed failed"
[ $failed = 0 ]
