//! Tests of TAP ports (root only: they create devices in a private network
//! namespace). A system port on the same device plays the wire, so these
//! tests import `system`; `tap.rs` itself does not.

use super::super::sys::test_util::*;
use super::super::system::SystemPort;
use super::*;
use crate::batch::{Edit, RxBatch, TxEntry};

/// The I/O tests run in both modes; `Auto` must really get io_uring
/// where the kernel allows it (checked by `open_in`).
const IO_MODES: [TapIo; 2] = [TapIo::Auto, TapIo::Syscalls];

fn ifname(s: &str) -> proto::IfName {
    s.parse().unwrap()
}

/// Opens a TAP for the I/O tests and checks that `Auto` did not fall
/// back to syscalls on a kernel that allows io_uring (a fallback would
/// otherwise pass every test unnoticed).
fn open_in(name: &str, io: TapIo) -> TapPort {
    let tap = TapPort::open(&ifname(name), false, io).unwrap();
    assert_eq!(tap.uses_io_uring(), open_in_would_use_ring(io), "{io:?}");
    tap
}

/// Whether a port opened with `io` must get an io_uring on this kernel.
fn open_in_would_use_ring(io: TapIo) -> bool {
    io == TapIo::Auto
        && std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled").map_or(true, |v| v.trim() == "0")
}

/// A test frame: broadcast dst, a local src, ethertype 0x88b5 (local
/// experimental) and `payload_len` bytes starting with `seq`.
fn frame(seq: u8, payload_len: usize) -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, seq]);
    f.extend_from_slice(&[0x88, 0xb5]);
    f.extend((0..payload_len).map(|i| seq.wrapping_add(i as u8)));
    f
}

/// Frames of our test ethertype received by `port` (ignores anything
/// else the kernel may emit).
fn recv_system(port: &mut SystemPort, rx: &mut RxBatch) -> Vec<Vec<u8>> {
    let n = port.recv_batch(rx).unwrap();
    (0..n).map(|i| rx.frame(i).to_vec()).collect()
}

#[test]
fn create_up_nonblocking_cloexec_removed_on_drop() {
    if !root_or_skip("create_up_nonblocking_cloexec_removed_on_drop") {
        return;
    }
    enter_private_netns();
    for io in IO_MODES {
        let name = uniq("a");
        let _g = LinkGuard(name.clone());
        let tap = open_in(&name, io);
        assert!(tap.created());
        assert_eq!(tap.mtu(), 1500);
        let text = ip_ok(&["-d", "link", "show", "dev", &name]);
        assert!(text.contains("tap"), "{text}");
        assert!(text.contains(",UP"), "not admin-up: {text}");
        assert!(text.contains("persist off"), "{text}");
        let (fl, fd) = fd_flags(tap.raw_fd());
        assert!(fl & libc::O_NONBLOCK != 0, "not non-blocking");
        assert!(fl & libc::O_ACCMODE == libc::O_RDWR);
        assert!(fd & libc::FD_CLOEXEC != 0, "not close-on-exec");
        assert_eq!(
            sys::if_driver(&name).unwrap(),
            ("tun".to_owned(), "tap".to_owned())
        );
        drop(tap);
        assert!(link_gone(&name), "non-persistent tap survived its fd");
    }
}

#[test]
fn persist_keeps_device_and_reattaches() {
    if !root_or_skip("persist_keeps_device_and_reattaches") {
        return;
    }
    enter_private_netns();
    let name = uniq("p");
    let _g = LinkGuard(name.clone());
    let tap = TapPort::open(&ifname(&name), true, TapIo::Auto).unwrap();
    assert!(tap.created());
    drop(tap);
    assert!(link_exists(&name), "persistent tap vanished");
    assert!(ip_ok(&["-d", "link", "show", "dev", &name]).contains("persist on"));
    // Re-open: attached, not created; drop leaves it (still persistent).
    let tap = TapPort::open(&ifname(&name), false, TapIo::Auto).unwrap();
    assert!(!tap.created());
    drop(tap);
    assert!(link_exists(&name));
    ip_ok(&["link", "del", "dev", &name]);
    assert!(!link_exists(&name));
}

/// The ring holds its own reference to the device file; dropping a port
/// must release it before the drop returns, or a port re-opened at once
/// (del-port then add-port, a port re-attached) finds its own device
/// "held by another process".
#[test]
fn a_dropped_port_releases_its_device_at_once() {
    if !root_or_skip("a_dropped_port_releases_its_device_at_once") {
        return;
    }
    enter_private_netns();
    enter_private_fd_table();
    let name = uniq("r");
    let _g = LinkGuard(name.clone());
    for io in IO_MODES {
        for i in 0..50 {
            let tap = TapPort::open(&ifname(&name), true, io)
                .unwrap_or_else(|e| panic!("{io:?}: open number {i} right after a drop: {e}"));
            assert_eq!(tap.uses_io_uring(), open_in_would_use_ring(io), "{io:?}");
            drop(tap);
        }
    }
}

