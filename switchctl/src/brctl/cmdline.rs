//! The `brctl` command line as bridge-utils 1.7 reads it: its options, its
//! command table (names, argument counts, the help text of `brctl --help`),
//! and its value syntax (`strtotimeval`'s seconds, `sscanf("%i")`'s
//! integers, `on|off`). Pure: nothing here talks to the daemon, so every
//! word brctl would refuse is refused here with brctl's own message, before
//! anything is sent.
//!
//! Names are left as typed: whether they are valid interface names, and
//! whether values are in switchd's ranges, is for `exec` to say, because
//! brctl reports those per command (`add bridge failed: ...`).

/// One entry of brctl's command table (`brctl/brctl_cmd.c`, `commands[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// The command word.
    pub name: &'static str,
    /// Arguments it needs (after the command word).
    pub nargs: usize,
    /// Whether it takes more than `nargs` (a list of interfaces or bridges).
    pub variadic: bool,
    /// brctl's help text: arguments, a tab, what it does.
    pub help: &'static str,
}

/// brctl 1.7's commands, in its order (the order `--help` lists them).
pub const COMMANDS: &[Spec] = &[
    spec("addbr", 1, false, "<bridge>\t\tadd bridge"),
    spec("delbr", 1, false, "<bridge>\t\tdelete bridge"),
    // brctl 1.7 reads any number of devices (`br_cmd_addif` loops), though
    // its help names one.
    spec("addif", 2, true, "<bridge> <device>\tadd interface to bridge"),
    spec(
        "delif",
        2,
        true,
        "<bridge> <device>\tdelete interface from bridge",
    ),
    spec(
        "hairpin",
        3,
        false,
        "<bridge> <port> {on|off}\tturn hairpin on/off",
    ),
    spec("setageing", 2, false, "<bridge> <time>\t\tset ageing time"),
    spec(
        "setbridgeprio",
        2,
        false,
        "<bridge> <prio>\t\tset bridge priority",
    ),
    spec("setfd", 2, false, "<bridge> <time>\t\tset bridge forward delay"),
    spec("sethello", 2, false, "<bridge> <time>\t\tset hello time"),
    spec("setmaxage", 2, false, "<bridge> <time>\t\tset max message age"),
    spec("setpathcost", 3, false, "<bridge> <port> <cost>\tset path cost"),
    spec(
        "setportprio",
        3,
        false,
        "<bridge> <port> <prio>\tset port priority",
    ),
    spec("show", 0, true, "[ <bridge> ]\t\tshow a list of bridges"),
    spec("showmacs", 1, false, "<bridge>\t\tshow a list of mac addrs"),
    spec("showstp", 1, false, "<bridge>\t\tshow bridge stp info"),
    spec("stp", 2, false, "<bridge> {on|off}\tturn stp on/off"),
];

const fn spec(name: &'static str, nargs: usize, variadic: bool, help: &'static str) -> Spec {
    Spec {
        name,
        nargs,
        variadic,
        help,
    }
}

