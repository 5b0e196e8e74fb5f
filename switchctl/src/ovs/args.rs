//! The `ovs-vsctl` command line: global options, then commands separated
//! by `--`, each with its own options (OVS's `parse_options` with
//! `getopt_long` and `ctl_parse_commands` of `lib/db-ctl-base.c`).
//!
//! As in OVS, options are read up to the first word that is not one (or a
//! `--`); command options met there (`--may-exist`, `--if-exists`,
//! `--columns=...`) belong to the first command. After a `--`, each command
//! may start with its own options. Long options may be abbreviated to any
//! unique prefix, as `getopt_long` allows. Every command of OVS 3.1 is
//! known with its argument counts and options, so that a usage error reads
//! as OVS's; the commands switchd cannot do are then refused by name.
//!
//! Pure: nothing here does I/O, so the grammar is unit-tested.

use std::path::PathBuf;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One `column : value` line per cell, records separated by a blank line.
    List,
    /// Aligned columns under a heading.
    Table,
    /// Comma-separated values.
    Csv,
    /// `{"data":[...],"headings":[...]}`.
    Json,
}

/// `--data`: how cells are written in `list`, `table` and `csv` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Data {
    /// As `ovs-vsctl` prints values: `{k=v}`, `[1, 2]`, quoted strings.
    String,
    /// Without punctuation.
    Bare,
    /// OVSDB JSON.
    Json,
}

/// How `list` and `find` print their tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// `--format`.
    pub format: Format,
    /// `--data`.
    pub data: Data,
    /// Not `--no-headings`.
    pub headings: bool,
    /// `--max-column-width` (0: no limit).
    pub max_width: usize,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            format: Format::List,
            data: Data::String,
            headings: true,
            max_width: 0,
        }
    }
}

/// What the global options ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Globals {
    /// `--db=unix:PATH`: switchd's control socket.
    pub socket: Option<PathBuf>,
    /// `--timeout=SECS` / `-t SECS`.
    pub timeout: Option<u32>,
    /// `--oneline`.
    pub oneline: bool,
    /// `--dry-run`: check everything, change nothing.
    pub dry_run: bool,
    /// `--retry`: wait for switchd to accept connections.
    pub retry: bool,
    /// Table output options.
    pub style: Style,
}

/// One command with its options and arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The command name, as OVS spells it.
    pub name: &'static str,
    /// Its options (`--if-exists`, `--columns` with `Some("a,b")`), in order.
    pub options: Vec<(String, Option<String>)>,
    /// Its arguments (without the name).
    pub args: Vec<String>,
}

impl Command {
    /// Whether option `name` (with its dashes) was given.
    pub fn has(&self, name: &str) -> bool {
        self.options.iter().any(|(k, _)| k == name)
    }

    /// The argument of option `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// What a command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Run the commands.
    Run(Globals, Vec<Command>),
    /// `--help`.
    Help,
    /// `--version`.
    Version,
}

/// A command of OVS 3.1: name, argument counts, options (OVS's syntax:
/// `--x=` takes an argument, `--x` does not), and whether switchd does it.
struct Spec {
    name: &'static str,
    min: usize,
    max: usize,
    options: &'static str,
    supported: bool,
}

const MANY: usize = usize::MAX;

const fn spec(name: &'static str, min: usize, max: usize, options: &'static str, supported: bool) -> Spec {
    Spec {
        name,
        min,
        max,
        options,
        supported,
    }
}

