//! A whole command line checked against switchd's state and turned into the
//! requests to send and the reads to run, in order, before anything is
//! sent.
//!
//! Open vSwitch runs a command line as one database transaction: all or
//! nothing, and only the final state has to make sense. switchd takes one
//! request at a time, so this face gets as close as it can:
//!
//! - Every command is checked first, against a model of switchd's state
//!   (its `show`) that each command updates as it would: names, records,
//!   columns, values, and the port and bridge configurations they lead to
//!   (with proto's own validation). A command line with a bad word changes
//!   nothing.
//! - Consecutive changes of one port (no read in between) are folded into
//!   one request: into its `add-port` when the port is created on the same
//!   line (so `add-port br0 tap0 -- set interface tap0 type=internal`
//!   creates a tap port at once, and `ofport_request` can be set that way),
//!   else into one `set port` and one `clear port`, sent in whichever order
//!   keeps the port valid in between (libvirt clears `tag`, `trunks` and
//!   `vlan_mode`, then sets `tag`). Consecutive changes of a bridge's
//!   settings, and of one record's `external_ids`, are folded likewise.
//! - What remains is sent in order; the first refusal stops the line (the
//!   changes already made stay; this is the one way the face is not
//!   transactional).
//!
//! `br-exists` of a missing bridge ends the line with status 2 before
//! anything is sent, as OVS aborts its transaction.

use std::collections::BTreeMap;

use proto::request::EXTERNAL_IDS_MAX;
use proto::{
    BridgeInfo, BridgeSetting, ClearKey, ControllerInfo, ControllerRole, ControllerState, ControllerTarget,
    ExternalIdsTable, FailMode, IfName, InvalidValue, MacAddr, OfVersions, PortConfig, PortInfo, PortState,
    PortType, Request, RstpBridgeConfig,
};

use crate::ovs::args::Command;
use crate::ovs::columns::{as_strings, assign, Op, PortOp};
use crate::ovs::datum::{parse_datum, parse_string, Atom, ColumnType, Datum, UNLIMITED};
use crate::ovs::db::{iface_names, Db, Snapshot};
use crate::ovs::read::{self, Read};
use crate::ovs::schema::{self, column_arg, Access, Column, ColumnError, Table};

/// One thing to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send a request; a refusal stops the line.
    Send(Request),
    /// Run a read against switchd's state at that point.
    Read(Read),
}

/// The steps of a command line, and which commands print something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// What to do, in order.
    pub steps: Vec<Step>,
    /// Per command, whether it is a read (its output is the next read's);
    /// the others print nothing (an empty line with `--oneline`).
    pub prints: Vec<bool>,
}

/// What a command line comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Do these steps.
    Run(Plan),
    /// Stop with this exit status, sending nothing (`br-exists`).
    Exit(u8),
}

/// An action before folding is finished.
#[derive(Debug, Clone)]
enum Action {
    Send(Request),
    /// `add-port` (or `add-bond` with members), collecting the settings of
    /// later commands on the same port.
    AddPort {
        bridge: IfName,
        port: IfName,
        members: Option<Vec<IfName>>,
        settings: Vec<proto::PortSetting>,
        may_exist: bool,
    },
    /// Changes of an existing port: its configuration before, the keys to
    /// set and those to clear.
    PortEdit {
        port: IfName,
        start: PortConfig,
        sets: Vec<proto::PortSetting>,
        clears: Vec<ClearKey>,
    },
    ExtIds {
        table: ExternalIdsTable,
        record: IfName,
        clear: bool,
        remove: Vec<String>,
        set: BTreeMap<String, String>,
    },
    SetBridge {
        bridge: IfName,
        start: RstpBridgeConfig,
        settings: Vec<BridgeSetting>,
    },
    Read(Read),
}

impl Action {
    /// Whether later changes may not be folded into an action before this
    /// one: a read must see what came before it, and a port or bridge
    /// that is added or removed is another one afterwards.
    fn is_barrier(&self) -> bool {
        matches!(
            self,
            Action::Read(_)
                | Action::Send(Request::AddBr { .. } | Request::DelBr { .. } | Request::DelPort { .. })
        )
    }
}

/// Plans `commands` against switchd's `bridges`.
pub fn plan(commands: &[Command], bridges: Vec<BridgeInfo>) -> Result<Outcome, String> {
    let mut p = Planner {
        model: bridges,
        actions: Vec::new(),
    };
    let mut prints = Vec::new();
    for c in commands {
        let before = p.reads();
        if let Some(code) = p.command(c)? {
            return Ok(Outcome::Exit(code));
        }
        prints.push(p.reads() > before);
    }
    let steps = p.finish()?;
    Ok(Outcome::Run(Plan { steps, prints }))
}

struct Planner {
    /// switchd's state as the commands so far leave it.
    model: Vec<BridgeInfo>,
    actions: Vec<Action>,
}

fn invalid(e: InvalidValue) -> String {
    e.0
}

/// A name for something to create: not empty (OVS's message), a valid
/// interface name (proto's).
fn new_name(s: &str, what: &str) -> Result<IfName, String> {
    if s.is_empty() {
        return Err(format!("{what} name must not be empty string"));
    }
    s.parse().map_err(invalid)
}

/// A name that was found in the model, so valid.
fn name(s: &str) -> Result<IfName, String> {
    s.parse().map_err(invalid)
}

fn new_bridge(name: &str) -> BridgeInfo {
    BridgeInfo {
        name: name.into(),
        mac: MacAddr::default(),
        mac_aging: proto::types::MAC_AGING_DEFAULT,
        mac_table_size: proto::types::MAC_TABLE_SIZE_DEFAULT,
        mac_entries: 0,
        rstp: RstpBridgeConfig::default(),
        fail_mode: FailMode::default(),
        protocols: OfVersions::default(),
        datapath_id: None,
        controllers: Vec::new(),
        sflow: Vec::new(),
        ipfix: Vec::new(),
        external_ids: BTreeMap::new(),
        ports: Vec::new(),
    }
}

fn new_port(name: &str, config: PortConfig) -> PortInfo {
    PortInfo {
        name: name.into(),
        ofport: None,
        port_type: config.port_type,
        vlan_mode: config.effective_vlan_mode(),
        config,
        state: PortState::Down {
            reason: "not attached yet".into(),
        },
        mtu: None,
    }
}

/// The key a clear removes, as the setting that sets it names it.
fn clear_key_name(k: ClearKey) -> &'static str {
    match k {
        ClearKey::Tag => "tag",
        ClearKey::Trunks => "trunks",
        ClearKey::VlanMode => "vlan_mode",
    }
}

fn ext_table(t: Table) -> ExternalIdsTable {
    match t {
        Table::Bridge => ExternalIdsTable::Bridge,
        Table::Port => ExternalIdsTable::Port,
        _ => ExternalIdsTable::Interface,
    }
}

impl Planner {
    fn reads(&self) -> usize {
        self.actions
            .iter()
            .filter(|a| matches!(a, Action::Read(_)))
            .count()
    }

