//! The OpenFlow channel on fake ports, without root: a controller connects
//! to a `punix:` target in a temporary directory (a real Unix socket, the
//! engine's own listener), negotiates, installs a table-miss flow to the
//! controller, gets a frame received on a fake port as PACKET_IN, and sends
//! it out of another port with PACKET_OUT; a slave's FLOW_MOD is refused.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use mio::Events;

use super::*;
use crate::flow::{Action, Match};
use crate::openflow::{action, oxm};

/// Services the OpenFlow sockets until nothing is ready.
fn of_pump(sw: &mut Sw) {
    let mut events = Events::with_capacity(64);
    for _ in 0..20 {
        sw.engine
            .poll
            .poll(&mut events, Some(Duration::from_millis(20)))
            .unwrap();
        let tokens: Vec<usize> = events.iter().map(|e| e.token().0).collect();
        for t in &tokens {
            if *t >= super::super::ofstate::OF_TOKEN_BASE && *t < super::super::MEMBER_TOKEN_BASE {
                sw.engine.of_event(*t);
            }
        }
        sw.engine.of_service_pending();
        sw.engine.of_flush_all();
        if tokens.is_empty() {
            return;
        }
    }
}

struct Client(UnixStream);

impl Client {
    fn send(&mut self, msg_type: u8, xid: u32, body: &[u8]) {
        let mut m = vec![4, msg_type];
        m.extend(((8 + body.len()) as u16).to_be_bytes());
        m.extend(xid.to_be_bytes());
        m.extend(body);
        self.0.write_all(&m).unwrap();
    }

    /// The next message (type, xid, body), pumping the engine while waiting.
    fn recv(&mut self, sw: &mut Sw) -> (u8, u32, Vec<u8>) {
        for _ in 0..50 {
            of_pump(sw);
            let mut h = [0u8; 8];
            match self.0.read_exact(&mut h) {
                Ok(()) => {
                    let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
                    let mut body = vec![0; len - 8];
                    self.0.read_exact(&mut body).unwrap();
                    return (h[1], u32::from_be_bytes([h[4], h[5], h[6], h[7]]), body);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("read: {e}"),
            }
        }
        panic!("no message from the switch");
    }
}

/// A FLOW_MOD (add) body: table 0, `priority`, `m`, `actions`.
fn flow_mod(priority: u16, m: &Match, actions: &[Action]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(0u64.to_be_bytes()); // cookie
    b.extend(0u64.to_be_bytes()); // cookie mask
    b.extend([0, 0]); // table 0, OFPFC_ADD
    b.extend([0, 0, 0, 0]); // idle, hard timeouts
    b.extend(priority.to_be_bytes());
    b.extend(0xffff_ffffu32.to_be_bytes()); // NO_BUFFER
    b.extend(0xffff_ffffu32.to_be_bytes()); // out_port ANY
    b.extend(0xffff_ffffu32.to_be_bytes()); // out_group ANY
    b.extend([0, 0, 0, 0]); // flags, pad
    oxm::encode_match(m, &mut b);
    action::encode_instructions13(actions, &mut b);
    b
}

fn connected(sw: &mut Sw) -> (Client, tempdir::Dir) {
    let dir = tempdir::Dir::new();
    let path = dir.0.join("br0.of");
    sw.ok(Request::SetController {
        bridge: "br0".parse().unwrap(),
        targets: vec![format!("punix:{}", path.display()).parse().unwrap()],
    });
    let s = UnixStream::connect(&path).unwrap();
    s.set_nonblocking(true).unwrap();
    let mut c = Client(s);
    c.send(0, 1, &[0, 1, 0, 8, 0, 0, 0, 0x12]); // HELLO, bitmap 1.0 + 1.3
    let (t, _, _) = c.recv(sw);
    assert_eq!(t, 0, "HELLO first");
    (c, dir)
}

mod tempdir {
    /// A directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);