/// Every `ovs-vsctl` command of OVS 3.1 (`ovs-vsctl --commands`).
const COMMANDS: &[Spec] = &[
    spec("init", 0, 0, "", true),
    spec("show", 0, 0, "", true),
    spec("emer-reset", 0, 0, "", false),
    spec("add-br", 1, 3, "--may-exist", true),
    spec("del-br", 1, 1, "--if-exists", true),
    spec("list-br", 0, 0, "--real,--fake", true),
    spec("br-exists", 1, 1, "", true),
    spec("br-to-vlan", 1, 1, "", true),
    spec("br-to-parent", 1, 1, "", true),
    spec("br-set-external-id", 2, 3, "", true),
    spec("br-get-external-id", 1, 2, "", true),
    spec("list-ports", 1, 1, "", true),
    spec("add-port", 2, MANY, "--may-exist", true),
    spec("del-port", 1, 2, "--if-exists,--with-iface", true),
    spec("port-to-br", 1, 1, "", true),
    spec("add-bond", 4, MANY, "--may-exist,--fake-iface", true),
    spec("add-bond-iface", 2, 2, "--may-exist", false),
    spec("del-bond-iface", 1, 2, "--if-exists", false),
    spec("list-ifaces", 1, 1, "", true),
    spec("iface-to-br", 1, 1, "", true),
    spec("get-controller", 1, 1, "", true),
    spec("del-controller", 1, 1, "", true),
    spec("set-controller", 1, MANY, "--inactivity-probe=", true),
    spec("get-fail-mode", 1, 1, "", true),
    spec("del-fail-mode", 1, 1, "", true),
    spec("set-fail-mode", 2, 2, "", true),
    spec("get-manager", 0, 0, "", false),
    spec("del-manager", 0, 0, "", false),
    spec("set-manager", 1, MANY, "--inactivity-probe=", false),
    spec("get-ssl", 0, 0, "", false),
    spec("del-ssl", 0, 0, "", false),
    spec("set-ssl", 3, 3, "--bootstrap", false),
    spec("add-aa-mapping", 3, 3, "", false),
    spec("del-aa-mapping", 3, 3, "", false),
    spec("get-aa-mapping", 1, 1, "", false),
    spec("add-zone-tp", 3, MANY, "--may-exist", false),
    spec("del-zone-tp", 2, 2, "--if-exists", false),
    spec("list-zone-tp", 1, 1, "", false),
    spec("list-dp-cap", 1, 1, "", false),
    spec("set-zone-limit", 3, 3, "", false),
    spec("del-zone-limit", 2, 2, "--if-exists", false),
    spec("list-zone-limits", 1, 1, "", false),
    spec("comment", 0, MANY, "", true),
    spec("get", 2, MANY, "--if-exists,--id=", true),
    spec("list", 1, MANY, "--if-exists,--columns=", true),
    spec("find", 1, MANY, "--columns=", true),
    spec("set", 3, MANY, "--if-exists", true),
    spec("add", 4, MANY, "--if-exists", true),
    spec("remove", 4, MANY, "--if-exists", true),
    spec("clear", 3, MANY, "--if-exists", true),
    spec("create", 2, MANY, "--id=", false),
    spec("destroy", 1, MANY, "--if-exists,--all", false),
    spec("wait-until", 2, MANY, "", false),
];

/// Whether a long option takes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    No,
    Required,
    Optional,
}

/// What a global option does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Db,
    Timeout,
    Oneline,
    DryRun,
    Retry,
    Help,
    Version,
    Format,
    Data,
    NoHeadings,
    Bare,
    MaxWidth,
    /// Logging and cluster options: nothing to do for switchd.
    Ignored,
    /// Accepted by OVS, refused here with the reason.
    Refused(&'static str),
    /// A command option, given to the first command.
    Local,
}

const SSL: &str = "SSL options are not supported: switchd is reached over its Unix control socket";

