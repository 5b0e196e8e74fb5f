//! Tests of system ports (root only: they create devices in a private
//! network namespace). A TAP device plays the wire, so these tests import
//! `tap`; `system.rs` itself does not.

use super::super::sys::test_util::*;
use super::super::tap::TapPort;
use super::*;
use crate::batch::{Edit, RxBatch, TxEntry};

fn ifname(s: &str) -> proto::IfName {
    s.parse().unwrap()
}

/// Broadcast dst, local src, ethertype 0x88b5, `len` payload bytes.
fn frame(seq: u8, len: usize) -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[0x02, 0, 0, 0, 1, seq]);
    f.extend_from_slice(&[0x88, 0xb5]);
    f.extend((0..len).map(|i| seq ^ i as u8));
    f
}

/// `f` with a tag (TPID, TCI) inserted at offset 12.
fn tagged(f: &[u8], tpid: u16, tci: u16) -> Vec<u8> {
    [
        &f[..12],
        &tpid.to_be_bytes()[..],
        &tci.to_be_bytes()[..],
        &f[12..],
    ]
    .concat()
}

/// Writes `frames` into the tap fd: the device receives them, as from a
/// wire.
fn inject(tap: &mut TapPort, frames: &[Vec<u8>]) {
    let out = tap.send_batch(&batch_of(frames), &keep_all(frames.len()));
    assert_eq!(out.sent, frames.len() as u64, "{out:?}");
}

fn received(port: &mut SystemPort, rx: &mut RxBatch) -> Vec<Vec<u8>> {
    let n = port.recv_batch(rx).unwrap();
    assert_eq!(n, rx.count());
    (0..n).map(|i| rx.frame(i).to_vec()).collect()
}

/// A TAP device (its fd is the "wire") and a system port on it.
fn wire(tag: &str) -> (LinkGuard, TapPort, SystemPort) {
    let name = uniq(tag);
    let g = LinkGuard(name.clone());
    let tap = TapPort::open(&ifname(&name), false, crate::port::tap::TapIo::Auto).unwrap();
    let port = SystemPort::open(&ifname(&name)).unwrap();
    (g, tap, port)
}