/// What `brctl --version` prints. brctl prints `bridge-utils, 1.7`; the
/// same first words keep scripts that look for them working, and the rest
/// says what really answers.
pub fn version() -> String {
    format!(
        "bridge-utils, 1.7 (the brctl face of switchctl {})\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// brctl's `help()`: `Usage: brctl [commands]`, then each command as
/// `\t%-10s\t%s`, byte for byte.
pub fn usage() -> String {
    let mut out = String::from("Usage: brctl [commands]\ncommands:\n");
    for c in COMMANDS {
        out.push_str(&format!("\t{:<10}\t{}\n", c.name, c.help));
    }
    out
}

/// A command's usage line as brctl prints it after "Incorrect number of
/// arguments for command", without the help's description.
pub fn usage_of(spec: &Spec) -> String {
    let args = spec.help.split('\t').next().unwrap_or("");
    format!("brctl {} {args}", spec.name)
}

/// A time in seconds as brctl takes it (`setageing`, `setfd`, `sethello`,
/// `setmaxage`): any decimal number, fractions allowed. switchd's timers
/// are whole seconds, so it is rounded to the nearest (halves away from
/// zero).
#[derive(Debug, Clone, PartialEq)]
pub struct Seconds {
    /// As typed (for messages).
    pub text: String,
    /// Rounded, as the integer text switchd's parsers read (may be
    /// negative or too large: their messages say so).
    pub rounded: String,
}

impl Seconds {
    /// Reads `text` as brctl's `strtotimeval` does (`sscanf("%lf")`), but
    /// whole: trailing garbage, infinities and NaN are refused (`None`).
    pub fn parse(text: &str) -> Option<Seconds> {
        let secs: f64 = text.trim_start().parse().ok()?;
        if !secs.is_finite() {
            return None;
        }
        // `+ 0.0` turns a rounded -0 (from -0.4) into 0, so it prints "0".
        let r = secs.round() + 0.0;
        Some(Seconds {
            text: text.to_owned(),
            rounded: format!("{r:.0}"),
        })
    }

    /// Whether rounding changed what was typed (then messages say so).
    pub fn was_rounded(&self) -> bool {
        self.text.trim_start().parse::<i64>().map(|n| n.to_string()) != Ok(self.rounded.clone())
    }
}

/// Reads an integer as `sscanf("%i")` does: optional sign, `0x` for hex,
/// a leading `0` for octal, else decimal; leading blanks skipped. Unlike
/// sscanf the whole word must be the number (`08`, `12abc` are refused,
/// not read as 0 and 12), and a value beyond 64 bits is refused.
pub fn parse_int(text: &str) -> Option<i64> {
    let t = text.trim_start();
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (digits, radix) = if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (hex, 16)
    } else if t.len() > 1 && t.starts_with('0') {
        (&t[1..], 8)
    } else {
        (t, 10)
    };
    // from_str_radix would take a second sign.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let n = i64::from_str_radix(digits, radix).ok()?;
    Some(if negative { -n } else { n })
}

/// `on|yes|1` or `off|no|0`, as `br_cmd_stp` and `br_cmd_hairpin` read them.
pub fn parse_on_off(text: &str) -> Option<bool> {
    match text {
        "on" | "yes" | "1" => Some(true),
        "off" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// One parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `addbr BR`
    AddBr(String),
    /// `delbr BR`
    DelBr(String),
    /// `addif BR IF...`
    AddIf {
        /// Bridge.
        bridge: String,
        /// Interfaces, in order.
        ifaces: Vec<String>,
    },
    /// `delif BR IF...`
    DelIf {
        /// Bridge.
        bridge: String,
        /// Interfaces, in order.
        ifaces: Vec<String>,
    },
    /// `hairpin BR PORT on|off`
    Hairpin {
        /// Bridge.
        bridge: String,
        /// Port.
        port: String,
        /// on or off.
        on: bool,
    },
    /// `setageing BR SECS`, `setfd`, `sethello`, `setmaxage`
    Timer {
        /// Which timer.
        timer: Timer,
        /// Bridge.
        bridge: String,
        /// The value.
        secs: Seconds,
    },
    /// `setbridgeprio BR PRIO`
    SetBridgePrio {
        /// Bridge.
        bridge: String,
        /// As typed, read as `%i`.
        prio: i64,
    },
    /// `setpathcost BR PORT COST`
    SetPathCost {
        /// Bridge.
        bridge: String,
        /// Port.
        port: String,
        /// As typed, read as `%i`.
        cost: i64,
    },
    /// `setportprio BR PORT PRIO`
    SetPortPrio {
        /// Bridge.
        bridge: String,
        /// Port.
        port: String,
        /// As typed (brctl's 0-63 scale), read as `%i`.
        prio: i64,
    },
    /// `show [BR...]`
    Show(Vec<String>),
    /// `showmacs BR`
    ShowMacs(String),
    /// `showstp BR`
    ShowStp(String),
    /// `stp BR on|off`
    Stp {
        /// Bridge.
        bridge: String,
        /// on or off.
        on: bool,
    },
}

/// The four timer commands, which differ only in the setting and words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// `setageing` → `mac_aging`
    Ageing,
    /// `setfd` → `rstp_forward_delay`
    ForwardDelay,
    /// `sethello` → refused unless 2 (fixed in switchd)
    Hello,
    /// `setmaxage` → `rstp_max_age`
    MaxAge,
}

impl Timer {
    /// The switchd bridge key it sets; `None` for hello (fixed).
    pub fn key(self) -> Option<&'static str> {
        match self {
            Timer::Ageing => Some("mac_aging"),
            Timer::ForwardDelay => Some("rstp_forward_delay"),
            Timer::Hello => None,
            Timer::MaxAge => Some("rstp_max_age"),
        }
    }

    /// brctl's words for a value it cannot read (`bad ... value`).
    pub fn bad_value(self) -> &'static str {
        match self {
            Timer::Ageing => "bad ageing time value",
            Timer::ForwardDelay => "bad forward delay value",
            Timer::Hello => "bad hello timer value",
            Timer::MaxAge => "bad max age value",
        }
    }

    /// brctl's prefix for a refused value (`set ... failed: reason`).
    pub fn failed(self) -> &'static str {
        match self {
            Timer::Ageing => "set ageing time failed",
            Timer::ForwardDelay => "set forward delay failed",
            Timer::Hello => "set hello timer failed",
            Timer::MaxAge => "set max age failed",
        }
    }
}

