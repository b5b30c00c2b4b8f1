//! Retention (storage limitation): statements older than a number of
//! days, by their `stored` time, are deleted; pseudonym mappings not seen
//! for a number of days are dropped, so that the statements stored under
//! those pseudonyms stay (for impact evaluation) but can no longer be
//! traced back to the learner; statements older than that number of days
//! that still hold real identifiers are pseudonymised (`rekey.rs`).
//!
//! Deleted records stay in the engine's files until [`Store::purge`]
//! pushes them out, which every caller does after a run that deleted
//! something ([`PruneReport::purge_needed`]).
//!
//! The analytics read models keep the figures of deleted statements: they
//! hold aggregates per learner and course (under pseudonym in every view),
//! which is what evaluating a programme over years needs. `kmh reindex`
//! recomputes them from the statements that remain.

use std::collections::{BTreeSet, HashSet};

use fjall::PersistMode;
use serde_json::Value;

use super::audit::{AuditAction, AuditEntry};
use super::forget::Change;
use super::keys::{millis_seq, seq_from};
use super::{Result, Store, StoreError};

const DAY_MS: i64 = 86_400_000;
/// Statements deleted per atomic batch: each batch removes whole
/// statements with all their rows, and bounds the memory a prune takes.
const CHUNK: usize = 5_000;

/// What is kept, in days; `None` keeps forever.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Retention {
    pub statements_days: Option<u32>,
    pub identities_days: Option<u32>,
}

/// What a prune did, or would do (dry run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PruneReport {
    pub statements_deleted: u64,
    pub attachments: u64,
    pub identities_dropped: u64,
    /// Statements older than the identities' days whose real identifiers
    /// were replaced by pseudonyms.
    #[serde(default)]
    pub statements_pseudonymised: u64,
    /// Audit records as old whose queries named someone by a real
    /// identifier, now by pseudonym.
    #[serde(default)]
    pub audit_records_pseudonymised: u64,
    pub dry_run: bool,
}

impl PruneReport {
    /// What [`Store::purge`] must do after this run so that what it deleted
    /// leaves the files: `None` when it deleted nothing (or was a dry run),
    /// else whether the identities database changed too.
    pub fn purge_needed(&self) -> Option<bool> {
        let statements = self.statements_deleted + self.attachments + self.statements_pseudonymised;
        let identities = self.identities_dropped > 0;
        (!self.dry_run && (statements > 0 || identities)).then_some(identities)
    }
}

impl Store {
    /// Applies `policy` as of `now_ms` and records it in the audit log as
    /// done `by`. Must run on the writer thread
    /// ([`super::Writer::exclusive`]). Deleted bytes stay in the files until
    /// [`Store::purge`] runs, as [`PruneReport::purge_needed`] says.
    pub fn prune(
        &self,
        policy: Retention,
        now_ms: i64,
        dry_run: bool,
        by: &str,
    ) -> Result<PruneReport> {
        let mut report = PruneReport {
            dry_run,
            ..PruneReport::default()
        };
        // Identifiers first: a statement old enough for both is re-keyed
        // before it goes, so its figures stay with the pseudonym.
        if let Some(days) = policy.identities_days {
            let cutoff = now_ms.saturating_sub(i64::from(days) * DAY_MS);
            report.statements_pseudonymised =
                self.pseudonymise_before(millis_seq(cutoff), dry_run)?;
            report.audit_records_pseudonymised =
                self.pseudonymise_audit_before(millis_seq(cutoff), dry_run)?;
        }
        if let Some(days) = policy.statements_days {
            let cutoff = now_ms.saturating_sub(i64::from(days) * DAY_MS);
            self.prune_statements(millis_seq(cutoff), dry_run, &mut report)?;
        }
        if let Some(days) = policy.identities_days {
            let cutoff = now_ms.saturating_sub(i64::from(days) * DAY_MS);
            for record in self.identities()? {
                if record.last_seen_ms < cutoff {
                    report.identities_dropped += 1;
                    if !dry_run {
                        self.forget_identity(&record.pseudonym)?;
                    }
                }
            }
        }
        let days = |d: Option<u32>| d.map_or("forever".to_owned(), |d| d.to_string());
        self.audit(&AuditEntry {
            credential: by.to_owned(),
            action: if dry_run {
                AuditAction::Read
            } else {
                AuditAction::Delete
            },
            resource: if dry_run { "prune (dry run)" } else { "prune" }.into(),
            query: format!(
                "retain_statements_days={}&retain_identities_days={}",
                days(policy.statements_days),
                days(policy.identities_days)
            ),
            rows: Some(
                report.statements_deleted
                    + report.identities_dropped
                    + report.statements_pseudonymised,
            ),
            status: 0,
        })?;
        self.sync_audit()?;
        Ok(report)
    }

    /// Deletes every statement stored before `below` (a seq), in chunks.
    fn prune_statements(&self, below: u64, dry_run: bool, report: &mut PruneReport) -> Result<()> {
        let ks = &self.inner.ks;
        let mut attachments = BTreeSet::new();
        let mut deleted: HashSet<u64> = HashSet::new();
        loop {
            let mut changes: Vec<Change> = Vec::new();
            let mut chunk = Vec::new();
            let from = deleted.iter().max().map_or(0, |m| m + 1);
            for row in ks
                .statements
                .range(super::keys::seq_bytes(from)..super::keys::seq_bytes(below))
            {
                let (key, bytes) = row.into_inner()?;
                let seq =
                    seq_from(&key).ok_or_else(|| StoreError::Corrupt("statement key".into()))?;
                let json: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| StoreError::Corrupt(format!("statement seq {seq}: {e}")))?;
                // A voiding statement's mark on its target stays when the
                // target is younger: the target stays voided.
                self.stage_removal(seq, &json, false, &mut changes, &mut attachments)?;
                chunk.push(seq);
                if chunk.len() >= CHUNK {
                    break;
                }
            }
            if chunk.is_empty() {
                break;
            }
            report.statements_deleted += chunk.len() as u64;
            if !dry_run {
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
                batch.commit()?;
                if let Ok(mut set) = self.inner.voided.write() {
                    for seq in &chunk {
                        set.remove(seq);
                    }
                }
            }
            deleted.extend(chunk);
        }
        if attachments.is_empty() {
            return Ok(());
        }
        let unused = self.unreferenced_attachments(attachments, &deleted)?;
        let mut batch = self
            .inner
            .sealer
            .batch()
            .durability(Some(PersistMode::SyncAll));
        for sha2 in unused {
            if ks.attachments.contains_key(sha2.as_bytes())? {
                report.attachments += 1;
                batch.remove(&ks.attachments, sha2.into_bytes());
            }
        }
        if !dry_run {
            batch.commit()?;
        }
        Ok(())
    }
}
