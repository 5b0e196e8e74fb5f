//! One OpenFlow connection's protocol state, pure: the HELLO handshake and
//! version negotiation, echo / inactivity probes, the controller's role
//! and asynchronous-message configuration; an active target's reconnect
//! backoff; a bridge's fail-open timer (SPEC §10).
//!
//! Nothing here touches a socket or reads a clock: every time comes in as
//! an [`Instant`] argument and every timer is a `deadline` the caller
//! sleeps until, so the engine's poll loop owns the I/O and these state
//! machines are tested by simulation.
//!
//! The behaviour is Open vSwitch's where it defines one: `lib/rconn.c`
//! (probes, backoff), `ofproto/connmgr.c` (roles, generation ids,
//! asynchronous masks) and `ofproto/fail-open.c`. Where switchd does less
//! or otherwise, the item's documentation says so:
//!
//! - only *received* messages count as activity; rconn also counts a
//!   queued message that was sent, which can hide a dead controller behind
//!   a stream of packet-ins;
//! - probes run on every connection; OVS turns them off for `unix:` and
//!   `punix:` targets;
//! - fail-open keys on any message from a controller; OVS waits for one
//!   beyond the handshake ("admission"), flushes the flow table when it
//!   fails open and sends bogus packet-ins meanwhile. switchd keeps the
//!   flow table under the hidden flow (SPEC §10).

use std::time::{Duration, Instant};

use proto::{ControllerState, FailMode};

use super::error::OfError;
use super::msg::{
    AsyncConfig, FlowRemovedReason, PacketInReason, PortReason, Role, OFP10, SUPPORTED_VERSIONS,
};

/// Silence from the peer after which an echo request goes out, and then
/// the time the peer has to answer it (OVS's `inactivity_probe` default
/// and minimum, 5 s).
pub const PROBE_INTERVAL: Duration = Duration::from_secs(5);
/// The first wait before an active target is tried again.
pub const BACKOFF_MIN: Duration = Duration::from_secs(1);
/// The longest wait between attempts (OVS's `max_backoff` default).
pub const BACKOFF_MAX: Duration = Duration::from_secs(8);
/// Silence from every controller after which a standalone bridge fails
/// open: three probe intervals, as `fail-open.c`'s `trigger_duration` (one
/// to notice the silence, one for the probe's answer, one to reconnect).
pub const FAIL_OPEN_AFTER: Duration = Duration::from_secs(15);
/// Bytes of a frame sent in a table-miss PACKET_IN until the controller
/// sets another `miss_send_len` (`OFP_DEFAULT_MISS_SEND_LEN`).
pub const MISS_SEND_LEN_DEFAULT: u16 = 128;

/// The highest version in a HELLO version bitmap (bit n = wire version n),
/// `None` for an empty one: what a HELLO's header carries, and what two
/// bitmaps' intersection negotiates.
pub fn highest_version(bitmap: u32) -> Option<u8> {
    // 31 - leading zeros is the index of the highest bit set, 0..=31.
    (bitmap != 0).then(|| (31 - bitmap.leading_zeros()) as u8)
}

/// What [`Session::poll`] asks of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// Nothing until [`Session::deadline`].
    Nothing,
    /// Send an OFPT_ECHO_REQUEST: the peer has been silent for
    /// [`PROBE_INTERVAL`]. Asked once per silence.
    SendEcho,
    /// Close the connection, for this reason (to log and to report as the
    /// target's last error). Asked again on every later poll.
    Disconnect(&'static str),
}

/// One open OpenFlow connection, active or accepted: from the moment the
/// socket is connected until it is closed.
///
/// The caller sends its own HELLO (offering [`Session::allowed`]) as soon as
/// the socket is up, hands every message it receives to
/// [`Session::received`] (the HELLO included) and the peer's HELLO to
/// [`Session::on_hello`], and polls at [`Session::deadline`]. Messages
/// other than HELLO, ERROR and ECHO are only meaningful once
/// [`Session::version`] is known.
#[derive(Debug, Clone)]
pub struct Session {
    /// Versions this side accepts, as a bitmap (bit n = version n).
    allowed: u32,
    /// The negotiated version, once the peer's HELLO came.
    version: Option<u8>,
    /// When the connection was opened: the HELLO is due within
    /// [`PROBE_INTERVAL`] of it.
    opened: Instant,
    /// When the last message arrived (`opened` before any).
    last_rx: Instant,
    /// When the echo request of the current silence was asked for; `None`
    /// while the peer is not silent.
    probed: Option<Instant>,
    role: Role,
    async_config: AsyncConfig,
    miss_send_len: u16,
}

