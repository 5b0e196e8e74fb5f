//! One OpenFlow connection's protocol state, pure: the HELLO handshake and
//! version negotiation, echo / inactivity probes, the controller's role
//! and asynchronous-message configuration; an active target's reconnect
//! backoff; a bridge's fail-open timer (SPEC §10).
