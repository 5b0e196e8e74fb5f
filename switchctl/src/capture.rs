//! `switchctl capture` (SPEC §11): compiles the filter, asks switchd for
//! the stream of a port's frames and writes it as pcap until it ends.
//!
//! The filter is compiled by running `tcpdump -ddd -y EN10MB -s SNAPLEN --
//! EXPR` and reading the classic BPF it prints. That gives exactly
//! tcpdump's language (and its error messages) with no build dependency:
//! linking libpcap (the `pcap` crate) would need libpcap-dev at build time
//! for a feature that is only used when a filter is given, and tcpdump is
//! what users of a capture have anyway. Without a filter, tcpdump is not
//! needed.
//!
//! Stopping: Ctrl-C (or SIGTERM) makes signal-hook write one byte to the
//! daemon connection from the signal handler; switchd takes any byte from
//! a capture's client as "stop", and ends the stream with its end record,
//! so the summary still has the lost count. A second Ctrl-C exits at once.
//! When the pcap's reader goes away (`| head`), the same byte is sent.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use proto::capture::{self as wire, Record, END_COUNT, END_PORT_REMOVED, END_STOPPED};
use proto::{BpfInsn, Request};

use crate::cli::CaptureArgs;
use crate::client::{self, io_reason};
use crate::pcap::PcapWriter;

/// What is said when a filter is given and tcpdump cannot be run.
pub const NEED_TCPDUMP: &str = "capture FILTER needs tcpdump to compile the filter (install tcpdump)";

/// Compiles a tcpdump expression for Ethernet frames with the `tcpdump`
/// found at `program` (a name looked up in `PATH`, or a path).
///
/// # Errors
///
/// [`NEED_TCPDUMP`] if it cannot be run; the expression and tcpdump's own
/// reason if it refuses it; a description if its output is not a program.
pub fn compile_filter(program: &Path, expr: &str, snaplen: u32) -> Result<Vec<BpfInsn>, String> {
    let out = Command::new(program)
        .args(["-ddd", "-y", "EN10MB", "-s", &snaplen.to_string(), "--", expr])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|_| NEED_TCPDUMP.to_string())?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "invalid capture filter {expr:?}: {}",
            tcpdump_reason(&stderr)
        ));
    }
    wire::parse_ddd(&String::from_utf8_lossy(&out.stdout)).map_err(|e| e.0)
}

/// tcpdump's message without its notes ("Warning: ...", "Running as user
/// ...") and without its `tcpdump: ` prefix, on one line.
fn tcpdump_reason(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Warning:") && !l.starts_with("Running as user"))
        .map(|l| l.strip_prefix("tcpdump: ").unwrap_or(l))
        .collect();
    if lines.is_empty() {
        "tcpdump refused it".into()
    } else {
        lines.join("; ")
    }
}

/// How a capture ended, for the summary line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Frames written to the pcap.
    pub frames: u64,
    /// Frames lost in switchd (`None` if the stream ended without saying).
    pub lost: Option<u64>,
    /// switchd's reason for the end.
    pub reason: Option<String>,
}

impl Summary {
    /// `N frames captured, M lost`, and why it ended unless it was
    /// stopped (Ctrl-C): `(count reached)`, `(port P removed)`.
    pub fn line(&self, port: &str) -> String {
        let mut s = format!(
            "{} frame{} captured",
            self.frames,
            if self.frames == 1 { "" } else { "s" }
        );
        match self.lost {
            Some(n) => s.push_str(&format!(", {n} lost")),
            None => s.push_str(", lost unknown"),
        }
        match self.reason.as_deref() {
            None | Some(END_STOPPED) => {}
            Some(END_COUNT) => s.push_str(" (count reached)"),
            Some(END_PORT_REMOVED) => s.push_str(&format!(" (port {port} removed)")),
            Some(other) => s.push_str(&format!(" ({other})")),
        }
        s
    }
}

