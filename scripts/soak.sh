#!/usr/bin/env bash
# Soak test of switchd (issue 19, part 5), run by hand and not in CI (CI runs
# a 25-s smoke of this script, tests/soak.rs, so that it cannot rot). For
# --duration seconds (default 1800) a private switchd carries mixed traffic
# (iperf3 TCP and UDP, pings every 20-100 ms, VLAN access ports and a trunk,
# small floods of random source MACs, broadcast ARP) while its configuration
# churns (ports, VLAN tags, flows, mirrors, MAC ageing, a second bridge,
# an in-place restart every ~6 s, a few read commands a second) and
# links flap (down/up, a veth deleted and re-created under its name). Every 5 s it samples switchd's memory, fds,
# threads and CPU, the MAC table, the ping loss and the time of one
# `switchctl show` into samples.csv. It fails (exit 1) if switchd dies,
# stops forwarding between two hosts that are never flapped, stops answering,
# leaks fds, threads or memory (see --rss-bound-mib, --fd-slack), or does not
# stop cleanly on SIGTERM at the end. The summary is the last lines it prints
# (and summary.txt in --out). Why: leaks and stalls that only show after
# thousands of changes and flaps under traffic, which tests/hardening.rs's
# short, one-thing-at-a-time tests do not reach.
#
# Everything it creates is named sk<pid>...: the network namespaces (switchd
# runs in one of its own, so its TAPs and veth ends never appear in the root
# namespace), the links inside them, and /tmp/sk<pid>/ (socket, db, log). All
# of it is removed on exit, also on failure, Ctrl-C or SIGTERM (a run put in
# the background with `&` by a non-interactive shell ignores SIGINT, as
# every such command does: stop it with SIGTERM). It stops only
# the processes it started: each worker is started in a process group of its
# own, which is signalled by the worker's pid; switchd by its pid. It never
# touches eth0 or any other interface of the root namespace.
#
# scripts/soak.py (same directory) holds the raw-frame flood, the sampler and
# the summary. Needs root, iproute2, iputils-ping, iputils-arping, iperf3 and
# python3 (installed with apt-get when missing, unless --no-install).
# shellcheck disable=SC2317 # the workers and traps are called through spawn and trap
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
root=$PWD

usage() {
    cat <<'EOF'
Usage: scripts/soak.sh [--duration SECS] [--out DIR] [--bin-dir DIR] [OPTIONS]

  --duration SECS     how long traffic, churn and flaps run (default 1800)
  --out DIR           where samples.csv, ops.log, the ping logs, switchd.log and
                      summary.txt go (default target/soak/<date>-<pid>)
  --bin-dir DIR       use the switchd and switchctl in DIR instead of building
                      them (`cargo build --release --workspace --bins`)
  --no-install        do not apt-get install missing tools; fail instead
  --rss-bound-mib N   largest RSS growth after warm-up that passes (default 16)
  --fd-slack N        fds at the end may exceed those after warm-up by N (default 2)
  --loss-max PCT      largest ping loss of the always-on pair that passes (default 1)
  --stall-limit SECS  longest time without a reply on the always-on pair (default 5)
  --log-level LEVEL   switchd's --log-level (default info)
  -h, --help          this text

Exit status: 0 passed, 1 failed (the last line says why), 2 bad usage.
EOF
}

duration=1800 out='' bin_dir='' install=1 rss_bound_mib=16 fd_slack=2 loss_max=1 stall_limit=5
log_level=info
while (($#)); do
    case $1 in
    --duration) duration=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --bin-dir) bin_dir=${2:?}; shift 2 ;;
    --no-install) install=0; shift ;;
    --rss-bound-mib) rss_bound_mib=${2:?}; shift 2 ;;
    --fd-slack) fd_slack=${2:?}; shift 2 ;;
    --loss-max) loss_max=${2:?}; shift 2 ;;
    --stall-limit) stall_limit=${2:?}; shift 2 ;;
    --log-level) log_level=${2:?}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "soak.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done
if ! [[ $duration =~ ^[0-9]+$ ]] || ((duration < 10)); then
    echo "soak.sh: --duration must be a number of seconds >= 10" >&2
    exit 2
fi
[ "$(id -u)" = 0 ] || { echo "soak.sh: needs root (network namespaces, TAP devices, AF_PACKET)" >&2; exit 1; }