/// What a command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// Run a command.
    Run(Command),
    /// Print the usage: on stdout, status 0 for `--help`, `-h` and `help`,
    /// status 1 for an empty command line (as brctl).
    Usage {
        /// Whether it was asked for (status 0).
        asked: bool,
    },
    /// `-V`, `--version`.
    Version,
    /// Refused before anything is sent: the one line for stderr.
    Refused(String),
}

/// Reads a command line; `args[0]` is the program name. Options come before
/// the command word (brctl's getopt would also find them after it; no
/// brctl command takes an option, so nothing is lost).
pub fn parse(args: &[String]) -> Parsed {
    let mut rest = args.iter().skip(1).map(String::as_str).peekable();
    // Help and version end the line at once and the first other word is
    // the command, so only the first word can be an option.
    if let Some(&opt) = rest.peek() {
        match opt {
            "-h" | "--help" => return Parsed::Usage { asked: true },
            "-V" | "--version" => return Parsed::Version,
            "--" => {
                rest.next();
            }
            // getopt's own words for what it does not know.
            _ if opt.starts_with("--") => {
                return Parsed::Refused(format!("brctl: unrecognized option '{opt}'"));
            }
            _ if opt.starts_with('-') && opt.len() > 1 => {
                let c = opt[1..].chars().next().unwrap_or('-');
                return Parsed::Refused(format!("brctl: invalid option -- '{c}'"));
            }
            _ => {}
        }
    }
    let Some(word) = rest.next() else {
        return Parsed::Usage { asked: false };
    };
    let words: Vec<&str> = rest.collect();
    // brctl 1.7 has no `help` command ("never heard of command [help]");
    // asking for help that way is common enough to answer it.
    if word == "help" {
        return Parsed::Usage { asked: true };
    }
    let Some(spec) = COMMANDS.iter().find(|c| c.name == word) else {
        return Parsed::Refused(unknown_command(word));
    };
    // brctl ignores words past the last one it reads; here they are
    // refused, so that a mistyped line changes nothing.
    if words.len() < spec.nargs || (words.len() > spec.nargs && !spec.variadic) {
        return Parsed::Refused(format!(
            "Incorrect number of arguments for command (usage: {})",
            usage_of(spec)
        ));
    }
    match command(spec.name, &words) {
        Ok(c) => Parsed::Run(c),
        Err(line) => Parsed::Refused(line),
    }
}

/// The line for a command word brctl does not have. A few that older
/// brctl versions had, or that people expect, get a reason.
fn unknown_command(word: &str) -> String {
    match word {
        "setgcint" => "never heard of command [setgcint] (brctl 1.7 has none; switchd ages each \
                       MAC entry on its own, set how long with setageing)"
            .into(),
        _ => format!("never heard of command [{word}]"),
    }
}