/// Runs `switchctl capture`: `request` is the capture request without its
/// filter, `args` where the pcap goes and the filter expression.
///
/// # Errors
///
/// One line for the user: stdout is a terminal, the filter, the daemon's
/// refusal, the output file, or a broken stream. The summary line is
/// printed on stderr first whenever the capture started.
pub fn run(
    socket: &Path,
    timeout: Option<Duration>,
    request: Request,
    args: CaptureArgs,
) -> Result<(), String> {
    let Request::Capture {
        port,
        direction,
        snaplen,
        count,
        filter: _,
    } = request
    else {
        return Err("not a capture request".into());
    };
    if args.file.is_none() && io::stdout().is_terminal() {
        return Err(
            "capture writes binary pcap data: give -w FILE, or pipe it (e.g. '-w - | tcpdump -r -')".into(),
        );
    }
    let filter = match &args.filter {
        Some(expr) => Some(compile_filter(Path::new("tcpdump"), expr, snaplen)?),
        None => None,
    };
    let request = Request::Capture {
        port: port.clone(),
        direction,
        snaplen,
        count,
        filter,
    };
    request.validate().map_err(|e| e.to_string())?;
    let (reply, mut stream, conn) = client::open(socket, &request, timeout).map_err(|e| e.to_string())?;
    reply.map_err(|e| e.message)?;
    stop_on_signals(&conn)?;
    let (out, name): (Box<dyn Write>, String) = match &args.file {
        Some(path) => {
            let f = File::create(path)
                .map_err(|e| format!("cannot create {}: {}", path.display(), io_reason(&e)))?;
            (Box::new(f), path.display().to_string())
        }
        None => (Box::new(io::stdout().lock()), "standard output".into()),
    };
    let (summary, result) = stream_to_pcap(&mut stream, &conn, BufWriter::new(out), snaplen, &name);
    let _ = writeln!(io::stderr().lock(), "{}", summary.line(port.as_str()));
    result
}

/// On SIGINT or SIGTERM, one byte goes to switchd on `conn` (which stops
/// the capture); a second signal ends the process at once.
fn stop_on_signals(conn: &UnixStream) -> Result<(), String> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::flag;
    let signalled = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        let fail = |e: io::Error| format!("cannot handle signal {sig}: {e}");
        // Registered first, so it sees the flag before the second
        // handler sets it: only a second signal exits.
        flag::register_conditional_shutdown(sig, 130, Arc::clone(&signalled)).map_err(fail)?;
        flag::register(sig, Arc::clone(&signalled)).map_err(fail)?;
        let pipe = conn.try_clone().map_err(fail)?;
        signal_hook::low_level::pipe::register(sig, pipe).map_err(fail)?;
    }
    Ok(())
}

