#!/usr/bin/env bash
# Runs every test of the project, from a fresh clone: installs the few
# system packages the network tests use, builds both binaries (the
# integration tests in tests/ start the real switchd and switchctl), then
# runs `cargo test` for the whole workspace. Extra arguments go to cargo test.
#
# As root the namespace/TAP/AF_PACKET tests run, and SWITCHD_REQUIRE_ROOT=1
# turns any skip into a failure. Not as root they print SKIP and pass.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
command -v ethtool >/dev/null 2>&1 || need+=(ethtool)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
# The qemu guest tests (tests/qemu.rs): qemu, and what tests/vm/build-guest.sh
# needs to make the guest image (a static busybox, depmod/modprobe, xz).
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v depmod >/dev/null 2>&1 || need+=(kmod)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
# Real peers (tests/common/peers.rs): Open vSwitch as RSTP/LACP/OpenFlow peer.
command -v ovs-vswitchd >/dev/null 2>&1 || need+=(openvswitch-switch)
# Decoders of what switchd exports (tests/metrics.rs, tests/export.rs):
# promtool checks the metrics, tshark decodes sFlow and IPFIX.
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v tshark >/dev/null 2>&1 || need+=(tshark)
# Load for the QoS tests (tests/qos.rs) and the soak script's smoke test
# (tests/soak.rs), which also sends broadcast ARP with iputils' arping.
command -v iperf3 >/dev/null 2>&1 || need+=(iperf3)
arping -V 2>&1 | grep -q iputils || need+=(iputils-arping)
# libvirt as the issue-18 peer (tests/libvirt.rs): the daemon, its qemu driver
# and virsh, without libvirt-daemon-system (it pulls systemd in as init).
command -v libvirtd >/dev/null 2>&1 || need+=(libvirt-daemon libvirt-daemon-driver-qemu)
command -v virsh >/dev/null 2>&1 || need+=(libvirt-clients)
# bridge-utils' brctl, to compare the brctl face's layouts with (tests/brctl.rs).
[ -x /usr/sbin/brctl ] || [ -x /sbin/brctl ] || need+=(bridge-utils)
# Packaging (tests/packaging.rs): systemd-analyze verify and systemd-sysusers,
# groff to check the man pages, dpkg-shlibdeps for the package's Depends,
# strip for its binaries.
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v groff >/dev/null 2>&1 || need+=(groff-base)
command -v dpkg-shlibdeps >/dev/null 2>&1 || need+=(dpkg-dev)
command -v strip >/dev/null 2>&1 || need+=(binutils)
if ((${#need[@]})); then
    if [ "$(id -u)" = 0 ]; then
        echo "test.sh: installing ${need[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    else
        echo "test.sh: missing ${need[*]}; the root-only tests will skip anyway" >&2
    fi
fi

# libvirtd resolves its qemu user at start-up; that account is made by
# libvirt-daemon-system's scripts, which are not installed.
if [ "$(id -u)" = 0 ] && command -v libvirtd >/dev/null 2>&1 && ! getent passwd libvirt-qemu >/dev/null; then
    getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
    useradd --system --no-create-home --home-dir /var/lib/libvirt \
        --shell /usr/sbin/nologin -g libvirt-qemu libvirt-qemu
fi

if [ "$(id -u)" = 0 ] || [ -n "${CI:-}" ]; then
    export SWITCHD_REQUIRE_ROOT=1
else
    echo "test.sh: NOTE: not root, tests that need network namespaces will SKIP (run as root to include them)" >&2
fi

# os-ken, the OpenFlow controller of tests/openflow.rs, in its own venv
# (the tests create it too, under a lock; doing it here keeps the pip
# install out of any test's time).
if [ -n "${SWITCHD_REQUIRE_ROOT:-}" ]; then
    ./scripts/osken-venv.sh >/dev/null
fi

cargo build --workspace --bins
cargo test --workspace "$@"
