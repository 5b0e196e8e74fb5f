//! The exact-match cache in front of the classifier (OVS's EMC idea): the
//! answer of a recent lookup, keyed by the packet's key reduced to what the
//! table's rules look at, so that the packets of an established flow cost
//! one hash and one compare instead of a probe per subtable.
//!
//! What a [`Classifier`](super::classifier::Classifier) hands in is already
//! reduced: the key's words that some mask of the table uses, each ANDed
//! with the union of the table's masks (so fields no rule looks at, such as
//! TCP flags under rules on ports, do not split one flow into many
//! entries), plus the table's *generation*. A table takes a new generation,
//! unique over the classifier's life, at every insert, remove or clear;
//! an entry whose generation is not the table's current one is dead. That
//! is the whole invalidation: O(1), nothing is cleared or walked. Since a
//! generation names one version of one table, it also tells the tables
//! apart; the table number only feeds the hash, so that two tables' keys
//! do not fight over the same slots.
//!
//! Layout: a fixed array of [`CACHE_ENTRIES`] slots, allocated on the first
//! fill (a bridge with only the default flow never needs one), each key
//! looked for in two slots taken from the two halves of its hash (as OVS's
//! EMC) so that two hot flows that collide in one slot can both stay. An
//! entry holds the reduced words inline (no pointer to chase), the hash
//! (checked first: one compare rejects nearly every wrong slot) and the
//! answer, a flow or "no flow matches" (misses are cached too: a frame no
//! rule matches costs as little as one that some rule does).
//!
//! Hashing is a folded 64×64→128-bit multiply per word (foldhash's core
//! step) seeded per cache from a random state, so a sender cannot aim
//! frames at one slot to push others out; no allocation, no lock.

use std::hash::BuildHasher;

use super::classifier::FlowId;
use super::key::KEY_WORDS;

/// Slots in the cache (OVS's EMC has the same number). A power of two.
pub const CACHE_ENTRIES: usize = 8192;

/// One slot. `gen == 0` is never a table's generation, so a fresh slot is
/// empty.
#[derive(Clone, Copy)]
struct Entry {
    hash: u64,
    gen: u64,
    /// The answer when `found`.
    id: FlowId,
    found: bool,
    /// The reduced key; only the first `n` words (the table's count) count.
    words: [u64; KEY_WORDS],
}

const EMPTY: Entry = Entry {
    hash: 0,
    gen: 0,
    id: 0,
    found: false,
    words: [0; KEY_WORDS],
};

/// A fixed-size exact-match cache of lookup answers (see the module doc).
pub struct ExactCache {
    /// Empty until the first [`ExactCache::put`], then `CACHE_ENTRIES` long.
    entries: Box<[Entry]>,
    seed: u64,
    hits: u64,
    misses: u64,
}

impl std::fmt::Debug for ExactCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExactCache")
            .field("allocated", &!self.entries.is_empty())
            .field("hits", &self.hits)
            .field("misses", &self.misses)
            .finish()
    }
}

impl Default for ExactCache {
    fn default() -> Self {
        Self::new()
    }
}

/// One round of the hash: a folded multiply (both halves of the 128-bit
/// product XORed), which spreads every input bit over the output.
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a).wrapping_mul(u128::from(b));
    (p as u64) ^ ((p >> 64) as u64)
}

/// An odd constant with well-mixed bits (the 64-bit golden ratio).
const K: u64 = 0x9e37_79b9_7f4a_7c15;

impl ExactCache {
    /// An empty cache with a random hash seed; allocates nothing yet.
    pub fn new() -> Self {
        // Any per-process random value will do; foldhash's random state
        // is one without a new dependency.
        let seed = foldhash::fast::RandomState::default().hash_one(0x5eed_u64) | 1;
        ExactCache {
            entries: Box::new([]),
            seed,
            hits: 0,
            misses: 0,
        }
    }

    /// The hash of a reduced key of table `table`.
    #[inline]
    pub fn hash(&self, table: u8, words: &[u64]) -> u64 {
        let mut h = fold_mul(self.seed ^ u64::from(table), K);
        for w in words {
            h = fold_mul(h ^ w, K);
        }
        h
    }

    /// The two slots of `hash`: its low bits, and its high bits.
    #[inline(always)]
    fn slots(hash: u64) -> [usize; 2] {
        [
            hash as usize & (CACHE_ENTRIES - 1),
            (hash >> 32) as usize & (CACHE_ENTRIES - 1),
        ]
    }

