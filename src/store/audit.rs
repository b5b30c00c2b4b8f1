//! The access audit log (issue "Learner data protection", part 5): an
//! append-only record of who (which credential) read, exported,
//! re-identified or deleted what, kept in its own keyspace (`audit`) under a
//! time-ordered seq. Nothing in kmh deletes an audit record; only a
//! learner named in a record's query is rewritten, by forgetting (the
//! placeholder) and identity retention (the pseudonym).
//!
//! Appending costs one insert into the journal, without a sync of its own:
//! records become durable with the next group commit of the statement
//! writer or the next [`Store::sync_audit`] (the server calls it every
//! second), so auditing adds no fsync to any request.

use std::sync::atomic::Ordering;

use fjall::PersistMode;
use serde::{Deserialize, Serialize};

use super::keys::{self, seq_bytes, seq_from};
use super::{Result, Store, StoreError, format_ms, now_ms};

/// What kind of access a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditAction {
    /// Statements, documents, agents or analytics read through the API.
    Read,
    /// A backup or an export of the store.
    Export,
    /// A pseudonym looked up to the learner's identity.
    Reidentify,
    /// Data deleted (a document, a learner forgotten, a retention prune).
    Delete,
}

impl AuditAction {
    pub const ALL: [AuditAction; 4] = [
        AuditAction::Read,
        AuditAction::Export,
        AuditAction::Reidentify,
        AuditAction::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Read => "read",
            AuditAction::Export => "export",
            AuditAction::Reidentify => "reidentify",
            AuditAction::Delete => "delete",
        }
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for AuditAction {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        AuditAction::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                format!("unknown audit action {s:?}; known: read, export, reidentify, delete")
            })
    }
}

/// One access, as the caller describes it. Must hold no secret and no
/// learner identifier in clear beyond what the request itself named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The credential key, `admin` for the server's admin token, or
    /// `kmh <command>` for a command working on the store directly.
    pub credential: String,
    pub action: AuditAction,
    /// What was accessed, e.g. `GET /xapi/statements` or `forget`.
    pub resource: String,
    /// The filters: the query string, or the command's options.
    #[serde(default)]
    pub query: String,
    /// Rows returned, exported or deleted, when known.
    #[serde(default)]
    pub rows: Option<u64>,
    /// The HTTP status answered (0 for commands run on the store directly).
    #[serde(default)]
    pub status: u16,
}

/// A stored audit record: the entry with its seq and time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: u64,
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// Which audit records to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Unix ms, exclusive.
    pub since_ms: Option<i64>,
    /// Unix ms, inclusive.
    pub until_ms: Option<i64>,
    pub credential: Option<String>,
    pub action: Option<AuditAction>,
}

impl Store {
    /// Appends an audit record. Never fails the caller's request for lack
    /// of a sync: see the module documentation for durability.
    pub fn audit(&self, entry: &AuditEntry) -> Result<()> {
        let now = now_ms();
        let floor = keys::millis_seq(now);
        let seq = self
            .inner
            .audit_seq
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |last| {
                Some(floor.max(last + 1))
            })
            .map(|last| floor.max(last + 1))
            .unwrap_or(floor);
        let bytes = serde_json::to_vec(entry).map_err(|e| StoreError::Engine(e.to_string()))?;
        self.inner
            .sealer
            .insert(&self.inner.ks.audit, seq_bytes(seq), bytes)?;
        self.inner.audit_dirty.store(true, Ordering::Release);
        Ok(())
    }

    /// Makes every audit record appended so far durable (a no-op when
    /// nothing was appended since the last call).
    pub fn sync_audit(&self) -> Result<()> {
        if self.inner.audit_dirty.swap(false, Ordering::AcqRel) {
            self.inner.db.persist(PersistMode::SyncAll)?;
        }
        Ok(())
    }

    /// The audit records matching `filter`, oldest first.
    pub fn audit_records(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
        let (lo, hi) = super::seq_bounds(filter.since_ms, filter.until_ms);
        let mut out = Vec::new();
        for row in self.inner.ks.audit.range(seq_bytes(lo)..=seq_bytes(hi)) {
            let (k, v) = row.into_inner()?;
            let seq = seq_from(&k).ok_or_else(|| StoreError::Corrupt("audit key".into()))?;
            let entry: AuditEntry = serde_json::from_slice(&v)
                .map_err(|e| StoreError::Corrupt(format!("audit record {seq}: {e}")))?;
            if filter
                .credential
                .as_ref()
                .is_some_and(|c| *c != entry.credential)
                || filter.action.is_some_and(|a| a != entry.action)
            {
                continue;
            }
            out.push(AuditRecord {
                seq,
                time: format_ms(keys::seq_millis(seq)),
                entry,
            });
        }
        Ok(out)
    }
}

/// The last audit seq in the store, so that new records sort after it.
pub(super) fn last_audit_seq(ks: &fjall::Keyspace) -> Result<u64> {
    Ok(ks
        .last_key_value()
        .map(|g| g.key().map(|k| seq_from(&k).unwrap_or(0)))
        .transpose()?
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(credential: &str, action: AuditAction) -> AuditEntry {
        AuditEntry {
            credential: credential.into(),
            action,
            resource: "GET /xapi/statements".into(),
            query: "verb=x".into(),
            rows: Some(3),
            status: 200,
        }
    }

    #[test]
    fn records_are_ordered_filtered_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.audit(&entry("a", AuditAction::Read)).unwrap();
            store.audit(&entry("b", AuditAction::Export)).unwrap();
            store.sync_audit().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        store.audit(&entry("a", AuditAction::Reidentify)).unwrap();
        let all = store.audit_records(&AuditFilter::default()).unwrap();
        assert_eq!(all.len(), 3);
        assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(all[2].entry.action, AuditAction::Reidentify);
        let only_a = AuditFilter {
            credential: Some("a".into()),
            ..AuditFilter::default()
        };
        assert_eq!(store.audit_records(&only_a).unwrap().len(), 2);
        let exports = AuditFilter {
            action: Some(AuditAction::Export),
            ..AuditFilter::default()
        };
        assert_eq!(
            store.audit_records(&exports).unwrap()[0].entry.credential,
            "b"
        );
        let future = AuditFilter {
            since_ms: Some(now_ms() + 60_000),
            ..AuditFilter::default()
        };
        assert!(store.audit_records(&future).unwrap().is_empty());
    }

    #[test]
    fn actions_parse_and_name_the_known_ones() {
        assert_eq!("export".parse::<AuditAction>(), Ok(AuditAction::Export));
        let err = "write".parse::<AuditAction>().unwrap_err();
        assert!(err.contains("write") && err.contains("reidentify"));
    }
}
