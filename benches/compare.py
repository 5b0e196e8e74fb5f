#!/usr/bin/env python3
"""System benchmark: switchd against the Linux bridge and Open vSwitch's userspace datapath.

Two network namespaces ("hosts", each with one device renamed `eth1`) are joined
through each backend in turn, and the same workloads run through every one of them:

  tcp1  iperf3, 1 TCP stream, host1 -> host2                      Gbit/s received
  tcp4  iperf3, 4 TCP streams                                     Gbit/s received
  l2    trafgen, 60-byte frames (ethertype 0x88b5) on one core    kpps at host2's eth1
  lat   sockperf UDP ping-pong, 64 bytes, --full-rtt              RTT avg and p99, µs

The switch process's CPU time (utime+stime from /proc/PID/stat) is taken around every
phase. Before a phase the script waits for a quiet machine, and it redoes a phase during
which foreign processes used too much CPU; rounds are interleaved across backends and the
report gives the median and the [min-max] range of the rounds. This is the method of the
baseline harness (Linux bridge / OVS / vde measurements) so that the numbers compare.

Everything created is named with one prefix (--prefix, given by compare.sh) and removed
at the end, also on failure, SIGINT, SIGTERM and SIGHUP. Only processes this script
started are stopped, by PID. Traffic only flows between its own namespaces.

Standard library only: the chart is an SVG written by hand.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOST_IP = "10.231.0.{}"  # a subnet that only exists inside the benchmark's namespaces
HOST_MAC = "02:5b:00:00:00:0{}"
IPERF_PORT = 5201
SOCKPERF_PORT = 11111
L2_ETHERTYPE = "0x88b5"  # IEEE local experimental: the receiving stack drops it right away
CLK_TCK = os.sysconf("SC_CLK_TCK")
PHASES = ("tcp1", "tcp4", "l2", "lat")

# ---------------------------------------------------------------------------------------
# Backends. `host_ethtool` is the per-backend offload hook: `ethtool -K eth1 <args>` in both
# hosts; `root_ethtool` the same on the root-side veth ends.
#
# switchd carries GSO super-frames and partial checksums since ef3ba57 (virtio-net header on
# TAP and AF_PACKET), so switchd-system leaves the veth defaults on. A switchd before that
# (benchmarked with --bin-dir) forwarded partial checksums unfinished and dropped super-frames
# as `too-big`: set SWITCHD_SYSTEM_HOST_OFFLOADS = ["tx", "off"] for it, or run
# switchd-system-txoff, which is also the like-for-like partner of ovs-afpacket.
SWITCHD_SYSTEM_HOST_OFFLOADS: list[str] = []
TX_OFF = ["tx", "off"]
NO_GSO = ["tso", "off", "gso", "off", "gro", "off"]


@dataclass
class Backend:
    name: str
    kind: str  # veth | bridge | switchd | ovs
    port: str  # how the hosts attach: direct | veth | tap
    note: str
    host_ethtool: list[str] = field(default_factory=list)
    root_ethtool: list[str] = field(default_factory=list)
    ovs_tso: bool = False
    switchd_args: list[str] = field(default_factory=list)


def ethtool_note(args: list[str]) -> str:
    return f"`ethtool -K eth1 {' '.join(args)}` in both hosts" if args else "veth default offloads"


BACKENDS = {
    b.name: b
    for b in [
        Backend("veth-direct", "veth", "direct", "no switch: one veth pair between the hosts (the floor)"),
        Backend(
            "linux-bridge",
            "bridge",
            "veth",
            "veth defaults (csum/TSO/GSO on): GSO super-frames cross the bridge",
        ),
        Backend(
            "linux-bridge-nooff",
            "bridge",
            "veth",
            "tso/gso/gro off on all four veth ends: the like-for-like reference for a switch "
            "that does not carry offloads",
            host_ethtool=NO_GSO,
            root_ethtool=NO_GSO,
        ),
        Backend(
            "switchd-tap",
            "switchd",
            "tap",
            "`type=tap` ports created by switchd and moved into the hosts, with the offloads switchd "
            "negotiates on them (the average frame at the receiver shows whether GSO frames cross); "
            "frames move in io_uring batches",
        ),
        Backend(
            "switchd-tap-syscalls",
            "switchd",
            "tap",
            "as switchd-tap with `switchd --no-io-uring`: one read/writev syscall per frame",
            switchd_args=["--no-io-uring"],
        ),
        Backend(
            "switchd-system",
            "switchd",
            "veth",
            "veth pairs, root-side ends as `system` ports (AF_PACKET); "
            + ethtool_note(SWITCHD_SYSTEM_HOST_OFFLOADS),
            host_ethtool=SWITCHD_SYSTEM_HOST_OFFLOADS,
        ),
        Backend(
            "switchd-system-txoff",
            "switchd",
            "veth",
            "as switchd-system with `ethtool -K eth1 tx off` in both hosts: no partial checksums, "
            "no GSO frames (what a switchd without offload support needs; compare with ovs-afpacket)",
            host_ethtool=TX_OFF,
        ),
        Backend(
            "ovs-tap",
            "ovs",
            "tap",
            "OVS userspace datapath (datapath_type=netdev), `type=tap` ports, no userspace TSO",
        ),
        Backend(
            "ovs-tap-tso",
            "ovs",
            "tap",
            "as ovs-tap with other_config:userspace-tso-enable=true: 64 KB GSO frames cross the switch",
            ovs_tso=True,
        ),
        Backend(
            "ovs-afpacket",
            "ovs",
            "veth",
            "OVS netdev datapath on veth ends (AF_PACKET); `ethtool -K eth1 tx off` in the hosts "
            "(without it TCP stalls)",
            host_ethtool=TX_OFF,
        ),
        Backend(
            "ovs-afpacket-tso",
            "ovs",
            "veth",
            "OVS netdev datapath on veth ends with userspace TSO, veth defaults",
            ovs_tso=True,
        ),
    ]
}
DEFAULT_BACKENDS = ["linux-bridge", "linux-bridge-nooff", "switchd-tap", "switchd-system"]
DEFAULT_OVS_BACKENDS = ["ovs-tap", "ovs-tap-tso"]
TOOL_PACKAGES = {"iperf3": "iperf3", "trafgen": "netsniff-ng", "sockperf": "sockperf"}
OVS_BINARIES = ["ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-appctl"]
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


class BenchError(Exception):
    pass


class Interrupted(Exception):
    pass


def log(msg: str) -> None:
    print(f"compare: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# CPU accounting


def proc_cpu_s(pid: int) -> tuple[float, float]:
    """(utime, utime+stime) of a process, all its threads, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    user, system = int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK
    return user, user + system


