//! Runs one parsed `brctl` command against the daemon: the requests it
//! becomes, the checks made before anything changes, and the daemon's
//! refusals said in brctl's words (`interface X does not exist!`), or as
//! brctl's prefix and switchd's reason (`set ageing time failed: ...`)
//! where brctl would print an errno that says less.
//!
//! The daemon is a function argument ([`Daemon`]), `crate::client::call` in
//! the program and a small fake in the unit tests, so every path here,
//! refusals included, is tested without a daemon.

use std::str::FromStr;

use proto::types::{RSTP_PORT_PRIORITY_STEP, RSTP_PRIORITY_MAX, RSTP_PRIORITY_STEP};
use proto::{BridgeInfo, BridgeSetting, ErrorKind, IfName, PortSetting, PortType, Reply, Request, RstpInfo};

use super::cmdline::{Command, Seconds, Timer};
use super::layout;
use crate::client::ClientError;

/// One exchange with the daemon, as `crate::client::call` makes it: the
/// outer error is no reply at all, the inner one the daemon's refusal.
pub type Daemon<'a> = dyn FnMut(&Request) -> Result<Result<Reply, proto::Error>, ClientError> + 'a;

/// What a command printed and whether it succeeded.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// For stdout.
    pub stdout: String,
    /// For stderr, one line each (only `show BR...` can have several:
    /// one per bridge that does not exist, as brctl).
    pub stderr: Vec<String>,
    /// Exit status 0 (else 1).
    pub ok: bool,
}

impl Outcome {
    /// Success, printing `stdout`.
    pub fn printed(stdout: String) -> Outcome {
        Outcome {
            stdout,
            stderr: Vec::new(),
            ok: true,
        }
    }

    /// Failure with one line on stderr and nothing on stdout.
    pub fn refused(line: String) -> Outcome {
        Outcome {
            stdout: String::new(),
            stderr: vec![line],
            ok: false,
        }
    }
}

/// brctl's message when the program cannot reach the kernel at all
/// (`br_init`), used when switchd cannot be reached.
const NO_CONTROL: &str = "can't setup bridge control";

/// Why a request got no reply it could use.
enum Fail {
    /// The daemon refused it.
    Refused(proto::Error),
    /// No reply (no daemon, timeout, bad reply).
    Client(ClientError),
}

impl Fail {
    /// The generic line: brctl's prefix for this command and the reason.
    /// Not reaching the daemon is brctl's `can't setup bridge control`,
    /// whatever the command.
    fn line(&self, failed: &str) -> String {
        match self {
            Fail::Refused(e) => format!("{failed}: {}", one_line(&e.message)),
            Fail::Client(e @ ClientError::Connect { .. }) => format!("{NO_CONTROL}: {e}"),
            Fail::Client(e) => format!("{failed}: {e}"),
        }
    }

    /// The daemon's refusal of that kind, if it is one.
    fn kind(&self) -> Option<ErrorKind> {
        match self {
            Fail::Refused(e) => Some(e.kind),
            Fail::Client(_) => None,
        }
    }
}

/// One line whatever the daemon put in its message.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn ask(daemon: &mut Daemon, req: &Request) -> Result<Reply, Fail> {
    match daemon(req) {
        Ok(Ok(reply)) => Ok(reply),
        Ok(Err(e)) => Err(Fail::Refused(e)),
        Err(e) => Err(Fail::Client(e)),
    }
}

/// A reply of another kind than the request calls for.
fn unexpected(failed: &str) -> String {
    format!("{failed}: unexpected reply from switchd")
}

/// An interface name as switchd checks it; refused as `failed: reason`.
fn name(text: &str, failed: &str) -> Result<IfName, String> {
    IfName::from_str(text).map_err(|e| format!("{failed}: {e}"))
}

/// Runs `cmd`.
pub fn execute(cmd: &Command, daemon: &mut Daemon) -> Outcome {
    let result = match cmd {
        Command::AddBr(b) => add_br(daemon, b),
        Command::DelBr(b) => del_br(daemon, b),
        Command::AddIf { bridge, ifaces } => add_if(daemon, bridge, ifaces),
        Command::DelIf { bridge, ifaces } => del_if(daemon, bridge, ifaces),
        Command::Hairpin { bridge, port, on } => hairpin(daemon, bridge, port, *on),
        Command::Timer { timer, bridge, secs } => set_timer(daemon, *timer, bridge, secs),
        Command::SetBridgePrio { bridge, prio } => set_bridge_prio(daemon, bridge, *prio),
        Command::SetPathCost { bridge, port, cost } => {
            let failed = "set path cost failed";
            let setting = format!("rstp_path_cost={cost}");
            PortSetting::from_str(&setting)
                .map_err(|e| format!("{failed}: {e}"))
                .and_then(|s| set_port(daemon, bridge, port, s, failed))
        }
        Command::SetPortPrio { bridge, port, prio } => set_port_prio(daemon, bridge, port, *prio),
        Command::Show(names) => return show(daemon, names),
        Command::ShowMacs(b) => show_macs(daemon, b),
        Command::ShowStp(b) => show_stp(daemon, b),
        Command::Stp { bridge, on } => {
            set_bridge(daemon, bridge, BridgeSetting::Rstp(*on), "set stp status failed")
                .map(|()| String::new())
        }
    };
    match result {
        Ok(stdout) => Outcome::printed(stdout),
        Err(line) => Outcome::refused(line),
    }
}

