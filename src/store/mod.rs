//! The embedded, durable store (fjall, an LSM tree; see DESIGN.md for why).
//! This is the only module that names the engine: the rest of kmh sees the
//! domain methods of [`Store`] and the group-commit [`Writer`].
//!
//! Keyspaces:
//! - `statements`: seq → statement JSON, as it is returned by `format=exact`
//! - `by_id`: statement UUID (16 bytes) → seq ++ fingerprint (20 bytes)
//! - `voided`: UUID of a voided statement → seq of the voiding statement
//! - `idx_agent`, `idx_activity`: index digest (12 bytes, see
//!   `keys::INDEX_DIGEST_LEN`) ++ seq → flags: 1 if direct (actor or
//!   object), 0 if related only; `idx_agent` adds 2 for the authority
//! - `idx_verb`, `idx_registration`: index digest ++ seq → ()
//! - `activities`: activity IRI → canonical definition (JSON)
//! - `agents`: agent identity → names seen for it (JSON array)
//! - `documents`: State, Activity Profile and Agent Profile documents
//! - `attachments`: SHA-256 (hex) → content type and raw attachment data
//! - `credentials`: key → credential record (JSON)
//! - `meta`: `schema_version`, the pseudonym key and setting, other
//!   store-wide records
//! - `analytics`: the read models of [`crate::analytics`] (see `analytics.rs`)
//! - `audit`: the access audit log, seq → record (see `audit.rs`)
//! - `forgotten`: UUIDs of statements deleted by forgetting a learner → ()
//!   (ids only): an LMS sending one again is answered as for a statement
//!   already stored, and nothing is stored (see `forget.rs`)
//!
//! The engine holds `by_id`, `voided` and `forgotten` under the names
//! `statement_id_lookup`, `voided_ids` and `forgotten_ids`, and the four
//! indexes as `agent_index`, `activity_index`, `verb_index` and
//! `registration_index` (see `migrate.rs`); backups use the names above.
//!
//! Apart from these, in a database of its own (`identities/` beside
//! `store/`, so that no byte of the statement store holds a learner's
//! original identifier once they are pseudonymised): `identities`,
//! pseudonym → the identifiers and names it replaced (see `identities.rs`).

mod analytics;
mod audit;
mod backup;
mod close;
mod commit;
mod credentials;
mod definitions;
mod documents;
mod forget;
mod identities;
mod index;
mod keys;
mod migrate;
mod prepare;
mod prune;
mod purge;
mod query;
mod rekey;
mod sealing;
mod writer;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use fjall::config::{BlockSizePolicy, CompressionPolicy, PinningPolicy};
use fjall::{CompressionType, Database, Keyspace, KeyspaceCreateOptions};
use uuid::Uuid;

pub use audit::{AuditAction, AuditEntry, AuditFilter, AuditRecord};
pub use backup::{DumpStats, ExportOptions, restore};
pub use credentials::CredentialRecord;
pub use documents::{DocScope, Document};
pub use forget::{ForgetReport, Mentions, identities_of};
pub use identities::{IdentityRecord, SettingError};
pub use prune::{PruneReport, Retention};
pub use query::{Page, Query};
pub use writer::{Appended, NewStatement, PreparedStatements, StoredAttachment, Writer};

/// The layout version of the data folder; bump it with a migration.
pub const SCHEMA_VERSION: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the data folder {0} is in use by another kmh process")]
    Locked(PathBuf),
    #[error(
        "the data folder has store layout version {found}; this kmh reads version {SCHEMA_VERSION}"
    )]
    SchemaVersion { found: String },
    #[error("storage failure: {0}")]
    Engine(String),
    /// The disk refused a write (full, file size limit, read-only). The
    /// engine then refuses every later write, to stay consistent, until the
    /// store is opened again.
    #[error(
        "the data folder refused a write ({0}); the store refuses writes until kmh serve is restarted with space available; reads go on"
    )]
    WriteRefused(String),
    #[error("stored record is damaged: {0}")]
    Corrupt(String),
    #[error("statement {0} already exists with different content")]
    Conflict(Uuid),
    #[error("the store is shutting down")]
    Closed,
    /// The data folder's file system has less free space than the reserve:
    /// writes are refused before the engine could fail on them.
    #[error(
        "the data folder's disk is almost full ({free_mib} MiB free, {reserve_mib} MiB kept in reserve); writes resume once space is freed; reads go on"
    )]
    DiskFull { free_mib: u64, reserve_mib: u64 },
    /// A request the store cannot carry out as asked (the message says why).
    #[error("{0}")]
    Invalid(String),
}

