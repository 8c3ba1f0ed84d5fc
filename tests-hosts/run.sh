#!/bin/bash
# tests-hosts/run.sh: mpiexec across hosts, on test hosts made of network namespaces.
#
# Two hosts, hosta (10.77.0.1) and hostb (10.77.0.2): each a network namespace joined by a
# veth pair, with its own /etc/hosts (ip netns exec mounts /etc/netns/NS/hosts) and, for
# every process started through tests-hosts/nsexec, a UTS namespace whose hostname is the
# host's. mpiexec runs on hosta and reaches hostb through `-launcher-exec nsexec`, as it would
# through ssh. Everything is removed on exit (trap): processes, namespaces, links, files.
#
#   tests-hosts/run.sh [--no-cross] [--filter REGEX]
#
# Groups: launcher tests (PMI-level programs: ranks/hosts, stdio labels, exit codes,
# abort, a rank killed, kill -9 of mpiexec, signals, env, output files; also under hydra)
# and cross-host MPI tests (C tests from tests-c on 2 hosts x 2 ranks under our mpiexec and
# under hydra; MPI_Comm_spawn and connect/accept across hosts under ours; they need the TCP
# transport; --no-cross skips them).
# Needs root (namespaces); skipped with a notice where the kernel or the user cannot make
# them. Build first: scripts/build.sh.
set -u
root=$(cd -P -- "$(dirname -- "$0")/.." && pwd)
build=$root/build
MPIEXEC=$build/bin/mpiexec
MPICC=$build/bin/mpicc
HYDRA=/usr/bin/mpiexec.hydra
NSEXEC=$root/tests-hosts/nsexec
cross=1
filter=.
while [ $# -gt 0 ]; do
    case $1 in
    --no-cross) cross=0 ;;
    --filter) filter=$2; shift ;;
    *) echo "usage: $0 [--no-cross] [--filter REGEX]" >&2; exit 2 ;;
    esac
    shift
done

if [ ! -x "$MPIEXEC" ] || [ ! -x "$MPICC" ]; then
    echo "tests-hosts: build/ is missing; run scripts/build.sh first" >&2
    exit 2
fi

work=$(mktemp -d /tmp/tests-hosts.XXXXXX)
. "$root/tests-hosts/netns.sh"