fn add_br(daemon: &mut Daemon, b: &str) -> Result<String, String> {
    let failed = "add bridge failed";
    let bridge = name(b, failed)?;
    match ask(
        daemon,
        &Request::AddBr {
            bridge,
            may_exist: false,
        },
    ) {
        Ok(_) => Ok(String::new()),
        Err(f) if f.kind() == Some(ErrorKind::AlreadyExists) => Err(format!(
            "device {b} already exists; can't create bridge with the same name"
        )),
        Err(f) => Err(f.line(failed)),
    }
}

/// switchd's bridges have no administrative up/down state, so there is no
/// "still up" refusal: the bridge goes at once, with its ports, as the
/// kernel deletes a bridge that is down.
fn del_br(daemon: &mut Daemon, b: &str) -> Result<String, String> {
    let failed = format!("can't delete bridge {b}");
    let bridge = name(b, &failed)?;
    match ask(
        daemon,
        &Request::DelBr {
            bridge,
            if_exists: false,
        },
    ) {
        Ok(_) => Ok(String::new()),
        Err(f) if f.kind() == Some(ErrorKind::NoSuchBridge) => {
            Err(format!("bridge {b} doesn't exist; can't delete it"))
        }
        Err(f) => Err(f.line(&failed)),
    }
}

/// Each interface becomes a `system` port, in order; the first refusal
/// stops there (those before it stay added, as with brctl). Names are all
/// checked before the first is added.
fn add_if(daemon: &mut Daemon, b: &str, ifaces: &[String]) -> Result<String, String> {
    let failed = |i: &str| format!("can't add {i} to bridge {b}");
    let first = ifaces.first().map_or("", String::as_str);
    let bridge = name(b, &failed(first))?;
    let ports = ifaces
        .iter()
        .map(|i| name(i, &failed(i)))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, port) in ifaces.iter().zip(ports) {
        let req = Request::AddPort {
            bridge: bridge.clone(),
            port,
            settings: vec![PortSetting::Type(PortType::System)],
            may_exist: false,
            missing_ok: false,
        };
        match ask(daemon, &req) {
            Ok(_) => {}
            Err(f) => {
                return Err(match f {
                    Fail::Refused(e) if e.kind == ErrorKind::NoSuchBridge => {
                        format!("bridge {b} does not exist!")
                    }
                    // Already a port (of this bridge or another), or a
                    // member of a bond.
                    Fail::Refused(e) if e.kind == ErrorKind::AlreadyExists => {
                        format!("device {i} is already a member of a bridge; can't add it to bridge {b}.")
                    }
                    Fail::Refused(e)
                        if e.kind == ErrorKind::Device && e.message.contains("no such device") =>
                    {
                        format!("interface {i} does not exist!")
                    }
                    f => f.line(&failed(i)),
                });
            }
        }
    }
    Ok(String::new())
}

/// Each interface's port is removed, in order; the first refusal stops
/// there, as with brctl.
fn del_if(daemon: &mut Daemon, b: &str, ifaces: &[String]) -> Result<String, String> {
    let failed = |i: &str| format!("can't delete {i} from {b}");
    let first = ifaces.first().map_or("", String::as_str);
    let bridge = name(b, &failed(first))?;
    let ports = ifaces
        .iter()
        .map(|i| name(i, &failed(i)))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, port) in ifaces.iter().zip(ports) {
        let req = Request::DelPort {
            bridge: Some(bridge.clone()),
            port,
            if_exists: false,
        };
        match ask(daemon, &req) {
            Ok(_) => {}
            Err(f) if f.kind() == Some(ErrorKind::NoSuchBridge) => {
                return Err(format!("bridge {b} does not exist!"));
            }
            // Not a port at all, or a port of another bridge.
            Err(f) if f.kind() == Some(ErrorKind::NoSuchPort) => {
                return Err(format!("device {i} is not a port of {b}"));
            }
            Err(f) => return Err(f.line(&failed(i))),
        }
    }
    Ok(String::new())
}

/// Sets one bridge setting; `failed` is brctl's prefix for a refusal.
fn set_bridge(daemon: &mut Daemon, b: &str, setting: BridgeSetting, failed: &str) -> Result<(), String> {
    let bridge = name(b, failed)?;
    let req = Request::SetBridge {
        bridge,
        settings: vec![setting],
    };
    ask(daemon, &req).map(drop).map_err(|f| f.line(failed))
}

/// The ports of bridge `b` (which must exist); refusals as `failed: ...`.
fn ports_of(daemon: &mut Daemon, bridge: &IfName, failed: &str) -> Result<Vec<String>, String> {
    match ask(
        daemon,
        &Request::ListPorts {
            bridge: bridge.clone(),
        },
    ) {
        Ok(Reply::Names(names)) => Ok(names),
        Ok(_) => Err(unexpected(failed)),
        Err(f) => Err(f.line(failed)),
    }
}

