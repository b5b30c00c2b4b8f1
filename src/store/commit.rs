//! The second stage of the write pipeline. The writer thread
//! ([`super::writer`]) checks a group of statements and stages its rows in
//! a write batch; the commit thread here writes that batch to the journal
//! and the memtables (which makes it visible), syncs the journal
//! (`PersistMode::SyncAll`) and only then answers the group's requests.
//! While it does, the writer already checks and stages the next group, so
//! the two halves of a group's cost run on two cores. One sync covers every
//! group committed before it, so groups that queue up during a sync share
//! the next one. Nothing is acknowledged before it is on disk; a statement
//! may be seen by a reader shortly before its writer is answered.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use fjall::PersistMode;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::sealing::Batch;
use super::writer::Appended;
use super::{Result, Store, StoreError};

pub(super) type Reply = oneshot::Sender<Result<Vec<Appended>>>;

/// Each request's answer, to be sent once the group is on disk.
pub(super) type Answers = Vec<(Reply, Result<Vec<Appended>>)>;

/// Groups staged and not yet committed that the writer may run ahead by.
/// Two keep both threads busy; more would only hold memory.
const AHEAD: usize = 2;

/// A group the writer has checked and staged. Its start time is the one the
/// writer queued in the store's in-flight list (see [`begin`]).
pub(super) struct StagedGroup {
    pub batch: Batch,
    pub answers: Answers,
    /// Seqs of stored statements this group voids.
    pub newly_voided: Vec<u64>,
    /// The highest seq the group assigned (0 when none).
    pub last_seq: u64,
}

impl StagedGroup {
    /// A group whose every request was refused before anything was staged:
    /// an empty batch to commit, and the answers to send once it is.
    pub fn refused(batch: Batch, answers: Answers) -> StagedGroup {
        StagedGroup {
            batch,
            answers,
            newly_voided: Vec::new(),
            last_seq: 0,
        }
    }
}

pub(super) enum Handoff {
    Group(StagedGroup),
    /// After a failed commit the thread refuses every group until this
    /// arrives: the writer sends it once it has dropped what it built on the
    /// failed group (read models, caches).
    Resume,
}

/// How far the commit thread has got, for the writer to wait on.
#[derive(Default)]
pub(super) struct Progress {
    /// Groups handled (committed or refused), in the order handed over.
    handled: Mutex<u64>,
    changed: Condvar,
    /// Set when a commit failed; the writer takes it.
    failed: AtomicBool,
}

impl Progress {
    pub fn handled(&self) -> u64 {
        self.handled.lock().map_or(0, |n| *n)
    }

    /// Blocks until `n` groups are handled.
    pub fn wait_for(&self, n: u64) {
        let Ok(mut handled) = self.handled.lock() else {
            return;
        };
        while *handled < n {
            match self.changed.wait(handled) {
                Ok(h) => handled = h,
                Err(_) => return,
            }
        }
    }

    /// True once after a commit failed.
    pub fn take_failure(&self) -> bool {
        self.failed.swap(false, Ordering::AcqRel)
    }

    fn advance(&self) {
        if let Ok(mut handled) = self.handled.lock() {
            *handled += 1;
        }
        self.changed.notify_all();
    }
}

/// Starts the commit thread.
pub(super) fn start(
    store: Store,
    progress: Arc<Progress>,
) -> (SyncSender<Handoff>, JoinHandle<()>) {
    let (tx, rx) = sync_channel(AHEAD);
    let handle = std::thread::Builder::new()
        .name("kmh-commit".into())
        .spawn(move || run(store, rx, progress))
        .expect("spawning the commit thread");
    (tx, handle)
}