#[test]
fn attach_existing_free_tap() {
    if !root_or_skip("attach_existing_free_tap") {
        return;
    }
    enter_private_netns();
    let name = uniq("e");
    let _g = LinkGuard(name.clone());
    ip_ok(&["tuntap", "add", "dev", &name, "mode", "tap"]);
    ip_ok(&["link", "set", "dev", &name, "mtu", "1400"]);
    let tap = TapPort::open(&ifname(&name), false, TapIo::Auto).unwrap();
    assert!(!tap.created());
    assert_eq!(tap.mtu(), 1400);
    assert!(ip_ok(&["link", "show", "dev", &name]).contains(",UP"));
    drop(tap);
    assert!(
        link_exists(&name),
        "switchd must not remove a tap it did not create"
    );
}

#[test]
fn attach_sets_the_offloads_switchd_carries() {
    if !root_or_skip("attach_sets_the_offloads_switchd_carries") {
        return;
    }
    enter_private_netns();
    let name = uniq("o");
    let _g = LinkGuard(name.clone());
    // Someone left a persistent tap without vnet header or offloads.
    {
        let fd = sys::tun_open().unwrap();
        sys::tun_set_iff(fd.as_fd(), &name, libc::IFF_TAP | libc::IFF_NO_PI).unwrap();
        sys::tun_set_offload(fd.as_fd(), 0).unwrap();
        sys::tun_set_persist(fd.as_fd(), true).unwrap();
    }
    let features = || {
        let out = std::process::Command::new("ethtool")
            .args(["-k", &name])
            .output()
            .expect("run ethtool");
        assert!(out.status.success(), "ethtool -k {name}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let before = features();
    assert!(before.contains("tcp-segmentation-offload: off"), "{before}");
    assert!(before.contains("tx-checksumming: off"), "{before}");
    let tap = TapPort::open(&ifname(&name), false, TapIo::Auto).unwrap();
    assert!(!tap.created());
    let after = features();
    // The host side may now hand us (and take from us) TCP as GSO
    // super-frames with partial checksums, described by a vnet header.
    assert!(after.contains("tcp-segmentation-offload: on"), "{after}");
    assert!(after.contains("tx-checksumming: on"), "{after}");
    assert!(ip_ok(&["-d", "link", "show", "dev", &name]).contains("vnet_hdr on"));
}

#[test]
fn held_tap_is_refused() {
    if !root_or_skip("held_tap_is_refused") {
        return;
    }
    enter_private_netns();
    let name = uniq("b");
    let _g = LinkGuard(name.clone());
    let _holder = TapPort::open(&ifname(&name), false, TapIo::Auto).unwrap();
    match TapPort::open(&ifname(&name), false, TapIo::Auto) {
        Err(e @ OpenError::Held(_)) => assert_eq!(
            e.to_string(),
            format!(
                "{name:?} is held by another process (qemu?); \
                 add it as type=system to attach through AF_PACKET"
            )
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn non_tap_devices_are_refused() {
    if !root_or_skip("non_tap_devices_are_refused") {
        return;
    }
    enter_private_netns();
    let veth = uniq("v");
    let peer = uniq("w");
    let tun = uniq("u");
    let mq = uniq("q");
    let _g = [
        LinkGuard(veth.clone()),
        LinkGuard(tun.clone()),
        LinkGuard(mq.clone()),
    ];
    ip_ok(&["link", "add", &veth, "type", "veth", "peer", "name", &peer]);
    ip_ok(&["tuntap", "add", "dev", &tun, "mode", "tun"]);
    ip_ok(&["tuntap", "add", "dev", &mq, "mode", "tap", "multi_queue"]);
    match TapPort::open(&ifname(&veth), false, TapIo::Auto) {
        Err(e @ OpenError::NotATap { .. }) => {
            assert_eq!(e.to_string(), format!("{veth:?} exists and is not a TAP device"))
        }
        other => panic!("{other:?}"),
    }
    match TapPort::open(&ifname(&tun), false, TapIo::Auto) {
        Err(e @ OpenError::IsTun { .. }) => assert_eq!(
            e.to_string(),
            format!("{tun:?} is a TUN (layer 3) device, not a TAP device")
        ),
        other => panic!("{other:?}"),
    }
    match TapPort::open(&ifname(&mq), false, TapIo::Auto) {
        Err(e @ OpenError::MultiQueueTap { .. }) => assert_eq!(
            e.to_string(),
            format!(
                "{mq:?} is a multi-queue TAP device, which type=tap does not support; \
                 add it as type=system to attach through AF_PACKET"
            )
        ),
        other => panic!("{other:?}"),
    }
    match TapPort::open(&ifname("tap%d"), false, TapIo::Auto) {
        Err(e @ OpenError::NameIsTemplate { .. }) => assert_eq!(
            e.to_string(),
            "\"tap%d\" contains '%', which the kernel treats as a name template"
        ),
        other => panic!("{other:?}"),
    }
    assert!(link_exists(&veth) && link_exists(&tun) && link_exists(&mq));
}

#[test]
fn send_batch_applies_edits() {
    if !root_or_skip("send_batch_applies_edits") {
        return;
    }
    enter_private_netns();
    for io in IO_MODES {
        let name = uniq("s");
        let _g = LinkGuard(name.clone());
        let mut tap = open_in(&name, io);
        let mut sys_port = SystemPort::open(&ifname(&name)).unwrap();

        let plain = frame(1, 50);
        let mut tagged = frame(2, 50);
        tagged.splice(12..12, [0x81, 0x00, 0xa0, 0x0a]); // PCP 5, VID 10
        let batch = batch_of(&[plain.clone(), tagged.clone()]);
        let tag = [0x81, 0x00, 0x00, 0x14]; // VID 20
        let tx = [
            TxEntry::new(0, Edit::KEEP),
            TxEntry::new(1, Edit::KEEP),
            TxEntry::new(1, Edit::POP),
            TxEntry::new(0, Edit::push(tag)),
            TxEntry::new(1, Edit::retag(tag)),
        ];
        let out = tap.send_batch(&batch, &tx);
        let mut expect = vec![plain.clone(), tagged.clone()];
        expect.push([&tagged[..12], &tagged[16..]].concat());
        expect.push([&plain[..12], &tag[..], &plain[12..]].concat());
        expect.push([&tagged[..12], &tag[..], &tagged[16..]].concat());
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
        assert_eq!(recv_system(&mut sys_port, &mut rx), expect);
    }
}

#[test]
fn recv_batch_reads_what_the_device_sends() {
    if !root_or_skip("recv_batch_reads_what_the_device_sends") {
        return;
    }
    enter_private_netns();
    for io in IO_MODES {
        let name = uniq("r");
        let _g = LinkGuard(name.clone());
        let mut tap = open_in(&name, io);
        let mut sys_port = SystemPort::open(&ifname(&name)).unwrap();
        let mut rx = RxBatch::new();
        assert_eq!(
            tap.recv_batch(&mut rx).unwrap(),
            0,
            "empty fd must read as drained"
        );

        let frames: Vec<Vec<u8>> = (0..40).map(|i| frame(i, 60 + usize::from(i))).collect();
        let send = batch_of(&frames[..BATCH]);
        assert_eq!(sys_port.send_batch(&send, &keep_all(BATCH)).sent, BATCH as u64);
        let send = batch_of(&frames[BATCH..]);
        assert_eq!(sys_port.send_batch(&send, &keep_all(8)).sent, 8);

        // A full batch means "maybe more"; the rest follows; then drained.
        assert_eq!(tap.recv_batch(&mut rx).unwrap(), BATCH);
        for (i, f) in frames[..BATCH].iter().enumerate() {
            assert_eq!(rx.frame(i), &f[..]);
            assert_eq!(rx.frame_ref(i).start, FRAME_AT);
        }
        assert_eq!(tap.recv_batch(&mut rx).unwrap(), 8);
        for (i, f) in frames[BATCH..].iter().enumerate() {
            assert_eq!(rx.frame(i), &f[..]);
        }
        assert_eq!(tap.recv_batch(&mut rx).unwrap(), 0);
        assert_eq!(rx.count(), 0);

        // Deleting the device turns reads into an error.
        ip_ok(&["link", "del", "dev", &name]);
        let e = tap.recv_batch(&mut rx).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EBADFD), "{e}");
        let out = tap.send_batch(&batch_of(&[frame(9, 50)]), &keep_all(1));
        assert_eq!(
            out,
            SendOutcome {
                sent: 0,
                bytes: 0,
                dropped: 0,
                errors: 1,
                link_down: 0
            }
        );
    }
}

#[test]
fn bursts_after_a_trickle_keep_order_in_every_mode() {
    if !root_or_skip("bursts_after_a_trickle_keep_order_in_every_mode") {
        return;
    }
    enter_private_netns();
    for io in IO_MODES {
        let name = uniq("g");
        let _g = LinkGuard(name.clone());
        let mut tap = open_in(&name, io);
        let mut sys_port = SystemPort::open(&ifname(&name)).unwrap();
        let mut rx = RxBatch::new();
        let mut seq = 0u8;
        let mut send = |sys_port: &mut SystemPort, n: usize| {
            let frames: Vec<Vec<u8>> = (0..n)
                .map(|_| {
                    seq = seq.wrapping_add(1);
                    frame(seq, 46 + usize::from(seq))
                })
                .collect();
            for chunk in frames.chunks(BATCH) {
                let sent = sys_port.send_batch(&batch_of(chunk), &keep_all(chunk.len())).sent;
                assert_eq!(sent, chunk.len() as u64);
            }
            frames
        };
        // One frame, then two, then a burst bigger than a batch, then a
        // trickle again: the reads switch between plain syscalls and
        // growing ring submissions (2 frames make the next wake-up start
        // with 3 reads, then 6, 12, ...), and no frame is lost or
        // reordered on the way.
        for burst in [1, 2, 40, 3, 1, 31, 33, 1] {
            let mut want = send(&mut sys_port, burst).into_iter();
            let mut got = 0;
            // The kernel may hold part of a burst in the device's qdisc
            // for a moment (it runs a bounded quota per call).
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
            while got < burst {
                let n = tap.recv_batch(&mut rx).unwrap();
                if n == 0 {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "{io:?}: burst of {burst}: only {got} arrived"
                    );
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                for i in 0..n {
                    assert_eq!(rx.frame(i), &want.next().unwrap()[..], "{io:?}: burst of {burst}");
                }
                got += n;
            }
            assert_eq!(got, burst, "{io:?}");
        }
        assert_eq!(tap.recv_batch(&mut rx).unwrap(), 0);
    }
}

#[test]
fn writes_while_the_link_is_down_count_as_link_down() {
    if !root_or_skip("writes_while_the_link_is_down_count_as_link_down") {
        return;
    }
    enter_private_netns();
    for io in IO_MODES {
        let name = uniq("d");
        let _g = LinkGuard(name.clone());
        let mut tap = open_in(&name, io);
        ip_ok(&["link", "set", "dev", &name, "down"]);
        let out = tap.send_batch(&batch_of(&[frame(3, 50)]), &keep_all(1));
        assert_eq!((out.sent, out.link_down, out.errors), (0, 1, 0), "{out:?}");
        ip_ok(&["link", "set", "dev", &name, "up"]);
        let out = tap.send_batch(&batch_of(&[frame(3, 50)]), &keep_all(1));
        assert_eq!((out.sent, out.link_down, out.errors), (1, 0, 0), "{out:?}");
    }
}

#[test]
fn fd_keeps_working_after_netns_move() {
    if !root_or_skip("fd_keeps_working_after_netns_move") {
        return;
    }
    enter_private_netns();
    for io in IO_MODES {
        // Each mode starts from a namespace of its own.
        enter_private_netns();
        let name = uniq("m");
        let ns = format!("ns{}m", std::process::id());
        let _g = LinkGuard(name.clone());
        let _n = NetnsGuard(ns.clone());
        ip_ok(&["netns", "add", &ns]);
        // No IPv6 over there either: a device coming up with IPv6 sends
        // router solicitations and MLD reports, which the TAP would read
        // before the frame this test sends back (seen once in CI).
        for key in ["all", "default"] {
            ip_ok(&[
                "netns",
                "exec",
                &ns,
                "sysctl",
                "-q",
                "-w",
                &format!("net.ipv6.conf.{key}.disable_ipv6=1"),
            ]);
        }
        let mut tap = open_in(&name, io);
        ip_ok(&["link", "set", "dev", &name, "netns", &ns]);
        assert!(!link_exists(&name));
        // Moving a device brings it down; the user brings it up over there.
        ip_ok(&["-n", &ns, "link", "set", "dev", &name, "up"]);

        // Follow the device and look at it from its new namespace.
        enter_netns(&ns);
        let mut sys_port = SystemPort::open(&ifname(&name)).unwrap();
        let frames = [frame(1, 64), frame(2, 100)];
        let out = tap.send_batch(&batch_of(&frames), &keep_all(2));
        assert_eq!(out.sent, 2, "{out:?}");
        let mut rx = RxBatch::new();
        assert_eq!(recv_system(&mut sys_port, &mut rx), frames.to_vec());

        let back = [frame(3, 80)];
        assert_eq!(sys_port.send_batch(&batch_of(&back), &keep_all(1)).sent, 1);
        assert_eq!(tap.recv_batch(&mut rx).unwrap(), 1);
        assert_eq!(rx.frame(0), &back[0][..]);
        drop(sys_port);
        drop(tap);
        assert!(link_gone(&name), "tap outlived its fd in the other namespace");
    }
}
