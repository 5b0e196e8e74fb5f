//! The flow-table commands of SPEC §9 (`add-flow`, `add-flows`,
//! `mod-flows`, `del-flows`, `replace-flows`, `dump-flows`), the flows'
//! place in the db, and their timeouts. Parsing and printing are
//! [`crate::flow::syntax`]'s; the tables are [`FlowTable`]; this file
//! resolves port names against the bridge and keeps the data path's
//! "only the default flow" shortcut in step after every change.
//!
//! A port's removal leaves flows naming its number in place (as OVS): they
//! output nowhere until a port gets that number again.

use std::collections::HashSet;
use std::time::Instant;

use proto::{Error, ErrorKind, FlowInfo, FlowsInfo, IfName, Reply};

use super::ports::BridgeKey;
use super::Engine;
use crate::flow::syntax::{self, format_actions_in, format_match};
use crate::flow::table::{default_flow, Entry, FlowTable, Origin, RemovedReason};
use crate::flow::types::{FlowFilter, FlowSpec, PortNames, ALL_TABLES};
use crate::flow::NoNames;

/// A bridge's port names and OpenFlow numbers, for the flow syntax.
pub(super) struct Names(Vec<(String, u16)>);

impl PortNames for Names {
    fn ofport(&self, name: &str) -> Option<u16> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, o)| *o)
    }

    fn name(&self, ofport: u16) -> Option<&str> {
        self.0.iter().find(|(_, o)| *o == ofport).map(|(n, _)| n.as_str())
    }
}

fn invalid(msg: String) -> Error {
    Error::new(ErrorKind::InvalidArgument, msg)
}

impl Engine {
    pub(super) fn flow_names(&self, b: BridgeKey) -> Names {
        Names(
            self.ports
                .of_bridge(b)
                .map(|(_, p)| (p.name.to_string(), p.ofport))
                .collect(),
        )
    }

    /// Parses one flow to add on bridge `b`, refusing what this switch
    /// cannot run.
    fn parse_flow(&self, b: BridgeKey, text: &str) -> Result<FlowSpec, String> {
        let spec = syntax::parse_flow(text, &self.flow_names(b)).map_err(|e| e.to_string())?;
        self.check_meters(b, &spec.actions)?;
        Ok(spec)
    }

