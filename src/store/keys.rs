//! Byte encodings of the store's keys. Statements are keyed by a `seq`:
//! the millisecond of their `stored` time shifted left by 10 bits plus a
//! counter, so seq order is stored-time order and a `since`/`until` bound
//! is a seq bound. Index rows are `digest(value) ++ seq`, so every filter is
//! a range scan over one prefix.

use sha1::{Digest, Sha1};

pub const SEQ_COUNTER_BITS: u32 = 10;
pub const DIGEST_LEN: usize = 16;

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

pub fn index_key(digest: &[u8; DIGEST_LEN], seq: u64) -> [u8; DIGEST_LEN + 8] {
    let mut key = [0u8; DIGEST_LEN + 8];
    key[..DIGEST_LEN].copy_from_slice(digest);
    key[DIGEST_LEN..].copy_from_slice(&seq.to_be_bytes());
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
        let d = digest("mbox:mailto:a@example.org");
        assert!(index_key(&d, 5) < index_key(&d, 6));
        assert_eq!(index_key(&d, 5)[..DIGEST_LEN], d);
    }
}