impl From<fjall::Error> for StoreError {
    fn from(e: fjall::Error) -> Self {
        // The I/O error, if any, behind the engine's own error types.
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        let mut io = None;
        while let Some(c) = cause {
            if let Some(found) = c.downcast_ref::<std::io::Error>() {
                io = Some(found);
                break;
            }
            cause = c.source();
        }
        if let Some(reason) = io.and_then(|io| refused_write(io.kind())) {
            return StoreError::WriteRefused(reason.into());
        }
        match e {
            // A write failed before (see above) and the engine stopped
            // taking any, which only reopening the store clears.
            fjall::Error::Poisoned => StoreError::WriteRefused("an earlier write failed".into()),
            other => StoreError::Engine(other.to_string()),
        }
    }
}

impl StoreError {
    /// The same error for another waiting request (errors are not `Clone`:
    /// an engine error keeps only its message).
    pub(crate) fn duplicate(&self) -> StoreError {
        match self {
            StoreError::WriteRefused(reason) => StoreError::WriteRefused(reason.clone()),
            StoreError::Closed => StoreError::Closed,
            other => StoreError::Engine(other.to_string()),
        }
    }

    /// [`StoreError::from`] for an engine error that is only borrowed.
    pub(crate) fn from_ref(e: &fjall::Error) -> StoreError {
        match e {
            fjall::Error::Io(io) => StoreError::from(fjall::Error::Io(std::io::Error::new(
                io.kind(),
                io.to_string(),
            ))),
            fjall::Error::Poisoned => StoreError::from(fjall::Error::Poisoned),
            other => StoreError::Engine(other.to_string()),
        }
    }
}