say() { printf 'soak.sh: %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------
# Tools and binaries
# ---------------------------------------------------------------------------

need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v iperf3 >/dev/null 2>&1 || need+=(iperf3)
# iputils' arping (-b, -I, -w); Thomas Habets' arping takes other options.
arping -V 2>&1 | grep -q iputils || need+=(iputils-arping)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if ((${#need[@]})); then
    ((install)) || { say "missing ${need[*]} (and --no-install)"; exit 1; }
    say "installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ -z "$bin_dir" ]; then
    cargo build --release --workspace --bins
    bin_dir=target/release
fi
bin_dir=$(cd "$bin_dir" && pwd)
SWITCHD=$bin_dir/switchd
SWITCHCTL=$bin_dir/switchctl
if ! [ -x "$SWITCHD" ] || ! [ -x "$SWITCHCTL" ]; then say "no switchd/switchctl in $bin_dir"; exit 1; fi

# ---------------------------------------------------------------------------
# Names, files, cleanup
# ---------------------------------------------------------------------------

P=sk$$                  # every namespace and link name starts with this (<= 9 bytes)
tmp=/tmp/$P             # socket, db, log, flags
sock=$tmp/switchd.sock
[ -n "$out" ] || out=target/soak/$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$out"
out=$(cd "$out" && pwd)
ops=$out/ops.log        # EPOCH KIND NAME RC MS: every command, flap, flood, arping, iperf3 run
errlog=$out/ctl-errors.log
facts=$out/facts        # KEY=VALUE lines for the summary
: >"$ops"
: >"$errlog"
: >"$facts"
fact() { printf '%s=%s\n' "$1" "$2" >>"$facts"; }

S=${P}s                                   # switchd's namespace
HOSTS=(a b c d e f g h)                   # host namespaces ${P}a ... ${P}h
BR=soak0 BR1=soak1 BR2=soak2             # bridges (names private to this switchd)
MAIN=$$
swpid='' monpid=''
groups=()                                 # pids of the workers, each leading its process group

rm -rf "$tmp"
mkdir -p "$tmp"
: >"$tmp/run"                             # the workers run while this exists

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    set +e
    rm -f "$tmp/run"
    stop_groups
    if switchd_alive; then
        kill -TERM "$swpid" 2>/dev/null
        for _ in $(seq 50); do switchd_alive || break; sleep 0.1; done
        switchd_alive && kill -KILL "$swpid" 2>/dev/null
        wait "$swpid" 2>/dev/null
    fi
    [ -f "$tmp/switchd.log" ] && cp "$tmp/switchd.log" "$out/switchd.log"
    for h in "${HOSTS[@]}"; do ip netns del "$P$h" 2>/dev/null; done
    ip netns del "$S" 2>/dev/null
    # Backstop: nothing of ours is made in the root namespace, but if a step
    # was cut short, only exact names of this run go.
    for l in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^${P}[a-z0-9.]*\$"); do
        ip link del "$l" 2>/dev/null
    done
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM HUP

# Signals every worker's process group (TERM, then KILL after 3 s to a group
# that still has members, whose number therefore cannot have been reused)
# and reaps the workers.
stop_groups() {
    local g alive
    for g in "${groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
    for _ in $(seq 30); do
        alive=0
        for g in "${groups[@]}"; do if kill -0 -- "-$g" 2>/dev/null; then alive=1; fi; done
        ((alive)) || break
        sleep 0.1
    done
    for g in "${groups[@]}"; do
        if kill -0 -- "-$g" 2>/dev/null; then kill -KILL -- "-$g" 2>/dev/null || true; fi
        wait "$g" 2>/dev/null || true
    done
    groups=()
}

# Whether switchd still runs: our child's pid, still running switchd.
switchd_alive() { [ -n "$swpid" ] && [ "$(cat "/proc/$swpid/comm" 2>/dev/null)" = switchd ]; }

# spawn FUNCTION ARGS...: runs it in the background, in a process group of
# its own (job control on only for this fork), and remembers its pid. What
# the workers print on stderr (bash's "Terminated" when a worker's child is
# stopped, a tool's complaint) goes to workers.log.
spawn() {
    set -m
    "$@" 2>>"$out/workers.log" &
    groups+=($!)
    set +m
}

# Worker prologue: no inherited traps, no errexit; exit on TERM.
worker() {
    trap - EXIT INT HUP
    trap 'exit 0' TERM
    set +e
}

# Whether workers should go on: the run flag exists and the script lives.
running() { [ -e "$tmp/run" ] && kill -0 "$MAIN" 2>/dev/null; }

# Random sleep of LO..HI tenths of a second.
nap() {
    local t=$((RANDOM % ($2 - $1 + 1) + $1))
    sleep "$((t / 10)).$((t % 10))"
}

# Microseconds of $EPOCHREALTIME.
usec() { local t=$EPOCHREALTIME; echo "${t/./}"; }

# log_op KIND NAME RC START_USEC [EXTRA]: one ops.log line, with the
# milliseconds since START.
log_op() {
    local end=$EPOCHREALTIME us
    us=$((${end/./} - $4))
    printf '%s %s %s %d %d.%03d%s\n' "$end" "$1" "$2" "$3" $((us / 1000)) $((us % 1000)) "${5:+ $5}" >>"$ops"
}

# ctl KIND NAME ARGS...: switchctl ARGS, timed and logged; refusals go to ctl-errors.log.
ctl() {
    local kind=$1 name=$2 t0 err rc=0
    shift 2
    t0=$(usec)
    err=$("$SWITCHCTL" --socket "$sock" --timeout 10 "$@" 2>&1 >/dev/null) || rc=$?
    log_op "$kind" "$name" "$rc" "$t0"
    ((rc == 0)) || printf '%s switchctl %s: %s\n' "$EPOCHREALTIME" "$*" "$err" >>"$errlog"
    return "$rc"
}

# Setup steps must succeed.
sctl() { "$SWITCHCTL" --socket "$sock" --timeout 10 "$@"; }
nsx() { local ns=$1; shift; ip netns exec "$P$ns" "$@"; }

# ---------------------------------------------------------------------------
# Topology
# ---------------------------------------------------------------------------
#
#   a  TAP  ${P}ta  10.77.0.1          always-on pair with b: never flapped or
#   b  veth ${P}vb  10.77.0.2          reconfigured; its loss and gaps are judged
#   c  TAP  ${P}tc  10.77.0.3          flapped; iperf3 TCP from d; MAC flood source
#   d  veth ${P}vd  10.77.0.4          flapped, deleted and re-created
#   e  TAP  ${P}te  tag=10 10.77.10.5  VLAN 10 access, flapped; iperf3 TCP to g, UDP from g
#   f  veth ${P}vf  tag=10 10.77.10.6  its tag churns 10/20/30
#   g  behind a trunk: soak0's ${P}vg (trunk 10,20) is cabled by a veth to
#      ${P}wg (trunk 10,20) of a second switch, bridge soak2, whose TAP
#      access ports ${P}tg (tag=10) 10.77.10.7 and ${P}tk (tag=20)
#      10.77.20.7 both go to namespace g. (This kernel may have no 8021q
#      module for VLAN devices, nor a bridge, so the far end of the trunk
#      is switchd too, as in README's two-switch recipe.)
#   h  TAP  ${P}th  tag=20 10.77.20.8  VLAN 20 access; iperf3 UDP to g
#   mirror sinks: TAPs ${P}tm and ${P}tn (left in switchd's namespace);
#   transient ports ${P}vx (veth, peer ${P}px) and ${P}tx (TAP) come and
#   go; bridge soak1 with TAP ${P}ty comes and goes.

newns() {
    ip netns add "$1"
    ip -n "$1" link set lo up
    ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# tap_into BRIDGE DEV H CIDR [SETTINGS...]: a TAP port DEV moved into host namespace H.
tap_into() {
    local br=$1 dev=$2 h=$3 cidr=$4
    shift 4
    sctl add-port "$br" "$dev" type=tap "$@"
    ip -n "$S" link set dev "$dev" netns "$P$h"
    ip -n "$P$h" addr add "$cidr" dev "$dev"
    ip -n "$P$h" link set dev "$dev" up
}
# tap_host H CIDR [SETTINGS...]: TAP ${P}tH on soak0 for host H.
tap_host() { local h=$1 cidr=$2; shift 2; tap_into "$BR" "${P}t$h" "$h" "$cidr" "$@"; }

# veth_link H: the pair ${P}vH (switch side, up) / ${P}hH (in host H).
veth_link() {
    ip -n "$S" link add dev "${P}v$1" type veth peer name "${P}h$1" netns "$P$1"
    ip -n "$S" link set dev "${P}v$1" up
}

# veth_host H CIDR [SETTINGS...]: a system port on a veth whose peer is host H.
veth_host() {
    local h=$1 cidr=$2
    shift 2
    veth_link "$h"
    sctl add-port "$BR" "${P}v$h" "$@"
    if [ -n "$cidr" ]; then ip -n "$P$h" addr add "$cidr" dev "${P}h$h"; fi
    ip -n "$P$h" link set dev "${P}h$h" up
}

say "run $P: switchd from $bin_dir, $duration s, figures in $out"
newns "$S"
for h in "${HOSTS[@]}"; do newns "$P$h"; done

set -m
ip netns exec "$S" "$SWITCHD" --socket "$sock" --db "$tmp/config.json" --log-level "$log_level" \
    </dev/null >>"$tmp/switchd.log" 2>&1 &
swpid=$! # `ip netns exec` execs switchd in place: this is switchd's pid
set +m
for _ in $(seq 100); do
    "$SWITCHCTL" --socket "$sock" --timeout 1 list-br >/dev/null 2>&1 && break
    kill -0 "$swpid" 2>/dev/null || { cat "$tmp/switchd.log" >&2; say "switchd exited at start"; exit 1; }
    sleep 0.1
done

sctl add-br "$BR"
tap_host a 10.77.0.1/24
veth_host b 10.77.0.2/24
tap_host c 10.77.0.3/24
veth_host d 10.77.0.4/24
tap_host e 10.77.10.5/24 tag=10
veth_host f 10.77.10.6/24 tag=10
ip -n "$S" link add dev "${P}vg" type veth peer name "${P}wg"
ip -n "$S" link set dev "${P}vg" up
ip -n "$S" link set dev "${P}wg" up
sctl add-port "$BR" "${P}vg" vlan_mode=trunk trunks=10,20
sctl add-br "$BR2"
sctl add-port "$BR2" "${P}wg" vlan_mode=trunk trunks=10,20
tap_into "$BR2" "${P}tg" g 10.77.10.7/24 tag=10
tap_into "$BR2" "${P}tk" g 10.77.20.7/24 tag=20
tap_host h 10.77.20.8/24 tag=20
sctl add-port "$BR" "${P}tm" type=tap
sctl add-port "$BR" "${P}tn" type=tap
ip -n "$S" link add dev "${P}vx" type veth peer name "${P}px"
ip -n "$S" link set dev "${P}px" up

# Every host reaches its peer before anything starts (a first ping may wait for ARP).
check_ping() { nsx "$1" ping -c 1 -W 1 -q "$2" >/dev/null 2>&1 || nsx "$1" ping -c 3 -W 1 -q "$2" >/dev/null 2>&1; }
for pair in "a 10.77.0.2" "c 10.77.0.4" "e 10.77.10.7" "f 10.77.10.5" "h 10.77.20.7"; do
    # shellcheck disable=SC2086
    check_ping $pair || { sctl show >&2; say "setup: no ping $pair"; exit 1; }
done

read_proc() { # KEY of /proc/$swpid/status in KiB
    awk -v k="$1:" '$1 == k {print $2}' "/proc/$swpid/status"
}
count() { local a=("/proc/$swpid/$1"/*); echo "${#a[@]}"; }
# The daemon's fds once they stop moving (a control connection just closed
# by its client is closed by the daemon a moment later).
settled_fds() {
    local last now same=0
    last=$(count fd)
    for _ in $(seq 50); do
        sleep 0.1
        now=$(count fd)
        if ((now == last)); then ((++same >= 8)) && break; else same=0; fi
        last=$now
    done
    echo "$last"
}

fact date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
fact commit "$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)"
case $bin_dir in */release) fact profile release ;; */debug) fact profile debug ;; *) fact profile "$bin_dir" ;; esac
fact nproc "$(nproc)"
fact cpu_model "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
fact kernel "$(uname -r)"
fact load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
fact duration_planned "$duration"
fact rss_bound_mib "$rss_bound_mib"
fact fd_slack "$fd_slack"
fact loss_max_pct "$loss_max"
fact interval 5
fact pair "a ${P}ta TAP 10.77.0.1 <-> b ${P}vb veth 10.77.0.2, ping every 20 ms"
fact rss_start_kib "$(read_proc VmRSS)"
fact fds_start "$(settled_fds)"
fact threads_start "$(count task)"

# ---------------------------------------------------------------------------
# Workers: traffic
# ---------------------------------------------------------------------------

# pinger NAME H IP INTERVAL_MS: one long ping, its log in ping-NAME.log.
# Bounded by a count, not by -w: with a deadline, iputils' ping exits at
# its first error ("Destination Host Unreachable", which f's VLAN churn
# brings within a minute).
pinger() {
    worker
    exec ip netns exec "$P$2" ping -D -n -O -i "0.$(printf %03d "$4")" -W 1 \
        -c "$(((duration + 120) * 1000 / $4))" "$3" >"$out/ping-$1.log" 2>&1
}

# iperf_server H PORT: one-off servers, restarted after each test.
iperf_server() {
    worker
    while running; do
        nsx "$1" iperf3 -s -1 -p "$2" --idle-timeout 60 --rcv-timeout 10000 >/dev/null 2>&1
        sleep 0.2
    done
}

# iperf_client NAME H IP PORT ARGS...: tests of 10-40 s with 1-3 s between
# them; each is an ops.log line whose 6th field is what the receiver got, Mbit/s.
iperf_client() {
    worker
    local name=$1 h=$2 ip=$3 port=$4 t t0 rc mbps res=$tmp/iperf-$1.txt
    shift 4
    sleep 1
    while running; do
        t=$((RANDOM % 31 + 10))
        t0=$(usec)
        timeout --foreground -k 5 $((t + 30)) \
            ip netns exec "$P$h" iperf3 -c "$ip" -p "$port" -t "$t" -f m --connect-timeout 3000 "$@" \
            >"$res" 2>&1
        rc=$?
        mbps=$(awk '/receiver/ {for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1)} END {print v + 0}' "$res")
        log_op traffic "$name" "$rc" "$t0" "$mbps"
        ((rc == 0)) || printf '%s %s rc=%d: %s\n' "$EPOCHREALTIME" "$name" "$rc" "$(tail -n 3 "$res" | tr '\n' ' ')" \
            >>"$out/iperf-errors.log"
        nap 10 30
    done
}

# MAC floods of random sources from c every 20-60 s (the first after 3 s).
flood_frames=2000
fact flood_frames "$flood_frames"
flooder() {
    worker
    local t0 rc
    sleep 3
    while running; do
        t0=$(usec)
        nsx c python3 "$root/scripts/soak.py" flood "${P}tc" "$flood_frames" >/dev/null 2>&1
        rc=$?
        log_op flood mac-flood "$rc" "$t0"
        nap 200 600
    done
}

# Broadcast ARP from one of b (untagged), e (VLAN 10), g (VLAN 20 on the trunk) every 2-5 s.
arpinger() {
    worker
    local t0 rc which
    while running; do
        which=$((RANDOM % 3))
        t0=$(usec)
        case $which in
        0) nsx b arping -b -q -c 2 -w 3 -I "${P}hb" 10.77.0.3 ;;
        1) nsx e arping -b -q -c 2 -w 3 -I "${P}te" 10.77.10.7 ;;
        2) nsx g arping -b -q -c 2 -w 3 -I "${P}tk" 10.77.20.8 ;;
        esac >/dev/null 2>&1
        rc=$?
        log_op arping "arping-$which" "$rc" "$t0"
        nap 20 50
    done
}

# ---------------------------------------------------------------------------
# Workers: control (pausable: on $tmp/pause each puts back its part of the
# base configuration and waits, so that fds and memory are compared in the
# same state after warm-up and at the end)
# ---------------------------------------------------------------------------

# pause_point NAME RESTORE_FUNCTION: while $tmp/pause exists, restore once
# per pause (its content is a generation number), say so in
# $tmp/paused.NAME (the same number), and wait. Numbered, so that a worker
# that does not look between a resume and the next pause still answers it.
pause_point() {
    local gen
    while [ -e "$tmp/pause" ] && running; do
        gen=$(cat "$tmp/pause" 2>/dev/null)
        if [ -n "$gen" ] && [ "$(cat "$tmp/paused.$1" 2>/dev/null)" != "$gen" ]; then
            "$2"
            echo "$gen" >"$tmp/paused.$1"
        fi
        sleep 0.1
    done
}

# idle LO HI: nap, cut short by a pause or the end of the run.
idle() {
    local t=$((RANDOM % ($2 - $1 + 1) + $1))
    while ((t-- > 0)) && [ ! -e "$tmp/pause" ] && running; do sleep 0.1; done
}

COOKIE=0x50a4
churn_worker() {
    worker
    # What this worker has changed, so that every change it makes is valid.
    local vx=0 tx=0 br1=0 m1=0 m2=0 flows=0 tag=10 r t
    restore() {
        ((vx)) && ctl churn del-port-veth del-port "$BR" "${P}vx"
        ((tx)) && ctl churn del-port-tap del-port "$BR" "${P}tx"
        ((br1)) && ctl churn del-br del-br "$BR1"
        ((m1)) && ctl churn del-mirror del-mirror "$BR" m1
        ((m2)) && ctl churn del-mirror del-mirror "$BR" m2
        ((flows)) && ctl churn del-flows del-flows "$BR" "cookie=$COOKIE/-1"
        ((tag == 10)) || ctl churn set-tag set port "${P}vf" tag=10
        ctl churn set-aging set bridge "$BR" mac_aging=300 mac_table_size=8192
        vx=0 tx=0 br1=0 m1=0 m2=0 flows=0 tag=10
    }
    while running; do
        pause_point churn restore
        r=$((RANDOM % 13))
        case $r in
        0 | 1) # a system port comes and goes, with or without a VLAN
            if ((vx)); then
                ctl churn del-port-veth del-port "$BR" "${P}vx" && vx=0
            else
                # vx=1: no VLAN settings (trunk of all), 2: access, 3: trunk
                case $((RANDOM % 3)) in
                0) ctl churn add-port-veth add-port "$BR" "${P}vx" && vx=1 ;;
                1) ctl churn add-port-veth add-port "$BR" "${P}vx" tag=20 && vx=2 ;;
                2) ctl churn add-port-veth add-port "$BR" "${P}vx" vlan_mode=trunk trunks=10,20,30 && vx=3 ;;
                esac
            fi
            ;;
        2) # a TAP port comes and goes
            if ((tx)); then
                ctl churn del-port-tap del-port "$BR" "${P}tx" && tx=0
            else
                ctl churn add-port-tap add-port "$BR" "${P}tx" type=tap tag=10 && tx=1
            fi
            ;;
        3) # f's access VLAN moves
            t=$((RANDOM % 3 * 10 + 10))
            ctl churn set-tag set port "${P}vf" "tag=$t" && tag=$t
            ;;
        4 | 5) # flows: add one of a few (cookie $COOKIE), or delete them all
            if ((flows >= 3 || (flows && RANDOM % 3 == 0))); then
                ctl churn del-flows del-flows "$BR" "cookie=$COOKIE/-1" && flows=0
            else
                case $((RANDOM % 4)) in
                0) t="priority=300,cookie=$COOKIE,udp,tp_dst=5204,actions=NORMAL" ;;
                1) t="priority=310,cookie=$COOKIE,in_port=${P}vf,actions=NORMAL" ;;
                2) t="priority=320,cookie=$COOKIE,udp,tp_dst=9,actions=drop" ;;
                3) t="priority=330,cookie=$COOKIE,tcp,tp_dst=5202,actions=NORMAL" ;;
                esac
                ctl churn add-flow add-flow "$BR" "$t" && flows=$((flows + 1))
            fi
            ;;
        6) # mirrors on and off
            if ((RANDOM % 2)); then
                if ((m1)); then
                    ctl churn del-mirror del-mirror "$BR" m1 && m1=0
                else
                    ctl churn add-mirror add-mirror "$BR" m1 select_src_port="${P}tc" select_dst_port="${P}tc" \
                        output_port="${P}tm" && m1=1
                fi
            elif ((m2)); then
                ctl churn del-mirror del-mirror "$BR" m2 && m2=0
            else
                ctl churn add-mirror add-mirror "$BR" m2 select_vlan=10 output_port="${P}tn" && m2=1
            fi
            ;;
        7) # MAC ageing (and now and then the table's size)
            t=$((RANDOM % 4))
            case $t in
            0) ctl churn set-aging set bridge "$BR" mac_aging=5 ;;
            1) ctl churn set-aging set bridge "$BR" mac_aging=30 ;;
            2) ctl churn set-aging set bridge "$BR" mac_aging=300 ;;
            3) ctl churn set-table-size set bridge "$BR" mac_table_size=$(((RANDOM % 2) ? 1024 : 8192)) ;;
            esac
            ;;
        8) # a second bridge with a TAP and a flow comes and goes
            if ((br1)); then
                ctl churn del-br del-br "$BR1" && br1=0
            else
                ctl churn add-br add-br "$BR1" && br1=1 &&
                    ctl churn add-port-tap add-port "$BR1" "${P}ty" type=tap &&
                    ctl churn add-flow add-flow "$BR1" "priority=100,arp,actions=NORMAL"
            fi
            ;;
        9) # fdb flush
            ctl churn fdb-flush fdb-flush "$BR"
            ;;
        12) # an in-place restart (SPEC §13): the same process re-executes
            # itself and takes over every port; fds, threads and memory must
            # not grow with them, and the always-on pair must not stall
            ctl churn restart restart
            ;;
        *) # a trunk change on the transient port, if it is there and not an access port
            if ((vx == 1 || vx == 3)); then
                ctl churn set-trunks set port "${P}vx" vlan_mode=trunk trunks=$((RANDOM % 2 ? 10 : 20)),30
            else
                ctl churn set-aging set bridge "$BR" mac_aging=$((RANDOM % 300 + 1))
            fi
            ;;
        esac
        nap 2 8
    done
}

