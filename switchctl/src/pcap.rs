//! The classic pcap file format (what `tcpdump -w` writes): a 24-byte
//! global header, then per frame a 16-byte record header and the bytes.
//!
//! Here rather than in the daemon because only `switchctl capture` writes
//! pcap: switchd streams its own records (`proto::capture`), which also
//! carry what pcap has no place for (the end of a capture, frames lost).
//! Little-endian, microsecond timestamps (magic 0xa1b2c3d4 as its readers
//! expect it), version 2.4, link type `LINKTYPE_ETHERNET` (1): every
//! reader (tcpdump, tshark, Wireshark, scapy) takes it.

use std::io::{self, Write};

/// The magic number of a microsecond-resolution pcap file.
pub const MAGIC: u32 = 0xa1b2_c3d4;
/// Format version 2.4.
pub const VERSION: (u16, u16) = (2, 4);
/// Ethernet frames, starting with the destination MAC.
pub const LINKTYPE_ETHERNET: u32 = 1;

/// The global header of a file whose frames are cut at `snaplen` bytes.
pub fn global_header(snaplen: u32) -> [u8; 24] {
    let mut h = [0u8; 24];
    h[0..4].copy_from_slice(&MAGIC.to_le_bytes());
    h[4..6].copy_from_slice(&VERSION.0.to_le_bytes());
    h[6..8].copy_from_slice(&VERSION.1.to_le_bytes());
    // 8..12: GMT offset, 12..16: timestamp accuracy; both 0 as libpcap writes.
    h[16..20].copy_from_slice(&snaplen.to_le_bytes());
    h[20..24].copy_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
    h
}

/// The header of one record: when, the bytes that follow (`caplen`) and
/// the frame's whole length.
pub fn record_header(ts_sec: u32, ts_usec: u32, caplen: u32, orig_len: u32) -> [u8; 16] {
    let mut h = [0u8; 16];
    h[0..4].copy_from_slice(&ts_sec.to_le_bytes());
    h[4..8].copy_from_slice(&ts_usec.to_le_bytes());
    h[8..12].copy_from_slice(&caplen.to_le_bytes());
    h[12..16].copy_from_slice(&orig_len.to_le_bytes());
    h
}

/// Writes a pcap stream: the global header at once, then records.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header to `out` (not flushed).
    pub fn new(mut out: W, snaplen: u32) -> io::Result<Self> {
        out.write_all(&global_header(snaplen))?;
        Ok(PcapWriter { out })
    }

    /// Writes one frame (not flushed). pcap's seconds are 32 bits: a time
    /// past 2106 is written modulo 2^32, as libpcap does.
    pub fn write(&mut self, ts_sec: u64, ts_usec: u32, orig_len: u32, data: &[u8]) -> io::Result<()> {
        let caplen = u32::try_from(data.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
        self.out.write_all(&record_header(
            ts_sec as u32,
            ts_usec,
            caplen,
            orig_len.max(caplen),
        ))?;
        self.out.write_all(data)
    }

    /// Flushes what was written.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_records_are_libpcaps_bytes() {
        let mut w = PcapWriter::new(Vec::new(), 262_144).unwrap();
        w.write(0x6000_0001, 123_456, 1514, &[0xaa; 4]).unwrap();
        let bytes = w.out;
        assert_eq!(
            &bytes[..24],
            &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0]
        );
        assert_eq!(
            &bytes[24..40],
            &[0x01, 0, 0, 0x60, 0x40, 0xe2, 0x01, 0, 4, 0, 0, 0, 0xea, 0x05, 0, 0]
        );
        assert_eq!(&bytes[40..], &[0xaa; 4]);
    }

    #[test]
    fn tcpdump_reads_what_is_written() {
        use std::process::Command;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.pcap");
        let mut frame = vec![0xff; 6];
        frame.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x06]);
        frame.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
        frame.extend_from_slice(&[2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
        let mut w = PcapWriter::new(std::fs::File::create(&path).unwrap(), 262_144).unwrap();
        w.write(1_700_000_000, 5, frame.len() as u32, &frame).unwrap();
        w.flush().unwrap();
        drop(w);
        let out = match Command::new("tcpdump")
            .args(["-n", "-e", "-r"])
            .arg(&path)
            .output()
        {
            Ok(o) => o,
            Err(e) => {
                use std::io::Write as _;
                let _ = writeln!(io::stderr(), "SKIP pcap vs tcpdump: cannot run tcpdump: {e}");
                return;
            }
        };
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(
            text.contains("02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806)")
                && text.contains("Request who-has 10.0.0.2 tell 10.0.0.1"),
            "{text}"
        );
    }
}