/// Why the disk refused a write, for the I/O errors that mean it.
fn refused_write(kind: std::io::ErrorKind) -> Option<&'static str> {
    use std::io::ErrorKind;
    match kind {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => Some("disk full"),
        ErrorKind::FileTooLarge => Some("file size limit reached"),
        ErrorKind::ReadOnlyFilesystem => Some("read-only file system"),
        ErrorKind::PermissionDenied => Some("permission denied"),
        _ => None,
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Sizes that keep a serving process small. The block cache keeps every
/// block read until others push it out, and loading the analytics read models reads
/// the whole `analytics` keyspace once: a cache of 32 MiB was full of those
/// blocks, never read again, beside the read models themselves (BENCHMARKS.md,
/// "Analytics", memory). 8 MiB keeps a server with the read models of 1.1 M
/// statements under 100 MiB, with the LRS's reads and writes as fast once
/// the id lookups' filters are pinned (see `Store::open`).
const CACHE_BYTES: u64 = 8 * 1024 * 1024;
const MEMTABLE_BYTES: u64 = 8 * 1024 * 1024;

/// Memtables of the keyspaces with hashed keys (`migrate::HASHED_KEYS`).
/// Their keys spread over the whole key space, so each merge of new tables
/// into the last level rewrites all of it: at a million statements, these
/// merges were most of the engine's work, and their number is set by how
/// much a memtable holds and how many tables a merge waits for (eight for
/// these keyspaces, four for the others). Both together made the engine's
/// CPU per statement at 1.15 M statements about the same as on an empty
/// store (BENCHMARKS.md, "Merges of the hashed keyspaces"). The memtables
/// are sealed at three quarters of these limits (`sealing.rs`).
const HASHED_MEMTABLE_BYTES: u64 = 16 * 1024 * 1024;

/// Writes pause this long before the memtables are sealed (`sealing.rs`).
const IDLE_BEFORE_SEALING: std::time::Duration = std::time::Duration::from_secs(60);

/// The journal the engine keeps before it flushes every memtable with rows
/// in its oldest file. At 64 MiB this flushed the index memtables about
/// every 20,000 statements of the bench, long before they were full, and
/// each flush brings the next merge closer (see `HASHED_MEMTABLE_BYTES`).
/// The price: up to this much disk for the journal, and as much to replay
/// after a crash at most.
const JOURNAL_BYTES: u64 = 256 * 1024 * 1024;

/// Whether the keyspace of this engine name is one with hashed keys.
fn is_hashed(name: &str) -> bool {
    migrate::HASHED_KEYS.iter().any(|(_, new)| *new == name)
}

/// The memtable limit the keyspace of this engine name was created with.
fn memtable_limit(name: &str) -> u64 {
    if is_hashed(name) {
        HASHED_MEMTABLE_BYTES
    } else {
        MEMTABLE_BYTES
    }
}

pub(crate) struct Keyspaces {
    pub statements: Keyspace,
    pub by_id: Keyspace,
    pub voided: Keyspace,
    pub idx_agent: Keyspace,
    pub idx_activity: Keyspace,
    pub idx_verb: Keyspace,
    pub idx_registration: Keyspace,
    pub activities: Keyspace,
    pub documents: Keyspace,
    pub attachments: Keyspace,
    pub agents: Keyspace,
    pub credentials: Keyspace,
    pub meta: Keyspace,
    pub analytics: Keyspace,
    pub audit: Keyspace,
    pub forgotten: Keyspace,
}

impl Keyspaces {
    /// Every keyspace with its name, in a fixed order (backups).
    fn named(&self) -> [(&'static str, &Keyspace); 16] {
        [
            ("statements", &self.statements),
            ("by_id", &self.by_id),
            ("voided", &self.voided),
            ("idx_agent", &self.idx_agent),
            ("idx_activity", &self.idx_activity),
            ("idx_verb", &self.idx_verb),
            ("idx_registration", &self.idx_registration),
            ("activities", &self.activities),
            ("documents", &self.documents),
            ("attachments", &self.attachments),
            ("agents", &self.agents),
            ("credentials", &self.credentials),
            ("meta", &self.meta),
            ("analytics", &self.analytics),
            ("audit", &self.audit),
            ("forgotten", &self.forgotten),
        ]
    }
}

/// A handle on the open store; clones share it.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    db: Database,
    ks: Keyspaces,
    /// The pseudonym mapping's own database and its one keyspace.
    identities_db: Database,
    identities: Keyspace,
    /// Every write of the two databases goes through these.
    sealer: Arc<sealing::Sealer>,
    identities_sealer: Arc<sealing::Sealer>,
    _idle_sealing: sealing::IdleSealing,
    path: PathBuf,
    /// Seqs of statements that are voided. Voiding is rare, so the set stays
    /// small and lets every query skip voided rows without a lookup.
    voided: RwLock<HashSet<u64>>,
    /// When each group handed to the commit thread and not yet committed
    /// started (Unix ms), oldest first: every statement stored before the
    /// oldest is readable.
    in_flight: std::sync::Mutex<std::collections::VecDeque<i64>>,
    /// The highest seq committed so far.
    last_seq: AtomicU64,
    /// Serialises document read-modify-writes (preconditions, merges).
    documents_lock: std::sync::Mutex<()>,
    /// One purge (journal retirement and full compaction) at a time.
    purge_lock: std::sync::Mutex<()>,
    /// Free bytes the data folder's file system must keep for writes to be
    /// taken, and when it was last found to have them (Unix ms).
    min_free_bytes: AtomicU64,
    room_checked_ms: std::sync::atomic::AtomicI64,
    /// The analytics read models in memory, loaded on first use.
    analytics: std::sync::OnceLock<RwLock<crate::analytics::State>>,
    analytics_init: std::sync::Mutex<()>,
    /// The activity definitions the store holds, as checking threads see
    /// them (only the writer changes them).
    known_definitions: Arc<definitions::KnownDefinitions>,
    /// Serialises updates of pseudonym records and remembers those already
    /// up to date today.
    identities_lock: std::sync::Mutex<identities::IdentityCache>,
    /// Group commit of the identities database: records written, records
    /// known durable, and the lock one sync at a time holds.
    identities_written: AtomicU64,
    identities_synced: AtomicU64,
    identities_sync_lock: std::sync::Mutex<()>,
    /// The last audit seq handed out, and whether records await a sync.
    audit_seq: AtomicU64,
    audit_dirty: std::sync::atomic::AtomicBool,
}

impl Store {
    /// Opens (or creates) the store in `dir`. Fails with
    /// [`StoreError::Locked`] when another process has it open.
    pub fn open(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Engine(format!("{}: {e}", dir.display())))?;
        let db = Database::builder(dir.join("store"))
            .cache_size(CACHE_BYTES)
            .max_journaling_size(JOURNAL_BYTES)
            // One background worker for flushes and compactions: the store
            // seals memtables itself, which keeps one worker from waiting on
            // itself forever (see `sealing.rs`).
            .worker_threads(1)
            .open()
            .map_err(|e| match e {
                fjall::Error::Locked => StoreError::Locked(dir.to_path_buf()),
                other => other.into(),
            })?;
        // LZ4 on every level (fjall leaves the first two uncompressed):
        // statements are JSON that compresses about 3:1, and most of a
        // young store sits in those levels. Larger blocks compress better.
        //
        // The keyspaces every write looks a statement id up in keep the
        // filter blocks of all their levels in memory (the engine pins only
        // the first level's by default). Otherwise, once the store is large
        // enough for these lookups to reach deeper levels, each one reads
        // its filter through the block cache, and a cache this small has
        // evicted it by then: a block read per lookup. At 1.15 M statements the
        // writer took 133 µs per statement instead of 15 (BENCHMARKS.md,
        // "Filters of the id lookups"). The cost is about 1.3 MB per million
        // statements.
        // The id lookups live under names of their own since layout 3: a
        // store of layout 2 created them with the default pinning, which
        // only a new keyspace can change (`migrate.rs` moves their rows).
        // The same goes for the memtables and merges of the keyspaces with
        // hashed keys (see `HASHED_MEMTABLE_BYTES`), new in layout 4.
        let open = |name: &str| -> Result<Keyspace> {
            let looked_up_per_write = migrate::ID_LOOKUPS
                .iter()
                .chain(&migrate::HASHED_KEYS[..1])
                .any(|(_, new)| *new == name);
            let merge_after = if is_hashed(name) { 8 } else { 4 };
            Ok(db.keyspace(name, || {
                KeyspaceCreateOptions::default()
                    .max_memtable_size(memtable_limit(name))
                    .compaction_strategy(Arc::new(
                        fjall::compaction::Leveled::default().with_l0_threshold(merge_after),
                    ))
                    .data_block_compression_policy(CompressionPolicy::all(CompressionType::Lz4))
                    .data_block_size_policy(BlockSizePolicy::all(16 * 1024))
                    .filter_block_pinning_policy(if looked_up_per_write {
                        PinningPolicy::all(true)
                    } else {
                        KeyspaceCreateOptions::default().filter_block_pinning_policy
                    })
            })?)
        };
        let ks = Keyspaces {
            statements: open("statements")?,
            by_id: open("statement_id_lookup")?,
            voided: open("voided_ids")?,
            idx_agent: open("agent_index")?,
            idx_activity: open("activity_index")?,
            idx_verb: open("verb_index")?,
            idx_registration: open("registration_index")?,
            activities: open("activities")?,
            documents: open("documents")?,
            attachments: open("attachments")?,
            agents: open("agents")?,
            credentials: open("credentials")?,
            meta: open("meta")?,
            analytics: open("analytics")?,
            audit: open("audit")?,
            forgotten: open("forgotten_ids")?,
        };
        check_schema_version(&db, &ks)?;
        let limits = ks.named().map(|(_, k)| (k, memtable_limit(k.name())));
        let sealer = sealing::Sealer::new(&db, &limits)?;
        let voided = load_voided(&ks)?;
        let last_seq = ks
            .statements
            .last_key_value()
            .map(|g| g.key().map(|k| keys::seq_from(&k).unwrap_or(0)))
            .transpose()?
            .unwrap_or(0);
        let audit_seq = audit::last_audit_seq(&ks.audit)?;
        let (identities_db, identities, identities_sealer) = identities::open(dir)?;
        let idle_sealing =
            sealing::IdleSealing::start(&[&sealer, &identities_sealer], IDLE_BEFORE_SEALING);
        let store = Store {
            inner: Arc::new(Inner {
                db,
                ks,
                identities_db,
                identities,
                sealer,
                identities_sealer,
                _idle_sealing: idle_sealing,
                path: dir.to_path_buf(),
                voided: RwLock::new(voided),
                in_flight: std::sync::Mutex::new(std::collections::VecDeque::new()),
                last_seq: AtomicU64::new(last_seq),
                documents_lock: std::sync::Mutex::new(()),
                purge_lock: std::sync::Mutex::new(()),
                min_free_bytes: AtomicU64::new(DEFAULT_MIN_FREE_BYTES),
                room_checked_ms: std::sync::atomic::AtomicI64::new(i64::MIN),
                analytics: std::sync::OnceLock::new(),
                analytics_init: std::sync::Mutex::new(()),
                known_definitions: Arc::default(),
                identities_lock: std::sync::Mutex::new(Default::default()),
                identities_written: AtomicU64::new(0),
                identities_synced: AtomicU64::new(0),
                identities_sync_lock: std::sync::Mutex::new(()),
                audit_seq: AtomicU64::new(audit_seq),
                audit_dirty: std::sync::atomic::AtomicBool::new(false),
            }),
        };
        tracing::debug!(
            "store opened: {} bytes replayed from the journal into memtables",
            store.memtable_bytes()
        );
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The time (Unix ms) up to which every statement is known to be
    /// readable: now, unless a batch is being written.
    pub fn consistent_through_ms(&self) -> i64 {
        let now = now_ms();
        let oldest = self
            .inner
            .in_flight
            .lock()
            .ok()
            .and_then(|q| q.front().copied());
        match oldest {
            Some(since) => now.min(since - 1),
            None => now,
        }
    }

    /// The statement with this id: its seq, stored JSON and whether it is voided.
    pub fn statement_by_id(&self, id: Uuid) -> Result<Option<StoredStatement>> {
        let Some(row) = self.inner.ks.by_id.get(id.as_bytes())? else {
            return Ok(None);
        };
        let seq = keys::seq_from(&row)
            .ok_or_else(|| StoreError::Corrupt(format!("by_id row of {id}")))?;
        let Some(json) = self.inner.ks.statements.get(keys::seq_bytes(seq))? else {
            return Err(StoreError::Corrupt(format!(
                "statement {id} is indexed but missing"
            )));
        };
        Ok(Some(StoredStatement {
            seq,
            json: json.to_vec(),
            voided: self.is_voided(seq),
        }))
    }

    /// The canonical definition of an activity, merged from the statements
    /// that described it.
    pub fn activity_definition(&self, iri: &str) -> Result<Option<serde_json::Value>> {
        match self.inner.ks.activities.get(iri.as_bytes())? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("activity {iri}: {e}"))),
        }
    }

    /// The data of an attachment, by its SHA-256 (lowercase hex).
    pub fn attachment(&self, sha2: &str) -> Result<Option<StoredAttachment>> {
        let Some(bytes) = self.inner.ks.attachments.get(sha2.as_bytes())? else {
            return Ok(None);
        };
        let bad = || StoreError::Corrupt(format!("attachment {sha2}"));
        let len = u16::from_be_bytes(
            bytes
                .get(..2)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?,
        ) as usize;
        let content_type =
            String::from_utf8_lossy(bytes.get(2..2 + len).ok_or_else(bad)?).into_owned();
        let data = bytes.get(2 + len..).ok_or_else(bad)?.to_vec();
        Ok(Some(StoredAttachment {
            sha2: sha2.to_owned(),
            content_type,
            data,
        }))
    }

    /// The names seen for an agent identity in statements, oldest first.
    pub fn agent_names(&self, identity: &str) -> Result<Vec<String>> {
        match self.inner.ks.agents.get(identity.as_bytes())? {
            None => Ok(Vec::new()),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| StoreError::Corrupt(format!("agent names of {identity}: {e}"))),
        }
    }

    /// Number of statements stored (an estimate for large stores).
    pub fn approximate_statement_count(&self) -> usize {
        self.inner.ks.statements.approximate_len()
    }

    /// Bytes the store takes on disk.
    pub fn disk_space(&self) -> Result<u64> {
        Ok(self.inner.db.disk_space()?)
    }

    fn is_voided(&self, seq: u64) -> bool {
        self.inner
            .voided
            .read()
            .map(|v| v.contains(&seq))
            .unwrap_or(false)
    }
}

