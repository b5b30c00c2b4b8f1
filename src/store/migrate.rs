//! Upgrades of the data folder's layout, run when a store is opened, before
//! anything reads or writes it. Each step is one atomic batch that also
//! records the new `schema_version`, so a crash leaves either the old
//! layout or the new one.

use fjall::{Database, PersistMode};
use serde_json::Value;

use super::keys::{DIGEST_LEN, digest, seq_from};
use super::prepare::{AUTHORITY, authorities};
use super::{Keyspaces, Result, SCHEMA_VERSION, StoreError};

/// The keyspace layout 1 kept the authority index in; layout 2 marks the
/// authority's agent rows instead (one row less per statement).
pub(super) const RETIRED_AUTHORITY_INDEX: &str = "idx_authority";

/// Brings a store of layout `found` up to [`SCHEMA_VERSION`].
pub(super) fn upgrade(db: &Database, ks: &Keyspaces, found: &str) -> Result<()> {
    if found == "1" {
        mark_authority_rows(db, ks)?;
    } else {
        return Err(StoreError::SchemaVersion {
            found: found.to_owned(),
        });
    }
    if db.keyspace_exists(RETIRED_AUTHORITY_INDEX) {
        let old = db.keyspace(RETIRED_AUTHORITY_INDEX, Default::default)?;
        db.delete_keyspace(old)?;
    }
    Ok(())
}

/// Layout 1 → 2: flags every statement's authority rows in `idx_agent`.
fn mark_authority_rows(db: &Database, ks: &Keyspaces) -> Result<()> {
    let mut batch = db.batch().durability(Some(PersistMode::SyncAll));
    let mut marked = 0u64;
    for row in ks.statements.iter() {
        let (key, json) = row.into_inner()?;
        let seq = seq_from(&key).ok_or_else(|| StoreError::Corrupt("statement key".into()))?;
        let statement: Value = serde_json::from_slice(&json)
            .map_err(|e| StoreError::Corrupt(format!("statement seq {seq}: {e}")))?;
        for identity in authorities(&statement) {
            let mut index = Vec::with_capacity(DIGEST_LEN + 8);
            index.extend_from_slice(&digest(&identity));
            index.extend_from_slice(&seq.to_be_bytes());
            let flags = ks
                .idx_agent
                .get(&index)?
                .and_then(|v| v.first().copied())
                .unwrap_or(0);
            batch.insert(&ks.idx_agent, index, vec![flags | AUTHORITY]);
            marked += 1;
        }
    }
    batch.insert(&ks.meta, "schema_version", SCHEMA_VERSION.to_string());
    batch.commit()?;
    tracing::info!(
        "store layout upgraded to version {SCHEMA_VERSION} ({marked} authority rows marked)"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{NewStatement, Query, Store, Writer};
    use super::*;

    fn statement(actor: &str, authority: &str) -> NewStatement {
        NewStatement::for_test(json!({
            "actor": {"mbox": format!("mailto:{actor}@example.org")},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": "http://example.org/activity"},
            "authority": {"account": {"homePage": "http://lrs.example", "name": authority}},
        }))
    }

    fn mine(store: &Store, authority: &str) -> usize {
        let query = Query {
            authority: crate::xapi::ifi::identity(
                &json!({"account": {"homePage": "http://lrs.example", "name": authority}}),
            ),
            max_seq: u64::MAX,
            limit: 100,
            ..Query::default()
        };
        store.query(&query).unwrap().statements.len()
    }

    /// Turns a layout-2 store back into what layout 1 wrote: no authority
    /// flags on agent rows, a separate authority index.
    fn downgrade_to_layout_1(store: &Store) {
        let ks = &store.inner.ks;
        let rows: Vec<_> = ks
            .idx_agent
            .iter()
            .map(|r| r.into_inner().unwrap())
            .collect();
        for (key, value) in rows {
            ks.idx_agent
                .insert(key.to_vec(), vec![value[0] & !AUTHORITY])
                .unwrap();
        }
        let old = store
            .inner
            .db
            .keyspace(RETIRED_AUTHORITY_INDEX, Default::default)
            .unwrap();
        old.insert([0u8; 24], []).unwrap();
        ks.meta.insert("schema_version", "1").unwrap();
        store.inner.db.persist(PersistMode::SyncAll).unwrap();
    }

    #[test]
    fn layout_1_stores_are_upgraded_on_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let (writer, thread) = Writer::start(store.clone());
            writer
                .append_blocking(vec![
                    statement("a", "k1"),
                    statement("b", "k1"),
                    statement("c", "k2"),
                ])
                .unwrap();
            drop(writer);
            thread.join().unwrap();
            assert_eq!(mine(&store, "k1"), 2);
            downgrade_to_layout_1(&store);
            assert_eq!(mine(&store, "k1"), 0, "the downgrade removed the flags");
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(mine(&store, "k1"), 2);
        assert_eq!(mine(&store, "k2"), 1);
        assert!(!store.inner.db.keyspace_exists(RETIRED_AUTHORITY_INDEX));
        let version = store.inner.ks.meta.get("schema_version").unwrap().unwrap();
        assert_eq!(version.as_ref(), SCHEMA_VERSION.to_string().as_bytes());
    }
}
