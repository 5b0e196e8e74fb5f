//! The one input `switchctl` reads besides its command line: the flow text
//! of `add-flows` and `replace-flows`, from a file or standard input (`-`,
//! as `ovs-ofctl`). Kept apart from [`crate::cli`] so that parsing the
//! command line stays free of I/O and testable without files.
//!
//! The text is sent whole, unparsed: the daemon owns the flow syntax and
//! reports `line N: reason` against this same text.

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;

use proto::types::FLOW_TEXT_MAX;
use proto::Request;

use crate::client::io_reason;

/// Where the flow text of `add-flows` / `replace-flows` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextSource {
    /// `-`: standard input.
    Stdin,
    /// A file.
    File(PathBuf),
}

impl TextSource {
    /// The command-line word: `-` is standard input, anything else a path.
    pub fn from_arg(arg: PathBuf) -> Self {
        if arg.as_os_str() == "-" {
            TextSource::Stdin
        } else {
            TextSource::File(arg)
        }
    }

    /// How messages name the source.
    fn name(&self) -> String {
        match self {
            TextSource::Stdin => "standard input".to_owned(),
            TextSource::File(p) => p.display().to_string(),
        }
    }
}

/// Reads the whole text of `source` (`stdin` for [`TextSource::Stdin`]).
///
/// # Errors
///
/// One line for the user naming the path (or standard input) and the OS
/// reason: a missing or unreadable file, a text over [`FLOW_TEXT_MAX`]
/// bytes (read no further than that, so `-` fed by `/dev/zero` ends), or
/// one that is not UTF-8 (with the line it breaks on).
pub fn read_text(source: &TextSource, stdin: impl Read) -> Result<String, String> {
    let name = source.name();
    let cannot = |e: io::Error| format!("cannot read {name}: {}", io_reason(&e));
    let mut bytes = Vec::new();
    // One byte past the limit tells "exactly at the limit" from "over it".
    let limit = FLOW_TEXT_MAX as u64 + 1;
    match source {
        TextSource::Stdin => stdin.take(limit).read_to_end(&mut bytes),
        TextSource::File(path) => File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes)),
    }
    .map_err(cannot)?;
    if bytes.len() > FLOW_TEXT_MAX {
        return Err(format!(
            "{name} is larger than {FLOW_TEXT_MAX} bytes (4 MiB), the most one request carries"
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        format!("{name}: line {line} is not UTF-8 text")
    })
}

/// Puts `text` into the request that carries a flow text (`add-flows`,
/// `replace-flows`); any other request is left as it is.
pub fn with_text(request: Request, text: String) -> Request {
    match request {
        Request::AddFlows { bridge, .. } => Request::AddFlows { bridge, text },
        Request::ReplaceFlows { bridge, .. } => Request::ReplaceFlows { bridge, text },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> proto::IfName {
        s.parse().unwrap()
    }

    #[test]
    fn dash_is_stdin() {
        assert_eq!(TextSource::from_arg("-".into()), TextSource::Stdin);
        assert_eq!(
            TextSource::from_arg("flows.txt".into()),
            TextSource::File("flows.txt".into())
        );
        // only a lone dash: "./-" is the file called "-"
        assert_eq!(TextSource::from_arg("./-".into()), TextSource::File("./-".into()));
    }

    #[test]
    fn reads_a_file_whole_and_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flows.txt");
        let text = "# ssh\npriority=100,in_port=vm1,tcp,tp_dst=22,actions=drop\n\npriority=0,actions=NORMAL";
        std::fs::write(&path, text).unwrap();
        // stdin is not touched when reading a file
        let unused: &[u8] = b"not this";
        assert_eq!(read_text(&TextSource::File(path), unused).unwrap(), text);
        assert_eq!(read_text(&TextSource::Stdin, text.as_bytes()).unwrap(), text);
        assert_eq!(read_text(&TextSource::Stdin, io::empty()).unwrap(), "");
    }

    #[test]
    fn file_errors_name_the_path_and_the_os_reason() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.txt");
        assert_eq!(
            read_text(&TextSource::File(missing.clone()), io::empty()).unwrap_err(),
            format!("cannot read {}: No such file or directory", missing.display())
        );
        assert_eq!(
            read_text(&TextSource::File(dir.path().into()), io::empty()).unwrap_err(),
            format!("cannot read {}: Is a directory", dir.path().display())
        );
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::from_raw_os_error(5)) // EIO
            }
        }
        assert_eq!(
            read_text(&TextSource::Stdin, Broken).unwrap_err(),
            "cannot read standard input: Input/output error"
        );
    }

    #[test]
    fn size_limit_and_utf8() {
        let at = vec![b'#'; FLOW_TEXT_MAX];
        assert_eq!(
            read_text(&TextSource::Stdin, &at[..]).unwrap().len(),
            FLOW_TEXT_MAX
        );
        // an endless input stops one byte past the limit
        let e = read_text(&TextSource::Stdin, io::repeat(b'x')).unwrap_err();
        assert_eq!(
            e,
            "standard input is larger than 4194304 bytes (4 MiB), the most one request carries"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.txt");
        std::fs::write(&path, b"actions=drop\nnote:caf\xe9\n").unwrap();
        assert_eq!(
            read_text(&TextSource::File(path.clone()), io::empty()).unwrap_err(),
            format!("{}: line 2 is not UTF-8 text", path.display())
        );
    }

    #[test]
    fn text_goes_into_the_flow_file_requests_only() {
        let add = Request::AddFlows {
            bridge: name("br0"),
            text: String::new(),
        };
        assert_eq!(
            with_text(add, "actions=drop\n".into()),
            Request::AddFlows {
                bridge: name("br0"),
                text: "actions=drop\n".into()
            }
        );
        let replace = Request::ReplaceFlows {
            bridge: name("br1"),
            text: "old".into(),
        };
        assert_eq!(
            with_text(replace, "new".into()),
            Request::ReplaceFlows {
                bridge: name("br1"),
                text: "new".into()
            }
        );
        assert_eq!(with_text(Request::Show, "x".into()), Request::Show);
    }
}