    /// Parses `text`, one flow per line (blank lines and `#` comments
    /// skipped); the first bad line is reported with its number.
    fn parse_flows(&self, b: BridgeKey, text: &str) -> Result<Vec<FlowSpec>, Error> {
        let mut flows = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let spec = self
                .parse_flow(b, line)
                .map_err(|e| invalid(format!("line {}: {e}", n + 1)))?;
            flows.push(spec);
        }
        Ok(flows)
    }

    fn parse_filter(&self, b: BridgeKey, text: Option<&str>) -> Result<FlowFilter, Error> {
        syntax::parse_filter(text.unwrap_or(""), &self.flow_names(b)).map_err(|e| invalid(e.to_string()))
    }

    pub(super) fn cmd_add_flow(&mut self, bridge: &IfName, text: &str) -> Result<Reply, Error> {
        let b = self.find_bridge(bridge)?;
        let spec = self.parse_flow(b, text).map_err(invalid)?;
        self.add_flows(b, vec![spec])
    }

    pub(super) fn cmd_add_flows(&mut self, bridge: &IfName, text: &str) -> Result<Reply, Error> {
        let b = self.find_bridge(bridge)?;
        let flows = self.parse_flows(b, text)?;
        self.add_flows(b, flows)
    }

    /// Adds parsed flows, all or none (only "table full" can refuse one).
    fn add_flows(&mut self, b: BridgeKey, flows: Vec<FlowSpec>) -> Result<Reply, Error> {
        let now = Instant::now();
        let bridge = &mut self.bridges[b];
        if bridge.flows.len() + flows.len() > crate::flow::table::MAX_FLOWS {
            return Err(invalid(crate::flow::table::TableError::Full.to_string()));
        }
        for spec in flows {
            // As `ovs-ofctl add-flow`: a flow replacing one with the same
            // match and priority starts its counters again.
            bridge
                .flows
                .add(spec, true, Origin::Local, now)
                .map_err(|e| invalid(e.to_string()))?;
        }
        bridge.flows_changed();
        Ok(Reply::Done)
    }

    pub(super) fn cmd_mod_flows(
        &mut self,
        bridge: &IfName,
        text: &str,
        strict: bool,
    ) -> Result<Reply, Error> {
        let b = self.find_bridge(bridge)?;
        let spec = self.parse_flow(b, text).map_err(invalid)?;
        // The selection is the flow's match part: without `table=` it is
        // every table (as `ovs-ofctl mod-flows`), which `parse_flow`'s
        // default of table 0 cannot say.
        let match_part = text.split("actions=").next().unwrap_or("");
        let filter = self.parse_filter(b, Some(match_part.trim_end_matches([',', ' '])))?;
        let now = Instant::now();
        let bridge = &mut self.bridges[b];
        bridge.flows.modify(&filter, strict, &spec.actions, false, now);
        bridge.flows_changed();
        Ok(Reply::Done)
    }

    pub(super) fn cmd_del_flows(
        &mut self,
        bridge: &IfName,
        filter: Option<&str>,
        strict: bool,
    ) -> Result<Reply, Error> {
        let b = self.find_bridge(bridge)?;
        let filter = self.parse_filter(b, filter)?;
        let bridge = &mut self.bridges[b];
        let gone = bridge.flows.delete(&filter, strict);
        bridge.flows_changed();
        self.of_flows_removed(b, gone.iter().map(|e| (e, RemovedReason::Delete)), Instant::now());
        self.of_flush_all();
        Ok(Reply::Done)
    }

    /// The tables become exactly `text`: flows already there with the same
    /// table, priority, match and actions keep their counters (as
    /// `ovs-ofctl replace-flows`), the rest are deleted or added.
    pub(super) fn cmd_replace_flows(&mut self, bridge: &IfName, text: &str) -> Result<Reply, Error> {
        let b = self.find_bridge(bridge)?;
        let wanted = self.parse_flows(b, text)?;
        if wanted.len() > crate::flow::table::MAX_FLOWS {
            return Err(invalid(crate::flow::table::TableError::Full.to_string()));
        }
        let now = Instant::now();
        let bridge = &mut self.bridges[b];
        // Hashed both ways: a file of tens of thousands of flows must not
        // cost a comparison of every pair.
        let wanted_set: HashSet<&FlowSpec> = wanted.iter().collect();
        let stale: Vec<_> = bridge
            .flows
            .iter()
            .filter(|(_, e)| !wanted_set.contains(&e.spec))
            .map(|(id, _)| id)
            .collect();
        for id in stale {
            bridge.flows.remove(id);
        }
        for spec in wanted {
            if bridge.flows.find(&spec).is_none() {
                bridge
                    .flows
                    .add(spec, true, Origin::Local, now)
                    .map_err(|e| invalid(e.to_string()))?;
            }
        }
        bridge.flows_changed();
        Ok(Reply::Done)
    }

    pub(super) fn cmd_dump_flows(
        &self,
        bridge: &IfName,
        filter: Option<&str>,
        table: Option<u8>,
    ) -> Result<Reply, Error> {
        let b = self.find_bridge(bridge)?;
        let mut filter = self.parse_filter(b, filter)?;
        if let Some(t) = table {
            if t != ALL_TABLES && filter.table != ALL_TABLES && filter.table != t {
                return Err(invalid(format!(
                    "--table {t} contradicts table={} in the match",
                    filter.table
                )));
            }
            filter.table = t;
        }
        let names = self.flow_names(b);
        let now = Instant::now();
        let flows = self.bridges[b]
            .flows
            .dump(&filter)
            .into_iter()
            .map(|e| flow_info(e, &names, now))
            .collect();
        Ok(Reply::Flows(FlowsInfo { flows }))
    }

    /// Removes the flows whose timeouts passed (once a second).
    pub(super) fn expire_flows(&mut self, now: Instant) {
        let keys: Vec<BridgeKey> = self.bridges.keys().collect();
        for b in keys {
            let bridge = &mut self.bridges[b];
            if bridge.default_flow.is_some() || !bridge.flows.has_timeouts() {
                continue;
            }
            let gone = bridge.flows.expire(now);
            if !gone.is_empty() {
                tracing::debug!(bridge = %bridge.name, n = gone.len(), "flows expired");
                bridge.flows_changed();
                self.of_flows_removed(b, gone.iter().map(|(e, why)| (e, *why)), now);
            }
        }
        self.of_flush_all();
    }

    /// The flows of bridge `b` as the db stores them: `None` while the
    /// bridge has only its default flow; else every flow switchctl added
    /// and that has no timeout (a timed flow would outlive its timeout
    /// across a restart; a controller's flows are the controller's to
    /// restore), printed with port numbers, which are stable.
    pub(super) fn flows_to_db(&self, b: BridgeKey) -> Option<Vec<String>> {
        let bridge = &self.bridges[b];
        if bridge.default_flow.is_some() {
            return None;
        }
        Some(
            bridge
                .flows
                .dump(&FlowFilter::default())
                .into_iter()
                .filter(|e| e.origin == Origin::Local && e.spec.idle_timeout == 0 && e.spec.hard_timeout == 0)
                .map(|e| syntax::format_flow(&e.spec, &NoNames))
                .collect(),
        )
    }

    /// Restores bridge `b`'s flows from the db (`None`: the default flow).
    /// The meters they use were restored first and checked with the db
    /// (`Db::validate`).
    pub(super) fn flows_from_db(&mut self, b: BridgeKey, flows: Option<&[String]>) -> Result<(), String> {
        let now = Instant::now();
        let mut table = FlowTable::new();
        match flows {
            None => {
                let _ = table.add(default_flow(), true, Origin::Local, now);
            }
            Some(lines) => {
                for (n, line) in lines.iter().enumerate() {
                    let spec =
                        syntax::parse_flow(line, &NoNames).map_err(|e| format!("flow {}: {e}", n + 1))?;
                    table
                        .add(spec, true, Origin::Local, now)
                        .map_err(|e| format!("flow {}: {e}", n + 1))?;
                }
            }
        }
        let bridge = &mut self.bridges[b];
        bridge.flows = table;
        bridge.flows_changed();
        Ok(())
    }
}

