//! Storage of the analytics read models ([`crate::analytics`]): keyspace
//! `analytics` holds one row per learner × course, per learner × module and
//! per learner × question (the encoding is the analytics module's; this
//! file only moves bytes). The writer stages the rows a group commit
//! changes into the same batch as its statements; on first use the rows
//! are loaded into memory, or rebuilt from the statements when they were
//! written by other rules (`meta` record `analytics_version`).

use std::sync::RwLock;

use fjall::PersistMode;
use serde_json::Value;
use uuid::Uuid;

use super::keys::seq_from;
use super::query::Query;
use super::sealing::Batch;
use super::{Result, Store, StoreError};
use crate::analytics::{self, Group, LmsCountries, RowReader, State, StatementSource};

const VERSION_KEY: &str = "analytics_version";
const SALT_KEY: &str = "analytics_salt";
const LMS_COUNTRIES_KEY: &str = "lms_countries";
/// Rows per batch when rebuilding.
const REBUILD_CHUNK: usize = 20_000;

impl Store {
    /// The read models, loaded on first use (or rebuilt from the
    /// statements when stored by older rules).
    pub fn analytics(&self) -> Result<&RwLock<State>> {
        if let Some(state) = self.inner.analytics.get() {
            return Ok(state);
        }
        let _init = self
            .inner
            .analytics_init
            .lock()
            .map_err(|_| StoreError::Engine("analytics init lock poisoned".into()))?;
        if let Some(state) = self.inner.analytics.get() {
            return Ok(state);
        }
        let state = self.load_analytics()?;
        let _ = self.inner.analytics.set(RwLock::new(state));
        self.inner
            .analytics
            .get()
            .ok_or_else(|| StoreError::Engine("analytics state missing".into()))
    }

    /// The projection of one group commit (see [`super::writer`]).
    pub(crate) fn analytics_group(&self) -> Result<Group<'_>> {
        Ok(Group::new(self.analytics()?))
    }

    /// Rebuilds the read models from every statement that is not voided
    /// (`kmh reindex`). Returns the number of learner × course enrolments.
    /// Must not run while a writer is committing to this store.
    pub fn rebuild_analytics(&self) -> Result<usize> {
        let salt = self.analytics_salt()?;
        let state = self.rebuild_state(salt)?;
        let n = state.len();
        match self.inner.analytics.get() {
            Some(lock) => {
                if let Ok(mut current) = lock.write() {
                    *current = state;
                }
            }
            None => {
                let _ = self.inner.analytics.set(RwLock::new(state));
            }
        }
        Ok(n)
    }

    /// The countries of the partner LMSs kept in the data folder
    /// ([`crate::analytics::lms`]).
    pub fn lms_countries(&self) -> Result<LmsCountries> {
        match self.inner.ks.meta.get(LMS_COUNTRIES_KEY)? {
            None => Ok(LmsCountries::default()),
            Some(bytes) => LmsCountries::from_json(&bytes).map_err(StoreError::Corrupt),
        }
    }

    /// Keeps `lms` as the countries of the partner LMSs and counts every
    /// learner already stored by it (the read models keep each learner's
    /// LMS, not its country, so nothing needs rebuilding).
    pub fn set_lms_countries(&self, lms: &LmsCountries) -> Result<()> {
        self.inner
            .sealer
            .insert(&self.inner.ks.meta, LMS_COUNTRIES_KEY, lms.to_json())?;
        self.inner.db.persist(PersistMode::SyncAll)?;
        if let Some(lock) = self.inner.analytics.get() {
            let mut state = lock
                .write()
                .map_err(|_| StoreError::Engine("analytics lock poisoned".into()))?;
            state.set_lms_countries(lms.clone());
        }
        Ok(())
    }

    /// Puts the read models back to what is on disk. The writer publishes a
    /// group's analytics before the commit thread writes it; when that
    /// write fails, this drops what it had published.
    pub(super) fn reload_analytics(&self) -> Result<()> {
        let Some(lock) = self.inner.analytics.get() else {
            return Ok(());
        };
        let state = self.load_analytics()?;
        if let Ok(mut current) = lock.write() {
            *current = state;
        }
        Ok(())
    }

    fn load_analytics(&self) -> Result<State> {
        let salt = self.analytics_salt()?;
        let ks = &self.inner.ks;
        let current = ks.meta.get(VERSION_KEY)?;
        if current.as_deref() != Some(analytics::VERSION.to_string().as_bytes()) {
            if self.last_seq() > 0 {
                tracing::warn!("analytics: building the read models from the statements");
            }
            return self.rebuild_state(salt);
        }
        let mut state = State::new(salt);
        let mut loaded = Vec::new();
        let failed = {
            let mut intern = |s: &str| state.intern(s);
            let pid = |s: &str| analytics::pseudonym(&salt, s);
            let mut reader = RowReader::new(&mut intern, &pid);
            let mut failed = None;
            for row in ks.analytics.iter() {
                let (key, value) = row.into_inner()?;
                match reader.push(&key, &value) {
                    Ok(Some(done)) => loaded.push(done),
                    Ok(None) => {}
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            if failed.is_none() {
                loaded.extend(reader.finish());
            }
            failed
        };
        if let Some(e) = failed {
            tracing::error!("analytics: {e}; rebuilding the read models from the statements");
            return self.rebuild_state(salt);
        }
        for (key, e) in loaded {
            state.insert(key, e);
        }
        state.set_lms_countries(self.lms_countries()?);
        state.refresh_catalogs();
        Ok(state)
    }

    /// Folds every statement into a fresh state and replaces the stored rows.
    fn rebuild_state(&self, salt: [u8; 16]) -> Result<State> {
        let ks = &self.inner.ks;
        // Until the new rows are complete the store is marked as needing a
        // rebuild, so a crash half-way rebuilds again on the next start.
        self.inner.sealer.remove(&ks.meta, VERSION_KEY)?;
        self.inner.db.persist(PersistMode::SyncAll)?;

        let mut state = State::new(salt);
        for row in ks.statements.iter() {
            let (key, json) = row.into_inner()?;
            let seq = seq_from(&key).ok_or_else(|| StoreError::Corrupt("statement key".into()))?;
            if self.is_voided(seq) {
                continue;
            }
            let statement: Value = serde_json::from_slice(&json)
                .map_err(|e| StoreError::Corrupt(format!("statement seq {seq}: {e}")))?;
            state.fold(&statement);
        }
        state.fill_homes(&|l| self.learner_home(l));
        state.set_lms_countries(self.lms_countries()?);
        state.refresh_catalogs();

        ks.analytics.clear()?;
        let mut rows = Vec::new();
        for e in state.select(|_| true) {
            analytics::all_rows(&e, &mut rows);
            if rows.len() >= REBUILD_CHUNK {
                self.write_rows(std::mem::take(&mut rows))?;
            }
        }
        self.write_rows(rows)?;
        self.inner
            .sealer
            .insert(&ks.meta, VERSION_KEY, analytics::VERSION.to_string())?;
        self.inner.db.persist(PersistMode::SyncAll)?;
        Ok(state)
    }

    fn write_rows(&self, rows: Vec<analytics::RowChange>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut batch = self.inner.sealer.batch();
        stage_rows(self, &mut batch, rows);
        batch.commit()?;
        Ok(())
    }

    /// The secret that makes learner pseudonyms unguessable; created once
    /// per data folder.
    fn analytics_salt(&self) -> Result<[u8; 16]> {
        let meta = &self.inner.ks.meta;
        if let Some(bytes) = meta.get(SALT_KEY)?
            && let Ok(salt) = <[u8; 16]>::try_from(&bytes[..])
        {
            return Ok(salt);
        }
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt)
            .map_err(|e| StoreError::Engine(format!("random source: {e}")))?;
        self.inner.sealer.insert(meta, SALT_KEY, salt.to_vec())?;
        self.inner.db.persist(PersistMode::SyncAll)?;
        Ok(salt)
    }
}

