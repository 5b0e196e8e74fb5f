//! Hidden `switchctl completion SHELL` and `switchctl man [DIR]`: shell
//! completions and man pages generated from the clap definitions of
//! [`crate::cli`], so that what packages install never drifts from `--help`.
//!
//! They are not part of the grammar in `cli.rs` on purpose: they send no
//! request and are meant for packaging (`scripts/package-deb.sh`,
//! `scripts/install.sh`), so `main` hands them over by their first word
//! before the real command line is parsed, and they stay out of `--help`
//! and out of the completions themselves.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use clap_mangen::roff::{bold, roman, Roff};

/// The words that select this module instead of the normal grammar.
const WORDS: [&str; 2] = ["completion", "man"];

/// The section of every page: switchctl configures a system daemon and
/// needs its (root-owned by default) socket, as ovs-vsctl(8) does.
const SECTION: &str = "8";

/// The hidden command line.
#[derive(Debug, Parser)]
#[command(name = "switchctl", disable_help_subcommand = true)]
enum Gen {
    /// Print the completion script of switchctl for SHELL on stdout
    Completion {
        /// bash, zsh, fish (also elvish, powershell)
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Write switchctl.8 and one switchctl-COMMAND.8 per command into DIR;
    /// without DIR, print switchctl.8 on stdout
    Man {
        /// Directory for the pages (created if missing)
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Runs `completion` / `man` when `args[1]` is one of them; `None` for any
/// other command line, which `main` parses as usual.
pub fn run(args: &[OsString]) -> Option<ExitCode> {
    let first = args.get(1)?.to_str()?;
    if !WORDS.contains(&first) {
        return None;
    }
    let gen = match Gen::try_parse_from(args) {
        Ok(g) => g,
        Err(e) => e.exit(),
    };
    let result = match gen {
        Gen::Completion { shell } => {
            let mut out = Vec::new();
            completion(shell, &mut out);
            io::stdout().lock().write_all(&out)
        }
        Gen::Man { dir: None } => io::stdout()
            .lock()
            .write_all(&page(crate::cli::Cli::command(), true)),
        Gen::Man { dir: Some(dir) } => write_pages(&dir).map(|paths| {
            for p in paths {
                println!("{}", p.display());
            }
        }),
    };
    Some(match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchctl: {first}: {e}");
            ExitCode::FAILURE
        }
    })
}

/// The completion script of switchctl for `shell`.
pub fn completion(shell: clap_complete::Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut crate::cli::Cli::command(), "switchctl", out);
}

/// Writes the page of switchctl and of every (non-hidden) subcommand, nested
/// ones too (`switchctl-set-port.8`), into `dir`; returns their paths.
///
/// # Errors
/// `dir` cannot be created or a page cannot be written.
pub fn write_pages(dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    // Built once so that every subcommand has its display name
    // ("switchctl-set-port"), which titles and names its page; `help` is
    // not a command worth a page.
    let mut top = crate::cli::Cli::command().disable_help_subcommand(true);
    top.build();
    let mut written = Vec::new();
    let mut todo = vec![(top, true)];
    while let Some((cmd, is_top)) = todo.pop() {
        todo.extend(
            cmd.get_subcommands()
                .filter(|s| !s.is_hide_set())
                .cloned()
                .map(|s| (s, false)),
        );
        let name = cmd.get_display_name().unwrap_or(cmd.get_name()).to_owned();
        let path = dir.join(format!("{name}.{SECTION}"));
        std::fs::write(&path, page(cmd, is_top))?;
        written.push(path);
    }
    written.sort();
    Ok(written)
}

/// One page in roff: what clap_mangen renders from the definitions, the
/// command's `after_help` as NOTES, and on the top page the sections that
/// `--help` has no place for.
///
/// The after_help texts are laid out by hand for a terminal (aligned key
/// tables), so they go in no-fill mode (`.nf`): clap_mangen would fill and
/// justify them, breaking the columns.
fn page(cmd: clap::Command, is_top: bool) -> Vec<u8> {
    let version = cmd.get_version().unwrap_or_default().to_owned();
    let notes = cmd
        .get_after_long_help()
        .or_else(|| cmd.get_after_help())
        .map(ToString::to_string);
    let cmd = cmd.after_help(None::<&str>).after_long_help(None::<&str>);
    let man = clap_mangen::Man::new(cmd)
        .section(SECTION)
        .source(format!("switchd {version}"))
        .manual("switchd");
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = man.render(&mut out);
    let mut r = Roff::new();
    if is_top {
        top_sections(&mut r);
    }
    if notes.is_some() || is_top {
        r.control("SH", ["NOTES"]);
    }
    if let Some(notes) = notes {
        r.control("nf", []);
        for line in notes.lines() {
            r.text([roman(line)]);
        }
        r.control("fi", []);
    }
    if is_top {
        r.control("PP", []).text([roman(
            "Run as ovs-vsctl or brctl (a symlink of that name, as the switchd-compat package \
             installs), switchctl takes the command line of that tool instead.",
        )]);
    }
    r.control("SH", ["SEE ALSO"]);
    if is_top {
        r.text([
            bold("switchd"),
            roman("(8), "),
            bold("ovs-vsctl"),
            roman("(8), "),
            bold("brctl"),
            roman("(8)"),
        ]);
    } else {
        r.text([bold("switchctl"), roman("(8), "), bold("switchd"), roman("(8)")]);
    }
    let _ = r.to_writer(&mut out);
    out
}

/// ENVIRONMENT and EXIT STATUS of switchctl.8 (README "switchctl" says the
/// same).
fn top_sections(r: &mut Roff) {
    r.control("SH", ["ENVIRONMENT"])
        .control("TP", [])
        .text([bold(proto::SOCKET_ENV)])
        .text([roman(format!(
            "The control socket when --socket is not given (default {}).",
            proto::DEFAULT_SOCKET
        ))])
        .control("SH", ["EXIT STATUS"])
        .text([roman(
            "0 on success. On failure one line 'switchctl: REASON' on stderr and status 1 \
             (the daemon refused, or could not be reached), or 2 for a command line that does \
             not parse.",
        )]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn other_command_lines_are_left_to_the_grammar() {
        assert!(run(&os(&["switchctl"])).is_none());
        assert!(run(&os(&["switchctl", "show"])).is_none());
        assert!(run(&os(&["switchctl", "--json", "man"])).is_none());
    }

    #[test]
    fn bash_completion_names_every_visible_command() {
        let mut out = Vec::new();
        completion(clap_complete::Shell::Bash, &mut out);
        let text = String::from_utf8(out).unwrap();
        for sub in crate::cli::Cli::command().get_subcommands() {
            assert!(text.contains(sub.get_name()), "{} missing", sub.get_name());
        }
        assert!(text.contains("add-meter") && text.contains("dump-meters"));
        assert!(!text.contains("completion"), "the hidden words stay out");
    }

    #[test]
    fn pages_cover_every_command_and_nested_table() {
        let dir = std::env::temp_dir().join(format!("switchctl-man-{}", std::process::id()));
        let paths = write_pages(&dir).unwrap();
        let names: Vec<_> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
            .collect();
        for want in [
            "switchctl.8",
            "switchctl-add-br.8",
            "switchctl-set-port.8",
            "switchctl-dump-meters.8",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
        }
        assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
        let top = std::fs::read_to_string(dir.join("switchctl.8")).unwrap();
        assert!(
            top.lines().any(|l| l.starts_with(".TH switchctl 8")),
            "{}",
            &top[..80]
        );
        assert!(top.contains("add\\-meter") && top.contains("SEE ALSO"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
