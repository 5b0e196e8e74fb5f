//! The command-line grammar of `switchctl` (SPEC §5) and its conversion into
//! one [`proto::Request`].
//!
//! Every name and `KEY=VALUE` is parsed by proto's `FromStr` types used as clap
//! value parsers, so bad input is refused before anything is sent, with exactly
//! the message the daemon would give, and with clap's usage-error exit status
//! (2). [`parse_request`] does no I/O (clap only reads `SWITCHD_SOCKET`), so the
//! whole grammar is unit-tested without a daemon.
//!
//! `set` and `clear` take the table (`port` or `bridge`) as their first word,
//! as `ovs-vsctl` does; each table is a nested subcommand so that its own
//! `--help` lists exactly its keys.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand};
use proto::capture::SNAPLEN_MAX;
use proto::request::check_dump_table;
use proto::types::BOND_MEMBERS_MIN;
use proto::{
    BridgeSetting, CaptureDirection, ClearKey, ControllerTarget, IfName, InvalidValue, PortConfig,
    PortSetting, Request, RstpBridgeConfig,
};

use crate::input::TextSource;

/// The bond keys with their ranges and defaults, shared by the port key help
/// and `add-bond --help` (a macro so that `concat!` can splice it).
macro_rules! bond_keys_help {
    () => {
        "  bond_mode=MODE               active-backup (default) | balance-slb | balance-tcp
  lacp=MODE                    off (default) | active | passive
  lacp_time=SPEED              LACP timeout asked of the partner: slow (default, LACPDUs
                               every 30 s) | fast (every 1 s)
  lacp_fallback_ab=BOOL        without an LACP partner, work as active-backup (default false)
  bond_updelay=MS              carrier up this long before a member is used, 0-60000 (default 0)
  bond_downdelay=MS            carrier down this long before a member is dropped, 0-60000 (default 0)
  bond_rebalance_interval=MS   0 (off) or 1000-10000 (default 10000)"
    };
}

