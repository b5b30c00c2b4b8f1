//! Identity retention for statements stored under real identifiers (by a
//! credential or a store that does not pseudonymise): once a statement is
//! older than the policy's days, every learner it names (all agents but its
//! authority, as at ingest) is replaced by the keyed pseudonym ingest would
//! have given them ([`crate::xapi::pseudonym`]), and their names dropped.
//! No mapping back is recorded: the point is that the statement can no
//! longer be traced to a person.
//!
//! With the statement go: its agent index rows (and those a statement
//! voiding it inherited from it), the `agents` names record of an
//! identifier no statement uses any more, and the analytics read models,
//! which move the statement's figures to the pseudonym (see
//! [`crate::analytics::Group::rekey`]) in the same atomic batch, so the
//! figures stay right without a `kmh reindex`. A `meta` record keeps the
//! seq below which this is done, so a daily run reads only the statements
//! that aged since the last one (seqs grow with `stored`). Audit records
//! older than the same days that name someone by a real identifier in
//! their query get the pseudonym instead (as forgetting does with the
//! placeholder), with a mark of their own.

use std::collections::{BTreeSet, HashMap, HashSet};

use fjall::PersistMode;
use serde_json::Value;
use uuid::Uuid;

use super::forget::Change;
use super::keys::{index_digest, index_key, seq_bytes, seq_from};
use super::prepare::{IndexRows, authorities};
use super::{Result, Store, StoreError};
use crate::xapi::ifi;
use crate::xapi::keys::{IndexKeys, statement_ref_target};
use crate::xapi::pseudonym::{self, Key};

/// `meta` record: every statement below this seq has been pseudonymised.
const DONE_BELOW: &str = "identities_retained_below";
/// `meta` record: the same for audit records (their seqs are times too).
const AUDIT_DONE_BELOW: &str = "audit_identities_retained_below";
/// Statements re-keyed per atomic batch.
const CHUNK: usize = 2_000;

/// A statement of the current chunk: before and after.
struct Rekeyed {
    seq: u64,
    old: Value,
    new: Value,
    /// Identities of the real identifiers it no longer holds.
    replaced: Vec<String>,
}