readers_worker() {
    worker
    restore_none() { :; }
    while running; do
        pause_point read restore_none
        case $((RANDOM % 6)) in
        0) ctl read show show ;;
        1) ctl read dump-flows dump-flows "$BR" ;;
        2) ctl read port-stats port-stats ;;
        3) ctl read fdb-show fdb-show "$BR" ;;
        4) ctl read list-mirrors list-mirrors ;;
        5) ctl read show-json --json show ;;
        esac
        nap 2 4
    done
}

# Brings every flapped link back (and re-creates d's veth if a step failed).
links_up() {
    ip -n "$S" link show dev "${P}vd" >/dev/null 2>&1 || veth_recreate
    ip -n "$S" link set dev "${P}vd" up
    ip -n "${P}d" link set dev "${P}hd" up
    ip -n "${P}c" link set dev "${P}tc" up
    ip -n "${P}e" link set dev "${P}te" up
    ip -n "$S" link set dev "${P}wg" up
}
veth_recreate() {
    veth_link d &&
        ip -n "${P}d" addr add 10.77.0.4/24 dev "${P}hd" &&
        ip -n "${P}d" link set dev "${P}hd" up
}

flap_worker() {
    worker
    local t0 rc what
    sleep 2
    while running; do
        pause_point flap links_up
        t0=$(usec)
        rc=0
        case $((RANDOM % 6)) in
        0) what=tap-c; ip -n "${P}c" link set dev "${P}tc" down; nap 5 30; ip -n "${P}c" link set dev "${P}tc" up || rc=1 ;;
        1) what=veth-d-switch-side; ip -n "$S" link set dev "${P}vd" down; nap 5 30; ip -n "$S" link set dev "${P}vd" up || rc=1 ;;
        2) what=veth-d-host-side; ip -n "${P}d" link set dev "${P}hd" down; nap 5 30; ip -n "${P}d" link set dev "${P}hd" up || rc=1 ;;
        3) what=veth-d-recreate; ip -n "$S" link del dev "${P}vd"; nap 5 20; veth_recreate || rc=1 ;;
        4) what=tap-e; ip -n "${P}e" link set dev "${P}te" down; nap 5 30; ip -n "${P}e" link set dev "${P}te" up || rc=1 ;;
        5) what=trunk-far-end; ip -n "$S" link set dev "${P}wg" down; nap 5 30; ip -n "$S" link set dev "${P}wg" up || rc=1 ;;
        esac
        log_op flap "$what" "$rc" "$t0"
        idle 40 100
    done
}