fn run(store: Store, rx: Receiver<Handoff>, progress: Arc<Progress>) {
    let mut refusing: Option<StoreError> = None;
    while let Ok(first) = rx.recv() {
        let mut answers: Answers = Vec::new();
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Handoff::Resume => refusing = None,
                Handoff::Group(group) => {
                    match &refusing {
                        Some(e) => answers.extend(refuse(&store, group, e)),
                        None => {
                            let (group_answers, failure) = commit(&store, group);
                            answers.extend(group_answers);
                            if let Some(e) = failure {
                                progress.failed.store(true, Ordering::Release);
                                refusing = Some(e);
                            }
                        }
                    }
                    progress.advance();
                }
            }
            // Groups staged meanwhile are committed before the sync, so
            // that it covers them too.
            next = rx.try_recv().ok();
        }
        if answers.is_empty() {
            continue;
        }
        let persisted = store.inner.db.persist(PersistMode::SyncAll);
        if let Err(e) = &persisted {
            tracing::error!("syncing the journal failed: {e}");
        }
        for (reply, outcome) in answers {
            let answer = match &persisted {
                Ok(()) => outcome,
                Err(e) => outcome.and(Err(StoreError::from_ref(e))),
            };
            let _ = reply.send(answer);
        }
    }
}

/// Marks a group as started: until it is committed, readers are told that
/// statements stored from `start_ms` on may not be readable yet.
pub(super) fn begin(store: &Store, start_ms: i64) {
    if let Ok(mut q) = store.inner.in_flight.lock() {
        q.push_back(start_ms);
    }
}

fn end(store: &Store) {
    if let Ok(mut q) = store.inner.in_flight.lock() {
        q.pop_front();
    }
}

/// Writes a staged group (visible, not yet synced). Returns its answers and
/// the error, when the write failed.
pub(super) fn commit(store: &Store, group: StagedGroup) -> (Answers, Option<StoreError>) {
    let inner = &store.inner;
    let result = if group.batch.is_empty() {
        Ok(())
    } else {
        group.batch.commit()
    };
    let failure = match result {
        Ok(()) => {
            if !group.newly_voided.is_empty()
                && let Ok(mut set) = inner.voided.write()
            {
                set.extend(group.newly_voided);
            }
            if group.last_seq > 0 {
                inner.last_seq.fetch_max(group.last_seq, Ordering::AcqRel);
            }
            None
        }
        Err(e) => {
            tracing::error!("group commit failed: {e}");
            Some(e)
        }
    };
    end(store);
    let answers = match &failure {
        None => group.answers,
        Some(e) => fail(group.answers, e),
    };
    (answers, failure)
}

fn refuse(store: &Store, group: StagedGroup, cause: &StoreError) -> Answers {
    end(store);
    fail(group.answers, cause)
}

fn fail(answers: Answers, cause: &StoreError) -> Answers {
    answers
        .into_iter()
        .map(|(reply, outcome)| (reply, outcome.and(Err(cause.duplicate()))))
        .collect()
}

/// The statement ids of the groups handed to the commit thread and not yet
/// committed, which the store cannot show the writer yet: a group that
/// re-sends, targets or voids one of them waits for them to be committed.
#[derive(Default)]
pub(super) struct InFlight {
    handed: u64,
    groups: VecDeque<(u64, Vec<Uuid>)>,
    ids: HashSet<Uuid>,
}

impl InFlight {
    /// Groups handed over so far.
    pub fn handed(&self) -> u64 {
        self.handed
    }

    /// Records the hand-over of a group holding `ids`.
    pub fn hand(&mut self, ids: Vec<Uuid>) {
        self.handed += 1;
        self.ids.extend(ids.iter().copied());
        self.groups.push_back((self.handed, ids));
    }

    /// Forgets the groups the commit thread has handled.
    pub fn retire(&mut self, handled: u64) {
        while let Some((n, _)) = self.groups.front()
            && *n <= handled
        {
            if let Some((_, ids)) = self.groups.pop_front() {
                for id in ids {
                    self.ids.remove(&id);
                }
            }
        }
    }

    pub fn contains(&self, id: &Uuid) -> bool {
        self.ids.contains(id)
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}
