#!/usr/bin/env bash
# Builds the guest image of the qemu tests (tests/qemu.rs): a stock Debian
# kernel and a ~1.5 MB busybox initramfs whose /init is tests/vm/init.sh.
#
#   tests/vm/build-guest.sh CACHE_DIR      (the tests use target/vm-cache)
#
# Writes CACHE_DIR/vmlinux (uncompressed ELF, booted through PVH: it skips the
# xz decompression that costs ~4 s per boot under TCG; falls back to the
# bzImage CACHE_DIR/vmlinuz if it cannot be extracted), CACHE_DIR/initramfs.cpio.gz
# and CACHE_DIR/stamp, and prints the two paths to boot as `kernel=PATH` and
# `initrd=PATH` on stdout.
#
# Cached: the kernel package is fetched once (CACHE_DIR/kernel/), the
# initramfs is rebuilt only when this script or init.sh changes (the stamp
# holds their hash). Safe to run several times at once: builders take an flock
# on CACHE_DIR.lock, build in a temp dir and rename each file into place, and
# the stamp goes in last.
#
# The kernel is fetched with `apt-get download` and unpacked with `dpkg -x`:
# nothing is installed on the host. Needs apt-get, dpkg, kmod (depmod,
# modprobe), xz-utils, busybox-static (its /bin/busybox is the guest's
# userland), gzip, flock. Env: KERNEL_PKG (default: what linux-image-amd64
# depends on), FORCE=1 to rebuild everything.
set -euo pipefail
export LC_ALL=C

cache=${1:?usage: $0 CACHE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# Guest modules and their order: virtio-net NIC, and 802.1Q so a guest can
# send its own tagged frames (eth0.10). modprobe --show-depends puts the
# dependencies first.
modules="virtio_pci virtio_net 8021q"

die() {
    echo "build-guest.sh: $*" >&2
    exit 1
}

for c in apt-get dpkg depmod modprobe xz gzip flock sha256sum; do
    command -v "$c" >/dev/null || die "missing command $c (packages: apt, dpkg, kmod, xz-utils, gzip, util-linux)"
done
[ -x /bin/busybox ] || die "missing /bin/busybox (apt-get install busybox-static)"
if ldd /bin/busybox >/dev/null 2>&1; then
    die "/bin/busybox is dynamically linked; the guest needs a static one (apt-get install busybox-static)"
fi

stamp=$( (cat "$here/build-guest.sh" "$here/init.sh"; echo "$modules") | sha256sum | cut -d' ' -f1)
kernel_of() {
    if [ -s "$cache/vmlinux" ]; then echo "$cache/vmlinux"; else echo "$cache/vmlinuz"; fi
}
cached() {
    [ -z "${FORCE:-}" ] && [ -s "$cache/initramfs.cpio.gz" ] && [ -s "$cache/vmlinuz" ] &&
        [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ]
}
report() {
    echo "kernel=$(kernel_of)"
    echo "initrd=$cache/initramfs.cpio.gz"
}

# Fast path without the lock; then again under it (another builder may have
# finished while we waited).
if cached; then report; exit 0; fi
exec 9>"$cache.lock"
flock 9
if cached; then report; exit 0; fi

tmp=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# 1. The kernel: fetched once, kept unpacked (vmlinuz, vmlinux, the modules we
#    need flattened, their load order). `dpkg -x` runs no maintainer scripts.
if [ -n "${FORCE:-}" ] || [ ! -s "$cache/kernel/load-order" ]; then
    pkg=${KERNEL_PKG:-}
    if [ -z "$pkg" ]; then
        pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
    fi
    if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
        echo "build-guest.sh: no package list knows linux-image-amd64; running apt-get update" >&2
        apt-get update -qq
        pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
    fi
    [ -n "$pkg" ] || die "cannot find the Debian kernel package (apt-cache depends linux-image-amd64); set KERNEL_PKG"
    kver=${pkg#linux-image-}
    echo "build-guest.sh: downloading $pkg" >&2
    (cd "$tmp" && apt-get download -q "$pkg" 2>&1 | grep -v 'Download is performed unsandboxed' >&2) || true
    for deb in "$tmp/${pkg}"_*.deb; do break; done
    [ -e "$deb" ] || die "apt-get download $pkg failed"
    dpkg -x "$deb" "$tmp/k"
    rm -f "$deb"
    # dpkg -x ships no modules.dep: make one for the unpacked tree.
    depmod -b "$tmp/k" "$kver"
    mkdir -p "$tmp/kernel/modules"
    cp "$tmp/k/boot/vmlinuz-$kver" "$tmp/kernel/vmlinuz"
    for m in $modules; do
        modprobe -d "$tmp/k" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
    done | awk '!seen[$0]++' | while read -r ko; do
        # Debian 13 ships compressed modules (.ko.xz); the guest's busybox
        # insmod wants them plain.
        case $ko in
        *.xz) xz -dc "$ko" >"$tmp/kernel/modules/$(basename "$ko" .xz)" ;;
        *) cp "$ko" "$tmp/kernel/modules/" ;;
        esac
        basename "${ko%.xz}" .ko >>"$tmp/kernel/load-order"
    done
    [ -s "$tmp/kernel/load-order" ] || die "no modules found for: $modules"
    # The uncompressed ELF inside the bzImage: the payload after the first xz magic.
    off=$(grep -obUaP '\xfd7zXZ\x00' "$tmp/kernel/vmlinuz" | head -1 | cut -d: -f1)
    if [ -n "$off" ]; then
        tail -c +$((off + 1)) "$tmp/kernel/vmlinuz" | xz -dc --single-stream >"$tmp/kernel/vmlinux" 2>/dev/null || true
    fi
    if [ "$(head -c 4 "$tmp/kernel/vmlinux" 2>/dev/null | tail -c 3)" != ELF ]; then
        echo "build-guest.sh: no vmlinux ELF in the bzImage; guests boot the (slower) bzImage" >&2
        rm -f "$tmp/kernel/vmlinux"
    fi
    echo "$kver" >"$tmp/kernel/version"
    rm -rf "$tmp/k" "$cache/kernel"
    mv "$tmp/kernel" "$cache/kernel"
fi

# 2. The initramfs: static busybox, our /init, the modules and their order.
r=$tmp/root
mkdir -p "$r"/{bin,proc,sys,dev,tmp,lib/modules}
cp /bin/busybox "$r/bin/busybox"
ln -s busybox "$r/bin/sh"
cp "$here/init.sh" "$r/init"
chmod 755 "$r/init"
cp "$cache"/kernel/modules/*.ko "$r/lib/modules/"
cp "$cache/kernel/load-order" "$r/lib/modules/load-order"
(cd "$r" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -9) >"$tmp/initramfs.cpio.gz"

# 3. Into place, file by file (each rename is atomic; qemu processes that
#    already opened the old files keep them), the stamp last.
#    The kernel files are hard links to the unpacked ones, not copies.
for f in vmlinuz vmlinux; do
    if [ ! -s "$cache/kernel/$f" ]; then
        rm -f "$cache/$f"
    elif ! [ "$cache/kernel/$f" -ef "$cache/$f" ]; then
        ln -f "$cache/kernel/$f" "$tmp/$f"
        mv -f "$tmp/$f" "$cache/$f"
    fi
done
mv -f "$tmp/initramfs.cpio.gz" "$cache/initramfs.cpio.gz"
echo "$stamp" >"$tmp/stamp"
mv -f "$tmp/stamp" "$cache/stamp"
echo "build-guest.sh: built $(cat "$cache/kernel/version"), modules: $(tr '\n' ' ' <"$cache/kernel/load-order")" >&2
report
