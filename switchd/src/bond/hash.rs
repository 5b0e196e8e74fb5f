//! The bucket hashes of the balanced modes: [`hash_slb`] (source MAC and
//! VLAN, OVS's `hash_mac`) and [`hash_tcp`] (L2–L4 fields, OVS's
//! `flow_hash_5tuple` plus the MACs and VLAN). Pure, allocation-free, and
//! total: any byte slice hashes.
//!
//! Neither hash is keyed by a secret or required to be symmetric: a bucket
//! only has to be stable while the bond lives, and the same everywhere in
//! this process, so that every frame of a flow leaves by the same member.
//! This file imports no other file of `bond/`.

use crate::wire::flow_hash;

/// murmur3's 64-bit finaliser: a bijection in which every input bit
/// affects every output bit.
#[inline]
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Folds a 64-bit hash into a bucket index, so every bit of it counts.
#[inline]
fn fold(h: u64) -> u8 {
    let h = h ^ (h >> 32);
    let h = h ^ (h >> 16);
    (h ^ (h >> 8)) as u8
}

/// Arbitrary constants, so that an all-zero key does not hash to 0.
const SLB_BASIS: u64 = 0x5bd1_e995_2545_f491;
const TCP_BASIS: u64 = 0x9e37_79b9_7f4a_7c15;

/// The bucket of a balance-slb frame: its source MAC and VLAN (as OVS's
/// `hash_mac`, which hashes the MAC and VLAN packed into one 64-bit word).
#[inline]
pub fn hash_slb(src_mac: [u8; 6], vlan: u16) -> u8 {
    let [v0, v1] = vlan.to_be_bytes();
    let [a, b, c, d, e, f] = src_mac;
    fold(fmix64(u64::from_be_bytes([v0, v1, a, b, c, d, e, f]) ^ SLB_BASIS))
}

/// The bucket of a balance-tcp frame: its MAC addresses, the VLAN it
/// belongs to, and for IPv4/IPv6 the addresses, protocol and the TCP, UDP
/// (or SCTP, UDP-Lite) ports of a non-fragment — [`flow_hash`]'s fields
/// (which skip the frame's own 802.1Q tag) plus `vlan`, the logical VLAN.
/// A frame that is not IP, or too short to say, hashes its L2 fields only.
#[inline]
pub fn hash_tcp(frame: &[u8], vlan: u16) -> u8 {
    let key = (u64::from(flow_hash(frame)) << 16) | u64::from(vlan);
    fold(fmix64(key ^ TCP_BASIS))
}