/// Checks that `port` is a port of bridge `b`, then applies `setting` to
/// it (switchd's port settings name the port alone; brctl's name the
/// bridge too, and a port of another bridge is refused as the kernel does).
fn set_port(
    daemon: &mut Daemon,
    b: &str,
    p: &str,
    setting: PortSetting,
    failed: &str,
) -> Result<String, String> {
    let bridge = name(b, failed)?;
    let port = name(p, failed)?;
    if !ports_of(daemon, &bridge, failed)?.iter().any(|n| n == p) {
        return Err(format!("{failed}: device {p} is not a port of {b}"));
    }
    let req = Request::SetPort {
        port,
        settings: vec![setting],
    };
    ask(daemon, &req)
        .map(|_| String::new())
        .map_err(|f| f.line(failed))
}

/// `setageing`, `setfd`, `setmaxage` set `mac_aging`,
/// `rstp_forward_delay`, `rstp_max_age` to the value rounded to whole
/// seconds, refused as switchd refuses it. switchd's hello time is fixed,
/// so `sethello` accepts only that value (and changes nothing).
fn set_timer(daemon: &mut Daemon, timer: Timer, b: &str, secs: &Seconds) -> Result<String, String> {
    let failed = timer.failed();
    let rounding = if secs.was_rounded() {
        format!(" ({} s rounds to {})", secs.text.trim(), secs.rounded)
    } else {
        String::new()
    };
    let Some(key) = timer.key() else {
        let hello = proto::types::RSTP_HELLO_TIME;
        if secs.rounded != hello.to_string() {
            return Err(format!(
                "{failed}: switchd's hello time is fixed at {hello} s, as 802.1D-2004 has it \
                 for RSTP{rounding}"
            ));
        }
        let bridge = name(b, failed)?;
        ports_of(daemon, &bridge, failed)?;
        return Ok(String::new());
    };
    let setting = BridgeSetting::from_str(&format!("{key}={}", secs.rounded))
        .map_err(|e| format!("{failed}: {e}{rounding}"))?;
    set_bridge(daemon, b, setting, failed).map(|()| String::new())
}

/// `setbridgeprio`: brctl's bridge priority is 16 bits; RSTP's goes in
/// steps of 4096 (802.1D-2004 §17.13.7), so other values are refused with
/// the nearest valid ones rather than rounded behind the user's back.
fn set_bridge_prio(daemon: &mut Daemon, b: &str, prio: i64) -> Result<String, String> {
    let failed = "set bridge priority failed";
    if !(0..=0xffff).contains(&prio) {
        return Err(format!("{failed}: {prio} is out of range 0-65535"));
    }
    let setting = BridgeSetting::from_str(&format!("rstp_priority={prio}")).map_err(|e| {
        let step = i64::from(RSTP_PRIORITY_STEP);
        let max = i64::from(RSTP_PRIORITY_MAX);
        let below = (prio / step * step).min(max);
        let nearest = if below + step <= max && prio < max {
            format!("the nearest valid are {below} and {}", below + step)
        } else {
            format!("the nearest valid is {below}")
        };
        format!("{failed}: {e} (RSTP bridge priorities go 0-{max} in steps of {step}); {nearest}")
    })?;
    set_bridge(daemon, b, setting, failed).map(|()| String::new())
}

/// brctl's port priorities are the kernel's 802.1D ones, 0-63 (default 32).
const BRCTL_PORT_PRIO_MAX: i64 = 63;

/// `setportprio` takes brctl's scale: the kernel's port priority is 0-63
/// with 32 the default, RSTP's 0-240 with 128 the default, so brctl's
/// value is RSTP's divided by 4. RSTP's steps of 16 are brctl's steps of 4;
/// other values are refused with the nearest valid ones.
fn set_port_prio(daemon: &mut Daemon, b: &str, p: &str, prio: i64) -> Result<String, String> {
    let failed = "set port priority failed";
    if !(0..=BRCTL_PORT_PRIO_MAX).contains(&prio) {
        return Err(format!(
            "{failed}: {prio} is out of range 0-{BRCTL_PORT_PRIO_MAX} (brctl's port priority: \
             RSTP's divided by 4, default 32)"
        ));
    }
    let scale = 4;
    let step = i64::from(RSTP_PORT_PRIORITY_STEP) / scale;
    if prio % step != 0 {
        let below = prio / step * step;
        let rstp = |n: i64| n * scale;
        let nearest = if below + step <= BRCTL_PORT_PRIO_MAX {
            format!(
                "use {below} or {} (RSTP's {} or {})",
                below + step,
                rstp(below),
                rstp(below + step)
            )
        } else {
            format!("use {below} (RSTP's {})", rstp(below))
        };
        return Err(format!(
            "{failed}: brctl's port priority {prio} is RSTP's {}, which is not a multiple of {}: {nearest}",
            rstp(prio),
            RSTP_PORT_PRIORITY_STEP
        ));
    }
    let setting = PortSetting::from_str(&format!("rstp_port_priority={}", prio * scale))
        .map_err(|e| format!("{failed}: {e}"))?;
    set_port(daemon, b, p, setting, failed)
}

