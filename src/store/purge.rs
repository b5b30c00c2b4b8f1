//! Making deletions final on disk. An LSM tree deletes by writing
//! tombstones: the old bytes stay in the journal and in table files until
//! the journal is retired and a compaction drops what the tombstones
//! shadow. After forgetting a learner that is not enough, so [`Store::purge`]
//! forces both.

use std::path::Path;
use std::time::{Duration, Instant};

use fjall::config::CompressionPolicy;
use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};

use super::{Result, Store, StoreError};

/// fjall starts a new journal only once the active one passes this size
/// (it offers no call to do it sooner).
const JOURNAL_ROTATION_BYTES: u64 = 64_000_000;
/// Filler values stay under 4 KiB, the size from which fjall compresses
/// journal entries; they go in batches of about 1 MiB.
const FILLER_VALUE: usize = 4_000;
const FILLER_BATCH: usize = 1 << 20;
const SCRATCH: &str = "purge_scratch";
const MARKER: &str = "purge_marker";

impl Store {
    /// Removes deleted records from the store's files: retires the journal
    /// that recorded them, flushes every keyspace to table files and
    /// compacts each one fully, so tombstones drop what they shadow; with
    /// `identities`, the pseudonym mapping's database too. Takes time in
    /// proportion to the store's size; writers go on.
    pub fn purge(&self, identities: bool) -> Result<()> {
        let _one_at_a_time = self
            .inner
            .purge_lock
            .lock()
            .map_err(|_| StoreError::Engine("purge lock poisoned".into()))?;
        let spaces: Vec<&Keyspace> = self.inner.ks.named().into_iter().map(|(_, k)| k).collect();
        purge_database(&self.inner.db, &self.inner.path.join("store"), &spaces)?;
        if identities {
            purge_database(
                &self.inner.identities_db,
                &self.inner.path.join("identities"),
                &[&self.inner.identities],
            )?;
        }
        Ok(())
    }
}

fn purge_database(db: &Database, dir: &Path, spaces: &[&Keyspace]) -> Result<()> {
    retire_journal(db, dir, spaces)?;
    for space in spaces {
        space.major_compact()?;
    }
    // Obsolete table files are deleted when the engine next collects old
    // versions (of every keyspace), which a memtable rotation triggers: a
    // marker in a keyspace of its own is written and flushed.
    let marker = db.keyspace(MARKER, KeyspaceCreateOptions::default)?;
    marker.insert("purged", super::format_ms(super::now_ms()))?;
    marker.rotate_memtable_and_wait()?;
    db.delete_keyspace(marker)?;
    db.persist(PersistMode::SyncAll)?;
    Ok(())
}

/// Starts a new journal and deletes the old ones. The engine rotates its
/// journal only past [`JOURNAL_ROTATION_BYTES`], so random filler (which
/// no compression shrinks) is written to a scratch keyspace until it does;
/// the scratch keyspace is then dropped, and every keyspace flushed so
/// that no old journal is still needed.
fn retire_journal(db: &Database, dir: &Path, spaces: &[&Keyspace]) -> Result<()> {
    let active_before = active_journal(dir)?;
    // Values stay under the size from which the journal compresses them,
    // and the scratch tables are not compressed either: filler only has to
    // take room, and quickly.
    let scratch = db.keyspace(SCRATCH, || {
        KeyspaceCreateOptions::default()
            .data_block_compression_policy(CompressionPolicy::disabled())
    })?;
    let mut value = vec![0u8; FILLER_VALUE];
    let per_batch = FILLER_BATCH / FILLER_VALUE;
    let limit = 2 * JOURNAL_ROTATION_BYTES as usize / FILLER_BATCH;
    let mut rotated = false;
    let mut n: u64 = 0;
    for i in 0..limit {
        // The scratch keyspace is not the sealer's: it is dropped at once,
        // and its batches are too few to flood the engine (`sealing.rs`).
        let mut batch = db.batch();
        for _ in 0..per_batch {
            getrandom::fill(&mut value)
                .map_err(|e| StoreError::Engine(format!("random source: {e}")))?;
            batch.insert(&scratch, n.to_be_bytes(), value.clone());
            n += 1;
        }
        batch.commit()?;
        // The journal's size is checked when a memtable is flushed.
        if i % 8 == 7 {
            scratch.rotate_memtable_and_wait()?;
            if active_journal(dir)? > active_before {
                rotated = true;
                break;
            }
        }
    }
    db.delete_keyspace(scratch)?;
    if !rotated {
        return Err(StoreError::Engine(
            "the journal did not rotate; deleted data may remain in it".into(),
        ));
    }
    for space in spaces {
        space.rotate_memtable_and_wait()?;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while journals(dir)?.len() > 1 {
        if Instant::now() > deadline {
            return Err(StoreError::Engine(
                "an old journal is still in use; deleted data may remain in it".into(),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// The ids of the journal files (`<id>.jnl`) in the engine's folder.
fn journals(dir: &Path) -> Result<Vec<u64>> {
    let mut ids = Vec::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| StoreError::Engine(format!("{}: {e}", dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::Engine(e.to_string()))?;
        let name = entry.file_name();
        if let Some(id) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".jnl"))
            .and_then(|n| n.parse().ok())
        {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The id of the journal being written (the highest).
fn active_journal(dir: &Path) -> Result<u64> {
    Ok(journals(dir)?.into_iter().max().unwrap_or(0))
}