cleanup() {
    netns_cleanup
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

skip() {
    echo "tests-hosts: SKIPPED: $*" >&2
    exit 0
}

if ! netns_setup; then
    [ -n "$netns_why" ] && skip "$netns_why"
    echo "tests-hosts: could not make the test hosts" >&2
    exit 1
fi

"$MPICC" -O1 -o "$work/hostinfo" "$root/tests-hosts/hostinfo.c" || exit 1

. "$root/tests-hosts/tally.sh"

# run LIMIT cmd...: runs on hosta (as a user logged in there would), output in $work/out
# and $work/err, exit code in $rc. The job carries the test's marker (see job_left).
run() {
    local limit=$1
    shift
    timeout -k 2 "$limit" env OXH_JOB="$t.$$" "$NSEXEC" hosta "$@" >"$work/out" 2>"$work/err"
    rc=$?
}

# job_left: the pids of the current test's job still running. Every process of a job
# started by run or start_sleepers (mpiexec, the launchers and proxies, the ranks of both
# hosts) has OXH_JOB=<test>.<pid of this script> in its environment: mpiexec passes its
# own to the proxies and the ranks.
job_left() {
    grep -lzx "OXH_JOB=$t\.$$" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
}

# none_left SECS: true when no process of the job is left within SECS seconds; otherwise
# $left lists them (pid:command) and they are killed.
none_left() {
    local p
    for _ in $(seq $(($1 * 10))); do
        [ -z "$(job_left)" ] && return 0
        sleep 0.1
    done
    left=$(for p in $(job_left); do
        echo "$p:$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-70)"
    done)
    for p in $(job_left); do
        kill -CONT "$p"
        kill -9 "$p"
    done 2>/dev/null
    return 1
}
left=

MX="$MPIEXEC -hosts hosta:2,hostb:2 -launcher-exec $NSEXEC"
HX="$HYDRA -hosts hosta:2,hostb:2 -launcher-exec $NSEXEC"
HI=$work/hostinfo

# Ranks 0,1 on hosta and 2,3 on hostb, each sees its own host name; -l labels the lines.
t=ranks_and_hosts
if want $t; then
    run 30 $MX -l -n 4 $HI info
    got=$(sed -E 's/ pid [0-9]+//' "$work/out" | sort)
    exp=$(printf '[0] rank 0 of 4 on hosta\n[1] rank 1 of 4 on hosta\n[2] rank 2 of 4 on hostb\n[3] rank 3 of 4 on hostb')
    if [ $rc = 0 ] && [ "$got" = "$exp" ]; then ok $t; else bad $t "rc=$rc, got: $got"; fi
fi

# hydra's placement: -ppn 1 alternates the hosts.
t=ppn_round_robin
if want $t; then
    run 30 $MX -ppn 1 -n 4 $HI info
    got=$(sed -E 's/ pid [0-9]+//' "$work/out" | sort)
    exp=$(printf 'rank 0 of 4 on hosta\nrank 1 of 4 on hostb\nrank 2 of 4 on hosta\nrank 3 of 4 on hostb')
    if [ $rc = 0 ] && [ "$got" = "$exp" ]; then ok $t; else bad $t "rc=$rc, got: $got"; fi
fi

# A host file, and the proxy of hostb reached only through the launcher.
t=hostfile
if want $t; then
    printf '# test hosts\nhostb:3\nhosta # one slot\n' >"$work/hosts"
    run 30 $MPIEXEC -f "$work/hosts" -launcher-exec $NSEXEC -n 4 $HI info
    got=$(sed -E 's/ pid [0-9]+//' "$work/out" | sort)
    exp=$(printf 'rank 0 of 4 on hostb\nrank 1 of 4 on hostb\nrank 2 of 4 on hostb\nrank 3 of 4 on hosta')
    if [ $rc = 0 ] && [ "$got" = "$exp" ]; then ok $t; else bad $t "rc=$rc, got: $got"; fi
fi

# The exit code of a rank on the other host is the job's.
t=exit_code_remote
if want $t; then
    run 30 $MX -n 4 $HI exit 3 5
    if [ $rc = 5 ]; then ok $t; else bad $t "rc=$rc, want 5"; fi
fi

# MPI_Abort on hostb ends the whole job with its code and says so once.
t=abort_remote
if want $t; then
    run 30 $MX -n 4 $HI abort 2 7
    if [ $rc = 7 ] && grep -q "rank 2 (pid [0-9]*) aborted the job with code 7" "$work/err" && none_left 2; then
        ok $t
    else
        bad $t "rc=$rc, want 7 and the abort message"
    fi
fi

# A rank killed on hostb: the same message and code (128+9) as on one host.
t=killed_remote
if want $t; then
    run 30 $MX -n 4 $HI killself 3
    if [ $rc = 137 ] && grep -q "rank 3 (pid [0-9]*) killed by signal 9 (Killed)" "$work/err" && none_left 2; then
        ok $t
    else
        bad $t "rc=$rc, want 137 and the signal message"
    fi
fi

# Environment: -genv, -genvlist and -iface reach the ranks of both hosts.
t=env_remote
if want $t; then
    export OXH_PASSED=yes
    run 30 $MX -genvlist OXH_PASSED,PATH -n 4 $HI env OXH_PASSED
    n=$(grep -c "OXH_PASSED=yes" "$work/out")
    run 30 $MX -genvnone -n 4 $HI env OXH_PASSED
    u=$(grep -c "OXH_PASSED unset" "$work/out")
    run 30 $MX -iface oxnet0 -n 4 $HI env OXIMPI_TCP_IFACE
    i=$(grep -c "OXIMPI_TCP_IFACE=oxnet0" "$work/out")
    if [ "$n" = 4 ] && [ "$u" = 4 ] && [ "$i" = 4 ]; then ok $t; else bad $t "genvlist $n/4, genvnone $u/4, iface $i/4"; fi
fi

# -outfile-pattern: each rank's output in its own file, on the host of mpiexec.
t=outfile_pattern
if want $t; then
    run 30 $MX -outfile-pattern "$work/out.%r.%h" -n 4 $HI info
    okf=1
    for r in 0 1 2 3; do
        h=hosta
        [ $r -ge 2 ] && h=hostb
        grep -q "^rank $r of 4 on $h" "$work/out.$r.$h" 2>/dev/null || okf=0
    done
    if [ $rc = 0 ] && [ $okf = 1 ] && [ ! -s "$work/out" ]; then ok $t; else bad $t "rc=$rc, files: $(ls "$work")"; fi
fi

# wait_ready N: waits (up to 20 s) until N ranks printed a whole "ready R pid P" line in
# $work/out (a line the forwarders have only half written yet does not count: its pid
# would be cut).
wait_ready() {
    for _ in $(seq 200); do
        [ "$(grep -cE '^ready [0-9]+ pid [0-9]+$' "$work/out" 2>/dev/null)" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# all_gone PIDS...: true when none of the processes exists within 2 s.
all_gone() {
    for _ in $(seq 20); do
        local alive=0
        for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && return 0
        sleep 0.1
    done
    return 1
}

# start_sleepers [VAR=VALUE...]: starts mpiexec ($mx) with 4 sleeping ranks ($pids) in the
# background, with the test's marker and these variables in its environment; false (and
# nothing left running) if they do not all start.
start_sleepers() {
    env OXH_JOB="$t.$$" "$@" "$NSEXEC" hosta $MX -n 4 $HI sleep >"$work/out" 2>"$work/err" &
    mx=$!
    if wait_ready 4; then
        pids=$(awk '/^ready [0-9]+ pid [0-9]+$/ {print $4}' "$work/out")
        return 0
    fi
    kill -9 $mx
    wait $mx 2>/dev/null
    none_left 1
    return 1
}

# ended_within SECS: waits up to SECS seconds for the background mpiexec ($mx, the very
# process: nsexec and env exec it); its exit code in $rc ("none": still running, killed).
ended_within() {
    for _ in $(seq $(($1 * 10))); do
        if ! kill -0 $mx 2>/dev/null; then
            wait $mx
            rc=$?
            return 0
        fi
        sleep 0.1
    done
    kill -9 $mx
    wait $mx 2>/dev/null
    rc=none
    return 1
}

# proxy_of_hostb: the pid of the running proxy on hostb.
proxy_of_hostb() {
    pgrep -f -- "--proxy .* 1$" | while read -r p; do
        [ "$(ip netns identify "$p" 2>/dev/null)" = "$NSB" ] && echo "$p"
    done | head -1
}

# kill -9 of mpiexec: the proxies notice and every rank on both hosts is gone within 2 s.
t=launcher_killed
if want $t; then
    if start_sleepers; then
        kill -9 $mx
        wait $mx 2>/dev/null
        # The ranks of both hosts within 2 s (issue 14), and the proxies with them.
        if all_gone $pids && none_left 1; then
            ok $t
        else
            bad $t "still alive 2 s after kill -9 of mpiexec: ranks $pids; left: $left"
        fi
    else
        bad $t "the ranks did not start"
    fi
fi

# SIGTERM to mpiexec is forwarded to the ranks of both hosts; exit code 128+15.
t=sigterm_forwarded
if want $t; then
    if start_sleepers; then
        kill -TERM $mx
        wait $mx
        rc=$?
        if [ $rc = 143 ] && all_gone $pids; then ok $t; else bad $t "rc=$rc, want 143 and no rank left"; fi
    else
        bad $t "the ranks did not start"
    fi
fi

# A proxy killed: mpiexec ends the job and says which host was lost.
t=proxy_killed
if want $t; then
    if start_sleepers; then
        proxy=$(proxy_of_hostb)
        [ -n "$proxy" ] && kill -9 "$proxy"
        # Its ranks within 2 s of its death (issue 14), then the whole job.
        gone=no
        all_gone $pids && gone=yes
        ended_within 10
        if [ -n "$proxy" ] && [ "$rc" = 1 ] && [ $gone = yes ] && none_left 2 &&
            grep -q "lost the proxy of host hostb with 2 running rank(s): its connection ended; ending the job" "$work/err"; then
            ok $t
        else
            bad $t "rc=$rc (want 1) proxy=$proxy, its ranks gone within 2 s: $gone; left: $left"
        fi
    else
        bad $t "the ranks did not start"
    fi
fi

# The link between the hosts vanishes mid-job (no FIN, no RST: a pulled cable): both sides
# notice the silence of the control stream (OXIMPI_PROXY_TIMEOUT, 2 s here), mpiexec names
# the lost host and ends the job with 1, the proxy on hostb kills its ranks and exits;
# nothing of the job is left (issue 14: before, all of it waited forever).
t=proxy_link_cut
if want $t; then
    if start_sleepers OXIMPI_PROXY_TIMEOUT=2; then
        ip -n "$NSA" link del oxnet0
        ended_within 20
        if [ "$rc" = 1 ] && none_left 5 &&
            grep -q "lost the proxy of host hostb with 2 running rank(s): no word from it for [0-9.]* s" "$work/err" &&
            grep -q "mpiexec proxy on hostb: lost mpiexec: no word from mpiexec for [0-9.]* s.*; killing ranks \[2, 3\]" "$work/err"; then
            ok $t
        else
            bad $t "rc=$rc (want 1 and both sides' messages); left: $left"
        fi
    else
        bad $t "the ranks did not start"
    fi
    netns_link || { echo "tests-hosts: cannot remake the link: $netns_why" >&2; exit 1; }
fi

# A proxy stopped (SIGSTOP) past the timeout: mpiexec ends the job with the same message,
# then kills the proxy's launcher (here the proxy itself); its ranks follow it.
t=proxy_stopped
if want $t; then
    if start_sleepers OXIMPI_PROXY_TIMEOUT=2; then
        proxy=$(proxy_of_hostb)
        [ -n "$proxy" ] && kill -STOP "$proxy"
        ended_within 20
        if [ -n "$proxy" ] && [ "$rc" = 1 ] && none_left 5 &&
            grep -q "lost the proxy of host hostb with 2 running rank(s): no word from it for [0-9.]* s" "$work/err"; then
            ok $t
        else
            bad $t "rc=$rc (want 1) proxy=$proxy; left: $left"
        fi
    else
        bad $t "the ranks did not start"
    fi
fi

# The heartbeat keeps a quiet job alive: ranks that say nothing for 7 s under a 3 s
# timeout (a ping every 0.6 s each way) finish normally; a bad value is refused. (Not
# shorter: on this shared machine a process may get no CPU for a second now and then.)
t=proxy_heartbeat
if want $t; then
    run 40 env OXIMPI_PROXY_TIMEOUT=3 $MX -n 4 $HI nap 7
    r1=$rc n=$(grep -c "^rank [0-3] of 4 on host[ab]" "$work/out")
    run 30 env OXIMPI_PROXY_TIMEOUT=soon $MX -n 4 $HI info
    if [ $r1 = 0 ] && [ "$n" = 4 ] && [ $rc != 0 ] && grep -q "OXIMPI_PROXY_TIMEOUT=soon" "$work/err" && none_left 2; then
        ok $t
    else
        bad $t "quiet job rc=$r1 with $n/4 lines (want 0, 4), bad value rc=$rc (want an error)"
    fi
fi

# A rank killed on hostb while rank 0 on hosta waits on it over TCP: the job ends
# promptly (not a hang) with the message naming the lost rank, under our mpiexec and hydra.
"$MPICC" -O1 -o "$work/peer_lost" "$root/tests-hosts/peer_lost.c" || exit 1
for launcher in oximpi hydra; do
    t=peer_lost_$launcher
    want $t || continue
    # Whoever notices first says so: our mpiexec, or rank 0's TCP transport; hydra's
    # proxies may also end the job before the transport speaks, with hydra's own words.
    named="lost rank 3 over TCP|rank 3 \(pid [0-9]+\) killed by signal 9"
    if [ $launcher = oximpi ]; then lx=$MX; else lx=$HX named="$named|processes terminated badly"; fi
    "$NSEXEC" hosta $lx -n 4 "$work/peer_lost" >"$work/out" 2>"$work/err" &
    mx=$!
    if wait_ready 1; then
        victim=$(awk '/^ready [0-9]+ pid [0-9]+$/ {print $4}' "$work/out")
        kill -9 "$victim"
        ended=0
        for _ in $(seq 100); do
            kill -0 $mx 2>/dev/null || { ended=1; break; }
            sleep 0.1
        done
        if [ $ended = 1 ]; then
            wait $mx
            rc=$?
            if [ $rc != 0 ] && grep -Eq "$named" "$work/err"; then
                ok $t
            else
                bad $t "rc=$rc, want a failure naming rank 3"
            fi
        else
            kill -9 $mx
            wait $mx 2>/dev/null
            bad $t "the job still ran 10 s after rank 3 (pid $victim) was killed; stderr: $(tail -c 600 "$work/err")"
        fi
    else
        kill -9 $mx
        wait $mx 2>/dev/null
        bad $t "rank 3 never got ready"
    fi
done

# hydra across the same hosts, with our library (PMI-1 through hydra's proxies).
t=hydra_ranks_and_hosts
if want $t; then
    run 60 $HX -n 4 $HI info
    got=$(sed -E 's/ pid [0-9]+//' "$work/out" | sort)
    exp=$(printf 'rank 0 of 4 on hosta\nrank 1 of 4 on hosta\nrank 2 of 4 on hostb\nrank 3 of 4 on hostb')
    if [ $rc = 0 ] && [ "$got" = "$exp" ]; then ok $t; else bad $t "rc=$rc, got: $got"; fi
fi

# Cross-host MPI: C tests of tests-c on 2 hosts x 2 ranks (they need the TCP transport).
if [ $cross = 1 ]; then
    for name in sendrecv coll_ops dtype_order rma_fence; do
        "$MPICC" -O1 -o "$work/$name" "$root/tests-c/$name.c" 2>"$work/err" || {
            bad "cross_$name" "does not compile"
            continue
        }
        for launcher in oximpi hydra; do
            t=cross_${launcher}_$name
            want $t || continue
            if [ $launcher = oximpi ]; then
                run 120 $MX -n 4 "$work/$name"
            else
                run 120 $HX -n 4 "$work/$name"
            fi
            if [ $rc = 0 ] && grep -q "PASS $name" "$work/out"; then ok $t; else bad $t "rc=$rc"; fi
        done
    done
fi

# Dynamic processes across hosts: MPI_Comm_spawn placing children on the other host, and
# MPI_Comm_accept/connect between jobs on different hosts (processes of different jobs
# meet over TCP, authenticated by HMAC; see src/transport/sock). Ours only: Debian's MPICH
# is built with ch4:ucx, which has no dynamic processes, so hydra cannot run them either.
if [ $cross = 1 ]; then
    for name in spawn_hosts accept_hosts; do
        "$MPICC" -O1 -o "$work/$name" "$root/tests-hosts/$name.c" 2>"$work/err" ||
            bad "$name" "does not compile"
    done
    SP=$work/spawn_hosts
    # Parents on hosta:2,hostb:2, root on hosta; info host=hostb puts both children there.
    t=spawn_info_host
    if want $t; then
        run 120 $MX -n 4 "$SP" hostb,hostb hostb
        if [ $rc = 0 ] && grep -q "PASS spawn_hosts" "$work/out"; then ok $t; else bad $t "rc=$rc"; fi
    fi
    # The same under hydra (MPICH's launcher, PMI-1 spawn; our library on both sides).
    t=spawn_info_host_hydra
    if want $t; then
        run 120 $HX -n 4 "$SP" hostb,hostb hostb
        if [ $rc = 0 ] && grep -q "PASS spawn_hosts" "$work/out"; then ok $t; else bad $t "rc=$rc"; fi
    fi
    # No info: the next free slots of the host list (hydra's way), here hostb's last two.
    t=spawn_next_slots
    if want $t; then
        run 120 $MPIEXEC -hosts hosta:2,hostb:4 -launcher-exec $NSEXEC -n 4 "$SP" hostb,hostb
        if [ $rc = 0 ] && grep -q "PASS spawn_hosts" "$work/out"; then ok $t; else bad $t "rc=$rc"; fi
    fi
    # Root on hostb, children on hosta (mpiexec's own host: started there directly), and
    # wrapping around the host list: hosta's slots come again after hostb's.
    t=spawn_back_to_launcher_host
    if want $t; then
        run 120 $MPIEXEC -hosts hostb:2,hosta:2 -launcher-exec $NSEXEC -n 4 "$SP" hostb,hostb
        r1=$rc
        run 120 $MPIEXEC -hosts hostb:2,hosta:2 -launcher-exec $NSEXEC -n 4 "$SP" hosta,hosta hosta
        if [ $r1 = 0 ] && [ $rc = 0 ] && grep -q "PASS spawn_hosts" "$work/out"; then ok $t; else bad $t "rc=$r1,$rc"; fi
    fi
    # Children that fail on the other host end the job with their code, as ranks would.
    t=spawn_child_fails_remote
    if want $t; then
        run 60 $MX -n 4 "$SP" hostb,hostb hostb die
        if [ $rc = 5 ] && grep -q "job 1 rank [01] (pid [0-9]*) exited with code 5 without PMI finalize" "$work/err"; then
            ok $t
        else
            bad $t "rc=$rc, want 5 (the children's code) and mpiexec's message"
        fi
    fi
    # Two jobs, one per host, meet through a port; meanwhile a stranger from hostb connects
    # to the port's TCP address with garbage: it gets the 16-byte challenge, is dropped,
    # and the server logs it; a client that forges the port's secret is refused too (the
    # client checks that), and then the real connect works.
    t=accept_two_hosts
    if want $t; then
        f=$work/port
        rm -f "$f" "$f.ready"
        timeout -k 2 120 "$NSEXEC" hosta "$MPIEXEC" -n 2 "$work/accept_hosts" server "$f" \
            >"$work/sout" 2>"$work/serr" &
        srv=$!
        for _ in $(seq 600); do [ -e "$f.ready" ] && break; sleep 0.1; done
        addr=$(sed -n 's/.*@//p' "$f" 2>/dev/null)
        stranger=none
        if [ -n "$addr" ]; then
            # (A script: nsexec joins its words for sh, as ssh does.)
            printf '%s\n' 'exec 3<>"/dev/tcp/$1/$2" || exit 1' \
                "printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3" 'cat <&3 2>/dev/null | wc -c' >"$work/stranger.sh"
            stranger=$(timeout 20 "$NSEXEC" hostb bash "$work/stranger.sh" "${addr%:*}" "${addr#*:}")
        fi
        run 120 "$NSEXEC" hostb "$MPIEXEC" -n 2 "$work/accept_hosts" client "$f"
        wait $srv
        src=$?
        cat "$work/sout" >>"$work/out"
        cat "$work/serr" >>"$work/err"
        if [ $rc = 0 ] && [ $src = 0 ] && [ "$stranger" = 16 ] &&
            grep -q "^PASS accept_hosts$" "$work/out" && grep -q "PASS accept_hosts (client)" "$work/out" &&
            grep -q "forged port refused" "$work/out" &&
            grep -q "rejected a connection from 10.77.0.2" "$work/err" &&
            case $addr in 10.77.0.1:*) true ;; *) false ;; esac; then
            ok $t
        else
            bad $t "client rc=$rc, server rc=$src, port address '$addr', stranger read '$stranger' bytes (want 16, then closed)"
        fi
    fi
fi

echo "tests-hosts: $pass passed, $fail failed${failed:+:$failed}"
[ $fail = 0 ]