# ---------------------------------------------------------------------------
# Warm-up, run, end
# ---------------------------------------------------------------------------

# quiesce PREFIX: pause the control workers (each restores the base
# configuration), wait until d's port is up again, and record PREFIX_fds,
# PREFIX_rss_kib, PREFIX_threads. Traffic keeps running.
pause_gen=0
quiesce() {
    pause_gen=$((pause_gen + 1))
    echo "$pause_gen" >"$tmp/pause.new"
    mv "$tmp/pause.new" "$tmp/pause"
    local n w
    for _ in $(seq 300); do
        n=0
        for w in churn read flap; do
            [ "$(cat "$tmp/paused.$w" 2>/dev/null)" = "$pause_gen" ] && n=$((n + 1))
        done
        ((n == 3)) && break
        sleep 0.1
    done
    ((n == 3)) || say "$1: only $n of 3 control workers paused within 30 s"
    # d's port re-attaches by itself within about a second of a re-created veth.
    for _ in $(seq 50); do
        sctl show 2>/dev/null | awk -v p="${P}vd" '$1 == p' | grep -qw up && break
        sleep 0.1
    done
    fact "fds_$1" "$(settled_fds)"
    fact "rss_$1_kib" "$(read_proc VmRSS)"
    fact "threads_$1" "$(count task)"
}
resume() { rm -f "$tmp/pause"; }

