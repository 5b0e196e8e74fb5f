//! What a flow is: a match (values under a mask over [`FlowKey`]), a list of
//! actions, and the flow's table, priority, cookie and timeouts. Shared by
//! the `ovs-ofctl` syntax ([`super::syntax`]), the classifier, the action
//! interpreter and, later, the OpenFlow codec, so none of them owns it.

use super::key::{Field, FlowKey};

/// A flow's index in its bridge's tables (stable while the flow exists).
pub type FlowId = u32;

/// Default priority of a flow (OpenFlow's `OFP_DEFAULT_PRIORITY`).
pub const DEFAULT_PRIORITY: u16 = 32768;
/// Tables a bridge has: 0–253 (OVS; 254 and 255 are reserved).
pub const N_TABLES: u8 = 254;
/// `table=255` in `dump-flows`/`del-flows`: every table.
pub const ALL_TABLES: u8 = 255;

/// Special OpenFlow port numbers (OpenFlow 1.0 16-bit values, as OVS prints
/// and keeps them internally).
pub mod ofport {
    /// Largest port number a real port can have.
    pub const MAX: u16 = 0xff00 - 1;
    /// `in_port` as an output.
    pub const IN_PORT: u16 = 0xfff8;
    /// `table` (PACKET_OUT only).
    pub const TABLE: u16 = 0xfff9;
    /// `normal`.
    pub const NORMAL: u16 = 0xfffa;
    /// `flood`.
    pub const FLOOD: u16 = 0xfffb;
    /// `all`.
    pub const ALL: u16 = 0xfffc;
    /// `controller`.
    pub const CONTROLLER: u16 = 0xfffd;
    /// `local` (the bridge's own port; switchd has none).
    pub const LOCAL: u16 = 0xfffe;
    /// `none` / `any`.
    pub const NONE: u16 = 0xffff;
}

/// A match: the packet's key, under `mask`, equals `value` (which is kept
/// masked: `value & mask == value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Match {
    /// Values of the matched bits.
    pub value: FlowKey,
    /// Which bits matter.
    pub mask: FlowKey,
}

impl Match {
    /// Matches every packet.
    pub const ANY: Match = Match {
        value: FlowKey::ZERO,
        mask: FlowKey::ZERO,
    };

    /// Adds "field & mask == value & mask" (bits already matched are
    /// overwritten).
    pub fn set(&mut self, field: Field, value: u128, mask: u128) {
        let mask = mask & field.max();
        self.mask.set_masked(field, mask, field.max());
        self.value.set_masked(field, value & mask, field.max());
    }

    /// Adds an exact match on `field`.
    pub fn set_exact(&mut self, field: Field, value: u128) {
        self.set(field, value, field.max());
    }

    /// The mask on `field` (0 = wildcarded).
    pub fn mask_of(&self, field: Field) -> u128 {
        self.mask.get(field)
    }

    /// The matched value of `field` (already masked).
    pub fn value_of(&self, field: Field) -> u128 {
        self.value.get(field)
    }

    /// Whether `key` satisfies the match.
    #[inline]
    pub fn matches(&self, key: &FlowKey) -> bool {
        key.masked(&self.mask) == self.value
    }

    /// Whether every packet this match accepts is also accepted by `other`
    /// (`other` is looser or equal): OpenFlow's non-strict
    /// modify/delete selection.
    pub fn is_subset_of(&self, other: &Match) -> bool {
        self.mask
            .0
            .iter()
            .zip(other.mask.0.iter())
            .zip(self.value.0.iter().zip(other.value.0.iter()))
            .all(|((m, om), (v, ov))| om & !m == 0 && v & om == *ov)
    }
}

