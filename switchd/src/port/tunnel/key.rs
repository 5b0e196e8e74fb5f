//! What identifies a tunnel endpoint and a tunnel port, from configuration
//! alone: [`TunnelKind`], [`EndpointKey`] (the shared socket), [`DemuxKey`]
//! (a port's share of it) and [`TunnelId`] (both); and the socket buffer
//! sizes every endpoint socket asks for.
//!
//! Why a file of its own: the endpoint code in `tunnel/mod.rs` and the
//! socket code of each kind (`vxlan.rs`, `gre.rs`) all need these, and the
//! kinds must not import the module that calls them. This file imports
//! neither, so the tunnel files import in one direction only.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use proto::types::VXLAN_DEFAULT_PORT;
use proto::{PortConfig, PortType};

use crate::wire;

/// Receive buffer asked for on endpoint sockets: several batches of every
/// peer can queue while the engine serves other ports.
pub(super) const RCVBUF: i32 = 4 << 20;
/// Send buffer asked for on endpoint sockets.
pub(super) const SNDBUF: i32 = 1 << 20;

/// The two tunnel protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelKind {
    /// VXLAN over UDP (RFC 7348).
    Vxlan,
    /// Ethernet over GRE (RFC 2784/2890).
    Gre,
}

/// What identifies a shared endpoint socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EndpointKey {
    /// Protocol.
    pub kind: TunnelKind,
    /// Local address the socket is bound to; unspecified (`0.0.0.0` or
    /// `::`) when the ports have no `local_ip`.
    pub local: IpAddr,
    /// UDP port (VXLAN `dst_port`); 0 for GRE.
    pub port: u16,
}

impl fmt::Display for EndpointKey {
    /// `vxlan:0.0.0.0:4789`, `vxlan:[::]:4789`, `gre:10.0.0.1`, `gre:[::]`:
    /// never a valid port name (`:` is refused there), so a `port-stats`
    /// pseudo-row cannot be mistaken for a port.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, self.local) {
            (TunnelKind::Vxlan, ip) => write!(f, "vxlan:{}", SocketAddr::new(ip, self.port)),
            (TunnelKind::Gre, IpAddr::V4(a)) => write!(f, "gre:{a}"),
            (TunnelKind::Gre, IpAddr::V6(a)) => write!(f, "gre:[{a}]"),
        }
    }
}

impl EndpointKey {
    /// Whether the sockets of `self` and `other` (two different keys)
    /// cannot both exist: VXLAN sockets on the same UDP port and family
    /// where one is bound to the wildcard address (the kernel refuses the
    /// second bind). GRE raw sockets never conflict.
    pub fn conflicts_with(&self, other: &EndpointKey) -> bool {
        self.kind == TunnelKind::Vxlan
            && other.kind == TunnelKind::Vxlan
            && self.port == other.port
            && self.local.is_ipv4() == other.local.is_ipv4()
            && self.local != other.local
            && (self.local.is_unspecified() || other.local.is_unspecified())
    }
}

/// What picks the port of a received packet on its endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DemuxKey {
    /// The peer: the outer source address.
    pub remote: IpAddr,
    /// The VXLAN VNI (always present, default 0) or the GRE key (absent
    /// when the port has none: then only packets without the K bit match).
    pub key: Option<u32>,
}

impl fmt::Display for DemuxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key {
            Some(k) => write!(f, "remote_ip={} key={k}", self.remote),
            None => write!(f, "remote_ip={} without key", self.remote),
        }
    }
}

/// Where a tunnel port's packets come from and go to, from its
/// configuration alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TunnelId {
    /// The shared socket.
    pub endpoint: EndpointKey,
    /// The port's share of it.
    pub demux: DemuxKey,
}