/// Every port key with its range and default; shown by `add-port --help` and
/// `set port --help`. A unit test checks the numbers against proto's constants.
const PORT_KEYS_HELP: &str = concat!(
    "\
Port keys (KEY=VALUE):
  type=TYPE        system (default), tap, vxlan, gre, stream, dgram; only at add-port
  tag=VID          access VLAN, or the native VLAN of a native-* port; 0-4095
  trunks=LIST      VLANs the port carries, e.g. 10,20,100-110 (ids 0-4095); default: all
  vlan_mode=MODE   access | trunk | native-tagged | native-untagged;
                   default: access if tag is set, else trunk
  mtu=N            largest payload sent out of the port, 68-65535; default: the device's MTU
  ofport_request=N only at add-port: the OpenFlow port number to give the port,
                   1-65279; default: a free one (show prints the number in force)
  remote_ip=ADDR   vxlan, gre: IPv4 or IPv6 address of the tunnel peer (required)
  local_ip=ADDR    vxlan, gre: local tunnel address, same family as remote_ip (optional)
  key=N            vxlan: VNI 0-16777215 (default 0); gre: key 0-4294967295 (default: no key)
  dst_port=N       vxlan: UDP destination port 1-65535 (default 4789)
  path=FILE        stream, dgram: Unix socket path (required)
  mode=OCTAL       stream, dgram: permissions of the socket file, 0000-0777 (default 0600)
  persist=BOOL     tap: true or false; keep the TAP device when the port goes (default false)

Spanning tree (used when the bridge has rstp=true; any port type):
  rstp_enable=BOOL         take part in the spanning tree (default true);
                           false: always forwarding, BPDUs dropped
  rstp_port_priority=N     0-240, a multiple of 16 (default 128)
  rstp_path_cost=N         1-200000000 (default 20000, 802.1D-2004 for 1 Gbit/s)
  rstp_admin_edge=BOOL     an edge port (no bridge behind it) from the start (default false)
  rstp_auto_edge=BOOL      become edge when no BPDU is heard (default true)

Policing (any port type; as Open vSwitch's columns of the same names):
  ingress_policing_rate=KBPS   drop received frames over KBPS kbit/s (1 kbit = 1000 bits),
                               counted as 'policed'; 0 (default) = off
  ingress_policing_burst=KBITS bucket size in kbit; 0 = the default, 8000; never below
                               the port's largest frame (MTU + 18 bytes)
  egress_policing_rate=KBPS    the same for frames the port sends ('tx-policed')
  egress_policing_burst=KBITS  as ingress_policing_burst

Bonds (add-bond, or set port BOND; only on a bond):
",
    bond_keys_help!(),
    "

A contradictory combination (vlan_mode=access with trunks, a native mode or
vlan_mode=access without tag, vlan_mode=trunk with tag, a key of another port
type, bond_mode=balance-tcp with lacp=off) is refused."
);

/// What `add-bond` takes; shown by `add-bond --help`.
const ADD_BOND_HELP: &str = concat!(
    "\
Members are existing system devices: 2-32 distinct names, none of them a port
or a member of another bond, listed before the first KEY=VALUE. The bond is one
port of BR; del-port BOND removes it and releases its members (the devices are
left as they are).

Bond keys (KEY=VALUE):
",
    bond_keys_help!(),
    "

bond_mode=balance-tcp needs lacp=active or passive. Any other port key that
applies to a bond may be given too: tag, trunks, vlan_mode, mtu and the rstp_*
keys (see 'switchctl add-port --help'). 'switchctl set port BOND KEY=VALUE...'
changes them later."
);

/// What `bond-show` prints; shown by `bond-show --help`.
const BOND_SHOW_HELP: &str = "\
Like 'ovs-appctl bond/show': per bond its bridge, bond_mode, lacp and
lacp_status (off, configured: LACP on but no partner in sync, negotiated,
fallback: no partner and lacp_fallback_ab=true), the time to the next
rebalance (balanced modes) and the active member; per member whether it is
enabled, may_enable (usable before the up/down delays), carrier, bytes sent
and, in balanced modes, its hash buckets (0-255).

With --json: {\"bonds\":[{\"bond\",\"bridge\",\"bond_mode\",\"lacp\",\"lacp_status\",
\"active_member\",\"next_rebalance_ms\",\"members\":[{\"member\",\"enabled\",
\"carrier\",\"may_enable\",\"tx_bytes\",\"buckets\"}]}]}";

/// What `lacp-show` prints; shown by `lacp-show --help`.
const LACP_SHOW_HELP: &str = "\
Like 'ovs-appctl lacp/show': per bond its LACP status, this side's system id
(the bridge MAC), system priority and aggregation key, the partner's (none
before a LACPDU is heard); per member its status (current, expired or
defaulted), whether it is attached, the actor and partner state flags
(activity, timeout, aggregation, synchronized, collecting, distributing,
defaulted, expired) and LACPDUs received and sent.

With --json: {\"bonds\":[{\"bond\",\"status\",\"actor\":{\"system_id\",
\"system_priority\",\"key\"},\"partner\":{...}|null,\"members\":[{\"member\",
\"actor_state\":[...],\"partner_state\":[...],\"rx_lacpdus\",\"tx_lacpdus\"}]}]};
a state lists the names of the flags that are set, \"synchronization\" for
synchronized.";

/// Every bridge key with its range and default; shown by `set bridge --help`.
const BRIDGE_KEYS_HELP: &str = "\
Bridge keys (KEY=VALUE):
  mac_aging=SECS       seconds a learned MAC lives without traffic, 1-86400 (default 300)
  mac_table_size=N     most MAC entries the bridge holds, 16-1000000 (default 8192);
                       when full, the oldest entry of the port with the most entries goes

Spanning tree (RSTP, 802.1D-2004; hello time fixed at 2 s):
  rstp=BOOL                        run RSTP on the bridge, true or false (default false)
  rstp_priority=N                  0-61440, a multiple of 4096 (default 32768)
  rstp_max_age=SECS                6-40 (default 20)
  rstp_forward_delay=SECS          4-30 (default 15)
  rstp_transmit_hold_count=N       BPDUs per hello time, 1-10 (default 6)
  rstp_force_protocol_version=V    0 = send 802.1D STP BPDUs only, 2 = RSTP (default 2)

The timers must satisfy 2*(rstp_forward_delay-1) >= rstp_max_age >= 2*(2+1);
values given in one command are checked together.

OpenFlow (controllers: see 'switchctl set-controller --help'):
  fail_mode=MODE      standalone (default): after 15 s without a message from any
                      controller, forward as a learning switch (NORMAL) until one
                      is heard again, the flow table kept; secure: never
  protocols=LIST      OpenFlow versions offered to controllers, comma-separated in
                      any order: OpenFlow13, OpenFlow10 (default OpenFlow13,OpenFlow10)
  datapath_id=HEX16   exactly 16 hex digits, not all zero, e.g. 0000020000000001
                      (default: from the bridge MAC; show prints the one in force)

sFlow and IPFIX keys (SPEC §11; in a set bridge of their own, all or nothing;
'switchctl clear bridge BR sflow|ipfix' turns an exporter off):
  sflow_targets=IP:PORT,...    collectors (port 6343 if omitted); sFlow is on while set
  sflow_sampling=N             1-in-N ingress packet sampling (default 400)
  sflow_polling=S              counter samples every S seconds, 0 = none (default 30)
  sflow_header=BYTES           bytes of each sampled frame, 4-256 (default 128)
  sflow_agent=IP               agent address (default: the source the kernel picks)
  ipfix_targets=IP:PORT,...    collectors (port 4739 if omitted); IPFIX is on while set
  ipfix_sampling=N             1-in-N packets, 1-1000000000 (default 1: every packet)
  ipfix_obs_domain_id=N        observation domain id (default 0)
  ipfix_active_timeout=S       export long flows every S seconds (default 60)
  ipfix_cache_max_flows=N      flows held before the oldest is exported (default 1024)";

/// The mirror keys; shown by `add-mirror --help`.
const ADD_MIRROR_HELP: &str = "\
Keys (as Open vSwitch's Mirror table):
  select_all=true       every frame of the bridge
  select_src_port=P,... frames received on these ports
  select_dst_port=P,... frames sent on these ports
  select_vlan=V,...     only frames of these VLANs (alone: every frame of them)
  output_port=P         SPAN: copies to port P, which then carries only mirror
                        traffic (nothing is learned from it or flooded to it)
  output_vlan=V         RSPAN: copies to every port of VLAN V, tagged V; frames
                        received in VLAN V are never learned
The selectors are a union; each frame is copied once per mirror. Copies carry
the frame's VLAN as an 802.1Q tag (none for VLAN 0). At most 32 mirrors per bridge.

Examples:
  switchctl add-mirror br0 m1 select_src_port=vm1 select_dst_port=vm1 output_port=tap9
  switchctl add-mirror br0 m2 select_vlan=10 output_vlan=999";

/// The trace command's packet syntax; shown by `trace --help`.
const TRACE_HELP: &str = "\
The packet is given as flow-syntax fields (see 'switchctl add-flow --help'):
in_port=PORT is required, fields not given are zero. It is made into a frame
and walked through the bridge without being sent: the ingress port's spanning
tree state, each flow table lookup with the flow that matched, NORMAL's VLAN
classification and decision, each egress port with its tag edit, or the drop
reason. Nothing is learned and no counter changes.

Examples:
  switchctl trace br0 in_port=vm1 dl_src=02:00:00:00:00:01 dl_dst=02:00:00:00:00:02
  switchctl trace br0 in_port=eth1,dl_vlan=10,tcp,nw_dst=10.0.0.2,tp_dst=22
  switchctl --json trace br0 in_port=1 dl_dst=ff:ff:ff:ff:ff:ff";

/// The controller targets; shown by `set-controller --help`.
const SET_CONTROLLER_HELP: &str = "\
Targets (1-8, each once; they replace the bridge's previous targets):
  tcp:IP[:PORT]      connect to a controller; PORT 1-65535 (default 6653);
                     IPv6 in brackets: tcp:[::1]:6653; addresses, not host names
  unix:PATH          connect to a controller's Unix socket (an absolute path)
  ptcp:[PORT][:IP]   accept controllers on TCP PORT (default 6653) at address IP
                     (default 127.0.0.1; ptcp:6653:0.0.0.0 for every address)
  punix:PATH         accept controllers on a Unix socket, created with mode 0600

Active targets (tcp:, unix:) are connected to and, after a failure or a lost
connection, tried again after 1 s, doubling to 8 s. A controller that sends
nothing for 5 s gets an echo request; without an answer 5 s later it is
disconnected. With fail_mode=standalone (the default) a bridge that hears from
no controller for 15 s forwards as a learning switch (NORMAL) until one is
heard again; with fail_mode=secure its flow table stays in charge (see
'switchctl set bridge --help'). OpenFlow 1.3 and 1.0 are spoken (protocols=).

Examples:
  switchctl set-controller br0 tcp:127.0.0.1:6653
  switchctl set-controller br0 tcp:192.0.2.10 ptcp:6653
  switchctl set-controller br0 punix:/run/switchd/br0.ctl
  switchctl get-controller br0";

/// What `get-controller` prints; shown by `get-controller --help`.
const GET_CONTROLLER_HELP: &str = "\
One line per target, in the order set-controller gave them: the target in
full (tcp:127.0.0.1:6653), its state (connected, connecting, listening,
backoff), role=equal|master|slave and, once a version was negotiated,
version=OpenFlow13|OpenFlow10; then 'last_error: REASON' when a connection
failed. Without BR: per bridge a line 'bridge BR: fail_mode=MODE' with its
targets indented under it.

With --json: {\"bridges\":[{\"bridge\",\"fail_mode\",\"controllers\":[{\"target\",
\"state\",\"role\",\"version\",\"last_error\"}]}]}; version and last_error are
null when there is none.";

/// What `rstp-show` prints; shown by `rstp-show --help`.
const RSTP_SHOW_HELP: &str = "\
Like 'ovs-appctl rstp/show': per bridge the root's and the bridge's id
(PRIORITY.MAC in hex, with OVS's stp-priority and stp-system-id), the root
port and root path cost, topology changes and MAC table flushes; per port its
role (Root, Designated, Alternate, Backup, Disabled), state (Discarding,
Learning, Forwarding), path cost, port id as priority.number, designated
bridge, whether it is an edge port, BPDUs received and sent, and whether it
speaks RSTP or 802.1D STP. Turn RSTP on with 'switchctl set bridge BR rstp=true'.

With --json: {\"bridges\":[{\"bridge\",\"bridge_id\",\"root_id\",\"root_port\",
\"root_path_cost\",\"topology_changes\",\"ports\":[{\"port\",\"role\",\"state\",
\"path_cost\",\"port_id\",\"designated_bridge\",\"edge\",\"rx_bpdus\",\"tx_bpdus\",
\"protocol\"}],\"fdb_flushes\"}]}";

/// The flow syntax (SPEC §9), shared by the help of the commands that take
/// flows (a macro so that `concat!` can splice it).
macro_rules! flow_syntax_help {
    () => {
        "A flow is ovs-ofctl's syntax: comma-separated fields and match words, then
actions=ACTION,... last. Quote it for the shell. switchd parses it and names
what it refuses.

Flow fields:
  table=N            0-253 (default 0)
  priority=N         0-65535 (default 32768); higher wins
  cookie=V           64-bit number, e.g. 0x10 (default 0)
  idle_timeout=SECS  remove after SECS without a matching packet (default 0: never)
  hard_timeout=SECS  remove SECS after it was added (default 0: never)

Match fields (each at most once; masks as /MASK or CIDR):
  in_port (a port name or its ofport, see 'switchctl show'), dl_src, dl_dst,
  dl_type, dl_vlan (0xffff: untagged), dl_vlan_pcp, vlan_tci, nw_src, nw_dst,
  nw_proto, nw_tos, ip_dscp, nw_ttl, tp_src, tp_dst, tcp_flags, icmp_type,
  icmp_code, arp_op, arp_spa, arp_tpa, arp_sha, arp_tha, ipv6_src, ipv6_dst,
  ipv6_label, icmpv6_type, icmpv6_code, nd_target, tun_id, metadata, reg0-reg7
  Shorthands: eth, ip, ipv6, icmp, icmp6, tcp, tcp6, udp, udp6, sctp, arp.
  A field needs its protocol: tp_dst without tcp, udp or sctp is refused.

Actions, applied in order:
  output:PORT, PORT, normal, flood, all, in_port, drop, controller[:MAX_LEN],
  mod_vlan_vid:V, mod_vlan_pcp:P, strip_vlan, push_vlan:0x8100, pop_vlan,
  mod_dl_src:MAC, mod_dl_dst:MAC, mod_nw_src:IP, mod_nw_dst:IP, mod_nw_tos:TOS,
  mod_tp_src:PORT, mod_tp_dst:PORT, dec_ttl, set_field:VALUE->FIELD,
  load:VALUE->NXM_NX_REGn[], resubmit(,TABLE), goto_table:N, set_tunnel:VNI,
  meter:N, note:..."
    };
}

/// What `add-flow` takes; shown by `add-flow --help`.
const ADD_FLOW_HELP: &str = concat!(
    "\
A flow with the same match and priority as one in the table replaces it: new
actions, counters back to 0. A bridge starts with the one flow
priority=0,actions=NORMAL (the learning switch).

",
    flow_syntax_help!(),
    "

Examples:
  switchctl add-flow br0 \"priority=100,in_port=vm1,tcp,tp_dst=22,actions=drop\"
  switchctl add-flow br0 \"priority=0,actions=NORMAL\"
  switchctl add-flow br0 \"table=0,priority=200,ip,nw_dst=10.0.0.0/8,actions=mod_vlan_vid:10,output:eth1\"
  switchctl add-flow br0 \"in_port=vm1,actions=resubmit(,1)\""
);

/// What `add-flows` reads; shown by `add-flows --help`.
const ADD_FLOWS_HELP: &str = concat!(
    "\
FILE holds one flow per line, as add-flow takes it; '-' reads standard input.
Blank lines and lines starting with # are ignored, and so are the statistics
of dump-flows lines (duration, n_packets, n_bytes, idle_age, hard_age), so a
dump can be fed back. A line switchd refuses is reported as 'line N: reason'
and no flow of FILE is added. At most 4 MiB.

",
    flow_syntax_help!(),
    "

Examples:
  switchctl add-flows br0 flows.txt
  switchctl dump-flows br0 | switchctl add-flows br1 -"
);

/// What `mod-flows` does; shown by `mod-flows --help`.
const MOD_FLOWS_HELP: &str = concat!(
    "\
Gives the actions of FLOW to every flow that FLOW's match selects (in every
table unless FLOW has table=N); with --strict, only to the flow with exactly
FLOW's match and priority.

",
    flow_syntax_help!(),
    "

Examples:
  switchctl mod-flows br0 \"in_port=vm1,actions=normal\"
  switchctl mod-flows br0 --strict \"priority=100,in_port=vm1,tcp,tp_dst=22,actions=output:vm2\""
);

/// What `del-flows` does; shown by `del-flows --help`.
const DEL_FLOWS_HELP: &str = "\
Without MATCH, every flow of every table goes, the default
priority=0,actions=NORMAL too: the bridge then drops every frame until a flow
is added. MATCH selects every flow whose match is at least as specific
(table=N: one table, 255 = all; cookie=V/MASK: by cookie).
With --strict, only the flow with exactly MATCH and its priority (default
32768). Match fields: see 'switchctl add-flow --help'.

Examples:
  switchctl del-flows br0 \"in_port=vm1\"
  switchctl del-flows br0 --strict \"priority=100,in_port=vm1,tcp,tp_dst=22\"
  switchctl del-flows br0 \"cookie=0x10/0xff\"
  switchctl del-flows br0";

/// What `replace-flows` does; shown by `replace-flows --help`.
const REPLACE_FLOWS_HELP: &str = "\
Makes the flow tables exactly the flows of FILE, read as add-flows reads it
('-': standard input), in one step: flows that are not in FILE are deleted,
those of FILE added. If any line is refused ('line N: reason'), nothing changes.
At most 4 MiB. Flow syntax: see 'switchctl add-flow --help'.

Examples:
  switchctl replace-flows br0 flows.txt
  switchctl dump-flows br0 > saved.txt; ...; switchctl replace-flows br0 saved.txt";

/// What `dump-flows` prints; shown by `dump-flows --help`.
const DUMP_FLOWS_HELP: &str = "\
Like 'ovs-ofctl dump-flows': one line per flow, e.g.
 cookie=0x0, duration=3.412s, table=0, n_packets=10, n_bytes=980, idle_age=1, priority=100,tcp,in_port=vm1,tp_dst=22 actions=drop
with idle_timeout= and hard_timeout= when they are set, and priority= left out
when it is the default 32768. The match and actions are in the form add-flow
takes, so the output can be fed to add-flows or replace-flows.

MATCH selects flows as del-flows does (every flow whose match is at least as
specific); --table N or table=N in MATCH: only table N (255: all tables).

With --json: {\"flows\":[{\"table\",\"priority\",\"cookie\",\"match\",\"actions\",
\"n_packets\",\"n_bytes\",\"duration_s\",\"idle_age_s\",\"idle_timeout\",
\"hard_timeout\"}]}; cookie is a hex string (\"0x0\"), duration_s seconds to the
millisecond, idle_age_s whole seconds since a packet last matched.

Examples:
  switchctl dump-flows br0
  switchctl dump-flows br0 \"tcp,in_port=vm1\"
  switchctl dump-flows br0 --table 1 --json";

/// The meter syntax; shown by `add-meter --help` and `mod-meter --help`.
const ADD_METER_HELP: &str = "\
METER is Open vSwitch's meter syntax (ovs-ofctl(8), \"Meter Syntax\"):
  meter=N,(kbps|pktps)[,burst][,stats],bands=type=drop,rate=R[,burst_size=B]
meter=N        1-4294901760
kbps | pktps   the band rates and burst sizes count kbit/s and kbit, or packets/s
               and packets (a frame is charged its Ethernet bytes; a GSO
               super-frame the bytes of the segments it becomes)
burst          the bands give burst_size; without it a band's burst is its rate
               (one second of traffic, as Open vSwitch)
stats          asks for counters (switchd keeps them either way)
bands=         1-8 bands, each type=drop,rate=R[,burst_size=B]; a frame over a
               band's rate is dropped (counted on the band with the highest rate
               it exceeds, and as 'metered' on the ingress port)
Commas and spaces both separate words. A flow uses the meter with
actions=meter:N,... (meter first); del-meter deletes those flows too.

Examples:
  switchctl add-meter br0 meter=1,kbps,bands=type=drop,rate=100000
  switchctl add-meter br0 meter=2,pktps,burst,stats,bands=type=drop,rate=1000,burst_size=100
  switchctl add-flow br0 \"priority=100,udp,in_port=vm1,actions=meter:1,normal\"";

/// What `dump-meters` and `meter-stats` print.
const DUMP_METERS_HELP: &str = "\
dump-meters prints each meter as 'ovs-ofctl dump-meters' does, without its
reply header line:
  meter=1 kbps burst stats bands=
  type=drop rate=10000 burst_size=1000
meter-stats prints the counters as 'ovs-ofctl meter-stats' does:
  meter:1 flow_count:1 packet_in_count:120 byte_in_count:11760 duration:12.345s bands:
  0: packet_count:20 byte_count:1960
packet_in_count is every frame that reached the meter; a band's counts are the
frames it dropped.

With --json (either command): {\"meters\":[{\"meter\",\"unit\",\"burst\",\"stats\",
\"flows\",\"packets\",\"bytes\",\"duration_ms\",\"bands\":[{\"type\",\"rate\",
\"burst_size\",\"packets\",\"bytes\"}]}]}; burst_size is the one in force.";

/// What `capture` does; shown by `capture --help`.
const CAPTURE_HELP: &str = "\
Writes a pcap file (Ethernet link type, read by tcpdump -r and Wireshark) of the
frames PORT receives and/or sends, as switchd sees them: VLAN tags included as
they come in and as they leave, a GSO super-frame as one frame. It runs until
COUNT frames, Ctrl-C or the port's removal, then prints 'N frames captured,
M lost' on stderr. A reader slower than the traffic loses captured frames
(counted as lost), never forwarded ones.

FILTER is a tcpdump expression, the rest of the command line (e.g. icmp,
tcp port 22, vlan 10, not arp); it is compiled by the tcpdump program, which
must then be installed, and applied in switchd before frames are copied out.
A tagged frame needs 'vlan' in the expression to match beyond its tag, as with
tcpdump.

Without -w, or with -w -, the pcap goes to standard output, which must not be
a terminal.

Examples:
  switchctl capture vm1 -w vm1.pcap
  switchctl capture vm1 -c 4 -w - icmp | tcpdump -n -r -
  switchctl capture eth1 --direction out -w out.pcap vlan 10 and tcp port 80";

/// Keys `clear port` removes; shown by `clear --help` and `clear port --help`.
const CLEAR_KEYS_HELP: &str = "\
Keys (clear port):
  tag         remove the access/native VLAN
  trunks      carry all VLANs again
  vlan_mode   back to the default: access if tag is set, else trunk";

const MAIN_AFTER_HELP: &str = "\
Run as 'ovs-vsctl' or 'brctl' (a link of that name), or as 'switchctl ovs-vsctl
...' / 'switchctl brctl ...', switchctl takes those tools' command lines
('switchctl ovs-vsctl --help', 'switchctl brctl --help').
Names of bridges and ports are 1-15 bytes without '/', ':' or whitespace.
Successful changes print nothing. On failure switchctl prints one line
'switchctl: <reason>' on stderr and exits with status 1 (2 for usage errors).
See 'switchctl add-port --help', 'switchctl add-bond --help',
'switchctl set port --help' and 'switchctl set bridge --help' for every
KEY=VALUE with its range and default (VLAN, tunnel, spanning tree, bond and
OpenFlow keys), and 'switchctl add-flow --help' for the flow syntax.
Controller targets (set-controller, 'switchctl set-controller --help'):
tcp:IP[:PORT], unix:PATH, ptcp:[PORT][:IP], punix:PATH; PORT defaults to
6653, the IP of ptcp: to 127.0.0.1.";

/// `switchctl` command line.
#[derive(Debug, Parser)]
#[command(
    name = "switchctl",
    version,
    about = "Configure and inspect switchd, the userspace L2 switch",
    after_help = MAIN_AFTER_HELP
)]
pub struct Cli {
    /// Control socket of switchd
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = proto::SOCKET_ENV,
        default_value = proto::DEFAULT_SOCKET
    )]
    socket: PathBuf,

    /// Print the reply as JSON on stdout ({} for a change)
    #[arg(long, global = true)]
    json: bool,

    /// Give up after SECS seconds for connect, send and reply together; 0 waits forever
    #[arg(long, global = true, value_name = "SECS", default_value_t = 30)]
    timeout: u64,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a bridge
    AddBr {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// Do not fail if the bridge already exists
        #[arg(long)]
        may_exist: bool,
    },
    /// Delete a bridge and all its ports
    DelBr {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// Do not fail if the bridge does not exist
        #[arg(long)]
        if_exists: bool,
    },
    /// List bridges, one per line
    ListBr,
    /// Add a port to a bridge
    #[command(after_help = PORT_KEYS_HELP)]
    AddPort {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// Port name (the device name for system and tap ports)
        #[arg(value_name = "PORT")]
        port: IfName,
        /// Port settings, including type=...; see the list below
        #[arg(value_name = "KEY=VALUE")]
        settings: Vec<PortSetting>,
        /// Do not fail if the port already exists on this bridge (it is left as it is)
        #[arg(long)]
        may_exist: bool,
    },
    /// Add a bond: one port of BR made of two or more existing devices
    #[command(
        override_usage = "switchctl add-bond BR BOND IFACE IFACE... [KEY=VALUE...] [--may-exist]",
        after_help = ADD_BOND_HELP
    )]
    AddBond {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// Bond (port) name
        #[arg(value_name = "BOND")]
        bond: IfName,
        /// Member devices (at least two), then settings; see the list below
        #[arg(value_name = "IFACE|KEY=VALUE", value_parser = bond_word)]
        words: Vec<BondWord>,
        /// Do not fail if the bond already exists on this bridge (it is left as it is)
        #[arg(long)]
        may_exist: bool,
    },
    /// Remove a port or a bond (from BR, if given, which must be its bridge)
    #[command(allow_missing_positional = true)]
    DelPort {
        /// Bridge the port must belong to
        #[arg(value_name = "BR")]
        bridge: Option<IfName>,
        /// Port name
        #[arg(value_name = "PORT")]
        port: IfName,
        /// Do not fail if the port does not exist
        #[arg(long)]
        if_exists: bool,
    },
    /// List the ports of a bridge, one per line
    ListPorts {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
    },
    /// Change settings: set port PORT KEY=VALUE... | set bridge BR KEY=VALUE...
    #[command(
        subcommand_value_name = "TABLE",
        subcommand_help_heading = "Tables",
        after_help = "Run 'switchctl set port --help' or 'switchctl set bridge --help' for the keys."
    )]
    Set {
        #[command(subcommand)]
        table: SetTable,
    },
    /// Remove port settings: clear port PORT tag|trunks|vlan_mode...
    #[command(
        subcommand_value_name = "TABLE",
        subcommand_help_heading = "Tables",
        after_help = CLEAR_KEYS_HELP
    )]
    Clear {
        #[command(subcommand)]
        table: ClearTable,
    },
    /// Show every bridge with its ports, VLAN configuration and state
    Show,
    /// Replace the running switchd with the switchd binary on disk now, in the
    /// same process, keeping every port open (for upgrades under running VMs).
    /// The new binary is first run in a check mode; if it fails, nothing
    /// changes and its reason is printed. MAC tables are relearned.
    Restart,
    /// Show the MAC table of a bridge, oldest entry first
    FdbShow {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
    },
    /// Forget learned MACs of one bridge, or of all bridges
    FdbFlush {
        /// Bridge name (default: all bridges)
        #[arg(value_name = "BR")]
        bridge: Option<IfName>,
    },
    /// Show per-port packet, byte, drop and error counters
    PortStats {
        /// Bridge name (default: all bridges)
        #[arg(value_name = "BR")]
        bridge: Option<IfName>,
    },
    /// Show the spanning tree (RSTP) state: root, roles, states, BPDUs per port
    #[command(after_help = RSTP_SHOW_HELP)]
    RstpShow {
        /// Bridge name (default: every bridge that runs RSTP)
        #[arg(value_name = "BR")]
        bridge: Option<IfName>,
    },
    /// Show bonds: mode, LACP status, active member, members and their hash buckets
    #[command(after_help = BOND_SHOW_HELP)]
    BondShow {
        /// Bond name (default: every bond)
        #[arg(value_name = "BOND")]
        bond: Option<IfName>,
    },
    /// Show the LACP state of bonds: system ids, keys, actor and partner state per member
    #[command(after_help = LACP_SHOW_HELP)]
    LacpShow {
        /// Bond name (default: every bond that runs LACP)
        #[arg(value_name = "BOND")]
        bond: Option<IfName>,
    },
    /// Add a flow to a bridge's flow tables (or replace the one with the same match and priority)
    #[command(after_help = ADD_FLOW_HELP)]
    AddFlow {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// The flow, e.g. "priority=100,in_port=vm1,tcp,tp_dst=22,actions=drop"
        #[arg(value_name = "FLOW")]
        flow: String,
    },
    /// Add the flows of FILE (one per line; '-' for standard input)
    #[command(after_help = ADD_FLOWS_HELP)]
    AddFlows {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// File of flows, or '-' for standard input
        #[arg(value_name = "FILE|-")]
        file: PathBuf,
    },
    /// Change the actions of the flows FLOW's match selects
    #[command(after_help = MOD_FLOWS_HELP)]
    ModFlows {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// Match and new actions, e.g. "in_port=vm1,actions=normal"
        #[arg(value_name = "FLOW")]
        flow: String,
        /// Only the flow with exactly this match and priority
        #[arg(long)]
        strict: bool,
    },
    /// Delete the flows MATCH selects (every flow without MATCH)
    #[command(after_help = DEL_FLOWS_HELP)]
    DelFlows {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// Which flows, e.g. "in_port=vm1" (default: all)
        #[arg(value_name = "MATCH")]
        filter: Option<String>,
        /// Only the flow with exactly this match and priority
        #[arg(long)]
        strict: bool,
    },
    /// Make the flow tables exactly the flows of FILE, atomically ('-' for standard input)
    #[command(after_help = REPLACE_FLOWS_HELP)]
    ReplaceFlows {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// File of flows, or '-' for standard input
        #[arg(value_name = "FILE|-")]
        file: PathBuf,
    },
    /// Show the flows of a bridge with their counters, as ovs-ofctl dump-flows
    #[command(after_help = DUMP_FLOWS_HELP)]
    DumpFlows {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// Which flows, e.g. "tcp,in_port=vm1" (default: all)
        #[arg(value_name = "MATCH")]
        filter: Option<String>,
        /// Only table N, 0-253 (255: all tables)
        #[arg(long, value_name = "N", value_parser = flow_table)]
        table: Option<u8>,
    },
    /// Add an OpenFlow meter (rate limit used by a flow's meter:N action), as ovs-ofctl add-meter
    #[command(after_help = ADD_METER_HELP)]
    AddMeter {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// The meter, e.g. "meter=1,kbps,bands=type=drop,rate=10000" (words may also be separate arguments)
        #[arg(value_name = "METER", required = true)]
        meter: Vec<String>,
    },
    /// Change the flags and bands of an existing meter, as ovs-ofctl mod-meter
    #[command(after_help = ADD_METER_HELP)]
    ModMeter {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// The meter, as add-meter takes it
        #[arg(value_name = "METER", required = true)]
        meter: Vec<String>,
    },
    /// Delete a meter and the flows that use it (every meter without METER)
    DelMeter {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// meter=N or meter=all (default: all)
        #[arg(value_name = "METER")]
        meter: Option<String>,
    },
    /// Show the meters of a bridge, as ovs-ofctl dump-meters (counters with --json)
    #[command(after_help = DUMP_METERS_HELP)]
    DumpMeters {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// meter=N (default: all)
        #[arg(value_name = "METER")]
        meter: Option<String>,
    },
    /// Show the counters of the meters of a bridge, as ovs-ofctl meter-stats
    #[command(after_help = DUMP_METERS_HELP)]
    MeterStats {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// meter=N (default: all)
        #[arg(value_name = "METER")]
        meter: Option<String>,
    },
    /// Add a mirror: copies of the frames it selects go to a port or a VLAN
    #[command(after_help = ADD_MIRROR_HELP)]
    AddMirror {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// Mirror name
        #[arg(value_name = "NAME")]
        mirror: IfName,
        /// select_all=true, select_src_port=P,..., select_dst_port=P,..., select_vlan=V,...,
        /// and output_port=P or output_vlan=V
        #[arg(value_name = "KEY=VALUE", required = true)]
        settings: Vec<String>,
    },
    /// Remove a mirror
    DelMirror {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// Mirror name
        #[arg(value_name = "NAME")]
        mirror: IfName,
    },
    /// List the mirrors of one bridge or of all, with the copies each sent
    ListMirrors {
        /// Bridge name (default: all bridges)
        #[arg(value_name = "BR")]
        bridge: Option<IfName>,
    },
    /// Show the path a described packet takes through a bridge (like ovs-appctl ofproto/trace)
    #[command(after_help = TRACE_HELP)]
    Trace {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// The packet: in_port=P and any FIELD=VALUE of the flow syntax
        /// (also as one comma-separated argument)
        #[arg(value_name = "FIELD=VALUE", required = true)]
        fields: Vec<String>,
    },
    /// Make TARGETs the OpenFlow controllers of a bridge, replacing any it had
    #[command(after_help = SET_CONTROLLER_HELP)]
    SetController {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// tcp:IP[:PORT], unix:PATH, ptcp:[PORT][:IP] or punix:PATH; see below
        #[arg(value_name = "TARGET", required = true)]
        targets: Vec<ControllerTarget>,
    },
    /// Remove every OpenFlow controller of a bridge
    DelController {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
    },
    /// Show the OpenFlow controllers of a bridge with their state (connected, role, version)
    #[command(after_help = GET_CONTROLLER_HELP)]
    GetController {
        /// Bridge name (default: every bridge)
        #[arg(value_name = "BR")]
        bridge: Option<IfName>,
    },
    /// Capture the frames of a port to a pcap file, like tcpdump -w
    #[command(after_help = CAPTURE_HELP)]
    Capture {
        /// Port name
        #[arg(value_name = "PORT")]
        port: IfName,
        /// Write the pcap to FILE; '-' (the default) is standard output
        #[arg(short = 'w', value_name = "FILE|-")]
        write: Option<PathBuf>,
        /// Frames the port receives (in), sends (out) or both
        #[arg(long, short = 'Q', value_name = "in|out|both", default_value = "both")]
        direction: CaptureDirection,
        /// Stop after COUNT frames
        #[arg(short = 'c', value_name = "COUNT", value_parser = clap::value_parser!(u64).range(1..))]
        count: Option<u64>,
        /// Bytes kept of each frame, 1-262144; 0 means 262144 (the default)
        #[arg(
            short = 's',
            value_name = "SNAPLEN",
            default_value_t = SNAPLEN_MAX,
            value_parser = clap::value_parser!(u32).range(0..=i64::from(SNAPLEN_MAX))
        )]
        snaplen: u32,
        /// tcpdump filter expression: the rest of the command line
        #[arg(value_name = "FILTER", trailing_var_arg = true, num_args = 0..)]
        filter: Vec<String>,
    },
}