    fn bridge(&self, name: &str) -> Option<&BridgeInfo> {
        self.model.iter().find(|b| b.name == name)
    }

    fn bridge_mut(&mut self, name: &str) -> Option<&mut BridgeInfo> {
        self.model.iter_mut().find(|b| b.name == name)
    }

    fn must_bridge(&self, name: &str) -> Result<&BridgeInfo, String> {
        self.bridge(name).ok_or_else(|| format!("no bridge named {name}"))
    }

    /// The bridge and port of port `name`.
    fn port(&self, name: &str) -> Option<(&BridgeInfo, &PortInfo)> {
        self.model
            .iter()
            .find_map(|b| b.ports.iter().find(|p| p.name == name).map(|p| (b, p)))
    }

    fn port_mut(&mut self, name: &str) -> Option<&mut PortInfo> {
        self.model
            .iter_mut()
            .find_map(|b| b.ports.iter_mut().find(|p| p.name == name))
    }

    /// The bridge and port of interface `name` (a port, or a bond member).
    fn iface(&self, name: &str) -> Option<(&BridgeInfo, &PortInfo)> {
        self.model.iter().find_map(|b| {
            b.ports
                .iter()
                .find(|p| iface_names(p).iter().any(|i| i == name))
                .map(|p| (b, p))
        })
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            bridges: self.model.clone(),
            stats: Vec::new(),
        }
    }

    /// OVS's `check_conflicts`: a new bridge, port or interface may not
    /// take the name of any of them.
    fn check_conflicts(&self, name: &str, what: &str) -> Result<(), String> {
        if self.bridge(name).is_some() {
            return Err(format!("{what} because a bridge named {name} already exists"));
        }
        if let Some((b, _)) = self.port(name) {
            return Err(format!(
                "{what} because a port named {name} already exists on bridge {}",
                b.name
            ));
        }
        if let Some((b, _)) = self.iface(name) {
            return Err(format!(
                "{what} because an interface named {name} already exists on bridge {}",
                b.name
            ));
        }
        Ok(())
    }

    /// A read: checked against the model now, run for real later.
    fn read(&mut self, r: Read) -> Result<(), String> {
        r.run(&self.snapshot())?;
        self.actions.push(Action::Read(r));
        Ok(())
    }

    /// Plans one command; `Some(status)` ends the line.
    fn command(&mut self, c: &Command) -> Result<Option<u8>, String> {
        let a = &c.args;
        let arg = |i: usize| a[i].clone();
        match c.name {
            "init" | "comment" => {}
            "show" => self.read(Read::Show)?,
            "add-br" => self.add_br(c)?,
            "del-br" => {
                if self.bridge(&a[0]).is_some() {
                    self.actions.push(Action::Send(Request::DelBr {
                        bridge: name(&a[0])?,
                        if_exists: false,
                    }));
                    self.model.retain(|b| b.name != a[0]);
                } else if !c.has("--if-exists") {
                    return Err(format!("no bridge named {}", a[0]));
                }
            }
            "list-br" => self.read(Read::ListBr(c.has("--real") || !c.has("--fake")))?,
            "br-exists" => {
                if self.bridge(&a[0]).is_none() {
                    return Ok(Some(2));
                }
            }
            "br-to-vlan" => self.read(Read::BrToVlan(arg(0)))?,
            "br-to-parent" => self.read(Read::BrToParent(arg(0)))?,
            "br-set-external-id" => {
                self.must_bridge(&a[0])?;
                let (remove, set) = match a.get(2) {
                    Some(v) => (Vec::new(), BTreeMap::from([(arg(1), v.clone())])),
                    None => (vec![arg(1)], BTreeMap::new()),
                };
                self.ext_ids(Table::Bridge, &a[0], false, remove, set)?;
            }
            "br-get-external-id" => self.read(Read::BrExternalId(arg(0), a.get(1).cloned()))?,
            "list-ports" => self.read(Read::ListPorts(arg(0)))?,
            "list-ifaces" => self.read(Read::ListIfaces(arg(0)))?,
            "port-to-br" => self.read(Read::PortToBr(arg(0)))?,
            "iface-to-br" => self.read(Read::IfaceToBr(arg(0)))?,
            "add-port" => self.add_port(c, &a[0], &a[1], None, &a[2..])?,
            "add-bond" => self.add_bond(c)?,
            "del-port" => self.del_port(c)?,
            "get-controller" => self.read(Read::GetController(arg(0)))?,
            "get-fail-mode" => self.read(Read::GetFailMode(arg(0)))?,
            "del-controller" => {
                self.must_bridge(&a[0])?;
                self.actions
                    .push(Action::Send(Request::DelController { bridge: name(&a[0])? }));
                if let Some(b) = self.bridge_mut(&a[0]) {
                    b.controllers.clear();
                }
            }
            "set-controller" => self.set_controller(c)?,
            "set-fail-mode" => {
                self.must_bridge(&a[0])?;
                let mode = match a[1].as_str() {
                    "standalone" => FailMode::Standalone,
                    "secure" => FailMode::Secure,
                    _ => return Err("fail-mode must be \"standalone\" or \"secure\"".into()),
                };
                self.bridge_setting(&a[0], BridgeSetting::FailMode(mode))?;
            }
            "del-fail-mode" => {
                self.must_bridge(&a[0])?;
                self.bridge_setting(&a[0], BridgeSetting::FailMode(FailMode::Standalone))?;
            }
            "get" => {
                if c.has("--id") {
                    return Err("--id is not supported by switchd (it keeps no row references)".into());
                }
                let table = schema::table(&a[0])?;
                let items = a[2..]
                    .iter()
                    .map(|i| read::get_item(table, i))
                    .collect::<Result<Vec<_>, _>>()?;
                self.read(Read::Get {
                    table,
                    record: arg(1),
                    items,
                    must_exist: !c.has("--if-exists"),
                })?;
            }
            "list" => {
                let table = schema::table(&a[0])?;
                let columns = read::columns(table, c.value("--columns"))?;
                self.read(Read::List {
                    table,
                    records: a[1..].to_vec(),
                    columns,
                    must_exist: !c.has("--if-exists"),
                })?;
            }
            "find" => {
                let table = schema::table(&a[0])?;
                let columns = read::columns(table, c.value("--columns"))?;
                let conditions = a[1..]
                    .iter()
                    .map(|x| read::condition(table, x))
                    .collect::<Result<Vec<_>, _>>()?;
                self.read(Read::Find {
                    table,
                    conditions,
                    columns,
                })?;
            }
            "set" | "add" | "remove" | "clear" => self.db_write(c)?,
            other => return Err(format!("'{other}' command is not supported by switchd")),
        }
        Ok(None)
    }

    fn add_br(&mut self, c: &Command) -> Result<(), String> {
        let a = &c.args;
        match a.len() {
            1 => {}
            3 => {
                return Err(format!(
                    "add-br {} {} {}: fake (VLAN) bridges are not supported by switchd; add the port \
                     to {} with tag={} instead",
                    a[0], a[1], a[2], a[1], a[2]
                ))
            }
            _ => return Err("'add-br' command takes exactly 1 or 3 arguments".into()),
        }
        let br = &a[0];
        if br.is_empty() {
            return Err("bridge name must not be empty string".into());
        }
        let may_exist = c.has("--may-exist");
        if may_exist && self.bridge(br).is_some() {
            return Ok(());
        }
        self.check_conflicts(br, &format!("cannot create a bridge named {br}"))?;
        let bridge = new_name(br, "bridge")?;
        self.actions.push(Action::Send(Request::AddBr {
            bridge: bridge.clone(),
            may_exist,
        }));
        self.model.push(new_bridge(br));
        // As OVS, a bridge comes with its local port: an `internal`
        // interface named after it (a TAP here), the device recipes give
        // the host's address to (`ip addr add ... dev br0`) and whose MTU
        // libvirt reads for a guest's tap.
        let local = PortConfig {
            port_type: PortType::Tap,
            ..PortConfig::default()
        };
        self.actions.push(Action::AddPort {
            port: new_name(br, "port")?,
            bridge,
            members: None,
            settings: vec![proto::PortSetting::Type(PortType::Tap)],
            may_exist,
        });
        if let Some(b) = self.bridge_mut(br) {
            b.ports.push(new_port(br, local));
        }
        Ok(())
    }

    /// The command as OVS quotes it in `--may-exist` messages.
    fn command_text(c: &Command) -> String {
        let mut words: Vec<&str> = c.options.iter().map(|(k, _)| k.as_str()).collect();
        words.push(c.name);
        words.extend(c.args.iter().map(String::as_str));
        words.join(" ")
    }

    /// `add-port`, and `add-bond` with `members`.
    fn add_port(
        &mut self,
        c: &Command,
        br: &str,
        port: &str,
        members: Option<Vec<String>>,
        settings: &[String],
    ) -> Result<(), String> {
        if port.is_empty() {
            return Err("port name must not be empty string".into());
        }
        for m in members.iter().flatten() {
            if m.is_empty() {
                return Err("interface name must not be empty string".into());
            }
        }
        let may_exist = c.has("--may-exist");
        if may_exist {
            if let Some((b, p)) = self.port(port) {
                let text = Self::command_text(c);
                if b.name != br {
                    return Err(format!(
                        "\"{text}\" but {port} is actually attached to bridge {}",
                        b.name
                    ));
                }
                let mut want = members.clone().unwrap_or_else(|| vec![port.to_owned()]);
                let mut have = iface_names(p);
                want.sort();
                have.sort();
                if want != have {
                    return Err(format!(
                        "\"{text}\" but {port} actually has interface(s) {}",
                        have.join(", ")
                    ));
                }
                return Ok(());
            }
        }
        self.check_conflicts(port, &format!("cannot create a port named {port}"))?;
        for m in members.iter().flatten() {
            self.check_conflicts(m, &format!("cannot create an interface named {m}"))?;
        }
        self.must_bridge(br)?;
        let bridge = name(br)?;
        let port_name = new_name(port, "port")?;
        let members = members
            .map(|m| {
                m.iter()
                    .map(|n| new_name(n, "interface"))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let config = match &members {
            Some(m) => PortConfig {
                port_type: PortType::Bond,
                members: Some(m.clone()),
                ..PortConfig::default()
            },
            None => PortConfig::default(),
        };
        let is_bond = members.is_some();
        self.actions.push(Action::AddPort {
            bridge,
            port: port_name,
            members,
            settings: Vec::new(),
            may_exist,
        });
        if let Some(b) = self.bridge_mut(br) {
            b.ports.push(new_port(port, config));
        }
        for s in settings {
            // As OVS, the settings are Port columns; add-port also takes
            // the Interface columns of the port's interface.
            match self.set_arg(Table::Port, port, s) {
                Err(ColumnError::NoMatch(e)) if !is_bond => match self.set_arg(Table::Interface, port, s) {
                    Err(ColumnError::NoMatch(_)) => return Err(e),
                    other => other.map_err(ColumnError::message)?,
                },
                other => other.map_err(ColumnError::message)?,
            }
        }
        Ok(())
    }

    fn add_bond(&mut self, c: &Command) -> Result<(), String> {
        let a = &c.args;
        if c.has("--fake-iface") {
            return Err(
                "--fake-iface is not supported by switchd (a bond has no interface of its own)".into(),
            );
        }
        let rest = &a[2..];
        let n = rest.iter().position(|x| x.contains('=')).unwrap_or(rest.len());
        if n < 2 {
            return Err(format!(
                "add-bond requires at least 2 interfaces, but only {n} were specified"
            ));
        }
        self.add_port(c, &a[0], &a[1], Some(rest[..n].to_vec()), &rest[n..])
    }

    fn del_port(&mut self, c: &Command) -> Result<(), String> {
        let a = &c.args;
        let must_exist = !c.has("--if-exists");
        let target = &a[a.len() - 1];
        let port = if self.bridge(target).is_some() {
            if must_exist {
                return Err(format!(
                    "cannot delete port {target} because it is the local port for bridge {target} \
                     (deleting this port requires deleting the entire bridge)"
                ));
            }
            None
        } else if !c.has("--with-iface") {
            let p = self.port(target);
            if p.is_none() && must_exist {
                return Err(format!("no port named {target}"));
            }
            p
        } else {
            let p = self.port(target).or_else(|| self.iface(target));
            if p.is_none() && must_exist {
                return Err(format!("no port or interface named {target}"));
            }
            p
        };
        let Some((b, p)) = port else { return Ok(()) };
        let (bname, pname) = (b.name.clone(), p.name.clone());
        let bridge = if a.len() == 2 {
            self.must_bridge(&a[0])?;
            if bname != a[0] {
                return Err(format!("bridge {} does not have a port {}", a[0], a[1]));
            }
            Some(name(&a[0])?)
        } else {
            None
        };
        self.actions.push(Action::Send(Request::DelPort {
            bridge,
            port: name(&pname)?,
            if_exists: false,
        }));
        if let Some(b) = self.bridge_mut(&bname) {
            b.ports.retain(|p| p.name != pname);
        }
        Ok(())
    }

    fn set_controller(&mut self, c: &Command) -> Result<(), String> {
        if c.has("--inactivity-probe") {
            return Err("--inactivity-probe is not supported by switchd".into());
        }
        let a = &c.args;
        self.must_bridge(&a[0])?;
        let targets = a[1..]
            .iter()
            .map(|t| t.parse::<ControllerTarget>().map_err(invalid))
            .collect::<Result<Vec<_>, _>>()?;
        let infos = targets
            .iter()
            .map(|t| ControllerInfo {
                target: t.to_string(),
                state: ControllerState::Connecting,
                role: ControllerRole::Equal,
                version: None,
                last_error: None,
                packet_ins_dropped: 0,
            })
            .collect();
        self.actions.push(Action::Send(Request::SetController {
            bridge: name(&a[0])?,
            targets,
        }));
        if let Some(b) = self.bridge_mut(&a[0]) {
            b.controllers = infos;
        }
        Ok(())
    }

    /// `set`, `add`, `remove` and `clear` on a record.
    fn db_write(&mut self, c: &Command) -> Result<(), String> {
        let a = &c.args;
        let table = schema::table(&a[0])?;
        if table == Table::OpenVswitch {
            return Err("table Open_vSwitch is read-only in switchd (it has no settings of its own)".into());
        }
        // As OVS, the column names are checked before the record is looked
        // up (the rest of each argument after).
        let names = match c.name {
            "set" => &a[2..],
            "clear" => &a[2..],
            _ => &a[2..3],
        };
        for x in names {
            let name = if c.name == "set" {
                crate::ovs::datum::parse_token(x)?.0
            } else {
                x.clone()
            };
            if name.is_empty() {
                return Err(format!("{x}: missing column name"));
            }
            schema::column(table, &name).map_err(ColumnError::message)?;
        }
        let db = Db::new(&self.snapshot());
        let row = if c.has("--if-exists") {
            match db.row(table, &a[1])? {
                Some(r) => r,
                None => return Ok(()),
            }
        } else {
            db.must_row(table, &a[1])?
        };
        if row.member {
            return Err(format!(
                "Interface {} is a member of bond {}: switchd keeps no settings per bond member (set Port {} \
                 instead)",
                row.name, row.parent, row.parent
            ));
        }
        let record = row.name.clone();
        match c.name {
            "set" => {
                for x in &a[2..] {
                    self.set_arg(table, &record, x).map_err(ColumnError::message)?;
                }
                Ok(())
            }
            "clear" => {
                for x in &a[2..] {
                    let col = schema::column(table, x).map_err(ColumnError::message)?;
                    writable(table, col)?;
                    if col.ty.min > 0 {
                        return Err(format!(
                            "\"clear\" operation cannot be applied to column {} of table {}, which is not \
                             allowed to be empty",
                            col.name,
                            table.name()
                        ));
                    }
                    if col.name == "external_ids" {
                        // Every key, also one added since the line began.
                        self.ext_ids(table, &record, true, Vec::new(), BTreeMap::new())?;
                    } else {
                        self.assign(table, &record, col, &Datum::empty())?;
                    }
                }
                Ok(())
            }
            _ => {
                let col = schema::column(table, &a[2]).map_err(ColumnError::message)?;
                writable(table, col)?;
                let cur = as_strings(&self.current(table, &record, col)?);
                let new = if c.name == "add" {
                    add(table, col, cur, &a[3..])?
                } else {
                    remove(table, col, cur, &a[3..])?
                };
                self.assign(table, &record, col, &new)
            }
        }
    }

    /// The value column `col` of `record` holds now (the model changes
    /// with every command, so the rows are built afresh).
    fn current(&self, table: Table, record: &str, col: &Column) -> Result<Datum, String> {
        let db = Db::new(&self.snapshot());
        Ok(db.must_row(table, record)?.get(table, col.name).clone())
    }

    /// One `COLUMN[:KEY]=VALUE` on `record`.
    fn set_arg(&mut self, table: Table, record: &str, arg: &str) -> Result<(), ColumnError> {
        let other = ColumnError::Other;
        let a = column_arg(table, arg, &["="])?;
        let col = a.column;
        writable(table, col).map_err(other)?;
        let value = a.value.unwrap_or_default();
        let new = match a.key {
            Some(_) if !col.ty.is_map() => {
                return Err(other(format!(
                    "cannot specify key to set for non-map column {}",
                    col.name
                )))
            }
            Some(k) => {
                let key = parse_string(&k).map_err(other)?;
                schema::check_key(table, col, &key).map_err(other)?;
                let v = parse_string(&value).map_err(other)?;
                let cur = as_strings(&self.current(table, record, col).map_err(other)?);
                let kept = cur.pairs().filter(|(k, _)| k.text() != key);
                let pairs: Vec<(Atom, Atom)> = kept.map(|(k, v)| (k.clone(), v.clone())).collect();
                Datum::map(pairs.into_iter().chain([(Atom::Str(key), Atom::Str(v))]))
            }
            None => parse_datum(&value, &col.ty.as_strings()).map_err(other)?,
        };
        self.assign(table, record, col, &new).map_err(other)
    }

    /// Makes column `col` of `record` hold `new`.
    fn assign(&mut self, table: Table, record: &str, col: &Column, new: &Datum) -> Result<(), String> {
        let cur = self.current(table, record, col)?;
        for op in assign(table, col, &cur, new)? {
            match op {
                Op::Port(op) => self.port_op(record, op)?,
                Op::ExtIds { remove, set } => self.ext_ids(table, record, false, remove, set)?,
                Op::Bridge(s) => self.bridge_setting(record, s)?,
            }
        }
        Ok(())
    }

    /// Folds a change of port `port` into the latest action on it, or
    /// starts a new one; updates the model.
    fn port_op(&mut self, port: &str, op: PortOp) -> Result<(), String> {
        let target = self.actions.iter().rposition(|a| match a {
            Action::AddPort { port: p, .. } | Action::PortEdit { port: p, .. } => p.as_str() == port,
            a => a.is_barrier(),
        });
        let target = target.filter(|&i| !self.actions[i].is_barrier());
        let key = match &op {
            PortOp::Set(s) => s.key(),
            PortOp::Clear(k) => clear_key_name(*k),
        };
        match target.map(|i| &mut self.actions[i]) {
            Some(Action::AddPort { settings, .. }) => {
                settings.retain(|s| s.key() != key);
                if let PortOp::Set(s) = &op {
                    settings.push(s.clone());
                }
            }
            Some(Action::PortEdit { sets, clears, .. }) => {
                sets.retain(|s| s.key() != key);
                clears.retain(|k| clear_key_name(*k) != key);
                match &op {
                    PortOp::Set(s) => sets.push(s.clone()),
                    PortOp::Clear(k) => clears.push(*k),
                }
            }
            _ => {
                let start = self
                    .port(port)
                    .map(|(_, p)| p.config.clone())
                    .ok_or_else(|| format!("no port named {port}"))?;
                let (sets, clears) = match &op {
                    PortOp::Set(s) => (vec![s.clone()], Vec::new()),
                    PortOp::Clear(k) => (Vec::new(), vec![*k]),
                };
                self.actions.push(Action::PortEdit {
                    port: name(port)?,
                    start,
                    sets,
                    clears,
                });
            }
        }
        if let Some(p) = self.port_mut(port) {
            match op {
                PortOp::Set(s) => p.config.set(s),
                PortOp::Clear(k) => p.config.clear(k),
            }
            p.port_type = p.config.port_type;
            p.vlan_mode = p.config.effective_vlan_mode();
        }
        Ok(())
    }

    /// Changes the `external_ids` of a record, folded into the latest
    /// change of the same record's.
    fn ext_ids(
        &mut self,
        table: Table,
        record: &str,
        clear: bool,
        remove: Vec<String>,
        set: BTreeMap<String, String>,
    ) -> Result<(), String> {
        let t = ext_table(table);
        // The model first: it also counts the keys.
        let map = match table {
            Table::Bridge => self.bridge_mut(record).map(|b| &mut b.external_ids),
            Table::Port => self.port_mut(record).map(|p| &mut p.config.port_external_ids),
            _ => self.port_mut(record).map(|p| &mut p.config.external_ids),
        }
        .ok_or_else(|| format!("no row \"{record}\" in table {}", table.name()))?;
        if clear {
            map.clear();
        }
        for k in &remove {
            map.remove(k);
        }
        map.extend(set.clone());
        if map.len() > EXTERNAL_IDS_MAX {
            return Err(format!(
                "{} {record:?}: at most {EXTERNAL_IDS_MAX} external_ids",
                t.as_str()
            ));
        }
        let last = self.actions.iter().rposition(|a| match a {
            Action::ExtIds {
                table: tt, record: r, ..
            } => *tt == t && r.as_str() == record,
            a => a.is_barrier(),
        });
        if let Some(Action::ExtIds {
            clear: c0,
            remove: r0,
            set: s0,
            ..
        }) = last.map(|i| &mut self.actions[i])
        {
            if clear {
                *c0 = true;
                r0.clear();
                s0.clear();
            }
            for k in remove {
                s0.remove(&k);
                if !r0.contains(&k) {
                    r0.push(k);
                }
            }
            for (k, v) in set {
                r0.retain(|x| *x != k);
                s0.insert(k, v);
            }
            return Ok(());
        }
        self.actions.push(Action::ExtIds {
            table: t,
            record: name(record)?,
            clear,
            remove,
            set,
        });
        Ok(())
    }

    /// A bridge setting, folded into the latest settings of the bridge.
    fn bridge_setting(&mut self, bridge: &str, s: BridgeSetting) -> Result<(), String> {
        let start = self.must_bridge(bridge)?.rstp;
        let last = self.actions.iter().rposition(|a| match a {
            Action::SetBridge { bridge: b, .. } => b.as_str() == bridge,
            a => a.is_barrier(),
        });
        match last.map(|i| &mut self.actions[i]) {
            Some(Action::SetBridge { settings, .. }) => {
                settings.retain(|x| x.key() != s.key());
                settings.push(s);
            }
            _ => self.actions.push(Action::SetBridge {
                bridge: name(bridge)?,
                start,
                settings: vec![s],
            }),
        }
        if let Some(b) = self.bridge_mut(bridge) {
            b.rstp.apply(&s);
            match s {
                BridgeSetting::MacAging(v) => b.mac_aging = v,
                BridgeSetting::MacTableSize(v) => b.mac_table_size = v,
                BridgeSetting::FailMode(m) => b.fail_mode = m,
                BridgeSetting::Protocols(p) => b.protocols = p,
                BridgeSetting::DatapathId(d) => b.datapath_id = Some(d),
                _ => {}
            }
        }
        Ok(())
    }

    /// The steps: each folded action checked as switchd will check it and
    /// turned into its requests.
    fn finish(self) -> Result<Vec<Step>, String> {
        let mut steps = Vec::new();
        let send = |steps: &mut Vec<Step>, r: Request| -> Result<(), String> {
            r.validate().map_err(invalid)?;
            steps.push(Step::Send(r));
            Ok(())
        };
        for a in self.actions {
            match a {
                Action::Read(r) => steps.push(Step::Read(r)),
                Action::Send(r) => send(&mut steps, r)?,
                Action::AddPort {
                    bridge,
                    port,
                    members: None,
                    settings,
                    may_exist,
                } => {
                    PortConfig::from_settings(&settings)
                        .map_err(|e| format!("cannot add port {:?}: {e}", port.as_str()))?;
                    send(
                        &mut steps,
                        Request::AddPort {
                            bridge,
                            port,
                            settings,
                            may_exist,
                            missing_ok: true,
                        },
                    )?;
                }
                Action::AddPort {
                    bridge,
                    port,
                    members: Some(members),
                    settings,
                    may_exist,
                } => send(
                    &mut steps,
                    Request::AddBond {
                        bridge,
                        bond: port,
                        members,
                        settings,
                        may_exist,
                    },
                )?,
                Action::PortEdit {
                    port,
                    start,
                    sets,
                    clears,
                } => {
                    for r in port_edit(port, &start, sets, clears)? {
                        send(&mut steps, r)?;
                    }
                }
                Action::ExtIds {
                    table,
                    record,
                    clear,
                    remove,
                    set,
                } => send(
                    &mut steps,
                    Request::SetExternalIds {
                        table,
                        record,
                        clear,
                        remove,
                        set,
                    },
                )?,
                Action::SetBridge {
                    bridge,
                    start,
                    settings,
                } => {
                    let mut rstp = start;
                    for s in &settings {
                        s.validate().map_err(invalid)?;
                        rstp.apply(s);
                    }
                    rstp.check()
                        .map_err(|e| format!("bridge {:?}: {e}", bridge.as_str()))?;
                    send(&mut steps, Request::SetBridge { bridge, settings })?;
                }
            }
        }
        Ok(steps)
    }
}

/// Refuses writing a read-only column (OVS's message, and what to do
/// instead).
fn writable(table: Table, col: &Column) -> Result<(), String> {
    match col.access {
        Access::Write => Ok(()),
        Access::Read(hint) => {
            let mut e = format!(
                "cannot modify read-only column {} in table {}",
                col.name,
                table.name()
            );
            if !hint.is_empty() {
                e.push_str(" (");
                e.push_str(hint);
                e.push(')');
            }
            Err(e)
        }
    }
}

/// `add TABLE REC COLUMN VALUE...`: the column with the values added (a
/// map keeps the value of a key it has, as OVS).
fn add(table: Table, col: &Column, cur: Datum, values: &[String]) -> Result<Datum, String> {
    let ty = ColumnType {
        min: 1,
        max: UNLIMITED,
        ..col.ty.as_strings()
    };
    let mut out = cur;
    for v in values {
        let d = parse_datum(v, &ty)?;
        out = if ty.is_map() {
            let mut pairs: Vec<(Atom, Atom)> = out.pairs().map(|(k, v)| (k.clone(), v.clone())).collect();
            for (k, v) in d.pairs() {
                if !pairs.iter().any(|(x, _)| x == k) {
                    pairs.push((k.clone(), v.clone()));
                }
            }
            Datum::map(pairs)
        } else {
            Datum::set(out.keys.into_iter().chain(d.keys))
        };
    }
    if out.len() as u64 > u64::from(col.ty.max) {
        return Err(format!(
            "\"add\" operation would put {} {} in column {} of table {} but the maximum number is {}",
            out.len(),
            if ty.is_map() { "pairs" } else { "values" },
            col.name,
            table.name(),
            col.ty.max
        ));
    }
    Ok(out)
}

/// `remove TABLE REC COLUMN KEY|VALUE|KEY=VALUE...`: the column without
/// them (a `KEY=VALUE` only if the key has that value).
fn remove(table: Table, col: &Column, cur: Datum, values: &[String]) -> Result<Datum, String> {
    let ty = ColumnType {
        min: 1,
        max: UNLIMITED,
        ..col.ty.as_strings()
    };
    let mut out = cur;
    for v in values {
        let (pairs, keys) = match parse_datum(v, &ty) {
            Ok(d) if ty.is_map() => (d, Datum::empty()),
            Ok(d) => (Datum::empty(), d),
            Err(e) if !ty.is_map() => return Err(e),
            Err(_) => (Datum::empty(), parse_datum(v, &ColumnType { value: None, ..ty })?),
        };
        let gone =
            |k: &Atom, val: Option<&Atom>| keys.keys.contains(k) || (val.is_some() && pairs.get(k) == val);
        out = if ty.is_map() {
            Datum::map(
                out.pairs()
                    .filter(|(k, v)| !gone(k, Some(v)))
                    .map(|(k, v)| (k.clone(), v.clone())),
            )
        } else {
            Datum::set(out.keys.into_iter().filter(|k| !gone(k, None)))
        };
    }
    if (out.len() as u64) < u64::from(col.ty.min) {
        return Err(format!(
            "\"remove\" operation would put {} {} in column {} of table {} but the minimum number is {}",
            out.len(),
            if ty.is_map() { "pairs" } else { "values" },
            col.name,
            table.name(),
            col.ty.min
        ));
    }
    Ok(out)
}

/// The requests that take `port` from `start` through the `sets` and
/// `clears` of one command line: a `set port` and/or a `clear port`, in the
/// order that keeps the port valid after each (switchd checks each), or a
/// refusal when no order does.
fn port_edit(
    port: IfName,
    start: &PortConfig,
    mut sets: Vec<proto::PortSetting>,
    clears: Vec<ClearKey>,
) -> Result<Vec<Request>, String> {
    let with = |clears: &[ClearKey], sets: &[proto::PortSetting]| {
        let mut c = start.clone();
        clears.iter().for_each(|k| c.clear(*k));
        sets.iter().for_each(|s| c.set(s.clone()));
        c
    };
    let fin = with(&clears, &sets);
    if fin == *start {
        return Ok(Vec::new());
    }
    let named = |e: InvalidValue| format!("port {:?}: {e}", port.as_str());
    fin.validate().map_err(named)?;
    // switchd refuses a new ofport_request on an existing port.
    sets.retain(|s| !matches!(s, proto::PortSetting::OfportRequest(n) if start.ofport_request == Some(*n)));
    if sets
        .iter()
        .any(|s| matches!(s, proto::PortSetting::OfportRequest(_)))
    {
        return Err(
            "ofport_request cannot be changed on an existing port (del-port, then add-port with the new value)"
                .into(),
        );
    }
    let set = Request::SetPort {
        port: port.clone(),
        settings: sets.clone(),
    };
    let clear = Request::ClearPort {
        port: port.clone(),
        keys: clears.clone(),
    };
    if clears.is_empty() {
        return Ok(vec![set]);
    }
    if sets.is_empty() {
        return Ok(vec![clear]);
    }
    match with(&clears, &[]).validate() {
        Ok(()) => Ok(vec![clear, set]),
        Err(first) => match with(&[], &sets).validate() {
            Ok(()) => Ok(vec![set, clear]),
            Err(_) => Err(format!(
                "port {:?}: switchd cannot make this change in two steps (after the clear: {first}); \
                 change the keys in separate command lines",
                port.as_str()
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovs::args::{parse, Parsed};
    use crate::ovs::db::tests::{bridge, port};
    use proto::{PortSetting, PortType, VlanMode};

    fn model() -> Vec<BridgeInfo> {
        vec![bridge(
            "br0",
            1,
            vec![
                port("vnet0", 1, &["tag=10", "vlan_mode=native-untagged", "trunks=20"]),
                port("gre0", 2, &["type=gre", "remote_ip=192.168.20.2"]),
            ],
        )]
    }

    /// Plans the command line `line` (words split on spaces; `'...'` keeps
    /// spaces) against [`model`].
    fn outcome(line: &[&str]) -> Result<Outcome, String> {
        let args: Vec<String> = std::iter::once("ovs-vsctl")
            .chain(line.iter().copied())
            .map(String::from)
            .collect();
        let Ok(Parsed::Run(_, commands)) = parse(&args) else {
            panic!("{line:?} does not parse")
        };
        plan(&commands, model())
    }

    fn steps(line: &[&str]) -> Vec<Step> {
        match outcome(line) {
            Ok(Outcome::Run(p)) => p.steps,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    fn refused(line: &[&str]) -> String {
        outcome(line).unwrap_err()
    }

    fn n(s: &str) -> IfName {
        s.parse().unwrap()
    }

    fn ps(s: &str) -> PortSetting {
        s.parse().unwrap()
    }

    #[test]
    fn libvirt_add_port_is_one_add_and_one_external_ids_change() {
        let s = steps(&[
            "--timeout=5",
            "--",
            "--may-exist",
            "add-port",
            "br0",
            "vnet9",
            "tag=10",
            "--",
            "set",
            "Interface",
            "vnet9",
            "external-ids:attached-mac=\"52:54:00:12:34:56\"",
            "--",
            "set",
            "Interface",
            "vnet9",
            "external-ids:iface-id=\"5f2c9ac4-0000-4000-8000-000000000001\"",
            "--",
            "set",
            "Interface",
            "vnet9",
            "external-ids:vm-id=\"6a1b1d4c-0000-4000-8000-000000000002\"",
            "--",
            "set",
            "Interface",
            "vnet9",
            "external-ids:iface-status=active",
        ]);
        assert_eq!(
            s,
            vec![
                Step::Send(Request::AddPort {
                    bridge: n("br0"),
                    port: n("vnet9"),
                    settings: vec![ps("tag=10")],
                    may_exist: true,
                    missing_ok: true,
                }),
                Step::Send(Request::SetExternalIds {
                    table: ExternalIdsTable::Interface,
                    record: n("vnet9"),
                    clear: false,
                    remove: vec![],
                    set: BTreeMap::from([
                        ("attached-mac".into(), "52:54:00:12:34:56".into()),
                        ("iface-id".into(), "5f2c9ac4-0000-4000-8000-000000000001".into()),
                        ("iface-status".into(), "active".into()),
                        ("vm-id".into(), "6a1b1d4c-0000-4000-8000-000000000002".into()),
                    ]),
                }),
            ]
        );
        // libvirt's older "trunk=" is OVS's unique prefix of trunks.
        let s = steps(&[
            "--",
            "--may-exist",
            "add-port",
            "br0",
            "vnet9",
            "vlan_mode=native-untagged",
            "tag=10",
            "trunk=10,20",
        ]);
        assert!(matches!(&s[..], [Step::Send(Request::AddPort { settings, .. })]
            if *settings == [ps("vlan_mode=native-untagged"), ps("tag=10"), ps("trunks=10,20")]));
        // Existing on the same bridge: nothing at all, as OVS.
        assert_eq!(
            steps(&["--may-exist", "add-port", "br0", "vnet0", "tag=99"]),
            vec![]
        );
        assert_eq!(
            refused(&["--may-exist", "add-port", "br1", "vnet0"]),
            "\"--may-exist add-port br1 vnet0\" but vnet0 is actually attached to bridge br0"
        );
    }

    #[test]
    fn libvirt_vlan_reset_clears_then_sets() {
        let s = steps(&[
            "--timeout=5",
            "--",
            "--if-exists",
            "clear",
            "Port",
            "vnet0",
            "tag",
            "--",
            "--if-exists",
            "clear",
            "Port",
            "vnet0",
            "trunk",
            "--",
            "--if-exists",
            "clear",
            "Port",
            "vnet0",
            "vlan_mode",
            "--",
            "--if-exists",
            "set",
            "Port",
            "vnet0",
            "tag=20",
        ]);
        assert_eq!(
            s,
            vec![
                Step::Send(Request::ClearPort {
                    port: n("vnet0"),
                    keys: vec![ClearKey::Trunks, ClearKey::VlanMode],
                }),
                Step::Send(Request::SetPort {
                    port: n("vnet0"),
                    settings: vec![ps("tag=20")],
                }),
            ]
        );
        // A missing port with --if-exists: nothing.
        assert_eq!(steps(&["--if-exists", "clear", "Port", "nosuch", "tag"]), vec![]);
        // No order of two requests keeps the port valid: refused up front.
        let e = refused(&[
            "set",
            "port",
            "vnet0",
            "vlan_mode=trunk",
            "--",
            "clear",
            "port",
            "vnet0",
            "tag",
        ]);
        assert!(
            e.starts_with("port \"vnet0\": switchd cannot make this change in two steps"),
            "{e}"
        );
    }

    #[test]
    fn kvm_recipes() {
        assert_eq!(
            steps(&[
                "add-port",
                "br0",
                "tap0",
                "--",
                "set",
                "interface",
                "tap0",
                "type=internal"
            ]),
            vec![Step::Send(Request::AddPort {
                bridge: n("br0"),
                port: n("tap0"),
                settings: vec![PortSetting::Type(PortType::Tap)],
                may_exist: false,
                missing_ok: true,
            })]
        );
        assert_eq!(
            steps(&["add-port", "br0", "vif0.0"]),
            vec![Step::Send(Request::AddPort {
                bridge: n("br0"),
                port: n("vif0.0"),
                settings: vec![],
                may_exist: false,
                missing_ok: true,
            })]
        );
        assert_eq!(
            steps(&[
                "set",
                "interface",
                "vnet0",
                "type=gre",
                "options:remote_ip=192.168.20.2"
            ]),
            vec![Step::Send(Request::SetPort {
                port: n("vnet0"),
                settings: vec![PortSetting::Type(PortType::Gre), ps("remote_ip=192.168.20.2")],
            })]
        );
        assert_eq!(
            steps(&["set", "port", "gre0", "tag=10"]),
            vec![Step::Send(Request::SetPort {
                port: n("gre0"),
                settings: vec![ps("tag=10")],
            })]
        );
        // The bridge comes with its local port, an internal (TAP) port of its name.
        assert_eq!(
            steps(&["add-br", "br-in"]),
            vec![
                Step::Send(Request::AddBr {
                    bridge: n("br-in"),
                    may_exist: false
                }),
                Step::Send(Request::AddPort {
                    bridge: n("br-in"),
                    port: n("br-in"),
                    settings: vec![PortSetting::Type(PortType::Tap)],
                    may_exist: false,
                    missing_ok: true,
                })
            ]
        );
        // type=gre alone lacks remote_ip: refused with switchd's reason.
        assert_eq!(
            refused(&["set", "interface", "vnet0", "type=gre"]),
            "port \"vnet0\": a gre port needs remote_ip"
        );
    }

    #[test]
    fn add_port_takes_interface_columns_and_ofport_request() {
        let s = steps(&[
            "add-port",
            "br0",
            "gre1",
            "type=gre",
            "options:remote_ip=10.0.0.2",
            "options:key=5",
            "external_ids:x=y",
            "--",
            "set",
            "interface",
            "gre1",
            "ofport_request=7",
        ]);
        assert_eq!(
            s,
            vec![
                Step::Send(Request::AddPort {
                    bridge: n("br0"),
                    port: n("gre1"),
                    settings: vec![
                        PortSetting::Type(PortType::Gre),
                        ps("remote_ip=10.0.0.2"),
                        ps("key=5"),
                        ps("ofport_request=7")
                    ],
                    may_exist: false,
                    missing_ok: true,
                }),
                Step::Send(Request::SetExternalIds {
                    table: ExternalIdsTable::Port,
                    record: n("gre1"),
                    clear: false,
                    remove: vec![],
                    set: BTreeMap::from([("x".into(), "y".into())]),
                }),
            ]
        );
        assert_eq!(
            refused(&["set", "interface", "vnet0", "ofport_request=7"]),
            "ofport_request cannot be changed on an existing port (del-port, then add-port with the new value)"
        );
        assert_eq!(
            refused(&["add-port", "br0", "p9", "nosuch=1"]),
            "Port does not contain a column whose name matches \"nosuch\""
        );
        assert_eq!(
            refused(&["add-port", "br0", "p9", "vlan_mode=access"]),
            "cannot add port \"p9\": vlan_mode=access needs a tag"
        );
        assert_eq!(refused(&["add-port", "br9", "p9"]), "no bridge named br9");
        assert_eq!(
            refused(&["add-port", "br0", "vnet0"]),
            "cannot create a port named vnet0 because a port named vnet0 already exists on bridge br0"
        );
        assert_eq!(
            refused(&["add-port", "br0", "br0"]),
            "cannot create a port named br0 because a bridge named br0 already exists"
        );
        assert!(refused(&["add-port", "br0", "a-name-far-too-long"]).contains("the limit is 15"));
    }

    #[test]
    fn a_bad_word_anywhere_sends_nothing() {
        assert_eq!(
            refused(&["add-br", "x", "--", "set", "port", "nosuch", "tag=1"]),
            "no row \"nosuch\" in table Port"
        );
        assert_eq!(
            refused(&["add-br", "x", "--", "set", "port", "vnet0", "tag=x"]),
            "tag: VLAN id \"x\" is not a number"
        );
        assert_eq!(
            refused(&[
                "add-br",
                "x",
                "--",
                "get",
                "interface",
                "vnet0",
                "external_ids:nosuch"
            ]),
            "no key \"nosuch\" in Interface record \"vnet0\" column external_ids"
        );
        assert_eq!(
            refused(&["add-br", "x", "--", "list", "qos"]),
            "table QoS is not supported by switchd (supported tables: Bridge, Port, Interface, Open_vSwitch)"
        );
        // Later commands see what earlier ones do.
        let s = steps(&[
            "add-br",
            "x",
            "--",
            "add-port",
            "x",
            "p",
            "--",
            "set",
            "port",
            "p",
            "tag=3",
            "--",
            "list-ports",
            "x",
        ]);
        assert_eq!(s.len(), 4, "{s:?}");
        assert!(matches!(&s[2], Step::Send(Request::AddPort { settings, .. }) if *settings == [ps("tag=3")]));
        assert_eq!(
            refused(&["del-br", "br0", "--", "list-ports", "br0"]),
            "no bridge named br0"
        );
    }

    #[test]
    fn br_exists_ends_the_line_before_anything_is_sent() {
        assert_eq!(
            outcome(&["add-br", "x", "--", "br-exists", "nosuch"]),
            Ok(Outcome::Exit(2))
        );
        assert_eq!(
            outcome(&["add-br", "x", "--", "br-exists", "x"]),
            Ok(Outcome::Run(Plan {
                steps: vec![
                    Step::Send(Request::AddBr {
                        bridge: n("x"),
                        may_exist: false
                    }),
                    Step::Send(Request::AddPort {
                        bridge: n("x"),
                        port: n("x"),
                        settings: vec![PortSetting::Type(PortType::Tap)],
                        may_exist: false,
                        missing_ok: true,
                    })
                ],
                prints: vec![false, false],
            }))
        );
    }

    #[test]
    fn reads_stop_folding_and_are_numbered() {
        let Ok(Outcome::Run(p)) = outcome(&[
            "set", "port", "vnet0", "tag=11", "--", "get", "port", "vnet0", "tag", "--", "set", "port",
            "vnet0", "tag=12",
        ]) else {
            panic!()
        };
        assert_eq!(p.prints, vec![false, true, false]);
        assert_eq!(p.steps.len(), 3);
        assert!(matches!(&p.steps[1], Step::Read(Read::Get { .. })));
    }

    #[test]
    fn bridge_settings_fold_and_are_checked_together() {
        let s = steps(&[
            "set",
            "bridge",
            "br0",
            "other_config:rstp-max-age=40",
            "--",
            "set",
            "bridge",
            "br0",
            "other_config:rstp-forward-delay=30",
            "rstp_enable=true",
            "fail_mode=secure",
        ]);
        assert_eq!(
            s,
            vec![Step::Send(Request::SetBridge {
                bridge: n("br0"),
                settings: vec![
                    "rstp_max_age=40".parse().unwrap(),
                    "rstp_forward_delay=30".parse().unwrap(),
                    "rstp=true".parse().unwrap(),
                    "fail_mode=secure".parse().unwrap()
                ],
            })]
        );
        assert!(refused(&["set", "bridge", "br0", "other_config:rstp-max-age=40"])
            .starts_with("bridge \"br0\": rstp_max_age=40"));
        assert_eq!(
            steps(&["set-fail-mode", "br0", "secure"]),
            vec![Step::Send(Request::SetBridge {
                bridge: n("br0"),
                settings: vec![BridgeSetting::FailMode(FailMode::Secure)],
            })]
        );
        assert_eq!(
            refused(&["set-fail-mode", "br0", "open"]),
            "fail-mode must be \"standalone\" or \"secure\""
        );
        assert_eq!(steps(&["set", "bridge", "br0", "stp_enable=false"]), vec![]);
    }

    #[test]
    fn external_ids_edits() {
        let s = steps(&[
            "set",
            "interface",
            "vnet0",
            "external_ids:a=1",
            "--",
            "remove",
            "interface",
            "vnet0",
            "external_ids",
            "a",
            "--",
            "set",
            "interface",
            "vnet0",
            "external_ids:b=2",
        ]);
        assert_eq!(
            s,
            vec![Step::Send(Request::SetExternalIds {
                table: ExternalIdsTable::Interface,
                record: n("vnet0"),
                clear: false,
                remove: vec!["a".into()],
                set: BTreeMap::from([("b".into(), "2".into())]),
            })]
        );
        let s = steps(&[
            "br-set-external-id",
            "br0",
            "k",
            "v",
            "--",
            "clear",
            "bridge",
            "br0",
            "external_ids",
        ]);
        assert_eq!(
            s,
            vec![Step::Send(Request::SetExternalIds {
                table: ExternalIdsTable::Bridge,
                record: n("br0"),
                clear: true,
                remove: vec![],
                set: BTreeMap::new(),
            })]
        );
    }

    #[test]
    fn db_write_refusals() {
        assert_eq!(
            refused(&["clear", "interface", "vnet0", "type"]),
            "\"clear\" operation cannot be applied to column type of table Interface, which is not allowed to be empty"
        );
        assert_eq!(
            refused(&["set", "port", "vnet0", "tag:x=1"]),
            "cannot specify key to set for non-map column tag"
        );
        assert_eq!(
            refused(&["remove", "port", "vnet0", "interfaces", "x"]),
            "cannot modify read-only column interfaces in table Port (add-port and add-bond choose the interfaces)"
        );
        assert_eq!(
            refused(&["set", "Open_vSwitch", ".", "external_ids:system-id=x"]),
            "table Open_vSwitch is read-only in switchd (it has no settings of its own)"
        );
        assert_eq!(
            refused(&["del-port", "br0"]),
            "cannot delete port br0 because it is the local port for bridge br0 (deleting this port requires deleting the entire bridge)"
        );
        assert_eq!(refused(&["del-port", "nosuch"]), "no port named nosuch");
        assert_eq!(refused(&["del-port", "br9", "vnet0"]), "no bridge named br9");
        assert_eq!(steps(&["--if-exists", "del-port", "nosuch"]), vec![]);
        assert!(refused(&["add-br", "a", "b", "3"]).contains("fake (VLAN) bridges are not supported"));
        assert_eq!(
            refused(&["add-br", "a", "b"]),
            "'add-br' command takes exactly 1 or 3 arguments"
        );
        assert_eq!(refused(&["add-br", ""]), "bridge name must not be empty string");
    }

    #[test]
    fn add_and_remove_on_sets() {
        assert_eq!(
            steps(&["add", "port", "vnet0", "trunks", "30", "40"]),
            vec![Step::Send(Request::SetPort {
                port: n("vnet0"),
                settings: vec![ps("trunks=20,30,40")],
            })]
        );
        assert_eq!(
            steps(&["remove", "port", "vnet0", "trunks", "20"]),
            vec![Step::Send(Request::ClearPort {
                port: n("vnet0"),
                keys: vec![ClearKey::Trunks],
            })]
        );
        assert_eq!(
            steps(&[
                "remove",
                "port",
                "vnet0",
                "vlan_mode",
                "native-untagged",
                "--",
                "remove",
                "port",
                "vnet0",
                "trunks",
                "20"
            ]),
            vec![Step::Send(Request::ClearPort {
                port: n("vnet0"),
                keys: vec![ClearKey::VlanMode, ClearKey::Trunks],
            })]
        );
        let m = model();
        assert_eq!(m[0].ports[0].vlan_mode, VlanMode::NativeUntagged);
    }
}
