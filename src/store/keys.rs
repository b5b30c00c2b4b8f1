//! Byte encodings of the store's keys. Statements are keyed by a `seq`:
//! the millisecond of their `stored` time shifted left by 10 bits plus a
//! counter, so seq order is stored-time order and a `since`/`until` bound
//! is a seq bound. Index rows are `index_digest(value) ++ seq`, so every
//! filter is a range scan over one prefix.

use sha1::{Digest, Sha1};

pub const SEQ_COUNTER_BITS: u32 = 10;
pub const DIGEST_LEN: usize = 16;
/// Index digests are shorter than [`DIGEST_LEN`] so that an index key
/// (digest and seq) is 20 bytes, the most the engine keeps inside a
/// key's own slot: longer keys take an allocation of their own for every
/// row, in the memtable's skip list and wherever rows are read. The
/// commit thread inserts about ten index rows per statement, and the
/// shorter keys took about 2 µs off each statement's CPU (BENCHMARKS.md,
/// "Checking yields to the writer; index keys kept inline"). At 96 bits,
/// values that collide by chance are still not a practical concern, and
/// SHA-1 leaves no known way to find a value that collides with a given
/// one.
pub const INDEX_DIGEST_LEN: usize = 12;
pub const INDEX_KEY_LEN: usize = INDEX_DIGEST_LEN + 8;
pub type IndexDigest = [u8; INDEX_DIGEST_LEN];

pub fn seq_bytes(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

pub fn seq_from(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?))
}

/// The millisecond (Unix time) a seq was stored at.
pub fn seq_millis(seq: u64) -> i64 {
    (seq >> SEQ_COUNTER_BITS) as i64
}

/// The first seq of a millisecond.
pub fn millis_seq(ms: i64) -> u64 {
    (ms.max(0) as u64) << SEQ_COUNTER_BITS
}

/// A 16-byte digest of an indexed value (agent identity, IRI, UUID). At
/// 128 bits a collision between two values is not a practical concern.
pub fn digest(value: &str) -> [u8; DIGEST_LEN] {
    let full = Sha1::digest(value.as_bytes());
    let mut out = [0u8; DIGEST_LEN];
    out.copy_from_slice(&full[..DIGEST_LEN]);
    out
}

/// The digest an indexed value's rows start with.
pub fn index_digest(value: &str) -> IndexDigest {
    let full = Sha1::digest(value.as_bytes());
    let mut out = [0u8; INDEX_DIGEST_LEN];
    out.copy_from_slice(&full[..INDEX_DIGEST_LEN]);
    out
}

pub fn index_key(digest: &IndexDigest, seq: u64) -> [u8; INDEX_KEY_LEN] {
    let mut key = [0u8; INDEX_KEY_LEN];
    key[..INDEX_DIGEST_LEN].copy_from_slice(digest);
    key[INDEX_DIGEST_LEN..].copy_from_slice(&seq.to_be_bytes());
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_order_is_time_order() {
        let a = millis_seq(1_000) + 1023;
        let b = millis_seq(1_001);
        assert!(a < b);
        assert_eq!(seq_millis(a), 1_000);
        assert_eq!(seq_from(&seq_bytes(a)), Some(a));
    }

    #[test]
    fn index_keys_of_one_value_share_a_prefix_and_sort_by_seq() {
        let d = index_digest("mbox:mailto:a@example.org");
        assert!(index_key(&d, 5) < index_key(&d, 6));
        assert_eq!(index_key(&d, 5)[..INDEX_DIGEST_LEN], d);
        assert_eq!(
            d[..],
            digest("mbox:mailto:a@example.org")[..INDEX_DIGEST_LEN],
            "an index digest is the start of the value's digest"
        );
    }
}
