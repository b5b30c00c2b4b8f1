//! The secondary-index rows of a statement (xAPI 1.0.3 part 3, §2.1.3
//! filters), in one place: the writer adds them, forgetting and pruning
//! remove them, so both follow any change of layout.

use fjall::Keyspace;

use super::Keyspaces;
use super::keys::{INDEX_KEY_LEN, index_key};
use super::prepare::IndexRows;

/// Calls `row(keyspace, key, value)` for each row a statement with these
/// index digests (its own and what it inherits from a statement it
/// targets) has at `seq`: agent and activity rows hold their flags
/// ([`super::prepare::DIRECT`], [`super::prepare::AUTHORITY`]).
pub(crate) fn each_row<'a>(
    ks: &'a Keyspaces,
    index: &IndexRows,
    seq: u64,
    mut row: impl FnMut(&'a Keyspace, [u8; INDEX_KEY_LEN], &[u8]),
) {
    for (d, flags) in &index.agents {
        row(&ks.idx_agent, index_key(d, seq), &[*flags]);
    }
    for (d, flags) in &index.activities {
        row(&ks.idx_activity, index_key(d, seq), &[*flags]);
    }
    for d in &index.verbs {
        row(&ks.idx_verb, index_key(d, seq), &[]);
    }
    for d in &index.registrations {
        row(&ks.idx_registration, index_key(d, seq), &[]);
    }
}
