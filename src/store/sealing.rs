//! The store seals its memtables itself, before the engine would.
//!
//! The engine asks its background worker to seal a keyspace's memtable
//! once a write leaves it over its size limit, and asks again on every
//! later write until the worker gets to it. With one worker busy in a long
//! compaction, a stream of writes fills the worker's bounded queue with
//! these requests; the worker, when it seals one, then waits forever to
//! queue the flush that follows (fjall 3.1.13), and every write and the
//! close wait behind it. Seen at the end of a 1 M statement `kmh bench`.
//! Two workers avoid that wait, but the engine has the first one hand
//! compaction requests back to the queue, at full speed, while the second
//! compacts: a core spent on nothing (BENCHMARKS.md, "Background work of
//! the store").
//!
//! So every write goes through [`Sealer`], which counts the bytes each
//! keyspace's memtable takes, as the engine counts them, and seals it from
//! the writing thread at three quarters of the engine's limit, or before a
//! write that would take it there. The engine's own check then fires only
//! for a single batch larger than its whole limit (once), its queue holds
//! flushes and compactions (a few per keyspace: writers wait while four
//! sealed memtables await their flush), and one worker suffices.
//!
//! The engine stores a keyspace's memtable limit when it creates the
//! keyspace and offers no way to read it back: the limits given here must
//! be those the keyspaces were created with, which is why a new limit
//! comes with new keyspaces (`migrate.rs`).
//!
//! [`IdleSealing`] also seals what the memtables hold once writes pause:
//! they are large (up to 12 MiB each for the indexes), and a server that
//! took a burst of statements and then only serves reads would otherwise
//! keep them in memory until the next burst. Memtables under a sixteenth
//! of their limit are left: sealing a few rows after each pause of a
//! quiet server would make a table, and soon a merge, of every few rows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fjall::{Database, Keyspace, OwnedWriteBatch, PersistMode, UserKey, UserValue};

use super::Result;

/// What the engine adds to a memtable's size per item beside its key and
/// value: the item itself, two byte slices, a sequence number and a type.
const ITEM_OVERHEAD: u64 = 64;

/// Counts bytes written per keyspace of one database and seals memtables.
pub(crate) struct Sealer {
    db: Database,
    slots: Vec<Slot>,
    /// When a write last went through, in ms since `started`.
    last_write_ms: AtomicU64,
    started: Instant,
}

struct Slot {
    keyspace: Keyspace,
    /// Bytes written to the active memtable, as far as this store knows.
    unsealed: AtomicU64,
    /// Bytes after which the memtable is sealed.
    seal_at: u64,
}

impl Sealer {
    /// A sealer for `keyspaces`, all of `db`, each with the memtable limit
    /// in bytes it was created with. Seals what the engine replayed from its
    /// journal into them, since their sizes are unknown here.
    pub fn new(db: &Database, keyspaces: &[(&Keyspace, u64)]) -> Result<Arc<Sealer>> {
        let sealer = Sealer {
            db: db.clone(),
            slots: keyspaces
                .iter()
                .map(|(keyspace, engine_limit)| Slot {
                    keyspace: (*keyspace).clone(),
                    unsealed: AtomicU64::new(0),
                    seal_at: engine_limit / 4 * 3,
                })
                .collect(),
            last_write_ms: AtomicU64::new(0),
            started: Instant::now(),
        };
        for slot in &sealer.slots {
            slot.keyspace.rotate_memtable()?;
        }
        Ok(Arc::new(sealer))
    }

    /// A write batch that counts what it holds.
    pub fn batch(self: &Arc<Self>) -> Batch {
        Batch {
            batch: self.db.batch(),
            sealer: Arc::clone(self),
            tally: vec![0; self.slots.len()],
            last: 0,
        }
    }

