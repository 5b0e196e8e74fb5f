//! The port on its own, with an in-process client: batching, the
//! one-client rule, and framing through a full socket, plus the
//! readiness of the port's single fd that the engine relies on. No root
//! needed.

use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::*;
use crate::batch::{Edit, TxEntry};

/// A private directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("switchd-stream-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn open(dir: &TempDir) -> (StreamPort, PathBuf) {
    let path = dir.0.join("p.sock");
    let config = proto::PortConfig {
        port_type: proto::PortType::Stream,
        path: Some(path.clone()),
        ..Default::default()
    };
    (StreamPort::open(&"t0".parse().unwrap(), &config).unwrap(), path)
}

fn frame(seq: u32, len: usize) -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x88, 0xb5]);
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend((f.len()..len).map(|i| (i as u32 ^ seq) as u8));
    f
}

fn prefixed(f: &[u8]) -> Vec<u8> {
    let mut v = (f.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(f);
    v
}

/// Whether the port's fd turns readable within `ms` (a fresh
/// edge-triggered registration, as the engine's).
fn readable(port: &StreamPort, ms: u64) -> bool {
    let mut poll = Poll::new().unwrap();
    let mut events = mio::Events::with_capacity(4);
    poll.registry()
        .register(&mut SourceFd(&port.raw_fd()), Token(7), Interest::READABLE)
        .unwrap();
    poll.poll(&mut events, Some(Duration::from_millis(ms))).unwrap();
    !events.is_empty()
}

/// Each refusal of a socket file path is its own variant, rendered as
/// the message users see. (The others are checked end to end in
/// `tests/socket_ports.rs`.)
#[test]
fn path_refusals_say_why() {
    use std::os::unix::ffi::OsStrExt;

    let dir = TempDir::new();
    let no_path = proto::PortConfig {
        port_type: proto::PortType::Stream,
        ..Default::default()
    };
    match StreamPort::open(&"t0".parse().unwrap(), &no_path) {
        Err(e @ OpenError::NeedsPath(proto::PortType::Stream)) => {
            assert_eq!(e.to_string(), "a stream port needs path=FILE")
        }
        other => panic!("{other:?}"),
    }
    let shown = |p: &Path| p.display().to_string();
    let up = dir.0.join("..");
    match SocketFile::bind(&up, libc::SOCK_STREAM, DEFAULT_MODE) {
        Err(e @ OpenError::PathNamesNoFile(_)) => {
            assert_eq!(e.to_string(), format!("path {:?} names no file", shown(&up)))
        }
        other => panic!("{other:?}"),
    }
    let file = dir.0.join("plain");
    fs::write(&file, "").unwrap();
    let under_file = file.join("p.sock");
    match SocketFile::bind(&under_file, libc::SOCK_STREAM, DEFAULT_MODE) {
        Err(e @ OpenError::NotADirectory { .. }) => assert_eq!(
            e.to_string(),
            format!(
                "{:?} is not a directory (path {:?})",
                shown(&file),
                shown(&under_file)
            )
        ),
        other => panic!("{other:?}"),
    }
    let nul = PathBuf::from(std::ffi::OsStr::from_bytes(b"/tmp/a\0b.sock"));
    match SocketFile::bind(&nul, libc::SOCK_STREAM, DEFAULT_MODE) {
        Err(e @ OpenError::PathHasNul(_)) => assert_eq!(
            e.to_string(),
            "path \"/tmp/a\\0b.sock\" cannot be a unix socket path"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn full_batches_one_client_and_the_file() {
    let dir = TempDir::new();
    let (mut port, path) = open(&dir);
    assert_eq!(mode_of(&path), DEFAULT_MODE);
    let mut rx = RxBatch::new();
    assert!(!readable(&port, 50), "idle port is readable");
    assert_eq!(port.recv_batch(&mut rx).unwrap(), 0);

    let mut client = UnixStream::connect(&path).unwrap();
    assert!(
        readable(&port, 1000),
        "a waiting client does not make the fd readable"
    );
    let frames: Vec<Vec<u8>> = (0..40).map(|i| frame(i, 60 + i as usize)).collect();
    client
        .write_all(&frames.iter().flat_map(|f| prefixed(f)).collect::<Vec<u8>>())
        .unwrap();
    // A full batch means "maybe more"; then the rest; then drained.
    assert_eq!(port.recv_batch(&mut rx).unwrap(), BATCH);
    for (i, f) in frames[..BATCH].iter().enumerate() {
        assert_eq!(rx.frame(i), &f[..]);
        assert_eq!(rx.frame_ref(i).start, HEADROOM);
    }
    assert_eq!(port.recv_batch(&mut rx).unwrap(), 8);
    assert_eq!(rx.frame(7), &frames[39][..]);
    assert_eq!(port.recv_batch(&mut rx).unwrap(), 0);

    // New bytes wake the port; a frame cut in two arrives whole.
    let last = prefixed(&frame(99, 300));
    client.write_all(&last[..150]).unwrap();
    assert!(readable(&port, 1000));
    assert_eq!(port.recv_batch(&mut rx).unwrap(), 0);
    client.write_all(&last[150..]).unwrap();
    assert!(readable(&port, 1000));
    assert_eq!(port.recv_batch(&mut rx).unwrap(), 1);
    assert_eq!(rx.frame(0), &last[4..]);

    // A second client is closed at once; the first stays.
    let mut second = UnixStream::connect(&path).unwrap();
    assert_eq!(port.recv_batch(&mut rx).unwrap(), 0);
    second.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    assert_eq!(second.read(&mut [0; 4]).unwrap(), 0, "second client not closed");
    assert!(port.connected());
    assert_eq!(port.stats().refused, 1);

    // The client leaves: the port stays and takes the next one.
    drop(client);
    assert!(readable(&port, 1000), "EOF does not make the fd readable");
    assert_eq!(port.recv_batch(&mut rx).unwrap(), 0);
    assert!(!port.connected());
    let mut next = UnixStream::connect(&path).unwrap();
    next.write_all(&prefixed(&frame(5, 64))).unwrap();
    assert_eq!(port.recv_batch(&mut rx).unwrap(), 1);
    assert_eq!(port.stats().connections, 2);

    // A bad length drops the connection, counted.
    next.write_all(&0u32.to_be_bytes()).unwrap();
    assert_eq!(port.recv_batch(&mut rx).unwrap(), 0);
    assert!(!port.connected());
    assert_eq!(port.stats().protocol_errors, 1);

    drop(port);
    assert!(!path.exists(), "socket file outlived its port");
}

#[test]
fn full_socket_keeps_framing() {
    let dir = TempDir::new();
    let (mut port, path) = open(&dir);
    let mut rx = RxBatch::new();
    let keep = |n: usize| -> Vec<TxEntry> { (0..n).map(|i| TxEntry::new(i as u8, Edit::KEEP)).collect() };
    let mut batch = RxBatch::new();
    let sizes = [60_000, 1400, 65_535, 61, 30_001, 9000, 65_535, 100];
    for (i, len) in sizes.iter().enumerate() {
        let f = frame(i as u32, *len);
        batch.slot_mut(i)[HEADROOM..HEADROOM + len].copy_from_slice(&f);
        batch.set_frame(i, HEADROOM, *len);
    }
    batch.set_count(sizes.len());

    // No client: everything is dropped.
    let out = port.send_batch(&batch, &keep(sizes.len()));
    assert_eq!(out.dropped, sizes.len() as u64);

    let mut client = UnixStream::connect(&path).unwrap();
    assert_eq!(port.recv_batch(&mut rx).unwrap(), 0);
    assert!(port.connected());
    // The client does not read: the socket fills, then the buffer, then
    // whole frames are dropped.
    let (mut sent, mut dropped) = (0, 0);
    for _ in 0..20 {
        let out = port.send_batch(&batch, &keep(sizes.len()));
        assert_eq!(out.errors, 0);
        sent += out.sent;
        dropped += out.dropped;
    }
    assert!(dropped > 0, "socket and buffer never filled");
    assert!(port.tx_end > port.tx_start, "nothing waits in the buffer");

    // The client reads; whenever it has read everything, the port's fd
    // is readable (its socket can take more) and the engine's
    // recv_batch flushes.
    client.set_nonblocking(true).unwrap();
    let mut stream = Vec::new();
    let mut buf = vec![0; 1 << 16];
    loop {
        match client.read(&mut buf) {
            Ok(n) => stream.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if port.tx_end == port.tx_start {
                    break;
                }
                assert!(readable(&port, 1000), "room in the socket does not wake the port");
                assert_eq!(port.recv_batch(&mut rx).unwrap(), 0);
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(
        !port.want_write,
        "still watching writability with an empty buffer"
    );
    let mut got = 0;
    let mut rest = &stream[..];
    while !rest.is_empty() {
        let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        let f = &rest[4..4 + len];
        let seq = u32::from_be_bytes(f[14..18].try_into().unwrap());
        assert_eq!(f, &frame(seq, sizes[seq as usize])[..], "frame {got} damaged");
        rest = &rest[4 + len..];
        got += 1;
    }
    assert_eq!(got, sent, "frames counted as sent did not all arrive");
}

fn mode_of(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().mode() & 0o7777
}