def machine_jiffies() -> tuple[int, int]:
    """(busy, user) jiffies of the whole machine from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = v[:7]
    return user + nice + system + irq + softirq, user + nice


def children_user_s() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime


@dataclass
class CpuMark:
    t: float
    busy: int
    user: int
    children_user: float
    switch: float
    switch_user: float


# ---------------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.prefix = args.prefix
        self.dir = Path(f"/tmp/{self.prefix}")
        self.procs: list[subprocess.Popen] = []
        self.links: list[str] = []  # root-namespace links to delete
        self.netns: list[str] = []
        self.switch_pids: list[int] = []
        self.switchd: subprocess.Popen | None = None
        self.ovs: dict | None = None
        self.out = None
        self.run_id = datetime.datetime.now().strftime("%Y%m%dT%H%M%S")

    # -- names ----------------------------------------------------------------------
    def ns(self, i: int) -> str:
        return f"{self.prefix}n{i}"

    @property
    def br(self) -> str:
        return f"{self.prefix}br"

    # -- commands -------------------------------------------------------------------
    def sh(self, *cmd: str, check: bool = True, timeout: float = 60, env=None) -> str:
        try:
            p = subprocess.run(
                list(cmd), capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired:
            raise BenchError(f"timed out after {timeout} s: {' '.join(cmd)}") from None
        if check and p.returncode != 0:
            raise BenchError(f"`{' '.join(cmd)}` failed ({p.returncode}): {p.stderr.strip() or p.stdout.strip()}")
        return p.stdout

    def nsx(self, i: int, *cmd: str, **kw) -> str:
        return self.sh("ip", "netns", "exec", self.ns(i), *cmd, **kw)

    def spawn(self, cmd: list[str], log: Path | None = None, env=None) -> subprocess.Popen:
        """Start a process of ours: stdout to `log`, stderr to `log`.err. It gets its own process
        group, so a Ctrl-C on the terminal reaches only this script, which then stops everything
        in order (OVS must exit with --cleanup, trafgen through its `timeout`)."""
        out = open(log, "w") if log else subprocess.DEVNULL
        err = open(f"{log}.err", "w") if log else subprocess.DEVNULL
        try:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, process_group=0)
        finally:
            if log:
                out.close()
                err.close()
        p.stderr_path = f"{log}.err" if log else None  # for log_tail()
        self.procs.append(p)
        # compare.sh reads this as a backstop if this script dies without cleaning up.
        prog = cmd[4] if cmd[:3] == ["ip", "netns", "exec"] else cmd[0]  # `ip netns exec` execs it
        with open(self.dir / "pids", "a") as f:
            f.write(f"{p.pid} {os.path.basename(prog)}\n")
        return p

    def run_in(self, i: int, cmd: list[str], limit: float) -> tuple[str, str]:
        """Run a workload in host i and wait for it: (stdout, stderr). Never SIGKILLs first:
        `timeout` must pass the signal on to trafgen."""
        log = self.dir / "workload.out"
        p = self.spawn(["ip", "netns", "exec", self.ns(i), *cmd], log=log)
        try:
            p.wait(limit)
        except subprocess.TimeoutExpired:
            self.stop(p, signal.SIGINT)
            raise BenchError(f"{cmd[0]} did not finish within {limit:.0f} s") from None
        self.procs.remove(p)
        return log.read_text(), Path(f"{log}.err").read_text()

    def stop(self, p: subprocess.Popen, sig: int = signal.SIGTERM, grace: float = 5) -> int | None:
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        if p in self.procs:
            self.procs.remove(p)
        return p.returncode

    # -- setup ----------------------------------------------------------------------
    def install_tools(self) -> None:
        missing = [pkg for tool, pkg in TOOL_PACKAGES.items() if shutil.which(tool) is None]
        if self.args.install_ovs and not all(shutil.which(b) for b in OVS_BINARIES):
            missing.append("openvswitch-switch")
        if not missing:
            return
        if self.args.no_install:
            raise BenchError(f"missing packages {' '.join(missing)} (and --no-install was given)")
        apt_install(missing)

    def build(self) -> None:
        if self.args.no_build or Path(self.args.bin_dir) != REPO / "target/release":
            return
        log("cargo build --release --workspace --bins")
        r = subprocess.run(["cargo", "build", "--release", "--workspace", "--bins"], cwd=REPO)
        if r.returncode != 0:
            raise BenchError("cargo build failed")

    def make_hosts(self) -> None:
        for i in (1, 2):
            self.sh("ip", "netns", "add", self.ns(i))
            self.netns.append(self.ns(i))
            self.nsx(
                i,
                "sysctl",
                "-qw",
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1",
            )
            self.sh("ip", "-n", self.ns(i), "link", "set", "lo", "up")

    def attach_host(self, i: int, dev: str, backend: Backend) -> None:
        """Move `dev` into host i, rename it eth1, address it, apply the offload hook."""
        ns = self.ns(i)
        if dev in self.links:
            self.links.remove(dev)
        self.sh("ip", "link", "set", "dev", dev, "netns", ns)
        self.sh("ip", "-n", ns, "link", "set", "dev", dev, "down")
        self.sh("ip", "-n", ns, "link", "set", "dev", dev, "name", "eth1")
        self.sh("ip", "-n", ns, "link", "set", "dev", "eth1", "address", HOST_MAC.format(i))
        self.sh("ip", "-n", ns, "addr", "add", HOST_IP.format(i) + "/24", "dev", "eth1")
        if backend.host_ethtool:
            self.nsx(i, "ethtool", "-K", "eth1", *backend.host_ethtool)
        self.sh("ip", "-n", ns, "link", "set", "dev", "eth1", "up")

    def add_veth(self, i: int, backend: Backend) -> str:
        """A veth pair: `<prefix>v<i>` stays in the root namespace, its peer becomes host i's eth1."""
        root, peer = f"{self.prefix}v{i}", f"{self.prefix}v{i}p"
        self.sh("ip", "link", "add", root, "type", "veth", "peer", "name", peer)
        self.links += [root, peer]
        if backend.root_ethtool:
            self.sh("ethtool", "-K", root, *backend.root_ethtool)
        self.sh("ip", "link", "set", root, "up")
        self.attach_host(i, peer, backend)
        return root

    def setup(self, b: Backend) -> None:
        self.make_hosts()
        self.switch_pids = []
        if b.kind == "veth":
            a, z = f"{self.prefix}d1", f"{self.prefix}d2"
            self.sh("ip", "link", "add", a, "type", "veth", "peer", "name", z)
            self.links += [a, z]
            self.attach_host(1, a, b)
            self.attach_host(2, z, b)
        elif b.kind == "bridge":
            self.sh("ip", "link", "add", self.br, "type", "bridge")
            self.links.append(self.br)
            self.sh("ip", "link", "set", self.br, "up")
            for i in (1, 2):
                root = self.add_veth(i, b)
                self.sh("ip", "link", "set", root, "master", self.br)
        elif b.kind == "switchd":
            self.start_switchd(b)
            self.ctl("add-br", self.br)
            for i in (1, 2):
                if b.port == "tap":
                    tap = f"{self.prefix}t{i}"
                    self.ctl("add-port", self.br, tap, "type=tap")
                    self.attach_host(i, tap, b)
                else:
                    self.ctl("add-port", self.br, self.add_veth(i, b))
        elif b.kind == "ovs":
            self.start_ovs(b)
            for i in (1, 2):
                if b.port == "tap":
                    tap = f"{self.prefix}t{i}"
                    self.vsctl("add-port", self.br, tap, "--", "set", "interface", tap, "type=tap")
                    self.attach_host(i, tap, b)
                else:
                    self.vsctl("add-port", self.br, self.add_veth(i, b))
        else:
            raise BenchError(f"unknown backend kind {b.kind!r}")

    def teardown(self) -> None:
        errors = []
        if self.ovs:
            try:
                self.stop_ovs()
            except BenchError as e:
                errors.append(str(e))
        if self.switchd:
            self.stop(self.switchd)
            self.switchd = None
        for ns in list(self.netns):
            self.sh("ip", "netns", "del", ns, check=False)
            self.netns.remove(ns)
        for link in list(self.links):
            if Path(f"/sys/class/net/{link}").exists():
                self.sh("ip", "link", "del", link, check=False)
            self.links.remove(link)
        for p in list(self.procs):
            self.stop(p)
        if errors:
            raise BenchError("; ".join(errors))

    # -- switchd ----------------------------------------------------------------------
    def start_switchd(self, b: Backend) -> None:
        sock = self.dir / "switchd.sock"
        db = self.dir / "switchd.json"
        for p in (sock, db):
            p.unlink(missing_ok=True)
        exe = Path(self.args.bin_dir) / "switchd"
        if not exe.exists():
            raise BenchError(f"{exe} not found (build it, or drop --no-build)")
        self.switchd = self.spawn(
            [str(exe), "--socket", str(sock), "--db", str(db), "--log-level", "warn", *b.switchd_args],
            log=self.dir / "switchd.log",
        )
        wait_for(lambda: sock.exists(), 10, "switchd socket", self.switchd)
        self.switch_pids = [self.switchd.pid]

    def ctl(self, *args: str) -> str:
        exe = Path(self.args.bin_dir) / "switchctl"
        return self.sh(str(exe), "--socket", str(self.dir / "switchd.sock"), *args)

    def switch_drops(self) -> dict[str, int]:
        """Sum of switchd's per-reason drop counters over all ports (empty for other backends)."""
        if not self.switchd:
            return {}
        total: dict[str, int] = {}
        for port in json.loads(self.ctl("--json", "port-stats")):
            for reason, n in port.get("drops", {}).items():
                total[reason] = total.get(reason, 0) + n
        return total

    # -- Open vSwitch (private instance: own db, sockets and logs under the temp dir) ----
    def start_ovs(self, b: Backend) -> None:
        missing = [x for x in OVS_BINARIES if shutil.which(x) is None]
        if missing:
            raise BenchError(f"Open vSwitch is not installed ({' '.join(missing)} missing); try --install-ovs")
        d = self.dir / "ovs"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir()
        env = dict(os.environ, OVS_RUNDIR=str(d), OVS_LOGDIR=str(d), OVS_DBDIR=str(d), OVS_SYSCONFDIR=str(d))
        self.ovs = {"dir": d, "env": env, "vswitchd": None, "ovsdb": None}
        self.sh("ovsdb-tool", "create", str(d / "conf.db"), OVS_SCHEMA, env=env)
        self.ovs["ovsdb"] = self.spawn(
            [
                "ovsdb-server",
                str(d / "conf.db"),
                f"--remote=punix:{d}/db.sock",
                f"--unixctl={d}/ovsdb-server.ctl",
                f"--log-file={d}/ovsdb-server.log",
            ],
            log=d / "ovsdb-server.out",
            env=env,
        )
        wait_for(lambda: (d / "db.sock").exists(), 10, "ovsdb-server socket", self.ovs["ovsdb"])
        self.vsctl("--no-wait", "init")
        if b.ovs_tso:
            # Read only when ovs-vswitchd starts.
            self.vsctl("--no-wait", "set", "Open_vSwitch", ".", "other_config:userspace-tso-enable=true")
        self.ovs["vswitchd"] = self.spawn(
            [
                "ovs-vswitchd",
                f"unix:{d}/db.sock",
                f"--unixctl={d}/ovs-vswitchd.ctl",
                f"--log-file={d}/ovs-vswitchd.log",
            ],
            log=d / "ovs-vswitchd.out",
            env=env,
        )
        vswitchd = self.ovs["vswitchd"]
        wait_for(lambda: (d / "ovs-vswitchd.ctl").exists(), 20, "ovs-vswitchd control socket", vswitchd)
        if b.ovs_tso:
            log_file = d / "ovs-vswitchd.log"
            wait_for(
                lambda: log_file.exists() and "Segmentation Offloading support enabled" in log_file.read_text(),
                10,
                "ovs-vswitchd to enable userspace TSO (its log)",
                self.ovs["vswitchd"],
            )
        self.vsctl("add-br", self.br, "--", "set", "bridge", self.br, "datapath_type=netdev")
        self.switch_pids = [self.ovs["vswitchd"].pid, self.ovs["ovsdb"].pid]

    def vsctl(self, *args: str) -> str:
        d = self.ovs["dir"]
        return self.sh("ovs-vsctl", f"--db=unix:{d}/db.sock", "--timeout=20", *args, env=self.ovs["env"])

    def stop_ovs(self) -> None:
        o, self.ovs = self.ovs, None
        d, env = o["dir"], o["env"]
        errors = []
        if o["vswitchd"] and o["vswitchd"].poll() is None:
            r = subprocess.run(
                ["ovs-vsctl", f"--db=unix:{d}/db.sock", "--timeout=20", "--if-exists", "del-br", self.br],
                capture_output=True,
                text=True,
                env=env,
            )
            if r.returncode:
                errors.append(f"ovs-vsctl del-br: {r.stderr.strip()}")
            # --cleanup also removes the datapath's own `ovs-netdev` device.
            subprocess.run(
                ["ovs-appctl", "-t", f"{d}/ovs-vswitchd.ctl", "exit", "--cleanup"],
                capture_output=True,
                env=env,
                timeout=30,
            )
            try:
                o["vswitchd"].wait(15)
            except subprocess.TimeoutExpired:
                errors.append("ovs-vswitchd did not exit after `exit --cleanup`")
        for key in ("vswitchd", "ovsdb"):
            if o[key]:
                self.stop(o[key])
        if errors:
            raise BenchError("; ".join(errors))

    # -- measurement ----------------------------------------------------------------
    def cpu_mark(self) -> CpuMark:
        busy, user = machine_jiffies()
        sw = swu = 0.0
        for pid in self.switch_pids:
            u, t = proc_cpu_s(pid)
            swu, sw = swu + u, sw + t
        return CpuMark(time.monotonic(), busy, user, children_user_s(), sw, swu)

    def counters(self, i: int) -> dict[str, int]:
        s = json.loads(self.sh("ip", "-n", self.ns(i), "-j", "-s", "link", "show", "dev", "eth1"))[0]["stats64"]
        return {
            "rx_packets": s["rx"]["packets"],
            "rx_bytes": s["rx"]["bytes"],
            "tx_packets": s["tx"]["packets"],
            "tx_dropped": s["tx"]["dropped"],
        }

    def wait_quiet(self) -> tuple[float, float]:
        """Wait until the machine is idle: (busy cores in the last window, seconds waited)."""
        start = time.monotonic()
        last_note = start
        while True:
            b0, _ = machine_jiffies()
            t0 = time.monotonic()
            time.sleep(self.args.quiet_window)
            b1, _ = machine_jiffies()
            busy = (b1 - b0) / CLK_TCK / (time.monotonic() - t0)
            waited = time.monotonic() - start
            if busy < self.args.quiet_cores:
                return busy, waited
            if waited >= self.args.quiet_wait:
                log(f"machine still busy ({busy:.2f} cores) after {waited:.0f} s; measuring anyway")
                return busy, waited
            if time.monotonic() - last_note >= 30:
                log(f"waiting for a quiet machine ({busy:.2f} busy cores, {waited:.0f} s so far)")
                last_note = time.monotonic()

    def wait_listen(self, proto: str, port: int, server: subprocess.Popen) -> None:
        flag = "-Hltn" if proto == "tcp" else "-Hlun"

        def listening() -> bool:
            return bool(self.nsx(2, "ss", flag, f"sport = :{port}").strip())

        wait_for(listening, 10, f"{proto} server on port {port}", server)

    def phase(self, name: str, dur: float) -> dict:
        """Run one workload; returns its metrics (raises BenchError when it fails)."""
        ip2 = HOST_IP.format(2)
        limit = dur + 30
        if name in ("tcp1", "tcp4"):
            srv = self.spawn(
                ["ip", "netns", "exec", self.ns(2), "iperf3", "-s", "-1", "-B", ip2, "-p", str(IPERF_PORT)]
            )
            try:
                self.wait_listen("tcp", IPERF_PORT, srv)
                cmd = ["iperf3", "-c", ip2, "-p", str(IPERF_PORT), "-J", "--connect-timeout", "3000"]
                cmd += ["-t", f"{dur:g}"]
                if name == "tcp4":
                    cmd += ["-P", "4"]
                out, err = self.run_in(1, cmd, limit)
            finally:
                self.stop(srv)
            try:
                res = json.loads(out)
            except json.JSONDecodeError:
                raise BenchError(f"iperf3 printed no JSON: {(out + err)[:300]!r}") from None
            if "error" in res:
                raise BenchError(f"iperf3: {res['error']}")
            end = res["end"]
            return {
                "gbps": end["sum_received"]["bits_per_second"] / 1e9,
                "retransmits": end["sum_sent"].get("retransmits"),
            }
        if name == "l2":
            frame = (
                f"{{ eth(da={HOST_MAC.format(2)}, sa={HOST_MAC.format(1)}, type={L2_ETHERTYPE}), fill(0x00, 46) }}"
            )
            # --no-sock-mem --notouch-irq: trafgen otherwise rewrites system-wide socket memory
            # sysctls and IRQ affinities. -P 1: one process, pinned to CPU 0.
            cmd = ["timeout", "-s", "INT", "-k", "5", f"{dur:g}", "trafgen", "--no-sock-mem", "--notouch-irq"]
            cmd += ["-P", "1", "-o", "eth1", frame]
            c1, c2 = self.counters(1), self.counters(2)
            t0 = time.monotonic()
            out, err = self.run_in(1, cmd, limit)
            wall = time.monotonic() - t0
            out += err
            time.sleep(0.2)  # let the switch drain its queues
            d1, d2 = self.counters(1), self.counters(2)
            m = re.search(r"(\d+)\s+packets outgoing", out)
            if not m:
                raise BenchError(f"trafgen: no packet count in its output: {out[-300:]!r}")
            delivered = d2["rx_packets"] - c2["rx_packets"]
            return {
                "kpps": delivered / wall / 1e3,
                "delivered": delivered,
                "trafgen_sent": int(m.group(1)),
                "offered_kpps": (d1["tx_packets"] - c1["tx_packets"]) / wall / 1e3,
                "sender_dropped_kpps": (d1["tx_dropped"] - c1["tx_dropped"]) / wall / 1e3,
                "wall_s": wall,
            }
        if name == "lat":
            srv = self.spawn(
                ["ip", "netns", "exec", self.ns(2), "sockperf", "server", "-i", ip2, "-p", str(SOCKPERF_PORT)]
            )
            try:
                self.wait_listen("udp", SOCKPERF_PORT, srv)
                cmd = ["sockperf", "ping-pong", "-i", ip2, "-p", str(SOCKPERF_PORT)]
                cmd += ["-t", f"{dur:g}", "-m", "64", "--full-rtt"]
                out, err = self.run_in(1, cmd, limit)
            finally:
                self.stop(srv, signal.SIGINT)
            return parse_sockperf(out + err)
        raise BenchError(f"unknown phase {name!r}")

    def measure(self, rnd: int, b: Backend, name: str, dur: float) -> dict:
        """One phase with the quiet-machine wait and up to --max-redos redos when noisy."""
        best: dict | None = None
        for attempt in range(self.args.max_redos + 1):
            pre_busy, waited = self.wait_quiet()
            drops0 = self.switch_drops()
            c1, c2 = self.counters(1), self.counters(2)
            m0 = self.cpu_mark()
            err = None
            try:
                metrics = self.phase(name, dur)
            except BenchError as e:
                metrics, err = {}, str(e)
            m1 = self.cpu_mark()
            d1, d2 = self.counters(1), self.counters(2)
            drops1 = self.switch_drops()
            wall = m1.t - m0.t
            ours_user = (m1.children_user - m0.children_user) + (m1.switch_user - m0.switch_user)
            foreign = max(0.0, ((m1.user - m0.user) / CLK_TCK - ours_user) / wall)
            sw = m1.switch - m0.switch
            rx_pk = d2["rx_packets"] - c2["rx_packets"]
            rec = {
                "type": "phase",
                "run": self.run_id,
                "round": rnd,
                "backend": b.name,
                "phase": name,
                "duration": dur,
                "ok": err is None,
                "error": err,
                **metrics,
                "wall_s": round(wall, 3),
                "switch_cpu_s": round(sw, 3) if self.switch_pids else None,
                "switch_cores": round(sw / wall, 3) if self.switch_pids else None,
                "vm_busy_cores": round((m1.busy - m0.busy) / CLK_TCK / wall, 3),
                "foreign_user_cores": round(foreign, 3),
                "pre_busy_cores": round(pre_busy, 3),
                "quiet_wait_s": round(waited, 1),
                "host2_rx_packets": rx_pk,
                "host2_rx_avg_frame": round((d2["rx_bytes"] - c2["rx_bytes"]) / rx_pk, 1) if rx_pk else None,
                "host1_tx_dropped": d1["tx_dropped"] - c1["tx_dropped"],
                "switch_drops": {k: v - drops0.get(k, 0) for k, v in drops1.items() if v - drops0.get(k, 0)},
                "redos": attempt,
                "noisy": foreign > self.args.noise_cores,
            }
            if name == "l2" and self.switch_pids and metrics.get("delivered"):
                rec["switch_us_per_frame"] = round(sw / metrics["delivered"] * 1e6, 3)
            # Of the attempts, keep the one disturbed least by foreign processes.
            if best is None or (rec["ok"], -foreign) > (best["ok"], -best["foreign_user_cores"]):
                best = rec
            if not rec["noisy"] or err:
                break
            if attempt < self.args.max_redos:
                log(f"  {name}: foreign processes used {foreign:.2f} cores; redoing the phase")
        assert best is not None
        best["redos"] = attempt
        return best

    # -- the run ----------------------------------------------------------------------
    def run(self) -> list[dict]:
        a = self.args
        records: list[dict] = []
        meta = machine_meta(a)
        meta["run"] = self.run_id
        self.write(meta)
        total = a.rounds * len(a.backends)
        n = 0
        for rnd in range(1, a.rounds + 1):
            for name in a.backends:
                n += 1
                b = BACKENDS[name]
                log(f"[{n}/{total}] round {rnd}, {name}")
                try:
                    self.setup(b)
                    self.check_path()
                    for ph in a.phases:
                        rec = self.measure(rnd, b, ph, a.duration)
                        self.write(rec)
                        records.append(rec)
                        log("  " + describe(rec))
                except BenchError as e:
                    log(f"  {name}: {e}")
                    rec = {"type": "phase", "run": self.run_id, "round": rnd, "backend": name, "phase": "setup"}
                    rec.update(ok=False, error=str(e))
                    self.write(rec)
                    records.append(rec)
                finally:
                    self.teardown()
        return records

    def check_path(self) -> None:
        """A short ping-pong: fails early if the topology does not pass traffic, and lets the
        switch learn both hosts' MACs before the phases."""
        ip2 = HOST_IP.format(2)
        srv = self.spawn(
            ["ip", "netns", "exec", self.ns(2), "sockperf", "server", "-i", ip2, "-p", str(SOCKPERF_PORT)]
        )
        try:
            self.wait_listen("udp", SOCKPERF_PORT, srv)
            cmd = ["sockperf", "ping-pong", "-i", ip2, "-p", str(SOCKPERF_PORT), "-t", "1", "--full-rtt"]
            out, err = self.run_in(1, cmd, 30)
        finally:
            self.stop(srv, signal.SIGINT)
        try:
            parse_sockperf(out + err)
        except BenchError:
            raise BenchError(
                f"no traffic between the hosts (sockperf: {strip_ansi(out + err).strip().splitlines()[-1]!r}; "
                f"switch drops {self.switch_drops() or 'none'}; host2 checksum errors {self.csum_errors(2)})"
            ) from None

    def csum_errors(self, i: int) -> dict[str, int]:
        """InCsumErrors of host i: frames whose checksum offload was not completed on the way."""
        lines = self.nsx(i, "cat", "/proc/net/snmp").splitlines()
        errs = {}
        for head, vals in zip(lines[::2], lines[1::2]):
            row = dict(zip(head.split()[1:], vals.split()[1:]))
            if "InCsumErrors" in row and head.split(":")[0] in ("Tcp", "Udp"):
                errs[head.split(":")[0]] = int(row["InCsumErrors"])
        return errs

    def write(self, rec: dict) -> None:
        if self.out:
            self.out.write(json.dumps(rec) + "\n")
            self.out.flush()

    def cleanup(self) -> None:
        if self.out:
            self.out.close()
        try:
            self.teardown()
        except BenchError as e:
            log(f"cleanup: {e}")
        for p in list(self.procs):
            self.stop(p)
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_for(pred, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"{what}: the process exited with status {proc.returncode}{log_tail(proc)}")
        time.sleep(0.05)
    raise BenchError(f"timed out waiting for {what}{log_tail(proc)}")


