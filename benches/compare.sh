#!/usr/bin/env bash
# System benchmark of switchd: the same workloads (iperf3 TCP x1 / x4, trafgen 60-byte
# frames, sockperf UDP ping-pong) between two network namespaces joined by the Linux
# bridge, switchd with TAP ports, switchd with system ports (veth) and, when it is
# installed, Open vSwitch's userspace datapath with and without userspace TSO. Prints a
# markdown table (medians and ranges of interleaved rounds, plus the switch's CPU time),
# writes the raw records and an SVG chart. `--help` lists the options.
#
# compare.py does the work and removes everything it created. This wrapper checks for
# root, picks the run's name prefix, passes signals on, and afterwards removes anything
# still carrying the prefix (a backstop for a compare.py that was killed outright).
set -euo pipefail
cd "$(dirname "$0")/.."

for arg in "$@"; do
    case $arg in
    -h | --help | --list | --report) exec python3 benches/compare.py "$@" ;;
    esac
done
[ "$(id -u)" = 0 ] || {
    echo "compare.sh: needs root (network namespaces, TAP devices, AF_PACKET sockets)" >&2
    exit 1
}

prefix=swb$$ # every namespace, link and the temp dir /tmp/$prefix start with this
dir=/tmp/$prefix

# shellcheck disable=SC2317 # called by the EXIT trap
backstop() {
    # Only when compare.py could not clean up: its temp dir is still there.
    [ -d "$dir" ] || return 0
    echo "compare.sh: removing what is left of run $prefix" >&2
    if [ -S "$dir/ovs/ovs-vswitchd.ctl" ]; then
        # As compare.py does: without del-br first, `exit --cleanup` leaves OVS's persistent
        # `ovs-netdev` TAP behind.
        ovs-vsctl --db="unix:$dir/ovs/db.sock" --timeout=10 --if-exists del-br "${prefix}br" \
            >/dev/null 2>&1 || true
        ovs-appctl -t "$dir/ovs/ovs-vswitchd.ctl" exit --cleanup >/dev/null 2>&1 || true
        for _ in $(seq 50); do [ -S "$dir/ovs/ovs-vswitchd.ctl" ] || break; sleep 0.1; done
    fi
    if [ -f "$dir/pids" ]; then
        # Our processes only: the pid must still run the program that was recorded for it.
        while read -r pid name; do
            if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "${name:0:15}" ]; then
                kill -TERM "$pid" 2>/dev/null || true
            fi
        done <"$dir/pids"
        sleep 1
    fi
    # The exact names compare.py uses, so that run swb12 never touches run swb123's.
    names="^$prefix(n[12]|br|[vtd][12]|v[12]p)\$"
    for ns in $(ip netns list | awk '{print $1}' | grep -E "$names" || true); do
        ip netns del "$ns" || true
    done
    for link in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "$names" || true); do
        ip link del "$link" 2>/dev/null || true
    done
    rm -rf "$dir"
}
trap backstop EXIT

python3 benches/compare.py --prefix "$prefix" "$@" &
child=$!
# A background job of a script starts with SIGINT ignored; compare.py installs its own
# handlers, and these traps pass on signals sent only to this shell.
trap 'kill -INT "$child" 2>/dev/null || true' INT
trap 'kill -TERM "$child" 2>/dev/null || true' TERM HUP
while kill -0 "$child" 2>/dev/null; do
    wait "$child" || true
done
set +e
wait "$child"
rc=$?
exit "$rc"
