//! One rebalancing run of a balanced bond: OVS's `bond_rebalance` and
//! `choose_entries_to_migrate`, on plain arrays (bucket → member, bucket →
//! bytes, member → enabled) so that it can be read and tested on its own.
//! No allocation: every working set is a fixed-size array on the stack.
//!
//! The algorithm, as OVS:
//! 1. a member's load is the sum of the byte counters of its buckets;
//! 2. the enabled members are kept ordered by load, heaviest first;
//! 3. while there are two or more: `from` is the heaviest and `to` the
//!    lightest. If `from` carries less than 100 000 bytes or ~3 % (1/32)
//!    more than `to`, stop: not worth it. Otherwise pick `from`'s buckets
//!    to give to `to`, heaviest first, each as long as the moved total
//!    stays at most half the difference, stopping once within 10 % of
//!    that ideal; if none fits, the lightest one. The move is made only if
//!    it brings the lighter side of the pair at least 10 % of the ideal
//!    closer to the midpoint, and `from` has two or more loaded buckets;
//!    otherwise `from` is set aside for this run;
//! 4. a moved bucket is not moved again in the same run.
//!
//! The caller halves the counters afterwards (OVS's moving average).
//! Ties (equal loads, equal counters) are broken by the lower index, where
//! OVS's order is that of its hash maps.
//!
//! Imports only `types.rs` of `bond/`.

use std::cmp::Reverse;

use super::types::{BUCKETS, MAX_MEMBERS};

/// Below this much extra load on the heaviest member nothing moves (OVS:
/// "less than ~1Mbps").
const MIN_OVERLOAD: u64 = 100_000;

/// The working state of one run.
struct Run<'a> {
    owner: &'a mut [u8; BUCKETS],
    bytes: &'a [u64; BUCKETS],
    /// Bucket indexes, heaviest counter first.
    order: [u8; BUCKETS],
    /// Whether a bucket is still in its owner's list of movable entries
    /// (loaded, and not moved yet in this run).
    listed: [bool; BUCKETS],
    load: [u64; MAX_MEMBERS],
}

impl Run<'_> {
    /// The movable buckets of `member`, heaviest first.
    fn entries(&self, member: u8) -> impl Iterator<Item = usize> + '_ {
        self.order
            .iter()
            .map(|&b| usize::from(b))
            .filter(move |&b| self.listed[b] && self.owner[b] == member)
    }

    /// Picks buckets of `from` to give to `to` (OVS's
    /// `choose_entries_to_migrate`); writes them to `out` and returns how
    /// many, 0 when no choice improves the balance enough.
    fn choose(&self, from: u8, to: u8, out: &mut [u8; BUCKETS]) -> usize {
        let (from_load, to_load) = (self.load[usize::from(from)], self.load[usize::from(to)]);
        if self.entries(from).nth(1).is_none() {
            // One loaded bucket or none: moving it only moves the problem.
            return 0;
        }
        // The midpoint of the pair does not change by moving load between them.
        let ideal_delta = (from_load - to_load) / 2;
        let threshold = ideal_delta / 10;
        let (mut delta, mut n) = (0u64, 0usize);
        for b in self.entries(from) {
            if delta.saturating_add(self.bytes[b]) <= ideal_delta {
                out[n] = b as u8;
                n += 1;
                delta += self.bytes[b];
            }
            if ideal_delta - delta < threshold {
                break;
            }
        }
        if n == 0 {
            // Every bucket is heavier than the ideal move: try the lightest.
            let Some(lightest) = self.entries(from).last() else {
                return 0;
            };
            out[0] = lightest as u8;
            n = 1;
            delta = self.bytes[lightest];
        }
        let new_low = (from_load - delta).min(to_load.saturating_add(delta));
        if new_low > to_load && new_low - to_load >= threshold {
            n
        } else {
            0
        }
    }
}

/// Moves buckets from the most loaded enabled members to the least loaded
/// ones, by the byte counters in `bytes`; `owner[b]` is the member of
/// bucket `b`, and `enabled` has one entry per member (at most
/// [`MAX_MEMBERS`]). Returns whether any bucket moved.
pub(super) fn rebalance(owner: &mut [u8; BUCKETS], bytes: &[u64; BUCKETS], enabled: &[bool]) -> bool {
    let mut order: [u8; BUCKETS] = std::array::from_fn(|b| b as u8);
    order.sort_unstable_by_key(|&b| (Reverse(bytes[usize::from(b)]), b));
    let mut run = Run {
        owner,
        bytes,
        order,
        listed: std::array::from_fn(|b| bytes[b] > 0),
        load: [0; MAX_MEMBERS],
    };
    for (&member, &n) in run.owner.iter().zip(bytes) {
        if let Some(load) = run.load.get_mut(usize::from(member)) {
            *load = load.saturating_add(n);
        }
    }

    // The members still considered, heaviest first (sorted at each step).
    let mut bals = [0u8; MAX_MEMBERS];
    let mut n_bals = 0;
    for (m, _) in enabled.iter().enumerate().take(MAX_MEMBERS).filter(|(_, &e)| e) {
        bals[n_bals] = m as u8;
        n_bals += 1;
    }
    let mut out = [0u8; BUCKETS];
    let mut rebalanced = false;
    while n_bals >= 2 {
        let load = run.load;
        bals[..n_bals].sort_unstable_by_key(|&m| (Reverse(load[usize::from(m)]), m));
        let (from, to) = (bals[0], bals[n_bals - 1]);
        let overload = load[usize::from(from)] - load[usize::from(to)];
        if overload < load[usize::from(to)] >> 5 || overload < MIN_OVERLOAD {
            break;
        }
        let n = run.choose(from, to, &mut out);
        if n == 0 {
            // Nothing useful to move away from `from`: leave it out.
            bals.copy_within(1..n_bals, 0);
            n_bals -= 1;
            continue;
        }
        for &b in &out[..n] {
            let b = usize::from(b);
            // Saturating only because the sums were: counters are byte
            // counts and do not come near 2^64.
            run.load[usize::from(from)] = run.load[usize::from(from)].saturating_sub(bytes[b]);
            run.load[usize::from(to)] = run.load[usize::from(to)].saturating_add(bytes[b]);
            run.owner[b] = to;
            // Not added to `to`'s entries: moving it again in this run
            // would gain nothing (as OVS).
            run.listed[b] = false;
        }
        rebalanced = true;
    }
    rebalanced
}