impl Session {
    /// A connection opened at `now` that accepts the versions of `allowed`
    /// (a HELLO bitmap, bit n = wire version n: the bridge's `protocols`,
    /// `proto::OfVersions::bitmap`). Versions the codec does not speak
    /// ([`SUPPORTED_VERSIONS`]) are dropped from it. Role equal, the
    /// default asynchronous configuration, `miss_send_len` 128.
    pub fn new(now: Instant, allowed: u32) -> Session {
        Session {
            allowed: allowed & SUPPORTED_VERSIONS,
            version: None,
            opened: now,
            last_rx: now,
            probed: None,
            role: Role::Equal,
            async_config: AsyncConfig::default(),
            miss_send_len: MISS_SEND_LEN_DEFAULT,
        }
    }

    /// The versions this side offers in its HELLO (the bitmap element), the
    /// highest of them in the HELLO's header ([`highest_version`]).
    pub fn allowed(&self) -> u32 {
        self.allowed
    }

    /// The peer's HELLO, with the versions it accepts: the bitmap element's,
    /// or, without one, every version up to the header's (the codec builds
    /// `Incoming::Hello::versions` so). Negotiates the highest version both
    /// sides accept (OpenFlow 1.3.5 §6.3.1, as OVS's `vconn` does with
    /// bitmaps) and returns it.
    ///
    /// A HELLO after the negotiation changes nothing and returns the
    /// version in use (OVS ignores it too).
    ///
    /// # Errors
    /// [`OfError::HelloIncompatible`] if no version is common: the caller
    /// sends that OFPT_ERROR (in the highest version it offered) and
    /// closes the connection.
    pub fn on_hello(&mut self, peer_versions: u32) -> Result<u8, OfError> {
        if let Some(v) = self.version {
            return Ok(v);
        }
        let v = highest_version(self.allowed & peer_versions).ok_or(OfError::HelloIncompatible)?;
        self.version = Some(v);
        Ok(v)
    }

    /// The negotiated wire version (`msg::OFP13`, `msg::OFP10`); `None`
    /// until the peer's HELLO came.
    pub fn version(&self) -> Option<u8> {
        self.version
    }

    /// Any message received at `now`: the peer is alive, the inactivity
    /// timer starts again and an outstanding probe is answered.
    pub fn received(&mut self, now: Instant) {
        self.last_rx = self.last_rx.max(now);
        self.probed = None;
    }

    /// The timers at `now`:
    /// - no HELLO [`PROBE_INTERVAL`] after the connection opened:
    ///   `Disconnect("no HELLO received")` (OVS gives a connecting rconn
    ///   1 s, or its backoff if longer; switchd gives the same 5 s to
    ///   active and accepted connections);
    /// - no message for [`PROBE_INTERVAL`]: [`Probe::SendEcho`], once;
    /// - still none [`PROBE_INTERVAL`] after that:
    ///   `Disconnect("inactivity probe timed out")` (rconn's `S_IDLE`
    ///   timing out).
    pub fn poll(&mut self, now: Instant) -> Probe {
        if now < self.deadline() {
            return Probe::Nothing;
        }
        if self.version.is_none() {
            return Probe::Disconnect("no HELLO received");
        }
        match self.probed {
            None => {
                self.probed = Some(now);
                Probe::SendEcho
            }
            Some(_) => Probe::Disconnect("inactivity probe timed out"),
        }
    }

    /// When [`Session::poll`] next has something to do (in the past once it
    /// asked for a disconnection).
    pub fn deadline(&self) -> Instant {
        match (self.version, self.probed) {
            (None, _) => self.opened + PROBE_INTERVAL,
            (Some(_), None) => self.last_rx + PROBE_INTERVAL,
            (Some(_), Some(sent)) => sent + PROBE_INTERVAL,
        }
    }

    /// The controller's role (equal until it asks for another).
    pub fn role(&self) -> Role {
        self.role
    }

    /// Sets the role after a ROLE_REQUEST (checked with [`Election`]) or
    /// when another controller became master (OpenFlow 1.3.5 §6.3.5: the
    /// former master becomes slave). [`Role::NoChange`] leaves it as it is.
    pub fn set_role(&mut self, r: Role) {
        if r != Role::NoChange {
            self.role = r;
        }
    }

    /// The asynchronous-message masks (SET_ASYNC; the spec's defaults until
    /// then).
    pub fn async_config(&self) -> &AsyncConfig {
        &self.async_config
    }

    /// Replaces the masks (OFPT_SET_ASYNC).
    pub fn set_async(&mut self, c: AsyncConfig) {
        self.async_config = c;
    }

    /// Bytes of a frame in a table-miss PACKET_IN (SET_CONFIG; default 128).
    pub fn miss_send_len(&self) -> u16 {
        self.miss_send_len
    }

    /// Sets `miss_send_len` (OFPT_SET_CONFIG).
    pub fn set_miss_send_len(&mut self, n: u16) {
        self.miss_send_len = n;
    }

