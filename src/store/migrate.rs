//! Upgrades of the data folder's layout, run when a store is opened, before
//! anything reads or writes it. Each step ends with one atomic, synced batch
//! that records its new `schema_version`, so a crash leaves either the old
//! layout (and the step runs again) or the new one.

use fjall::{Database, Keyspace, PersistMode};
use serde_json::Value;

use super::keys::{DIGEST_LEN, INDEX_DIGEST_LEN, INDEX_KEY_LEN, digest, seq_from};
use super::prepare::{AUTHORITY, authorities};
use super::{Keyspaces, Result, SCHEMA_VERSION, StoreError};

/// The keyspace layout 1 kept the authority index in; layout 2 marks the
/// authority's agent rows instead (one row less per statement).
pub(super) const RETIRED_AUTHORITY_INDEX: &str = "idx_authority";

/// The keyspaces every write looks a statement id up in, by their layout-2
/// name and the name layout 3 gave them. The engine fixes a keyspace's
/// options when it creates it, and layout 3 keeps the filters of these in
/// memory on every level (see `Store::open`): without that, a store of a
/// million statements spent 133 µs instead of 15 per statement on these
/// lookups. Moving the rows to new keyspaces is the only way to give an
/// existing store the new options. (Layout 4 moved the first once more.)
pub(super) const ID_LOOKUPS: [(&str, &str); 3] = [
    ("by_id", "statement_ids"),
    ("voided", "voided_ids"),
    ("forgotten", "forgotten_ids"),
];

/// The keyspaces whose keys are hashes, spread over the whole key space,
/// by their layout-3 name and the name they have since layout 4, which
/// created them with larger memtables and merges into the last level only
/// once eight tables wait (see `Store::open`).
pub(super) const HASHED_KEYS: [(&str, &str); 5] = [
    ("statement_ids", "statement_id_lookup"),
    ("idx_agent", "agent_index"),
    ("idx_activity", "activity_index"),
    ("idx_verb", "verb_index"),
    ("idx_registration", "registration_index"),
];

/// Where layout 5's step writes an index's rows with shortened keys before
/// they replace the index's own.
pub(super) const SHORTENING_SCRATCH: &str = "index_key_shortening";

/// Brings a store of layout `found` up to [`SCHEMA_VERSION`], one step at a time.
pub(super) fn upgrade(db: &Database, ks: &Keyspaces, found: &str) -> Result<()> {
    let mut version = found.to_owned();
    loop {
        version = match version.as_str() {
            "1" => mark_authority_rows(db, ks)?,
            // Straight to 4: what the id lookup move leaves is not layout 3
            // (the statement ids land in the layout-4 keyspace), and a kmh
            // of layout 3 must not take it for its own.
            "2" => {
                move_id_lookups(db, ks)?;
                move_hashed_keys(db, ks)?
            }
            "3" => move_hashed_keys(db, ks)?,
            "4" => shorten_index_keys(db, ks)?,
            v if v == SCHEMA_VERSION.to_string() => break,
            _ => {
                return Err(StoreError::SchemaVersion {
                    found: found.to_owned(),
                });
            }
        };
    }
    drop_retired(db)
}

/// Deletes the keyspaces earlier layouts used and this one does not, once
/// the store is on this layout (a crash may have come between the last
/// step's commit and their deletion).
pub(super) fn drop_retired(db: &Database) -> Result<()> {
    let retired = ID_LOOKUPS
        .iter()
        .chain(&HASHED_KEYS)
        .map(|(old, _)| *old)
        .chain([RETIRED_AUTHORITY_INDEX, SHORTENING_SCRATCH]);
    for name in retired {
        if db.keyspace_exists(name) {
            let old = db.keyspace(name, Default::default)?;
            db.delete_keyspace(old)?;
        }
    }
    db.persist(PersistMode::SyncAll)?;
    Ok(())
}

/// Records that a step brought the store to `version`, with the step's
/// last rows, durably.
fn finish_step(mut batch: fjall::OwnedWriteBatch, ks: &Keyspaces, version: u32) -> Result<String> {
    batch.insert(&ks.meta, "schema_version", version.to_string());
    batch.commit()?;
    Ok(version.to_string())
}

