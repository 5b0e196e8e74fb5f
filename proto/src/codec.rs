//! Framing: one JSON document per line (newline-delimited JSON), so the
//! protocol can be driven by hand with `socat - UNIX:/run/switchd/switchd.sock`.
//!
//! A request line is `{"version":1,"request":{"op":"add-br","bridge":"br0"}}`;
//! a reply line is `{"version":1,"ok":{...}}` or
//! `{"version":1,"error":{"kind":"no-such-bridge","message":"..."}}`.
//! [`read_line`] enforces the size limit while reading, before anything is
//! allocated beyond the limit, so an endless line cannot exhaust memory.

use std::io::{self, BufRead, Write};

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};
use crate::reply::Reply;
use crate::request::Request;

/// Protocol version; a peer with another version is refused.
pub const VERSION: u32 = 1;
/// Largest request line, in bytes (newline excluded): a flow file of
/// [`FLOW_TEXT_MAX`](crate::types::FLOW_TEXT_MAX) bytes, which JSON
/// escaping (`\n`, `\"`) at most doubles, plus room for the rest.
pub const MAX_REQUEST_LEN: usize = 2 * crate::types::FLOW_TEXT_MAX + 64 * 1024;
/// Largest reply line: a full 1,000,000-entry MAC table fits.
pub const MAX_REPLY_LEN: usize = 256 * 1024 * 1024;

/// Why a line could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The line exceeds the limit; the stream is no longer in sync.
    #[error("message exceeds {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The peer closed the connection in the middle of a line.
    #[error("connection closed in the middle of a message")]
    Truncated,
    /// Reading failed.
    #[error("read failed")]
    Io(#[from] io::Error),
}

/// Reads one line of at most `limit` bytes (without the newline) into `buf`.
/// Returns `Ok(false)` on a clean end of stream before any byte.
pub fn read_line<R: BufRead>(r: &mut R, buf: &mut Vec<u8>, limit: usize) -> Result<bool, FrameError> {
    buf.clear();
    loop {
        let chunk = match r.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if chunk.is_empty() {
            return if buf.is_empty() {
                Ok(false)
            } else {
                Err(FrameError::Truncated)
            };
        }
        let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i, true),
            None => (chunk.len(), false),
        };
        if buf.len() + take > limit {
            return Err(FrameError::TooLarge { limit });
        }
        buf.extend_from_slice(&chunk[..take]);
        r.consume(if done { take + 1 } else { take });
        if done {
            return Ok(true);
        }
    }
}

#[derive(Serialize)]
struct RequestOut<'a> {
    version: u32,
    request: &'a Request,
}

