//! Mirrors (SPEC §11, as Open vSwitch's): `add-mirror`, `del-mirror`,
//! `list-mirrors`, the mirrors' place in the db, and the copies the data
//! path makes.
//!
//! A mirror's selection is resolved to per-port bit masks whenever mirrors
//! or ports change ([`Engine::mirrors_resolve`]), so the data path pays, per
//! frame, one test of "does this bridge have mirrors" and, when it does, a
//! few mask lookups. Copies are zero-copy like NORMAL's outputs: the slot
//! the frame is in goes out again with a tag edit that makes it carry the
//! frame's VLAN (none for VLAN 0) — to the output port, or, RSPAN, to every
//! port of the output VLAN with that port's egress edit for it.
//!
//! A mirror's output port carries only mirror traffic: its pipeline gate
//! is [`Gate::MirrorOutput`], so NORMAL neither learns from it nor sends to
//! it, and frames it receives are counted `mirror-output-port`.

use proto::{Error, ErrorKind, IfName, MirrorConfig, MirrorInfo, MirrorsInfo, Reply, MIRRORS_MAX};

use super::bridge::{Mirror, Mirrors};
use super::flowpath;
use super::ports::{BridgeKey, Slots};
use super::Engine;
use crate::batch::{Edit, RxBatch};
use crate::pipeline::{Gate, Ports};
use crate::wire::{self, VlanTag};
use crate::PortId;

fn err(kind: ErrorKind, msg: String) -> Error {
    Error::new(kind, msg)
}

/// The edit that makes a frame whose tag is `cur` carry VLAN `vlan` (no
/// tag for VLAN 0), keeping its priority.
fn tag_edit(cur: Option<VlanTag>, vlan: u16) -> Edit {
    match (cur, vlan) {
        (None, 0) => Edit::KEEP,
        (None, v) => Edit::push(
            VlanTag {
                tpid: wire::TPID_8021Q,
                pcp: 0,
                dei: false,
                vid: v,
            }
            .to_bytes(),
        ),
        (Some(_), 0) => Edit::POP,
        (Some(t), v) if t.vid == v => Edit::KEEP,
        (Some(t), v) => Edit::retag(
            VlanTag {
                tpid: wire::TPID_8021Q,
                vid: v,
                ..t
            }
            .to_bytes(),
        ),
    }
}

/// Makes the copies of frame `slot` (received on `specs[in_idx]`) for the
/// mirrors that select it, after the frame itself was queued. `Mirrors`'
/// `dst_ports` hold each send queue's length from before the frame.
#[allow(clippy::too_many_arguments)]
pub(super) fn mirror_frame(
    mirrors: &mut Mirrors,
    specs: &Ports,
    slots: &mut Slots<'_>,
    dirty: &mut Vec<PortId>,
    csum_slots: &mut u64,
    batch: &RxBatch,
    in_idx: usize,
    slot: usize,
) {
    let in_id = specs[in_idx].id;
    let mut bits = mirrors.all | mirrors.src.get(in_id.0 as usize).copied().unwrap_or(0);
    for &(pid, before) in &mirrors.dst_ports {
        let sent = slots.get_mut(pid).is_some_and(|p| p.tx.len() > before);
        if sent {
            bits |= mirrors.dst.get(pid.0 as usize).copied().unwrap_or(0);
        }
    }
    if bits == 0 {
        return;
    }
    let frame = batch.frame(slot);
    let Ok(meta) = wire::parse(frame) else { return };
    // A frame the ingress port does not admit is not forwarded, nor mirrored.
    let Ok(vlan) = specs[in_idx].vlan.classify(meta.tag) else {
        return;
    };
    let vnet = batch.vnet(slot);
    let len = frame.len();
    for (i, m) in mirrors.list.iter_mut().enumerate() {
        if bits & (1 << i) == 0 || !m.selects_vlan(vlan) {
            continue;
        }
        if let Some(out) = m.out {
            let Some(o) = specs.index_of(out) else { continue };
            if o == in_idx || specs[o].gate == Gate::Down {
                continue;
            }
            let edit = tag_edit(meta.tag, vlan);
            m.tx_packets += 1;
            m.tx_bytes += edit.out_len(len) as u64;
            flowpath::queue(slots, dirty, csum_slots, out, slot, &vnet, Ok(edit));
        } else if let Some(rv) = m.config.output_vlan {
            for o in 0..specs.len() {
                let p = &specs[o];
                if o == in_idx || p.gate != Gate::Forwarding {
                    continue;
                }
                let Some(edit) = p.vlan.egress_edit(rv, meta.tag) else {
                    continue;
                };
                m.tx_packets += 1;
                m.tx_bytes += edit.out_len(len) as u64;
                flowpath::queue(slots, dirty, csum_slots, p.id, slot, &vnet, Ok(edit));
            }
        }
    }
}

