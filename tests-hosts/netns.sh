# tests-hosts/netns.sh: the two test hosts, to be sourced (tests-hosts/run.sh, bench/tcp.sh).
#
# hosta (10.77.0.1) and hostb (10.77.0.2): two network namespaces joined by a veth pair whose
# end is named oxnet0 on both hosts, each with its own /etc/hosts (ip netns exec mounts
# /etc/netns/NS/hosts). tests-hosts/nsexec runs a command on a host (`nsexec HOST cmd...`,
# as ssh would), finding the namespaces through OXH_NS_hosta / OXH_NS_hostb.
#
#   netns_setup     makes them (needs root); on failure returns 1 with the reason in
#                   $netns_why (the caller skips: the kernel or the user cannot make them)
#   netns_cleanup   kills whatever still runs in them and removes everything
#   netns_link      (re)makes the link between them (after a test cut it)
#
# Names: oxh<pid of the sourcing shell>a / ...b, so concurrent runs do not collide.
NSA=oxh$$a
NSB=oxh$$b
netns_why=

netns_cleanup() {
    for ns in "$NSA" "$NSB"; do
        # Whatever still runs in a test host (nothing should) goes with it.
        pids=$(ip netns pids "$ns" 2>/dev/null)
        [ -n "$pids" ] && kill -9 $pids 2>/dev/null
        ip netns del "$ns" 2>/dev/null
        rm -rf "/etc/netns/$ns"
    done
}

netns_setup() {
    local err
    if [ "$(id -u)" != 0 ]; then
        netns_why="needs root to create network namespaces"
        return 1
    fi
    if ! command -v ip >/dev/null; then
        echo "netns: installing iproute2 (ip netns)" >&2
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends iproute2 >/dev/null || {
            netns_why="ip (iproute2) is missing and could not be installed"
            return 1
        }
    fi
    err=$(ip netns add "$NSA" 2>&1) || {
        netns_why="the kernel refuses network namespaces: $err"
        return 1
    }
    ip netns add "$NSB" || return 1
    err=$(unshare --uts true 2>&1) || {
        netns_why="the kernel refuses UTS namespaces: $err"
        return 1
    }
    for ns in "$NSA" "$NSB"; do
        ip -n "$ns" link set lo up || return 1
        mkdir -p "/etc/netns/$ns"
        printf '127.0.0.1 localhost\n10.77.0.1 hosta\n10.77.0.2 hostb\n' >"/etc/netns/$ns/hosts"
    done
    netns_link || return 1
    export OXH_NS_hosta=$NSA OXH_NS_hostb=$NSB
}

# The veth pair between the hosts; deleting either end (ip -n NS link del oxnet0) cuts the
# link without a word to the processes using it, as a pulled cable would.
netns_link() {
    ip link add "${NSA}x" netns "$NSA" type veth peer name "${NSA}y" netns "$NSB" &&
        # One interface name on both hosts (names are per namespace), so that `-iface
        # oxnet0` means the link between them everywhere, as eth0 would on a cluster.
        ip -n "$NSA" link set "${NSA}x" name oxnet0 &&
        ip -n "$NSB" link set "${NSA}y" name oxnet0 &&
        ip -n "$NSA" addr add 10.77.0.1/24 dev oxnet0 &&
        ip -n "$NSB" addr add 10.77.0.2/24 dev oxnet0 || return 1
    ip -n "$NSA" link set oxnet0 up && ip -n "$NSB" link set oxnet0 up || return 1
    # The kernel reports the link's carrier (operstate UP) through its link watch, up to a
    # second later on a busy machine; UCX (MPICH's ch4) refuses a device that is not UP yet
    # ("network device 'oxnet0' is not available"), so the hosts are ready once both ends are.
    local ns tries
    for ns in "$NSA" "$NSB"; do
        tries=0
        until [ "$(ip netns exec "$ns" cat /sys/class/net/oxnet0/operstate 2>/dev/null)" = up ]; do
            tries=$((tries + 1))
            if [ $tries -gt 100 ]; then
                netns_why="the link oxnet0 of $ns did not come up within 5 s"
                return 1
            fi
            sleep 0.05
        done
    done
}