impl Engine {
    /// The flows a controller installed on bridge `b`, in the flow syntax,
    /// for the next image of an in-place restart (flows added with
    /// switchctl come back from the db). Flows that use a group are left
    /// out (groups are not handed over; the controller installs both again
    /// when it reconnects); how many is the second value.
    pub(super) fn flows_hand_over(&self, b: BridgeKey) -> (Vec<String>, usize) {
        let mut skipped = 0;
        let lines = self.bridges[b]
            .flows
            .dump(&FlowFilter::default())
            .into_iter()
            .filter(|e| e.origin == Origin::Controller)
            .filter(|e| {
                let group = e
                    .spec
                    .actions
                    .iter()
                    .any(|a| matches!(a, crate::flow::types::Action::Group(_)));
                skipped += usize::from(group);
                !group
            })
            .map(|e| syntax::format_flow(&e.spec, &NoNames))
            .collect();
        (lines, skipped)
    }

    /// Puts back the controller's flows handed over by the previous image,
    /// after the db's. Their counters and timeouts start again, as when
    /// Open vSwitch restores flows over an upgrade (`ovs-save`).
    pub(super) fn flows_take_over(&mut self, b: BridgeKey, lines: &[String]) -> Result<usize, String> {
        let now = Instant::now();
        let mut specs = Vec::with_capacity(lines.len());
        for (n, line) in lines.iter().enumerate() {
            specs.push(syntax::parse_flow(line, &NoNames).map_err(|e| format!("flow {}: {e}", n + 1))?);
        }
        let bridge = &mut self.bridges[b];
        for (n, spec) in specs.into_iter().enumerate() {
            bridge
                .flows
                .add(spec, true, Origin::Controller, now)
                .map_err(|e| format!("flow {}: {e}", n + 1))?;
        }
        bridge.flows_changed();
        Ok(lines.len())
    }
}

/// One flow as `dump-flows` shows it.
fn flow_info(e: &Entry, names: &Names, now: Instant) -> FlowInfo {
    let s = &e.spec;
    let age = now.saturating_duration_since(e.created);
    FlowInfo {
        table: s.table,
        priority: s.priority,
        cookie: s.cookie,
        flow_match: format_match(&s.matching, names),
        actions: format_actions_in(&s.actions, &s.matching, names),
        n_packets: e.n_packets(),
        n_bytes: e.n_bytes(),
        duration: age,
        idle_age_s: now.saturating_duration_since(e.used()).as_secs(),
        idle_timeout: s.idle_timeout,
        hard_timeout: s.hard_timeout,
    }
}
