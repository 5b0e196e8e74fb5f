//! A writer of the Prometheus text exposition format, version 0.0.4: metric
//! families with their `# HELP` and `# TYPE` lines, samples with escaped
//! label values. It knows nothing about switchd; [`super::render`] says what
//! to write.
//!
//! Kept apart from the rendering so that the format's rules (escaping, one
//! contiguous block per family, no empty family) live in one small place
//! and are tested on their own.
//!
//! Every value switchd exports is a count, a size or a 0/1 state, so values
//! are `u64` and written as integers: no float formatting questions arise.

use std::fmt::Write as _;

/// The `Content-Type` of what [`Exposition`] writes.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric type, as the `# TYPE` line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (a reset to 0 means the process or object restarted);
    /// its name must end in `_total`.
    Counter,
    /// Goes up and down; its name must not end in `_total`.
    Gauge,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        }
    }
}

/// A label: its name (a fixed identifier) and its value (any text, escaped
/// when written).
pub type Label<'a> = (&'static str, &'a str);

/// The text being written.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

/// The samples of one family, written by the closure given to
/// [`Exposition::family`].
#[derive(Debug)]
pub struct Samples {
    name: &'static str,
    lines: String,
}

impl Samples {
    /// One sample: `name{labels} value`.
    pub fn add(&mut self, labels: &[Label<'_>], value: u64) {
        self.lines.push_str(self.name);
        if !labels.is_empty() {
            self.lines.push('{');
            for (i, (name, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.lines.push(',');
                }
                self.lines.push_str(name);
                self.lines.push_str("=\"");
                escape_label_value(&mut self.lines, value);
                self.lines.push('"');
            }
            self.lines.push('}');
        }
        // Writing to a String cannot fail.
        let _ = writeln!(self.lines, " {value}");
    }

    /// One sample per value of a state set: 1 for `current`, 0 for every
    /// other value in `all`, under the label `key` (the usual Prometheus
    /// encoding of an enum, so a change shows as one series falling to 0
    /// and another rising to 1, and `max_over_time` catches flapping).
    pub fn state_set(&mut self, labels: &[Label<'_>], key: &'static str, all: &[&str], current: &str) {
        let mut with_state = labels.to_vec();
        with_state.push((key, ""));
        for &state in all {
            if let Some(last) = with_state.last_mut() {
                last.1 = state;
            }
            self.add(&with_state, u64::from(state == current));
        }
    }
}

impl Exposition {
    /// An empty exposition.
    pub fn new() -> Exposition {
        Exposition::default()
    }

    /// One metric family: `# HELP`, `# TYPE`, then the samples `add` writes,
    /// all together (the format requires a family's lines to be
    /// contiguous). A family without samples is left out entirely, so that
    /// no `# TYPE` line stands for nothing.
    ///
    /// `name` must follow the Prometheus naming rules; the unit tests check
    /// every name switchd writes.
    pub fn family(&mut self, name: &'static str, help: &str, kind: Kind, add: impl FnOnce(&mut Samples)) {
        let mut samples = Samples {
            name,
            lines: String::new(),
        };
        add(&mut samples);
        if samples.lines.is_empty() {
            return;
        }
        self.out.push_str("# HELP ");
        self.out.push_str(name);
        self.out.push(' ');
        escape_help(&mut self.out, help);
        self.out.push('\n');
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
        self.out.push_str(&samples.lines);
    }

    /// The text written so far.
    pub fn finish(self) -> String {
        self.out
    }
}

/// A label value as the format wants it between double quotes: backslash,
/// double quote and line feed escaped as `\\`, `\"` and `\n`.
pub fn escape_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A `# HELP` text: backslash and line feed escaped (quotes are not, in
/// this format).
fn escape_help(out: &mut String, help: &str) {
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}