    /// Whether this session gets a PACKET_IN for `reason`.
    ///
    /// Nothing before the version is negotiated. OpenFlow 1.3: the async
    /// mask of the session's role (slave, else master/equal), as OVS's
    /// `ofconn_receives_async_msg`; by default masters and equals get
    /// no-match and action, slaves nothing. OpenFlow 1.0 has neither roles
    /// nor SET_ASYNC (switchd does not take Nicira's role extension): a 1.0
    /// session gets every reason 1.0 has (not invalid-TTL), and only if it
    /// is somehow a slave it gets what a 1.3 slave gets by default.
    pub fn wants_packet_in(&self, reason: PacketInReason) -> bool {
        let in_10 = reason != PacketInReason::InvalidTtl;
        self.wants(|c| c.packet_in, reason as u32, in_10, false)
    }

    /// Whether this session gets a PORT_STATUS for `reason`: by the 1.3
    /// masks (everyone, slaves included, by default), every reason in 1.0.
    pub fn wants_port_status(&self, reason: PortReason) -> bool {
        self.wants(|c| c.port_status, reason as u32, true, true)
    }

    /// Whether this session gets a FLOW_REMOVED for `reason` (of a flow
    /// that asked for one): by the 1.3 masks (masters and equals by
    /// default), every reason 1.0 has (not group-delete) in 1.0.
    pub fn wants_flow_removed(&self, reason: FlowRemovedReason) -> bool {
        let in_10 = reason != FlowRemovedReason::GroupDelete;
        self.wants(|c| c.flow_removed, reason as u32, in_10, false)
    }

    /// The decision of the `wants_*`: `mask` picks the message's masks,
    /// `bit` is the reason, `in_10` whether a 1.0 session gets it and
    /// `slave_10` whether a 1.0 slave does.
    fn wants(&self, mask: fn(&AsyncConfig) -> [u32; 2], bit: u32, in_10: bool, slave_10: bool) -> bool {
        let slave = self.role == Role::Slave;
        match self.version {
            None => false,
            Some(OFP10) => in_10 && (!slave || slave_10),
            Some(_) => mask(&self.async_config)[usize::from(slave)] & (1 << bit) != 0,
        }
    }
}

/// Master election among one bridge's sessions (OpenFlow 1.3.5 §6.3.5):
/// the generation id of the last accepted master or slave request, which
/// every later one must not be older than.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Election {
    /// `None` until a master or slave request carried one (OVS's
    /// `primary_election_id_defined`).
    generation_id: Option<u64>,
}

impl Election {
    /// No generation id yet: the first master or slave request is
    /// accepted whatever its id.
    pub fn new() -> Election {
        Election::default()
    }

    /// Checks a ROLE_REQUEST for `role` with `generation_id` and, if it is
    /// accepted, remembers the id. Equal and no-change requests are not
    /// checked and change nothing.
    ///
    /// # Errors
    /// [`OfError::RoleStale`] for a master or slave request whose id is
    /// older than the one remembered: `(generation_id - cached) as i64 <
    /// 0`, a wrapping comparison, as the spec and OVS's
    /// `ofconn_set_primary_election_id` have it.
    pub fn check(&mut self, role: Role, generation_id: u64) -> Result<(), OfError> {
        if !matches!(role, Role::Master | Role::Slave) {
            return Ok(());
        }
        if let Some(cached) = self.generation_id {
            if (generation_id.wrapping_sub(cached) as i64) < 0 {
                return Err(OfError::RoleStale);
            }
        }
        self.generation_id = Some(generation_id);
        Ok(())
    }

    /// The id remembered, if any.
    pub fn generation_id(&self) -> Option<u64> {
        self.generation_id
    }

    /// The id a ROLE_REPLY carries: the remembered one, all ones before
    /// there is one (as OVS answers).
    pub fn reply_generation_id(&self) -> u64 {
        self.generation_id.unwrap_or(u64::MAX)
    }
}

/// Where an active target stands between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// Waiting until then before the next attempt.
    Waiting(Instant),
    /// An attempt started then (connect and, to the caller's choice, the
    /// HELLO exchange).
    Connecting(Instant),
    /// Connected since then.
    Connected(Instant),
}

/// An active target's (`tcp:`, `unix:`) reconnect schedule, as OVS's rconn
/// (`disconnect()` in `lib/rconn.c`): the first attempt at once; after a
/// failed attempt or a lost connection a wait of 1 s, doubling up to 8 s;
/// a connection that lasted at least the current wait brings it back to
/// 1 s.
///
/// The caller tries when [`Backoff::due`], says so with
/// [`Backoff::connecting`], then reports [`Backoff::connected`] or
/// [`Backoff::failed`]; it gives an attempt up (as failed) at
/// [`Backoff::deadline`] while connecting.
#[derive(Debug, Clone)]
pub struct Backoff {
    /// The current wait: zero before the first failure, then 1–8 s.
    delay: Duration,
    attempt: Attempt,
}

impl Backoff {
    /// A target configured at `now`: due at once.
    pub fn new(now: Instant) -> Backoff {
        Backoff {
            delay: Duration::ZERO,
            attempt: Attempt::Waiting(now),
        }
    }