/// From layout 2, first half: copies the id lookups into the keyspaces
/// layout 3 gave them (for the statement ids, the one layout 4 has). The
/// store stays on layout 2 until [`move_hashed_keys`] records layout 4.
fn move_id_lookups(db: &Database, ks: &Keyspaces) -> Result<()> {
    // A move to layout 3 by an earlier kmh that failed part-way left rows
    // under the layout-3 name, which the next step would take for the
    // current ones.
    let (stale, _) = HASHED_KEYS[0];
    if db.keyspace_exists(stale) {
        db.delete_keyspace(db.keyspace(stale, Default::default)?)?;
    }
    let moved = move_rows(
        db,
        ID_LOOKUPS.map(|(old, _)| old),
        [&ks.by_id, &ks.voided, &ks.forgotten],
    )?;
    tracing::info!("store layout 2: {moved} id lookup rows moved");
    Ok(())
}

/// Layout 3 → 4 (and the second half from layout 2): copies the keyspaces
/// with hashed keys into new ones. Those already moved, or never there
/// (a restored backup writes the current keyspaces), are skipped.
fn move_hashed_keys(db: &Database, ks: &Keyspaces) -> Result<String> {
    let targets = [
        &ks.by_id,
        &ks.idx_agent,
        &ks.idx_activity,
        &ks.idx_verb,
        &ks.idx_registration,
    ];
    let moved = move_rows(db, HASHED_KEYS.map(|(old, _)| old), targets)?;
    let version = finish_step(db.batch().durability(Some(PersistMode::SyncAll)), ks, 4)?;
    tracing::info!("store layout upgraded to version 4 ({moved} index rows moved)");
    Ok(version)
}

/// Layout 4 → 5: index keys start with the 12 first bytes of the value's
/// digest instead of 16 (see [`INDEX_DIGEST_LEN`]). Each index's rows are
/// written with shortened keys into a scratch keyspace, in key order (a
/// shortened digest sorts as the full one did), which then replaces the
/// index's rows in one ingestion. A key already short is kept: a run that
/// stopped part-way leaves whole indexes done and the others untouched.
fn shorten_index_keys(db: &Database, ks: &Keyspaces) -> Result<String> {
    let mut rewritten = 0u64;
    for index in [
        &ks.idx_agent,
        &ks.idx_activity,
        &ks.idx_verb,
        &ks.idx_registration,
    ] {
        if db.keyspace_exists(SHORTENING_SCRATCH) {
            db.delete_keyspace(db.keyspace(SHORTENING_SCRATCH, Default::default)?)?;
        }
        let scratch = db.keyspace(SHORTENING_SCRATCH, Default::default)?;
        let mut ingestion = scratch.start_ingestion()?;
        let mut last: Option<[u8; INDEX_KEY_LEN]> = None;
        for row in index.iter() {
            let (key, value) = row.into_inner()?;
            let short = shortened(&key)?;
            if last.is_some_and(|last| short <= last) {
                return Err(StoreError::Corrupt(format!(
                    "two indexed values share the first {INDEX_DIGEST_LEN} bytes of their digest (index row {}); this store cannot take the shorter index keys",
                    hex::encode(&key)
                )));
            }
            ingestion.write(short, value)?;
            last = Some(short);
            rewritten += 1;
        }
        ingestion.finish()?;
        replace_with_rows_of(&scratch, index)?;
        // As after `move_rows`: the ingested tables lack the pinned filters.
        index.major_compact()?;
        db.delete_keyspace(scratch)?;
    }
    let version = finish_step(db.batch().durability(Some(PersistMode::SyncAll)), ks, 5)?;
    tracing::info!("store layout upgraded to version 5 ({rewritten} index rows rewritten)");
    Ok(version)
}

/// An index key of layout 5 from one of layout 4 (digest of 16 bytes) or 5.
fn shortened(key: &[u8]) -> Result<[u8; INDEX_KEY_LEN]> {
    let mut short = [0u8; INDEX_KEY_LEN];
    match key.len() {
        INDEX_KEY_LEN => short.copy_from_slice(key),
        n if n == DIGEST_LEN + 8 => {
            short[..INDEX_DIGEST_LEN].copy_from_slice(&key[..INDEX_DIGEST_LEN]);
            short[INDEX_DIGEST_LEN..].copy_from_slice(&key[DIGEST_LEN..]);
        }
        n => {
            return Err(StoreError::Corrupt(format!(
                "index row {} has a key of {n} bytes",
                hex::encode(key)
            )));
        }
    }
    Ok(short)
}