/// OVS 3.1's long options (`ovs-vsctl --options`), with the command options
/// every command together has.
const LONG: &[(&str, Arg, Opt)] = &[
    ("db", Arg::Required, Opt::Db),
    ("no-syslog", Arg::No, Opt::Ignored),
    ("no-wait", Arg::No, Opt::Ignored),
    ("dry-run", Arg::No, Opt::DryRun),
    ("oneline", Arg::No, Opt::Oneline),
    ("timeout", Arg::Required, Opt::Timeout),
    ("retry", Arg::No, Opt::Retry),
    ("help", Arg::No, Opt::Help),
    (
        "commands",
        Arg::No,
        Opt::Refused("--commands is not supported (see --help for the commands switchd does)"),
    ),
    (
        "options",
        Arg::No,
        Opt::Refused("--options is not supported (see --help for the options switchd takes)"),
    ),
    ("leader-only", Arg::No, Opt::Ignored),
    ("no-leader-only", Arg::No, Opt::Ignored),
    ("shuffle-remotes", Arg::No, Opt::Ignored),
    ("no-shuffle-remotes", Arg::No, Opt::Ignored),
    ("version", Arg::No, Opt::Version),
    ("verbose", Arg::Optional, Opt::Ignored),
    ("log-file", Arg::Optional, Opt::Ignored),
    ("syslog-method", Arg::Required, Opt::Ignored),
    ("syslog-target", Arg::Required, Opt::Ignored),
    ("format", Arg::Required, Opt::Format),
    ("data", Arg::Required, Opt::Data),
    ("no-headings", Arg::No, Opt::NoHeadings),
    (
        "pretty",
        Arg::No,
        Opt::Refused("--pretty is not supported (JSON is printed on one line)"),
    ),
    ("bare", Arg::No, Opt::Bare),
    ("max-column-width", Arg::Required, Opt::MaxWidth),
    ("private-key", Arg::Required, Opt::Refused(SSL)),
    ("certificate", Arg::Required, Opt::Refused(SSL)),
    ("ca-cert", Arg::Required, Opt::Refused(SSL)),
    ("ssl-protocols", Arg::Required, Opt::Refused(SSL)),
    ("ssl-ciphers", Arg::Required, Opt::Refused(SSL)),
    ("ssl-ciphersuites", Arg::Required, Opt::Refused(SSL)),
    ("bootstrap-ca-cert", Arg::Required, Opt::Refused(SSL)),
    ("peer-ca-cert", Arg::Required, Opt::Refused(SSL)),
    ("may-exist", Arg::No, Opt::Local),
    ("if-exists", Arg::No, Opt::Local),
    ("columns", Arg::Required, Opt::Local),
    ("id", Arg::Required, Opt::Local),
    ("real", Arg::No, Opt::Local),
    ("fake", Arg::No, Opt::Local),
    ("with-iface", Arg::No, Opt::Local),
    ("fake-iface", Arg::No, Opt::Local),
    ("inactivity-probe", Arg::Required, Opt::Local),
    ("all", Arg::No, Opt::Local),
    ("bootstrap", Arg::No, Opt::Local),
];

/// The short options: `-t SECS`, `-f FORMAT`, `-d FORMAT`, `-h`, `-V`,
/// `-v[SPEC]`, and the SSL ones.
fn short(c: char) -> Option<(&'static str, Arg, Opt)> {
    Some(match c {
        't' => ("timeout", Arg::Required, Opt::Timeout),
        'f' => ("format", Arg::Required, Opt::Format),
        'd' => ("data", Arg::Required, Opt::Data),
        'h' => ("help", Arg::No, Opt::Help),
        'V' => ("version", Arg::No, Opt::Version),
        'v' => ("verbose", Arg::Optional, Opt::Ignored),
        'p' => ("private-key", Arg::Required, Opt::Refused(SSL)),
        'c' => ("certificate", Arg::Required, Opt::Refused(SSL)),
        'C' => ("ca-cert", Arg::Required, Opt::Refused(SSL)),
        _ => return None,
    })
}

/// Finds a long option by its name or a unique prefix of it.
fn long(name: &str) -> Result<(&'static str, Arg, Opt), String> {
    if let Some(o) = LONG.iter().find(|o| o.0 == name) {
        return Ok(*o);
    }
    let matches: Vec<&(&str, Arg, Opt)> = LONG.iter().filter(|o| o.0.starts_with(name)).collect();
    match matches[..] {
        [one] => Ok(*one),
        [] => Err(format!("unrecognized option '--{name}'")),
        ref many => {
            let names: Vec<String> = many.iter().map(|o| format!("'--{}'", o.0)).collect();
            Err(format!(
                "option '--{name}' is ambiguous; possibilities: {}",
                names.join(" ")
            ))
        }
    }
}