def log_tail(proc: subprocess.Popen | None) -> str:
    """The last lines a process of ours wrote (spawn() sends its stderr to a file)."""
    path = getattr(proc, "stderr_path", None)
    if not path or not Path(path).exists():
        return ""
    lines = Path(path).read_text(errors="replace").strip().splitlines()[-3:]
    return (": " + " | ".join(lines)) if lines else ""


def strip_ansi(s: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", s)


def parse_sockperf(out: str) -> dict:
    s = strip_ansi(out)
    avg = re.search(r"avg-rtt=([\d.]+)", s)
    p99 = re.search(r"percentile 99\.000 =\s*([\d.]+)", s)
    p50 = re.search(r"percentile 50\.000 =\s*([\d.]+)", s)
    msgs = re.search(r"\[Valid Duration\].*?ReceivedMessages=(\d+)", s)
    if not (avg and p99):
        raise BenchError(f"sockperf: no RTT in its output: {s[-300:]!r}")
    return {
        "rtt_avg_us": float(avg.group(1)),
        "rtt_p99_us": float(p99.group(1)),
        "rtt_p50_us": float(p50.group(1)) if p50 else None,
        "messages": int(msgs.group(1)) if msgs else None,
    }


def describe(rec: dict) -> str:
    if not rec.get("ok"):
        return f"{rec['phase']}: FAILED: {rec.get('error')}"
    main = {
        "tcp1": lambda r: f"{r['gbps']:.2f} Gbit/s, {r['retransmits']} retransmits",
        "tcp4": lambda r: f"{r['gbps']:.2f} Gbit/s, {r['retransmits']} retransmits",
        "l2": lambda r: f"{r['kpps']:.0f} kpps delivered ({r['offered_kpps']:.0f} offered)",
        "lat": lambda r: f"RTT avg {r['rtt_avg_us']:.1f} µs, p99 {r['rtt_p99_us']:.0f} µs",
    }[rec["phase"]](rec)
    sw = f", switch {rec['switch_cores']:.2f} cores" if rec.get("switch_cores") is not None else ""
    drops = f", switch drops {rec['switch_drops']}" if rec.get("switch_drops") else ""
    noisy = " NOISY" if rec["noisy"] else ""
    return (
        f"{rec['phase']}: {main}{sw}, machine {rec['vm_busy_cores']:.2f} busy cores "
        f"(foreign {rec['foreign_user_cores']:.2f}){drops}{noisy}"
    )


def apt_install(pkgs: list[str]) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # --no-install-recommends: netsniff-ng recommends ntpsec, which would replace the
    # machine's time daemon.
    cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *pkgs]
    log("installing " + " ".join(pkgs))
    if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
        if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
            raise BenchError(f"apt-get install {' '.join(pkgs)} failed")