impl Store {
    /// Pseudonymises every statement stored before `below` (a seq) that
    /// still names someone by a real identifier; answers how many (would
    /// be) changed. Runs on the writer thread (it is part of
    /// [`Store::prune`]).
    pub(super) fn pseudonymise_before(&self, below: u64, dry_run: bool) -> Result<u64> {
        let ks = &self.inner.ks;
        let key = self.pseudonym_key()?;
        let done_below = match ks.meta.get(DONE_BELOW)? {
            Some(v) => seq_from(&v).unwrap_or(0),
            None => 0,
        };
        let mut from = done_below;
        let mut count = 0;
        while from < below {
            let mut chunk = Vec::new();
            for row in ks.statements.range(seq_bytes(from)..seq_bytes(below)) {
                let (k, bytes) = row.into_inner()?;
                let seq =
                    seq_from(&k).ok_or_else(|| StoreError::Corrupt("statement key".into()))?;
                from = seq + 1;
                let old: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| StoreError::Corrupt(format!("statement seq {seq}: {e}")))?;
                if let Some(r) = rekeyed(&key, seq, old) {
                    chunk.push(r);
                    if chunk.len() >= CHUNK {
                        break;
                    }
                }
            }
            if chunk.is_empty() {
                break;
            }
            count += chunk.len() as u64;
            if !dry_run {
                self.commit_rekeyed(chunk)?;
            }
        }
        // (A policy of more days than before leaves the mark where it is.)
        if !dry_run && below > done_below {
            self.inner
                .sealer
                .insert(&ks.meta, DONE_BELOW, seq_bytes(below).to_vec())?;
            self.inner.db.persist(PersistMode::SyncAll)?;
        }
        Ok(count)
    }

    /// Replaces, in the queries of audit records made before `below` (a
    /// seq of the same clock as statements'), every `agent` that names
    /// someone by a real identifier by their pseudonym; answers how many
    /// records (would) change. Who read, when, what and how many rows stay.
    pub(super) fn pseudonymise_audit_before(&self, below: u64, dry_run: bool) -> Result<u64> {
        let ks = &self.inner.ks;
        let key = self.pseudonym_key()?;
        let done_below = match ks.meta.get(AUDIT_DONE_BELOW)? {
            Some(v) => seq_from(&v).unwrap_or(0),
            None => 0,
        };
        let mut count = 0;
        let mut batch = self
            .inner
            .sealer
            .batch()
            .durability(Some(PersistMode::SyncAll));
        for row in ks
            .audit
            .range(seq_bytes(done_below)..seq_bytes(below.max(done_below)))
        {
            let (k, value) = row.into_inner()?;
            let Ok(mut entry) = serde_json::from_slice::<super::AuditEntry>(&value) else {
                continue;
            };
            let Some(query) = pseudonymise_query(&key, &entry.query) else {
                continue;
            };
            count += 1;
            entry.query = query;
            let bytes =
                serde_json::to_vec(&entry).map_err(|e| StoreError::Engine(e.to_string()))?;
            batch.insert(&ks.audit, k.to_vec(), bytes);
        }
        if !dry_run && below > done_below {
            batch.insert(
                &ks.meta,
                AUDIT_DONE_BELOW.as_bytes().to_vec(),
                seq_bytes(below).to_vec(),
            );
            batch.commit()?;
        }
        Ok(count)
    }

    /// Rewrites one chunk and everything that follows from it in one
    /// atomic batch.
    fn commit_rekeyed(&self, chunk: Vec<Rekeyed>) -> Result<()> {
        let ks = &self.inner.ks;
        let mut changes: Vec<Change> = Vec::new();
        let overrides: HashMap<Uuid, &Value> = chunk
            .iter()
            .filter_map(|r| Some((statement_id(&r.new)?, &r.new)))
            .collect();
        let in_chunk: HashSet<u64> = chunk.iter().map(|r| r.seq).collect();
        let mut removed: HashSet<Vec<u8>> = HashSet::new();
        let mut replaced: BTreeSet<String> = BTreeSet::new();
        let analytics = self.analytics()?;
        let mut group = crate::analytics::Group::new(analytics);

        for r in &chunk {
            let bytes =
                serde_json::to_vec(&r.new).map_err(|e| StoreError::Engine(e.to_string()))?;
            changes.push(Change::Put(
                &ks.statements,
                seq_bytes(r.seq).to_vec(),
                bytes,
            ));
            let before = self.agent_rows(r.seq, &r.old, &HashMap::new())?;
            let after = self.agent_rows(r.seq, &r.new, &overrides)?;
            stage_row_changes(self, before, after, &mut changes, &mut removed);
            replaced.extend(r.replaced.iter().cloned());

            // A statement voiding it inherited its agent rows.
            if let Some(id) = statement_id(&r.old)
                && let Some(v) = ks.voided.get(id.as_bytes())?
                && let Some(voider_seq) = seq_from(&v)
                && !in_chunk.contains(&voider_seq)
                && let Some(bytes) = ks.statements.get(seq_bytes(voider_seq))?
            {
                let voider: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| StoreError::Corrupt(format!("statement seq {voider_seq}: {e}")))?;
                let before = self.agent_rows(voider_seq, &voider, &HashMap::new())?;
                let after = self.agent_rows(voider_seq, &voider, &overrides)?;
                stage_row_changes(self, before, after, &mut changes, &mut removed);
            }

            if !self.is_voided(r.seq)
                && let (Some(old), Some(new)) = (
                    crate::analytics::fact_of(&r.old),
                    crate::analytics::fact_of(&r.new),
                )
            {
                group.rekey(r.seq, old, new);
            }
        }

        // A real identifier no statement is indexed under any more loses
        // its names record.
        for identity in &replaced {
            let mut still_used = false;
            for row in ks.idx_agent.prefix(index_digest(identity)) {
                if !removed.contains(&row.key()?.to_vec()) {
                    still_used = true;
                    break;
                }
            }
            if !still_used {
                changes.push(Change::Remove(&ks.agents, identity.as_bytes().to_vec()));
            }
        }

        let rows = group.finish(self).map_err(StoreError::Engine)?;
        let mut batch = self
            .inner
            .sealer
            .batch()
            .durability(Some(PersistMode::SyncAll));
        for change in changes {
            match change {
                Change::Put(space, k, v) => batch.insert(space, k, v),
                Change::Remove(space, k) => batch.remove(space, k),
            }
        }
        for (k, v) in rows {
            match v {
                Some(v) => batch.insert(&ks.analytics, k, v),
                None => batch.remove(&ks.analytics, k),
            }
        }
        batch.commit()?;
        group.publish();
        Ok(())
    }

    /// The agent index rows (key, flags) a statement at `seq` has, with
    /// what it inherits from its target: taken from `overrides` when the
    /// target is being rewritten, else from the store.
    fn agent_rows(
        &self,
        seq: u64,
        json: &Value,
        overrides: &HashMap<Uuid, &Value>,
    ) -> Result<Vec<(Vec<u8>, u8)>> {
        let mut keys = IndexKeys::of(json);
        if let Some(target) = statement_ref_target(json).and_then(|t| Uuid::parse_str(t).ok()) {
            let inherited = match overrides.get(&target) {
                Some(t) => {
                    let mut k = IndexKeys::of(t);
                    if let Some(next) =
                        statement_ref_target(t).and_then(|n| Uuid::parse_str(n).ok())
                        && let Some(more) = super::writer::inherited_keys(self, next)?
                    {
                        k.inherit(&more);
                    }
                    Some(k)
                }
                None => super::writer::inherited_keys(self, target)?,
            };
            if let Some(inherited) = inherited {
                keys.inherit(&inherited);
            }
        }
        Ok(IndexRows::of(&keys, &authorities(json))
            .agents
            .into_iter()
            .map(|(d, flags)| (index_key(&d, seq).to_vec(), flags))
            .collect())
    }
}