impl Engine {
    pub(super) fn cmd_add_mirror(
        &mut self,
        bridge: &IfName,
        name: IfName,
        config: MirrorConfig,
    ) -> Result<Reply, Error> {
        let b = self.find_bridge(bridge)?;
        config.check().map_err(|e| {
            err(
                ErrorKind::InvalidArgument,
                format!("mirror {:?}: {e}", name.as_str()),
            )
        })?;
        let m = &self.bridges[b].mirrors;
        if m.list.iter().any(|x| x.name == name) {
            return Err(err(
                ErrorKind::AlreadyExists,
                format!(
                    "mirror {:?} already exists on bridge {:?}",
                    name.as_str(),
                    bridge.as_str()
                ),
            ));
        }
        if m.list.len() >= MIRRORS_MAX {
            return Err(err(
                ErrorKind::InvalidArgument,
                format!(
                    "bridge {:?} has {MIRRORS_MAX} mirrors, the most it can have",
                    bridge.as_str()
                ),
            ));
        }
        // Every port named must be on the bridge now (OVS: a Port row).
        let names = config
            .select_src_port
            .iter()
            .chain(&config.select_dst_port)
            .chain(config.output_port.iter());
        for p in names {
            let on = self
                .ports
                .find(p)
                .and_then(|id| self.ports.get(id))
                .map(|x| x.bridge);
            if on != Some(b) {
                return Err(err(
                    ErrorKind::NoSuchPort,
                    format!(
                        "mirror {:?}: no port {:?} on bridge {:?}",
                        name.as_str(),
                        p.as_str(),
                        bridge.as_str()
                    ),
                ));
            }
        }
        if let Some(out) = &config.output_port {
            let used = self.bridges[b]
                .mirrors
                .list
                .iter()
                .any(|x| x.config.output_port.as_ref() == Some(out));
            if used {
                return Err(err(
                    ErrorKind::InvalidArgument,
                    format!("port {:?} is already another mirror's output port", out.as_str()),
                ));
            }
        }
        self.bridges[b].mirrors.list.push(Mirror::new(name, config));
        self.mirrors_resolve(b);
        Ok(Reply::Done)
    }

    pub(super) fn cmd_del_mirror(&mut self, bridge: &IfName, name: &IfName) -> Result<Reply, Error> {
        let b = self.find_bridge(bridge)?;
        let list = &mut self.bridges[b].mirrors.list;
        let Some(i) = list.iter().position(|m| &m.name == name) else {
            return Err(err(
                ErrorKind::InvalidArgument,
                format!("no mirror {:?} on bridge {:?}", name.as_str(), bridge.as_str()),
            ));
        };
        let gone = list.remove(i);
        if let Some(out) = gone.out {
            self.ports.set_mirror_output(out, false);
        }
        self.mirrors_resolve(b);
        Ok(Reply::Done)
    }

    pub(super) fn cmd_list_mirrors(&self, bridge: Option<&IfName>) -> Result<Reply, Error> {
        let keys = match bridge {
            Some(n) => vec![self.find_bridge(n)?],
            None => self.bridges.keys().collect(),
        };
        let mut mirrors = Vec::new();
        for b in keys {
            let bridge = &self.bridges[b];
            for m in &bridge.mirrors.list {
                let c = &m.config;
                let names = |v: &[IfName]| v.iter().map(|n| n.to_string()).collect();
                mirrors.push(MirrorInfo {
                    mirror: m.name.to_string(),
                    bridge: bridge.name.to_string(),
                    select_all: c.select_all,
                    select_src_port: names(&c.select_src_port),
                    select_dst_port: names(&c.select_dst_port),
                    select_vlan: c.select_vlan.clone(),
                    output_port: c.output_port.as_ref().map(|n| n.to_string()),
                    output_vlan: c.output_vlan,
                    tx_packets: m.tx_packets,
                    tx_bytes: m.tx_bytes,
                });
            }
        }
        Ok(Reply::Mirrors(MirrorsInfo { mirrors }))
    }