#[test]
fn refusals() {
    if !root_or_skip("refusals") {
        return;
    }
    enter_private_netns();
    let missing = uniq("nx");
    match SystemPort::open(&ifname(&missing)) {
        Err(e @ OpenError::NoSuchDevice(_)) => {
            assert_eq!(e.to_string(), format!("no such device {missing:?}"))
        }
        other => panic!("{other:?}"),
    }
    match SystemPort::open(&ifname("lo")) {
        Err(e @ OpenError::IsLoopback { .. }) => assert_eq!(e.to_string(), "\"lo\" is a loopback device"),
        other => panic!("{other:?}"),
    }
    let tun = uniq("u");
    let _g = LinkGuard(tun.clone());
    ip_ok(&["tuntap", "add", "dev", &tun, "mode", "tun"]);
    match SystemPort::open(&ifname(&tun)) {
        Err(e @ OpenError::NotEthernet { link_type: 65534, .. }) => assert_eq!(
            e.to_string(),
            format!("{tun:?} is not an Ethernet device (link type 65534)")
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn open_brings_up_and_sets_fd_flags() {
    if !root_or_skip("open_brings_up_and_sets_fd_flags") {
        return;
    }
    enter_private_netns();
    let name = uniq("d");
    let _g = LinkGuard(name.clone());
    ip_ok(&["tuntap", "add", "dev", &name, "mode", "tap"]);
    ip_ok(&["link", "set", "dev", &name, "mtu", "9000"]);
    assert!(!ip_ok(&["link", "show", "dev", &name]).contains(",UP"));
    let port = SystemPort::open(&ifname(&name)).unwrap();
    let text = ip_ok(&["-d", "link", "show", "dev", &name]);
    assert!(text.contains(",UP"), "{text}");
    assert!(text.contains("promiscuity 1 "), "{text}");
    assert_eq!(port.mtu(), 9000);
    let (fl, fd) = fd_flags(port.raw_fd());
    assert!(fl & libc::O_NONBLOCK != 0);
    assert!(fd & libc::FD_CLOEXEC != 0);
    drop(port);
    let text = ip_ok(&["-d", "link", "show", "dev", &name]);
    assert!(text.contains("promiscuity 0 "), "{text}");
}

#[test]
fn vlan_tags_are_restored_byte_for_byte() {
    if !root_or_skip("vlan_tags_are_restored_byte_for_byte") {
        return;
    }
    enter_private_netns();
    let (_g, mut tap, mut port) = wire("v");
    let base = frame(7, 46);
    let sent = vec![
        base.clone(),
        tagged(&base, 0x8100, 0xa064), // PCP 5, VID 100
        tagged(&base, 0x88a8, 0xa064),
        tagged(&base, 0x8100, 0x0000), // priority tag, VID 0
        tagged(&tagged(&base, 0x8100, 0x0014), 0x88a8, 0x2064), // QinQ
        tagged(&base, 0x8100, 0xf0c8), // PCP 7, DEI, VID 200
    ];
    inject(&mut tap, &sent);
    let mut rx = RxBatch::new();
    let got = received(&mut port, &mut rx);
    assert_eq!(got, sent);
    // Restored frames start at 0 (the tag went into the headroom).
    assert_eq!(rx.frame_ref(0).start, HEADROOM);
    for i in 1..sent.len() {
        assert_eq!(rx.frame_ref(i).start, 0, "frame {i}");
    }
}

#[test]
fn send_applies_edits_and_never_reads_its_own_frames() {
    if !root_or_skip("send_applies_edits_and_never_reads_its_own_frames") {
        return;
    }
    enter_private_netns();
    let (g, mut tap, mut port) = wire("s");
    let plain = frame(1, 50);
    let tag10 = tagged(&plain, 0x8100, 0x000a);
    let batch = batch_of(&[plain.clone(), tag10.clone()]);
    let t20 = [0x81, 0x00, 0x00, 0x14];
    let tx = [
        TxEntry::new(0, Edit::KEEP),
        TxEntry::new(1, Edit::KEEP),
        TxEntry::new(1, Edit::POP),
        TxEntry::new(0, Edit::push(t20)),
        TxEntry::new(1, Edit::retag(t20)),
    ];
    let expect = vec![
        plain.clone(),
        tag10.clone(),
        plain.clone(),
        tagged(&plain, 0x8100, 0x0014),
        tagged(&plain, 0x8100, 0x0014),
    ];
    let out = port.send_batch(&batch, &tx);
    let bytes: usize = expect.iter().map(Vec::len).sum();
    assert_eq!(
        out,
        SendOutcome {
            sent: 5,
            bytes: bytes as u64,
            dropped: 0,
            errors: 0,
            link_down: 0
        }
    );

    let mut rx = RxBatch::new();
    assert_eq!(tap.recv_batch(&mut rx).unwrap(), 5);
    let got: Vec<Vec<u8>> = (0..5).map(|i| rx.frame(i).to_vec()).collect();
    assert_eq!(got, expect);
    // Our own transmissions are not received (the kernel never loops a
    // socket's sends back to it) ...
    assert_eq!(port.recv_batch(&mut rx).unwrap(), 0);
    // ... nor, thanks to PACKET_IGNORE_OUTGOING, what anyone else sends
    // out of the device (here a second socket; also the host stack).
    let mut other = SystemPort::open(&ifname(&g.0)).unwrap();
    assert_eq!(other.send_batch(&batch, &tx[..2]).sent, 2);
    assert_eq!(port.recv_batch(&mut rx).unwrap(), 0);
    assert_eq!(tap.recv_batch(&mut rx).unwrap(), 2);
    // ... while frames arriving on the device are.
    inject(&mut tap, &[frame(2, 50)]);
    assert_eq!(received(&mut port, &mut rx), vec![frame(2, 50)]);
}

#[test]
fn batches_of_at_most_batch_then_drained() {
    if !root_or_skip("batches_of_at_most_batch_then_drained") {
        return;
    }
    enter_private_netns();
    let (_g, mut tap, mut port) = wire("b");
    let frames: Vec<Vec<u8>> = (0..45).map(|i| frame(i, 46 + usize::from(i))).collect();
    inject(&mut tap, &frames[..BATCH]);
    inject(&mut tap, &frames[BATCH..]);
    let mut rx = RxBatch::new();
    assert_eq!(received(&mut port, &mut rx), frames[..BATCH].to_vec());
    assert_eq!(received(&mut port, &mut rx), frames[BATCH..].to_vec());
    assert_eq!(port.recv_batch(&mut rx).unwrap(), 0);

    // More than BATCH queued for sending goes out in several calls.
    let big = batch_of(&frames[..BATCH]);
    let tx: Vec<TxEntry> = keep_all(BATCH).into_iter().chain(keep_all(8)).collect();
    let out = port.send_batch(&big, &tx);
    assert_eq!((out.sent, out.dropped, out.errors), (40, 0, 0));
    let mut n = 0;
    loop {
        let k = tap.recv_batch(&mut rx).unwrap();
        n += k;
        if k < BATCH {
            break;
        }
    }
    assert_eq!(n, 40);
}

#[test]
fn oversized_frame_is_an_error_and_the_rest_still_goes() {
    if !root_or_skip("oversized_frame_is_an_error_and_the_rest_still_goes") {
        return;
    }
    enter_private_netns();
    let (_g, mut tap, mut port) = wire("o");
    let frames = [frame(1, 50), frame(2, 3000), frame(3, 50)];
    let out = port.send_batch(&batch_of(&frames), &keep_all(3));
    assert_eq!((out.sent, out.dropped, out.errors), (2, 0, 1), "{out:?}");
    let mut rx = RxBatch::new();
    assert_eq!(tap.recv_batch(&mut rx).unwrap(), 2);
    assert_eq!(rx.frame(0), &frames[0][..]);
    assert_eq!(rx.frame(1), &frames[2][..]);
}

#[test]
fn admin_down_is_transient_and_deletion_is_an_error() {
    if !root_or_skip("admin_down_is_transient_and_deletion_is_an_error") {
        return;
    }
    enter_private_netns();
    let (g, mut tap, mut port) = wire("a");
    let mut rx = RxBatch::new();
    // Frames queued before the device went down are still delivered.
    inject(&mut tap, &[frame(1, 50)]);
    ip_ok(&["link", "set", "dev", &g.0, "down"]);
    assert_eq!(received(&mut port, &mut rx), vec![frame(1, 50)]);
    assert_eq!(port.recv_batch(&mut rx).unwrap(), 0);
    let out = port.send_batch(&batch_of(&[frame(1, 50)]), &keep_all(1));
    assert_eq!((out.sent, out.errors), (0, 1), "{out:?}");
    ip_ok(&["link", "set", "dev", &g.0, "up"]);
    inject(&mut tap, &[frame(2, 50)]);
    assert_eq!(received(&mut port, &mut rx), vec![frame(2, 50)]);

    ip_ok(&["link", "del", "dev", &g.0]);
    let e = port.recv_batch(&mut rx).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENODEV), "{e}");
    let out = port.send_batch(&batch_of(&[frame(3, 50)]), &keep_all(1));
    assert_eq!((out.sent, out.errors), (0, 1), "{out:?}");
}