spawn pinger pair a 10.77.0.2 20
spawn pinger cd c 10.77.0.4 50
spawn pinger vlan10 e 10.77.10.7 100
spawn pinger vlan20 h 10.77.20.7 100
spawn pinger f-e f 10.77.10.5 100
# Rates are capped: the point is many frames of every kind for a long time,
# not the throughput, and the machine has other work. TCP crosses the flapped
# links (d to c; TCP rides out its own link going away for a moment). The
# UDP senders are hosts whose own link never goes down (a UDP sender whose
# route vanishes stops with "Network is unreachable"), g and h; g's stream
# crosses the trunk's veth system ports, tagged. (Not f: while its VLAN is
# churned away from 10, iperf3 cannot even connect.)
spawn iperf_server c 5201
spawn iperf_server g 5202
spawn iperf_server e 5203
spawn iperf_server g 5204
spawn iperf_client tcp-d-c d 10.77.0.3 5201 -b 300M
spawn iperf_client tcp-vlan10-e-g e 10.77.10.7 5202 -b 300M
spawn iperf_client udp-vlan10-g-e g 10.77.10.5 5203 -u -b 50M -l 1200
spawn iperf_client udp-vlan20-h-g h 10.77.20.7 5204 -u -b 10M -l 256
spawn flooder
spawn arpinger
spawn churn_worker
spawn readers_worker
spawn flap_worker
spawn python3 "$root/scripts/soak.py" monitor --pid "$swpid" --switchctl "$SWITCHCTL" --socket "$sock" \
    --bridge "$BR" --ping-log "$out/ping-pair.log" --ops "$ops" --csv "$out/samples.csv" \
    --state "$out/monitor.json" --interval 5 --stall-limit "$stall_limit"