/// `hairpin`: switchd's normal switching never sends a frame back out of
/// the port it came in on, so `off` is what every port already does and
/// `on` is refused.
fn hairpin(daemon: &mut Daemon, b: &str, p: &str, on: bool) -> Result<String, String> {
    let failed = format!("can't set {p} to hairpin on bridge {b}");
    let bridge = name(b, &failed)?;
    name(p, &failed)?;
    let ports = match ask(daemon, &Request::ListPorts { bridge }) {
        Ok(Reply::Names(names)) => names,
        Ok(_) => return Err(unexpected(&failed)),
        Err(f) if f.kind() == Some(ErrorKind::NoSuchBridge) => {
            return Err(format!("bridge {b} does not exist!"));
        }
        Err(f) => return Err(f.line(&failed)),
    };
    if !ports.iter().any(|n| n == p) {
        return Err(format!("{failed}: device {p} is not a port of {b}"));
    }
    if on {
        return Err(format!(
            "{failed}: switchd has no hairpin mode (normal switching never sends a frame back \
             out of the port it came in on; a flow with actions=in_port does)"
        ));
    }
    Ok(String::new())
}

/// Every bridge, from `show`.
fn all_bridges(daemon: &mut Daemon, failed: &str) -> Result<Vec<BridgeInfo>, String> {
    match ask(daemon, &Request::Show) {
        Ok(Reply::Show(bridges)) => Ok(bridges),
        Ok(_) => Err(unexpected(failed)),
        Err(f) => Err(f.line(failed)),
    }
}

/// brctl has no words for `show` failing as a whole; these say what it
/// could not do.
const NO_INFO: &str = "can't get bridge info";

/// `show`: every bridge by name, or those named, in that order; a name
/// that is no bridge is reported and the others still shown (status 1).
fn show(daemon: &mut Daemon, names: &[String]) -> Outcome {
    let mut bridges = match all_bridges(daemon, NO_INFO) {
        Ok(b) => b,
        Err(line) => return Outcome::refused(line),
    };
    let mut out = Outcome::printed(String::new());
    let shown: Vec<&BridgeInfo> = if names.is_empty() {
        bridges.sort_by(|x, y| x.name.as_bytes().cmp(y.name.as_bytes()));
        bridges.iter().collect()
    } else {
        names
            .iter()
            .filter_map(|n| {
                let b = bridges.iter().find(|b| b.name == *n);
                if b.is_none() {
                    out.stderr.push(format!("bridge {n} does not exist!"));
                    out.ok = false;
                }
                b
            })
            .collect()
    };
    out.stdout = layout::show(&shown);
    out
}

/// `showmacs`: the MAC table, then `show` for the port numbers.
fn show_macs(daemon: &mut Daemon, b: &str) -> Result<String, String> {
    let failed = "read of forward table failed";
    let bridge = name(b, failed)?;
    let fdb = match ask(daemon, &Request::FdbShow { bridge }) {
        Ok(Reply::Fdb(entries)) => entries,
        Ok(_) => return Err(unexpected(failed)),
        Err(f) => return Err(f.line(failed)),
    };
    let bridges = all_bridges(daemon, failed)?;
    // Gone in between: the daemon's words for a missing bridge.
    let info = bridges
        .iter()
        .find(|i| i.name == b)
        .ok_or_else(|| format!("{failed}: no bridge named {b:?}"))?;
    Ok(layout::showmacs(info, &fdb))
}

