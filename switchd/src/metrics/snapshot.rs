//! What one scrape shows: the replies of the engine's existing read-only
//! requests, gathered one after another.
//!
//! Only requests that `switchctl` itself sends are used (`show`,
//! `port-stats`, `rstp-show`, `bond-show`, `lacp-show`, `dump-flows`), so a
//! metric always equals what the matching command prints, and the metrics
//! server needs nothing from the engine that the control socket does not
//! already have. Each request is answered atomically by the engine between
//! two batches; the snapshot as a whole is not one instant (a port added
//! between `show` and `port-stats` shows up in one and not the other),
//! which rendering copes with by never joining replies where a missing
//! partner would matter.
//!
//! `get-controller` is not asked: `show` carries the same controller list
//! (the engine builds both from one function), and one request less per
//! scrape is one interruption less for the engine.

use proto::{
    BondShowInfo, BridgeInfo, Error, ErrorKind, FlowsInfo, IfName, LacpShowInfo, PortStats, Reply, Request,
    RstpInfo,
};

/// The engine's replies that a scrape renders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// `show`: every bridge, its ports, MAC table size and controllers.
    pub bridges: Vec<BridgeInfo>,
    /// `port-stats` of every bridge, tunnel endpoint rows (bridge `-`) included.
    pub ports: Vec<PortStats>,
    /// `rstp-show` of every bridge that runs RSTP.
    pub rstp: RstpInfo,
    /// `bond-show` of every bond.
    pub bonds: BondShowInfo,
    /// `lacp-show` of every bond that runs LACP.
    pub lacp: LacpShowInfo,
    /// `dump-flows` of each bridge, by bridge name, in `bridges` order.
    pub flows: Vec<(String, FlowsInfo)>,
    /// Engine and table counters (the one request only metrics use).
    pub counters: proto::CountersInfo,
}

/// Asks the engine (through `call`, which is `EngineHandle::call` in the
/// daemon and a fake in tests) for everything a scrape shows. A bridge
/// deleted between `show` and its `dump-flows` is skipped; any other error
/// fails the whole snapshot, so a scrape never shows half the metrics as
/// if they were all.
pub fn collect(mut call: impl FnMut(Request) -> Result<Reply, Error>) -> Result<Snapshot, Error> {
    let bridges = match call(Request::Show)? {
        Reply::Show(b) => b,
        other => return Err(unexpected("show", &other)),
    };
    let ports = match call(Request::PortStats { bridge: None })? {
        Reply::Stats(s) => s,
        other => return Err(unexpected("port-stats", &other)),
    };
    let rstp = match call(Request::RstpShow { bridge: None })? {
        Reply::Rstp(r) => r,
        other => return Err(unexpected("rstp-show", &other)),
    };
    let bonds = match call(Request::BondShow { bond: None })? {
        Reply::Bonds(b) => b,
        other => return Err(unexpected("bond-show", &other)),
    };
    let lacp = match call(Request::LacpShow { bond: None })? {
        Reply::Lacp(l) => l,
        other => return Err(unexpected("lacp-show", &other)),
    };
    let counters = match call(Request::Counters)? {
        Reply::Counters(c) => c,
        other => return Err(unexpected("counters", &other)),
    };
    let mut flows = Vec::with_capacity(bridges.len());
    for b in &bridges {
        // The name came from the engine, so it is valid; a failure here
        // would be a protocol bug, reported like any other error.
        let bridge: IfName = b.name.parse().map_err(Error::from)?;
        let req = Request::DumpFlows {
            bridge,
            filter: None,
            table: None,
        };
        match call(req) {
            Ok(Reply::Flows(f)) => flows.push((b.name.clone(), f)),
            Ok(other) => return Err(unexpected("dump-flows", &other)),
            Err(e) if e.kind == ErrorKind::NoSuchBridge => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(Snapshot {
        bridges,
        ports,
        rstp,
        bonds,
        lacp,
        flows,
        counters,
    })
}

fn unexpected(request: &str, reply: &Reply) -> Error {
    // The reply itself can be large (a whole `show`); its first bytes say
    // enough of what it was.
    let what: String = format!("{reply:?}").chars().take(80).collect();
    Error::new(
        ErrorKind::Internal,
        format!("the engine answered {request} with an unexpected reply: {what}"),
    )
}
