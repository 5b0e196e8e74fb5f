//! The engine's side of an in-place restart (SPEC §13; the design is in
//! `crate::handover`): writing down every port's and endpoint's fds and
//! executing the new image from the engine thread, which owns them, so no
//! frame is moved between the manifest and the exec; and, in the new
//! image, counting what the ports took over while the db is restored.

use std::os::fd::{AsRawFd, OwnedFd};

use proto::{IfName, PortConfig, PortType};

use super::ports::BridgeKey;
use super::Engine;
use crate::handover::{self, EndpointEntry, FlowsEntry, HandOver, Manifest, PortEntry, RstpEntry, Takeover};
use crate::port::sys::OpenError;
use crate::port::PortIo;

impl Engine {
    /// Writes the manifest and replaces the process image. Returns only if
    /// that failed, with the reason; the engine then goes on as before.
    pub(super) fn hand_over(&mut self, plan: HandOver) -> String {
        let mut manifest = Manifest {
            format: handover::FORMAT,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            stopped_at_ns: handover::now_ns(),
            control: plan.control,
            client: plan.client.as_ref().map(AsRawFd::as_raw_fd),
            ports: Vec::new(),
            endpoints: Vec::new(),
            rstp: Vec::new(),
            flows: Vec::new(),
        };
        for id in self.ports.ids() {
            let Some(p) = self.ports.get(id) else { continue };
            if let Some(fds) = p.io().and_then(|io| io.hand_over()) {
                manifest.ports.push(PortEntry {
                    name: p.name.to_string(),
                    port_type: p.config().port_type,
                    fds,
                });
            }
            for m in p.bond().map_or(&[][..], |b| &b.members[..]) {
                if let Some(fds) = m.io.as_ref().and_then(|io| io.hand_over()) {
                    manifest.ports.push(PortEntry {
                        name: m.name.to_string(),
                        port_type: PortType::System,
                        fds,
                    });
                }
            }
        }
        for ep in self.endpoints.iter().flatten() {
            let (rx, tx) = ep.hand_over();
            manifest.endpoints.push(EndpointEntry {
                key: ep.key().to_string(),
                rx,
                tx,
            });
        }
        for b in self.bridges.keys() {
            let (flows, skipped) = self.flows_hand_over(b);
            if skipped > 0 {
                tracing::warn!(
                    bridge = %self.bridges[b].name,
                    skipped,
                    "controller flows that use groups are not handed over; the controller installs them again"
                );
            }
            if !flows.is_empty() {
                manifest.flows.push(FlowsEntry {
                    bridge: self.bridges[b].name.to_string(),
                    flows,
                });
            }
            if let Some((state, ports)) = self.stp_hand_over(b) {
                manifest.rstp.push(RstpEntry {
                    bridge: self.bridges[b].name.to_string(),
                    state,
                    ports,
                });
            }
        }
        if let Err(e) = manifest.validate() {
            return format!("cannot hand over: {e}");
        }
        tracing::info!(
            exe = %plan.image.exe.display(),
            ports = manifest.ports.len(),
            endpoints = manifest.endpoints.len(),
            "restarting in place"
        );
        let err = plan.image.exec(&manifest);
        drop(plan.client);
        format!("cannot execute {}: {err}", plan.image.exe.display())
    }

    /// Opens the device of port (or bond member) `name`; during restore in a
    /// new image it takes over the fds handed over for it instead, if any,
    /// and counts how that went (a handed-over fd that no longer fits is
    /// logged and the device opened anew).
    pub(super) fn open_device(&mut self, name: &IfName, config: &PortConfig) -> Result<PortIo, OpenError> {
        let handed = self
            .inherited
            .as_mut()
            .and_then(|i| i.take_port(name.as_str(), config.port_type));
        let was_handed = handed.is_some();
        let (io, refused) = self.devices.open_or_adopt(name, config, handed);
        if self.inherited.is_some() {
            if let Some(why) = &refused {
                tracing::warn!(port = %name, "not taken over ({why}); opened anew");
            }
            if was_handed && refused.is_none() {
                self.takeover.ports_handed_over += 1;
            } else {
                self.takeover.ports_reopened += 1;
            }
        }
        io
    }

    /// Whether a fd was handed over for port `name` (a persistent TAP that
    /// moved away is then still ours).
    pub(super) fn has_handed(&self, name: &IfName, port_type: PortType) -> bool {
        self.inherited
            .as_ref()
            .is_some_and(|i| i.has_port(name.as_str(), port_type))
    }

    /// During restore in a new image: the sockets handed over for tunnel
    /// endpoint `key`, if any.
    pub(super) fn take_endpoint(&mut self, key: &str) -> Option<(OwnedFd, Option<OwnedFd>)> {
        let taken = self.inherited.as_mut()?.take_endpoint(key);
        if taken.is_some() {
            self.takeover.endpoints_handed_over += 1;
        }
        taken
    }

    /// During restore in a new image, before bridge `b`'s ports are added:
    /// whether its tree was handed over (its fresh tree is then muted).
    pub(super) fn stp_expect_takeover(&mut self, b: BridgeKey) {
        let name = self.bridges[b].name.to_string();
        if self.inherited.as_ref().is_some_and(|i| i.has_rstp(&name)) {
            self.stp_mute(b);
        }
    }

    /// During restore in a new image, once bridge `b`'s ports are in: its
    /// handed-over tree replaces the fresh one.
    pub(super) fn stp_finish_takeover(&mut self, b: BridgeKey) {
        let name = self.bridges[b].name.to_string();
        let Some(entry) = self.inherited.as_mut().and_then(|i| i.take_rstp(&name)) else {
            return;
        };
        match self.stp_take_over(b, entry.state, &entry.ports) {
            Ok(()) => tracing::info!(bridge = %name, "spanning tree taken over"),
            Err(e) => {
                tracing::warn!(bridge = %name, "spanning tree not taken over ({e}); it converges again")
            }
        }
    }

    /// During restore in a new image, once bridge `b`'s flows from the db
    /// are in: the flows its controllers had installed.
    pub(super) fn flows_finish_takeover(&mut self, b: BridgeKey) {
        let name = self.bridges[b].name.to_string();
        let Some(lines) = self.inherited.as_mut().and_then(|i| i.take_flows(&name)) else {
            return;
        };
        match self.flows_take_over(b, &lines) {
            Ok(n) => tracing::info!(bridge = %name, flows = n, "controller flows taken over"),
            Err(e) => {
                tracing::warn!(bridge = %name, "controller flows not taken over ({e}); the controller installs them again")
            }
        }
    }

    /// Ends a takeover: what no port claimed is closed.
    pub(super) fn finish_takeover(&mut self) -> Option<Takeover> {
        let inherited = self.inherited.take()?;
        let unclaimed = inherited.unclaimed();
        if unclaimed > 0 {
            tracing::warn!(
                unclaimed,
                "fds handed over for ports that are not configured; closed"
            );
        }
        Some(self.takeover)
    }
}