fn apply(
    g: &mut Globals,
    local: &mut Vec<(String, Option<String>)>,
    (name, _, opt): (&'static str, Arg, Opt),
    value: Option<String>,
) -> Result<Option<Parsed>, String> {
    let value_or_empty = || value.clone().unwrap_or_default();
    match opt {
        Opt::Db => {
            let v = value_or_empty();
            match v.strip_prefix("unix:") {
                Some(path) if !path.is_empty() => g.socket = Some(PathBuf::from(path)),
                _ => {
                    return Err(format!(
                        "--db={v}: only unix:PATH is supported, PATH being switchd's control socket"
                    ))
                }
            }
        }
        Opt::Timeout => {
            let v = value_or_empty();
            match v.parse::<u32>() {
                Ok(n) if n > 0 => g.timeout = Some(n),
                _ => return Err(format!("value {v} on -t or --timeout is invalid")),
            }
        }
        Opt::Oneline => g.oneline = true,
        Opt::DryRun => g.dry_run = true,
        Opt::Retry => g.retry = true,
        Opt::Help => return Ok(Some(Parsed::Help)),
        Opt::Version => return Ok(Some(Parsed::Version)),
        Opt::Format => {
            g.style.format = match value_or_empty().as_str() {
                "list" => Format::List,
                "table" => Format::Table,
                "csv" => Format::Csv,
                "json" => Format::Json,
                "html" => return Err("--format=html is not supported (list, table, csv, json are)".into()),
                other => return Err(format!("unknown output format \"{other}\"")),
            }
        }
        Opt::Data => {
            g.style.data = match value_or_empty().as_str() {
                "string" => Data::String,
                "bare" => Data::Bare,
                "json" => Data::Json,
                other => return Err(format!("unknown data format \"{other}\"")),
            }
        }
        Opt::NoHeadings => g.style.headings = false,
        Opt::Bare => {
            g.style.format = Format::List;
            g.style.data = Data::Bare;
            g.style.headings = false;
        }
        Opt::MaxWidth => {
            let v = value_or_empty();
            // atoi(), as OVS: anything else counts as 0, no limit.
            g.style.max_width = v.trim().parse().unwrap_or(0);
        }
        Opt::Ignored => {}
        Opt::Refused(why) => return Err(why.into()),
        Opt::Local => {
            let key = format!("--{name}");
            if local.iter().any(|(k, _)| *k == key) {
                return Err(format!("'{key}' option specified multiple times"));
            }
            local.push((key, value));
        }
    }
    Ok(None)
}

/// Parses a whole command line (`args[0]` is the program name).
pub fn parse(args: &[String]) -> Result<Parsed, String> {
    let mut g = Globals::default();
    let mut local = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            i += 1;
            break;
        }
        if let Some(body) = a.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (body, None),
            };
            let opt = long(name).map_err(|e| match inline {
                // glibc names the option as typed, value included.
                Some(_) if e.starts_with("unrecognized") => format!("unrecognized option '{a}'"),
                _ => e,
            })?;
            let value = match (opt.1, inline) {
                (Arg::No, Some(_)) => return Err(format!("option '--{}' doesn't allow an argument", opt.0)),
                (Arg::Required, None) => {
                    i += 1;
                    Some(
                        args.get(i)
                            .cloned()
                            .ok_or_else(|| format!("option '--{}' requires an argument", opt.0))?,
                    )
                }
                (_, v) => v,
            };
            if let Some(p) = apply(&mut g, &mut local, opt, value)? {
                return Ok(p);
            }
            i += 1;
            continue;
        }
        if a.len() > 1 && a.starts_with('-') {
            let cluster: Vec<char> = a.chars().skip(1).collect();
            let mut j = 0;
            while j < cluster.len() {
                let c = cluster[j];
                let opt = short(c).ok_or_else(|| format!("invalid option -- '{c}'"))?;
                let rest: String = cluster[j + 1..].iter().collect();
                let value = match opt.1 {
                    Arg::No => None,
                    Arg::Optional => {
                        j = cluster.len();
                        (!rest.is_empty()).then_some(rest)
                    }
                    Arg::Required => {
                        j = cluster.len();
                        if rest.is_empty() {
                            i += 1;
                            Some(
                                args.get(i)
                                    .cloned()
                                    .ok_or_else(|| format!("option requires an argument -- '{c}'"))?,
                            )
                        } else {
                            Some(rest)
                        }
                    }
                };
                if let Some(p) = apply(&mut g, &mut local, opt, value)? {
                    return Ok(p);
                }
                j += 1;
            }
            i += 1;
            continue;
        }
        break;
    }
    let commands = split_commands(&args[i.min(args.len())..], local)?;
    Ok(Parsed::Run(g, commands))
}

/// Splits the words after the global options at each `--` and parses each
/// part as one command (OVS's `ctl_parse_commands`).
fn split_commands(
    words: &[String],
    mut local: Vec<(String, Option<String>)>,
) -> Result<Vec<Command>, String> {
    let mut commands = Vec::new();
    for part in words.split(|w| w == "--") {
        if part.is_empty() {
            if !local.is_empty() {
                return Err("missing command name (use --help for help)".into());
            }
            continue;
        }
        commands.push(parse_command(part, std::mem::take(&mut local))?);
    }
    if commands.is_empty() {
        return Err("missing command name (use --help for help)".into());
    }
    Ok(commands)
}

