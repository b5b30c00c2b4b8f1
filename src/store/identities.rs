//! Pseudonymisation's part of the store: the secret key, the store-wide
//! setting, and the mapping from pseudonym back to the identifiers and
//! names it replaced. The mapping lives in a database of its own
//! (`identities/` in the data folder), apart from the statements: no byte
//! of the statement store (journal included) holds an original identifier
//! of a pseudonymised learner, the mapping is readable only with the
//! `identities` scope, and it can be dropped (forget, retention) without
//! touching a statement. Backups carry it as the keyspace `identities`.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::sealing::Sealer;
use super::{Result, Store, StoreError, now_ms};
use crate::xapi::pseudonym::{Key, Seen};

const KEY_RECORD: &str = "pseudonym_key";
const SETTING_RECORD: &str = "pseudonymise";

/// What the store knows about one pseudonym.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityRecord {
    pub pseudonym: String,
    /// The original identifiers (`{"mbox": …}`, `{"account": {…}}`, …)
    /// that were replaced by this pseudonym, oldest first.
    pub ifis: Vec<Value>,
    /// The names the learner was sent with, oldest first.
    pub names: Vec<String>,
    /// Unix ms of the first and the latest statement or document naming it
    /// (the latest to a day's precision).
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
}

/// Why the store-wide setting could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum SettingError {
    #[error(
        "this data folder was set up {} pseudonymisation and already holds statements; \
         the setting must be chosen before data arrives (start kmh serve {} or use a new data folder)",
        if *.recorded { "with" } else { "without" },
        if *.recorded { "without --no-pseudonymise" } else { "with --no-pseudonymise" }
    )]
    Changed { recorded: bool },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Opens (or creates) the mapping's database in `dir/identities`. It is
/// small: a little cache, small memtables.
pub(super) fn open(dir: &Path) -> Result<(Database, Keyspace, Arc<Sealer>)> {
    let db = Database::builder(dir.join("identities"))
        .cache_size(2 * 1024 * 1024)
        .max_journaling_size(64 * 1024 * 1024)
        // One worker, as for the statement store (see `sealing.rs`).
        .worker_threads(1)
        .open()
        .map_err(|e| match e {
            fjall::Error::Locked => StoreError::Locked(dir.to_path_buf()),
            other => other.into(),
        })?;
    let ks = db.keyspace("identities", || {
        KeyspaceCreateOptions::default().max_memtable_size(MEMTABLE_BYTES)
    })?;
    let sealer = Sealer::new(&db, &[(&ks, MEMTABLE_BYTES)])?;
    Ok((db, ks, sealer))
}

const MEMTABLE_BYTES: u64 = 1024 * 1024;

/// Milliseconds in a day: `last_seen_ms` is rewritten at most once a day.
const DAY_MS: i64 = 86_400_000;