impl TunnelId {
    /// The identity of a `vxlan` or `gre` port; `None` for any other type
    /// or a configuration without `remote_ip` (which `validate` refuses).
    pub fn from_config(c: &PortConfig) -> Option<TunnelId> {
        let remote = c.remote_ip?;
        let unspecified = match remote {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        let local = c.local_ip.unwrap_or(unspecified);
        let (kind, port, key) = match c.port_type {
            PortType::Vxlan => (
                TunnelKind::Vxlan,
                c.dst_port.unwrap_or(VXLAN_DEFAULT_PORT),
                Some(c.key.unwrap_or(0)),
            ),
            PortType::Gre => (TunnelKind::Gre, 0, c.key),
            _ => return None,
        };
        Some(TunnelId {
            endpoint: EndpointKey { kind, local, port },
            demux: DemuxKey { remote, key },
        })
    }

    /// Bytes in front of the inner Ethernet frame on the wire: outer IP
    /// header plus UDP and VXLAN headers, or plus the GRE header.
    pub fn outer_len(&self) -> u32 {
        let ip = if self.demux.remote.is_ipv6() { 40 } else { 20 };
        let tunnel = match self.endpoint.kind {
            TunnelKind::Vxlan => (wire::vxlan::UDP_HEADER_LEN + wire::vxlan::HEADER_LEN) as u32,
            TunnelKind::Gre => wire::gre::header(self.demux.key).1 as u32,
        };
        ip + tunnel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(s: &[&str]) -> PortConfig {
        let settings: Vec<proto::PortSetting> = s.iter().map(|s| s.parse().unwrap()).collect();
        PortConfig::from_settings(&settings).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn identity_from_config() {
        let id = TunnelId::from_config(&cfg(&["type=vxlan", "remote_ip=10.0.0.2"])).unwrap();
        assert_eq!(id.endpoint.to_string(), "vxlan:0.0.0.0:4789");
        assert_eq!(id.demux.to_string(), "remote_ip=10.0.0.2 key=0");
        assert_eq!(id.outer_len(), 36);
        let id = TunnelId::from_config(&cfg(&[
            "type=vxlan",
            "remote_ip=fd00::2",
            "local_ip=fd00::1",
            "key=42",
            "dst_port=8472",
        ]))
        .unwrap();
        assert_eq!(id.endpoint.to_string(), "vxlan:[fd00::1]:8472");
        assert_eq!(id.demux.key, Some(42));
        assert_eq!(id.outer_len(), 56);
        let id = TunnelId::from_config(&cfg(&["type=gre", "remote_ip=10.0.0.2"])).unwrap();
        assert_eq!(id.endpoint.to_string(), "gre:0.0.0.0");
        assert_eq!(id.demux.key, None);
        assert_eq!(id.demux.to_string(), "remote_ip=10.0.0.2 without key");
        assert_eq!(id.outer_len(), 24);
        let id = TunnelId::from_config(&cfg(&["type=gre", "remote_ip=::2", "key=0"])).unwrap();
        assert_eq!(id.endpoint.to_string(), "gre:[::]");
        assert_eq!(id.demux.key, Some(0));
        assert_eq!(id.outer_len(), 48);
        assert_eq!(TunnelId::from_config(&cfg(&["type=tap"])), None);
    }

    #[test]
    fn endpoint_conflicts() {
        let key = |kind, local: &str, port| EndpointKey {
            kind,
            local: ip(local),
            port,
        };
        let any = key(TunnelKind::Vxlan, "0.0.0.0", 4789);
        let one = key(TunnelKind::Vxlan, "10.0.0.1", 4789);
        assert!(any.conflicts_with(&one) && one.conflicts_with(&any));
        assert!(!one.conflicts_with(&key(TunnelKind::Vxlan, "10.0.0.2", 4789)));
        assert!(!any.conflicts_with(&key(TunnelKind::Vxlan, "10.0.0.1", 4790)));
        assert!(!any.conflicts_with(&key(TunnelKind::Vxlan, "::", 4789)));
        assert!(!any.conflicts_with(&key(TunnelKind::Vxlan, "fd00::1", 4789)));
        let gre = key(TunnelKind::Gre, "0.0.0.0", 0);
        assert!(!gre.conflicts_with(&key(TunnelKind::Gre, "10.0.0.1", 0)));
    }
}