/// `--table N` of `dump-flows`: a table number, checked as the daemon does.
fn flow_table(s: &str) -> Result<u8, InvalidValue> {
    let n = s.parse().map_err(|_| {
        InvalidValue(format!(
            "table {s:?} is not a number (tables are 0-253; 255 means all tables)"
        ))
    })?;
    check_dump_table(n)?;
    Ok(n)
}

/// One word after `add-bond BR BOND`: a member device, or (having a `=`) a
/// setting.
#[derive(Debug, Clone)]
enum BondWord {
    Member(IfName),
    Setting(PortSetting),
}

fn bond_word(s: &str) -> Result<BondWord, InvalidValue> {
    if s.contains('=') {
        s.parse().map(BondWord::Setting)
    } else {
        s.parse().map(BondWord::Member)
    }
}

#[derive(Debug, Subcommand)]
enum SetTable {
    /// Change settings of a port; all or nothing
    #[command(after_help = PORT_KEYS_HELP)]
    Port {
        /// Port name
        #[arg(value_name = "PORT")]
        port: IfName,
        /// Settings; see the list below
        #[arg(value_name = "KEY=VALUE", required = true)]
        settings: Vec<PortSetting>,
    },
    /// Change settings of a bridge; all or nothing
    #[command(after_help = BRIDGE_KEYS_HELP)]
    Bridge {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// Settings; see the list below
        #[arg(value_name = "KEY=VALUE", required = true)]
        settings: Vec<BridgeWord>,
    },
    /// Any other word: reported as an unknown table (clap would say "subcommand")
    #[command(external_subcommand)]
    Unknown(Vec<OsString>),
}

/// One `set bridge` word: a bridge setting, or an sFlow/IPFIX one (whose
/// value the daemon checks).
#[derive(Debug, Clone)]
enum BridgeWord {
    Setting(BridgeSetting),
    Export(proto::ExportSetting),
}

impl std::str::FromStr for BridgeWord {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = s.split_once('=').map_or(s, |(k, _)| k);
        if proto::ExportSetting::is_key(key) {
            s.parse().map(BridgeWord::Export)
        } else {
            s.parse().map(BridgeWord::Setting)
        }
    }
}

#[derive(Debug, Subcommand)]
enum ClearTable {
    /// Remove settings of a port; all or nothing
    #[command(after_help = CLEAR_KEYS_HELP)]
    Port {
        /// Port name
        #[arg(value_name = "PORT")]
        port: IfName,
        /// Keys to remove: tag, trunks, vlan_mode
        #[arg(value_name = "KEY", required = true)]
        keys: Vec<ClearKey>,
    },
    /// Remove a bridge's sFlow or IPFIX configuration
    Bridge {
        /// Bridge name
        #[arg(value_name = "BR")]
        bridge: IfName,
        /// sflow and/or ipfix
        #[arg(value_name = "sflow|ipfix", required = true)]
        keys: Vec<proto::BridgeClearKey>,
    },
    /// Any other word: reported as an unknown table
    #[command(external_subcommand)]
    Unknown(Vec<OsString>),
}

/// What one run of `switchctl` does: where to send which request, and how to
/// print the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Control socket path (`--socket`, else `SWITCHD_SOCKET`, else the default).
    pub socket: PathBuf,
    /// `--json`: print the reply as JSON.
    pub json: bool,
    /// `--timeout`; `None` waits forever (`--timeout 0`).
    pub timeout: Option<Duration>,
    /// The request to send.
    pub request: Request,
    /// `add-flows` / `replace-flows`: where the request's flow text is read
    /// from (with [`crate::input::read_text`]) before it is sent; the text
    /// is empty until then. Reading is left to the caller so that parsing
    /// does no I/O.
    pub text_source: Option<TextSource>,
    /// `capture`: where the pcap goes and the filter to compile into the
    /// request (which has none until then; compiling runs tcpdump, so it
    /// is left to the caller too).
    pub capture: Option<CaptureArgs>,
    /// `meter-stats`: the meters' reply is printed as counters, the
    /// way `ovs-ofctl meter-stats` does, rather than as `dump-meters`.
    pub meter_stats: bool,
}