/// Copies the rows of each keyspace named in `from` (those that exist) into
/// its target; answers how many were copied. The rows are read in key
/// order and written straight into tables (the engine's bulk ingestion):
/// copied through memtables, a million of them waited there for the
/// background flushes and the process held 221 MiB.
fn move_rows<const N: usize>(
    db: &Database,
    from: [&str; N],
    targets: [&Keyspace; N],
) -> Result<u64> {
    let mut moved = 0u64;
    for (old_name, target) in from.into_iter().zip(targets) {
        if !db.keyspace_exists(old_name) {
            continue;
        }
        let old = db.keyspace(old_name, Default::default)?;
        moved += replace_with_rows_of(&old, target)?;
        // Ingested tables are opened without the pinned filters the
        // keyspace was created with; until a compaction rewrote them, this
        // process would do the slow lookups the filters are for. Rewriting
        // them now costs a fraction of the copy (small rows).
        target.major_compact()?;
    }
    Ok(moved)
}

/// Makes `target` hold exactly the rows of `source`; answers how many were
/// copied. A run that failed part-way leaves rows in `target` while the
/// store stays on the old layout, which an earlier kmh may then open and
/// change (forgetting a learner deletes ids): the rows it deleted since
/// must not come back, so every key of `target` that `source` no longer
/// has is deleted in the same ingestion. Both are walked in key order, as
/// ingestion requires.
fn replace_with_rows_of(source: &Keyspace, target: &Keyspace) -> Result<u64> {
    let mut left = target.iter().map(fjall::Guard::key).peekable();
    let mut ingestion = target.start_ingestion()?;
    let mut copied = 0u64;
    for row in source.iter() {
        let (key, value) = row.into_inner()?;
        while let Some(found) = left.next_if(|k| !matches!(k, Ok(k) if *k > key)) {
            let found = found?;
            if found != key {
                ingestion.write_tombstone(found)?;
            }
        }
        ingestion.write(key, value)?;
        copied += 1;
    }
    for found in left {
        ingestion.write_tombstone(found?)?;
    }
    ingestion.finish()?;
    Ok(copied)
}

