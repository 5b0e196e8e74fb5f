//! `switchctl capture` (SPEC §11): the values of a capture request and the
//! binary stream that follows its reply on the same connection.
//!
//! A capture is not an ordinary request/reply exchange. The client sends a
//! [`Request::Capture`](crate::Request::Capture) line; the daemon answers one
//! ordinary reply line (`done`, or the error: no such port, bad filter) and,
//! after a `done`, streams *records* on the same connection until the
//! capture ends, then closes it:
//!
//! ```text
//! record  = kind:u8  len:u32  payload[len]        (integers big-endian)
//! kind 1  = frame:   ts_sec:u64 ts_usec:u32 orig_len:u32 flags:u8 bytes...
//!                    (flags bit 0: the frame left the port; else it came in)
//! kind 2  = end:     lost:u64 frames:u64 reason (UTF-8 text, the rest)
//! ```
//!
//! `bytes` are the first `snaplen` bytes of the frame (fewer if the filter
//! asked for fewer), `orig_len` its whole length; `lost` counts frames that
//! passed the filter but found the daemon's queue for this capture full (a
//! slow reader), `frames` the frame records sent. The end record is always
//! the last one unless the connection broke.
//!
//! The client stops a capture early by shutting down its sending side (or
//! sending anything at all): the daemon then ends the stream with an end
//! record saying [`END_STOPPED`], so the client still learns the lost count.
//!
//! Why a framing of its own rather than JSON lines or pcap records: frames
//! are binary and many, so base64 in JSON would cost a third more bytes and
//! a decode per frame; and pcap has no record for "the capture ended, this
//! many were lost, because...". The client writes pcap from these records
//! (a 17-byte header per frame). The filter travels compiled, as the classic
//! BPF instructions `tcpdump -ddd` prints ([`BpfInsn`], [`parse_ddd`]), so
//! the daemon needs no filter compiler, only a checked interpreter.

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

use crate::types::InvalidValue;

/// Default and largest snapshot length, as tcpdump's (`-s 0` means it).
pub const SNAPLEN_MAX: u32 = 262_144;
/// Most instructions in a filter, as the Linux kernel's `BPF_MAXINSNS`.
pub const BPF_MAXINSNS: usize = 4096;

/// Record kind: a captured frame.
pub const KIND_FRAME: u8 = 1;
/// Record kind: the end of the capture.
pub const KIND_END: u8 = 2;
/// Bytes of a frame record's payload before the frame's bytes.
pub const FRAME_HEADER_LEN: usize = 8 + 4 + 4 + 1;
/// Largest record payload a reader accepts: a full-snaplen frame and its
/// header (an end record's reason is far shorter).
pub const MAX_RECORD_LEN: usize = FRAME_HEADER_LEN + SNAPLEN_MAX as usize;
/// Flag of a frame record: the frame left the port.
pub const FLAG_OUTGOING: u8 = 1;

/// End reason: `-c COUNT` frames were sent.
pub const END_COUNT: &str = "count reached";
/// End reason: the port was deleted (or switchd stopped).
pub const END_PORT_REMOVED: &str = "port removed";
/// End reason: the client asked to stop (Ctrl-C).
pub const END_STOPPED: &str = "stopped";

/// Which frames of the port a capture takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureDirection {
    /// Frames the port receives.
    In,
    /// Frames the port sends.
    Out,
    /// Both (the default).
    #[default]
    Both,
}

impl CaptureDirection {
    /// Whether a frame going this way (`outgoing`: sent by the port) is taken.
    #[inline]
    pub fn takes(self, outgoing: bool) -> bool {
        match self {
            CaptureDirection::In => !outgoing,
            CaptureDirection::Out => outgoing,
            CaptureDirection::Both => true,
        }
    }
}

impl std::str::FromStr for CaptureDirection {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        match s {
            "in" => Ok(CaptureDirection::In),
            "out" => Ok(CaptureDirection::Out),
            "both" | "inout" => Ok(CaptureDirection::Both),
            _ => Err(InvalidValue(format!(
                "direction {s:?} is not one of in, out, both"
            ))),
        }
    }
}