    /// The cached answer for `words` (hashed to `hash`) in generation
    /// `gen`: `Some(answer)` on a hit, `None` on a miss. Counts either.
    #[inline]
    pub fn get(&mut self, hash: u64, gen: u64, words: &[u64]) -> Option<Option<FlowId>> {
        if !self.entries.is_empty() {
            for i in Self::slots(hash) {
                let e = &self.entries[i];
                if e.hash == hash && e.gen == gen && same(&e.words, words) {
                    self.hits += 1;
                    return Some(e.found.then_some(e.id));
                }
            }
        }
        self.misses += 1;
        None
    }

    /// Records `answer` for `words` in generation `gen` (after a miss).
    /// Takes an empty slot of the two if there is one, otherwise evicts
    /// one chosen by a bit of the slots' hashes (pseudo-random, as OVS's
    /// EMC: no per-slot use bits to maintain on hits).
    pub fn put(&mut self, hash: u64, gen: u64, words: &[u64], answer: Option<FlowId>) {
        if self.entries.is_empty() {
            self.entries = vec![EMPTY; CACHE_ENTRIES].into_boxed_slice();
        }
        let [a, b] = Self::slots(hash);
        // After a miss neither slot holds these words in this generation,
        // so there is no entry to update in place.
        let slot = if self.entries[a].gen == 0 {
            a
        } else if self.entries[b].gen == 0 || self.entries[a].hash < self.entries[b].hash {
            b
        } else {
            a
        };
        let e = &mut self.entries[slot];
        e.hash = hash;
        e.gen = gen;
        e.id = answer.unwrap_or(0);
        e.found = answer.is_some();
        e.words[..words.len()].copy_from_slice(words);
    }

    /// Lookups answered from the cache, and lookups that were not.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }
}

/// Whether the first `words.len()` words of `stored` are `words`. A plain
/// loop: the slices are a few words long, shorter than a `memcmp` call.
#[inline(always)]
fn same(stored: &[u64; KEY_WORDS], words: &[u64]) -> bool {
    stored.iter().zip(words).all(|(a, b)| a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_miss_and_generations() {
        let mut c = ExactCache::new();
        let w = [1u64, 2, 3];
        let h = c.hash(0, &w);
        assert_eq!(c.get(h, 1, &w), None);
        assert!(c.entries.is_empty(), "no allocation before the first fill");
        c.put(h, 1, &w, Some(7));
        assert_eq!(c.get(h, 1, &w), Some(Some(7)));
        // Another generation of the table: dead.
        assert_eq!(c.get(h, 2, &w), None);
        // Negative answers are cached too.
        c.put(h, 2, &w, None);
        assert_eq!(c.get(h, 2, &w), Some(None));
        // Same hash, other words: no hit.
        assert_eq!(c.get(h, 2, &[1, 2, 4]), None);
        assert_eq!(c.stats(), (2, 3));
    }

    #[test]
    fn tables_hash_apart() {
        let c = ExactCache::new();
        assert_ne!(c.hash(0, &[5]), c.hash(1, &[5]));
        assert_ne!(c.hash(0, &[5]), c.hash(0, &[6]));
        assert_ne!(c.hash(0, &[]), c.hash(0, &[0]));
    }

    #[test]
    fn two_ways_keep_colliding_keys() {
        let mut c = ExactCache::new();
        // h1 and h2 share their first slot (5): h2 goes to its second (7).
        // h3's two slots are 7 and 5: it evicts one of them.
        let (h1, h2, h3) = (5u64, 5 | (7 << 32), 7 | (5 << 32));
        c.put(h1, 1, &[1], Some(1));
        c.put(h2, 1, &[2], Some(2));
        assert_eq!(c.get(h1, 1, &[1]), Some(Some(1)));
        assert_eq!(c.get(h2, 1, &[2]), Some(Some(2)));
        c.put(h3, 1, &[3], Some(3));
        assert_eq!(c.get(h3, 1, &[3]), Some(Some(3)));
        let left = [c.get(h1, 1, &[1]), c.get(h2, 1, &[2])];
        assert_eq!(left.iter().filter(|a| a.is_some()).count(), 1, "{left:?}");
        // Many ordinary keys all stay (8192 slots, two each).
        let mut keys = Vec::new();
        for i in 0..256u64 {
            let w = [i];
            let h = c.hash(3, &w);
            c.put(h, 9, &w, Some(i as u32));
            keys.push((h, w));
        }
        for (h, w) in &keys {
            assert_eq!(c.get(*h, 9, w), Some(Some(w[0] as u32)));
        }
    }
}