/// Reads the records of `stream` and writes them to `out` as pcap until the
/// end record. If `out` fails (a closed pipe), the capture is stopped
/// through `conn` and the rest read and dropped, for the lost count.
/// Returns the summary and whether all went well.
fn stream_to_pcap<W: Write>(
    stream: &mut client::Stream,
    mut conn: &UnixStream,
    out: W,
    snaplen: u32,
    name: &str,
) -> (Summary, Result<(), String>) {
    let mut summary = Summary::default();
    let mut failed: Option<String> = None;
    let write_error = |e: io::Error| {
        if e.kind() == io::ErrorKind::BrokenPipe {
            // `| head`, a reader that quit: the user has what they wanted.
            None
        } else {
            Some(format!("cannot write {name}: {}", io_reason(&e)))
        }
    };
    let mut pcap = match PcapWriter::new(out, snaplen).and_then(|mut w| w.flush().map(|()| w)) {
        Ok(w) => Some(w),
        Err(e) => {
            failed = write_error(e);
            let _ = conn.write_all(b"\n");
            None
        }
    };
    let mut buf = Vec::new();
    loop {
        let record = match wire::read_record(stream, &mut buf) {
            Ok(Some(r)) => r,
            Ok(None) => {
                let e = "switchd ended the capture without its end record".to_string();
                return (summary, Err(failed.unwrap_or(e)));
            }
            Err(e) => {
                let e = format!("capture stream from switchd broken: {}", io_reason(&e));
                return (summary, Err(failed.unwrap_or(e)));
            }
        };
        match record {
            Record::Frame {
                ts_sec,
                ts_usec,
                orig_len,
                data,
                ..
            } => {
                let Some(w) = pcap.as_mut() else { continue };
                let mut written = w.write(ts_sec, ts_usec, orig_len, data);
                // Flushed whenever nothing more has arrived, so that a
                // pipe reader (tcpdump -r -) sees each frame at once.
                if written.is_ok() && stream.buffer().is_empty() {
                    written = w.flush();
                }
                match written {
                    Ok(()) => summary.frames += 1,
                    Err(e) => {
                        failed = write_error(e);
                        pcap = None;
                        // Stop the capture; keep reading for the end record.
                        let _ = conn.write_all(b"\n");
                    }
                }
            }
            Record::End { lost, reason, .. } => {
                summary.lost = Some(lost);
                summary.reason = Some(reason);
                if let Some(w) = pcap.as_mut() {
                    if let Err(e) = w.flush() {
                        failed = write_error(e);
                    }
                }
                return (summary, failed.map_or(Ok(()), Err));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn summary_lines() {
        let s = |frames, lost, reason: Option<&str>| Summary {
            frames,
            lost,
            reason: reason.map(String::from),
        };
        assert_eq!(
            s(4, Some(0), Some(END_COUNT)).line("vm1"),
            "4 frames captured, 0 lost (count reached)"
        );
        assert_eq!(
            s(1, Some(3), Some(END_STOPPED)).line("vm1"),
            "1 frame captured, 3 lost"
        );
        assert_eq!(
            s(0, Some(0), Some(END_PORT_REMOVED)).line("vm1"),
            "0 frames captured, 0 lost (port vm1 removed)"
        );
        assert_eq!(s(2, None, None).line("vm1"), "2 frames captured, lost unknown");
    }

    #[test]
    fn filters_compile_with_tcpdump_or_say_why_not() {
        let e = compile_filter(Path::new("/nonexistent/tcpdump"), "icmp", 100).unwrap_err();
        assert_eq!(e, NEED_TCPDUMP);
        let prog = match compile_filter(Path::new("tcpdump"), "icmp", 100) {
            Ok(p) => p,
            Err(e) if e == NEED_TCPDUMP => {
                let _ = writeln!(io::stderr(), "SKIP filter compilation: no tcpdump");
                return;
            }
            Err(e) => panic!("{e}"),
        };
        assert_eq!(prog.len(), 6);
        assert_eq!(prog[4], BpfInsn::new(6, 0, 0, 100), "ret #snaplen");
        let e = compile_filter(Path::new("tcpdump"), "icmp and and", 100).unwrap_err();
        assert!(
            e.starts_with("invalid capture filter \"icmp and and\": ") && e.contains("syntax error"),
            "{e}"
        );
        assert!(!e.contains("Warning") && !e.contains('\n'), "{e}");
    }

    #[test]
    fn tcpdump_notes_are_left_out() {
        assert_eq!(
            tcpdump_reason(
                "Warning: assuming Ethernet\ntcpdump: can't parse filter expression: syntax error\n"
            ),
            "can't parse filter expression: syntax error"
        );
        assert_eq!(tcpdump_reason(""), "tcpdump refused it");
    }

    /// A fake daemon's stream: two frames and an end record.
    fn stream_of(records: impl FnOnce(&mut Vec<u8>)) -> (client::Stream, UnixStream, UnixStream) {
        let mut bytes = Vec::new();
        records(&mut bytes);
        let (a, b) = UnixStream::pair().unwrap();
        let stream = io::BufReader::new(io::Cursor::new(bytes).chain(a.try_clone().unwrap()));
        (stream, a, b)
    }

    #[test]
    fn records_become_pcap_and_the_summary_counts_them() {
        let (mut stream, conn, _daemon) = stream_of(|b| {
            wire::write_frame(b, 1_700_000_000, 7, 1514, false, &[1; 60]).unwrap();
            wire::write_frame(b, 1_700_000_001, 8, 64, true, &[2; 64]).unwrap();
            wire::write_end(b, 5, 2, END_COUNT).unwrap();
        });
        let mut out = Vec::new();
        let (summary, result) = stream_to_pcap(&mut stream, &conn, &mut out, 60, "x");
        result.unwrap();
        assert_eq!(
            summary,
            Summary {
                frames: 2,
                lost: Some(5),
                reason: Some(END_COUNT.into())
            }
        );
        assert_eq!(out.len(), 24 + 16 + 60 + 16 + 64);
        assert_eq!(&out[24 + 8..24 + 16], &[60, 0, 0, 0, 0xea, 5, 0, 0]);
    }

    #[test]
    fn a_stream_without_its_end_is_an_error() {
        let (mut stream, conn, daemon) = stream_of(|b| {
            wire::write_frame(b, 1, 2, 3, false, &[0; 3]).unwrap();
        });
        drop(daemon);
        let (summary, result) = stream_to_pcap(&mut stream, &conn, Vec::new(), 60, "x");
        assert_eq!(summary.frames, 1);
        assert_eq!(
            result.unwrap_err(),
            "switchd ended the capture without its end record"
        );
    }

    /// An output that refuses every write as a closed pipe would.
    struct ClosedPipe;
    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_output_stops_the_capture_quietly() {
        let (mut stream, conn, mut daemon) = stream_of(|b| {
            wire::write_frame(b, 1, 2, 3, false, &[0; 3]).unwrap();
            wire::write_end(b, 0, 1, END_STOPPED).unwrap();
        });
        let (summary, result) = stream_to_pcap(&mut stream, &conn, ClosedPipe, 60, "x");
        assert_eq!(result, Ok(()));
        assert_eq!(summary.frames, 0);
        assert_eq!(summary.lost, Some(0));
        // The daemon was told to stop.
        let mut byte = [0u8; 1];
        daemon.read_exact(&mut byte).unwrap();
    }
}