    pub fn insert(
        &self,
        keyspace: &Keyspace,
        key: impl Into<UserKey>,
        value: impl Into<UserValue>,
    ) -> Result<()> {
        let (key, value) = (key.into(), value.into());
        let (slot, bytes) = (self.slot_of(keyspace, 0), item_size(key.len(), value.len()));
        self.make_room(slot, bytes);
        keyspace.insert(key, value)?;
        self.wrote(slot, bytes);
        Ok(())
    }

    pub fn remove(&self, keyspace: &Keyspace, key: impl Into<UserKey>) -> Result<()> {
        let key = key.into();
        let (slot, bytes) = (self.slot_of(keyspace, 0), item_size(key.len(), 0));
        self.make_room(slot, bytes);
        keyspace.remove(key)?;
        self.wrote(slot, bytes);
        Ok(())
    }

    /// The slot of `keyspace`, trying `hint` first.
    fn slot_of(&self, keyspace: &Keyspace, hint: usize) -> usize {
        if self
            .slots
            .get(hint)
            .is_some_and(|s| s.keyspace.name() == keyspace.name())
        {
            return hint;
        }
        self.slots
            .iter()
            .position(|s| s.keyspace.name() == keyspace.name())
            // Every keyspace of the database is given to `new`.
            .unwrap_or_else(|| panic!("keyspace {:?} has no slot", keyspace.name()))
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Seals a slot's memtable before a write of `bytes` that would take it
    /// past the mark, so that the engine never sees it over.
    fn make_room(&self, slot: usize, bytes: u64) {
        let slot = &self.slots[slot];
        let unsealed = slot.unsealed.load(Ordering::Acquire);
        if unsealed > 0
            && unsealed + bytes >= slot.seal_at
            && slot
                .unsealed
                .compare_exchange(unsealed, 0, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            seal(slot);
        }
    }

    /// Counts bytes written to a slot's memtable and seals it when full
    /// (a write larger than the mark on its own).
    fn wrote(&self, slot: usize, bytes: u64) {
        self.last_write_ms.store(self.now_ms(), Ordering::Release);
        let slot = &self.slots[slot];
        let total = slot.unsealed.fetch_add(bytes, Ordering::AcqRel) + bytes;
        if total < slot.seal_at {
            return;
        }
        // One thread seals; others that crossed the mark meanwhile find
        // the counter reset.
        if slot
            .unsealed
            .compare_exchange(total, 0, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        seal(slot);
    }

    /// Seals every memtable holding a sixteenth of its limit or more when
    /// nothing was written for `idle`.
    fn seal_if_idle(&self, idle: Duration) {
        let quiet = self.now_ms() - self.last_write_ms.load(Ordering::Acquire);
        if quiet < idle.as_millis() as u64 {
            return;
        }
        for slot in &self.slots {
            let unsealed = slot.unsealed.load(Ordering::Acquire);
            if unsealed >= slot.seal_at / 12
                && slot
                    .unsealed
                    .compare_exchange(unsealed, 0, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                seal(slot);
            }
        }
    }
}

fn seal(slot: &Slot) {
    // The write itself succeeded: a failure here leaves the memtable to the
    // engine's own limit, and the next write fails the same way.
    if let Err(e) = slot.keyspace.rotate_memtable() {
        tracing::warn!("sealing the memtable of {:?}: {e}", slot.keyspace.name());
    }
}

/// A thread that seals the memtables of its sealers once writes pause for
/// a while; it stops when dropped.
pub(crate) struct IdleSealing {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl IdleSealing {
    pub fn start(sealers: &[&Arc<Sealer>], idle: Duration) -> IdleSealing {
        let sealers: Vec<Weak<Sealer>> = sealers.iter().map(|s| Arc::downgrade(s)).collect();
        let (stop, stopped) = channel::<()>();
        let thread = std::thread::Builder::new()
            .name("kmh-seal".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(idle / 4) {
                    for sealer in sealers.iter().filter_map(Weak::upgrade) {
                        sealer.seal_if_idle(idle);
                    }
                }
            })
            .ok();
        if thread.is_none() {
            tracing::warn!("no thread to seal memtables when writes pause");
        }
        IdleSealing {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for IdleSealing {
    fn drop(&mut self) {
        // Closing the channel wakes the thread; waiting for it means no
        // handle on the database outlives the store.
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn item_size(key: usize, value: usize) -> u64 {
    (key + value) as u64 + ITEM_OVERHEAD
}

/// An atomic write batch of the engine that counts its bytes per keyspace,
/// for its [`Sealer`] once committed.
pub(crate) struct Batch {
    batch: OwnedWriteBatch,
    sealer: Arc<Sealer>,
    tally: Vec<u64>,
    /// The slot of the last row: rows usually come keyspace by keyspace.
    last: usize,
}

impl Batch {
    pub fn durability(mut self, mode: Option<PersistMode>) -> Batch {
        self.batch = self.batch.durability(mode);
        self
    }

    pub fn insert(
        &mut self,
        keyspace: &Keyspace,
        key: impl Into<UserKey>,
        value: impl Into<UserValue>,
    ) {
        let (key, value) = (key.into(), value.into());
        self.count(keyspace, item_size(key.len(), value.len()));
        self.batch.insert(keyspace, key, value);
    }

    pub fn remove(&mut self, keyspace: &Keyspace, key: impl Into<UserKey>) {
        let key = key.into();
        self.count(keyspace, item_size(key.len(), 0));
        self.batch.remove(keyspace, key);
    }

    pub fn is_empty(&self) -> bool {
        self.batch.is_empty()
    }

    pub fn len(&self) -> usize {
        self.batch.len()
    }

    /// Writes the batch, sealing the memtables it would take past the mark
    /// before, and those it took there on its own after.
    pub fn commit(self) -> Result<()> {
        for (slot, bytes) in self.tally.iter().enumerate() {
            if *bytes > 0 {
                self.sealer.make_room(slot, *bytes);
            }
        }
        self.batch.commit()?;
        for (slot, bytes) in self.tally.into_iter().enumerate() {
            if bytes > 0 {
                self.sealer.wrote(slot, bytes);
            }
        }
        Ok(())
    }

    fn count(&mut self, keyspace: &Keyspace, bytes: u64) {
        self.last = self.sealer.slot_of(keyspace, self.last);
        self.tally[self.last] += bytes;
    }
}

#[cfg(test)]
mod tests {
    use fjall::KeyspaceCreateOptions;

    use super::*;

    const LIMIT: u64 = 64 * 1024;

    fn open(dir: &std::path::Path) -> (Database, Keyspace, Keyspace) {
        let db = Database::builder(dir).worker_threads(1).open().unwrap();
        let options = || KeyspaceCreateOptions::default().max_memtable_size(LIMIT);
        let a = db.keyspace("a", options).unwrap();
        let b = db.keyspace("b", options).unwrap();
        (db, a, b)
    }

    fn open_with_sealer(dir: &std::path::Path) -> (Keyspace, Keyspace, Arc<Sealer>) {
        let (db, a, b) = open(dir);
        let sealer = Sealer::new(&db, &[(&a, LIMIT), (&b, LIMIT)]).unwrap();
        (a, b, sealer)
    }

    #[test]
    fn a_memtable_is_sealed_before_the_engine_limit() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, sealer) = open_with_sealer(dir.path());
        let row = |n: u32| (n.to_be_bytes().to_vec(), vec![7u8; 100]);
        // 100 + 4 + 64 bytes a row: the mark (48 KiB) is crossed at row 293,
        // the engine's limit (64 KiB) only at row 391.
        let mut n = 0;
        while n < 300 {
            let mut batch = sealer.batch();
            for _ in 0..10 {
                let (k, v) = row(n);
                batch.insert(&a, k, v);
                n += 1;
            }
            batch.insert(&b, n.to_be_bytes().to_vec(), vec![]);
            batch.commit().unwrap();
        }
        assert!(a.sealed_memtable_count() + a.table_count() >= 1);
        // `b` got 30 small rows: still in its memtable.
        assert_eq!(b.sealed_memtable_count() + b.table_count(), 0);
        assert_eq!(a.len().unwrap(), 300);
    }

    #[test]
    fn single_writes_are_counted_too() {
        let dir = tempfile::tempdir().unwrap();
        let (_, b, sealer) = open_with_sealer(dir.path());
        for n in 0u32..300 {
            sealer
                .insert(&b, n.to_be_bytes().to_vec(), vec![1u8; 100])
                .unwrap();
        }
        assert!(b.sealed_memtable_count() + b.table_count() >= 1);
        for n in 0u32..300 {
            sealer.remove(&b, n.to_be_bytes().to_vec()).unwrap();
        }
        assert!(b.is_empty().unwrap());
    }

    #[test]
    fn memtables_are_sealed_once_writes_pause() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, sealer) = open_with_sealer(dir.path());
        let idle = IdleSealing::start(&[&sealer], Duration::from_millis(40));
        for n in 0u32..30 {
            sealer
                .insert(&a, n.to_be_bytes().to_vec(), vec![0u8; 100])
                .unwrap();
        }
        sealer.insert(&b, "k", "v").unwrap();
        let sealed = || a.sealed_memtable_count() + a.table_count() >= 1;
        for _ in 0..500 {
            if sealed() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(sealed(), "the memtable of `a` is still open");
        assert_eq!(
            b.sealed_memtable_count() + b.table_count(),
            0,
            "`b` held one small row"
        );
        drop(idle);
        assert_eq!(b.get("k").unwrap().as_deref(), Some(&b"v"[..]));
        assert_eq!(a.len().unwrap(), 30);
    }

    #[test]
    fn idle_sealing_waits_for_the_pause() {
        let dir = tempfile::tempdir().unwrap();
        let (a, _, sealer) = open_with_sealer(dir.path());
        for n in 0u32..30 {
            sealer
                .insert(&a, n.to_be_bytes().to_vec(), vec![0u8; 100])
                .unwrap();
        }
        sealer.seal_if_idle(Duration::from_secs(3600));
        assert_eq!(
            a.sealed_memtable_count() + a.table_count(),
            0,
            "sealed while writing"
        );
        sealer.seal_if_idle(Duration::ZERO);
        assert!(a.sealed_memtable_count() + a.table_count() >= 1);
    }

    #[test]
    fn a_batch_that_would_pass_the_mark_seals_first() {
        let dir = tempfile::tempdir().unwrap();
        let (a, _, sealer) = open_with_sealer(dir.path());
        let mut batch = sealer.batch();
        for n in 0u32..200 {
            batch.insert(&a, n.to_be_bytes().to_vec(), vec![0u8; 100]);
        }
        batch.commit().unwrap();
        assert_eq!(a.sealed_memtable_count() + a.table_count(), 0);
        // 200 rows of 168 bytes are under the mark (48 KiB); 200 more would
        // take the memtable past the engine's limit (64 KiB): the first 200
        // are sealed before they go in.
        let mut batch = sealer.batch();
        for n in 200u32..400 {
            batch.insert(&a, n.to_be_bytes().to_vec(), vec![0u8; 100]);
        }
        batch.commit().unwrap();
        assert!(a.sealed_memtable_count() + a.table_count() >= 1);
        assert_eq!(sealer.slots[0].unsealed.load(Ordering::Acquire), 200 * 168);
        assert_eq!(a.len().unwrap(), 400);
    }

    #[test]
    fn what_the_journal_replays_is_sealed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (db, a, _) = open(dir.path());
            a.insert("k", "v").unwrap();
            db.persist(PersistMode::SyncAll).unwrap();
        }
        let (db, a, b) = open(dir.path());
        assert_eq!(a.sealed_memtable_count() + a.table_count(), 0);
        Sealer::new(&db, &[(&a, LIMIT), (&b, LIMIT)]).unwrap();
        assert!(a.sealed_memtable_count() + a.table_count() >= 1);
        assert_eq!(a.get("k").unwrap().as_deref(), Some(&b"v"[..]));
    }
}