impl Store {
    /// The secret key pseudonyms are computed with; created on first use and
    /// kept in the `meta` keyspace (so it travels in backups).
    pub fn pseudonym_key(&self) -> Result<Key> {
        let meta = &self.inner.ks.meta;
        let _guard = self
            .inner
            .identities_lock
            .lock()
            .map_err(|_| StoreError::Engine("identities lock poisoned".into()))?;
        if let Some(bytes) = meta.get(KEY_RECORD)? {
            let key = <[u8; 32]>::try_from(&bytes[..])
                .map_err(|_| StoreError::Corrupt("the pseudonym key is not 32 bytes".into()))?;
            return Ok(Key::new(key));
        }
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| StoreError::Engine(format!("random source: {e}")))?;
        self.inner.sealer.insert(meta, KEY_RECORD, key.to_vec())?;
        self.inner.db.persist(PersistMode::SyncAll)?;
        Ok(Key::new(key))
    }

    /// The store-wide pseudonymisation setting, when one was recorded.
    pub fn pseudonymisation(&self) -> Result<Option<bool>> {
        Ok(self
            .inner
            .ks
            .meta
            .get(SETTING_RECORD)?
            .map(|v| v.as_ref() == b"on"))
    }

    /// Applies the store-wide setting `requested` (or, when `None`, keeps
    /// the recorded one; a new store gets `default_for_new`, a store from
    /// before the setting existed that holds statements gets "off", as its
    /// statements were stored with real identifiers). Changing it once
    /// statements exist is refused. Answers the setting in force.
    pub fn settle_pseudonymisation(
        &self,
        requested: Option<bool>,
        default_for_new: bool,
    ) -> std::result::Result<bool, SettingError> {
        let has_statements = self.inner.ks.statements.first_key_value().is_some();
        let recorded = match self.pseudonymisation()? {
            Some(r) => Some(r),
            None if has_statements => Some(false),
            None => None,
        };
        let wanted = requested.or(recorded).unwrap_or(default_for_new);
        if let Some(recorded) = recorded
            && recorded != wanted
            && has_statements
        {
            return Err(SettingError::Changed { recorded });
        }
        if self.pseudonymisation()? != Some(wanted) {
            self.inner.sealer.insert(
                &self.inner.ks.meta,
                SETTING_RECORD,
                if wanted { "on" } else { "off" },
            )?;
            self.inner
                .db
                .persist(PersistMode::SyncAll)
                .map_err(StoreError::from)?;
        }
        Ok(wanted)
    }

    /// Records which identifiers and names pseudonyms replaced. Called
    /// before the statements are handed to the writer. Not durable until
    /// [`Store::sync_identities`], which the caller runs alongside the
    /// statements' group commit and waits for before answering (a learner
    /// seen before costs no write at all).
    pub fn record_identities(&self, seen: &[Seen]) -> Result<()> {
        if seen.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let day = now.div_euclid(DAY_MS);
        let ks = &self.inner.identities;
        let sealer = &self.inner.identities_sealer;
        let mut learned = false;
        let mut known = self
            .inner
            .identities_lock
            .lock()
            .map_err(|_| StoreError::Engine("identities lock poisoned".into()))?;
        let cache: &mut HashSet<(String, String, i64)> = &mut known;
        for s in seen {
            let fingerprint = format!("{}\u{1f}{}", s.ifi, s.name.as_deref().unwrap_or(""));
            let cache_key = (s.pseudonym.clone(), fingerprint, day);
            if cache.contains(&cache_key) {
                continue;
            }
            let mut record = match ks.get(s.pseudonym.as_bytes())? {
                Some(bytes) => decode(&s.pseudonym, &bytes)?,
                None => IdentityRecord {
                    pseudonym: s.pseudonym.clone(),
                    ifis: Vec::new(),
                    names: Vec::new(),
                    first_seen_ms: now,
                    last_seen_ms: now,
                },
            };
            let mut changed =
                record.ifis.is_empty() || record.last_seen_ms.div_euclid(DAY_MS) != day;
            if !record.ifis.contains(&s.ifi) {
                record.ifis.push(s.ifi.clone());
                changed = true;
                learned = true;
            }
            if let Some(name) = &s.name
                && !record.names.contains(name)
            {
                record.names.push(name.clone());
                changed = true;
                learned = true;
            }
            if changed {
                record.last_seen_ms = now;
                let bytes =
                    serde_json::to_vec(&record).map_err(|e| StoreError::Engine(e.to_string()))?;
                sealer.insert(ks, s.pseudonym.as_bytes(), bytes)?;
            }
            if cache.len() >= IDENTITY_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(cache_key);
        }
        if learned {
            self.inner.identities_written.fetch_add(1, Ordering::AcqRel);
        }
        Ok(())
    }

    /// True when identities recorded so far are not all durable yet, so a
    /// caller must [`Store::sync_identities`] before it answers. Cheap: the
    /// usual write (learners already known) needs no sync and need not
    /// leave its thread to find that out.
    pub fn identities_pending(&self) -> bool {
        let inner = &self.inner;
        inner.identities_synced.load(Ordering::Acquire)
            < inner.identities_written.load(Ordering::Acquire)
    }

    /// Makes every identity recorded so far durable. Concurrent callers
    /// share one sync (group commit): a caller whose records a sync that
    /// started after them already covered returns at once.
    pub fn sync_identities(&self) -> Result<()> {
        let inner = &self.inner;
        let target = inner.identities_written.load(Ordering::Acquire);
        if inner.identities_synced.load(Ordering::Acquire) >= target {
            return Ok(());
        }
        let _one_at_a_time = inner
            .identities_sync_lock
            .lock()
            .map_err(|_| StoreError::Engine("identities sync lock poisoned".into()))?;
        if inner.identities_synced.load(Ordering::Acquire) >= target {
            return Ok(());
        }
        // Everything recorded before this point is in the journal the sync
        // writes out.
        let covered = inner.identities_written.load(Ordering::Acquire);
        inner.identities_db.persist(PersistMode::SyncAll)?;
        inner.identities_synced.fetch_max(covered, Ordering::AcqRel);
        Ok(())
    }

    /// What is known about a pseudonym.
    pub fn identity(&self, pseudonym: &str) -> Result<Option<IdentityRecord>> {
        match self.inner.identities.get(pseudonym.as_bytes())? {
            None => Ok(None),
            Some(bytes) => decode(pseudonym, &bytes).map(Some),
        }
    }

    /// Every pseudonym's record, ordered by pseudonym (retention, reports).
    pub fn identities(&self) -> Result<Vec<IdentityRecord>> {
        let mut out = Vec::new();
        for row in self.inner.identities.iter() {
            let (k, v) = row.into_inner()?;
            out.push(decode(&String::from_utf8_lossy(&k), &v)?);
        }
        Ok(out)
    }

    /// Drops what is known about a pseudonym (its statements stay, and can
    /// no longer be re-identified); false when there was nothing. Durable
    /// when it returns.
    pub fn forget_identity(&self, pseudonym: &str) -> Result<bool> {
        let mut cache = self
            .inner
            .identities_lock
            .lock()
            .map_err(|_| StoreError::Engine("identities lock poisoned".into()))?;
        cache.retain(|(p, _, _)| p != pseudonym);
        if !self.inner.identities.contains_key(pseudonym.as_bytes())? {
            return Ok(false);
        }
        self.inner
            .identities_sealer
            .remove(&self.inner.identities, pseudonym.as_bytes())?;
        self.inner.identities_db.persist(PersistMode::SyncAll)?;
        Ok(true)
    }
}