    /// Whether it is time to try connecting: waiting, and the wait is over.
    pub fn due(&self, now: Instant) -> bool {
        matches!(self.attempt, Attempt::Waiting(until) if now >= until)
    }

    /// When something is next due: the end of the wait, or the end of the
    /// running attempt ([`Backoff::connect_timeout`] after it started);
    /// `None` while connected.
    pub fn deadline(&self) -> Option<Instant> {
        match self.attempt {
            Attempt::Waiting(until) => Some(until),
            Attempt::Connecting(since) => Some(since + self.connect_timeout()),
            Attempt::Connected(_) => None,
        }
    }

    /// How long an attempt may take before it counts as failed: the
    /// current wait, at least 1 s (rconn's `timeout_CONNECTING`).
    pub fn connect_timeout(&self) -> Duration {
        self.delay.max(BACKOFF_MIN)
    }

    /// An attempt starts at `now` (no longer due).
    pub fn connecting(&mut self, now: Instant) {
        self.attempt = Attempt::Connecting(now);
    }

    /// The attempt succeeded at `now`.
    pub fn connected(&mut self, now: Instant) {
        self.attempt = Attempt::Connected(now);
    }

    /// The attempt failed, timed out, or the connection was lost, at `now`:
    /// wait the next delay. A connection that stayed up at least the
    /// current delay (so at least [`BACKOFF_MAX`] once it is at its
    /// maximum) brings it back to [`BACKOFF_MIN`]; otherwise it doubles,
    /// from [`BACKOFF_MIN`] up to [`BACKOFF_MAX`]: 1, 2, 4, 8, 8... s.
    ///
    /// OVS measures the connection from the start of the attempt, switchd
    /// from the connection; the difference is the connect time.
    pub fn failed(&mut self, now: Instant) {
        let lasted = matches!(self.attempt, Attempt::Connected(since) if now >= since + self.delay);
        self.delay = if lasted {
            BACKOFF_MIN
        } else if self.delay < BACKOFF_MAX / 2 {
            (self.delay * 2).max(BACKOFF_MIN)
        } else {
            BACKOFF_MAX
        };
        self.attempt = Attempt::Waiting(now + self.delay);
    }

    /// The current delay: what the last failure waits (zero before any).
    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// The target's state as `get-controller` reports it: backoff,
    /// connecting or connected.
    pub fn state(&self) -> ControllerState {
        match self.attempt {
            Attempt::Waiting(_) => ControllerState::Backoff,
            Attempt::Connecting(_) => ControllerState::Connecting,
            Attempt::Connected(_) => ControllerState::Connected,
        }
    }
}

/// A bridge's fail-open timer (SPEC §10, OVS's `ofproto/fail-open.c`): a
/// standalone bridge with controller targets that hears from none of them
/// for [`FAIL_OPEN_AFTER`] puts a hidden flow of the highest priority that
/// sends everything to NORMAL, until the next message from any controller.
/// Its flow table is kept (OVS flushes it) and takes over again then.
#[derive(Debug, Clone)]
pub struct FailOpen {
    /// Standalone with at least one target.
    enabled: bool,
    /// The last message from any controller, or when the timer started.
    last_heard: Instant,
}

impl FailOpen {
    /// A bridge without controllers (never active) at `now`.
    pub fn new(now: Instant) -> FailOpen {
        FailOpen {
            enabled: false,
            last_heard: now,
        }
    }

    /// The bridge's `fail_mode` and whether it has controller targets, at
    /// `now`; call whenever either changes. It fails open only if
    /// standalone with targets. Becoming so starts the timer at `now`, so
    /// the new controllers get [`FAIL_OPEN_AFTER`] to answer; staying so
    /// keeps it (an active fail-open stays active until a controller is
    /// heard, as in OVS).
    pub fn configure(&mut self, now: Instant, mode: FailMode, has_targets: bool) {
        let enabled = mode == FailMode::Standalone && has_targets;
        if enabled && !self.enabled {
            self.last_heard = now;
        }
        self.enabled = enabled;
    }

    /// A message from any of the bridge's controllers at `now` (their
    /// HELLO included).
    pub fn heard(&mut self, now: Instant) {
        self.last_heard = self.last_heard.max(now);
    }

    /// Whether the hidden NORMAL flow should be in place at `now`:
    /// standalone, with targets, and nothing heard for
    /// [`FAIL_OPEN_AFTER`]. False again from the next [`FailOpen::heard`].
    pub fn active(&self, now: Instant) -> bool {
        self.enabled && now >= self.last_heard + FAIL_OPEN_AFTER
    }