/// One classic BPF instruction, as `struct sock_filter` and `tcpdump -ddd`
/// have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BpfInsn {
    /// Opcode: class, size, mode, operation and source bits.
    pub code: u16,
    /// Jump offset when the condition holds.
    pub jt: u8,
    /// Jump offset when it does not.
    pub jf: u8,
    /// The constant operand.
    pub k: u32,
}

impl BpfInsn {
    /// An instruction from its four fields.
    pub const fn new(code: u16, jt: u8, jf: u8, k: u32) -> BpfInsn {
        BpfInsn { code, jt, jf, k }
    }
}

/// Parses what `tcpdump -ddd` prints: the number of instructions on the
/// first line, then one `code jt jf k` line (decimal) per instruction.
pub fn parse_ddd(text: &str) -> Result<Vec<BpfInsn>, InvalidValue> {
    let bad = |what: String| InvalidValue(format!("unexpected filter program from tcpdump: {what}"));
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let count: usize = lines
        .next()
        .ok_or_else(|| bad("no output".into()))?
        .parse()
        .map_err(|_| bad("the first line is not an instruction count".into()))?;
    if count == 0 || count > BPF_MAXINSNS {
        return Err(bad(format!("{count} instructions (1-{BPF_MAXINSNS} allowed)")));
    }
    let mut prog = Vec::with_capacity(count);
    for line in lines {
        let f: Vec<&str> = line.split_whitespace().collect();
        let insn = match f[..] {
            [code, jt, jf, k] => (|| {
                Some(BpfInsn::new(
                    code.parse().ok()?,
                    jt.parse().ok()?,
                    jf.parse().ok()?,
                    k.parse().ok()?,
                ))
            })(),
            _ => None,
        };
        prog.push(insn.ok_or_else(|| bad(format!("{line:?} is not `code jt jf k`")))?);
    }
    if prog.len() != count {
        return Err(bad(format!(
            "{count} instructions announced, {} given",
            prog.len()
        )));
    }
    Ok(prog)
}

/// Checks what the request's types cannot: the snapshot length, the count
/// and the filter's size. Whether the filter is a valid program is the
/// daemon's check (it runs it).
pub fn validate(snaplen: u32, count: Option<u64>, filter: Option<&[BpfInsn]>) -> Result<(), InvalidValue> {
    if snaplen == 0 || snaplen > SNAPLEN_MAX {
        return Err(InvalidValue(format!(
            "snaplen {snaplen} is out of range (1-{SNAPLEN_MAX})"
        )));
    }
    if count == Some(0) {
        return Err(InvalidValue("count must be at least 1".into()));
    }
    if let Some(f) = filter {
        if f.is_empty() || f.len() > BPF_MAXINSNS {
            return Err(InvalidValue(format!(
                "the filter has {} instructions (1-{BPF_MAXINSNS} allowed)",
                f.len()
            )));
        }
    }
    Ok(())
}

/// A record as read back ([`read_record`]); a frame's bytes borrow the
/// reader's buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Record<'a> {
    /// A captured frame.
    Frame {
        /// Seconds since the Unix epoch when switchd saw the frame.
        ts_sec: u64,
        /// Microseconds within that second.
        ts_usec: u32,
        /// The frame's whole length.
        orig_len: u32,
        /// The port sent it (else it received it).
        outgoing: bool,
        /// Its first bytes (at most the snapshot length).
        data: &'a [u8],
    },
    /// The capture ended.
    End {
        /// Frames that passed the filter but found the queue full.
        lost: u64,
        /// Frame records sent.
        frames: u64,
        /// Why it ended ([`END_COUNT`], [`END_PORT_REMOVED`], [`END_STOPPED`]).
        reason: String,
    },
}