/// Removes the agent rows that went, writes those that are new or changed.
fn stage_row_changes<'a>(
    store: &'a Store,
    before: Vec<(Vec<u8>, u8)>,
    after: Vec<(Vec<u8>, u8)>,
    changes: &mut Vec<Change<'a>>,
    removed: &mut HashSet<Vec<u8>>,
) {
    let space = &store.inner.ks.idx_agent;
    for (key, _) in &before {
        if !after.iter().any(|(k, _)| k == key) {
            removed.insert(key.clone());
            changes.push(Change::Remove(space, key.clone()));
        }
    }
    for (key, flags) in after {
        if !before.contains(&(key.clone(), flags)) {
            changes.push(Change::Put(space, key, vec![flags]));
        }
    }
}

/// The statement with every real identifier but its authority's replaced
/// by a pseudonym, when it had one.
fn rekeyed(key: &Key, seq: u64, old: Value) -> Option<Rekeyed> {
    let mut new = old.clone();
    let seen = pseudonym::pseudonymise_statement(key, new.as_object_mut()?);
    if seen.is_empty() {
        return None;
    }
    let replaced = seen.iter().filter_map(|s| ifi::identity(&s.ifi)).collect();
    Some(Rekeyed {
        seq,
        old,
        new,
        replaced,
    })
}

/// A query string with every `agent` parameter that names someone by a
/// real identifier replaced by their pseudonym agent; `None` when none does.
fn pseudonymise_query(key: &Key, query: &str) -> Option<String> {
    let pairs = form_urlencoded::parse(query.as_bytes());
    let mut changed = false;
    let rewritten: Vec<(String, String)> = pairs
        .map(|(k, v)| {
            if k == "agent"
                && let Ok(mut agent) = serde_json::from_str::<Value>(&v)
            {
                let mut seen = Vec::new();
                pseudonym::pseudonymise_agent(key, &mut agent, &mut seen);
                if !seen.is_empty() {
                    changed = true;
                    return (k.into_owned(), agent.to_string());
                }
            }
            (k.into_owned(), v.into_owned())
        })
        .collect();
    changed.then(|| {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(rewritten)
            .finish()
    })
}

fn statement_id(statement: &Value) -> Option<Uuid> {
    statement
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_queries_get_the_pseudonym_and_keep_the_rest() {
        let key = Key::new([7; 32]);
        let q = form_urlencoded::Serializer::new(String::new())
            .append_pair("agent", r#"{"name":"Ana","mbox":"mailto:ana@example.org"}"#)
            .append_pair("verb", "http://adlnet.gov/expapi/verbs/completed")
            .finish();
        let out = pseudonymise_query(&key, &q).unwrap();
        assert!(!out.contains("ana") && !out.contains("Ana"), "{out}");
        assert!(out.contains("verb=http"), "{out}");
        let p = pseudonym::pseudonym_of_agent(
            &key,
            &serde_json::json!({"mbox": "mailto:ana@example.org"}),
        )
        .unwrap();
        assert!(out.contains(&p), "{out}");
        // Already a pseudonym, or no agent: nothing to do.
        assert!(pseudonymise_query(&key, &out).is_none());
        assert!(pseudonymise_query(&key, "verb=x&since=2026-01-01").is_none());
    }
}