/// One command: its leading options, its name, its arguments; checked
/// against OVS's syntax of the command, then refused if switchd does not
/// do it.
fn parse_command(words: &[String], mut options: Vec<(String, Option<String>)>) -> Result<Command, String> {
    let mut i = 0;
    while let Some(w) = words.get(i).filter(|w| w.starts_with('-')) {
        let (key, value) = match w.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (w.clone(), None),
        };
        if options.iter().any(|(k, _)| *k == key) {
            return Err(format!("'{w}' option specified multiple times"));
        }
        options.push((key, value));
        i += 1;
    }
    let Some(name) = words.get(i) else {
        return Err("missing command name (use --help for help)".into());
    };
    let spec = COMMANDS
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("unknown command '{name}'; use --help for help"))?;
    for (key, value) in &options {
        // As OVS: the option must appear in the command's list, followed
        // by '=' if it takes an argument.
        let found = spec
            .options
            .split(',')
            .find(|o| o.trim_end_matches(['=', '?']) == key.as_str());
        let Some(o) = found else {
            return Err(format!("'{name}' command has no '{key}' option"));
        };
        let wants = o.ends_with('=');
        if !o.ends_with('?') && wants != value.is_some() {
            return Err(if wants {
                format!("missing argument to '{key}' option on '{name}' command")
            } else {
                format!("'{key}' option on '{name}' does not accept an argument")
            });
        }
    }
    let args = &words[i + 1..];
    if args.len() < spec.min {
        return Err(format!(
            "'{name}' command requires at least {} arguments",
            spec.min
        ));
    }
    if args.len() > spec.max {
        let note = if args.iter().any(|a| a.starts_with('-')) {
            " (note that options must precede command names and follow a \"--\" argument)"
        } else {
            ""
        };
        return Err(format!(
            "'{name}' command takes at most {} arguments{note}",
            spec.max
        ));
    }
    if !spec.supported {
        return Err(format!(
            "'{name}' command is not supported by switchd (see --help for the commands it does)"
        ));
    }
    Ok(Command {
        name: spec.name,
        options,
        args: args.to_vec(),
    })
}