/// Writes a frame record (not flushed: the writer decides when).
pub fn write_frame<W: Write>(
    w: &mut W,
    ts_sec: u64,
    ts_usec: u32,
    orig_len: u32,
    outgoing: bool,
    data: &[u8],
) -> io::Result<()> {
    let len = u32::try_from(FRAME_HEADER_LEN + data.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
    let mut head = [0u8; 5 + FRAME_HEADER_LEN];
    head[0] = KIND_FRAME;
    head[1..5].copy_from_slice(&len.to_be_bytes());
    head[5..13].copy_from_slice(&ts_sec.to_be_bytes());
    head[13..17].copy_from_slice(&ts_usec.to_be_bytes());
    head[17..21].copy_from_slice(&orig_len.to_be_bytes());
    head[21] = if outgoing { FLAG_OUTGOING } else { 0 };
    w.write_all(&head)?;
    w.write_all(data)
}

/// Writes the end record and flushes.
pub fn write_end<W: Write>(w: &mut W, lost: u64, frames: u64, reason: &str) -> io::Result<()> {
    let len = (16 + reason.len()) as u32;
    let mut head = [0u8; 5 + 16];
    head[0] = KIND_END;
    head[1..5].copy_from_slice(&len.to_be_bytes());
    head[5..13].copy_from_slice(&lost.to_be_bytes());
    head[13..21].copy_from_slice(&frames.to_be_bytes());
    w.write_all(&head)?;
    w.write_all(reason.as_bytes())?;
    w.flush()
}

/// Reads the next record into `buf` (reused from call to call). `Ok(None)`
/// is a clean end of stream before a record; a stream cut inside a record
/// is an `UnexpectedEof` error, and a malformed record `InvalidData`.
pub fn read_record<'a, R: Read>(r: &mut R, buf: &'a mut Vec<u8>) -> io::Result<Option<Record<'a>>> {
    let mut head = [0u8; 5];
    let mut got = 0;
    while got < head.len() {
        match r.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidData, m);
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > MAX_RECORD_LEN {
        return Err(invalid(format!(
            "capture record of {len} bytes (at most {MAX_RECORD_LEN})"
        )));
    }
    buf.clear();
    buf.resize(len, 0);
    r.read_exact(buf)?;
    let be64 = |b: &[u8]| u64::from_be_bytes(b[..8].try_into().expect("8 bytes"));
    let be32 = |b: &[u8]| u32::from_be_bytes(b[..4].try_into().expect("4 bytes"));
    match head[0] {
        KIND_FRAME if len >= FRAME_HEADER_LEN => Ok(Some(Record::Frame {
            ts_sec: be64(&buf[0..]),
            ts_usec: be32(&buf[8..]),
            orig_len: be32(&buf[12..]),
            outgoing: buf[16] & FLAG_OUTGOING != 0,
            data: &buf[FRAME_HEADER_LEN..],
        })),
        KIND_END if len >= 16 => Ok(Some(Record::End {
            lost: be64(&buf[0..]),
            frames: be64(&buf[8..]),
            reason: String::from_utf8_lossy(&buf[16..]).into_owned(),
        })),
        kind => Err(invalid(format!("capture record of kind {kind} and {len} bytes"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn records_round_trip() {
        let mut out = Vec::new();
        write_frame(&mut out, 1_700_000_000, 999_999, 1514, true, b"abcdef").unwrap();
        write_frame(&mut out, 1, 2, 60, false, &[]).unwrap();
        write_end(&mut out, 7, 2, END_COUNT).unwrap();
        assert_eq!(out[0], KIND_FRAME);
        assert_eq!(&out[1..5], &(17u32 + 6).to_be_bytes());
        let mut r = Cursor::new(out);
        let mut buf = Vec::new();
        assert_eq!(
            read_record(&mut r, &mut buf).unwrap(),
            Some(Record::Frame {
                ts_sec: 1_700_000_000,
                ts_usec: 999_999,
                orig_len: 1514,
                outgoing: true,
                data: b"abcdef",
            })
        );
        assert_eq!(
            read_record(&mut r, &mut buf).unwrap(),
            Some(Record::Frame {
                ts_sec: 1,
                ts_usec: 2,
                orig_len: 60,
                outgoing: false,
                data: b"",
            })
        );
        assert_eq!(
            read_record(&mut r, &mut buf).unwrap(),
            Some(Record::End {
                lost: 7,
                frames: 2,
                reason: END_COUNT.into()
            })
        );
        assert_eq!(read_record(&mut r, &mut buf).unwrap(), None);
    }

    #[test]
    fn broken_streams_are_errors() {
        let mut out = Vec::new();
        write_frame(&mut out, 1, 2, 3, false, b"xyz").unwrap();
        let mut buf = Vec::new();
        for cut in 1..out.len() {
            let e = read_record(&mut Cursor::new(&out[..cut]), &mut buf).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "cut at {cut}");
        }
        let huge = [KIND_FRAME, 0xff, 0xff, 0xff, 0xff];
        let e = read_record(&mut Cursor::new(&huge[..]), &mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        let unknown = [9u8, 0, 0, 0, 0];
        let e = read_record(&mut Cursor::new(&unknown[..]), &mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        let short_frame = [KIND_FRAME, 0, 0, 0, 1, 0];
        let e = read_record(&mut Cursor::new(&short_frame[..]), &mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn tcpdump_ddd_output_parses() {
        let icmp = "6\n40 0 0 12\n21 0 3 2048\n48 0 0 23\n21 0 1 1\n6 0 0 262144\n6 0 0 0\n";
        let p = parse_ddd(icmp).unwrap();
        assert_eq!(p.len(), 6);
        assert_eq!(p[1], BpfInsn::new(21, 0, 3, 2048));
        assert_eq!(p[4], BpfInsn::new(6, 0, 0, 262_144));
        for bad in [
            "",
            "x\n",
            "0\n",
            "2\n6 0 0 0\n",
            "1\n6 0 0\n",
            "1\n6 0 0 -1\n",
            "1\n6 0 300 0\n",
        ] {
            assert!(parse_ddd(bad).is_err(), "{bad:?} accepted");
        }
        let too_many = format!("{}\n", BPF_MAXINSNS + 1);
        assert!(parse_ddd(&too_many).unwrap_err().0.contains("4097 instructions"));
    }

    #[test]
    fn limits() {
        assert!(validate(SNAPLEN_MAX, None, None).is_ok());
        assert!(validate(1, Some(1), Some(&[BpfInsn::new(6, 0, 0, 0)])).is_ok());
        assert_eq!(
            validate(0, None, None).unwrap_err().0,
            "snaplen 0 is out of range (1-262144)"
        );
        assert!(validate(SNAPLEN_MAX + 1, None, None).is_err());
        assert_eq!(
            validate(100, Some(0), None).unwrap_err().0,
            "count must be at least 1"
        );
        let long = vec![BpfInsn::new(6, 0, 0, 0); BPF_MAXINSNS + 1];
        assert_eq!(
            validate(100, None, Some(&long)).unwrap_err().0,
            "the filter has 4097 instructions (1-4096 allowed)"
        );
        assert!(validate(100, None, Some(&[])).is_err());
    }

    #[test]
    fn directions() {
        assert_eq!("in".parse::<CaptureDirection>().unwrap(), CaptureDirection::In);
        assert_eq!("out".parse::<CaptureDirection>().unwrap(), CaptureDirection::Out);
        assert_eq!(
            "both".parse::<CaptureDirection>().unwrap(),
            CaptureDirection::Both
        );
        assert!("up".parse::<CaptureDirection>().is_err());
        assert!(CaptureDirection::In.takes(false) && !CaptureDirection::In.takes(true));
        assert!(!CaptureDirection::Out.takes(false) && CaptureDirection::Out.takes(true));
        assert!(CaptureDirection::Both.takes(false) && CaptureDirection::Both.takes(true));
        assert_eq!(serde_json::to_string(&CaptureDirection::Out).unwrap(), "\"out\"");
    }
}