/// What `capture` needs besides its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureArgs {
    /// `-w FILE`; `None` for standard output (`-w -` or no `-w`).
    pub file: Option<PathBuf>,
    /// The tcpdump expression (FILTER words joined with spaces), if any.
    pub filter: Option<String>,
}

/// Parses a full command line (including the program name) into an
/// [`Invocation`].
///
/// # Errors
///
/// A clap error for usage errors, bad names and bad `KEY=VALUE`s (its message
/// contains proto's reason), and also for `--help`/`--version`; the caller
/// ends the process with [`clap::Error::exit`].
pub fn parse_request<I, T>(args: I) -> Result<Invocation, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    Cli::try_parse_from(args)?.into_invocation()
}

impl Cli {
    /// Converts the parsed command line into an [`Invocation`], checking what
    /// clap cannot: unknown tables and contradictory `add-port` settings.
    ///
    /// # Errors
    ///
    /// A clap usage error naming the offending word or combination.
    pub fn into_invocation(self) -> Result<Invocation, clap::Error> {
        let mut text_source = None;
        let mut capture = None;
        let mut meter_stats = false;
        let request = match self.command {
            Command::AddBr { bridge, may_exist } => Request::AddBr { bridge, may_exist },
            Command::DelBr { bridge, if_exists } => Request::DelBr { bridge, if_exists },
            Command::ListBr => Request::ListBr,
            Command::AddPort {
                bridge,
                port,
                settings,
                may_exist,
            } => {
                // The whole configuration of a new port is known here, so a
                // contradiction is refused without asking the daemon.
                PortConfig::from_settings(&settings).map_err(|e| {
                    usage_error(
                        &["add-port"],
                        ErrorKind::ValueValidation,
                        format!("add-port {port}: {e}"),
                    )
                })?;
                Request::AddPort {
                    bridge,
                    port,
                    settings,
                    may_exist,
                    missing_ok: false,
                }
            }
            Command::AddBond {
                bridge,
                bond,
                words,
                may_exist,
            } => {
                let (members, settings) = split_bond_words(&bond, words)?;
                // As for add-port: the whole bond is known here.
                PortConfig::for_bond(&bond, &members, &settings).map_err(|e| {
                    usage_error(
                        &["add-bond"],
                        ErrorKind::ValueValidation,
                        format!("add-bond {bond}: {e}"),
                    )
                })?;
                Request::AddBond {
                    bridge,
                    bond,
                    members,
                    settings,
                    may_exist,
                }
            }
            Command::DelPort {
                bridge,
                port,
                if_exists,
            } => Request::DelPort {
                bridge,
                port,
                if_exists,
            },
            Command::ListPorts { bridge } => Request::ListPorts { bridge },
            Command::Set { table } => match table {
                SetTable::Port { port, settings } => Request::SetPort { port, settings },
                SetTable::Bridge { bridge, settings } => {
                    let (mut plain, mut export) = (Vec::new(), Vec::new());
                    for w in settings {
                        match w {
                            BridgeWord::Setting(s) => plain.push(s),
                            BridgeWord::Export(e) => export.push(e),
                        }
                    }
                    if !plain.is_empty() && !export.is_empty() {
                        return Err(usage_error(
                            &["set", "bridge"],
                            ErrorKind::ArgumentConflict,
                            format!(
                                "set bridge {bridge}: give sflow_*/ipfix_* keys in a set bridge of their own \
                                 (they are applied together, all or nothing)"
                            ),
                        ));
                    }
                    if export.is_empty() {
                        check_rstp_timers(&bridge, &plain)?;
                        Request::SetBridge {
                            bridge,
                            settings: plain,
                        }
                    } else {
                        Request::SetExport {
                            bridge,
                            settings: export,
                        }
                    }
                }
                SetTable::Unknown(words) => return Err(unknown_table("set", &words, "port, bridge")),
            },
            Command::Clear { table } => match table {
                ClearTable::Port { port, keys } => Request::ClearPort { port, keys },
                ClearTable::Bridge { bridge, keys } => Request::ClearBridge { bridge, keys },
                ClearTable::Unknown(words) => return Err(unknown_table("clear", &words, "port, bridge")),
            },
            Command::Show => Request::Show,
            Command::Restart => Request::Restart,
            Command::FdbShow { bridge } => Request::FdbShow { bridge },
            Command::FdbFlush { bridge } => Request::FdbFlush { bridge },
            Command::PortStats { bridge } => Request::PortStats { bridge },
            Command::RstpShow { bridge } => Request::RstpShow { bridge },
            Command::BondShow { bond } => Request::BondShow { bond },
            Command::LacpShow { bond } => Request::LacpShow { bond },
            Command::AddFlow { bridge, flow } => Request::AddFlow { bridge, flow },
            Command::AddFlows { bridge, file } => {
                text_source = Some(TextSource::from_arg(file));
                Request::AddFlows {
                    bridge,
                    text: String::new(),
                }
            }
            Command::ModFlows { bridge, flow, strict } => Request::ModFlows { bridge, flow, strict },
            Command::DelFlows {
                bridge,
                filter,
                strict,
            } => Request::DelFlows {
                bridge,
                filter,
                strict,
            },
            Command::ReplaceFlows { bridge, file } => {
                text_source = Some(TextSource::from_arg(file));
                Request::ReplaceFlows {
                    bridge,
                    text: String::new(),
                }
            }
            Command::DumpFlows {
                bridge,
                filter,
                table,
            } => Request::DumpFlows {
                bridge,
                filter,
                table,
            },
            Command::AddMeter { bridge, meter } => Request::AddMeter {
                bridge,
                meter: meter.join(" "),
            },
            Command::ModMeter { bridge, meter } => Request::ModMeter {
                bridge,
                meter: meter.join(" "),
            },
            Command::DelMeter { bridge, meter } => Request::DelMeter { bridge, meter },
            Command::DumpMeters { bridge, meter } => Request::DumpMeters { bridge, meter },
            Command::MeterStats { bridge, meter } => {
                meter_stats = true;
                Request::DumpMeters { bridge, meter }
            }
            Command::AddMirror {
                bridge,
                mirror,
                settings,
            } => {
                let config = proto::MirrorConfig::from_words(&settings).map_err(|e| {
                    usage_error(
                        &["add-mirror"],
                        ErrorKind::ValueValidation,
                        format!("add-mirror {mirror}: {e}"),
                    )
                })?;
                Request::AddMirror {
                    bridge,
                    mirror,
                    config,
                }
            }
            Command::DelMirror { bridge, mirror } => Request::DelMirror { bridge, mirror },
            Command::ListMirrors { bridge } => Request::ListMirrors { bridge },
            Command::Trace { bridge, fields } => Request::Trace {
                bridge,
                packet: fields.join(","),
            },
            Command::SetController { bridge, targets } => {
                // Duplicates and the count do not depend on the daemon.
                ControllerTarget::check_set(&targets).map_err(|e| {
                    usage_error(
                        &["set-controller"],
                        ErrorKind::ValueValidation,
                        format!("set-controller {bridge}: {e}"),
                    )
                })?;
                Request::SetController { bridge, targets }
            }
            Command::DelController { bridge } => Request::DelController { bridge },
            Command::GetController { bridge } => Request::GetController { bridge },
            Command::Capture {
                port,
                write,
                direction,
                count,
                snaplen,
                filter,
            } => {
                if self.json {
                    return Err(usage_error(
                        &["capture"],
                        ErrorKind::ArgumentConflict,
                        "capture writes a pcap file: --json does not apply".into(),
                    ));
                }
                let filter = filter.join(" ");
                capture = Some(CaptureArgs {
                    file: write.filter(|w| w.as_os_str() != "-"),
                    filter: (!filter.trim().is_empty()).then_some(filter),
                });
                Request::Capture {
                    port,
                    direction,
                    // tcpdump's -s 0: the largest.
                    snaplen: if snaplen == 0 { SNAPLEN_MAX } else { snaplen },
                    count,
                    filter: None,
                }
            }
        };
        // The value parsers already enforce every range; this is the same
        // check the daemon runs after decoding, kept so the two cannot drift.
        request
            .validate()
            .map_err(|e| usage_error(&[], ErrorKind::ValueValidation, e.to_string()))?;
        Ok(Invocation {
            socket: self.socket,
            json: self.json,
            timeout: (self.timeout > 0).then(|| Duration::from_secs(self.timeout)),
            request,
            text_source,
            capture,
            meter_stats,
        })
    }
}

/// A usage error rendered like clap's own, with the usage of the subcommand
/// at `path` (e.g. `["set"]`).
fn usage_error(path: &[&str], kind: ErrorKind, message: String) -> clap::Error {
    let mut cmd = Cli::command();
    // build() gives subcommands their full name ("switchctl set") for the usage line.
    cmd.build();
    for name in path {
        if let Some(sub) = cmd.find_subcommand(name) {
            cmd = sub.clone();
        }
    }
    cmd.error(kind, message)
}

/// When one `set bridge` gives both `rstp_max_age` and
/// `rstp_forward_delay`, whether they fit together does not depend on the
/// bridge's current values, so a misfit is refused here as the daemon would
/// refuse it. With only one of them given, only the daemon knows the other.
fn check_rstp_timers(bridge: &IfName, settings: &[BridgeSetting]) -> Result<(), clap::Error> {
    let gives = |f: fn(&BridgeSetting) -> bool| settings.iter().any(f);
    if !gives(|s| matches!(s, BridgeSetting::RstpMaxAge(_)))
        || !gives(|s| matches!(s, BridgeSetting::RstpForwardDelay(_)))
    {
        return Ok(());
    }
    let mut rstp = RstpBridgeConfig::default();
    settings.iter().for_each(|s| rstp.apply(s));
    rstp.check().map_err(|e| {
        usage_error(
            &["set", "bridge"],
            ErrorKind::ValueValidation,
            format!("set bridge {bridge}: {e}"),
        )
    })
}

/// Splits `add-bond`'s words as `ovs-vsctl add-bond` does: members until the
/// first `KEY=VALUE`, settings from there on. A word without `=` after a
/// setting, or fewer than two members, is a usage error.
fn split_bond_words(
    bond: &IfName,
    words: Vec<BondWord>,
) -> Result<(Vec<IfName>, Vec<PortSetting>), clap::Error> {
    let mut members = Vec::new();
    let mut settings = Vec::new();
    for w in words {
        match w {
            BondWord::Member(m) if settings.is_empty() => members.push(m),
            BondWord::Member(m) => {
                return Err(usage_error(
                    &["add-bond"],
                    ErrorKind::ValueValidation,
                    format!(
                        "add-bond {bond}: {:?} is not of the form KEY=VALUE (member devices come before the settings)",
                        m.as_str()
                    ),
                ))
            }
            BondWord::Setting(s) => settings.push(s),
        }
    }
    if members.len() < BOND_MEMBERS_MIN {
        return Err(usage_error(
            &["add-bond"],
            ErrorKind::TooFewValues,
            format!(
                "add-bond {bond}: a bond needs at least {BOND_MEMBERS_MIN} member devices, got {}; \
                 usage: add-bond BR BOND IFACE IFACE... [KEY=VALUE...]",
                members.len()
            ),
        ));
    }
    Ok((members, settings))
}