monpid=${groups[-1]}
t_start=$EPOCHREALTIME
fact t_start "$t_start"

# Warm-up: a tenth of the run, 5-120 s. Then the first comparable state.
warmup=$((duration / 10))
((warmup < 5)) && warmup=5
((warmup > 120)) && warmup=120
fact warmup "$warmup"
end=$((SECONDS + duration))
monitor_ok() { kill -0 "$monpid" 2>/dev/null; }
sleep_until() { while ((SECONDS < $1)) && monitor_ok; do sleep 1; done; }

sleep_until $((SECONDS + warmup))
if monitor_ok; then
    quiesce warm
    resume
    say "after warm-up: $(grep -E '^(fds|rss|threads)_warm' "$facts" | tr '\n' ' ')"
fi
sleep_until "$end"
fact duration_actual "$(((${EPOCHREALTIME/./} - ${t_start/./}) / 1000000))"
fact load_end "$(cut -d' ' -f1-3 /proc/loadavg)"

aborted=
if monitor_ok; then
    quiesce end
else
    aborted="the run stopped early at $((SECONDS - end + duration)) s"
    wait "$monpid" 2>/dev/null || true
fi
stop_groups # the monitor writes monitor.json on TERM
[ -n "$aborted" ] && fact aborted "$aborted"

