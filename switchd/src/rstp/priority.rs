//! Priority vectors, port identifiers and timer sets: the values RSTP
//! compares and copies (802.1D-2004 17.5, 17.6, 17.19.21-22, 9.2.7).
//!
//! They live apart from the state machines because every machine reads
//! them, and because the comparison rules of 17.6 are subtle enough to
//! deserve their own tests: "better" is a plain lexicographic order, while
//! "superior" (what a received message must be to replace the port's
//! information) also accepts any message from the same designated bridge
//! and port, so a neighbour can make its own information worse.

use crate::wire::bpdu::{BridgeId, ConfigMessage, Time};

/// The first four components of a spanning tree priority vector (17.5):
/// `{RootBridgeID : RootPathCost : DesignatedBridgeID : DesignatedPortID}`.
///
/// The field order is the comparison order, so the derived `Ord` is the
/// order of 17.6: smaller is better.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize,
)]
pub(crate) struct PriorityVector {
    pub root: BridgeId,
    pub root_path_cost: u32,
    pub designated_bridge: BridgeId,
    pub designated_port: u16,
}

impl PriorityVector {
    /// The vector a bridge has before it hears anyone: itself as root at
    /// cost 0 (BridgePriority, 17.18.3; its port component is 0).
    pub fn of_bridge(id: BridgeId) -> Self {
        PriorityVector {
            root: id,
            root_path_cost: 0,
            designated_bridge: id,
            designated_port: 0,
        }
    }

    /// The message priority vector of a received BPDU (msgPriority, 17.19.14).
    pub fn of_message(m: &ConfigMessage) -> Self {
        PriorityVector {
            root: m.root,
            root_path_cost: m.root_path_cost,
            designated_bridge: m.bridge,
            designated_port: m.port,
        }
    }

    /// Whether both vectors name the same Designated Bridge Address (MAC,
    /// priority ignored) and Designated Port Number (port priority ignored).
    pub fn same_sender(&self, other: &Self) -> bool {
        self.designated_bridge.mac() == other.designated_bridge.mac()
            && port_number(self.designated_port) == port_number(other.designated_port)
    }

    /// 17.6: a message priority vector is *superior* to a port priority
    /// vector if it is better, or if it comes from the same designated
    /// bridge and port (then it replaces the old information even if worse).
    pub fn is_superior_to(&self, port: &Self) -> bool {
        self < port || self.same_sender(port)
    }
}

/// A port identifier (9.2.7): 4 bits of priority, 12 bits of port number.
/// `priority` is 0-240 in steps of 16; its low 4 bits are dropped.
pub(crate) fn port_id(priority: u8, port_no: u16) -> u16 {
    (u16::from(priority & 0xf0) << 8) | port_number(port_no)
}

/// The Port Number component of a port identifier.
pub(crate) fn port_number(port_id: u16) -> u16 {
    port_id & 0x0fff
}

/// A set of spanning tree timer values, in whole seconds (17.19.22 portTimes,
/// 17.18.4 BridgeTimes, ...). Equality compares all four, as rcvInfo does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Times {
    pub message_age: u8,
    pub max_age: u8,
    pub hello_time: u8,
    pub forward_delay: u8,
}

impl Times {
    /// The timers of a received message (msgTimes, 17.19.15), rounded to
    /// whole seconds. A Hello Time of 0 would make rcvdInfoWhile 0 and age
    /// the information at once, so it is read as 1 s (as Open vSwitch does).
    pub fn of_message(m: &ConfigMessage) -> Self {
        Times {
            message_age: m.message_age.secs(),
            max_age: m.max_age.secs(),
            hello_time: m.hello_time.secs().max(1),
            forward_delay: m.forward_delay.secs(),
        }
    }

    /// Writes the four timers into a message (txConfig/txRstp, 17.21.19-20).
    pub fn write(&self, m: &mut ConfigMessage) {
        m.message_age = Time::from_secs(self.message_age);
        m.max_age = Time::from_secs(self.max_age);
        m.hello_time = Time::from_secs(self.hello_time);
        m.forward_delay = Time::from_secs(self.forward_delay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(prio: u16, last: u8) -> BridgeId {
        BridgeId::new(prio, [2, 0, 0, 0, 0, last])
    }

    fn v(root: BridgeId, cost: u32, bridge: BridgeId, port: u16) -> PriorityVector {
        PriorityVector {
            root,
            root_path_cost: cost,
            designated_bridge: bridge,
            designated_port: port,
        }
    }

    #[test]
    fn better_is_lexicographic_in_17_6_order() {
        let (a, b) = (id(0x8000, 1), id(0x8000, 2));
        // Root first, whatever the cost.
        assert!(v(a, 900, b, 0x8001) < v(b, 0, b, 0x8001));
        // Then cost, then designated bridge, then designated port.
        assert!(v(a, 10, b, 0x8002) < v(a, 20, a, 0x8001));
        assert!(v(a, 10, a, 0x8002) < v(a, 10, b, 0x8001));
        assert!(v(a, 10, a, 0x8001) < v(a, 10, a, 0x8002));
        // Priority outranks the MAC.
        assert!(id(0x1000, 9) < id(0x8000, 1));
    }

    #[test]
    fn superior_includes_worse_news_from_the_same_sender() {
        let (a, b) = (id(0x8000, 1), id(0x8000, 2));
        let held = v(a, 10, b, 0x8003);
        // Worse, from someone else: not superior.
        assert!(!v(a, 20, id(0x8000, 3), 0x8003).is_superior_to(&held));
        // Worse, from the same bridge MAC and port number, even with a new
        // bridge priority and port priority: superior.
        let same = v(a, 20, id(0xf000, 2), 0x1003);
        assert!(same.same_sender(&held));
        assert!(same.is_superior_to(&held));
        assert!(v(a, 5, b, 0x8003).is_superior_to(&held));
    }

    #[test]
    fn port_ids() {
        assert_eq!(port_id(128, 1), 0x8001);
        assert_eq!(port_id(0, 4095), 0x0fff);
        assert_eq!(port_id(240, 2), 0xf002);
        assert_eq!(port_id(0x8f, 0x1002), 0x8002);
        assert_eq!(port_number(0xf123), 0x123);
    }
}