/// One action (`ovs-actions(7)` names). Field writes that the `mod_*`
/// synonyms spell are kept as written so that a flow prints back as it was
/// given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// `output:PORT` or a bare port: an OpenFlow port number (a real port,
    /// or one of [`ofport`]'s specials other than NORMAL/FLOOD/ALL/
    /// CONTROLLER, which have their own variants).
    Output(u16),
    /// `normal`.
    Normal,
    /// `flood`.
    Flood,
    /// `all`.
    All,
    /// `in_port`.
    InPort,
    /// `controller[:MAX_LEN]` / `controller(max_len=N)`; 65535 = the whole
    /// frame.
    Controller {
        /// Bytes of the frame sent to the controller.
        max_len: u16,
    },
    /// `mod_vlan_vid:V`: set the VLAN id, pushing a tag if there is none.
    ModVlanVid(u16),
    /// `mod_vlan_pcp:P`: set the priority, pushing a tag if there is none.
    ModVlanPcp(u8),
    /// `strip_vlan`.
    StripVlan,
    /// `push_vlan:TPID` (0x8100 or 0x88a8).
    PushVlan(u16),
    /// `pop_vlan`.
    PopVlan,
    /// `mod_dl_src:MAC`.
    ModDlSrc([u8; 6]),
    /// `mod_dl_dst:MAC`.
    ModDlDst([u8; 6]),
    /// `mod_nw_src:IP`.
    ModNwSrc(u32),
    /// `mod_nw_dst:IP`.
    ModNwDst(u32),
    /// `mod_nw_tos:TOS` (DSCP bits of the byte; the ECN bits are kept).
    ModNwTos(u8),
    /// `mod_tp_src:PORT`.
    ModTpSrc(u16),
    /// `mod_tp_dst:PORT`.
    ModTpDst(u16),
    /// `dec_ttl`.
    DecTtl,
    /// `set_field:VALUE[/MASK]->FIELD`.
    SetField {
        /// The field written.
        field: Field,
        /// The value (within the field's width).
        value: u128,
        /// The bits written (the field's `max()` for a plain set).
        mask: u128,
    },
    /// `load:VALUE->DST[START..END]` (NXM register loads; OVS prints loads
    /// of whole fields as `set_field`, and so does switchd).
    Load {
        /// The field written.
        field: Field,
        /// First bit written.
        start: u8,
        /// Number of bits written.
        n_bits: u8,
        /// The value (right-aligned).
        value: u128,
    },
    /// `resubmit(,TABLE)` / `resubmit:PORT` / `resubmit(PORT,TABLE)`: look
    /// the (edited) packet up again in `table` (None = the current table)
    /// with `in_port` temporarily replaced by `port` (None = unchanged).
    Resubmit {
        /// Replacement `in_port` for the lookup.
        port: Option<u16>,
        /// Table to look in.
        table: Option<u8>,
    },
    /// `goto_table:N` (OpenFlow 1.1+ instruction; last in the list).
    GotoTable(u8),
    /// `set_tunnel:VNI` (and `set_tunnel64`).
    SetTunnel(u64),
    /// `meter:N` (SPEC §12).
    Meter(u32),
    /// `group:N`: the group's buckets (SPEC §10).
    Group(u32),
    /// `note:HEX...` (bytes; does nothing).
    Note(Vec<u8>),
}

/// One flow as the user gives it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlowSpec {
    /// Table 0–253.
    pub table: u8,
    /// 0–65535; higher wins.
    pub priority: u16,
    /// Opaque controller/user value.
    pub cookie: u64,
    /// Seconds without a matching packet before the flow is removed (0 = never).
    pub idle_timeout: u16,
    /// Seconds after adding before the flow is removed (0 = never).
    pub hard_timeout: u16,
    /// `send_flow_rem`: report the removal to controllers (SPEC §10).
    pub send_flow_rem: bool,
    /// What the flow matches.
    pub matching: Match,
    /// What it does; empty = drop.
    pub actions: Vec<Action>,
}

impl Default for FlowSpec {
    fn default() -> FlowSpec {
        FlowSpec {
            table: 0,
            priority: DEFAULT_PRIORITY,
            cookie: 0,
            idle_timeout: 0,
            hard_timeout: 0,
            send_flow_rem: false,
            matching: Match::ANY,
            actions: Vec::new(),
        }
    }
}

/// The selection of `del-flows`, `mod-flows` and `dump-flows`: a match,
/// an optional table, priority (for `--strict`), a cookie under a mask,
/// `out_port` (flows that output to that port) and `out_group` (flows that
/// use that group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowFilter {
    /// Table, or [`ALL_TABLES`].
    pub table: u8,
    /// The match the flows must be (strict) or be within (non-strict).
    pub matching: Match,
    /// With `--strict`: the priority the flow must have.
    pub priority: u16,
    /// `cookie=V/MASK`: `flow.cookie & mask == value & mask`.
    pub cookie: u64,
    /// Mask of `cookie` (0 = any).
    pub cookie_mask: u64,
    /// `out_port=P`: only flows with an output to `P`.
    pub out_port: Option<u16>,
    /// `out_group=G`: only flows with a `group:G` action.
    pub out_group: Option<u32>,
}

impl Default for FlowFilter {
    fn default() -> FlowFilter {
        FlowFilter {
            table: ALL_TABLES,
            matching: Match::ANY,
            priority: DEFAULT_PRIORITY,
            cookie: 0,
            cookie_mask: 0,
            out_port: None,
            out_group: None,
        }
    }
}

/// Port names and numbers, for parsing `in_port=vm1` / `output:vm1` and
/// printing numbers back as names.
pub trait PortNames {
    /// The OpenFlow port number of the port called `name`.
    fn ofport(&self, name: &str) -> Option<u16>;
    /// The name of OpenFlow port `ofport`.
    fn name(&self, ofport: u16) -> Option<&str>;
}

/// No names: ports are numbers only.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNames;

impl PortNames for NoNames {
    fn ofport(&self, _: &str) -> Option<u16> {
        None
    }
    fn name(&self, _: u16) -> Option<&str> {
        None
    }
}