/// `--help`.
pub fn usage(program: &str) -> String {
    format!(
        "\
{program}: the ovs-vsctl commands of switchd (a subset of Open vSwitch's ovs-vsctl)
usage: {program} [OPTIONS] COMMAND [ARG...] [-- [OPTIONS] COMMAND [ARG...]]...

Open vSwitch commands:
  init                        nothing to initialize (accepted)
  show                        print overview of switchd's bridges, ports, interfaces

Bridge commands:
  [--may-exist] add-br BRIDGE       create a new bridge named BRIDGE
  [--if-exists] del-br BRIDGE       delete BRIDGE and all of its ports
  list-br                           print the names of all the bridges
  br-exists BRIDGE                  exit 2 if BRIDGE does not exist
  br-to-vlan BRIDGE                 print 0 (switchd has no VLAN bridges)
  br-to-parent BRIDGE               print BRIDGE
  br-set-external-id BRIDGE KEY [VALUE]   set (or unset) external_ids:KEY
  br-get-external-id BRIDGE [KEY]   print external_ids:KEY, or all of them

Port commands (a bond is one port):
  list-ports BRIDGE                 print the names of the ports of BRIDGE
  [--may-exist] add-port BRIDGE PORT [COLUMN[:KEY]=VALUE]...
                                    add PORT (its device may appear later)
  [--may-exist] add-bond BRIDGE BOND IFACE... [COLUMN[:KEY]=VALUE]...
  [--if-exists] [--with-iface] del-port [BRIDGE] PORT
  port-to-br PORT                   print the bridge of PORT

Interface commands:
  list-ifaces BRIDGE                print the names of the interfaces of BRIDGE
  iface-to-br IFACE                 print the bridge of IFACE

Controller commands:
  get-controller BRIDGE, del-controller BRIDGE, set-controller BRIDGE TARGET...
  get-fail-mode BRIDGE, del-fail-mode BRIDGE, set-fail-mode BRIDGE standalone|secure

Database commands (tables Bridge, Port, Interface; Open_vSwitch read only):
  [--columns=COL,...] list TABLE [RECORD]...
  [--columns=COL,...] find TABLE [COLUMN[:KEY]=VALUE | COLUMN[:KEY]!=VALUE]...
  [--if-exists] get TABLE RECORD [COLUMN[:KEY]]...
  [--if-exists] set TABLE RECORD COLUMN[:KEY]=VALUE...
  [--if-exists] add TABLE RECORD COLUMN [KEY=]VALUE...
  [--if-exists] remove TABLE RECORD COLUMN KEY|VALUE|KEY=VALUE...
  [--if-exists] clear TABLE RECORD COLUMN...

Columns:
  Bridge: datapath_id (read), datapath_type (netdev),
    external_ids, fail_mode, name (read),
    other_config:{{datapath-id, mac-aging-time, mac-table-size, rstp-priority,
    rstp-max-age, rstp-forward-delay, rstp-transmit-hold-count,
    rstp-force-protocol-version}}, ports (read), protocols, rstp_enable,
    stp_enable (false only: switchd runs RSTP)
  Port: bond_downdelay, bond_mode, bond_updelay, external_ids, interfaces (read),
    lacp, name (read), other_config:{{lacp-time, lacp-fallback-ab,
    bond-rebalance-interval, rstp-enable, rstp-port-priority, rstp-path-cost,
    rstp-port-admin-edge, rstp-port-auto-edge}}, tag, trunks, vlan_mode
  Interface: admin_state, error, link_state, mac_in_use, mtu, ofport, name,
    statistics (read), external_ids, ingress_policing_burst,
    ingress_policing_rate, mtu_request, ofport_request,
    options:{{remote_ip, local_ip, key, dst_port}}, type (\"\" or system,
    internal (a switchd tap port), tap, vxlan, gre)

Options:
  --db=unix:PATH              switchd's control socket (default: $SWITCHD_SOCKET,
                              else {socket})
  -t, --timeout=SECS          wait at most SECS seconds for switchd
  --retry                     wait for switchd to accept connections
  --dry-run                   check the commands, change nothing
  --oneline                   print exactly one line of output per command
  --no-wait, -v, --verbose    accepted, nothing to do
  -f, --format=FORMAT         list (default), table, csv or json
  -d, --data=FORMAT           string (default), bare or json
  --no-headings, --bare, --max-column-width=N
  -h, --help                  display this help message
  -V, --version               display version information

Commands run in order and stop at the first failure; every command is checked
before anything is changed, but a change already made is not undone when a
later one fails.
",
        socket = proto::DEFAULT_SOCKET
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        std::iter::once("ovs-vsctl")
            .chain(line.split_whitespace())
            .map(String::from)
            .collect()
    }

    fn run(line: &str) -> (Globals, Vec<Command>) {
        match parse(&words(line)) {
            Ok(Parsed::Run(g, c)) => (g, c),
            other => panic!("{line}: {other:?}"),
        }
    }

    fn err(line: &str) -> String {
        parse(&words(line)).unwrap_err()
    }

    fn opt(k: &str, v: Option<&str>) -> (String, Option<String>) {
        (k.into(), v.map(Into::into))
    }

    #[test]
    fn libvirt_add_port_line() {
        let (g, c) = run(
            "--timeout=5 -- --may-exist add-port br0 vnet0 tag=10 -- set Interface vnet0 \
             external-ids:iface-status=active",
        );
        assert_eq!(g.timeout, Some(5));
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].name, "add-port");
        assert_eq!(c[0].options, vec![opt("--may-exist", None)]);
        assert_eq!(c[0].args, ["br0", "vnet0", "tag=10"]);
        assert_eq!(c[1].name, "set");
        assert!(c[1].options.is_empty());
    }

    #[test]
    fn options_before_the_first_command_belong_to_it() {
        let (g, c) = run(
            "--timeout=5 --if-exists --format=list --data=json --no-headings --columns=statistics \
             list Interface vnet0",
        );
        assert_eq!(g.style.format, Format::List);
        assert_eq!(g.style.data, Data::Json);
        assert!(!g.style.headings);
        assert_eq!(
            c[0].options,
            vec![opt("--if-exists", None), opt("--columns", Some("statistics"))]
        );
        assert_eq!(c[0].value("--columns"), Some("statistics"));
        let (_, c) = run("--columns name list port -- --columns=tag list port");
        assert_eq!(c[0].value("--columns"), Some("name"));
        assert_eq!(c[1].value("--columns"), Some("tag"));
    }

    #[test]
    fn short_and_abbreviated_options() {
        assert_eq!(run("-t 7 list-br").0.timeout, Some(7));
        assert_eq!(run("-t7 list-br").0.timeout, Some(7));
        assert_eq!(run("--time=3 list-br").0.timeout, Some(3));
        assert_eq!(run("--timeout 3 list-br").0.timeout, Some(3));
        assert_eq!(run("-fcsv -d bare list-br").0.style.format, Format::Csv);
        let (g, _) = run("--bare list-br");
        assert_eq!(
            (g.style.format, g.style.data, g.style.headings),
            (Format::List, Data::Bare, false)
        );
        let (g, _) = run("-v --verbose=vsctl:dbg --no-wait --retry --dry-run --oneline list-br");
        assert!(g.retry && g.dry_run && g.oneline);
        assert_eq!(
            run("--db=unix:/tmp/s.sock list-br").0.socket,
            Some(PathBuf::from("/tmp/s.sock"))
        );
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse(&words("--help")), Ok(Parsed::Help));
        assert_eq!(parse(&words("-h list-br")), Ok(Parsed::Help));
        assert_eq!(parse(&words("-V")), Ok(Parsed::Version));
        assert!(usage("ovs-vsctl").contains("add-port BRIDGE PORT"));
    }

    #[test]
    fn usage_errors_read_as_ovs() {
        assert_eq!(err(""), "missing command name (use --help for help)");
        assert_eq!(err("--may-exist"), "missing command name (use --help for help)");
        assert_eq!(
            err("--timeout=5 --"),
            "missing command name (use --help for help)"
        );
        assert_eq!(err("foo"), "unknown command 'foo'; use --help for help");
        assert_eq!(
            err("--may-exist list-br"),
            "'list-br' command has no '--may-exist' option"
        );
        assert_eq!(
            err("list-br --may-exist"),
            "'list-br' command takes at most 0 arguments (note that options must precede command \
             names and follow a \"--\" argument)"
        );
        assert_eq!(
            err("add-bond br0 b0 a"),
            "'add-bond' command requires at least 4 arguments"
        );
        assert_eq!(
            err("--timeout=0 list-br"),
            "value 0 on -t or --timeout is invalid"
        );
        assert_eq!(err("-t abc list-br"), "value abc on -t or --timeout is invalid");
        assert_eq!(err("--format=xml list-br"), "unknown output format \"xml\"");
        assert_eq!(err("--data=foo list-br"), "unknown data format \"foo\"");
        assert_eq!(err("--filter=x show"), "unrecognized option '--filter=x'");
        assert_eq!(err("--nosuch show"), "unrecognized option '--nosuch'");
        assert_eq!(err("-x show"), "invalid option -- 'x'");
        assert_eq!(
            err("--no-wait=1 show"),
            "option '--no-wait' doesn't allow an argument"
        );
        assert_eq!(err("list-br -t"), "'list-br' command takes at most 0 arguments (note that options must precede command names and follow a \"--\" argument)");
        assert_eq!(err("show -- -t"), "missing command name (use --help for help)");
        assert!(err("--no show").starts_with("option '--no' is ambiguous; possibilities:"));
        assert_eq!(
            err("-- --columns list port"),
            "missing argument to '--columns' option on 'list' command"
        );
        assert_eq!(
            err("-- --if-exists=1 get port p"),
            "'--if-exists' option on 'get' does not accept an argument"
        );
        assert_eq!(
            err("-- --if-exists --if-exists get port p"),
            "'--if-exists' option specified multiple times"
        );
        assert!(err("--pretty list-br").starts_with("--pretty is not supported"));
        assert!(err("--private-key=k show").starts_with("SSL options"));
        assert!(err("--db=tcp:1.2.3.4:6640 show").starts_with("--db=tcp:1.2.3.4:6640: only unix:PATH"));
        assert_eq!(
            err("emer-reset"),
            "'emer-reset' command is not supported by switchd (see --help for the commands it does)"
        );
        assert!(err("create Bridge name=x").contains("'create' command is not supported"));
    }
}
