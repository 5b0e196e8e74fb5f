#!/usr/bin/env bash
# The main job in one command: build switchd, start it with a temporary
# socket and db, attach two network namespaces through TAP ports, ping from
# one to the other, print what the switch saw, then restart switchd in place
# while pinging (no TAP is re-created, no ping is lost). Everything it creates is
# named sdemo* and removed on exit, also on failure. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo.sh: needs root (network namespaces and TAP devices)" >&2; exit 1; }
command -v ping >/dev/null 2>&1 || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iputils-ping >/dev/null
}

cargo build --workspace --bins --release
bin=target/release
dir=$(mktemp -d /tmp/sdemo.XXXXXX)
sock=$dir/switchd.sock
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    ip netns del sdemo1 2>/dev/null || true
    ip netns del sdemo2 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

ctl() { echo "+ switchctl $*"; "$bin/switchctl" --socket "$sock" "$@"; }

"$bin/switchd" --socket "$sock" --db "$dir/config.json" 2>"$dir/switchd.log" &
pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || { cat "$dir/switchd.log"; exit 1; }

ctl add-br br0
for i in 1 2; do
    ip netns add sdemo$i
    ctl add-port br0 sdemo-tap$i type=tap
    ip link set sdemo-tap$i netns sdemo$i
    ip -n sdemo$i link set lo up
    ip -n sdemo$i addr add 10.250.0.$i/24 dev sdemo-tap$i
    ip -n sdemo$i link set sdemo-tap$i up
done

echo "+ ip netns exec sdemo1 ping -c 3 10.250.0.2"
ip netns exec sdemo1 ping -c 3 -W 1 10.250.0.2
ctl show
ctl fdb-show br0
ctl port-stats br0

# An upgrade under running "VMs": switchd replaces itself with the binary on
# disk, in the same process, keeping both TAPs (still in their namespaces).
echo "+ ip netns exec sdemo1 ping -i 0.01 -c 200 10.250.0.2 &   # while switchctl restart"
ip netns exec sdemo1 ping -i 0.01 -c 200 -W 1 -q 10.250.0.2 >"$dir/ping.log" &
pinger=$!
sleep 0.5
ctl restart
wait "$pinger" || { cat "$dir/ping.log"; exit 1; }
grep -E "packets transmitted" "$dir/ping.log"
echo "demo: OK"
