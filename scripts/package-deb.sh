#!/usr/bin/env bash
# package-deb.sh: builds two Debian packages from this tree:
#   switchd_<version>_<arch>.deb         the daemon, switchctl, the systemd unit,
#                                        /etc/switchd/qemu-ifup|ifdown (conffiles),
#                                        completions and man pages
#   switchd-compat_<version>_<arch>.deb  /usr/bin/ovs-vsctl and /usr/sbin/brctl as
#                                        links to switchctl, which then takes those
#                                        tools' command lines
#
#   scripts/package-deb.sh [--profile release|debug] [--bin-dir DIR] [--out DIR]
#                          [--compress xz|gzip|none]
#
#   --profile P    cargo profile to build (default release); the binaries are
#                  taken from target/release or target/debug
#   --bin-dir DIR  take already-built switchd and switchctl from DIR, no build
#                  (the tests package target/debug this way)
#   --out DIR      where the .deb files go (default target/deb)
#   --compress C   dpkg-deb compression: xz (default, smallest), gzip (level 1:
#                  a quick build for tests, 0.4 s instead of 5 s at gzip -9),
#                  none
#
# Made with plain dpkg-deb --build from a staging tree rather than cargo-deb
# or debhelper: dpkg-deb is on every Debian system, cargo-deb is not installed
# (and would be one more tool to build), and a source package with debian/rules
# would rebuild everything through dpkg-buildpackage. The files are laid out by
# scripts/install.sh --prefix /usr, so a source install and the package agree.
# The maintainer scripts (contrib/debian/) are what dh_installsysusers and
# dh_installsystemd would generate, and honour $DPKG_ROOT.
#
# Prints the paths of the two packages on stdout.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
profile=release
bindir=
out=$root/target/deb
compress=xz

die() {
    echo "package-deb.sh: $*" >&2
    exit 1
}
while [ $# -gt 0 ]; do
    case $1 in
    --profile) profile=${2:?--profile needs release or debug}; shift ;;
    --bin-dir) bindir=${2:?--bin-dir needs a directory}; shift ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    --compress) compress=${2:?--compress needs xz, gzip or none}; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
case $compress in xz | gzip | none) ;; *) die "--compress: xz, gzip or none, not $compress" ;; esac
for tool in dpkg-deb dpkg strip gzip; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (apt-get install dpkg binutils gzip)"
done

if [ -z "$bindir" ]; then
    case $profile in
    release) (cd "$root" && cargo build --release --bins -p switchd -p switchctl) ;;
    debug) (cd "$root" && cargo build --bins -p switchd -p switchctl) ;;
    *) die "--profile: release or debug, not $profile" ;;
    esac
    bindir=$root/target/$profile
fi
bindir=$(cd "$bindir" && pwd)
for b in switchd switchctl; do
    [ -x "$bindir/$b" ] || die "$bindir/$b is missing (build it first, or drop --bin-dir)"
done

# The version is the one the binaries report, so the package cannot claim
# another; the architecture is dpkg's own (binaries are built for the host).
version=$("$bindir/switchctl" --version | awk '{print $2}')
[ -n "$version" ] || die "cannot read the version from $bindir/switchctl --version"
arch=$(dpkg --print-architecture)
maintainer=${SWITCHD_MAINTAINER:-switchd maintainers <switchd@example.invalid>}
# Reproducible: the date of the last commit unless SOURCE_DATE_EPOCH is set.
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH=$epoch

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# debian/<package>/ is the layout dpkg-shlibdeps expects (it warns otherwise),
# and it needs a debian/control to exist, even empty.
mkdir -p "$work/debian"
: >"$work/debian/control"
main=$work/debian/switchd
compat=$work/debian/switchd-compat

"$root/scripts/install.sh" --prefix /usr --destdir "$main" --bin-dir "$bindir" --strip >/dev/null

# Documentation every Debian package carries.
docs() { # PACKAGE STAGING
    local doc=$2/usr/share/doc/$1
    install -d "$doc"
    install -m 0644 "$root/contrib/debian/copyright" "$doc/copyright"
    {
        echo "$1 ($version) unstable; urgency=medium"
        echo
        echo "  * Built from $(git -C "$root" describe --always --dirty 2>/dev/null || echo 'a source tree') by scripts/package-deb.sh."
        echo
        echo " -- $maintainer  $(date -u -R -d "@$epoch")"
    } | gzip -9n >"$doc/changelog.Debian.gz"
    chmod 0644 "$doc/changelog.Debian.gz"
}
docs switchd "$main"