if switchd_alive; then
    # Still forwarding once everything else has stopped: 3 of 5 pings.
    got=$(nsx a ping -c 5 -i 0.2 -W 1 -q 10.77.0.2 2>/dev/null | awk '/received/ {print $4}') || true
    if [ "${got:-0}" -ge 3 ]; then fact final_ping ok; else fact final_ping "${got:-0} of 5 replies"; fi
    kill -TERM "$swpid" || true
    st=
    for _ in $(seq 100); do switchd_alive || break; sleep 0.1; done
    if switchd_alive; then
        kill -KILL "$swpid" || true
        wait "$swpid" 2>/dev/null || true
        st="ignored SIGTERM for 10 s, killed"
    else
        wait "$swpid" && st=0 || st="exit status $?"
    fi
    swpid=
    fact exit "$st"
else
    wait "$swpid" 2>/dev/null && st=0 || st=$?
    swpid=
    fact exit "died (wait status $st)"
fi

cp "$tmp/switchd.log" "$out/switchd.log"
set +e
python3 "$root/scripts/soak.py" summary "$out"
rc=$?
if ((rc)); then
    say "evidence in $out: samples.csv, ops.log, ctl-errors.log, ping-*.log, switchd.log"
    tail -n 20 "$out/switchd.log" >&2
fi
exit "$rc"