fn unknown_table(command: &str, words: &[OsString], known: &str) -> clap::Error {
    let table = words.first().map(|w| w.to_string_lossy()).unwrap_or_default();
    usage_error(
        &[command],
        ErrorKind::InvalidSubcommand,
        format!("unknown table {table:?} for '{command}' (known: {known})"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::{BondMode, LacpMode, LacpTime, PortType, VlanId};

    fn parse(args: &[&str]) -> Result<Invocation, clap::Error> {
        parse_request(std::iter::once("switchctl").chain(args.iter().copied()))
    }

    fn req(args: &[&str]) -> Request {
        match parse(args) {
            Ok(inv) => inv.request,
            Err(e) => panic!("{args:?} refused: {e}"),
        }
    }

    /// The rendered error; panics if the command line was accepted.
    fn refused(args: &[&str]) -> (ErrorKind, String) {
        match parse(args) {
            Ok(inv) => panic!("{args:?} accepted as {:?}", inv.request),
            Err(e) => (e.kind(), e.render().to_string()),
        }
    }

    fn name(s: &str) -> IfName {
        s.parse().unwrap()
    }

    fn setting(s: &str) -> PortSetting {
        s.parse().unwrap()
    }

    #[test]
    fn bridge_commands() {
        assert_eq!(
            req(&["add-br", "br0"]),
            Request::AddBr {
                bridge: name("br0"),
                may_exist: false
            }
        );
        assert_eq!(
            req(&["add-br", "--may-exist", "br0"]),
            Request::AddBr {
                bridge: name("br0"),
                may_exist: true
            }
        );
        assert_eq!(
            req(&["del-br", "br0", "--if-exists"]),
            Request::DelBr {
                bridge: name("br0"),
                if_exists: true
            }
        );
        assert_eq!(
            req(&["del-br", "br0"]),
            Request::DelBr {
                bridge: name("br0"),
                if_exists: false
            }
        );
        assert_eq!(req(&["list-br"]), Request::ListBr);
        assert_eq!(
            req(&["list-ports", "br0"]),
            Request::ListPorts { bridge: name("br0") }
        );
    }

    #[test]
    fn add_port_with_settings_and_flag_anywhere() {
        assert_eq!(
            req(&["add-port", "br0", "eth1"]),
            Request::AddPort {
                bridge: name("br0"),
                port: name("eth1"),
                settings: vec![],
                may_exist: false,
                missing_ok: false
            }
        );
        assert_eq!(
            req(&[
                "add-port",
                "br0",
                "vx0",
                "type=vxlan",
                "remote_ip=192.0.2.1",
                "key=5000",
                "--may-exist",
                "dst_port=8472"
            ]),
            Request::AddPort {
                bridge: name("br0"),
                port: name("vx0"),
                settings: vec![
                    PortSetting::Type(PortType::Vxlan),
                    setting("remote_ip=192.0.2.1"),
                    PortSetting::Key(5000),
                    PortSetting::DstPort(8472),
                ],
                may_exist: true,
                missing_ok: false
            }
        );
        assert_eq!(
            req(&["add-port", "br0", "vnet0", "type=tap", "tag=10", "persist=true"]),
            Request::AddPort {
                bridge: name("br0"),
                port: name("vnet0"),
                settings: vec![
                    PortSetting::Type(PortType::Tap),
                    PortSetting::Tag(VlanId::new(10).unwrap()),
                    PortSetting::Persist(true),
                ],
                may_exist: false,
                missing_ok: false
            }
        );
    }

    #[test]
    fn add_port_asks_for_an_ofport() {
        assert_eq!(
            req(&["add-port", "br0", "vm1", "ofport_request=5"]),
            Request::AddPort {
                bridge: name("br0"),
                port: name("vm1"),
                settings: vec![PortSetting::OfportRequest(5)],
                may_exist: false,
                missing_ok: false
            }
        );
        assert_eq!(
            req(&["add-port", "br0", "vm1", "type=tap", "ofport_request=65279"]),
            Request::AddPort {
                bridge: name("br0"),
                port: name("vm1"),
                settings: vec![
                    PortSetting::Type(PortType::Tap),
                    PortSetting::OfportRequest(65279)
                ],
                may_exist: false,
                missing_ok: false
            }
        );
        for (arg, reason) in [
            ("ofport_request=0", "ofport_request: 0 is out of range 1-65279"),
            (
                "ofport_request=65280",
                "ofport_request: 65280 is out of range 1-65279",
            ),
            (
                "ofport_request=LOCAL",
                "ofport_request: \"LOCAL\" is not a number",
            ),
        ] {
            let (kind, msg) = refused(&["add-port", "br0", "vm1", arg]);
            assert_eq!(kind, ErrorKind::ValueValidation, "{arg}");
            assert!(msg.contains(reason), "{arg}: {msg}");
        }
        // set port sends it: whether a number can change is the daemon's call
        assert_eq!(
            req(&["set", "port", "vm1", "ofport_request=9"]),
            Request::SetPort {
                port: name("vm1"),
                settings: vec![PortSetting::OfportRequest(9)],
            }
        );
    }

    #[test]
    fn del_port_with_and_without_bridge() {
        assert_eq!(
            req(&["del-port", "p1"]),
            Request::DelPort {
                bridge: None,
                port: name("p1"),
                if_exists: false
            }
        );
        assert_eq!(
            req(&["del-port", "br0", "p1", "--if-exists"]),
            Request::DelPort {
                bridge: Some(name("br0")),
                port: name("p1"),
                if_exists: true
            }
        );
        assert_eq!(refused(&["del-port"]).0, ErrorKind::MissingRequiredArgument);
        assert_eq!(
            refused(&["del-port", "a", "b", "c"]).0,
            ErrorKind::UnknownArgument
        );
    }

    #[test]
    fn set_and_clear() {
        assert_eq!(
            req(&["set", "port", "vnet0", "tag=10", "trunks=10,20,100-110"]),
            Request::SetPort {
                port: name("vnet0"),
                settings: vec![setting("tag=10"), setting("trunks=10,20,100-110")],
            }
        );
        assert_eq!(
            req(&["set", "bridge", "br0", "mac_aging=60", "mac_table_size=16"]),
            Request::SetBridge {
                bridge: name("br0"),
                settings: vec![BridgeSetting::MacAging(60), BridgeSetting::MacTableSize(16)],
            }
        );
        assert_eq!(
            req(&["clear", "port", "vnet0", "tag", "vlan_mode"]),
            Request::ClearPort {
                port: name("vnet0"),
                keys: vec![ClearKey::Tag, ClearKey::VlanMode],
            }
        );
        // nothing to set or clear is a usage error, not an empty request
        assert_eq!(
            refused(&["set", "port", "p"]).0,
            ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            refused(&["clear", "port", "p"]).0,
            ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn rstp_keys_on_bridge_and_port() {
        assert_eq!(
            req(&[
                "set",
                "bridge",
                "br0",
                "rstp=true",
                "rstp_priority=4096",
                "rstp_max_age=6",
                "rstp_forward_delay=4",
                "rstp_transmit_hold_count=10",
                "rstp_force_protocol_version=0",
            ]),
            Request::SetBridge {
                bridge: name("br0"),
                settings: vec![
                    BridgeSetting::Rstp(true),
                    BridgeSetting::RstpPriority(4096),
                    BridgeSetting::RstpMaxAge(6),
                    BridgeSetting::RstpForwardDelay(4),
                    BridgeSetting::RstpTransmitHoldCount(10),
                    BridgeSetting::RstpForceProtocolVersion(0),
                ],
            }
        );
        // one timer alone is the daemon's to check against the stored other
        assert_eq!(
            req(&["set", "bridge", "br0", "rstp_forward_delay=4"]),
            Request::SetBridge {
                bridge: name("br0"),
                settings: vec![BridgeSetting::RstpForwardDelay(4)],
            }
        );
        assert_eq!(
            req(&[
                "set",
                "port",
                "vnet0",
                "rstp_enable=false",
                "rstp_port_priority=64",
                "rstp_path_cost=2000",
                "rstp_admin_edge=true",
                "rstp_auto_edge=false",
            ]),
            Request::SetPort {
                port: name("vnet0"),
                settings: vec![
                    PortSetting::RstpEnable(false),
                    PortSetting::RstpPortPriority(64),
                    PortSetting::RstpPathCost(2000),
                    PortSetting::RstpAdminEdge(true),
                    PortSetting::RstpAutoEdge(false),
                ],
            }
        );
        assert_eq!(
            req(&["add-port", "br0", "vnet0", "type=tap", "rstp_admin_edge=true"]),
            Request::AddPort {
                bridge: name("br0"),
                port: name("vnet0"),
                settings: vec![PortSetting::Type(PortType::Tap), PortSetting::RstpAdminEdge(true)],
                may_exist: false,
                missing_ok: false
            }
        );
    }

    #[test]
    fn rstp_timers_given_together_are_checked_together() {
        let (kind, msg) = refused(&["set", "bridge", "br0", "rstp_max_age=40", "rstp_forward_delay=10"]);
        assert_eq!(kind, ErrorKind::ValueValidation);
        assert!(
            msg.contains(
                "set bridge br0: rstp_max_age=40 and rstp_forward_delay=10 do not satisfy \
                 2*(forward_delay-1) >= max_age >= 2*(hello_time+1)"
            ),
            "{msg}"
        );
        assert!(msg.contains("Usage: switchctl set bridge"), "{msg}");
        // the last value of a key wins, as in the daemon
        req(&[
            "set",
            "bridge",
            "br0",
            "rstp_forward_delay=4",
            "rstp_max_age=40",
            "rstp_forward_delay=21",
        ]);
        req(&["set", "bridge", "br0", "rstp_max_age=6", "rstp_forward_delay=4"]);
    }

    #[test]
    fn show_fdb_stats() {
        assert_eq!(req(&["show"]), Request::Show);
        assert_eq!(
            req(&["fdb-show", "br0"]),
            Request::FdbShow { bridge: name("br0") }
        );
        assert_eq!(req(&["fdb-flush"]), Request::FdbFlush { bridge: None });
        assert_eq!(
            req(&["fdb-flush", "br0"]),
            Request::FdbFlush {
                bridge: Some(name("br0"))
            }
        );
        assert_eq!(req(&["port-stats"]), Request::PortStats { bridge: None });
        assert_eq!(
            req(&["port-stats", "br1"]),
            Request::PortStats {
                bridge: Some(name("br1"))
            }
        );
        assert_eq!(refused(&["fdb-show"]).0, ErrorKind::MissingRequiredArgument);
    }

    #[test]
    fn rstp_show() {
        assert_eq!(req(&["rstp-show"]), Request::RstpShow { bridge: None });
        assert_eq!(
            req(&["rstp-show", "br0"]),
            Request::RstpShow {
                bridge: Some(name("br0"))
            }
        );
        let inv = parse(&["rstp-show", "br0", "--json"]).unwrap();
        assert!(inv.json);
        assert_eq!(
            refused(&["rstp-show", "br0", "br1"]).0,
            ErrorKind::UnknownArgument
        );
        let (kind, msg) = refused(&["rstp-show", "a/b"]);
        assert_eq!(kind, ErrorKind::ValueValidation);
        assert!(msg.contains("name \"a/b\" contains '/'"), "{msg}");
    }

    #[test]
    fn global_options() {
        let inv = parse(&["--socket", "/tmp/x.sock", "--json", "--timeout", "5", "list-br"]).unwrap();
        assert_eq!(inv.socket, PathBuf::from("/tmp/x.sock"));
        assert!(inv.json);
        assert_eq!(inv.timeout, Some(Duration::from_secs(5)));
        // global options also after the subcommand
        let inv = parse(&["show", "--json", "--timeout", "0", "--socket", "/s"]).unwrap();
        assert!(inv.json);
        assert_eq!(inv.timeout, None);
        assert_eq!(inv.socket, PathBuf::from("/s"));
        let inv = parse(&["show"]).unwrap();
        assert!(!inv.json);
        assert_eq!(inv.timeout, Some(Duration::from_secs(30)));
        // the env var is checked end to end in tests/; here only when unset
        if std::env::var_os(proto::SOCKET_ENV).is_none() {
            assert_eq!(inv.socket, PathBuf::from(proto::DEFAULT_SOCKET));
        }
        assert_eq!(
            refused(&["--timeout", "-1", "show"]).0,
            ErrorKind::UnknownArgument
        );
        assert_eq!(
            refused(&["--timeout", "soon", "show"]).0,
            ErrorKind::ValueValidation
        );
    }

    #[test]
    fn rejects_bad_values_with_protos_reason() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["set", "port", "p", "color=red"],
                "unknown port key \"color\" (known: type, tag,",
            ),
            (
                &["set", "port", "p", "tag=5000"],
                "tag: VLAN id 5000 is out of range 0-4095",
            ),
            (
                &["set", "port", "p", "tag=x"],
                "tag: VLAN id \"x\" is not a number",
            ),
            (
                &["set", "port", "p", "trunks=10,,20"],
                "trunks: empty item in \"10,,20\"",
            ),
            (
                &["set", "port", "p", "trunks=1-4096"],
                "VLAN id 4096 is out of range 0-4095",
            ),
            (
                &["set", "port", "p", "trunks=20-10"],
                "trunks: range \"20-10\" is backwards",
            ),
            (
                &["set", "port", "p", "trunks=a"],
                "trunks: \"a\" is not a VLAN id or a range like 100-110",
            ),
            (
                &["set", "port", "p", "vlan_mode=hybrid"],
                "vlan_mode \"hybrid\" is not one of access, trunk",
            ),
            (
                &["set", "port", "p", "mtu=10"],
                "mtu: 10 is out of range 68-65535",
            ),
            (
                &["set", "port", "p", "tag"],
                "\"tag\" is not of the form KEY=VALUE",
            ),
            (
                &["add-port", "br0", "p", "type=bogus"],
                "type \"bogus\" is not one of system, tap",
            ),
            (
                &["add-port", "br0", "p", "remote_ip=1.2.3"],
                "remote_ip: \"1.2.3\" is not an IPv4 or IPv6 address",
            ),
            (
                &["set", "bridge", "br0", "mac_aging=0"],
                "mac_aging: 0 is out of range 1-86400",
            ),
            (
                &["set", "bridge", "br0", "mac_table_size=15"],
                "mac_table_size: 15 is out of range 16-1000000",
            ),
            (
                &["set", "bridge", "br0", "stp=true"],
                "unknown bridge key \"stp\" (known: mac_aging, mac_table_size, rstp, rstp_priority,",
            ),
            (
                &["set", "bridge", "br0", "rstp_enable=true"],
                "unknown bridge key \"rstp_enable\" (spanning tree is rstp=true|false on a bridge",
            ),
            (
                &["set", "bridge", "br0", "rstp=yes"],
                "rstp: \"yes\" is not true or false",
            ),
            (
                &["set", "bridge", "br0", "rstp_priority=1000"],
                "rstp_priority: 1000 is not a multiple of 4096",
            ),
            (
                &["set", "bridge", "br0", "rstp_priority=65536"],
                "rstp_priority: 65536 is out of range 0-61440",
            ),
            (
                &["set", "bridge", "br0", "rstp_max_age=41"],
                "rstp_max_age: 41 is out of range 6-40",
            ),
            (
                &["set", "bridge", "br0", "rstp_forward_delay=3"],
                "rstp_forward_delay: 3 is out of range 4-30",
            ),
            (
                &["set", "bridge", "br0", "rstp_transmit_hold_count=0"],
                "rstp_transmit_hold_count: 0 is out of range 1-10",
            ),
            (
                &["set", "bridge", "br0", "rstp_force_protocol_version=1"],
                "rstp_force_protocol_version: 1 is not 0 (STP only) or 2 (RSTP)",
            ),
            (
                &["set", "port", "p", "rstp_port_priority=100"],
                "rstp_port_priority: 100 is not a multiple of 16",
            ),
            (
                &["set", "port", "p", "rstp_port_priority=256"],
                "rstp_port_priority: 256 is out of range 0-240",
            ),
            (
                &["set", "port", "p", "rstp_path_cost=0"],
                "rstp_path_cost: 0 is out of range 1-200000000",
            ),
            (
                &["set", "port", "p", "rstp_enable=yes"],
                "rstp_enable: \"yes\" is not true or false",
            ),
            (
                &["add-port", "br0", "p", "rstp_admin_edge=1"],
                "rstp_admin_edge: \"1\" is not true or false",
            ),
            (
                &["set", "port", "p", "rstp_priority=4096"],
                "unknown port key \"rstp_priority\" (known: type,",
            ),
            (
                &["add-br", "a234567890123456"],
                "name \"a234567890123456\" is 16 bytes long, the limit is 15",
            ),
            (
                &["add-br", "a/b"],
                "name \"a/b\" contains '/', which is not allowed",
            ),
            (
                &["del-port", "br0", "vnet/0"],
                "name \"vnet/0\" contains '/', which is not allowed",
            ),
            (
                &["clear", "port", "p", "color"],
                "cannot clear \"color\" (known: tag, trunks, vlan_mode)",
            ),
        ];
        for (args, reason) in cases {
            let (kind, msg) = refused(args);
            assert_eq!(kind, ErrorKind::ValueValidation, "{args:?}: {msg}");
            assert!(msg.contains(reason), "{args:?}: {msg:?} lacks {reason:?}");
            assert!(msg.starts_with("error: "), "{msg}");
        }
    }

    #[test]
    fn rejects_contradictory_add_port() {
        for (args, reason) in [
            (
                &["add-port", "br0", "p", "vlan_mode=access"][..],
                "add-port p: vlan_mode=access needs a tag",
            ),
            (
                &["add-port", "br0", "p", "tag=10", "trunks=20"],
                "an access port cannot have trunks",
            ),
            (
                &["add-port", "br0", "p", "type=vxlan"],
                "a vxlan port needs remote_ip",
            ),
            (
                &["add-port", "br0", "p", "persist=true"],
                "persist is not valid for a system port (only tap)",
            ),
        ] {
            let (kind, msg) = refused(args);
            assert_eq!(kind, ErrorKind::ValueValidation, "{args:?}: {msg}");
            assert!(msg.contains(reason), "{args:?}: {msg:?} lacks {reason:?}");
            assert!(msg.contains("Usage: switchctl add-port"), "{msg}");
        }
    }

    #[test]
    fn add_bond_members_then_settings() {
        assert_eq!(
            req(&["add-bond", "br0", "bond0", "eth1", "eth2"]),
            Request::AddBond {
                bridge: name("br0"),
                bond: name("bond0"),
                members: vec![name("eth1"), name("eth2")],
                settings: vec![],
                may_exist: false,
            }
        );
        assert_eq!(
            req(&[
                "add-bond",
                "br0",
                "bond0",
                "eth3",
                "eth1",
                "--may-exist",
                "eth2",
                "bond_mode=balance-tcp",
                "lacp=active",
                "lacp_time=fast",
                "lacp_fallback_ab=true",
                "bond_updelay=100",
                "bond_downdelay=60000",
                "bond_rebalance_interval=0",
                "tag=10",
                "rstp_path_cost=2000",
            ]),
            Request::AddBond {
                bridge: name("br0"),
                bond: name("bond0"),
                members: vec![name("eth3"), name("eth1"), name("eth2")],
                settings: vec![
                    PortSetting::BondMode(BondMode::BalanceTcp),
                    PortSetting::Lacp(LacpMode::Active),
                    PortSetting::LacpTime(LacpTime::Fast),
                    PortSetting::LacpFallbackAb(true),
                    PortSetting::BondUpdelay(100),
                    PortSetting::BondDowndelay(60000),
                    PortSetting::BondRebalanceInterval(0),
                    setting("tag=10"),
                    PortSetting::RstpPathCost(2000),
                ],
                may_exist: true,
            }
        );
        // 32 members is the most
        let many: Vec<String> = (0..32).map(|i| format!("eth{i}")).collect();
        let mut args = vec!["add-bond", "br0", "bond0"];
        args.extend(many.iter().map(String::as_str));
        match req(&args) {
            Request::AddBond { members, .. } => assert_eq!(members.len(), 32),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            req(&["add-bond", "--json", "br0", "bond0", "a", "b", "--may-exist"]),
            Request::AddBond {
                bridge: name("br0"),
                bond: name("bond0"),
                members: vec![name("a"), name("b")],
                settings: vec![],
                may_exist: true,
            }
        );
    }

    #[test]
    fn add_bond_refusals() {
        let cases: &[(&[&str], ErrorKind, &str)] = &[
            (
                &["add-bond", "br0", "bond0", "eth1"],
                ErrorKind::TooFewValues,
                "add-bond bond0: a bond needs at least 2 member devices, got 1; \
                 usage: add-bond BR BOND IFACE IFACE... [KEY=VALUE...]",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "lacp=active"],
                ErrorKind::TooFewValues,
                "add-bond bond0: a bond needs at least 2 member devices, got 1;",
            ),
            (
                &["add-bond", "br0", "bond0"],
                ErrorKind::TooFewValues,
                "add-bond bond0: a bond needs at least 2 member devices, got 0;",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "eth2", "lacp=active", "eth3"],
                ErrorKind::ValueValidation,
                "add-bond bond0: \"eth3\" is not of the form KEY=VALUE (member devices come before the settings)",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "eth1"],
                ErrorKind::ValueValidation,
                "add-bond bond0: member \"eth1\" is listed twice",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "bond0"],
                ErrorKind::ValueValidation,
                "add-bond bond0: member \"bond0\" has the name of the bond itself",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "eth2", "bond_mode=balance-tcp"],
                ErrorKind::ValueValidation,
                "add-bond bond0: bond_mode=balance-tcp needs lacp=active or passive",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "eth2", "bond_mode=balance-tcp", "lacp=off"],
                ErrorKind::ValueValidation,
                "add-bond bond0: bond_mode=balance-tcp needs lacp=active or passive",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "eth2", "type=system"],
                ErrorKind::ValueValidation,
                "add-bond bond0: type cannot be given to add-bond (a bond's type is bond)",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "eth2", "persist=true"],
                ErrorKind::ValueValidation,
                "add-bond bond0: persist is not valid for a bond port (only tap)",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "eth2", "vlan_mode=access"],
                ErrorKind::ValueValidation,
                "add-bond bond0: vlan_mode=access needs a tag",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "eth2", "bond_mode=lacp"],
                ErrorKind::ValueValidation,
                "bond_mode: \"lacp\" is not active-backup, balance-slb or balance-tcp",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "eth2", "lacp=on"],
                ErrorKind::ValueValidation,
                "lacp: \"on\" is not off, active or passive",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "eth2", "lacp_time=medium"],
                ErrorKind::ValueValidation,
                "lacp_time: \"medium\" is not slow or fast",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "eth2", "lacp_fallback_ab=1"],
                ErrorKind::ValueValidation,
                "lacp_fallback_ab: \"1\" is not true or false",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "eth2", "bond_updelay=60001"],
                ErrorKind::ValueValidation,
                "bond_updelay: 60001 is out of range 0-60000",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "eth2", "bond_downdelay=-5"],
                ErrorKind::ValueValidation,
                "bond_downdelay: \"-5\" is not a number",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "eth2", "bond_rebalance_interval=500"],
                ErrorKind::ValueValidation,
                "bond_rebalance_interval: 500 is neither 0 (off) nor in 1000-10000",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "eth2", "color=red"],
                ErrorKind::ValueValidation,
                "unknown port key \"color\" (known: type, tag,",
            ),
            (
                &["add-bond", "br0", "bond0", "eth1", "e/2"],
                ErrorKind::ValueValidation,
                "name \"e/2\" contains '/', which is not allowed",
            ),
            (
                &["add-bond", "br0", "a234567890123456", "eth1", "eth2"],
                ErrorKind::ValueValidation,
                "name \"a234567890123456\" is 16 bytes long, the limit is 15",
            ),
        ];
        for (args, kind, reason) in cases {
            let (k, msg) = refused(args);
            assert_eq!(k, *kind, "{args:?}: {msg}");
            assert!(msg.contains(reason), "{args:?}: {msg:?} lacks {reason:?}");
            assert!(msg.starts_with("error: "), "{msg}");
        }
        // 33 members
        let many: Vec<String> = (0..33).map(|i| format!("eth{i}")).collect();
        let mut args = vec!["add-bond", "br0", "bond0"];
        args.extend(many.iter().map(String::as_str));
        let (kind, msg) = refused(&args);
        assert_eq!(kind, ErrorKind::ValueValidation);
        assert!(
            msg.contains("add-bond bond0: a bond has at most 32 members, got 33"),
            "{msg}"
        );
        assert!(
            msg.contains("Usage: switchctl add-bond BR BOND IFACE IFACE..."),
            "{msg}"
        );
        // add-port cannot make a bond
        let (_, msg) = refused(&["add-port", "br0", "bond0", "type=bond"]);
        assert!(
            msg.contains(
                "add-port bond0: a bond port needs members (create it with add-bond BR BOND IFACE IFACE...)"
            ),
            "{msg}"
        );
        let (_, msg) = refused(&["add-port", "br0", "eth1", "lacp=active"]);
        assert!(
            msg.contains("add-port eth1: lacp is not valid for a system port (only bond)"),
            "{msg}"
        );
    }

    #[test]
    fn bond_keys_with_set_port_and_bond_shows() {
        assert_eq!(
            req(&[
                "set",
                "port",
                "bond0",
                "bond_mode=balance-slb",
                "lacp=passive",
                "lacp_time=slow",
                "lacp_fallback_ab=false",
                "bond_updelay=0",
                "bond_downdelay=200",
                "bond_rebalance_interval=1000",
                "trunks=10,20",
            ]),
            Request::SetPort {
                port: name("bond0"),
                settings: vec![
                    PortSetting::BondMode(BondMode::BalanceSlb),
                    PortSetting::Lacp(LacpMode::Passive),
                    PortSetting::LacpTime(LacpTime::Slow),
                    PortSetting::LacpFallbackAb(false),
                    PortSetting::BondUpdelay(0),
                    PortSetting::BondDowndelay(200),
                    PortSetting::BondRebalanceInterval(1000),
                    setting("trunks=10,20"),
                ],
            }
        );
        // set port knows nothing of the port's type: balance-tcp alone is the
        // daemon's to judge against the stored lacp
        assert_eq!(
            req(&["set", "port", "bond0", "bond_mode=balance-tcp"]),
            Request::SetPort {
                port: name("bond0"),
                settings: vec![PortSetting::BondMode(BondMode::BalanceTcp)],
            }
        );
        let (kind, msg) = refused(&["set", "port", "bond0", "bond_rebalance_interval=20000"]);
        assert_eq!(kind, ErrorKind::ValueValidation);
        assert!(
            msg.contains("bond_rebalance_interval: 20000 is neither 0 (off) nor in 1000-10000"),
            "{msg}"
        );
        assert_eq!(req(&["bond-show"]), Request::BondShow { bond: None });
        assert_eq!(
            req(&["bond-show", "bond0"]),
            Request::BondShow {
                bond: Some(name("bond0"))
            }
        );
        assert_eq!(req(&["lacp-show"]), Request::LacpShow { bond: None });
        let inv = parse(&["lacp-show", "bond0", "--json"]).unwrap();
        assert!(inv.json);
        assert_eq!(
            inv.request,
            Request::LacpShow {
                bond: Some(name("bond0"))
            }
        );
        assert_eq!(refused(&["bond-show", "a", "b"]).0, ErrorKind::UnknownArgument);
        assert_eq!(refused(&["lacp-show", "a", "b"]).0, ErrorKind::UnknownArgument);
        let (kind, msg) = refused(&["bond-show", "a:b"]);
        assert_eq!(kind, ErrorKind::ValueValidation);
        assert!(msg.contains("name \"a:b\" contains ':'"), "{msg}");
        // del-port of a bond is the plain del-port
        assert_eq!(
            req(&["del-port", "br0", "bond0"]),
            Request::DelPort {
                bridge: Some(name("br0")),
                port: name("bond0"),
                if_exists: false
            }
        );
    }

    #[test]
    fn flow_commands() {
        let spec = "priority=100,in_port=vm1,tcp,tp_dst=22,actions=drop";
        assert_eq!(
            req(&["add-flow", "br0", spec]),
            Request::AddFlow {
                bridge: name("br0"),
                flow: spec.into()
            }
        );
        // a flow with spaces, as one shell word, goes as it is
        assert_eq!(
            req(&["add-flow", "br0", "priority=0 actions=NORMAL"]),
            Request::AddFlow {
                bridge: name("br0"),
                flow: "priority=0 actions=NORMAL".into()
            }
        );
        assert_eq!(
            req(&["mod-flows", "br0", "in_port=vm1,actions=normal"]),
            Request::ModFlows {
                bridge: name("br0"),
                flow: "in_port=vm1,actions=normal".into(),
                strict: false
            }
        );
        assert_eq!(
            req(&["mod-flows", "--strict", "br0", spec]),
            Request::ModFlows {
                bridge: name("br0"),
                flow: spec.into(),
                strict: true
            }
        );
        assert_eq!(
            req(&["del-flows", "br0"]),
            Request::DelFlows {
                bridge: name("br0"),
                filter: None,
                strict: false
            }
        );
        assert_eq!(
            req(&[
                "del-flows",
                "br0",
                "priority=100,in_port=vm1,tcp,tp_dst=22",
                "--strict"
            ]),
            Request::DelFlows {
                bridge: name("br0"),
                filter: Some("priority=100,in_port=vm1,tcp,tp_dst=22".into()),
                strict: true
            }
        );
        assert_eq!(
            req(&["dump-flows", "br0"]),
            Request::DumpFlows {
                bridge: name("br0"),
                filter: None,
                table: None
            }
        );
        let inv = parse(&["dump-flows", "br0", "tcp,in_port=vm1", "--table", "253", "--json"]).unwrap();
        assert!(inv.json);
        assert_eq!(inv.text_source, None);
        assert_eq!(
            inv.request,
            Request::DumpFlows {
                bridge: name("br0"),
                filter: Some("tcp,in_port=vm1".into()),
                table: Some(253)
            }
        );
        assert_eq!(
            req(&["dump-flows", "--table=255", "br0"]),
            Request::DumpFlows {
                bridge: name("br0"),
                filter: None,
                table: Some(255)
            }
        );
    }

    #[test]
    fn flow_files_are_named_not_read() {
        // parsing does no I/O: the text is read by main from text_source
        let inv = parse(&["add-flows", "br0", "/nonexistent/flows.txt"]).unwrap();
        assert_eq!(
            inv.request,
            Request::AddFlows {
                bridge: name("br0"),
                text: String::new()
            }
        );
        assert_eq!(
            inv.text_source,
            Some(TextSource::File("/nonexistent/flows.txt".into()))
        );
        let inv = parse(&["replace-flows", "br1", "-"]).unwrap();
        assert_eq!(
            inv.request,
            Request::ReplaceFlows {
                bridge: name("br1"),
                text: String::new()
            }
        );
        assert_eq!(inv.text_source, Some(TextSource::Stdin));
        let inv = parse(&["--json", "add-flows", "br0", "-"]).unwrap();
        assert_eq!(inv.text_source, Some(TextSource::Stdin));
        // no other command has a text to read
        for args in [
            &["add-flow", "br0", "actions=drop"][..],
            &["show"],
            &["dump-flows", "br0"],
        ] {
            assert_eq!(parse(args).unwrap().text_source, None, "{args:?}");
        }
    }

    #[test]
    fn bad_flow_command_lines() {
        let cases: &[(&[&str], ErrorKind, &str)] = &[
            (&["add-flow", "br0"], ErrorKind::MissingRequiredArgument, "<FLOW>"),
            (&["add-flow"], ErrorKind::MissingRequiredArgument, "<BR>"),
            (
                &["add-flows", "br0"],
                ErrorKind::MissingRequiredArgument,
                "<FILE|->",
            ),
            (
                &["replace-flows", "br0"],
                ErrorKind::MissingRequiredArgument,
                "<FILE|->",
            ),
            (
                &["mod-flows", "br0"],
                ErrorKind::MissingRequiredArgument,
                "<FLOW>",
            ),
            (&["dump-flows"], ErrorKind::MissingRequiredArgument, "<BR>"),
            (&["del-flows"], ErrorKind::MissingRequiredArgument, "<BR>"),
            // the flow is one word: two are a mistake, not a concatenation
            (
                &["add-flow", "br0", "priority=1", "actions=drop"],
                ErrorKind::UnknownArgument,
                "unexpected argument 'actions=drop'",
            ),
            (
                &["dump-flows", "br0", "tcp", "udp"],
                ErrorKind::UnknownArgument,
                "unexpected argument 'udp'",
            ),
            (
                &["add-flows", "br0", "a.txt", "b.txt"],
                ErrorKind::UnknownArgument,
                "unexpected argument 'b.txt'",
            ),
            // --strict only where OVS has it
            (
                &["add-flow", "br0", "actions=drop", "--strict"],
                ErrorKind::UnknownArgument,
                "--strict",
            ),
            (
                &["dump-flows", "br0", "--strict"],
                ErrorKind::UnknownArgument,
                "--strict",
            ),
            (
                &["dump-flows", "br0", "--table", "254"],
                ErrorKind::ValueValidation,
                "table 254 does not exist (tables are 0-253; 255 means all tables)",
            ),
            (
                &["dump-flows", "br0", "--table", "256"],
                ErrorKind::ValueValidation,
                "table \"256\" is not a number (tables are 0-253; 255 means all tables)",
            ),
            (
                &["dump-flows", "br0", "--table", "all"],
                ErrorKind::ValueValidation,
                "table \"all\" is not a number",
            ),
            (
                &["dump-flows", "br0", "--table"],
                ErrorKind::InvalidValue,
                "--table <N>",
            ),
            (
                &["add-flow", "b/0", "actions=drop"],
                ErrorKind::ValueValidation,
                "name \"b/0\" contains '/'",
            ),
        ];
        for (args, kind, reason) in cases {
            let (k, msg) = refused(args);
            assert_eq!(k, *kind, "{args:?}: {msg}");
            assert!(msg.contains(reason), "{args:?}: {msg:?} lacks {reason:?}");
        }
        // a flow over 4 MiB is refused by the check the daemon runs too
        let huge = "x".repeat(proto::types::FLOW_TEXT_MAX + 1);
        let (kind, msg) = refused(&["add-flow", "br0", &huge]);
        assert_eq!(kind, ErrorKind::ValueValidation);
        assert!(
            msg.contains("flow is 4194305 bytes long, the limit is 4194304 bytes (4 MiB)"),
            "{}",
            &msg[..200.min(msg.len())]
        );
    }

    #[test]
    fn rejects_unknown_table() {
        let (kind, msg) = refused(&["set", "interface", "p", "tag=1"]);
        assert_eq!(kind, ErrorKind::InvalidSubcommand);
        assert!(
            msg.contains("unknown table \"interface\" for 'set' (known: port, bridge)"),
            "{msg}"
        );
        assert!(msg.contains("Usage: switchctl set"), "{msg}");
        let (kind, msg) = refused(&["clear", "interface", "p", "tag"]);
        assert_eq!(kind, ErrorKind::InvalidSubcommand);
        assert!(
            msg.contains("unknown table \"interface\" for 'clear' (known: port, bridge)"),
            "{msg}"
        );
        // clear bridge takes only the exporters.
        let (kind, msg) = refused(&["clear", "bridge", "br0", "mac_aging"]);
        assert_eq!(kind, ErrorKind::ValueValidation);
        assert!(msg.contains("(sflow, ipfix)"), "{msg}");
        // a bare `set` shows its help (listing the tables) as a usage error
        assert_eq!(
            refused(&["set"]).0,
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        );
        assert_eq!(refused(&["frobnicate"]).0, ErrorKind::InvalidSubcommand);
    }

    #[test]
    fn help_documents_every_key_with_protos_ranges() {
        use proto::types::*;
        let help = |path: &[&str]| {
            let mut cmd = Cli::command();
            cmd.build();
            let mut c = &mut cmd;
            for p in path {
                c = c.find_subcommand_mut(p).unwrap();
            }
            c.render_long_help().to_string()
        };
        let port = help(&["set", "port"]);
        assert_eq!(port, help(&["set", "port"]));
        for key in PORT_KEYS.split(", ") {
            assert!(port.contains(&format!("  {key}=")), "set port --help lacks {key}");
        }
        let add = help(&["add-port"]);
        assert!(add.contains(PORT_KEYS_HELP.lines().nth(1).unwrap()), "{add}");
        for needle in [
            format!("{MTU_MIN}-{MTU_MAX}"),
            format!(
                "the OpenFlow port number to give the port,\n                   {OFPORT_MIN}-{OFPORT_MAX};"
            ),
            format!("0-{}", VlanId::MAX),
            format!("default {VXLAN_DEFAULT_PORT}"),
            format!("0000-{MODE_MAX:04o} (default {MODE_DEFAULT:04o})"),
            "system (default), tap, vxlan, gre, stream, dgram".into(),
            "access | trunk | native-tagged | native-untagged".into(),
        ] {
            assert!(port.contains(&needle), "set port --help lacks {needle}");
        }
        for needle in [
            format!("0-{RSTP_PORT_PRIORITY_MAX}, a multiple of {RSTP_PORT_PRIORITY_STEP} (default {RSTP_PORT_PRIORITY_DEFAULT})"),
            format!("{RSTP_PATH_COST_MIN}-{RSTP_PATH_COST_MAX} (default {RSTP_PATH_COST_DEFAULT}"),
        ] {
            assert!(port.contains(&needle), "set port --help lacks {needle}");
            assert!(add.contains(&needle), "add-port --help lacks {needle}");
        }
        let d = RstpPortConfig::default();
        for (key, default) in [
            ("rstp_enable", d.enable),
            ("rstp_admin_edge", d.admin_edge),
            ("rstp_auto_edge", d.auto_edge),
        ] {
            let line = port.lines().find(|l| l.contains(&format!("  {key}="))).unwrap();
            assert!(line.contains(&format!("(default {default})")), "{line}");
        }
        let bridge = help(&["set", "bridge"]);
        for key in BRIDGE_KEYS.split(", ") {
            assert!(
                bridge.contains(&format!("  {key}=")),
                "set bridge --help lacks {key}"
            );
        }
        let r = RstpBridgeConfig::default();
        assert!(!r.enabled);
        for needle in [
            format!("{MAC_AGING_MIN}-{MAC_AGING_MAX} (default {MAC_AGING_DEFAULT})"),
            format!("{MAC_TABLE_SIZE_MIN}-{MAC_TABLE_SIZE_MAX} (default {MAC_TABLE_SIZE_DEFAULT})"),
            "true or false (default false)".into(),
            format!("0-{RSTP_PRIORITY_MAX}, a multiple of {RSTP_PRIORITY_STEP} (default {})", r.priority),
            format!("{RSTP_MAX_AGE_MIN}-{RSTP_MAX_AGE_MAX} (default {})", r.max_age),
            format!("{RSTP_FORWARD_DELAY_MIN}-{RSTP_FORWARD_DELAY_MAX} (default {})", r.forward_delay),
            format!(
                "{RSTP_TRANSMIT_HOLD_COUNT_MIN}-{RSTP_TRANSMIT_HOLD_COUNT_MAX} (default {})",
                r.transmit_hold_count
            ),
            format!(
                "{RSTP_FORCE_VERSION_STP} = send 802.1D STP BPDUs only, {RSTP_FORCE_VERSION_RSTP} = RSTP (default {})",
                r.force_protocol_version
            ),
            format!("hello time fixed at {RSTP_HELLO_TIME} s"),
            format!("2*(rstp_forward_delay-1) >= rstp_max_age >= 2*({RSTP_HELLO_TIME}+1)"),
        ] {
            assert!(
                bridge.contains(&needle),
                "set bridge --help lacks {needle}: {bridge}"
            );
        }
        let clear = help(&["clear", "port"]);
        for key in ["tag", "trunks", "vlan_mode"] {
            assert!(
                clear.contains(&format!("  {key} ")),
                "clear port --help lacks {key}"
            );
        }
        let main = help(&[]);
        assert!(main.contains("rstp-show"), "{main}");
        // flows: every command listed, the SPEC examples and the syntax in
        // the help of the commands that take flows, the JSON of dump-flows
        for cmd in [
            "add-flow ",
            "add-flows",
            "mod-flows",
            "del-flows",
            "replace-flows",
            "dump-flows",
            "add-flow --help",
        ] {
            assert!(main.contains(cmd), "--help lacks {cmd}: {main}");
        }
        let spec_flow = "\"priority=100,in_port=vm1,tcp,tp_dst=22,actions=drop\"";
        for (cmd, needles) in [
            (
                "add-flow",
                &[
                    "Usage: switchctl add-flow [OPTIONS] <BR> <FLOW>",
                    spec_flow,
                    "priority=0,actions=NORMAL",
                    "table=N            0-253 (default 0)",
                    "priority=N         0-65535 (default 32768)",
                    "reg0-reg7",
                    "resubmit(,TABLE)",
                ][..],
            ),
            (
                "add-flows",
                &[
                    "Usage: switchctl add-flows [OPTIONS] <BR> <FILE|->",
                    "'-' reads standard input",
                    "line N: reason",
                    "4 MiB",
                    "Blank lines and lines starting with # are ignored",
                    "switchctl dump-flows br0 | switchctl add-flows br1 -",
                    "Match fields",
                ],
            ),
            (
                "mod-flows",
                &["Usage: switchctl mod-flows [OPTIONS] <BR> <FLOW>", "--strict", "Actions, applied in order"],
            ),
            (
                "del-flows",
                &["Usage: switchctl del-flows [OPTIONS] <BR> [MATCH]", "--strict", "cookie=V/MASK"],
            ),
            (
                "replace-flows",
                &["Usage: switchctl replace-flows [OPTIONS] <BR> <FILE|->", "nothing changes"],
            ),
            (
                "dump-flows",
                &[
                    "Usage: switchctl dump-flows [OPTIONS] <BR> [MATCH]",
                    "--table <N>",
                    " cookie=0x0, duration=3.412s, table=0, n_packets=10, n_bytes=980, idle_age=1, priority=100,tcp,in_port=vm1,tp_dst=22 actions=drop",
                ],
            ),
        ] {
            let h = help(&[cmd]);
            for needle in needles {
                assert!(h.contains(needle), "{cmd} --help lacks {needle:?}: {h}");
            }
        }
        let dump = help(&["dump-flows"]);
        for field in [
            "flows",
            "table",
            "priority",
            "cookie",
            "match",
            "actions",
            "n_packets",
            "n_bytes",
            "duration_s",
            "idle_age_s",
            "idle_timeout",
            "hard_timeout",
        ] {
            assert!(
                dump.contains(&format!("\"{field}\"")),
                "dump-flows --help lacks {field}"
            );
        }
        for cmd in ["add-bond", "bond-show", "lacp-show", "add-bond --help"] {
            assert!(main.contains(cmd), "--help lacks {cmd}: {main}");
        }
        // the bond keys: in add-port, set port and add-bond help alike, with
        // proto's ranges and defaults
        let bond = help(&["add-bond"]);
        assert!(
            bond.contains("Usage: switchctl add-bond BR BOND IFACE IFACE... [KEY=VALUE...] [--may-exist]"),
            "{bond}"
        );
        assert!(
            bond.contains(&format!("{BOND_MEMBERS_MIN}-{BOND_MEMBERS_MAX} distinct names")),
            "{bond}"
        );
        let d = BondConfig::default();
        for text in [&port, &add, &bond] {
            for key in PORT_KEYS
                .split(", ")
                .filter(|k| k.starts_with("bond_") || k.starts_with("lacp"))
            {
                assert!(text.contains(&format!("\n  {key}=")), "help lacks {key}: {text}");
            }
            for needle in [
                format!("{} (default) | balance-slb | balance-tcp", d.mode),
                format!("{} (default) | active | passive", d.lacp),
                format!("{} (default, LACPDUs", d.lacp_time),
                format!("active-backup (default {})", d.lacp_fallback_ab),
                format!("0-{BOND_DELAY_MAX} (default {})", d.updelay),
                format!("0-{BOND_DELAY_MAX} (default {})", d.downdelay),
                format!(
                    "0 (off) or {BOND_REBALANCE_INTERVAL_MIN}-{BOND_REBALANCE_INTERVAL_MAX} (default {})",
                    d.rebalance_interval
                ),
                "bond_mode=balance-tcp".into(),
            ] {
                assert!(text.contains(&needle), "help lacks {needle}: {text}");
            }
        }
        for (cmd, fields) in [
            (
                "bond-show",
                &[
                    "bonds",
                    "bond",
                    "bridge",
                    "bond_mode",
                    "lacp",
                    "lacp_status",
                    "active_member",
                    "next_rebalance_ms",
                    "members",
                    "member",
                    "enabled",
                    "carrier",
                    "may_enable",
                    "tx_bytes",
                    "buckets",
                ][..],
            ),
            (
                "lacp-show",
                &[
                    "bonds",
                    "bond",
                    "status",
                    "actor",
                    "system_id",
                    "system_priority",
                    "key",
                    "partner",
                    "members",
                    "member",
                    "actor_state",
                    "partner_state",
                    "rx_lacpdus",
                    "tx_lacpdus",
                    "synchronization",
                ],
            ),
        ] {
            let h = help(&[cmd]);
            for field in fields {
                assert!(h.contains(&format!("\"{field}\"")), "{cmd} --help lacks {field}");
            }
        }
        let rstp = help(&["rstp-show"]);
        for field in [
            "bridge",
            "bridge_id",
            "root_id",
            "root_port",
            "root_path_cost",
            "topology_changes",
            "ports",
            "fdb_flushes",
            "port",
            "role",
            "state",
            "path_cost",
            "port_id",
            "designated_bridge",
            "edge",
            "rx_bpdus",
            "tx_bpdus",
            "protocol",
        ] {
            assert!(
                rstp.contains(&format!("\"{field}\"")),
                "rstp-show --help lacks {field}"
            );
        }
        assert!(main.contains("SWITCHD_SOCKET"), "{main}");
        assert!(main.contains(proto::DEFAULT_SOCKET), "{main}");
    }

    #[test]
    fn controller_commands() {
        let target = |s: &str| s.parse::<ControllerTarget>().unwrap();
        assert_eq!(
            req(&["set-controller", "br0", "tcp:127.0.0.1"]),
            Request::SetController {
                bridge: name("br0"),
                targets: vec![target("tcp:127.0.0.1:6653")],
            }
        );
        assert_eq!(
            req(&[
                "set-controller",
                "br0",
                "tcp:[::1]:6633",
                "unix:/run/c.sock",
                "ptcp:",
                "punix:/run/switchd/br0.ctl"
            ]),
            Request::SetController {
                bridge: name("br0"),
                targets: vec![
                    target("tcp:[::1]:6633"),
                    target("unix:/run/c.sock"),
                    target("ptcp:6653:127.0.0.1"),
                    target("punix:/run/switchd/br0.ctl"),
                ],
            }
        );
        assert_eq!(
            req(&["del-controller", "br0"]),
            Request::DelController { bridge: name("br0") }
        );
        assert_eq!(
            req(&["get-controller", "br0"]),
            Request::GetController {
                bridge: Some(name("br0"))
            }
        );
        assert_eq!(req(&["get-controller"]), Request::GetController { bridge: None });
        assert!(parse(&["--json", "get-controller"]).unwrap().json);
        assert_eq!(
            req(&[
                "set",
                "bridge",
                "br0",
                "fail_mode=secure",
                "protocols=OpenFlow10,OpenFlow13",
                "datapath_id=0000020000000001"
            ]),
            Request::SetBridge {
                bridge: name("br0"),
                settings: vec![
                    BridgeSetting::FailMode(proto::FailMode::Secure),
                    BridgeSetting::Protocols(proto::OfVersions::ALL),
                    BridgeSetting::DatapathId("0000020000000001".parse().unwrap()),
                ],
            }
        );
    }

    #[test]
    fn bad_controller_command_lines() {
        let cases: &[(&[&str], ErrorKind, &str)] = &[
            (
                &["set-controller", "br0"],
                ErrorKind::MissingRequiredArgument,
                "<TARGET>...",
            ),
            (
                &["set-controller", "br0", "ctl:1"],
                ErrorKind::ValueValidation,
                "invalid controller target \"ctl:1\": unknown connection method \"ctl\"",
            ),
            (
                &["set-controller", "br0", "tcp:localhost"],
                ErrorKind::ValueValidation,
                "\"localhost\" is not an IPv4 or IPv6 address (host names are not resolved",
            ),
            (
                &["set-controller", "br0", "tcp:::1"],
                ErrorKind::ValueValidation,
                "an IPv6 address goes in brackets, as in tcp:[::1]:6653",
            ),
            (
                &["set-controller", "br0", "ptcp:0"],
                ErrorKind::ValueValidation,
                "port \"0\" is not a number in 1-65535",
            ),
            (
                &["set-controller", "br0", "punix:ctl"],
                ErrorKind::ValueValidation,
                "socket path \"ctl\" is not absolute",
            ),
            (
                &["set-controller", "br0", "tcp:10.0.0.1", "tcp:10.0.0.1:6653"],
                ErrorKind::ValueValidation,
                "set-controller br0: controller target \"tcp:10.0.0.1:6653\" is given twice",
            ),
            (&["del-controller"], ErrorKind::MissingRequiredArgument, "<BR>"),
            (
                &["get-controller", "br0", "br1"],
                ErrorKind::UnknownArgument,
                "br1",
            ),
            (
                &["set", "bridge", "br0", "fail_mode=open"],
                ErrorKind::ValueValidation,
                "fail_mode: \"open\" is not standalone or secure",
            ),
            (
                &["set", "bridge", "br0", "protocols=OpenFlow14"],
                ErrorKind::ValueValidation,
                "protocols: \"OpenFlow14\" is not supported (supported: OpenFlow10, OpenFlow13)",
            ),
            (
                &["set", "bridge", "br0", "protocols="],
                ErrorKind::ValueValidation,
                "protocols: at least one version is needed",
            ),
            (
                &["set", "bridge", "br0", "datapath_id=0x1"],
                ErrorKind::ValueValidation,
                "datapath_id: \"0x1\" must be 16 hex digits without 0x",
            ),
            (
                &["set", "bridge", "br0", "datapath_id=12"],
                ErrorKind::ValueValidation,
                "datapath_id: \"12\" has 2 hex digits, it needs exactly 16",
            ),
            (
                &["set", "bridge", "br0", "datapath_id=0000000000000000"],
                ErrorKind::ValueValidation,
                "datapath_id: 0000000000000000 is not allowed",
            ),
            (
                &["set", "bridge", "br0", "controller=tcp:1.2.3.4"],
                ErrorKind::ValueValidation,
                "unknown bridge key \"controller\" (known: mac_aging,",
            ),
        ];
        for (args, kind, reason) in cases {
            let (k, msg) = refused(args);
            assert_eq!(k, *kind, "{args:?}: {msg}");
            assert!(msg.contains(reason), "{args:?}: {msg:?} lacks {reason:?}");
        }
        let nine: Vec<String> = (1..=9).map(|p| format!("tcp:10.0.0.1:{p}")).collect();
        let mut args = vec!["set-controller", "br0"];
        args.extend(nine.iter().map(String::as_str));
        let (k, msg) = refused(&args);
        assert_eq!(k, ErrorKind::ValueValidation);
        assert!(
            msg.contains("set-controller br0: a bridge has at most 8 controller targets, got 9"),
            "{msg}"
        );
    }

    #[test]
    fn help_lists_controller_targets_and_openflow_keys() {
        let help = |path: &[&str]| {
            let mut cmd = Cli::command();
            cmd.build();
            let mut c = &mut cmd;
            for p in path {
                c = c.find_subcommand_mut(p).unwrap();
            }
            c.render_long_help().to_string()
        };
        let main = help(&[]);
        for needle in [
            "set-controller",
            "del-controller",
            "get-controller",
            proto::types::CONTROLLER_TARGET_FORMS,
        ] {
            assert!(main.contains(needle), "--help lacks {needle}: {main}");
        }
        let set = help(&["set-controller"]);
        for needle in [
            "Usage: switchctl set-controller [OPTIONS] <BR> <TARGET>...",
            "tcp:IP[:PORT]      connect",
            "unix:PATH          connect",
            "ptcp:[PORT][:IP]   accept",
            "punix:PATH         accept",
            "(default 6653)",
            "tcp:[::1]:6653",
            "default 127.0.0.1",
            "mode 0600",
            "1 s, doubling to 8 s",
            "15 s",
            "fail_mode=secure",
        ] {
            assert!(
                set.contains(needle),
                "set-controller --help lacks {needle:?}: {set}"
            );
        }
        assert!(set.contains(&format!("1-{}", proto::types::CONTROLLER_TARGETS_MAX)));
        let get = help(&["get-controller"]);
        for field in [
            "bridges",
            "bridge",
            "fail_mode",
            "controllers",
            "target",
            "state",
            "role",
            "version",
            "last_error",
        ] {
            assert!(
                get.contains(&format!("\"{field}\"")),
                "get-controller --help lacks {field}"
            );
        }
        for state in ["connected", "connecting", "listening", "backoff"] {
            assert!(get.contains(state), "get-controller --help lacks {state}");
        }
        let bridge = help(&["set", "bridge"]);
        for needle in [
            "  fail_mode=MODE      standalone (default)",
            "secure: never",
            "  protocols=LIST",
            "(default OpenFlow13,OpenFlow10)",
            "  datapath_id=HEX16   exactly 16 hex digits",
            "from the bridge MAC",
        ] {
            assert!(
                bridge.contains(needle),
                "set bridge --help lacks {needle:?}: {bridge}"
            );
        }
        assert_eq!(proto::OfVersions::default().to_string(), "OpenFlow13,OpenFlow10");
    }

    fn capture_of(args: &[&str]) -> (Request, CaptureArgs) {
        let inv = parse(args).unwrap_or_else(|e| panic!("{args:?} refused: {e}"));
        (inv.request, inv.capture.expect("a capture invocation"))
    }

    #[test]
    fn capture_command_lines() {
        let (req, args) = capture_of(&["capture", "vm1"]);
        assert_eq!(
            req,
            Request::Capture {
                port: name("vm1"),
                direction: CaptureDirection::Both,
                snaplen: 262_144,
                count: None,
                filter: None,
            }
        );
        assert_eq!(
            args,
            CaptureArgs {
                file: None,
                filter: None
            }
        );
        // FILTER is the rest of the line, joined with spaces, as tcpdump's.
        let (req, args) = capture_of(&[
            "capture",
            "vm1",
            "-c",
            "4",
            "-w",
            "out.pcap",
            "--direction",
            "out",
            "-s",
            "96",
            "tcp",
            "port",
            "22",
            "and",
            "not",
            "host",
            "10.0.0.1",
        ]);
        assert_eq!(
            req,
            Request::Capture {
                port: name("vm1"),
                direction: CaptureDirection::Out,
                snaplen: 96,
                count: Some(4),
                filter: None,
            }
        );
        assert_eq!(
            args,
            CaptureArgs {
                file: Some("out.pcap".into()),
                filter: Some("tcp port 22 and not host 10.0.0.1".into()),
            }
        );
        // One quoted word works as well; -w - is standard output; -s 0 the
        // largest; -Q as tcpdump's.
        let (req, args) = capture_of(&[
            "capture",
            "-w",
            "-",
            "-s",
            "0",
            "-Q",
            "in",
            "vm1",
            "vlan 10 and icmp",
        ]);
        assert!(matches!(
            req,
            Request::Capture {
                snaplen: 262_144,
                direction: CaptureDirection::In,
                ..
            }
        ));
        assert_eq!(
            args,
            CaptureArgs {
                file: None,
                filter: Some("vlan 10 and icmp".into()),
            }
        );
        // Options of the other commands are not capture options.
        assert!(parse(&["show"]).unwrap().capture.is_none());
    }

    #[test]
    fn bad_capture_command_lines() {
        let (kind, msg) = refused(&["capture"]);
        assert_eq!(kind, ErrorKind::MissingRequiredArgument, "{msg}");
        let (_, msg) = refused(&["capture", "vm1", "-c", "0"]);
        assert!(msg.contains("'-c <COUNT>'"), "{msg}");
        let (_, msg) = refused(&["capture", "vm1", "-s", "262145"]);
        assert!(msg.contains("262145"), "{msg}");
        let (_, msg) = refused(&["capture", "vm1", "--direction", "up"]);
        assert!(
            msg.contains("direction \"up\" is not one of in, out, both"),
            "{msg}"
        );
        let (_, msg) = refused(&["capture", "bad/name"]);
        assert!(msg.contains("bad/name"), "{msg}");
        let (kind, msg) = refused(&["--json", "capture", "vm1"]);
        assert_eq!(kind, ErrorKind::ArgumentConflict);
        assert!(
            msg.contains("capture writes a pcap file: --json does not apply"),
            "{msg}"
        );
    }

    #[test]
    fn capture_help_explains_filter_output_and_loss() {
        let mut cmd = Cli::command();
        cmd.build();
        let help = cmd
            .find_subcommand_mut("capture")
            .unwrap()
            .render_long_help()
            .to_string();
        for needle in [
            "Usage: switchctl capture [OPTIONS] <PORT> [FILTER]...",
            "-w <FILE|->",
            "--direction <in|out|both>",
            "-c <COUNT>",
            "-s <SNAPLEN>",
            "tcpdump expression",
            "N frames captured,\nM lost",
            "must not be\na terminal",
            "switchctl capture vm1 -c 4 -w - icmp | tcpdump -n -r -",
        ] {
            assert!(help.contains(needle), "capture --help lacks {needle:?}: {help}");
        }
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