/// `showstp`: `show` for the bridge and its ports, and `rstp-show` when it
/// runs RSTP.
fn show_stp(daemon: &mut Daemon, b: &str) -> Result<String, String> {
    let bridges = all_bridges(daemon, NO_INFO)?;
    let info = bridges
        .iter()
        .find(|i| i.name == b)
        .ok_or_else(|| format!("bridge {b} does not exist!"))?;
    if !info.rstp.enabled {
        return Ok(layout::showstp(info, None));
    }
    // All bridges that run RSTP: asking for this one alone is an error if
    // RSTP was turned off in between.
    let rstp = match ask(daemon, &Request::RstpShow { bridge: None }) {
        Ok(Reply::Rstp(r)) => r,
        Ok(_) => return Err(unexpected(NO_INFO)),
        Err(f) => return Err(f.line(NO_INFO)),
    };
    let RstpInfo { bridges: trees } = rstp;
    Ok(layout::showstp(info, trees.iter().find(|t| t.bridge == b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brctl::cmdline::{parse, Parsed};
    use crate::brctl::layout::tests::{bridge, port};
    use proto::{FdbEntry, RstpBridgeConfig};

    /// A daemon in miniature: bridges with ports, a MAC table, and the
    /// requests it got. Refuses as switchd does (kinds and the words the
    /// face looks at).
    #[derive(Default)]
    struct Fake {
        bridges: Vec<BridgeInfo>,
        fdb: Vec<FdbEntry>,
        rstp: RstpInfo,
        /// Devices that exist (for add-port).
        devices: Vec<String>,
        sent: Vec<Request>,
        /// No daemon at all.
        down: bool,
    }

    fn refuse(kind: ErrorKind, msg: String) -> Result<Reply, proto::Error> {
        Err(proto::Error::new(kind, msg))
    }

    impl Fake {
        fn with(bridges: Vec<BridgeInfo>) -> Fake {
            Fake {
                devices: vec!["eth1".into(), "eth2".into(), "eth3".into()],
                bridges,
                ..Default::default()
            }
        }

        fn bridge_mut(&mut self, b: &IfName) -> Result<&mut BridgeInfo, proto::Error> {
            self.bridges
                .iter_mut()
                .find(|i| i.name == b.as_str())
                .ok_or_else(|| {
                    proto::Error::new(
                        ErrorKind::NoSuchBridge,
                        format!("no bridge named {:?}", b.as_str()),
                    )
                })
        }

        fn reply(&mut self, req: &Request) -> Result<Reply, proto::Error> {
            match req {
                Request::AddBr { bridge, .. } => {
                    if self.bridge_mut(bridge).is_ok() {
                        return refuse(
                            ErrorKind::AlreadyExists,
                            format!("bridge {:?} already exists", bridge.as_str()),
                        );
                    }
                    self.bridges.push(bridge_named(bridge.as_str()));
                    Ok(Reply::Done)
                }
                Request::DelBr { bridge, .. } => {
                    self.bridge_mut(bridge)?;
                    self.bridges.retain(|b| b.name != bridge.as_str());
                    Ok(Reply::Done)
                }
                Request::AddPort { bridge, port, .. } => {
                    self.bridge_mut(bridge)?;
                    if let Some(on) = self
                        .bridges
                        .iter()
                        .find(|b| b.ports.iter().any(|p| p.name == port.as_str()))
                    {
                        return refuse(
                            ErrorKind::AlreadyExists,
                            format!("port {:?} already exists on bridge {:?}", port.as_str(), on.name),
                        );
                    }
                    if !self.devices.iter().any(|d| d == port.as_str()) {
                        return refuse(
                            ErrorKind::Device,
                            format!(
                                "cannot add port {:?}: no such device {:?}",
                                port.as_str(),
                                port.as_str()
                            ),
                        );
                    }
                    let b = self.bridge_mut(bridge)?;
                    let no = b.ports.len() as u16 + 1;
                    b.ports.push(port_named(port.as_str(), no));
                    Ok(Reply::Done)
                }
                Request::DelPort { bridge, port, .. } => {
                    let b = self.bridge_mut(bridge.as_ref().unwrap())?;
                    let before = b.ports.len();
                    b.ports.retain(|p| p.name != port.as_str());
                    if b.ports.len() == before {
                        return refuse(
                            ErrorKind::NoSuchPort,
                            format!("no port named {:?}", port.as_str()),
                        );
                    }
                    Ok(Reply::Done)
                }
                Request::ListPorts { bridge } => {
                    let b = self.bridge_mut(bridge)?;
                    Ok(Reply::Names(b.ports.iter().map(|p| p.name.clone()).collect()))
                }
                Request::SetBridge { bridge, settings } => {
                    let b = self.bridge_mut(bridge)?;
                    let mut rstp = b.rstp;
                    for s in settings {
                        s.validate()?;
                        rstp.apply(s);
                        if let BridgeSetting::MacAging(v) = s {
                            b.mac_aging = *v;
                        }
                    }
                    rstp.check()?;
                    b.rstp = rstp;
                    Ok(Reply::Done)
                }
                Request::SetPort { port, settings } => {
                    let p = self
                        .bridges
                        .iter_mut()
                        .flat_map(|b| b.ports.iter_mut())
                        .find(|p| p.name == port.as_str())
                        .ok_or_else(|| proto::Error::new(ErrorKind::NoSuchPort, "no port".to_string()))?;
                    settings.iter().for_each(|s| p.config.set(s.clone()));
                    Ok(Reply::Done)
                }
                Request::Show => Ok(Reply::Show(self.bridges.clone())),
                Request::FdbShow { bridge } => {
                    self.bridge_mut(bridge)?;
                    Ok(Reply::Fdb(self.fdb.clone()))
                }
                Request::RstpShow { bridge: None } => Ok(Reply::Rstp(self.rstp.clone())),
                other => panic!("the brctl face does not send {other:?}"),
            }
        }

        fn call(&mut self, req: &Request) -> Result<Result<Reply, proto::Error>, ClientError> {
            self.sent.push(req.clone());
            if self.down {
                return Err(ClientError::Connect {
                    socket: "/run/switchd/switchd.sock".into(),
                    source: std::io::ErrorKind::NotFound.into(),
                });
            }
            Ok(self.reply(req))
        }

        /// Runs a brctl command line.
        fn run(&mut self, line: &str) -> Outcome {
            let mut args = vec!["brctl".to_owned()];
            args.extend(line.split_whitespace().map(str::to_owned));
            let Parsed::Run(cmd) = parse(&args) else {
                panic!("{line} does not parse");
            };
            execute(&cmd, &mut |r: &Request| self.call(r))
        }

        fn ok(&mut self, line: &str) -> String {
            let out = self.run(line);
            assert!(out.ok && out.stderr.is_empty(), "{line}: {out:?}");
            out.stdout
        }

        /// Runs a command that must fail with one line and change nothing.
        fn refused(&mut self, line: &str) -> String {
            let before = self.bridges.clone();
            let out = self.run(line);
            assert!(!out.ok && out.stdout.is_empty(), "{line}: {out:?}");
            assert_eq!(out.stderr.len(), 1, "{line}: {out:?}");
            assert_eq!(self.bridges, before, "{line} changed something");
            out.stderr[0].clone()
        }

        fn br(&self, name: &str) -> &BridgeInfo {
            self.bridges.iter().find(|b| b.name == name).unwrap()
        }
    }

    fn bridge_named(name: &str) -> BridgeInfo {
        bridge(name, vec![])
    }

    fn port_named(name: &str, no: u16) -> proto::PortInfo {
        port(name, no, true)
    }

    fn fake() -> Fake {
        let mut f = Fake::with(vec![bridge("br0", vec![port("eth1", 1, true)])]);
        f.devices.push("eth1".into());
        f
    }

    #[test]
    fn addbr_and_delbr() {
        let mut f = Fake::with(vec![]);
        assert_eq!(f.ok("addbr br0"), "");
        assert_eq!(
            f.sent,
            vec![Request::AddBr {
                bridge: "br0".parse().unwrap(),
                may_exist: false
            }]
        );
        assert_eq!(
            f.refused("addbr br0"),
            "device br0 already exists; can't create bridge with the same name"
        );
        assert_eq!(
            f.refused("addbr abcdefghijklmnopq"),
            "add bridge failed: name \"abcdefghijklmnopq\" is 17 bytes long, the limit is 15"
        );
        assert_eq!(
            f.refused("delbr br1"),
            "bridge br1 doesn't exist; can't delete it"
        );
        assert_eq!(
            f.refused("delbr a/b"),
            "can't delete bridge a/b: name \"a/b\" contains '/', which is not allowed"
        );
        // No up/down in switchd: a bridge with ports goes at once.
        f.ok("addif br0 eth1");
        assert_eq!(f.ok("delbr br0"), "");
        assert!(f.bridges.is_empty());
    }

    #[test]
    fn addif_and_delif() {
        let mut f = Fake::with(vec![bridge("br0", vec![]), bridge("br1", vec![])]);
        f.ok("addif br0 eth1 eth2");
        let names: Vec<_> = f.br("br0").ports.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["eth1", "eth2"]);
        assert!(f.sent.iter().all(|r| matches!(r,
            Request::AddPort { settings, may_exist: false, missing_ok: false, .. }
                if settings == &[PortSetting::Type(PortType::System)])));
        assert_eq!(f.refused("addif br0 eth9"), "interface eth9 does not exist!");
        assert_eq!(
            f.refused("addif br1 eth1"),
            "device eth1 is already a member of a bridge; can't add it to bridge br1."
        );
        assert_eq!(
            f.refused("addif br0 eth2"),
            "device eth2 is already a member of a bridge; can't add it to bridge br0."
        );
        assert_eq!(f.refused("addif br9 eth3"), "bridge br9 does not exist!");
        // A bad name anywhere: nothing is added.
        assert_eq!(
            f.refused("addif br1 eth3 bad:name"),
            "can't add bad:name to bridge br1: name \"bad:name\" contains ':', which is not allowed"
        );
        // A refusal stops the list there; those before stay, as brctl.
        let out = f.run("addif br1 eth3 eth9 eth2");
        assert_eq!(out.stderr, ["interface eth9 does not exist!"]);
        assert_eq!(f.br("br1").ports.len(), 1);

        assert_eq!(f.refused("delif br1 eth1"), "device eth1 is not a port of br1");
        assert_eq!(f.refused("delif br1 eth7"), "device eth7 is not a port of br1");
        assert_eq!(f.refused("delif br7 eth1"), "bridge br7 does not exist!");
        f.ok("delif br0 eth1 eth2");
        assert!(f.br("br0").ports.is_empty());
    }

    #[test]
    fn timers() {
        let mut f = fake();
        f.ok("setageing br0 60");
        assert_eq!(f.br("br0").mac_aging, 60);
        f.ok("setageing br0 2.31");
        assert_eq!(f.br("br0").mac_aging, 2);
        assert_eq!(
            f.refused("setageing br0 0.4"),
            "set ageing time failed: mac_aging: 0 is out of range 1-86400 (0.4 s rounds to 0)"
        );
        assert_eq!(
            f.refused("setageing br0 100000"),
            "set ageing time failed: mac_aging: 100000 is out of range 1-86400"
        );
        assert_eq!(
            f.refused("setageing br0 -5"),
            "set ageing time failed: mac_aging: \"-5\" is not a number"
        );
        assert_eq!(
            f.refused("setageing br9 60"),
            "set ageing time failed: no bridge named \"br9\""
        );
        f.ok("setfd br0 20.4");
        assert_eq!(f.br("br0").rstp.forward_delay, 20);
        f.ok("setmaxage br0 10");
        assert_eq!(f.br("br0").rstp.max_age, 10);
        assert_eq!(
            f.refused("setfd br0 2"),
            "set forward delay failed: rstp_forward_delay: 2 is out of range 4-30"
        );
        assert_eq!(
            f.refused("setmaxage br0 41"),
            "set max age failed: rstp_max_age: 41 is out of range 6-40"
        );
        // The daemon's check of the timers together, in its words.
        let e = f.refused("setmaxage br0 40");
        assert!(
            e.starts_with("set max age failed: rstp_max_age=40 and rstp_forward_delay=20 do not satisfy"),
            "{e}"
        );
        // Hello: 2 s or nothing.
        let sent = f.sent.len();
        assert_eq!(f.ok("sethello br0 2"), "");
        assert_eq!(f.ok("sethello br0 1.6"), "");
        assert!(f.sent[sent..]
            .iter()
            .all(|r| matches!(r, Request::ListPorts { .. })));
        assert_eq!(
            f.refused("sethello br0 1"),
            "set hello timer failed: switchd's hello time is fixed at 2 s, as 802.1D-2004 has it for RSTP"
        );
        assert_eq!(
            f.refused("sethello br0 0.5"),
            "set hello timer failed: switchd's hello time is fixed at 2 s, as 802.1D-2004 has it for RSTP \
             (0.5 s rounds to 1)"
        );
        assert_eq!(
            f.refused("sethello br9 2"),
            "set hello timer failed: no bridge named \"br9\""
        );
    }

    #[test]
    fn stp_and_bridge_priority() {
        let mut f = fake();
        f.ok("stp br0 on");
        assert!(f.br("br0").rstp.enabled);
        f.ok("stp br0 no");
        assert!(!f.br("br0").rstp.enabled);
        assert_eq!(
            f.refused("stp br9 on"),
            "set stp status failed: no bridge named \"br9\""
        );
        f.ok("setbridgeprio br0 4096");
        assert_eq!(f.br("br0").rstp.priority, 4096);
        f.ok("setbridgeprio br0 0");
        f.ok("setbridgeprio br0 0xf000");
        assert_eq!(f.br("br0").rstp.priority, 61440);
        assert_eq!(
            f.refused("setbridgeprio br0 5000"),
            "set bridge priority failed: rstp_priority: 5000 is not a multiple of 4096 \
             (RSTP bridge priorities go 0-61440 in steps of 4096); the nearest valid are 4096 and 8192"
        );
        assert_eq!(
            f.refused("setbridgeprio br0 100"),
            "set bridge priority failed: rstp_priority: 100 is not a multiple of 4096 \
             (RSTP bridge priorities go 0-61440 in steps of 4096); the nearest valid are 0 and 4096"
        );
        assert_eq!(
            f.refused("setbridgeprio br0 65535"),
            "set bridge priority failed: rstp_priority: 65535 is out of range 0-61440 \
             (RSTP bridge priorities go 0-61440 in steps of 4096); the nearest valid is 61440"
        );
        assert_eq!(
            f.refused("setbridgeprio br0 61441"),
            "set bridge priority failed: rstp_priority: 61441 is out of range 0-61440 \
             (RSTP bridge priorities go 0-61440 in steps of 4096); the nearest valid is 61440"
        );
        assert_eq!(
            f.refused("setbridgeprio br0 70000"),
            "set bridge priority failed: 70000 is out of range 0-65535"
        );
        assert_eq!(
            f.refused("setbridgeprio br0 -1"),
            "set bridge priority failed: -1 is out of range 0-65535"
        );
        assert_eq!(
            f.refused("setbridgeprio br9 8192"),
            "set bridge priority failed: no bridge named \"br9\""
        );
    }

    #[test]
    fn port_cost_and_priority() {
        let mut f = Fake::with(vec![
            bridge("br0", vec![port("eth1", 1, true)]),
            bridge("br1", vec![port("eth2", 1, true)]),
        ]);
        f.ok("setpathcost br0 eth1 100");
        assert_eq!(f.br("br0").ports[0].config.rstp_path_cost, Some(100));
        assert_eq!(
            f.sent.last(),
            Some(&Request::SetPort {
                port: "eth1".parse().unwrap(),
                settings: vec![PortSetting::RstpPathCost(100)]
            })
        );
        assert_eq!(
            f.refused("setpathcost br0 eth1 0"),
            "set path cost failed: rstp_path_cost: 0 is out of range 1-200000000"
        );
        assert_eq!(
            f.refused("setpathcost br0 eth2 10"),
            "set path cost failed: device eth2 is not a port of br0"
        );
        assert_eq!(
            f.refused("setpathcost br9 eth1 10"),
            "set path cost failed: no bridge named \"br9\""
        );
        // brctl's 0-63 is RSTP's divided by 4: 32 is the default 128.
        for (brctl, rstp) in [(32, 128), (0, 0), (4, 16), (60, 240), (16, 64)] {
            f.ok(&format!("setportprio br0 eth1 {brctl}"));
            assert_eq!(
                f.br("br0").ports[0].config.rstp_port_priority,
                Some(rstp),
                "{brctl}"
            );
        }
        assert_eq!(
            f.refused("setportprio br0 eth1 33"),
            "set port priority failed: brctl's port priority 33 is RSTP's 132, which is not a multiple \
             of 16: use 32 or 36 (RSTP's 128 or 144)"
        );
        assert_eq!(
            f.refused("setportprio br0 eth1 63"),
            "set port priority failed: brctl's port priority 63 is RSTP's 252, which is not a multiple \
             of 16: use 60 (RSTP's 240)"
        );
        assert_eq!(
            f.refused("setportprio br0 eth1 64"),
            "set port priority failed: 64 is out of range 0-63 (brctl's port priority: RSTP's divided by 4, \
             default 32)"
        );
        assert_eq!(
            f.refused("setportprio br0 eth2 32"),
            "set port priority failed: device eth2 is not a port of br0"
        );
    }

    #[test]
    fn hairpin_off_only() {
        let mut f = fake();
        let sent = f.sent.len();
        assert_eq!(f.ok("hairpin br0 eth1 off"), "");
        assert!(f.sent[sent..]
            .iter()
            .all(|r| matches!(r, Request::ListPorts { .. })));
        assert!(f
            .refused("hairpin br0 eth1 on")
            .starts_with("can't set eth1 to hairpin on bridge br0: switchd has no hairpin mode ("));
        assert_eq!(
            f.refused("hairpin br0 eth5 off"),
            "can't set eth5 to hairpin on bridge br0: device eth5 is not a port of br0"
        );
        assert_eq!(f.refused("hairpin br5 eth1 off"), "bridge br5 does not exist!");
    }

    #[test]
    fn show_sorted_and_named() {
        let mut f = Fake::with(vec![
            bridge("br1", vec![port("eth2", 1, true)]),
            bridge("br0", vec![port("vnet0", 2, true), port("eth1", 1, true)]),
        ]);
        f.bridges[1].rstp = RstpBridgeConfig {
            enabled: true,
            ..Default::default()
        };
        let all = f.ok("show");
        assert_eq!(
            all,
            "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n\
             br0\t\t8000.0a1b2c3d4e5f\tyes\t\teth1\n\
             \t\t\t\t\t\t\tvnet0\n\
             br1\t\t8000.0a1b2c3d4e5f\tno\t\teth2\n"
        );
        assert_eq!(
            f.ok("show br1"),
            "bridge name\tbridge id\t\tSTP enabled\tinterfaces\nbr1\t\t8000.0a1b2c3d4e5f\tno\t\teth2\n"
        );
        // A missing one is reported, the others shown, status 1.
        let out = f.run("show nobr br1 nobr2");
        assert_eq!(
            out.stderr,
            ["bridge nobr does not exist!", "bridge nobr2 does not exist!"]
        );
        assert!(!out.ok);
        assert!(out.stdout.ends_with("br1\t\t8000.0a1b2c3d4e5f\tno\t\teth2\n"));
        let out = f.run("show nobr");
        assert_eq!((out.stdout.as_str(), out.ok), ("", false));
        assert_eq!(Fake::with(vec![]).ok("show"), "");
    }

    #[test]
    fn showmacs_numbers_ports() {
        let mut f = Fake::with(vec![bridge(
            "br0",
            vec![port("eth1", 1, true), port("vnet0", 7, true)],
        )]);
        f.fdb = vec![
            FdbEntry {
                port: "vnet0".into(),
                vlan: 0,
                mac: "52:54:00:12:34:56".parse().unwrap(),
                age: 2,
            },
            FdbEntry {
                port: "eth1".into(),
                vlan: 0,
                mac: "02:00:00:00:00:01".parse().unwrap(),
                age: 31,
            },
        ];
        assert_eq!(
            f.ok("showmacs br0"),
            "port no\tmac addr\t\tis local?\tageing timer\n  \
             1\t02:00:00:00:00:01\tno\t\t  31.00\n  \
             7\t52:54:00:12:34:56\tno\t\t   2.00\n"
        );
        assert_eq!(
            f.refused("showmacs br9"),
            "read of forward table failed: no bridge named \"br9\""
        );
    }

    #[test]
    fn showstp_asks_rstp_only_when_on() {
        let mut f = fake();
        let out = f.ok("showstp br0");
        assert!(out.starts_with("br0\n bridge id\t\t8000.0a1b2c3d4e5f\n"), "{out}");
        assert!(
            out.contains("eth1 (1)\n port id\t\t8001\t\t\tstate\t\t     forwarding\n"),
            "{out}"
        );
        assert_eq!(f.sent, [Request::Show]);
        f.ok("stp br0 on");
        f.sent.clear();
        // RSTP on but not yet reported: the configured view.
        f.ok("showstp br0");
        assert_eq!(f.sent, [Request::Show, Request::RstpShow { bridge: None }]);
        assert_eq!(f.refused("showstp br9"), "bridge br9 does not exist!");
    }

    #[test]
    fn no_daemon_is_no_bridge_control() {
        let mut f = fake();
        f.down = true;
        for line in [
            "addbr br1",
            "show",
            "showstp br0",
            "setageing br0 10",
            "addif br0 eth2",
        ] {
            let out = f.run(line);
            assert!(!out.ok && out.stdout.is_empty(), "{line}");
            assert_eq!(
                out.stderr,
                [
                    "can't setup bridge control: cannot connect to switchd at /run/switchd/switchd.sock: \
                  entity not found (is switchd running?)"
                ],
                "{line}"
            );
        }
    }
}