    /// When [`FailOpen::active`] turns true on its own, if it is not yet
    /// at `now`; `None` when it is already active or cannot be (it only
    /// turns false on [`FailOpen::heard`] and [`FailOpen::configure`]).
    /// Takes `now`, unlike the other deadlines, so that an active timer
    /// does not ask to be woken again and again.
    pub fn deadline(&self, now: Instant) -> Option<Instant> {
        let at = self.last_heard + FAIL_OPEN_AFTER;
        (self.enabled && at > now).then_some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openflow::msg::OFP13;

    const BOTH: u32 = (1 << OFP10) | (1 << OFP13);

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn ms(m: u64) -> Duration {
        Duration::from_millis(m)
    }

    /// A session opened at `t0` that negotiated 1.3 at once.
    fn open13(t0: Instant) -> Session {
        let mut s = Session::new(t0, BOTH);
        s.received(t0);
        assert_eq!(s.on_hello(BOTH), Ok(OFP13));
        s
    }

    fn open10(t0: Instant) -> Session {
        let mut s = Session::new(t0, BOTH);
        s.received(t0);
        assert_eq!(s.on_hello(1 << OFP10), Ok(OFP10));
        s
    }

    #[test]
    fn hello_negotiates_the_highest_common_version() {
        let t0 = Instant::now();
        let nego = |allowed: u32, peer: u32| Session::new(t0, allowed).on_hello(peer);
        assert_eq!(nego(BOTH, BOTH), Ok(OFP13));
        assert_eq!(nego(BOTH, 1 << OFP10), Ok(OFP10));
        assert_eq!(nego(1 << OFP10, BOTH), Ok(OFP10));
        assert_eq!(nego(1 << OFP13, 1 << OFP13), Ok(OFP13));
        // a peer without a bitmap: every version up to its header's
        let up_to = |v: u8| (1u32 << (v + 1)) - 1;
        assert_eq!(nego(BOTH, up_to(0x06)), Ok(OFP13)); // 1.5 peer
        assert_eq!(nego(BOTH, up_to(0x03)), Ok(OFP10)); // 1.2 peer
        assert_eq!(nego(BOTH, up_to(0x01)), Ok(OFP10));
        // nothing in common
        assert_eq!(nego(1 << OFP13, 1 << OFP10), Err(OfError::HelloIncompatible));
        assert_eq!(nego(1 << OFP10, 1 << 0x05), Err(OfError::HelloIncompatible));
        assert_eq!(nego(BOTH, 0), Err(OfError::HelloIncompatible));
        // versions the codec does not speak are never offered nor agreed
        let s = Session::new(t0, u32::MAX);
        assert_eq!(s.allowed(), SUPPORTED_VERSIONS);
        assert_eq!(nego(u32::MAX, 1 << 0x05), Err(OfError::HelloIncompatible));
        assert_eq!(nego(BOTH | (1 << 0x05), BOTH | (1 << 0x05)), Ok(OFP13));
        assert_eq!(highest_version(BOTH), Some(OFP13));
        assert_eq!(highest_version(1), Some(0));
        assert_eq!(highest_version(1 << 31), Some(31));
        assert_eq!(highest_version(0), None);
    }

    #[test]
    fn version_is_known_after_hello_and_kept() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, BOTH);
        assert_eq!(s.version(), None);
        assert_eq!(s.on_hello(1 << OFP10), Ok(OFP10));
        assert_eq!(s.version(), Some(OFP10));
        // a second HELLO does not renegotiate, nor fail
        assert_eq!(s.on_hello(1 << OFP13), Ok(OFP10));
        assert_eq!(s.on_hello(0), Ok(OFP10));
        assert_eq!(s.version(), Some(OFP10));
        // a failed negotiation leaves it unknown
        let mut s = Session::new(t0, 1 << OFP13);
        assert!(s.on_hello(1 << OFP10).is_err());
        assert_eq!(s.version(), None);
    }

    #[test]
    fn no_hello_within_the_probe_interval_disconnects() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, BOTH);
        assert_eq!(s.deadline(), t0 + PROBE_INTERVAL);
        assert_eq!(s.poll(t0), Probe::Nothing);
        // other messages do not stand in for the HELLO
        s.received(t0 + secs(4));
        assert_eq!(s.deadline(), t0 + PROBE_INTERVAL);
        assert_eq!(s.poll(t0 + PROBE_INTERVAL - ms(1)), Probe::Nothing);
        assert_eq!(
            s.poll(t0 + PROBE_INTERVAL),
            Probe::Disconnect("no HELLO received")
        );
        // and it keeps saying so
        assert_eq!(s.poll(t0 + secs(6)), Probe::Disconnect("no HELLO received"));
    }

    #[test]
    fn silence_brings_one_echo_then_a_disconnection() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, BOTH);
        // HELLO at 1 s: the inactivity timer counts from there
        s.received(t0 + secs(1));
        s.on_hello(BOTH).unwrap();
        assert_eq!(s.deadline(), t0 + secs(6));
        assert_eq!(s.poll(t0 + secs(5)), Probe::Nothing);
        assert_eq!(s.poll(t0 + secs(6) - ms(1)), Probe::Nothing);
        assert_eq!(s.poll(t0 + secs(6)), Probe::SendEcho);
        // once per silence
        assert_eq!(s.deadline(), t0 + secs(11));
        assert_eq!(s.poll(t0 + secs(7)), Probe::Nothing);
        assert_eq!(s.poll(t0 + secs(11) - ms(1)), Probe::Nothing);
        assert_eq!(
            s.poll(t0 + secs(11)),
            Probe::Disconnect("inactivity probe timed out")
        );
        assert_eq!(
            s.poll(t0 + secs(12)),
            Probe::Disconnect("inactivity probe timed out")
        );
    }

    #[test]
    fn any_message_answers_the_probe() {
        let t0 = Instant::now();
        let mut s = open13(t0);
        assert_eq!(s.poll(t0 + secs(5)), Probe::SendEcho);
        // the echo reply (or anything else) at 8 s
        s.received(t0 + secs(8));
        assert_eq!(s.deadline(), t0 + secs(13));
        assert_eq!(s.poll(t0 + secs(10)), Probe::Nothing);
        assert_eq!(s.poll(t0 + secs(13)), Probe::SendEcho);
        // a late poll: the echo goes out then, the answer is due 5 s later
        let mut s = open13(t0);
        assert_eq!(s.poll(t0 + secs(9)), Probe::SendEcho);
        assert_eq!(s.deadline(), t0 + secs(14));
        assert_eq!(s.poll(t0 + secs(13)), Probe::Nothing);
        // steady traffic never probes
        let mut s = open13(t0);
        for i in 1..100 {
            s.received(t0 + secs(i * 4));
            assert_eq!(s.poll(t0 + secs(i * 4 + 4) - ms(1)), Probe::Nothing);
        }
        // an out-of-order time does not move the timer back
        let mut s = open13(t0);
        s.received(t0 + secs(3));
        s.received(t0 + secs(1));
        assert_eq!(s.deadline(), t0 + secs(8));
    }

    #[test]
    fn role_async_and_miss_send_len() {
        let t0 = Instant::now();
        let mut s = open13(t0);
        assert_eq!(s.role(), Role::Equal);
        assert_eq!(s.async_config(), &AsyncConfig::default());
        assert_eq!(s.miss_send_len(), 128);
        s.set_role(Role::Master);
        assert_eq!(s.role(), Role::Master);
        s.set_role(Role::NoChange);
        assert_eq!(s.role(), Role::Master);
        s.set_role(Role::Slave);
        assert_eq!(s.role(), Role::Slave);
        s.set_miss_send_len(0xffff);
        assert_eq!(s.miss_send_len(), 0xffff);
        let c = AsyncConfig {
            packet_in: [0b100, 0b001],
            port_status: [0, 0b010],
            flow_removed: [0b1000, 0b0001],
        };
        s.set_async(c);
        assert_eq!(s.async_config(), &c);
    }

    #[test]
    fn async_messages_by_role_and_masks_in_13() {
        use FlowRemovedReason as F;
        use PacketInReason as P;
        use PortReason as S;
        let t0 = Instant::now();
        // nothing before the version is known
        let s = Session::new(t0, BOTH);
        assert!(!s.wants_packet_in(P::NoMatch));
        assert!(!s.wants_port_status(S::Add));
        assert!(!s.wants_flow_removed(F::Delete));
        // equal and master: the spec's defaults
        for role in [Role::Equal, Role::Master] {
            let mut s = open13(t0);
            s.set_role(role);
            assert!(s.wants_packet_in(P::NoMatch) && s.wants_packet_in(P::Action));
            assert!(!s.wants_packet_in(P::InvalidTtl));
            assert!([S::Add, S::Delete, S::Modify]
                .iter()
                .all(|r| s.wants_port_status(*r)));
            assert!([F::IdleTimeout, F::HardTimeout, F::Delete, F::GroupDelete]
                .iter()
                .all(|r| s.wants_flow_removed(*r)));
        }
        // slave: port status only
        let mut s = open13(t0);
        s.set_role(Role::Slave);
        assert!(!s.wants_packet_in(P::NoMatch) && !s.wants_packet_in(P::Action));
        assert!(s.wants_port_status(S::Modify));
        assert!(!s.wants_flow_removed(F::IdleTimeout));
        // SET_ASYNC: each role by its own mask
        let c = AsyncConfig {
            packet_in: [1 << P::InvalidTtl as u32, 1 << P::NoMatch as u32],
            port_status: [1 << S::Delete as u32, 0],
            flow_removed: [0, 1 << F::HardTimeout as u32],
        };
        s.set_async(c);
        assert!(s.wants_packet_in(P::NoMatch) && !s.wants_packet_in(P::InvalidTtl));
        assert!(!s.wants_port_status(S::Delete));
        assert!(s.wants_flow_removed(F::HardTimeout) && !s.wants_flow_removed(F::Delete));
        s.set_role(Role::Master);
        assert!(!s.wants_packet_in(P::NoMatch) && s.wants_packet_in(P::InvalidTtl));
        assert!(s.wants_port_status(S::Delete) && !s.wants_port_status(S::Add));
        assert!(!s.wants_flow_removed(F::HardTimeout));
    }

    #[test]
    fn async_messages_in_10() {
        use FlowRemovedReason as F;
        use PacketInReason as P;
        use PortReason as S;
        let t0 = Instant::now();
        let mut s = open10(t0);
        // every reason 1.0 has, masks or not
        s.set_async(AsyncConfig {
            packet_in: [0, 0],
            port_status: [0, 0],
            flow_removed: [0, 0],
        });
        assert!(s.wants_packet_in(P::NoMatch) && s.wants_packet_in(P::Action));
        assert!(!s.wants_packet_in(P::InvalidTtl));
        assert!([S::Add, S::Delete, S::Modify]
            .iter()
            .all(|r| s.wants_port_status(*r)));
        assert!([F::IdleTimeout, F::HardTimeout, F::Delete]
            .iter()
            .all(|r| s.wants_flow_removed(*r)));
        assert!(!s.wants_flow_removed(F::GroupDelete));
        // a 1.0 slave (which no 1.0 request makes) gets what a 1.3 slave does by default
        s.set_role(Role::Slave);
        assert!(!s.wants_packet_in(P::NoMatch));
        assert!(s.wants_port_status(S::Add));
        assert!(!s.wants_flow_removed(F::Delete));
    }

    #[test]
    fn election_refuses_stale_generation_ids() {
        let mut e = Election::new();
        assert_eq!(e.generation_id(), None);
        assert_eq!(e.reply_generation_id(), u64::MAX);
        // equal and no-change are not checked and change nothing
        assert_eq!(e.check(Role::Equal, 5), Ok(()));
        assert_eq!(e.check(Role::NoChange, 5), Ok(()));
        assert_eq!(e.generation_id(), None);
        // the first master or slave request sets it, whatever its id
        assert_eq!(e.check(Role::Master, 10), Ok(()));
        assert_eq!(e.generation_id(), Some(10));
        assert_eq!(e.reply_generation_id(), 10);
        assert_eq!(e.check(Role::Slave, 10), Ok(()));
        assert_eq!(e.check(Role::Master, 9), Err(OfError::RoleStale));
        assert_eq!(e.check(Role::Slave, 0), Err(OfError::RoleStale));
        assert_eq!(e.generation_id(), Some(10));
        assert_eq!(e.check(Role::Equal, 0), Ok(()));
        assert_eq!(e.check(Role::Slave, 11), Ok(()));
        assert_eq!(e.generation_id(), Some(11));
        // the comparison wraps: just past u64::MAX is newer, far above is older
        let mut e = Election::new();
        e.check(Role::Master, u64::MAX - 1).unwrap();
        assert_eq!(e.check(Role::Master, 1), Ok(()));
        assert_eq!(e.generation_id(), Some(1));
        let mut e = Election::new();
        e.check(Role::Master, 5).unwrap();
        assert_eq!(e.check(Role::Master, u64::MAX), Err(OfError::RoleStale));
        assert_eq!(e.check(Role::Master, 5 + (1 << 63) - 1), Ok(()));
        let mut e = Election::new();
        e.check(Role::Master, 5).unwrap();
        assert_eq!(e.check(Role::Master, 5 + (1 << 63)), Err(OfError::RoleStale));
    }

    #[test]
    fn backoff_doubles_from_1_to_8_seconds() {
        let t0 = Instant::now();
        let mut b = Backoff::new(t0);
        // the first attempt at once
        assert!(b.due(t0));
        assert_eq!(b.deadline(), Some(t0));
        assert_eq!(b.delay(), Duration::ZERO);
        assert_eq!(b.state(), ControllerState::Backoff);
        let mut now = t0;
        let mut waits = Vec::new();
        for _ in 0..6 {
            assert!(b.due(now));
            b.connecting(now);
            assert!(!b.due(now));
            assert_eq!(b.state(), ControllerState::Connecting);
            // refused at once
            b.failed(now);
            waits.push(b.delay().as_secs());
            let next = now + b.delay();
            assert_eq!(b.deadline(), Some(next));
            assert!(!b.due(next - ms(1)));
            now = next;
        }
        assert_eq!(waits, [1, 2, 4, 8, 8, 8]);
        assert!(b.due(now));
    }

    #[test]
    fn backoff_resets_after_a_connection_that_lasted() {
        let t0 = Instant::now();
        let mut b = Backoff::new(t0);
        // three failures: the delay is 4 s
        let mut now = t0;
        for _ in 0..3 {
            b.connecting(now);
            b.failed(now);
            now += b.delay();
        }
        assert_eq!(b.delay(), secs(4));
        // connected, dropped after 3 s (< 4 s): it keeps doubling
        b.connecting(now);
        b.connected(now + ms(10));
        assert_eq!(b.state(), ControllerState::Connected);
        assert_eq!(b.deadline(), None);
        assert!(!b.due(now + secs(100)));
        now += ms(10) + secs(3);
        b.failed(now);
        assert_eq!(b.delay(), BACKOFF_MAX);
        assert_eq!(b.deadline(), Some(now + BACKOFF_MAX));
        // connected for 8 s (the current delay): back to 1 s
        now += BACKOFF_MAX;
        b.connecting(now);
        b.connected(now);
        now += BACKOFF_MAX;
        b.failed(now);
        assert_eq!(b.delay(), BACKOFF_MIN);
        assert_eq!(b.deadline(), Some(now + BACKOFF_MIN));
        // at 1 s, a connection of 1 s resets too (OVS: as long as the delay)
        now += BACKOFF_MIN;
        b.connecting(now);
        b.connected(now);
        now += secs(1);
        b.failed(now);
        assert_eq!(b.delay(), BACKOFF_MIN);
        // the first connection ever, however short, is followed by 1 s
        let mut b = Backoff::new(t0);
        b.connecting(t0);
        b.connected(t0);
        b.failed(t0 + ms(1));
        assert_eq!(b.delay(), BACKOFF_MIN);
    }

    #[test]
    fn backoff_connect_timeout() {
        let t0 = Instant::now();
        let mut b = Backoff::new(t0);
        b.connecting(t0);
        // at least 1 s, even before any failure
        assert_eq!(b.connect_timeout(), BACKOFF_MIN);
        assert_eq!(b.deadline(), Some(t0 + BACKOFF_MIN));
        let mut now = t0 + BACKOFF_MIN;
        b.failed(now); // timed out: 1 s
        now += b.delay();
        b.connecting(now);
        b.failed(now); // 2 s
        now += b.delay();
        b.connecting(now);
        // then the current delay
        assert_eq!(b.connect_timeout(), secs(2));
        assert_eq!(b.deadline(), Some(now + secs(2)));
    }

    #[test]
    fn fail_open_after_15_silent_seconds_when_standalone_with_targets() {
        let t0 = Instant::now();
        let mut f = FailOpen::new(t0);
        // no controllers: never
        assert!(!f.active(t0 + secs(3600)));
        assert_eq!(f.deadline(t0), None);
        // targets set at 10 s: the timer starts then
        let t1 = t0 + secs(10);
        f.configure(t1, FailMode::Standalone, true);
        assert_eq!(f.deadline(t1), Some(t1 + FAIL_OPEN_AFTER));
        assert!(!f.active(t1 + FAIL_OPEN_AFTER - ms(1)));
        assert!(f.active(t1 + FAIL_OPEN_AFTER));
        // once active, nothing more to wake up for
        assert_eq!(f.deadline(t1 + FAIL_OPEN_AFTER), None);
        assert!(f.active(t1 + secs(3600)));
        // reconfigured with targets still there: stays active
        f.configure(t1 + secs(20), FailMode::Standalone, true);
        assert!(f.active(t1 + secs(20)));
        // a controller is heard: the flow table takes over again
        let t2 = t1 + secs(30);
        f.heard(t2);
        assert!(!f.active(t2));
        assert_eq!(f.deadline(t2), Some(t2 + FAIL_OPEN_AFTER));
        // messages every few seconds keep it off
        for i in 1..10 {
            f.heard(t2 + secs(i * 10));
            assert!(!f.active(t2 + secs(i * 10 + 14)));
        }
        assert!(f.active(t2 + secs(90 + 15)));
    }

    #[test]
    fn fail_open_never_in_secure_mode_or_without_targets() {
        let t0 = Instant::now();
        let mut f = FailOpen::new(t0);
        f.configure(t0, FailMode::Secure, true);
        assert!(!f.active(t0 + secs(3600)));
        assert_eq!(f.deadline(t0), None);
        f.configure(t0, FailMode::Standalone, false);
        assert!(!f.active(t0 + secs(3600)));
        // standalone with targets, active, then secure: off at once
        f.configure(t0, FailMode::Standalone, true);
        assert!(f.active(t0 + secs(20)));
        f.configure(t0 + secs(20), FailMode::Secure, true);
        assert!(!f.active(t0 + secs(20)));
        // back to standalone at 30 s: a fresh 15 s from then
        f.configure(t0 + secs(30), FailMode::Standalone, true);
        assert!(!f.active(t0 + secs(44)));
        assert!(f.active(t0 + secs(45)));
        // del-controller: off
        f.configure(t0 + secs(50), FailMode::Standalone, false);
        assert!(!f.active(t0 + secs(50)));
        assert_eq!(f.deadline(t0 + secs(50)), None);
        // heard out of order does not move the timer back
        let mut f = FailOpen::new(t0);
        f.configure(t0, FailMode::Standalone, true);
        f.heard(t0 + secs(10));
        f.heard(t0 + secs(5));
        assert!(!f.active(t0 + secs(24)));
        assert!(f.active(t0 + secs(25)));
    }
}