    impl Dir {
        pub fn new() -> Dir {
            let p = std::env::temp_dir().join(format!(
                "switchd-oftest-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn table_miss_to_the_controller_and_packet_out_back() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2", "p3"]);
    let (mut c, _dir) = connected(&mut sw);

    // simple_switch_13's table-miss flow, the default NORMAL flow gone.
    sw.ok(Request::DelFlows {
        bridge: "br0".parse().unwrap(),
        filter: None,
        strict: false,
    });
    c.send(
        14,
        2,
        &flow_mod(0, &Match::ANY, &[Action::Controller { max_len: 0xffff }]),
    );
    c.send(20, 3, &[]); // BARRIER
    let (t, xid, _) = c.recv(&mut sw);
    assert_eq!(
        (t, xid),
        (21, 3),
        "the FLOW_MOD was accepted (no error before the barrier reply)"
    );

    // A frame on p1: PACKET_IN, reason no-match (the table-miss flow), table
    // 0, the whole frame, in_port 1 in the match; nothing forwarded.
    let f = frame(mac(2), mac(1), 60);
    sw.send("p1", std::slice::from_ref(&f));
    assert_eq!(sw.got(&["p1", "p2", "p3"]), [0, 0, 0]);
    let (t, _, body) = c.recv(&mut sw);
    assert_eq!(t, 10, "PACKET_IN");
    assert_eq!(&body[0..4], &0xffff_ffffu32.to_be_bytes(), "no buffer");
    assert_eq!(u16::from_be_bytes([body[4], body[5]]), 60, "total_len");
    assert_eq!((body[6], body[7]), (0, 0), "reason no-match, table 0");
    // match: type 1, length 12, OXM in_port (0x80000004) = 1.
    assert_eq!(&body[16..20], &[0, 1, 0, 12]);
    assert_eq!(&body[20..28], &[0x80, 0, 0, 4, 0, 0, 0, 1]);
    assert_eq!(&body[body.len() - 60..], &f[..], "the frame");

    // PACKET_OUT from the controller to port 2.
    let mut po = Vec::new();
    po.extend(0xffff_ffffu32.to_be_bytes()); // NO_BUFFER
    po.extend(0xffff_fffdu32.to_be_bytes()); // in_port CONTROLLER
    let mut acts = Vec::new();
    action::encode_actions13(&[Action::Output(2)], &mut acts);
    po.extend((acts.len() as u16).to_be_bytes());
    po.extend([0; 6]);
    po.extend(&acts);
    po.extend(&f);
    c.send(13, 4, &po);
    c.send(20, 5, &[]);
    let (t, xid, _) = c.recv(&mut sw);
    assert_eq!((t, xid), (21, 5));
    assert_eq!(sw.net.take_sent("p2"), vec![f.clone()]);
    assert!(sw.net.take_sent("p3").is_empty());

    // get-controller: connected, 1.3, equal.
    let Reply::Controllers(info) = sw.ok(Request::GetController { bridge: None }) else {
        panic!()
    };
    let ctl = &info.bridges[0].controllers[0];
    assert_eq!(ctl.state, proto::ControllerState::Connected);
    assert_eq!(ctl.version, Some(proto::OfVersion::OpenFlow13));
}

#[test]
fn a_slave_cannot_change_the_tables() {
    let mut sw = Sw::new();
    sw.add_br("br0");
    sw.add_ports("br0", &["p1", "p2"]);
    let (mut c, _dir) = connected(&mut sw);
    // ROLE_REQUEST slave, generation 1.
    let mut r = Vec::new();
    r.extend(3u32.to_be_bytes());
    r.extend([0; 4]);
    r.extend(1u64.to_be_bytes());
    c.send(24, 7, &r);
    let (t, xid, body) = c.recv(&mut sw);
    assert_eq!((t, xid, &body[0..4]), (25, 7, &3u32.to_be_bytes()[..]));
    c.send(14, 8, &flow_mod(5, &Match::ANY, &[]));
    let (t, xid, body) = c.recv(&mut sw);
    assert_eq!((t, xid), (1, 8), "OFPT_ERROR");
    assert_eq!(&body[0..4], &[0, 1, 0, 10], "bad-request / is-slave");
    let Reply::Flows(f) = sw.ok(Request::DumpFlows {
        bridge: "br0".parse().unwrap(),
        filter: None,
        table: None,
    }) else {
        panic!()
    };
    assert_eq!(f.flows.len(), 1, "only the default flow: {f:?}");
}