    /// Recomputes bridge `b`'s per-port masks, output ports and RSPAN
    /// VLANs from its mirrors' configuration (after a mirror or a port of
    /// the bridge was added or removed). Names of ports that are not on the
    /// bridge select nothing.
    pub(super) fn mirrors_resolve(&mut self, b: BridgeKey) {
        let find = |ports: &super::ports::PortTable, n: &IfName| {
            ports
                .find(n)
                .filter(|id| ports.get(*id).is_some_and(|p| p.bridge == b))
        };
        let slots = self
            .ports
            .iter()
            .map(|(id, _)| id.0 as usize + 1)
            .max()
            .unwrap_or(0);
        let mut src = vec![0u32; slots];
        let mut dst = vec![0u32; slots];
        let mut all = 0u32;
        let mut outs = Vec::new();
        let mut rspan = Vec::new();
        let mut list = std::mem::take(&mut self.bridges[b].mirrors.list);
        for (i, m) in list.iter_mut().enumerate() {
            let c = &m.config;
            let bit = 1u32 << i;
            if c.select_all
                || (c.select_src_port.is_empty() && c.select_dst_port.is_empty() && !c.select_vlan.is_empty())
            {
                all |= bit;
            }
            for p in c.select_src_port.iter().filter_map(|n| find(&self.ports, n)) {
                src[p.0 as usize] |= bit;
            }
            for p in c.select_dst_port.iter().filter_map(|n| find(&self.ports, n)) {
                dst[p.0 as usize] |= bit;
            }
            m.out = c.output_port.as_ref().and_then(|n| find(&self.ports, n));
            outs.extend(m.out);
            rspan.extend(c.output_vlan);
            m.vlans = (!c.select_vlan.is_empty()).then(|| {
                let mut bits = Box::new([0u64; 64]);
                for v in &c.select_vlan {
                    bits[usize::from(*v) / 64] |= 1 << (v % 64);
                }
                bits
            });
        }
        let members: Vec<PortId> = self.ports.members(b).iter().map(|s| s.id).collect();
        for id in members {
            self.ports.set_mirror_output(id, outs.contains(&id));
        }
        let bridge = &mut self.bridges[b];
        bridge.fdb.set_no_learn(&rspan);
        let m = &mut bridge.mirrors;
        m.dst_ports = dst
            .iter()
            .enumerate()
            .filter(|(_, bits)| **bits != 0)
            .map(|(p, _)| (PortId(p as u32), 0))
            .collect();
        m.list = list;
        m.all = all;
        m.src = src;
        m.dst = dst;
    }

    /// Bridge `b`'s mirrors as the db stores them.
    pub(super) fn mirrors_to_db(&self, b: BridgeKey) -> Vec<crate::config::MirrorEntry> {
        self.bridges[b]
            .mirrors
            .list
            .iter()
            .map(|m| crate::config::MirrorEntry {
                name: m.name.clone(),
                config: m.config.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_edits_carry_the_frames_vlan() {
        let t = |vid| {
            Some(VlanTag {
                tpid: wire::TPID_8021Q,
                pcp: 3,
                dei: false,
                vid,
            })
        };
        assert_eq!(tag_edit(None, 0), Edit::KEEP);
        assert_eq!(tag_edit(t(10), 10), Edit::KEEP);
        assert_eq!(tag_edit(t(10), 0), Edit::POP);
        assert_eq!(tag_edit(None, 10), Edit::push([0x81, 0, 0, 10]));
        assert_eq!(tag_edit(t(10), 20), Edit::retag([0x81, 0, 0x60, 20]));
    }
}