/// Adds row changes to a write batch.
fn stage_rows(store: &Store, batch: &mut Batch, rows: Vec<analytics::RowChange>) {
    let ks = &store.inner.ks.analytics;
    for (key, value) in rows {
        match value {
            Some(v) => batch.insert(ks, key, v),
            None => batch.remove(ks, key),
        }
    }
}

/// Adds the rows a group changed to its batch (the writer calls this just
/// before committing).
pub(super) fn stage_group(store: &Store, batch: &mut Batch, group: &mut Group<'_>) -> Result<()> {
    let rows = group.finish(store).map_err(StoreError::Engine)?;
    stage_rows(store, batch, rows);
    Ok(())
}

impl StatementSource for Store {
    fn statement(&self, id: Uuid) -> std::result::Result<Option<(u64, Value, bool)>, String> {
        let Some(found) = self.statement_by_id(id).map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        let json = serde_json::from_slice(&found.json).map_err(|e| e.to_string())?;
        Ok(Some((found.seq, json, found.voided)))
    }

    fn statements_of_actor(
        &self,
        identity: &str,
    ) -> std::result::Result<Vec<(u64, Value)>, String> {
        let mut out = Vec::new();
        let mut min_seq = 0;
        loop {
            let page = self
                .query(&Query {
                    agent: Some(identity.to_owned()),
                    min_seq,
                    max_seq: u64::MAX,
                    ascending: true,
                    limit: 1000,
                    ..Query::default()
                })
                .map_err(|e| e.to_string())?;
            for s in &page.statements {
                let json: Value = serde_json::from_slice(&s.json).map_err(|e| e.to_string())?;
                // Related-agent rows are skipped by the query; keep only
                // statements this learner is the actor of.
                if json
                    .get("actor")
                    .and_then(crate::xapi::ifi::identity)
                    .as_deref()
                    == Some(identity)
                {
                    out.push((s.seq, json));
                }
            }
            match page.statements.last() {
                Some(last) if page.more => min_seq = last.seq + 1,
                _ => break,
            }
        }
        Ok(out)
    }

    fn learner_home(&self, identity: &str) -> Option<String> {
        analytics::lms::home_of_identity(identity, |pseudonym| match self.identity(pseudonym) {
            Ok(Some(record)) => record.ifis,
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::warn!("analytics: the identifiers of pseudonym {pseudonym}: {e}");
                Vec::new()
            }
        })
    }
}

impl crate::analytics::indicators::Definitions for Store {
    fn definition(&self, iri: &str) -> Option<Value> {
        self.activity_definition(iri).ok().flatten()
    }

    fn reidentify(&self, identity: &str) -> Option<(String, Option<String>)> {
        let prefix = format!("account:{}\u{1f}", crate::xapi::pseudonym::HOME_PAGE);
        let record = self.identity(identity.strip_prefix(&prefix)?).ok()??;
        let shown = record.ifis.first().map(|ifi| {
            let identity = crate::xapi::ifi::identity(ifi).unwrap_or_default();
            crate::analytics::indicators::display_identity(&identity)
        })?;
        Some((shown, record.names.last().cloned()))
    }
}
