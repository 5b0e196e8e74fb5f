#!/usr/bin/env python3
"""Helper of scripts/soak.sh, the soak test of switchd: the parts that are
awkward in bash. Standard library only.

  flood IFACE COUNT      COUNT frames from random unicast source MACs out of
                         IFACE (run inside a host's namespace): the MAC-table
                         churn part of the soak's traffic.
  monitor ...            every 0.2 s: is switchd alive, does the always-on
                         ping pair still get replies; every --interval
                         seconds: one CSV row of switchd's memory, fds,
                         threads, CPU, MAC entries, ping loss and the time of
                         one `switchctl show`. Exits 0 on SIGTERM, 3 when
                         switchd died, stalled or stopped answering (the
                         reason goes to --state).
  summary ...            the figures of a finished run and the verdict: exit
                         0 when it passed, 1 when it did not.

Ping logs are `ping -D -n -O` output: replies and "no answer yet" lines
carry the sequence number, so loss = 1 - (distinct replies / highest sequence
sent) without waiting for ping's own statistics.
"""

import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")

# ---------------------------------------------------------------------------
# flood
# ---------------------------------------------------------------------------


def cmd_flood(args):
    """Frames to a MAC nobody has (so switchd floods them) from random
    locally administered unicast sources; paced at ~200 frames per ms so that
    they reach the MAC table instead of overflowing a receive queue."""
    dst = bytes.fromhex(args.dst.replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((args.iface, 0))
    payload = b"switchd soak mac flood".ljust(46, b"\0")
    sent = 0
    for i in range(args.count):
        src = bytearray(random.randbytes(6))
        src[0] = (src[0] & 0xFC) | 0x02
        frame = dst + bytes(src) + b"\x88\xb5" + payload
        while True:
            try:
                s.send(frame)
                sent += 1
                break
            except OSError as e:  # ENOBUFS: the queue is full, wait it out
                if e.errno != 105:
                    raise
                time.sleep(0.0002)
        if i % 200 == 199:
            time.sleep(0.001)
    print(sent)


# ---------------------------------------------------------------------------
# ping logs
# ---------------------------------------------------------------------------

REPLY = re.compile(r"^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)")
# Any other line with a sequence number: "no answer yet for icmp_seq=N",
# "From IP icmp_seq=N Destination Host Unreachable": sent, not answered.
NOANSWER = re.compile(r"^\[(\d+\.\d+)\] .*icmp_seq=(\d+)")


class PingLog:
    """Incremental reader of one `ping -D -n -O` log."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = ""
        self.max_seq = 0
        self.wraps = 0
        self.replied = set()
        self.first_reply = None
        self.last_reply = None
        self.longest_gap = 0.0
        self.longest_gap_at = None

    def unwrap(self, seq):
        """icmp_seq is 16 bits: after 65535 ping starts again at 0 (at one
        ping every 20 ms, after 22 minutes). Counts the wraps, so that
        sequence numbers keep growing; a late line from before a wrap goes
        back to its own lap."""
        full = self.wraps * 65536 + seq
        if full < self.max_seq - 32768:
            self.wraps += 1
            full += 65536
        elif full > self.max_seq + 32768 and full >= 65536:
            full -= 65536
        return full

    def update(self):
        try:
            with open(self.path, encoding="utf-8", errors="replace") as f:
                f.seek(self.offset)
                data = f.read()
                self.offset = f.tell()
        except FileNotFoundError:
            return
        text = self.partial + data
        lines = text.split("\n")
        self.partial = lines.pop()
        for line in lines:
            m = REPLY.match(line)
            if m:
                ts, seq = float(m.group(1)), self.unwrap(int(m.group(2)))
                self.max_seq = max(self.max_seq, seq)
                if seq in self.replied:
                    continue  # a duplicate
                self.replied.add(seq)
                if self.last_reply is not None and ts - self.last_reply > self.longest_gap:
                    self.longest_gap = ts - self.last_reply
                    self.longest_gap_at = self.last_reply
                if self.first_reply is None:
                    self.first_reply = ts
                self.last_reply = ts if self.last_reply is None else max(ts, self.last_reply)
                continue
            m = NOANSWER.match(line)
            if m:
                self.max_seq = max(self.max_seq, self.unwrap(int(m.group(2))))

    @property
    def sent(self):
        return self.max_seq

    @property
    def received(self):
        return len(self.replied)

    def loss_pct(self):
        return 100.0 * (self.sent - self.received) / self.sent if self.sent else 0.0


# ---------------------------------------------------------------------------
# monitor
# ---------------------------------------------------------------------------


def proc_state(pid):
    """The state letter of /proc/PID/stat, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2]


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def count_dir(path):
    return len(os.listdir(path))