/// Pseudonym records already up to date today, remembered so that the
/// common case (a learner seen before) costs no read.
pub(crate) type IdentityCache = HashSet<(String, String, i64)>;

const IDENTITY_CACHE_ENTRIES: usize = 100_000;

fn decode(pseudonym: &str, bytes: &[u8]) -> Result<IdentityRecord> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Corrupt(format!("identity record of {pseudonym}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seen(p: &str, ifi: Value, name: Option<&str>) -> Seen {
        Seen {
            pseudonym: p.into(),
            ifi,
            name: name.map(str::to_owned),
        }
    }

    #[test]
    fn the_key_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = {
            let store = Store::open(dir.path()).unwrap();
            store.pseudonym_key().unwrap().pseudonym_of("x")
        };
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.pseudonym_key().unwrap().pseudonym_of("x"), first);
    }

    #[test]
    fn identifiers_and_names_accumulate_per_pseudonym() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mbox = json!({"mbox": "mailto:ana@example.org"});
        let account = json!({"account": {"homePage": "https://lms.example", "name": "ana"}});
        store
            .record_identities(&[seen("p1", mbox.clone(), Some("Ana"))])
            .unwrap();
        store
            .record_identities(&[
                seen("p1", mbox.clone(), Some("Ana")),
                seen("p1", account.clone(), Some("Ana B.")),
            ])
            .unwrap();
        store.sync_identities().unwrap();
        // Nothing new: no sync needed, none done.
        store.sync_identities().unwrap();
        let r = store.identity("p1").unwrap().unwrap();
        assert_eq!(r.ifis, vec![mbox, account]);
        assert_eq!(r.names, vec!["Ana", "Ana B."]);
        assert_eq!(store.identities().unwrap().len(), 1);
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.identity("p1").unwrap().unwrap().names.len(), 2);
        assert!(store.forget_identity("p1").unwrap());
        assert!(store.identity("p1").unwrap().is_none());
        assert!(!store.forget_identity("p1").unwrap());
    }

    #[test]
    fn the_setting_is_fixed_once_statements_exist() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.pseudonymisation().unwrap(), None);
        assert!(store.settle_pseudonymisation(None, true).unwrap());
        // No statements yet: it may still change.
        assert!(!store.settle_pseudonymisation(Some(false), true).unwrap());
        assert!(!store.settle_pseudonymisation(None, true).unwrap());
        store
            .inner
            .ks
            .statements
            .insert(super::super::keys::seq_bytes(1), b"{}".to_vec())
            .unwrap();
        let err = store.settle_pseudonymisation(Some(true), true).unwrap_err();
        assert!(err.to_string().contains("before data arrives"), "{err}");
        assert!(!store.settle_pseudonymisation(Some(false), true).unwrap());
    }

    #[test]
    fn a_store_with_statements_from_before_the_setting_stays_without() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .inner
            .ks
            .statements
            .insert(super::super::keys::seq_bytes(1), b"{}".to_vec())
            .unwrap();
        assert!(!store.settle_pseudonymisation(None, true).unwrap());
        assert!(store.settle_pseudonymisation(Some(true), true).is_err());
    }
}