def first_line(*cmd: str) -> str | None:
    try:
        p = subprocess.run(list(cmd), capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = strip_ansi(p.stdout + p.stderr).strip().splitlines()
    return lines[0].strip() if lines else None


def machine_meta(a: argparse.Namespace) -> dict:
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {
        "type": "meta",
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "mem_gib": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
        "switchd_rev": (
            first_line("git", "-C", str(REPO), "describe", "--always", "--dirty")
            if Path(a.bin_dir) == REPO / "target/release"
            else f"binaries in {a.bin_dir}"
        ),
        "iperf3": first_line("iperf3", "--version"),
        "trafgen": first_line("trafgen", "-v"),
        "sockperf": first_line("sockperf", "--version"),
        "ovs": first_line("ovs-vswitchd", "--version") if shutil.which("ovs-vswitchd") else None,
        "rounds": a.rounds,
        "duration": a.duration,
        "backends": a.backends,
        "phases": a.phases,
        "quiet_cores": a.quiet_cores,
        "noise_cores": a.noise_cores,
        "notes": {name: BACKENDS[name].note for name in a.backends},
    }


# ---------------------------------------------------------------------------------------
# Report: tables and chart


def fmt(x: float | None) -> str:
    """Three significant digits, like the baseline tables."""
    if x is None:
        return "–"
    if x == 0:
        return "0"
    digits = max(0, 2 - int(math.floor(math.log10(abs(x)))))
    return f"{x:.{digits}f}"


def cell(values: list[float], ranges: bool = True, count: bool = False) -> str:
    if not values:
        return "–"
    med = statistics.median(values)
    if count:
        return f"{round(med):,}".replace(",", " ")
    if len(values) == 1 or not ranges:
        return fmt(med)
    return f"{fmt(med)} [{fmt(min(values))}–{fmt(max(values))}]"


def summarize(records: list[dict]) -> tuple[list[str], dict]:
    """backend order, and {(backend, phase): [ok records]}; failed phases under key (backend, 'failed')."""
    order: list[str] = []
    groups: dict = {}
    for r in records:
        if r.get("type") != "phase":
            continue
        if r["backend"] not in order:
            order.append(r["backend"])
        key = (r["backend"], r["phase"] if r.get("ok") else "failed")
        groups.setdefault(key, []).append(r)
    return order, groups


def values(groups: dict, backend: str, phase: str, key: str) -> list[float]:
    return [r[key] for r in groups.get((backend, phase), []) if r.get(key) is not None]


def report(records: list[dict], metas: list[dict]) -> str:
    order, g = summarize(records)
    durs = sorted({r["duration"] for r in records if r.get("type") == "phase" and "duration" in r})
    rounds = sorted({r["round"] for r in records if r.get("type") == "phase"})
    dur = "/".join(f"{d:g}" for d in durs) or "?"
    lines = [
        f"Median [min–max] of {len(rounds)} round(s), {dur} s per phase.",
        "",
        f"| backend | TCP x1 Gbit/s | TCP x4 Gbit/s | L2 60B kpps delivered | RTT avg µs | RTT p99 µs "
        f"| switch CPU s per {dur}-s phase: tcp1 / tcp4 / l2 / lat |",
        "|---|---|---|---|---|---|---|",
    ]
    for b in order:
        cpu = [values(g, b, ph, "switch_cpu_s") for ph in PHASES]
        cpu_cell = " / ".join(cell(v, ranges=False) for v in cpu) if any(cpu) else "— (kernel)"
        lines.append(
            f"| {b} | {cell(values(g, b, 'tcp1', 'gbps'))} | {cell(values(g, b, 'tcp4', 'gbps'))} "
            f"| {cell(values(g, b, 'l2', 'kpps'))} | {cell(values(g, b, 'lat', 'rtt_avg_us'))} "
            f"| {cell(values(g, b, 'lat', 'rtt_p99_us'))} | {cpu_cell} |"
        )
    lines += [
        "",
        "Details (medians; switch cores = switch CPU s / phase wall time, with range):",
        "",
        "| backend | switch cores tcp1 | switch cores l2 | switch µs/frame in l2 | L2 offered kpps "
        "(dropped at sender) | tcp1 retrans | tcp4 retrans | avg frame at host2 in tcp1, B | RTT p50 µs "
        "| switch drops (all phases) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for b in order:
        drops: dict[str, int] = {}
        for ph in PHASES:
            for r in g.get((b, ph), []):
                for k, v in (r.get("switch_drops") or {}).items():
                    drops[k] = drops.get(k, 0) + v
        offered = values(g, b, "l2", "offered_kpps")
        sdrop = values(g, b, "l2", "sender_dropped_kpps")
        off_cell = cell(offered, ranges=False) + (
            f" (+{fmt(statistics.median(sdrop))})" if sdrop and statistics.median(sdrop) >= 1 else ""
        )
        lines.append(
            f"| {b} | {cell(values(g, b, 'tcp1', 'switch_cores'))} | {cell(values(g, b, 'l2', 'switch_cores'))} "
            f"| {cell(values(g, b, 'l2', 'switch_us_per_frame'))} | {off_cell} "
            f"| {cell(values(g, b, 'tcp1', 'retransmits'), count=True)} "
            f"| {cell(values(g, b, 'tcp4', 'retransmits'), count=True)} "
            f"| {cell(values(g, b, 'tcp1', 'host2_rx_avg_frame'), count=True)} "
            f"| {cell(values(g, b, 'lat', 'rtt_p50_us'), ranges=False)} "
            f"| {', '.join(f'{k} {v}' for k, v in sorted(drops.items())) or '0'} |"
        )
    notes = []
    noisy = [f"{r['backend']} r{r['round']} {r['phase']}" for r in records if r.get("noisy")]
    failed = [
        f"{r['backend']} r{r['round']} {r['phase']}: {r.get('error')}"
        for r in records
        if r.get("type") == "phase" and not r.get("ok")
    ]
    busy = [r["vm_busy_cores"] for r in records if r.get("phase") == "l2" and r.get("ok")]
    if noisy:
        notes.append(f"Noisy phases (foreign CPU above the limit after redos; kept): {', '.join(noisy)}.")
    if failed:
        notes.append("Failed: " + "; ".join(failed) + ".")
    if busy:
        notes.append(f"Whole-machine busy cores during l2: {fmt(min(busy))}–{fmt(max(busy))}.")
    backend_notes = {}
    for m in metas:
        backend_notes.update(m.get("notes", {}))
    lines += ["", "Notes:", ""]
    for b in order:
        note = backend_notes.get(b) or (BACKENDS[b].note if b in BACKENDS else "")
        lines.append(f"- **{b}**: {note}.")
    lines += [f"- {n}" for n in notes]
    if metas:
        m = metas[0]
        lines.append(
            f"- Machine: {m['cpus']} CPUs {m['cpu_model']}, {m['mem_gib']} GiB, kernel {m['kernel']}; "
            + ", ".join(f"{t} {version(m.get(k))}" for t, k in TOOLS if m.get(k))
            + f"; switchd {m['switchd_rev']}; {m['date']}."
        )
    return "\n".join(lines)


TOOLS = [("iperf3", "iperf3"), ("trafgen", "trafgen"), ("sockperf", "sockperf"), ("Open vSwitch", "ovs")]


def version(line: str | None) -> str:
    m = re.search(r"\d+\.\d+(\.\d+)?", line or "")
    return m.group(0) if m else "?"


def nice_step(vmax: float) -> float:
    raw = vmax / 4 if vmax > 0 else 1
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def chart(records: list[dict], metas: list[dict], path: Path) -> None:
    """A 2x2 panel SVG: median bar and min-max whisker per backend."""
    order, g = summarize(records)
    panels = [
        ("TCP, 1 stream", "Gbit/s", "tcp1", "gbps"),
        ("TCP, 4 streams", "Gbit/s", "tcp4", "gbps"),
        ("L2 60-byte frames delivered", "kpps", "l2", "kpps"),
        ("UDP ping-pong RTT avg (lower is better)", "µs", "lat", "rtt_avg_us"),
    ]
    label_w, bar_w, pad, row_h = 170, 300, 24, 24
    panel_w = label_w + bar_w + 70
    panel_h = 34 + row_h * len(order) + 22
    width, height = 2 * panel_w + 3 * pad, 70 + 2 * panel_h + 2 * pad

    def color(b: str) -> str:
        if b.startswith("switchd"):
            return "#1f77b4" if "tap" in b else "#17becf"
        if b.startswith("ovs"):
            return "#ff7f0e" if "tso" not in b else "#d62728"
        return "#7f7f7f" if "nooff" not in b else "#bcbd22"

    rounds = sorted({r["round"] for r in records if r.get("type") == "phase"})
    durs = sorted({r["duration"] for r in records if r.get("type") == "phase" and "duration" in r})
    sub = f"median and min–max of {len(rounds)} round(s), {'/'.join(f'{d:g}' for d in durs)} s per phase"
    if metas:
        m = metas[0]
        sub += f" — {m['cpus']} CPUs, kernel {m['kernel']}, {m['date'][:10]}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{pad}" y="30" font-size="18" font-weight="bold">'
        f"Two namespaces joined by each switch (benches/compare.sh)</text>",
        f'<text x="{pad}" y="52" fill="#555">{esc(sub)}</text>',
    ]
    for k, (title, unit, phase, key) in enumerate(panels):
        x0 = pad + (k % 2) * (panel_w + pad)
        y0 = 70 + (k // 2) * (panel_h + pad)
        out.append(f'<text x="{x0}" y="{y0 + 18}" font-size="14" font-weight="bold">{esc(title)}, {unit}</text>')
        vals = {b: values(g, b, phase, key) for b in order}
        vmax = max((max(v) for v in vals.values() if v), default=0) or 1
        step = nice_step(vmax)
        top = step * math.ceil(vmax / step)
        bx, by = x0 + label_w, y0 + 34
        inner_h = row_h * len(order)
        t = 0.0
        while t <= top + step / 2:
            x = bx + bar_w * t / top
            out.append(f'<line x1="{x:.1f}" y1="{by}" x2="{x:.1f}" y2="{by + inner_h}" stroke="#ddd"/>')
            out.append(f'<text x="{x:.1f}" y="{by + inner_h + 14}" text-anchor="middle" fill="#555">{t:g}</text>')
            t += step
        for i, b in enumerate(order):
            y = by + i * row_h
            out.append(f'<text x="{bx - 6}" y="{y + row_h / 2 + 4}" text-anchor="end">{esc(b)}</text>')
            v = vals[b]
            if not v:
                out.append(f'<text x="{bx + 4}" y="{y + row_h / 2 + 4}" fill="#999">no data</text>')
                continue
            med, lo, hi = statistics.median(v), min(v), max(v)
            w = bar_w * med / top
            out.append(
                f'<rect x="{bx}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{color(b)}"/>'
            )
            xl, xh, ym = bx + bar_w * lo / top, bx + bar_w * hi / top, y + row_h / 2
            if len(v) > 1:
                out.append(f'<line x1="{xl:.1f}" y1="{ym}" x2="{xh:.1f}" y2="{ym}" stroke="black"/>')
                for xx in (xl, xh):
                    out.append(f'<line x1="{xx:.1f}" y1="{ym - 5}" x2="{xx:.1f}" y2="{ym + 5}" stroke="black"/>')
            out.append(f'<text x="{max(xh, bx + w) + 5:.1f}" y="{ym + 4}">{fmt(med)}</text>')
    out.append("</svg>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n")


def load(paths: list[str]) -> tuple[list[dict], list[dict]]:
    recs, metas = [], []
    for p in paths:
        with open(p) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    (metas if r.get("type") == "meta" else recs).append(r)
    return recs, metas


# ---------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="benches/compare.sh",
        description="System benchmark of switchd against the Linux bridge and OVS's userspace datapath "
        "(needs root). Prints a markdown table and writes the raw records (JSON lines) and an SVG chart.",
    )
    ap.add_argument("--rounds", type=int, help="rounds, interleaved across backends (default 3)")
    ap.add_argument("--duration", type=float, help="seconds per phase (default 10)")
    ap.add_argument(
        "--backends",
        help=f"comma-separated list (default {','.join(DEFAULT_BACKENDS)}, plus "
        f"{','.join(DEFAULT_OVS_BACKENDS)} when Open vSwitch is installed); see --list",
    )
    ap.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated subset of {','.join(PHASES)}")
    ap.add_argument("--quick", action="store_true", help="smoke test: 1 round of 3 s, quiet wait at most 20 s")
    ap.add_argument("--out", help="raw records, JSON lines (default target/compare/RUN.jsonl, RUN = start time)")
    ap.add_argument("--chart", help="SVG chart of the table (default target/compare/RUN.svg; with --report: none)")
    ap.add_argument("--quiet-wait", type=float, help="wait at most this long for a quiet machine before a phase "
                    "(default 240 s, 20 s with --quick)")
    ap.add_argument("--quiet-cores", type=float, default=0.25, help="quiet = fewer busy cores than this (0.25)")
    ap.add_argument("--quiet-window", type=float, default=2.0, help="seconds per busy-cores sample (2)")
    ap.add_argument("--noise-cores", type=float, default=0.15,
                    help="redo a phase in which foreign processes used more user CPU than this (0.15 cores)")
    ap.add_argument("--max-redos", type=int, default=2, help="redos of a noisy phase (2)")
    ap.add_argument("--install-ovs", action="store_true",
                    help="apt-get install openvswitch-switch if missing, and include the OVS backends")
    ap.add_argument("--no-install", action="store_true", help="never apt-get install the workload tools")
    ap.add_argument("--no-build", action="store_true", help="skip cargo build --release --workspace --bins")
    ap.add_argument("--bin-dir", default=str(REPO / "target/release"),
                    help="take switchd and switchctl from this directory (no build), e.g. to compare revisions")
    ap.add_argument("--report", nargs="+", metavar="JSONL", help="no run: print the table of earlier records")
    ap.add_argument("--list", action="store_true", help="list the backends and exit")
    ap.add_argument("--prefix", default=f"swb{os.getpid()}", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    a.rounds = a.rounds or (1 if a.quick else 3)
    a.duration = a.duration or (3 if a.quick else 10)
    if a.quiet_wait is None:
        a.quiet_wait = 20 if a.quick else 240
    a.phases = [p for p in a.phases.split(",") if p]
    for p in a.phases:
        if p not in PHASES:
            ap.error(f"unknown phase {p!r} (known: {', '.join(PHASES)})")
    if a.backends:
        a.backends = [b for b in a.backends.split(",") if b]
        for b in a.backends:
            if b not in BACKENDS:
                ap.error(f"unknown backend {b!r} (known: {', '.join(BACKENDS)})")
    if not re.fullmatch(r"[a-z][a-z0-9]{1,9}", a.prefix):
        ap.error(f"prefix {a.prefix!r} must be 2-10 lowercase letters and digits (interface names are short)")
    return a


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    if a.list:
        for b in BACKENDS.values():
            print(f"{b.name:24} {b.note}")
        return 0
    if a.report:
        recs, metas = load(a.report)
        print(report(recs, metas))
        if a.chart:
            chart(recs, metas, Path(a.chart))
            log(f"chart: {a.chart}")
        return 0
    if os.geteuid() != 0:
        log("needs root (network namespaces, TAP devices, AF_PACKET sockets)")
        return 1

    def on_signal(signum, _frame):
        # Further signals must not interrupt the cleanup.
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signal.Signals(signum).name)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    bench = Bench(a)
    started = time.monotonic()
    try:
        bench.dir.mkdir(mode=0o700)
    except FileExistsError:
        log(f"{bench.dir} exists: another run with prefix {a.prefix}?")
        return 1
    try:
        bench.install_tools()
        if a.backends is None:
            a.backends = list(DEFAULT_BACKENDS)
            if all(shutil.which(x) for x in OVS_BINARIES):
                a.backends += DEFAULT_OVS_BACKENDS
        elif a.install_ovs:
            a.backends += [b for b in DEFAULT_OVS_BACKENDS if b not in a.backends]
        if any(BACKENDS[b].kind == "switchd" for b in a.backends):
            bench.build()
        # Named after the run, so that no run (not even an interrupted one) overwrites another.
        out = Path(a.out or REPO / f"target/compare/{bench.run_id}.jsonl")
        chart_path = Path(a.chart or out.with_suffix(".svg"))
        out.parent.mkdir(parents=True, exist_ok=True)
        bench.out = open(out, "x")  # never overwrite the records of an earlier run
        log(
            f"{a.rounds} round(s) x {len(a.backends)} backend(s) x {len(a.phases)} phase(s) of {a.duration:g} s; "
            f"names start with {a.prefix}"
        )
        records = bench.run()
        bench.out.close()
        recs, metas = load([str(out)])
        print(report(recs, metas))
        chart(recs, metas, chart_path)
        log(f"records: {out}; chart: {chart_path}; took {time.monotonic() - started:.0f} s")
        return 0 if all(r.get("ok") for r in records) else 2
    except Interrupted as e:
        log(f"interrupted ({e}); cleaning up")
        return 130
    except BenchError as e:
        log(f"error: {e}")
        return 1
    except FileExistsError as e:
        log(f"error: {e.filename} exists; pick another --out")
        return 1
    finally:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        bench.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