#[derive(Deserialize)]
struct Envelope {
    version: u32,
    #[serde(default)]
    request: Option<serde_json::Value>,
    #[serde(default)]
    ok: Option<serde_json::Value>,
    #[serde(default)]
    error: Option<Error>,
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum ReplyBody<'a> {
    Ok(&'a Reply),
    Error(&'a Error),
}

#[derive(Serialize)]
struct ReplyOut<'a> {
    version: u32,
    #[serde(flatten)]
    body: ReplyBody<'a>,
}

/// A request line as [`write_request`] sends it, newline included; a
/// client can compare its length with [`MAX_REQUEST_LEN`] before sending.
pub fn encode_request(req: &Request) -> io::Result<Vec<u8>> {
    let mut line = serde_json::to_vec(&RequestOut {
        version: VERSION,
        request: req,
    })?;
    line.push(b'\n');
    Ok(line)
}

/// Writes a request line.
pub fn write_request<W: Write>(w: &mut W, req: &Request) -> io::Result<()> {
    w.write_all(&encode_request(req)?)?;
    w.flush()
}

/// Writes a reply line.
pub fn write_reply<W: Write>(w: &mut W, reply: &Result<Reply, Error>) -> io::Result<()> {
    let body = match reply {
        Ok(r) => ReplyBody::Ok(r),
        Err(e) => ReplyBody::Error(e),
    };
    let mut line = serde_json::to_vec(&ReplyOut {
        version: VERSION,
        body,
    })?;
    line.push(b'\n');
    w.write_all(&line)?;
    w.flush()
}

fn envelope(line: &[u8]) -> Result<Envelope, Error> {
    let env: Envelope = serde_json::from_slice(line)
        .map_err(|e| Error::new(ErrorKind::BadRequest, format!("malformed message: {e}")))?;
    if env.version != VERSION {
        return Err(Error::new(
            ErrorKind::VersionMismatch,
            format!(
                "protocol version {} is not supported (this side speaks {VERSION})",
                env.version
            ),
        ));
    }
    Ok(env)
}

/// Decodes a request line; every failure is an [`Error`] to send back.
pub fn decode_request(line: &[u8]) -> Result<Request, Error> {
    let env = envelope(line)?;
    let value = env
        .request
        .ok_or_else(|| Error::new(ErrorKind::BadRequest, "malformed message: no \"request\" field"))?;
    let req: Request = serde_json::from_value(value)
        .map_err(|e| Error::new(ErrorKind::BadRequest, format!("bad request: {e}")))?;
    req.validate()?;
    Ok(req)
}

/// Decodes a reply line. The outer `Err` means the line itself is broken;
/// the inner result is what the daemon answered.
pub fn decode_reply(line: &[u8]) -> Result<Result<Reply, Error>, Error> {
    let env = envelope(line)?;
    match (env.ok, env.error) {
        (Some(v), None) => serde_json::from_value(v)
            .map(Ok)
            .map_err(|e| Error::new(ErrorKind::BadRequest, format!("malformed reply: {e}"))),
        (None, Some(e)) => Ok(Err(e)),
        _ => Err(Error::new(
            ErrorKind::BadRequest,
            "malformed reply: needs exactly one of \"ok\" and \"error\"",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::*;
    use crate::types::*;
    use std::io::Cursor;

    fn name(s: &str) -> IfName {
        s.parse().unwrap()
    }

    fn round_trip(req: Request) {
        let mut out = Vec::new();
        write_request(&mut out, &req).unwrap();
        assert_eq!(out.last(), Some(&b'\n'));
        let mut r = Cursor::new(out);
        let mut line = Vec::new();
        assert!(read_line(&mut r, &mut line, MAX_REQUEST_LEN).unwrap());
        assert_eq!(decode_request(&line).unwrap(), req);
        assert!(!read_line(&mut r, &mut line, MAX_REQUEST_LEN).unwrap());
    }

    #[test]
    fn requests_round_trip() {
        round_trip(Request::AddBr {
            bridge: name("br0"),
            may_exist: true,
        });
        round_trip(Request::DelBr {
            bridge: name("br0"),
            if_exists: false,
        });
        round_trip(Request::ListBr);
        round_trip(Request::AddPort {
            bridge: name("br0"),
            port: name("vnet0"),
            settings: vec![
                "type=tap".parse().unwrap(),
                "trunks=1-3,7".parse().unwrap(),
                "remote_ip=::1".parse().unwrap(),
            ],
            may_exist: false,
            missing_ok: false,
        });
        round_trip(Request::DelPort {
            bridge: None,
            port: name("p"),
            if_exists: true,
        });
        round_trip(Request::ListPorts { bridge: name("br0") });
        round_trip(Request::SetPort {
            port: name("p"),
            settings: vec!["tag=4095".parse().unwrap()],
        });
        round_trip(Request::ClearPort {
            port: name("p"),
            keys: vec![ClearKey::Tag, ClearKey::VlanMode],
        });
        round_trip(Request::SetBridge {
            bridge: name("b"),
            settings: vec![BridgeSetting::MacAging(10)],
        });
        round_trip(Request::Show);
        round_trip(Request::FdbShow { bridge: name("b") });
        round_trip(Request::FdbFlush { bridge: None });
        round_trip(Request::PortStats {
            bridge: Some(name("b")),
        });
        round_trip(Request::RstpShow { bridge: None });
        round_trip(Request::RstpShow {
            bridge: Some(name("br0")),
        });
        round_trip(Request::SetBridge {
            bridge: name("b"),
            settings: vec![
                BridgeSetting::Rstp(true),
                BridgeSetting::RstpPriority(4096),
                BridgeSetting::RstpMaxAge(6),
                BridgeSetting::RstpForwardDelay(4),
                BridgeSetting::RstpTransmitHoldCount(1),
                BridgeSetting::RstpForceProtocolVersion(0),
            ],
        });
        round_trip(Request::AddPort {
            bridge: name("br0"),
            port: name("p1"),
            settings: vec![
                "rstp_enable=false".parse().unwrap(),
                "rstp_port_priority=16".parse().unwrap(),
                "rstp_path_cost=1".parse().unwrap(),
                "rstp_admin_edge=true".parse().unwrap(),
                "rstp_auto_edge=false".parse().unwrap(),
            ],
            may_exist: false,
            missing_ok: false,
        });
        round_trip(Request::AddBond {
            bridge: name("br0"),
            bond: name("bond0"),
            members: vec![name("eth1"), name("eth2")],
            settings: vec![
                "bond_mode=balance-tcp".parse().unwrap(),
                "lacp=active".parse().unwrap(),
                "lacp_time=fast".parse().unwrap(),
                "lacp_fallback_ab=true".parse().unwrap(),
                "bond_updelay=100".parse().unwrap(),
                "bond_downdelay=200".parse().unwrap(),
                "bond_rebalance_interval=0".parse().unwrap(),
                "tag=10".parse().unwrap(),
            ],
            may_exist: true,
        });
        round_trip(Request::BondShow { bond: None });
        round_trip(Request::BondShow {
            bond: Some(name("bond0")),
        });
        round_trip(Request::LacpShow { bond: None });
        round_trip(Request::LacpShow {
            bond: Some(name("bond0")),
        });
        round_trip(Request::SetPort {
            port: name("bond0"),
            settings: vec!["bond_mode=balance-slb".parse().unwrap()],
        });
        round_trip(Request::SetBridge {
            bridge: name("b"),
            settings: vec![
                "fail_mode=secure".parse().unwrap(),
                "protocols=OpenFlow10".parse().unwrap(),
                "datapath_id=0000020000000001".parse().unwrap(),
            ],
        });
        round_trip(Request::SetController {
            bridge: name("br0"),
            targets: vec![
                "tcp:[::1]".parse().unwrap(),
                "unix:/run/c.sock".parse().unwrap(),
                "ptcp:".parse().unwrap(),
                "punix:/run/switchd/br0.ctl".parse().unwrap(),
            ],
        });
        round_trip(Request::DelController { bridge: name("br0") });
        round_trip(Request::GetController { bridge: None });
        round_trip(Request::GetController {
            bridge: Some(name("br0")),
        });
        round_trip(Request::Capture {
            port: name("vm1"),
            direction: crate::CaptureDirection::Out,
            snaplen: 96,
            count: Some(4),
            filter: Some(vec![crate::BpfInsn::new(6, 0, 0, 96)]),
        });
    }

    #[test]
    fn capture_wire_form_and_defaults() {
        let req = decode_request(br#"{"version":1,"request":{"op":"capture","port":"vm1"}}"#).unwrap();
        assert_eq!(
            req,
            Request::Capture {
                port: name("vm1"),
                direction: crate::CaptureDirection::Both,
                snaplen: 262_144,
                count: None,
                filter: None,
            }
        );
        assert!(!req.is_change());
        assert_eq!(
            String::from_utf8(encode_request(&req).unwrap()).unwrap(),
            "{\"version\":1,\"request\":{\"op\":\"capture\",\"port\":\"vm1\",\"direction\":\"both\",\
             \"snaplen\":262144}}\n"
        );
        let with_filter = decode_request(
            br#"{"version":1,"request":{"op":"capture","port":"vm1","direction":"in","count":2,
                "filter":[{"code":6,"jt":0,"jf":0,"k":0}]}}"#,
        )
        .unwrap();
        assert!(
            matches!(with_filter, Request::Capture { count: Some(2), filter: Some(f), .. } if f.len() == 1)
        );
        let e = decode_request(br#"{"version":1,"request":{"op":"capture","port":"vm1","snaplen":0}}"#)
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
        assert_eq!(e.message, "snaplen 0 is out of range (1-262144)");
        let e = decode_request(br#"{"version":1,"request":{"op":"capture","port":"vm1","direction":"up"}}"#)
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadRequest);
    }

    #[test]
    fn controller_wire_form() {
        let line = |req: &Request| String::from_utf8(encode_request(req).unwrap()).unwrap();
        let set = Request::SetController {
            bridge: name("br0"),
            targets: vec!["tcp:127.0.0.1".parse().unwrap(), "ptcp:6633".parse().unwrap()],
        };
        assert_eq!(
            line(&set),
            "{\"version\":1,\"request\":{\"op\":\"set-controller\",\"bridge\":\"br0\",\
             \"targets\":[\"tcp:127.0.0.1:6653\",\"ptcp:6633:127.0.0.1\"]}}\n"
        );
        assert_eq!(
            line(&Request::DelController { bridge: name("br0") }),
            "{\"version\":1,\"request\":{\"op\":\"del-controller\",\"bridge\":\"br0\"}}\n"
        );
        assert_eq!(
            line(&Request::GetController { bridge: None }),
            "{\"version\":1,\"request\":{\"op\":\"get-controller\"}}\n"
        );
        assert_eq!(
            line(&Request::SetBridge {
                bridge: name("br0"),
                settings: vec![
                    "fail_mode=secure".parse().unwrap(),
                    "protocols=OpenFlow10,OpenFlow13".parse().unwrap(),
                    "datapath_id=00000000000000ff".parse().unwrap(),
                ],
            }),
            "{\"version\":1,\"request\":{\"op\":\"set-bridge\",\"bridge\":\"br0\",\"settings\":\
             [{\"fail_mode\":\"secure\"},{\"protocols\":[\"OpenFlow13\",\"OpenFlow10\"]},\
             {\"datapath_id\":\"00000000000000ff\"}]}}\n"
        );
        // a target the user wrote short is decoded with its defaults
        let req = decode_request(
            br#"{"version":1,"request":{"op":"set-controller","bridge":"br0","targets":["ptcp:"]}}"#,
        )
        .unwrap();
        assert_eq!(
            req,
            Request::SetController {
                bridge: name("br0"),
                targets: vec!["ptcp:6653:127.0.0.1".parse().unwrap()],
            }
        );
        assert!(req.is_change());
        assert!(Request::DelController { bridge: name("br0") }.is_change());
        assert!(!Request::GetController { bridge: None }.is_change());
    }

    #[test]
    fn rejects_bad_controller_requests() {
        let refused = |s: &str| decode_request(s.as_bytes()).unwrap_err();
        let set = |targets: &str| {
            format!(
                r#"{{"version":1,"request":{{"op":"set-controller","bridge":"br0","targets":[{targets}]}}}}"#
            )
        };
        let e = refused(&set(""));
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
        assert_eq!(
            e.message,
            "set-controller needs at least one target (del-controller removes them all)"
        );
        let e = refused(&set(r#""tcp:10.0.0.1","tcp:10.0.0.1:6653""#));
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
        assert_eq!(
            e.message,
            "controller target \"tcp:10.0.0.1:6653\" is given twice"
        );
        let nine: Vec<String> = (1..=9).map(|p| format!("\"tcp:10.0.0.1:{p}\"")).collect();
        let e = refused(&set(&nine.join(",")));
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
        assert_eq!(e.message, "a bridge has at most 8 controller targets, got 9");
        // a bad target does not decode, and says why
        let e = refused(&set(r#""tcp:ctl.example.com""#));
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert!(
            e.message
                .contains("invalid controller target \"tcp:ctl.example.com\": \"ctl.example.com\" is not"),
            "{}",
            e.message
        );
        let e = refused(r#"{"version":1,"request":{"op":"set-controller","bridge":"br0"}}"#);
        assert_eq!(e.kind, ErrorKind::BadRequest);
        let e = refused(
            r#"{"version":1,"request":{"op":"set-bridge","bridge":"b","settings":[{"datapath_id":"0"}]}}"#,
        );
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert!(e.message.contains("has 1 hex digits"), "{}", e.message);
        let e = refused(
            r#"{"version":1,"request":{"op":"set-bridge","bridge":"b","settings":[{"protocols":[]}]}}"#,
        );
        assert!(e.message.contains("at least one version"), "{}", e.message);
    }

    #[test]
    fn bond_wire_form() {
        let mut out = Vec::new();
        write_request(&mut out, &Request::BondShow { bond: None }).unwrap();
        assert_eq!(out, b"{\"version\":1,\"request\":{\"op\":\"bond-show\"}}\n");
        let mut out = Vec::new();
        write_request(
            &mut out,
            &Request::LacpShow {
                bond: Some(name("bond0")),
            },
        )
        .unwrap();
        assert_eq!(
            out,
            b"{\"version\":1,\"request\":{\"op\":\"lacp-show\",\"bond\":\"bond0\"}}\n"
        );
        let add = Request::AddBond {
            bridge: name("br0"),
            bond: name("bond0"),
            members: vec![name("eth1"), name("eth2")],
            settings: vec!["lacp=active".parse().unwrap()],
            may_exist: false,
        };
        let mut out = Vec::new();
        write_request(&mut out, &add).unwrap();
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "{\"version\":1,\"request\":{\"op\":\"add-bond\",\"bridge\":\"br0\",\"bond\":\"bond0\",\
             \"members\":[\"eth1\",\"eth2\"],\"settings\":[{\"lacp\":\"active\"}],\"may_exist\":false}}\n"
        );
        // settings and may_exist may be left out
        let req = decode_request(
            br#"{"version":1,"request":{"op":"add-bond","bridge":"br0","bond":"bond0","members":["eth1","eth2"]}}"#,
        )
        .unwrap();
        assert_eq!(
            req,
            Request::AddBond {
                bridge: name("br0"),
                bond: name("bond0"),
                members: vec![name("eth1"), name("eth2")],
                settings: vec![],
                may_exist: false,
            }
        );
        assert!(req.is_change());
        assert!(!Request::BondShow { bond: None }.is_change());
        assert!(!Request::LacpShow { bond: None }.is_change());
    }

    #[test]
    fn rejects_bad_bonds() {
        let refused = |s: &str| decode_request(s.as_bytes()).unwrap_err();
        let add = |members: &str, settings: &str| {
            format!(
                r#"{{"version":1,"request":{{"op":"add-bond","bridge":"br0","bond":"bond0","members":{members},"settings":{settings}}}}}"#
            )
        };
        for (members, settings, message) in [
            (r#"["eth1"]"#, "[]", "a bond needs at least 2 members, got 1"),
            (r#"["eth1","eth1"]"#, "[]", "member \"eth1\" is listed twice"),
            (
                r#"["eth1","bond0"]"#,
                "[]",
                "member \"bond0\" has the name of the bond itself",
            ),
            (
                r#"["eth1","eth2"]"#,
                r#"[{"bond_mode":"balance-tcp"}]"#,
                "bond_mode=balance-tcp needs lacp=active or passive",
            ),
            (
                r#"["eth1","eth2"]"#,
                r#"[{"bond_rebalance_interval":500}]"#,
                "bond_rebalance_interval: 500 is neither 0 (off) nor in 1000-10000",
            ),
            (
                r#"["eth1","eth2"]"#,
                r#"[{"type":"system"}]"#,
                "type cannot be given to add-bond (a bond's type is bond)",
            ),
        ] {
            let e = refused(&add(members, settings));
            assert_eq!(e.kind, ErrorKind::InvalidArgument, "{members} {settings}");
            assert_eq!(e.message, message);
        }
        for (members, settings) in [
            (r#"["eth1","a/b"]"#, "[]"),
            (r#"["eth1","eth2"]"#, r#"[{"bond_mode":"lacp"}]"#),
            (r#"["eth1","eth2"]"#, r#"[{"lacp":true}]"#),
            ("\"eth1\"", "[]"),
        ] {
            assert_eq!(
                refused(&add(members, settings)).kind,
                ErrorKind::BadRequest,
                "{members} {settings}"
            );
        }
        assert_eq!(
            refused(r#"{"version":1,"request":{"op":"add-bond","bridge":"br0","bond":"bond0"}}"#).kind,
            ErrorKind::BadRequest
        );
        assert_eq!(
            refused(
                r#"{"version":1,"request":{"op":"set-port","port":"p","settings":[{"bond_updelay":60001}]}}"#
            )
            .kind,
            ErrorKind::InvalidArgument
        );
    }

    /// Every flow request, with and without its optional parts.
    fn flow_requests() -> Vec<Request> {
        let flow = "priority=100,in_port=vm1,tcp,tp_dst=22,actions=drop";
        // what add-flows sends: the file as it is, comments, a dump line,
        // quotes and non-ASCII included
        let text = "# ssh\npriority=100,in_port=vm1,tcp,tp_dst=22,actions=drop\n\n \
                    cookie=0x0, duration=3.412s, table=0, n_packets=10, n_bytes=980, idle_age=1, \
                    priority=0 actions=NORMAL\nnote:\"é\"\\\t\n";
        vec![
            Request::AddFlow {
                bridge: name("br0"),
                flow: flow.into(),
            },
            Request::AddFlows {
                bridge: name("br0"),
                text: text.into(),
            },
            Request::AddFlows {
                bridge: name("br0"),
                text: String::new(),
            },
            Request::ModFlows {
                bridge: name("br0"),
                flow: "in_port=vm1,actions=normal".into(),
                strict: false,
            },
            Request::ModFlows {
                bridge: name("br0"),
                flow: "priority=100,in_port=vm1,actions=normal".into(),
                strict: true,
            },
            Request::DelFlows {
                bridge: name("br0"),
                filter: None,
                strict: false,
            },
            Request::DelFlows {
                bridge: name("br0"),
                filter: Some("cookie=0x10/0xf0,table=255".into()),
                strict: true,
            },
            Request::ReplaceFlows {
                bridge: name("br0"),
                text: text.into(),
            },
            Request::DumpFlows {
                bridge: name("br0"),
                filter: None,
                table: None,
            },
            Request::DumpFlows {
                bridge: name("br0"),
                filter: Some("tcp".into()),
                table: Some(253),
            },
            Request::DumpFlows {
                bridge: name("br0"),
                filter: None,
                table: Some(255),
            },
        ]
    }

    #[test]
    fn flow_requests_round_trip_and_change_the_db() {
        for req in flow_requests() {
            let dump = matches!(req, Request::DumpFlows { .. });
            assert_eq!(req.is_change(), !dump, "{req:?}");
            round_trip(req);
        }
    }

    #[test]
    fn flow_wire_form() {
        let wire = |req: &Request| {
            let mut out = Vec::new();
            write_request(&mut out, req).unwrap();
            String::from_utf8(out).unwrap()
        };
        let reqs = flow_requests();
        assert_eq!(
            wire(&reqs[0]),
            "{\"version\":1,\"request\":{\"op\":\"add-flow\",\"bridge\":\"br0\",\
             \"flow\":\"priority=100,in_port=vm1,tcp,tp_dst=22,actions=drop\"}}\n"
        );
        assert_eq!(
            wire(&reqs[2]),
            "{\"version\":1,\"request\":{\"op\":\"add-flows\",\"bridge\":\"br0\",\"text\":\"\"}}\n"
        );
        assert_eq!(
            wire(&reqs[4]),
            "{\"version\":1,\"request\":{\"op\":\"mod-flows\",\"bridge\":\"br0\",\
             \"flow\":\"priority=100,in_port=vm1,actions=normal\",\"strict\":true}}\n"
        );
        // absent options are left out
        assert_eq!(
            wire(&reqs[5]),
            "{\"version\":1,\"request\":{\"op\":\"del-flows\",\"bridge\":\"br0\",\"strict\":false}}\n"
        );
        assert_eq!(
            wire(&reqs[6]),
            "{\"version\":1,\"request\":{\"op\":\"del-flows\",\"bridge\":\"br0\",\
             \"filter\":\"cookie=0x10/0xf0,table=255\",\"strict\":true}}\n"
        );
        assert!(wire(&reqs[7]).starts_with(
            "{\"version\":1,\"request\":{\"op\":\"replace-flows\",\"bridge\":\"br0\",\"text\":\"# ssh\\n"
        ));
        assert_eq!(
            wire(&reqs[8]),
            "{\"version\":1,\"request\":{\"op\":\"dump-flows\",\"bridge\":\"br0\"}}\n"
        );
        assert_eq!(
            wire(&reqs[9]),
            "{\"version\":1,\"request\":{\"op\":\"dump-flows\",\"bridge\":\"br0\",\"filter\":\"tcp\",\"table\":253}}\n"
        );
        // and strict may be left out by a hand-written client
        let req = decode_request(
            br#"{"version":1,"request":{"op":"mod-flows","bridge":"br0","flow":"actions=drop"}}"#,
        )
        .unwrap();
        assert_eq!(
            req,
            Request::ModFlows {
                bridge: name("br0"),
                flow: "actions=drop".into(),
                strict: false
            }
        );
        let req = decode_request(br#"{"version":1,"request":{"op":"del-flows","bridge":"br0"}}"#).unwrap();
        assert_eq!(
            req,
            Request::DelFlows {
                bridge: name("br0"),
                filter: None,
                strict: false
            }
        );
    }

    #[test]
    fn rejects_bad_flow_requests() {
        let refused = |s: &str| decode_request(s.as_bytes()).unwrap_err();
        // the flow text itself is the daemon's to judge; its shape is not
        for bad in [
            r#"{"version":1,"request":{"op":"add-flow","bridge":"br0"}}"#,
            r#"{"version":1,"request":{"op":"add-flow","bridge":"br0","flow":7}}"#,
            r#"{"version":1,"request":{"op":"add-flows","bridge":"br0"}}"#,
            r#"{"version":1,"request":{"op":"add-flows","bridge":"b/0","text":""}}"#,
            r#"{"version":1,"request":{"op":"del-flows","bridge":"br0","strict":"yes"}}"#,
            r#"{"version":1,"request":{"op":"dump-flows","bridge":"br0","table":256}}"#,
            r#"{"version":1,"request":{"op":"dump-flows","bridge":"br0","table":-1}}"#,
            r#"{"version":1,"request":{"op":"dump-flow","bridge":"br0"}}"#,
        ] {
            assert_eq!(refused(bad).kind, ErrorKind::BadRequest, "{bad}");
        }
        let e = refused(r#"{"version":1,"request":{"op":"dump-flows","bridge":"br0","table":254}}"#);
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
        assert_eq!(
            e.message,
            "table 254 does not exist (tables are 0-253; 255 means all tables)"
        );
        for t in [0u8, 1, 253, 255] {
            assert!(crate::request::check_dump_table(t).is_ok(), "{t}");
        }
    }

    #[test]
    fn flow_text_limit() {
        // validate() alone, below the wire limit
        let max = FLOW_TEXT_MAX;
        let at = "x".repeat(max);
        let over = "x".repeat(max + 1);
        let bridge = || name("br0");
        let too_long = |what: &str| {
            format!(
                "{what} is {} bytes long, the limit is 4194304 bytes (4 MiB)",
                max + 1
            )
        };
        for (req, what) in [
            (
                Request::AddFlows {
                    bridge: bridge(),
                    text: over.clone(),
                },
                "flow text",
            ),
            (
                Request::ReplaceFlows {
                    bridge: bridge(),
                    text: over.clone(),
                },
                "flow text",
            ),
            (
                Request::AddFlow {
                    bridge: bridge(),
                    flow: over.clone(),
                },
                "flow",
            ),
            (
                Request::ModFlows {
                    bridge: bridge(),
                    flow: over.clone(),
                    strict: true,
                },
                "flow",
            ),
            (
                Request::DelFlows {
                    bridge: bridge(),
                    filter: Some(over.clone()),
                    strict: false,
                },
                "match",
            ),
            (
                Request::DumpFlows {
                    bridge: bridge(),
                    filter: Some(over.clone()),
                    table: None,
                },
                "match",
            ),
        ] {
            assert_eq!(req.validate().unwrap_err().0, too_long(what), "{what}");
        }
        assert!(Request::AddFlows {
            bridge: bridge(),
            text: at.clone()
        }
        .validate()
        .is_ok());
        assert!(Request::ReplaceFlows {
            bridge: bridge(),
            text: at
        }
        .validate()
        .is_ok());
        // the limit counts bytes, not characters
        let wide = "é".repeat(max / 2 + 1);
        assert!(Request::AddFlows {
            bridge: bridge(),
            text: wide
        }
        .validate()
        .is_err());
        // the message the daemon sends back
        let e: Error = Request::AddFlow {
            bridge: bridge(),
            flow: over,
        }
        .validate()
        .unwrap_err()
        .into();
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
    }

    #[test]
    fn rstp_show_wire_form() {
        let mut out = Vec::new();
        write_request(&mut out, &Request::RstpShow { bridge: None }).unwrap();
        assert_eq!(out, b"{\"version\":1,\"request\":{\"op\":\"rstp-show\"}}\n");
        let req = decode_request(br#"{"version":1,"request":{"op":"rstp-show","bridge":"br0"}}"#).unwrap();
        assert_eq!(
            req,
            Request::RstpShow {
                bridge: Some(name("br0"))
            }
        );
        assert!(!req.is_change());
        assert!(Request::SetBridge {
            bridge: name("b"),
            settings: vec![BridgeSetting::Rstp(true)]
        }
        .is_change());
    }

    #[test]
    fn replies_round_trip() {
        let replies = vec![
            Ok(Reply::Done),
            Ok(Reply::Names(vec!["a".into()])),
            Ok(Reply::Fdb(vec![FdbEntry {
                port: "p".into(),
                vlan: 10,
                mac: MacAddr([2, 0, 0, 0, 0, 1]),
                age: 3,
            }])),
            Ok(Reply::Flushed { removed: 4 }),
            Ok(Reply::Stats(vec![PortStats {
                bridge: "b".into(),
                port: "p".into(),
                ..Default::default()
            }])),
            Ok(Reply::Rstp(crate::reply::tests::sample_rstp())),
            Ok(Reply::Rstp(RstpInfo::default())),
            Ok(Reply::Bonds(crate::reply::tests::sample_bonds())),
            Ok(Reply::Bonds(BondShowInfo::default())),
            Ok(Reply::Lacp(crate::reply::tests::sample_lacp())),
            Ok(Reply::Lacp(LacpShowInfo::default())),
            Ok(Reply::Flows(crate::reply::tests::sample_flows())),
            Ok(Reply::Flows(FlowsInfo::default())),
            Ok(Reply::Controllers(crate::reply::tests::sample_controllers())),
            Ok(Reply::Controllers(ControllersInfo::default())),
            Ok(Reply::Show(vec![BridgeInfo {
                sflow: vec![],
                ipfix: vec![],
                external_ids: Default::default(),
                name: "b".into(),
                mac: MacAddr([2, 0, 0, 0, 0, 9]),
                mac_aging: 300,
                mac_table_size: 8192,
                mac_entries: 0,
                rstp: RstpBridgeConfig {
                    enabled: true,
                    ..Default::default()
                },
                fail_mode: FailMode::Secure,
                protocols: "OpenFlow13".parse().unwrap(),
                datapath_id: Some(DatapathId::from_mac(MacAddr([2, 0, 0, 0, 0, 9]))),
                controllers: crate::reply::tests::sample_controllers().bridges[0]
                    .controllers
                    .clone(),
                ports: vec![PortInfo {
                    name: "p".into(),
                    ofport: Some(3),
                    port_type: PortType::Tap,
                    config: PortConfig::default(),
                    vlan_mode: VlanMode::Trunk,
                    state: PortState::Down {
                        reason: "no such device".into(),
                    },
                    mtu: Some(1500),
                }],
            }])),
            Err(Error::new(ErrorKind::NoSuchBridge, "no bridge named \"x\"")),
        ];
        for r in replies {
            let mut out = Vec::new();
            write_reply(&mut out, &r).unwrap();
            assert_eq!(decode_reply(&out[..out.len() - 1]).unwrap(), r);
        }
    }

    #[test]
    fn rejects_malformed() {
        let kind = |s: &str| decode_request(s.as_bytes()).unwrap_err().kind;
        assert_eq!(kind("garbage"), ErrorKind::BadRequest);
        assert_eq!(kind("{}"), ErrorKind::BadRequest);
        assert_eq!(kind(r#"{"version":1}"#), ErrorKind::BadRequest);
        assert_eq!(
            kind(r#"{"version":2,"request":{"op":"list-br"}}"#),
            ErrorKind::VersionMismatch
        );
        assert_eq!(
            kind(r#"{"version":1,"request":{"op":"fly"}}"#),
            ErrorKind::BadRequest
        );
        assert_eq!(
            kind(r#"{"version":1,"request":{"op":"add-br","bridge":"a/b"}}"#),
            ErrorKind::BadRequest
        );
        assert_eq!(
            kind(r#"{"version":1,"request":{"op":"add-br","bridge":"a234567890123456"}}"#),
            ErrorKind::BadRequest
        );
        assert_eq!(
            kind(r#"{"version":1,"request":{"op":"set-port","port":"p","settings":[{"tag":4096}]}}"#),
            ErrorKind::BadRequest
        );
        assert_eq!(
            kind(r#"{"version":1,"request":{"op":"set-bridge","bridge":"b","settings":[{"mac_aging":0}]}}"#),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(r#"{"version":1,"request":{"op":"set-port","port":"p","settings":[{"mtu":1}]}}"#),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(
                r#"{"version":1,"request":{"op":"set-bridge","bridge":"b","settings":[{"rstp_priority":1000}]}}"#
            ),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(r#"{"version":1,"request":{"op":"set-port","port":"p","settings":[{"rstp_path_cost":0}]}}"#),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(r#"{"version":1,"request":{"op":"set-bridge","bridge":"b","settings":[{"rstp":"yes"}]}}"#),
            ErrorKind::BadRequest
        );
    }

    #[test]
    fn line_limit_enforced_while_reading() {
        let long = vec![b'a'; MAX_REQUEST_LEN + 1];
        let mut r = Cursor::new(long);
        let mut line = Vec::new();
        assert!(matches!(
            read_line(&mut r, &mut line, MAX_REQUEST_LEN),
            Err(FrameError::TooLarge { .. })
        ));
        assert!(line.len() <= MAX_REQUEST_LEN);
        let mut r = Cursor::new(b"{\"version\":1".to_vec());
        assert!(matches!(
            read_line(&mut r, &mut line, MAX_REQUEST_LEN),
            Err(FrameError::Truncated)
        ));
        let exact = [vec![b'x'; MAX_REQUEST_LEN], vec![b'\n']].concat();
        assert!(read_line(&mut Cursor::new(exact), &mut line, MAX_REQUEST_LEN).unwrap());
    }
}