# Depends from the libraries the binaries link (libc6, libgcc-s1), as
# dh_shlibdeps would compute them; plain libc6 where dpkg-dev is missing.
depends=libc6
if command -v dpkg-shlibdeps >/dev/null 2>&1; then
    shlibs=$(cd "$work" && dpkg-shlibdeps -O "$main/usr/bin/switchd" "$main/usr/bin/switchctl" 2>/dev/null) || shlibs=
    shlibs=${shlibs#shlibs:Depends=}
    [ -z "$shlibs" ] || depends=$shlibs
fi

control() { # STAGING: Installed-Size and md5sums of what is staged so far
    local dir=$1
    install -d -m 0755 "$dir/DEBIAN"
    (cd "$dir" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0r md5sum) >"$dir/DEBIAN/md5sums"
    [ -s "$dir/DEBIAN/md5sums" ] || rm -f "$dir/DEBIAN/md5sums"
    du -sk --exclude=DEBIAN "$dir" | cut -f1
}

size=$(control "$main")
cat >"$main/DEBIAN/control" <<EOF
Package: switchd
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $depends
Recommends: iproute2
Suggests: switchd-compat, qemu-system-x86
Section: net
Priority: optional
Description: userspace virtual L2 switch with an ovs-vsctl-like CLI
 switchd bridges TAP devices, existing network devices (AF_PACKET), VXLAN
 and GRE tunnels and Unix-socket ports for qemu, with MAC learning,
 802.1Q VLANs, RSTP, bonds with LACP, OpenFlow flow tables and
 controllers, sFlow/IPFIX export, Prometheus metrics and QoS policing.
 .
 switchctl configures it over a Unix socket. The switchd.service unit
 runs the daemon as the unprivileged user switchd with only
 CAP_NET_ADMIN and CAP_NET_RAW; members of the group switchd may run
 switchctl without root.
EOF
printf '%s\n' /etc/switchd/qemu-ifup /etc/switchd/qemu-ifdown >"$main/DEBIAN/conffiles"
for s in postinst prerm postrm; do
    install -m 0755 "$root/contrib/debian/$s" "$main/DEBIAN/$s"
done

# switchd-compat: two links, and the packages whose files they replace.
# ovs-vsctl belongs to openvswitch-switch in Debian 12 (dpkg -S), not to
# openvswitch-common, which keeps ovs-ofctl and ovs-appctl: those work with
# switchd and may stay installed. bridge-utils ships /sbin/brctl, the same
# file as /usr/sbin/brctl on a merged-/usr system, which dpkg cannot see:
# Conflicts makes the choice explicit.
install -d "$compat/usr/bin" "$compat/usr/sbin"
ln -s switchctl "$compat/usr/bin/ovs-vsctl"
ln -s ../bin/switchctl "$compat/usr/sbin/brctl"
docs switchd-compat "$compat"
size=$(control "$compat")
cat >"$compat/DEBIAN/control" <<EOF
Package: switchd-compat
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: switchd (= $version)
Conflicts: openvswitch-switch, bridge-utils
Replaces: openvswitch-switch, bridge-utils
Section: net
Priority: optional
Description: ovs-vsctl and brctl commands backed by switchd
 Links /usr/bin/ovs-vsctl and /usr/sbin/brctl to switchctl, which accepts
 the command lines of Open vSwitch's ovs-vsctl and of bridge-utils' brctl
 when run under those names, so existing scripts drive switchd.
 .
 It replaces openvswitch-switch and bridge-utils, which ship the
 commands of the same names: install it only to use switchd instead.
EOF

# --root-owner-group: every file root:root in the package without fakeroot.
case $compress in
gzip) zflags=(-Zgzip -z1) ;;
*) zflags=(-Z"$compress") ;;
esac
for dir in "$main" "$compat"; do
    name=$(basename "$dir")
    deb=$out/${name}_${version}_${arch}.deb
    dpkg-deb --root-owner-group "${zflags[@]}" --build "$dir" "$deb" >/dev/null
    echo "$deb"
done