/// One statement as stored.
#[derive(Debug, Clone)]
pub struct StoredStatement {
    pub seq: u64,
    pub json: Vec<u8>,
    pub voided: bool,
}

impl StoredStatement {
    /// The `stored` time in Unix milliseconds.
    pub fn stored_ms(&self) -> i64 {
        keys::seq_millis(self.seq)
    }
}

fn check_schema_version(db: &Database, ks: &Keyspaces) -> Result<()> {
    match ks.meta.get("schema_version")? {
        Some(found) if found.as_ref() == SCHEMA_VERSION.to_string().as_bytes() => {
            migrate::drop_retired(db)
        }
        Some(found) => migrate::upgrade(db, ks, &String::from_utf8_lossy(&found)),
        None => {
            // Before the sealer exists; it seals this memtable on creation.
            ks.meta
                .insert("schema_version", SCHEMA_VERSION.to_string())?;
            db.persist(fjall::PersistMode::SyncAll)?;
            Ok(())
        }
    }
}

fn load_voided(ks: &Keyspaces) -> Result<HashSet<u64>> {
    let mut set = HashSet::new();
    for row in ks.voided.iter() {
        let (target, _) = row.into_inner()?;
        if let Some(by_id) = ks.by_id.get(&target)?
            && let Some(seq) = keys::seq_from(&by_id)
        {
            set.insert(seq);
        }
    }
    Ok(set)
}