/// Builds the command from its words (the count already checked).
fn command(name: &str, w: &[&str]) -> Result<Command, String> {
    let s = |i: usize| w[i].to_owned();
    let timer = |timer: Timer| {
        let secs = Seconds::parse(w[1]).ok_or_else(|| timer.bad_value().to_owned())?;
        Ok(Command::Timer {
            timer,
            bridge: s(0),
            secs,
        })
    };
    let on_off = |i: usize| parse_on_off(w[i]).ok_or_else(|| "expect on/off for argument".to_owned());
    match name {
        "addbr" => Ok(Command::AddBr(s(0))),
        "delbr" => Ok(Command::DelBr(s(0))),
        "addif" => Ok(Command::AddIf {
            bridge: s(0),
            ifaces: w[1..].iter().map(|&i| i.to_owned()).collect(),
        }),
        "delif" => Ok(Command::DelIf {
            bridge: s(0),
            ifaces: w[1..].iter().map(|&i| i.to_owned()).collect(),
        }),
        "hairpin" => Ok(Command::Hairpin {
            bridge: s(0),
            port: s(1),
            on: on_off(2)?,
        }),
        "setageing" => timer(Timer::Ageing),
        "setfd" => timer(Timer::ForwardDelay),
        "sethello" => timer(Timer::Hello),
        "setmaxage" => timer(Timer::MaxAge),
        "setbridgeprio" => Ok(Command::SetBridgePrio {
            bridge: s(0),
            prio: parse_int(w[1]).ok_or("bad priority")?,
        }),
        "setpathcost" => Ok(Command::SetPathCost {
            bridge: s(0),
            port: s(1),
            cost: parse_int(w[2]).ok_or("bad path cost value")?,
        }),
        // "path" is brctl's typo, kept so the message is brctl's.
        "setportprio" => Ok(Command::SetPortPrio {
            bridge: s(0),
            port: s(1),
            prio: parse_int(w[2]).ok_or("bad path priority value")?,
        }),
        "show" => Ok(Command::Show(w.iter().map(|&b| b.to_owned()).collect())),
        "showmacs" => Ok(Command::ShowMacs(s(0))),
        "showstp" => Ok(Command::ShowStp(s(0))),
        "stp" => Ok(Command::Stp {
            bridge: s(0),
            on: on_off(1)?,
        }),
        other => Err(unknown_command(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Parsed {
        let mut args = vec!["brctl".to_owned()];
        args.extend(line.split_whitespace().map(str::to_owned));
        parse(&args)
    }

    fn refused(line: &str) -> String {
        match p(line) {
            Parsed::Refused(l) => l,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn run(line: &str) -> Command {
        match p(line) {
            Parsed::Run(c) => c,
            other => panic!("{line}: {other:?}"),
        }
    }

    /// `brctl --help` of bridge-utils 1.7.1 (Debian's), byte for byte.
    #[test]
    fn usage_is_brctls() {
        let want = "Usage: brctl [commands]\ncommands:\n\
            \taddbr     \t<bridge>\t\tadd bridge\n\
            \tdelbr     \t<bridge>\t\tdelete bridge\n\
            \taddif     \t<bridge> <device>\tadd interface to bridge\n\
            \tdelif     \t<bridge> <device>\tdelete interface from bridge\n\
            \thairpin   \t<bridge> <port> {on|off}\tturn hairpin on/off\n\
            \tsetageing \t<bridge> <time>\t\tset ageing time\n\
            \tsetbridgeprio\t<bridge> <prio>\t\tset bridge priority\n\
            \tsetfd     \t<bridge> <time>\t\tset bridge forward delay\n\
            \tsethello  \t<bridge> <time>\t\tset hello time\n\
            \tsetmaxage \t<bridge> <time>\t\tset max message age\n\
            \tsetpathcost\t<bridge> <port> <cost>\tset path cost\n\
            \tsetportprio\t<bridge> <port> <prio>\tset port priority\n\
            \tshow      \t[ <bridge> ]\t\tshow a list of bridges\n\
            \tshowmacs  \t<bridge>\t\tshow a list of mac addrs\n\
            \tshowstp   \t<bridge>\t\tshow bridge stp info\n\
            \tstp       \t<bridge> {on|off}\tturn stp on/off\n";
        assert_eq!(usage(), want);
    }

    #[test]
    fn options_help_and_version() {
        assert_eq!(p(""), Parsed::Usage { asked: false });
        for line in ["--help", "-h", "help", "-h show", "help addbr"] {
            assert_eq!(p(line), Parsed::Usage { asked: true }, "{line}");
        }
        for line in ["-V", "--version"] {
            assert_eq!(p(line), Parsed::Version, "{line}");
        }
        assert!(version().starts_with("bridge-utils, 1.7 "));
        assert_eq!(refused("-x show"), "brctl: invalid option -- 'x'");
        assert_eq!(refused("--frob show"), "brctl: unrecognized option '--frob'");
        // `--` ends the options; a lone `-` is a (bad) command word.
        assert_eq!(run("-- show"), Command::Show(vec![]));
        assert_eq!(refused("-"), "never heard of command [-]");
    }

    #[test]
    fn unknown_commands_are_brctls_words() {
        assert_eq!(refused("frob br0"), "never heard of command [frob]");
        assert_eq!(refused("ADDBR br0"), "never heard of command [ADDBR]");
        assert!(refused("setgcint br0 4").starts_with("never heard of command [setgcint] ("));
    }

    #[test]
    fn argument_counts() {
        assert_eq!(
            refused("addif br0"),
            "Incorrect number of arguments for command (usage: brctl addif <bridge> <device>)"
        );
        assert_eq!(
            refused("addbr"),
            "Incorrect number of arguments for command (usage: brctl addbr <bridge>)"
        );
        // Extra words are refused, not ignored as brctl does.
        assert_eq!(
            refused("addbr br0 br1"),
            "Incorrect number of arguments for command (usage: brctl addbr <bridge>)"
        );
        assert_eq!(
            refused("setpathcost br0 eth1 100 200"),
            "Incorrect number of arguments for command (usage: brctl setpathcost <bridge> <port> <cost>)"
        );
        assert_eq!(
            refused("hairpin br0 eth1"),
            "Incorrect number of arguments for command (usage: brctl hairpin <bridge> <port> {on|off})"
        );
        assert_eq!(
            run("addif br0 eth1 eth2 vnet0"),
            Command::AddIf {
                bridge: "br0".into(),
                ifaces: vec!["eth1".into(), "eth2".into(), "vnet0".into()]
            }
        );
        assert_eq!(
            run("delif br0 eth1"),
            Command::DelIf {
                bridge: "br0".into(),
                ifaces: vec!["eth1".into()]
            }
        );
        assert_eq!(run("show"), Command::Show(vec![]));
        assert_eq!(
            run("show br0 br1"),
            Command::Show(vec!["br0".into(), "br1".into()])
        );
        assert_eq!(run("showmacs br0"), Command::ShowMacs("br0".into()));
        assert_eq!(run("showstp br0"), Command::ShowStp("br0".into()));
        assert_eq!(run("addbr br0"), Command::AddBr("br0".into()));
        assert_eq!(run("delbr br0"), Command::DelBr("br0".into()));
    }

    #[test]
    fn on_off_words() {
        for (word, on) in [
            ("on", true),
            ("yes", true),
            ("1", true),
            ("off", false),
            ("no", false),
            ("0", false),
        ] {
            assert_eq!(
                run(&format!("stp br0 {word}")),
                Command::Stp {
                    bridge: "br0".into(),
                    on
                }
            );
            assert_eq!(
                run(&format!("hairpin br0 eth1 {word}")),
                Command::Hairpin {
                    bridge: "br0".into(),
                    port: "eth1".into(),
                    on
                }
            );
        }
        for bad in ["ON", "true", "2", "enable"] {
            assert_eq!(refused(&format!("stp br0 {bad}")), "expect on/off for argument");
            assert_eq!(
                refused(&format!("hairpin br0 eth1 {bad}")),
                "expect on/off for argument"
            );
        }
    }

    #[test]
    fn seconds_round_to_whole() {
        for (text, rounded, was) in [
            ("60", "60", false),
            ("0", "0", false),
            ("2.31", "2", true),
            ("2.5", "3", true),
            ("0.4", "0", true),
            ("-0.4", "0", true),
            ("-3", "-3", false),
            ("1e2", "100", true),
            ("  15", "15", false),
            ("300.0", "300", true),
            ("1e20", "100000000000000000000", true),
        ] {
            let s = Seconds::parse(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(s.rounded, rounded, "{text}");
            assert_eq!(s.was_rounded(), was, "{text}");
        }
        for bad in ["", "abc", "10s", "inf", "NaN", "1,5", "0x10"] {
            assert_eq!(Seconds::parse(bad), None, "{bad}");
        }
        for (timer, word) in [
            ("setageing", "bad ageing time value"),
            ("setfd", "bad forward delay value"),
            ("sethello", "bad hello timer value"),
            ("setmaxage", "bad max age value"),
        ] {
            assert_eq!(refused(&format!("{timer} br0 soon")), word);
        }
        assert_eq!(
            run("setageing br0 60"),
            Command::Timer {
                timer: Timer::Ageing,
                bridge: "br0".into(),
                secs: Seconds::parse("60").unwrap()
            }
        );
    }

    #[test]
    fn integers_read_as_percent_i() {
        for (text, n) in [
            ("4096", 4096),
            ("0x1000", 4096),
            ("0X1000", 4096),
            ("010", 8),
            ("0", 0),
            ("-1", -1),
            ("+7", 7),
            (" 32", 32),
        ] {
            assert_eq!(parse_int(text), Some(n), "{text}");
        }
        for bad in [
            "",
            "abc",
            "12abc",
            "08",
            "0x",
            "--1",
            "+-1",
            "1.5",
            "99999999999999999999",
        ] {
            assert_eq!(parse_int(bad), None, "{bad}");
        }
        assert_eq!(refused("setbridgeprio br0 high"), "bad priority");
        assert_eq!(refused("setpathcost br0 eth1 x"), "bad path cost value");
        assert_eq!(refused("setportprio br0 eth1 x"), "bad path priority value");
        assert_eq!(
            run("setportprio br0 eth1 0x20"),
            Command::SetPortPrio {
                bridge: "br0".into(),
                port: "eth1".into(),
                prio: 32
            }
        );
    }
}