class Ops:
    """Counts of the ops log (`EPOCH KIND NAME RC MS` lines) read so far."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.counts = {}

    def update(self):
        try:
            with open(self.path, encoding="utf-8", errors="replace") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return
        end = data.rfind("\n") + 1  # only whole lines
        self.offset += len(data[:end].encode())
        for line in data[:end].splitlines():
            parts = line.split()
            if len(parts) >= 2:
                self.counts[parts[1]] = self.counts.get(parts[1], 0) + 1


class Show(threading.Thread):
    """One timed `switchctl --json show`, on a thread of its own: the
    monitor goes on checking the daemon's life and forwarding meanwhile, and
    the time is the command's own, not rounded to the monitor's loop."""

    def __init__(self, argv):
        super().__init__(daemon=True)
        self.argv = argv
        self.proc = None
        self.ms = None
        self.ok = False
        self.out = ""

    def run(self):
        s0 = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.out, _ = self.proc.communicate()
        self.ms = (time.monotonic() - s0) * 1000.0
        self.ok = self.proc.returncode == 0

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        self.join(timeout=5)


CSV_HEADER = (
    "t_s,epoch,rss_kib,hwm_kib,fds,threads,cpu_pct,mac_entries,"
    "ping_sent,ping_recv,ping_loss_pct,show_ms,churn_ops,flaps"
)


def cmd_monitor(args):
    stop = False

    def on_term(_sig, _frm):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    pid = args.pid
    ping = PingLog(args.ping_log)
    ops = Ops(args.ops)
    state = {"failure": None, "show_failures": 0, "show_max_ms": 0.0}
    t0 = time.time()
    last_sample = None  # (time, ticks)
    next_sample = t0
    show_fail_run = 0
    # The sample whose `switchctl show` is still running (see Show).
    pending = None
    csv = open(args.csv, "w", buffering=1)
    csv.write(CSV_HEADER + "\n")

    def fail(reason):
        state["failure"] = reason
        print(f"soak monitor: {reason}", file=sys.stderr, flush=True)

    def finish(row, show_ms, show_ok, stdout):
        nonlocal show_fail_run
        state["show_max_ms"] = max(state["show_max_ms"], show_ms)
        mac_entries = ""
        if show_ok:
            show_fail_run = 0
            try:
                for br in json.loads(stdout):
                    if br.get("name") == args.bridge:
                        mac_entries = br.get("mac_entries", "")
            except ValueError:
                pass
        else:
            state["show_failures"] += 1
            show_fail_run += 1
            if show_fail_run >= 3:
                fail(f"control socket unresponsive: 3 `show` in a row failed (at t={row['t'] - t0:.0f} s)")
        ops.update()
        csv.write(
            f"{row['t'] - t0:.1f},{row['t']:.3f},{row['rss']},{row['hwm']},{row['fds']},{row['threads']},"
            f"{row['cpu']},{mac_entries},{row['sent']},{row['recv']},{row['loss']:.3f},{show_ms:.1f},"
            f"{ops.counts.get('churn', 0)},{ops.counts.get('flap', 0)}\n"
        )

    while not stop and not state["failure"]:
        now = time.time()
        st = proc_state(pid)
        if st is None or st in "ZX":
            fail(f"switchd (pid {pid}) died at t={now - t0:.0f} s")
            break
        ping.update()
        # The pair must get replies from its first one on: a gap longer than
        # the limit is a stall (the pair is never flapped or reconfigured).
        ref = ping.last_reply if ping.last_reply is not None else t0 + args.stall_limit
        if now - ref > args.stall_limit:
            fail(
                f"forwarding stalled: no reply on the always-on ping pair for "
                f"{now - ref:.1f} s (at t={now - t0:.0f} s)"
            )
            break
        if pending is not None and not pending[0].is_alive():
            show, row = pending
            if not show.ok:
                print(f"soak monitor: show failed: {show.out.strip()[-300:]}", file=sys.stderr, flush=True)
            finish(row, show.ms, show.ok, show.out)
            pending = None
        if now >= next_sample and pending is None:
            next_sample = max(next_sample + args.interval, now)
            try:
                ticks = cpu_ticks(pid)
                row = {
                    "t": now,
                    "rss": status_kib(pid, "VmRSS"),
                    "hwm": status_kib(pid, "VmHWM"),
                    "fds": count_dir(f"/proc/{pid}/fd"),
                    "threads": count_dir(f"/proc/{pid}/task"),
                    "sent": ping.sent,
                    "recv": ping.received,
                    "loss": ping.loss_pct(),
                }
            except OSError:
                continue  # gone: the next round says so
            row["cpu"] = ""
            if last_sample is not None:
                row["cpu"] = f"{100.0 * (ticks - last_sample[1]) / CLK_TCK / (now - last_sample[0]):.1f}"
            last_sample = (now, ticks)
            show = Show([args.switchctl, "--socket", args.socket, "--timeout", "10", "--json", "show"])
            show.start()
            pending = (show, row)
        time.sleep(0.2)
    if pending is not None:
        pending[0].kill()
    # A stall still open at the end is a gap too.
    if ping.last_reply is not None:
        open_gap = time.time() - ping.last_reply
        if open_gap > ping.longest_gap and state["failure"]:
            ping.longest_gap, ping.longest_gap_at = open_gap, ping.last_reply
    state["ping"] = {
        "sent": ping.sent,
        "received": ping.received,
        "longest_gap_s": ping.longest_gap,
        "longest_gap_at": ping.longest_gap_at,
    }
    with open(args.state, "w") as f:
        json.dump(state, f)
    sys.exit(3 if state["failure"] else 0)


# ---------------------------------------------------------------------------
# summary
# ---------------------------------------------------------------------------


def read_facts(path):
    facts = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                facts[k] = v
    return facts


def read_csv(path):
    rows = []
    try:
        with open(path) as f:
            header = f.readline().strip().split(",")
            for line in f:
                vals = line.strip().split(",")
                if len(vals) == len(header):
                    rows.append(dict(zip(header, vals)))
    except FileNotFoundError:
        pass
    return rows


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def mib(kib):
    return f"{kib / 1024:.1f}"


def cmd_summary(args):
    out = args.out
    facts = read_facts(os.path.join(out, "facts"))
    rows = read_csv(os.path.join(out, "samples.csv"))
    try:
        with open(os.path.join(out, "monitor.json")) as f:
            mon = json.load(f)
    except (FileNotFoundError, ValueError):
        mon = {}
    fnum = lambda k: num(facts.get(k))  # noqa: E731
    lines = []
    failures = []
    say = lines.append

    say(
        f"run: {facts.get('date', '?')}, switchd {facts.get('commit', '?')} ({facts.get('profile', '?')} build), "
        f"{facts.get('nproc', '?')} CPUs ({facts.get('cpu_model', '?')}), kernel {facts.get('kernel', '?')}, "
        f"load average {facts.get('load_start', '?')} at start / {facts.get('load_end', '?')} at end"
    )
    planned, actual = fnum("duration_planned"), fnum("duration_actual")
    say(f"duration: {actual or 0:.0f} s of {planned or 0:.0f} s planned, warm-up {facts.get('warmup', '?')} s, {len(rows)} samples")

    # Memory. Growth: end (control churn paused, configuration back to its
    # base state, traffic still running) against the same state after warm-up.
    rss_vals = [num(r["rss_kib"]) for r in rows if num(r["rss_kib"]) is not None]
    hwm_vals = [num(r["hwm_kib"]) for r in rows if num(r["hwm_kib"]) is not None]
    rss_start, rss_warm, rss_end = fnum("rss_start_kib"), fnum("rss_warm_kib"), fnum("rss_end_kib")
    bound_kib = (fnum("rss_bound_mib") or 0) * 1024
    if rss_vals and rss_start is not None:
        growth = rss_end - rss_warm if rss_end is not None and rss_warm is not None else None
        # Least-squares slope of the samples after warm-up, as MiB per hour.
        warm = fnum("warmup") or 0
        pts = [(num(r["t_s"]), num(r["rss_kib"])) for r in rows if (num(r["t_s"]) or 0) >= warm and num(r["rss_kib"])]
        slope = ""
        # Only over at least 5 minutes: before that it is the start-up's growth.
        if len(pts) >= 3 and pts[-1][0] - pts[0][0] >= 300:
            mx = statistics.fmean(p[0] for p in pts)
            my = statistics.fmean(p[1] for p in pts)
            den = sum((p[0] - mx) ** 2 for p in pts)
            if den > 0:
                k = sum((p[0] - mx) * (p[1] - my) for p in pts) / den
                slope = f", trend {k * 3600 / 1024:+.2f} MiB/h"
        say(
            f"RSS: start {mib(rss_start)} MiB, after warm-up {mib(rss_warm) if rss_warm is not None else '?'} MiB, "
            f"end {mib(rss_end) if rss_end is not None else '?'} MiB, max {mib(max(rss_vals))} MiB, "
            f"growth after warm-up {f'{growth / 1024:+.2f}' if growth is not None else '?'} MiB "
            f"(bound {bound_kib / 1024:.0f} MiB){slope}; VmHWM {mib(max(hwm_vals))} MiB"
        )
        if growth is not None and growth > bound_kib:
            failures.append(f"RSS grew by {growth / 1024:.1f} MiB after warm-up (bound {bound_kib / 1024:.0f} MiB)")
    else:
        say("RSS: no samples")

    fds_warm, fds_end = fnum("fds_warm"), fnum("fds_end")
    fd_vals = [num(r["fds"]) for r in rows if num(r["fds"]) is not None]
    slack = fnum("fd_slack") or 0
    th_vals = [num(r["threads"]) for r in rows if num(r["threads"]) is not None]
    say(
        f"fds: start {facts.get('fds_start', '?')}, after warm-up {facts.get('fds_warm', '?')}, "
        f"end {facts.get('fds_end', '?')}, max {max(fd_vals):.0f} (slack {slack:.0f}); "
        f"threads: start {facts.get('threads_start', '?')}, end {facts.get('threads_end', '?')}, "
        f"max {max(th_vals):.0f}"
        if fd_vals and th_vals
        else "fds: no samples"
    )
    if fds_warm is not None and fds_end is not None and fds_end > fds_warm + slack:
        failures.append(f"fds grew from {fds_warm:.0f} to {fds_end:.0f} (slack {slack:.0f})")
    th_warm, th_end = fnum("threads_warm"), fnum("threads_end")
    if th_warm is not None and th_end is not None and th_end > th_warm:
        failures.append(f"threads grew from {th_warm:.0f} to {th_end:.0f}")

    cpu_vals = [num(r["cpu_pct"]) for r in rows if num(r["cpu_pct"]) is not None]
    if cpu_vals:
        say(
            f"CPU (% of one core, {facts.get('interval', '?')}-s samples): mean {statistics.fmean(cpu_vals):.1f}, "
            f"max {max(cpu_vals):.1f}"
        )
    mac_vals = [num(r["mac_entries"]) for r in rows if num(r["mac_entries"]) is not None]
    if mac_vals:
        say(f"MAC entries (soak0): mean {statistics.fmean(mac_vals):.0f}, max {max(mac_vals):.0f}")

    # The ops log: every control command, flap, flood, arping and iperf3 run.
    kinds = {}
    streams = {}  # iperf3 stream -> Mbit/s of its complete runs
    ctl_ms = []
    slowest = (0.0, "")
    refused = {}
    t_start = fnum("t_start") or 0
    try:
        with open(os.path.join(out, "ops.log")) as f:
            for line in f:
                p = line.split()
                if len(p) < 5:
                    continue
                ts, kind, name, rc, ms = float(p[0]), p[1], p[2], int(p[3]), float(p[4])
                if kind == "traffic":
                    st = streams.setdefault(name, [[], 0])
                    if rc == 0 and len(p) >= 6:
                        st[0].append(float(p[5]))
                    else:
                        st[1] += 1
                k = kinds.setdefault(kind, [0, 0])
                k[0] += 1
                if rc != 0:
                    k[1] += 1
                if kind in ("churn", "read"):
                    ctl_ms.append(ms)
                    if ms > slowest[0]:
                        slowest = (ms, f"{name} at t={ts - t_start:.0f} s")
                    if rc != 0:
                        refused[name] = refused.get(name, 0) + 1
    except FileNotFoundError:
        pass

    def cnt(kind):
        n, bad = kinds.get(kind, [0, 0])
        return n, bad

    n_churn, bad_churn = cnt("churn")
    n_flap, bad_flap = cnt("flap")
    n_read, bad_read = cnt("read")
    say(
        f"churn: {n_churn} configuration changes ({bad_churn} refused), {n_flap} link flaps "
        f"({bad_flap} failed to restore), {n_read} read commands ({bad_read} failed)"
    )
    if refused:
        say("refused: " + ", ".join(f"{k} x{v}" for k, v in sorted(refused.items())) + " (see ctl-errors.log)")
    n_flood, _ = cnt("flood")
    n_arp, bad_arp = cnt("arping")
    n_tr, bad_tr = cnt("traffic")
    say(
        f"traffic: {n_tr} iperf3 runs ({bad_tr} ended with an error), {n_flood} MAC floods of "
        f"{facts.get('flood_frames', '?')} frames, {n_arp} arping bursts ({bad_arp} without reply)"
    )
    if streams:
        # Flaps of c, d, e and the trunk cut the streams that cross them.
        say(
            "iperf3 streams: "
            + "; ".join(
                f"{k} {len(ok)} complete at {statistics.fmean(ok) if ok else 0:.0f} Mbit/s, {bad} cut"
                for k, (ok, bad) in sorted(streams.items())
            )
        )
    if ctl_ms:
        q = statistics.quantiles(ctl_ms, n=100) if len(ctl_ms) >= 2 else [ctl_ms[0]] * 99
        say(
            f"control: {len(ctl_ms)} switchctl commands, median {statistics.median(ctl_ms):.1f} ms, "
            f"p99 {q[98]:.1f} ms, slowest {slowest[0]:.0f} ms ({slowest[1]}); "
            f"sampled `show` slowest {mon.get('show_max_ms', 0):.0f} ms"
        )
    if bad_churn:
        failures.append(f"{bad_churn} configuration changes refused (ctl-errors.log)")
    if bad_flap:
        failures.append(f"{bad_flap} link flaps did not restore their link")

    # Pings: the always-on pair (monitor's figures) and the others (report only).
    p = mon.get("ping", {})
    loss_max = fnum("loss_max_pct") or 0
    if p:
        sent, recv = p.get("sent", 0), p.get("received", 0)
        loss = 100.0 * (sent - recv) / sent if sent else 100.0
        gap_at = p.get("longest_gap_at")
        gap_t = f" at t={gap_at - t_start:.0f} s" if gap_at else ""
        say(
            f"always-on pair ({facts.get('pair', '?')}): {sent} pings, {recv} replies, loss {loss:.3f} % "
            f"(bound {loss_max} %), longest gap {p.get('longest_gap_s', 0):.2f} s{gap_t}"
        )
        if loss > loss_max:
            failures.append(f"always-on pair lost {loss:.3f} % (bound {loss_max} %)")
        if sent == 0:
            failures.append("the always-on pair sent no ping")
    others = []
    for name in sorted(os.listdir(out)):
        m = re.match(r"ping-(.+)\.log$", name)
        if m and m.group(1) != "pair":
            pl = PingLog(os.path.join(out, name))
            pl.update()
            others.append(f"{m.group(1)} {pl.loss_pct():.1f} % of {pl.sent}")
    if others:
        say("other pings (flapped and reconfigured, not judged): loss " + ", ".join(others))

    if mon.get("failure"):
        failures.insert(0, mon["failure"])
    if facts.get("final_ping") not in (None, "ok"):
        failures.append(f"after the soak the always-on pair does not ping ({facts.get('final_ping')})")
    if facts.get("exit") not in (None, "0"):
        failures.append(f"switchd did not stop cleanly on SIGTERM ({facts.get('exit')})")
    if facts.get("aborted"):
        failures.append(facts["aborted"])

    verdict = "PASS" if not failures else "FAIL: " + "; ".join(failures)
    text = "\n".join(f"soak: {l}" for l in lines + [verdict])
    print(text)
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write(text + "\n")
    sys.exit(0 if not failures else 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("flood")
    f.add_argument("iface")
    f.add_argument("count", type=int)
    f.add_argument("--dst", default="02:00:00:00:00:99")
    m = sub.add_parser("monitor")
    m.add_argument("--pid", type=int, required=True)
    m.add_argument("--switchctl", required=True)
    m.add_argument("--socket", required=True)
    m.add_argument("--bridge", required=True)
    m.add_argument("--ping-log", required=True)
    m.add_argument("--ops", required=True)
    m.add_argument("--csv", required=True)
    m.add_argument("--state", required=True)
    m.add_argument("--interval", type=float, default=5.0)
    m.add_argument("--stall-limit", type=float, default=5.0)
    s = sub.add_parser("summary")
    s.add_argument("out")
    args = ap.parse_args()
    {"flood": cmd_flood, "monitor": cmd_monitor, "summary": cmd_summary}[args.cmd](args)


if __name__ == "__main__":
    main()