/// Free space kept in reserve by default: a group commit, a memtable flush
/// and a compaction's output fit in it, so the engine is not the one to
/// meet a full disk (after which it would refuse writes until a restart).
pub const DEFAULT_MIN_FREE_BYTES: u64 = 64 * 1024 * 1024;

impl Store {
    /// Sets the free space the data folder must keep (0: no check).
    pub fn set_min_free_bytes(&self, bytes: u64) {
        self.inner.min_free_bytes.store(bytes, Ordering::Release);
    }

    /// Refuses a write ([`StoreError::DiskFull`]) while the data folder's
    /// file system has less free space than the reserve. Checked at most
    /// once a second while there is room; every time while there is not,
    /// so writes resume as soon as space is freed.
    pub fn ensure_room(&self) -> Result<()> {
        let reserve = self.inner.min_free_bytes.load(Ordering::Acquire);
        let now = now_ms();
        if reserve == 0
            || now.saturating_sub(self.inner.room_checked_ms.load(Ordering::Acquire)) < 1_000
        {
            return Ok(());
        }
        // A file system that cannot say is not refused.
        let Ok(st) = rustix::fs::statvfs(&self.inner.path) else {
            return Ok(());
        };
        let free = st.f_bavail.saturating_mul(st.f_frsize);
        if free < reserve {
            return Err(StoreError::DiskFull {
                free_mib: free / (1024 * 1024),
                reserve_mib: reserve / (1024 * 1024),
            });
        }
        self.inner.room_checked_ms.store(now, Ordering::Release);
        Ok(())
    }
}

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Formats a Unix-millisecond time as an xAPI timestamp (RFC 3339, UTC,
/// millisecond precision).
pub fn format_ms(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&fmt).unwrap_or_default()
}

/// The seq range of statements stored after `since_ms` (exclusive) and up
/// to `until_ms` (inclusive), both Unix milliseconds.
pub fn seq_bounds(since_ms: Option<i64>, until_ms: Option<i64>) -> (u64, u64) {
    let lo = since_ms.map_or(0, |s| keys::millis_seq(s.saturating_add(1)));
    let hi = until_ms.map_or(u64::MAX, |u| {
        if u < 0 {
            0
        } else {
            keys::millis_seq(u.saturating_add(1)).saturating_sub(1)
        }
    });
    (lo, hi)
}

impl Store {
    /// The highest seq committed so far; a query pinned to it pages over a
    /// fixed set of statements however many arrive meanwhile.
    pub fn last_seq(&self) -> u64 {
        self.inner.last_seq.load(Ordering::Acquire)
    }
}

fn encode_attachment(a: &StoredAttachment) -> Vec<u8> {
    let ct = &a.content_type.as_bytes()[..a.content_type.len().min(u16::MAX as usize)];
    let mut out = Vec::with_capacity(2 + ct.len() + a.data.len());
    out.extend_from_slice(&(ct.len() as u16).to_be_bytes());
    out.extend_from_slice(ct);
    out.extend_from_slice(&a.data);
    out
}
