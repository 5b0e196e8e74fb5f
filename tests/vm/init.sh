#!/bin/sh
# PID 1 of the qemu test guests (tests/qemu.rs; built into the initramfs by
# build-guest.sh). Configuration comes from the kernel command line, and every
# result is a line starting with "VM: " on the serial console (ttyS0), which
# the test reads from a file:
#
#   vmip=10.0.0.1/24        address of eth0 (none: eth0 is only brought up)
#   vmvlan=10               also create eth0.10 (802.1Q: tagged frames on eth0)
#   vmvlanip=10.0.10.1/24   address of eth0.10
#   vmpeer=IP[,IP...]       must answer: wait up to vmwait s for a first reply,
#                           then vmcount pings must all come back
#   vmnopeer=IP[,IP...]     must not answer: of vmcount pings none comes back
#   vmrun=BASE64            a shell script (base64, so that it survives the
#                           command line), run after the pings
#   vmmode=test|hold        test (default): power off at the end; hold: keep
#                           running and execute commands from ttyS1 (below)
#   vmcount=3 vmwait=60
#
# Console lines: "VM: NET-UP uptime=S mac=M", "VM: PING IP OK|FAIL",
# "VM: NOPING IP OK|FAIL", "VM: RUN-EXIT N", "VM: RESULT PASS|FAIL" (FAIL if
# a check or the script failed), then in hold mode "VM: READY".
#
# Hold mode reads commands from the second serial port (ttyS1, a unix socket
# on the host): one line "ID BASE64-SCRIPT" each. The script is sourced in a
# subshell (so it can use vm_ping and vm_noping), its output is printed as
# "VM: OUT ID <line>" and then "VM: EXIT ID <status>". Commands run one at a
# time; a script that must not block starts its work with `&`.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# Words, not lines: the command line is one line of space-separated words.
# shellcheck disable=SC2013
for w in $(cat /proc/cmdline); do
    case $w in vm*=*) export "${w?}" ;; esac
done
: "${vmmode:=test}" "${vmcount:=3}" "${vmwait:=60}"
: "${vmip:=}" "${vmvlan:=}" "${vmvlanip:=}" "${vmpeer:=}" "${vmnopeer:=}" "${vmrun:=}"

say() { echo "VM: $*"; }

# vm_ping IP [WAIT]: wait up to WAIT (vmwait) seconds for a first reply, then
# vmcount pings must all come back.
vm_ping() {
    _end=$(($(cut -d. -f1 /proc/uptime) + ${2:-$vmwait}))
    until ping -c 1 -W 1 "$1" >/dev/null 2>&1; do
        [ "$(cut -d. -f1 /proc/uptime)" -ge $_end ] && break
        # An unreachable route fails at once: do not spin.
        usleep 200000
    done
    _out=$(ping -c "$vmcount" -i 0.2 -W 2 "$1" 2>&1)
    echo "$_out" | tail -2
    echo "$_out" | grep -q " $vmcount packets received"
}

# vm_noping IP: none of vmcount pings may come back.
vm_noping() {
    _out=$(ping -c "$vmcount" -i 0.5 -W 2 "$1" 2>&1)
    echo "$_out" | tail -2
    echo "$_out" | grep -q " 0 packets received"
}

res=PASS
fail() {
    say "$*"
    res=FAIL
}

# shellcheck disable=SC2013 # one module name per line, no spaces
for m in $(cat /lib/modules/load-order); do
    insmod "/lib/modules/$m.ko" || fail "ERROR insmod $m"
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 200 ]; do
    usleep 50000
    i=$((i + 1))
done
ip link set lo up
ip link set eth0 up || fail "ERROR no eth0"
if [ -n "$vmip" ]; then ip addr add "$vmip" dev eth0 || fail "ERROR address $vmip"; fi
if [ -n "$vmvlan" ]; then
    { ip link add link eth0 name "eth0.$vmvlan" type vlan id "$vmvlan" &&
        ip link set "eth0.$vmvlan" up &&
        { [ -z "$vmvlanip" ] || ip addr add "$vmvlanip" dev "eth0.$vmvlan"; }; } ||
        fail "ERROR vlan $vmvlan"
fi
i=0
until [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" = 1 ] || [ $i -ge 200 ]; do
    usleep 50000
    i=$((i + 1))
done
say "NET-UP uptime=$(cut -d' ' -f1 /proc/uptime) mac=$(cat /sys/class/net/eth0/address)"

for p in $(echo "$vmpeer" | tr , ' '); do
    if vm_ping "$p"; then say "PING $p OK"; else fail "PING $p FAIL"; fi
done
for p in $(echo "$vmnopeer" | tr , ' '); do
    if vm_noping "$p"; then say "NOPING $p OK"; else fail "NOPING $p FAIL"; fi
done
if [ -n "$vmrun" ]; then
    echo "$vmrun" | base64 -d >/tmp/run.sh
    # shellcheck source=/dev/null
    (. /tmp/run.sh) </dev/null 2>&1
    rc=$?
    say "RUN-EXIT $rc"
    [ $rc = 0 ] || res=FAIL
fi
say "RESULT $res uptime=$(cut -d' ' -f1 /proc/uptime)"

if [ "$vmmode" != hold ]; then
    sync
    poweroff -f
fi
# Open and configure ttyS1 before saying READY: opening the port resets its
# FIFO, so bytes sent before that would be lost.
if ! exec 3<>/dev/ttyS1 || ! stty -F /dev/ttyS1 raw -echo; then
    say "ERROR no command port ttyS1"
    while :; do sleep 3600; done
fi
say READY
while read -r id b64 <&3; do
    echo "$b64" | base64 -d >/tmp/cmd.sh
    # shellcheck source=/dev/null
    (. /tmp/cmd.sh) </dev/null >/tmp/cmd.out 2>&1
    rc=$?
    sed "s/^/VM: OUT $id /" /tmp/cmd.out
    say "EXIT $id $rc"
done
say "ERROR command port closed"
while :; do sleep 3600; done