/// Layout 1 → 2: flags every statement's authority rows in `idx_agent`
/// (the agent index under its layout-3 name, which the next steps move).
fn mark_authority_rows(db: &Database, ks: &Keyspaces) -> Result<String> {
    // A data folder of layout 1 has the index under its old name; a backup
    // of layout 1 restored into this kmh has it in the current keyspace.
    let (old_name, _) = HASHED_KEYS[1];
    let old;
    let idx_agent = if db.keyspace_exists(old_name) {
        old = db.keyspace(old_name, Default::default)?;
        &old
    } else {
        &ks.idx_agent
    };
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
            let flags = idx_agent
                .get(&index)?
                .and_then(|v| v.first().copied())
                .unwrap_or(0);
            batch.insert(idx_agent, index, vec![flags | AUTHORITY]);
            marked += 1;
        }
    }
    let version = finish_step(batch, ks, 2)?;
    tracing::info!("store layout upgraded to version 2 ({marked} authority rows marked)");
    Ok(version)
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

    /// Writes statements through the store's writer.
    fn append(store: &Store, statements: Vec<NewStatement>) {
        let (writer, thread) = Writer::start(store.clone());
        writer.append_blocking(statements).unwrap();
        drop(writer);
        thread.join().unwrap();
    }

    /// Moves every row of `from` into the keyspace named `to`.
    fn move_back(store: &Store, from: &Keyspace, to: &str) {
        let old = store.inner.db.keyspace(to, Default::default).unwrap();
        let rows: Vec<_> = from.iter().map(|r| r.into_inner().unwrap()).collect();
        for (key, value) in rows {
            old.insert(key.clone(), value).unwrap();
            from.remove(key).unwrap();
        }
    }

    fn set_layout(store: &Store, version: &str) {
        let ks = &store.inner.ks;
        ks.meta.insert("schema_version", version).unwrap();
        store.inner.db.persist(PersistMode::SyncAll).unwrap();
    }

    /// Gives the rows of `indexes` the keys layout 4 wrote: the whole
    /// 16-byte digest of the value they index.
    fn widen_index_keys(store: &Store, indexes: &[&Keyspace]) {
        let mut full = std::collections::HashMap::new();
        for row in store.inner.ks.statements.iter() {
            let (_, json) = row.into_inner().unwrap();
            let statement: Value = serde_json::from_slice(&json).unwrap();
            let keys = crate::xapi::keys::IndexKeys::of(&statement);
            let values = keys
                .agents
                .iter()
                .chain(&keys.activities)
                .map(|k| k.value.clone())
                .chain(keys.verbs)
                .chain(keys.registrations)
                .chain(authorities(&statement));
            for value in values {
                let d = digest(&value);
                full.insert(d[..INDEX_DIGEST_LEN].to_vec(), d);
            }
        }
        for index in indexes {
            let rows: Vec<_> = index.iter().map(|r| r.into_inner().unwrap()).collect();
            for (key, value) in rows {
                assert_eq!(key.len(), INDEX_KEY_LEN);
                let mut wide = full[&key[..INDEX_DIGEST_LEN]].to_vec();
                wide.extend_from_slice(&key[INDEX_DIGEST_LEN..]);
                index.remove(key).unwrap();
                index.insert(wide, value).unwrap();
            }
        }
    }

    fn indexes(store: &Store) -> [&Keyspace; 4] {
        let ks = &store.inner.ks;
        [
            &ks.idx_agent,
            &ks.idx_activity,
            &ks.idx_verb,
            &ks.idx_registration,
        ]
    }

    fn assert_index_keys_are(store: &Store, len: usize) {
        for index in indexes(store) {
            for row in index.iter() {
                assert_eq!(row.key().unwrap().len(), len);
            }
        }
    }

    /// Turns a store back into what layout 4 wrote.
    fn downgrade_to_layout_4(store: &Store) {
        widen_index_keys(store, &indexes(store));
        set_layout(store, "4");
    }

    /// What the statements of a store are found by, through each index.
    fn found_through_indexes(store: &Store, s: &NewStatement) -> Vec<usize> {
        let json = Value::Object(s.json.clone());
        let at = |pointer: &str| json.pointer(pointer).unwrap().as_str().unwrap().to_owned();
        let queries = [
            Query {
                agent: crate::xapi::ifi::identity(&json["actor"]),
                ..Query::default()
            },
            Query {
                activity: Some(at("/context/contextActivities/parent/0/id")),
                related_activities: true,
                ..Query::default()
            },
            Query {
                verb: Some(at("/verb/id")),
                ..Query::default()
            },
            Query {
                registration: Some(at("/context/registration")),
                ..Query::default()
            },
        ];
        queries
            .into_iter()
            .map(|q| {
                let q = Query {
                    max_seq: u64::MAX,
                    limit: 100,
                    ..q
                };
                store.query(&q).unwrap().statements.len()
            })
            .collect()
    }

    fn with_context(actor: &str, authority: &str, registration: uuid::Uuid) -> NewStatement {
        let mut s = statement(actor, authority);
        s.json.insert(
            "context".into(),
            json!({
                "registration": registration.to_string(),
                "contextActivities": {"parent": [{"id": "http://example.org/course"}]},
            }),
        );
        s
    }

    #[test]
    fn layout_4_stores_get_shorter_index_keys_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let registration = uuid::Uuid::new_v4();
        let probe = with_context("a", "k1", registration);
        let before;
        {
            let store = Store::open(dir.path()).unwrap();
            append(
                &store,
                vec![
                    with_context("a", "k1", registration),
                    with_context("a", "k2", registration),
                    with_context("b", "k1", uuid::Uuid::new_v4()),
                ],
            );
            before = found_through_indexes(&store, &probe);
            assert_eq!(before, vec![2, 3, 3, 2]);
            downgrade_to_layout_4(&store);
            assert_index_keys_are(&store, DIGEST_LEN + 8);
        }
        let store = Store::open(dir.path()).unwrap();
        let version = store.inner.ks.meta.get("schema_version").unwrap().unwrap();
        assert_eq!(version.as_ref(), SCHEMA_VERSION.to_string().as_bytes());
        assert_eq!(found_through_indexes(&store, &probe), before);
        assert_eq!(mine(&store, "k1"), 2, "authority flags are kept");
        assert_index_keys_are(&store, INDEX_KEY_LEN);
        assert!(!store.inner.db.keyspace_exists(SHORTENING_SCRATCH));
    }

    #[test]
    fn a_shortening_that_stopped_part_way_is_finished_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let registration = uuid::Uuid::new_v4();
        let probe = with_context("a", "k1", registration);
        let before;
        {
            let store = Store::open(dir.path()).unwrap();
            append(&store, vec![with_context("a", "k1", registration)]);
            before = found_through_indexes(&store, &probe);
            // The agent index was done, and the scratch keyspace of the
            // next one left behind with rows in it.
            let [_, activity, verb, registration] = indexes(&store);
            widen_index_keys(&store, &[activity, verb, registration]);
            let scratch = store
                .inner
                .db
                .keyspace(SHORTENING_SCRATCH, Default::default)
                .unwrap();
            scratch.insert([9u8; INDEX_KEY_LEN], [0]).unwrap();
            set_layout(&store, "4");
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(found_through_indexes(&store, &probe), before);
        assert_eq!(before, vec![1, 1, 1, 1]);
        assert!(!store.inner.db.keyspace_exists(SHORTENING_SCRATCH));
    }

    #[test]
    fn index_keys_of_another_length_are_refused_by_the_shortening() {
        assert!(matches!(
            shortened(&[0u8; 23]),
            Err(StoreError::Corrupt(message)) if message.contains("23 bytes")
        ));
        let mut wide = [7u8; 24];
        wide[16..].copy_from_slice(&5u64.to_be_bytes());
        let short = shortened(&wide).unwrap();
        assert_eq!(short[..INDEX_DIGEST_LEN], [7u8; INDEX_DIGEST_LEN]);
        assert_eq!(seq_from(&short[INDEX_DIGEST_LEN..]), Some(5));
    }

    /// Turns a store back into what layout 3 wrote: the id lookup and the
    /// indexes under their old names, the new keyspaces empty.
    fn downgrade_to_layout_3(store: &Store) {
        downgrade_to_layout_4(store);
        let ks = &store.inner.ks;
        let current = [
            &ks.by_id,
            &ks.idx_agent,
            &ks.idx_activity,
            &ks.idx_verb,
            &ks.idx_registration,
        ];
        for ((old_name, _), current) in HASHED_KEYS.iter().zip(current) {
            move_back(store, current, old_name);
        }
        set_layout(store, "3");
    }

    /// Turns a layout-2 store back into what layout 1 wrote: no authority
    /// flags on agent rows, a separate authority index.
    fn downgrade_to_layout_1(store: &Store) {
        downgrade_to_layout_2(store);
        let ks = &store.inner.ks;
        let idx_agent = store
            .inner
            .db
            .keyspace("idx_agent", Default::default)
            .unwrap();
        let rows: Vec<_> = idx_agent.iter().map(|r| r.into_inner().unwrap()).collect();
        for (key, value) in rows {
            idx_agent
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
            append(
                &store,
                vec![
                    statement("a", "k1"),
                    statement("b", "k1"),
                    statement("c", "k2"),
                ],
            );
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

    /// Turns a store back into what layout 2 wrote: the id lookups under
    /// their old names, the new keyspaces empty.
    fn downgrade_to_layout_2(store: &Store) {
        downgrade_to_layout_3(store);
        let ks = &store.inner.ks;
        let (layout_3_ids, _) = HASHED_KEYS[0];
        let layout_3_ids = store
            .inner
            .db
            .keyspace(layout_3_ids, Default::default)
            .unwrap();
        for ((old_name, _), current) in
            ID_LOOKUPS
                .iter()
                .zip([&layout_3_ids, &ks.voided, &ks.forgotten])
        {
            move_back(store, current, old_name);
        }
        set_layout(store, "2");
    }

    #[test]
    fn layout_2_stores_get_their_id_lookups_moved_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let kept = statement("a", "k1");
        let kept_id = kept.id;
        let kept_again = NewStatement::for_test(serde_json::Value::Object(kept.json.clone()));
        // Same id, other content: the fingerprint is what the check compares.
        let mut changed = NewStatement::for_test(serde_json::Value::Object(kept.json.clone()));
        changed.fingerprint = [1; 20];
        let voided = statement("b", "k1");
        let voided_id = voided.id;
        let forgotten_id = uuid::Uuid::new_v4();
        {
            let store = Store::open(dir.path()).unwrap();
            let (writer, thread) = Writer::start(store.clone());
            writer.append_blocking(vec![kept, voided]).unwrap();
            writer
                .append_blocking(vec![NewStatement::for_test(json!({
                    "actor": {"mbox": "mailto:admin@example.org"},
                    "verb": {"id": crate::xapi::VOIDED},
                    "object": {"objectType": "StatementRef", "id": voided_id.to_string()},
                }))])
                .unwrap();
            drop(writer);
            thread.join().unwrap();
            store
                .inner
                .ks
                .forgotten
                .insert(forgotten_id.as_bytes(), [])
                .unwrap();
            downgrade_to_layout_2(&store);
            assert!(
                store.statement_by_id(kept_id).unwrap().is_none(),
                "the downgrade emptied by_id"
            );
        }
        let store = Store::open(dir.path()).unwrap();
        let version = store.inner.ks.meta.get("schema_version").unwrap().unwrap();
        assert_eq!(version.as_ref(), SCHEMA_VERSION.to_string().as_bytes());
        for (old_name, _) in ID_LOOKUPS {
            assert!(
                !store.inner.db.keyspace_exists(old_name),
                "{old_name} is left"
            );
        }
        assert!(store.statement_by_id(kept_id).unwrap().is_some());
        assert!(store.statement_by_id(voided_id).unwrap().unwrap().voided);
        assert!(
            store
                .inner
                .ks
                .forgotten
                .contains_key(forgotten_id.as_bytes())
                .unwrap()
        );
        // The moved rows still answer the conflict check of every write.
        let (writer, thread) = Writer::start(store.clone());
        let again = writer.append_blocking(vec![kept_again]).unwrap();
        assert_eq!(again.len(), 1);
        let conflict = writer.append_blocking(vec![changed]);
        assert!(
            matches!(conflict, Err(StoreError::Conflict(id)) if id == kept_id),
            "{:?}",
            conflict.err()
        );
        drop(writer);
        thread.join().unwrap();
        assert_eq!(
            mine(&store, "k1"),
            1,
            "the voided statement stays out of queries"
        );
    }

    #[test]
    fn a_move_after_a_failed_one_drops_rows_deleted_in_between() {
        let dir = tempfile::tempdir().unwrap();
        let kept = statement("a", "k1");
        let kept_id = kept.id;
        let gone = statement("b", "k1");
        let gone_id = gone.id;
        {
            let store = Store::open(dir.path()).unwrap();
            append(&store, vec![kept, gone]);
            downgrade_to_layout_2(&store);
            // A first move copied the rows, then failed before recording
            // layout 3; an earlier kmh, still able to open the store, then
            // deleted one id.
            let db = &store.inner.db;
            let old = db.keyspace("by_id", Default::default).unwrap();
            replace_with_rows_of(&old, &store.inner.ks.by_id).unwrap();
            old.remove(gone_id.as_bytes()).unwrap();
            db.persist(PersistMode::SyncAll).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let ids = &store.inner.ks.by_id;
        assert!(ids.contains_key(kept_id.as_bytes()).unwrap());
        assert!(
            !ids.contains_key(gone_id.as_bytes()).unwrap(),
            "the id deleted after the failed move is back"
        );
        assert_eq!(ids.len().unwrap(), 1);
    }

    fn found_by(store: &Store, query: Query) -> usize {
        let query = Query {
            max_seq: u64::MAX,
            limit: 100,
            ..query
        };
        store.query(&query).unwrap().statements.len()
    }

    /// One query per index: agent, activity, verb, registration.
    fn by_each_index(store: &Store) -> [usize; 4] {
        let registration = "0f6c8b52-3c2e-4f39-9a43-4c1a5b6e7d80";
        [
            Query {
                agent: crate::xapi::ifi::identity(&json!({"mbox": "mailto:a@example.org"})),
                ..Query::default()
            },
            Query {
                activity: Some("http://example.org/activity".into()),
                ..Query::default()
            },
            Query {
                verb: Some("http://adlnet.gov/expapi/verbs/experienced".into()),
                ..Query::default()
            },
            Query {
                registration: Some(registration.into()),
                ..Query::default()
            },
        ]
        .map(|q| found_by(store, q))
    }

    #[test]
    fn layout_3_stores_get_their_hashed_keyspaces_moved_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = statement("a", "k1");
        first.json.insert(
            "context".into(),
            json!({"registration": "0f6c8b52-3c2e-4f39-9a43-4c1a5b6e7d80"}),
        );
        let first_id = first.id;
        let expected;
        {
            let store = Store::open(dir.path()).unwrap();
            append(
                &store,
                vec![first, statement("a", "k1"), statement("b", "k2")],
            );
            expected = by_each_index(&store);
            assert_eq!(expected, [2, 3, 3, 1]);
            downgrade_to_layout_3(&store);
            assert_eq!(
                by_each_index(&store),
                [0; 4],
                "the downgrade emptied the indexes"
            );
            assert!(store.statement_by_id(first_id).unwrap().is_none());
        }
        let store = Store::open(dir.path()).unwrap();
        let version = store.inner.ks.meta.get("schema_version").unwrap().unwrap();
        assert_eq!(version.as_ref(), SCHEMA_VERSION.to_string().as_bytes());
        assert_eq!(by_each_index(&store), expected);
        assert_eq!(mine(&store, "k1"), 2, "authority rows keep their flag");
        assert!(store.statement_by_id(first_id).unwrap().is_some());
        for (old_name, _) in HASHED_KEYS {
            assert!(
                !store.inner.db.keyspace_exists(old_name),
                "{old_name} is left"
            );
        }
    }

    #[test]
    fn ids_left_by_a_failed_move_to_layout_3_are_not_taken_for_current() {
        let dir = tempfile::tempdir().unwrap();
        let kept = statement("a", "k1");
        let kept_id = kept.id;
        let gone = uuid::Uuid::new_v4();
        {
            let store = Store::open(dir.path()).unwrap();
            append(&store, vec![kept]);
            downgrade_to_layout_2(&store);
            // An earlier kmh's move to layout 3 copied an id, failed before
            // recording layout 3, and the id was deleted from `by_id` since.
            let (layout_3_ids, _) = HASHED_KEYS[0];
            let stale = store
                .inner
                .db
                .keyspace(layout_3_ids, Default::default)
                .unwrap();
            stale.insert(gone.as_bytes(), [0u8; 28]).unwrap();
            store.inner.db.persist(PersistMode::SyncAll).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let ids = &store.inner.ks.by_id;
        assert!(ids.contains_key(kept_id.as_bytes()).unwrap());
        assert!(
            !ids.contains_key(gone.as_bytes()).unwrap(),
            "the stale id came back"
        );
        assert_eq!(ids.len().unwrap(), 1);
    }

    #[test]
    fn a_layout_2_store_is_not_recorded_as_layout_3_half_way() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        append(&store, vec![statement("a", "k1")]);
        downgrade_to_layout_2(&store);
        // The id lookups moved, then a crash before the indexes did: a kmh
        // of layout 3 must still see layout 2 (and move `by_id` itself).
        move_id_lookups(&store.inner.db, &store.inner.ks).unwrap();
        let version = store.inner.ks.meta.get("schema_version").unwrap().unwrap();
        assert_eq!(version.as_ref(), b"2");
        assert!(store.inner.db.keyspace_exists("by_id"));
    }

    #[test]
    fn a_restored_layout_1_backup_keeps_its_agent_index() {
        let dir = tempfile::tempdir().unwrap();
        let expected;
        {
            let store = Store::open(dir.path()).unwrap();
            append(&store, vec![statement("a", "k1"), statement("a", "k1")]);
            expected = by_each_index(&store);
            // What restoring a layout-1 backup leaves: the rows in the
            // current keyspaces, with the keys of layout 4 and without the
            // authority flags, and layout 1.
            widen_index_keys(&store, &indexes(&store));
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
            set_layout(&store, "1");
            assert_eq!(mine(&store, "k1"), 0);
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(mine(&store, "k1"), 2);
        assert_eq!(by_each_index(&store), expected);
        assert_eq!(expected[0], 2, "the actor rows are there");
    }
}
