//! Group commit: one writer thread owns the write path. Requests hand it
//! their statements over a channel, already prepared on their own threads
//! (see `prepare.rs`); it takes everything that has queued up, checks it
//! and stages it as one atomic batch, which the commit thread
//! ([`super::commit`]) writes, syncs and answers while the writer goes on
//! with the next group. Each request stays all-or-nothing: a conflict
//! rejects that request only.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::SyncSender;
use std::thread::JoinHandle;

use fjall::{Keyspace, PersistMode};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::commit::{self, Answers, Handoff, InFlight, Progress, Reply, StagedGroup};
use super::definitions::{Carried, KnownDefinitions};
use super::keys::{self, seq_bytes};
use super::prepare::{IndexRows, Prepared};
use super::sealing::Batch;
use super::{Result, Store, StoreError, format_ms, now_ms};
use crate::xapi::keys::{IndexKeys, statement_ref_target};

/// A validated statement on its way into the store: `id`, `authority` and
/// `version` are set; the writer adds `stored` (and `timestamp` if absent).
pub struct NewStatement {
    pub id: Uuid,
    pub json: Map<String, Value>,
    /// [`crate::xapi::compare::fingerprint`] of the statement as the client sent it.
    pub fingerprint: [u8; 20],
    /// Attachment data sent with the statement.
    pub attachments: Vec<StoredAttachment>,
}

#[cfg(test)]
impl NewStatement {
    /// A statement for the store's tests: its id is the `id` property, or
    /// a new one when it has none; no fingerprint, no attachments.
    pub(crate) fn for_test(statement: Value) -> NewStatement {
        let Value::Object(mut json) = statement else {
            panic!("a test statement must be a JSON object");
        };
        let id = json
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .unwrap_or_else(Uuid::new_v4);
        json.insert("id".into(), Value::String(id.to_string()));
        NewStatement {
            id,
            json,
            fingerprint: [0; 20],
            attachments: Vec::new(),
        }
    }
}

/// An attachment's raw data, stored once per SHA-256 however many
/// statements refer to it.
#[derive(Debug, Clone)]
pub struct StoredAttachment {
    pub sha2: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// What happened to one statement of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub id: Uuid,
    pub seq: u64,
    /// False when an identical statement was already stored (a no-op).
    pub new: bool,
}

struct Request {
    statements: Vec<Prepared>,
    reply: Reply,
}

/// Work that must not interleave with appends (forgetting a learner,
/// pruning): it runs on the writer thread between two group commits.
type Job = Box<dyn FnOnce(&Store) + Send>;

enum Message {
    Append(Request),
    Exclusive(Job),
}

/// The handle requests use to reach the writer thread. Dropping every
/// handle lets the thread drain the queue and stop.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Message>,
    known: Arc<KnownDefinitions>,
}

/// One request's statements, ready for the writer thread
/// ([`Writer::prepare`], [`Writer::submit`]).
pub struct PreparedStatements(Vec<Prepared>);

impl PreparedStatements {
    /// The statements of several parts of a request, in order. A request
    /// checked in one part (every single statement) keeps its list as it is.
    pub fn concat(mut parts: Vec<PreparedStatements>) -> PreparedStatements {
        if parts.len() == 1 {
            return parts.remove(0);
        }
        PreparedStatements(parts.into_iter().flat_map(|p| p.0).collect())
    }
}

/// A group takes no more requests once it holds this many statements. The
/// sync is shared all the same: the commit thread commits every group
/// staged while it worked before it syncs. A small group reaches the
/// commit thread sooner and its requests are answered sooner, so a batch
/// of 100 is staged while the one before is committed, and its client
/// sends the next while both run. With groups of up to 5,000, the four
/// clients of the bench's batch runs were answered together, then sent
/// together and were checked together, and the stages took turns rather
/// than overlapping (BENCHMARKS.md, "Checking batches off the async
/// workers").
const MAX_GROUP_STATEMENTS: usize = 100;

impl Writer {
    /// Starts the writer thread for `store`.
    pub fn start(store: Store) -> (Writer, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(1024);
        let known = Arc::clone(&store.inner.known_definitions);
        let handle = std::thread::Builder::new()
            .name("kmh-writer".into())
            .spawn(move || run(store, rx))
            .expect("spawning the writer thread");
        (Writer { tx, known }, handle)
    }

    /// Stores one request's statements atomically and durably. Resolves
    /// only after the batch holding them is on disk.
    pub async fn append(&self, statements: Vec<NewStatement>) -> Result<Vec<Appended>> {
        self.submit(self.prepare(statements)?).await
    }

    /// The half of [`Writer::append`] that needs no store: serialising the
    /// statements and working out their rows. It is CPU work (about 20 µs
    /// a statement), which a caller may move off an async worker.
    pub fn prepare(&self, statements: Vec<NewStatement>) -> Result<PreparedStatements> {
        prepare_all(statements, &self.known).map(PreparedStatements)
    }

    /// The other half of [`Writer::append`]: hands prepared statements to
    /// the writer thread and resolves once they are on disk.
    pub async fn submit(&self, prepared: PreparedStatements) -> Result<Vec<Appended>> {
        let statements = prepared.0;
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Message::Append(Request { statements, reply }))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `job` on the writer thread, after the group being committed and
    /// before the next: no append can interleave with it.
    pub async fn exclusive<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, rx) = oneshot::channel();
        let job: Job = Box::new(move |store| {
            let _ = reply.send(job(store));
        });
        self.tx
            .send(Message::Exclusive(job))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// The blocking form of [`Writer::exclusive`].
    pub fn exclusive_blocking<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, rx) = oneshot::channel();
        let job: Job = Box::new(move |store| {
            let _ = reply.send(job(store));
        });
        self.tx
            .blocking_send(Message::Exclusive(job))
            .map_err(|_| StoreError::Closed)?;
        rx.blocking_recv().map_err(|_| StoreError::Closed)?
    }

    /// The blocking form, for command-line tools that own the store.
    pub fn append_blocking(&self, statements: Vec<NewStatement>) -> Result<Vec<Appended>> {
        let statements = prepare_all(statements, &self.known)?;
        let (reply, rx) = oneshot::channel();
        self.tx
            .blocking_send(Message::Append(Request { statements, reply }))
            .map_err(|_| StoreError::Closed)?;
        rx.blocking_recv().map_err(|_| StoreError::Closed)?
    }
}

/// Stores statements the LRS issues itself from a job that already runs on
/// the writer thread (see [`Writer::exclusive`]), through the same path as
/// [`Writer::append`] (conflict checks, voiding, index rows, analytics),
/// and syncs them before it returns.
pub(super) fn append_from_job(
    store: &Store,
    statements: Vec<NewStatement>,
) -> Result<Vec<Appended>> {
    let statements = prepare_all(statements, &store.inner.known_definitions)?;
    // Nobody waits on this reply: the outcome is taken from the group.
    let (reply, _unused) = oneshot::channel();
    let staged = stage_group(
        store,
        vec![Request { statements, reply }],
        &mut Caches::default(),
    );
    let (answers, failure) = commit::commit(store, staged);
    if failure.is_some() {
        // What the group published to the read models is not on disk.
        store.reload_analytics()?;
    }
    let (_, outcome) = answers
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::Engine("a group without its request".into()))?;
    let appended = outcome?;
    store.inner.db.persist(PersistMode::SyncAll)?;
    Ok(appended)
}

/// Does the statements' store-independent work on the caller's thread.
fn prepare_all(statements: Vec<NewStatement>, known: &KnownDefinitions) -> Result<Vec<Prepared>> {
    statements
        .into_iter()
        .map(|st| Prepared::of(st, known))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| StoreError::Engine(format!("statement not serialisable: {e}")))
}

/// What the writer remembers between groups so that the common case (a
/// definition or name it has seen before) costs no read and no JSON parse.
/// Only the writer changes these records, so the cache cannot go stale. It
/// is updated as soon as a group is staged, since the next group is staged
/// before this one is committed and must build on it; it is emptied when
/// it grows past [`CACHE_ENTRIES`] and when a commit fails.
#[derive(Default)]
struct Caches {
    definitions: HashMap<String, Value>,
    names: HashMap<String, Vec<String>>,
    /// The highest seq staged, which may not be committed yet.
    last_staged: u64,
}

const CACHE_ENTRIES: usize = 50_000;

fn run(store: Store, mut rx: mpsc::Receiver<Message>) {
    let mut caches = Caches::default();
    let progress = Arc::new(Progress::default());
    let (to_commit, committer) = commit::start(store.clone(), progress.clone());
    let mut in_flight = InFlight::default();
    while let Some(first) = rx.blocking_recv() {
        if progress.take_failure() {
            recover(&store, &to_commit, &mut caches);
        }
        in_flight.retire(progress.handled());
        let first = match first {
            Message::Append(req) => req,
            Message::Exclusive(job) => {
                drain(&progress, &mut in_flight);
                run_exclusive(&store, job, &mut caches);
                continue;
            }
        };
        let mut group = vec![first];
        let mut count = group[0].statements.len();
        let mut after = None;
        while count < MAX_GROUP_STATEMENTS {
            match rx.try_recv() {
                Ok(Message::Append(req)) => {
                    count += req.statements.len();
                    group.push(req);
                }
                Ok(Message::Exclusive(job)) => {
                    after = Some(job);
                    break;
                }
                Err(_) => break,
            }
        }
        if depends_on_in_flight(&group, &in_flight) {
            drain(&progress, &mut in_flight);
        }
        let ids = group_ids(&group);
        let staged = stage_group(&store, group, &mut caches);
        in_flight.hand(ids);
        if to_commit.send(Handoff::Group(staged)).is_err() {
            tracing::error!("the commit thread stopped; refusing writes");
            return;
        }
        if let Some(job) = after {
            drain(&progress, &mut in_flight);
            run_exclusive(&store, job, &mut caches);
        }
    }
    // Every group handed over is committed, synced and answered before the
    // writer counts as stopped (a clean shutdown finishes the writes in
    // flight).
    drop(to_commit);
    let _ = committer.join();
}

/// Waits until every group handed over is committed, so that the store
/// shows the writer all of them.
fn drain(progress: &Progress, in_flight: &mut InFlight) {
    progress.wait_for(in_flight.handed());
    in_flight.retire(progress.handled());
}

/// True when the group must see groups still in flight in the store: it
/// re-sends or targets a statement of theirs, or is voided by one of them;
/// or it voids, since voiding re-reads the learner's statements for the
/// read models.
fn depends_on_in_flight(group: &[Request], in_flight: &InFlight) -> bool {
    !in_flight.is_empty()
        && group.iter().flat_map(|r| &r.statements).any(|st| {
            st.voiding
                || in_flight.contains(&st.id)
                || st.target.is_some_and(|t| in_flight.contains(&t))
        })
}

/// The ids a group's statements have or void.
fn group_ids(group: &[Request]) -> Vec<Uuid> {
    let statements = group.iter().flat_map(|r| &r.statements);
    statements
        .flat_map(|st| std::iter::once(st.id).chain(st.target.filter(|_| st.voiding)))
        .collect()
}

/// After a failed commit: the groups staged on top of it are refused by the
/// commit thread, and what the writer built on them (read models, caches)
/// is dropped before it stages again.
fn recover(store: &Store, to_commit: &SyncSender<Handoff>, caches: &mut Caches) {
    let _ = to_commit.send(Handoff::Resume);
    let last_staged = caches.last_staged;
    *caches = Caches {
        last_staged,
        ..Caches::default()
    };
    store.inner.known_definitions.forget_all();
    if let Err(e) = store.reload_analytics() {
        tracing::error!("analytics read models could not be reloaded: {e}");
    }
}

/// An exclusive job may delete or rewrite any record, so what the writer
/// remembered is dropped after it.
fn run_exclusive(store: &Store, job: Job, caches: &mut Caches) {
    job(store);
    store.inner.known_definitions.forget_all();
    *caches = Caches {
        last_staged: caches.last_staged,
        ..Caches::default()
    };
}

/// A statement accepted into the current group, before commit.
struct Staged {
    seq: u64,
    fingerprint: [u8; 20],
    rows: IndexRows,
    voiding: bool,
}

/// Checks and stages one group for the commit thread. The group's
/// analytics are published at once, so that the next group builds on them;
/// if the commit fails, the writer reloads them (see `recover`).
fn stage_group(store: &Store, group: Vec<Request>, caches: &mut Caches) -> StagedGroup {
    let inner = &store.inner;
    let start_ms = now_ms();
    commit::begin(store, start_ms);
    let floor = inner
        .last_seq
        .load(Ordering::Acquire)
        .max(caches.last_staged);
    let mut next_seq = keys::millis_seq(start_ms).max(floor + 1);

    // No sync here: the commit thread makes the group durable.
    let mut batch = inner.sealer.batch().durability(None);
    let mut staged: HashMap<Uuid, Staged> = HashMap::new();
    let mut index_rows: Vec<IndexRow> = Vec::new();
    let mut newly_voided: Vec<u64> = Vec::new();
    // Activity IRI → (merged definition, changed by this group).
    let mut activity_defs: HashMap<String, (Value, bool)> = HashMap::new();
    // Agent identity → (names, changed by this group).
    let mut agent_names: HashMap<String, (Vec<String>, bool)> = HashMap::new();
    let mut answers: Answers = Vec::with_capacity(group.len());
    // The analytics read models, updated in this same batch.
    let mut projection = match store.analytics_group() {
        Ok(p) => p,
        Err(e) => {
            tracing::error!("analytics read models unavailable: {e}");
            let answers = group
                .into_iter()
                .map(|req| (req.reply, Err(StoreError::Engine(e.to_string()))))
                .collect();
            return StagedGroup::refused(inner.sealer.batch(), answers);
        }
    };

    for req in group {
        let outcome = stage_request(
            store,
            req.statements,
            &mut batch,
            &mut index_rows,
            &mut staged,
            &mut next_seq,
            &mut newly_voided,
            &mut activity_defs,
            &mut agent_names,
            caches,
            &mut projection,
        );
        answers.push((req.reply, outcome));
    }

    add_in_key_order(&mut batch, index_rows);

    for (iri, (def, _)) in activity_defs.iter().filter(|(_, (_, changed))| *changed) {
        match serde_json::to_vec(def) {
            Ok(bytes) => batch.insert(&inner.ks.activities, iri.as_bytes().to_vec(), bytes),
            Err(e) => tracing::error!("activity definition not serialisable: {e}"),
        }
    }

    for (identity, (names, _)) in agent_names.iter().filter(|(_, (_, changed))| *changed) {
        match serde_json::to_vec(names) {
            Ok(bytes) => batch.insert(&inner.ks.agents, identity.as_bytes().to_vec(), bytes),
            Err(e) => tracing::error!("agent names not serialisable: {e}"),
        }
    }

    if let Err(e) = super::analytics::stage_group(store, &mut batch, &mut projection) {
        tracing::error!("analytics read models not staged: {e}");
        let answers = answers
            .into_iter()
            .map(|(reply, outcome)| (reply, outcome.and(Err(e.duplicate()))))
            .collect();
        return StagedGroup::refused(inner.sealer.batch(), answers);
    }
    projection.publish();
    let last_seq = next_seq - 1;
    caches.last_staged = caches.last_staged.max(last_seq);
    if caches.definitions.len() + activity_defs.len() > CACHE_ENTRIES {
        caches.definitions.clear();
    }
    caches
        .definitions
        .extend(activity_defs.into_iter().map(|(k, (v, _))| (k, v)));
    if caches.names.len() + agent_names.len() > CACHE_ENTRIES {
        caches.names.clear();
    }
    caches
        .names
        .extend(agent_names.into_iter().map(|(k, (v, _))| (k, v)));
    StagedGroup {
        batch,
        answers,
        newly_voided,
        last_seq,
    }
}

/// Checks one request against the store and the group so far; when every
/// statement is acceptable, adds its rows to the batch.
#[allow(clippy::too_many_arguments)]
fn stage_request<'a>(
    store: &'a Store,
    statements: Vec<Prepared>,
    batch: &mut Batch,
    index_rows: &mut Vec<IndexRow<'a>>,
    staged: &mut HashMap<Uuid, Staged>,
    next_seq: &mut u64,
    newly_voided: &mut Vec<u64>,
    activity_defs: &mut HashMap<String, (Value, bool)>,
    agent_names: &mut HashMap<String, (Vec<String>, bool)>,
    caches: &Caches,
    projection: &mut crate::analytics::Group<'_>,
) -> Result<Vec<Appended>> {
    let ks = &store.inner.ks;
    // First pass: conflicts. Nothing is staged until the whole request passes.
    let mut existing: Vec<Option<u64>> = vec![None; statements.len()];
    // Most stores never forgot anyone: then no lookup at all.
    let any_forgotten = ks.forgotten.first_key_value().is_some();
    // Looked up in id order, for the reason rows are added in key order
    // (see `add_in_key_order`): consecutive searches share their path.
    let mut order: Vec<usize> = (0..statements.len()).collect();
    order.sort_unstable_by_key(|&i| statements[i].id);
    for i in order {
        let st = &statements[i];
        // A statement of a forgotten learner sent again is taken as already
        // stored, and stays forgotten.
        if any_forgotten && ks.forgotten.contains_key(st.id.as_bytes())? {
            existing[i] = Some(0);
            continue;
        }
        if let Some(prior) = staged.get(&st.id) {
            if prior.fingerprint != st.fingerprint {
                return Err(StoreError::Conflict(st.id));
            }
            existing[i] = Some(prior.seq);
            continue;
        }
        if let Some(row) = ks.by_id.get(st.id.as_bytes())? {
            let seq = keys::seq_from(&row)
                .ok_or_else(|| StoreError::Corrupt(format!("by_id row of {}", st.id)))?;
            if row.get(8..28) != Some(&st.fingerprint[..]) {
                return Err(StoreError::Conflict(st.id));
            }
            existing[i] = Some(seq);
        }
    }

    let mut appended = Vec::with_capacity(statements.len());
    for (mut st, prior) in statements.into_iter().zip(existing) {
        if let Some(seq) = prior {
            appended.push(Appended {
                id: st.id,
                seq,
                new: false,
            });
            continue;
        }
        let seq = *next_seq;
        *next_seq += 1;
        let stored_ms = keys::seq_millis(seq);
        let body = st.finish_body(&format_ms(stored_ms));

        if let Some(target) = st.target {
            if let Some(target_rows) = rows_of_target(store, staged, target, 0)? {
                st.rows.inherit(&target_rows, &st.authorities);
            }
            if st.voiding {
                batch.insert(
                    &ks.voided,
                    target.as_bytes().to_vec(),
                    seq_bytes(seq).to_vec(),
                );
                if let Some(target_seq) = voidable_seq(store, staged, target)? {
                    newly_voided.push(target_seq);
                }
            }
        }
        // A statement voided before it arrived is voided on arrival.
        if !st.voiding && ks.voided.contains_key(st.id.as_bytes())? {
            newly_voided.push(seq);
        }
        let carried = std::mem::take(&mut st.definitions);
        merge_definitions(carried, &body, activity_defs, caches, store)?;
        merge_names(std::mem::take(&mut st.names), agent_names, caches, store)?;
        let voided_on_arrival = newly_voided.last() == Some(&seq);
        let mut fact = st.fact.take();
        if let Some(f) = fact.as_mut()
            && !st.has_timestamp
        {
            f.at_ms = stored_ms;
        }
        let voids = st.voiding.then_some(st.target).flatten();
        projection
            .project_fact(st.id, voids, fact, seq, voided_on_arrival, store)
            .map_err(StoreError::Engine)?;

        batch.insert(&ks.statements, seq_bytes(seq), body);
        let mut by_id = [0u8; 28];
        by_id[..8].copy_from_slice(&seq_bytes(seq));
        by_id[8..].copy_from_slice(&st.fingerprint);
        // Statement ids are random: in key order with the index rows.
        index_rows.push((&ks.by_id, Short::new(st.id.as_bytes()), Short::new(&by_id)));
        super::index::each_row(&store.inner.ks, &st.rows, seq, |space, key, value| {
            index_rows.push((space, Short::new(&key), Short::new(value)))
        });
        for attachment in &st.attachments {
            if !ks.attachments.contains_key(attachment.sha2.as_bytes())? {
                batch.insert(
                    &ks.attachments,
                    attachment.sha2.as_bytes().to_vec(),
                    super::encode_attachment(attachment),
                );
            }
        }

        staged.insert(
            st.id,
            Staged {
                seq,
                fingerprint: st.fingerprint,
                rows: st.rows,
                voiding: st.voiding,
            },
        );
        appended.push(Appended {
            id: st.id,
            seq,
            new: true,
        });
    }
    Ok(appended)
}

/// A row of a group whose key is spread over the whole key space (an index
/// row or a statement id's): its keyspace, key and value.
type IndexRow<'a> = (&'a Keyspace, Short, Short);

/// The key or value of an index or id row, kept inline: ten rows a
/// statement, each with two small allocations otherwise, freed as soon as
/// the engine has copied them.
#[derive(Clone, Copy)]
struct Short {
    bytes: [u8; Short::MAX],
    len: u8,
}

impl Short {
    /// The longest: an id row's value (seq and fingerprint).
    const MAX: usize = 28;

    fn new(bytes: &[u8]) -> Short {
        let mut short = Short {
            bytes: [0; Short::MAX],
            len: bytes.len() as u8,
        };
        short.bytes[..bytes.len()].copy_from_slice(bytes);
        short
    }

    fn get(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// Adds a group's index and id rows to its batch sorted by keyspace and
/// key. The commit thread inserts a batch's rows into the memtables (skip
/// lists) in batch order, and these keys are hashes or random ids spread
/// over the whole key space: in their arrival order each insert searched a
/// path of nodes the previous one had not touched, and these searches were
/// most of the commit thread's time. In key order, consecutive searches
/// share most of their path (BENCHMARKS.md, "The commit pipeline"). Index
/// keys end in their statement's seq and a group stages each statement id
/// once, so no two rows of a group share a key and the order changes
/// nothing else.
fn add_in_key_order(batch: &mut Batch, mut rows: Vec<IndexRow<'_>>) {
    rows.sort_unstable_by(|a, b| {
        std::ptr::from_ref(a.0)
            .cmp(&std::ptr::from_ref(b.0))
            .then_with(|| a.1.get().cmp(b.1.get()))
    });
    for (space, key, value) in rows {
        batch.insert(space, key.get(), value.get());
    }
}

/// The index keys a stored statement inherits from the statement it
/// targets (what [`stage_request`] added to its rows).
pub(super) fn inherited_keys(store: &Store, target: Uuid) -> Result<Option<IndexKeys>> {
    keys_of_target(store, target, 0)
}

/// The index keys of a stored statement, including what it inherits in
/// turn ("This rule applies recursively", part 3 §2.1.3). Chains are cut
/// after a few hops so a malicious cycle cannot loop.
fn keys_of_target(store: &Store, id: Uuid, depth: u8) -> Result<Option<IndexKeys>> {
    let Some((_, statement)) = stored_statement(store, id)? else {
        return Ok(None);
    };
    let mut keys = IndexKeys::of(&statement);
    if depth < 8
        && let Some(next) = statement_ref_target(&statement).and_then(|t| Uuid::parse_str(t).ok())
        && let Some(more) = keys_of_target(store, next, depth + 1)?
    {
        keys.inherit(&more);
    }
    Ok(Some(keys))
}

/// The index rows a statement of this group inherits from the statement
/// it targets, staged in the group or stored: [`keys_of_target`], as the
/// writer needs them.
fn rows_of_target(
    store: &Store,
    staged: &HashMap<Uuid, Staged>,
    id: Uuid,
    depth: u8,
) -> Result<Option<IndexRows>> {
    if let Some(s) = staged.get(&id) {
        return Ok(Some(s.rows.clone()));
    }
    let Some((_, statement)) = stored_statement(store, id)? else {
        return Ok(None);
    };
    let mut rows = IndexRows::of(&IndexKeys::of(&statement), &[]);
    if depth < 8
        && let Some(next) = statement_ref_target(&statement).and_then(|t| Uuid::parse_str(t).ok())
        && let Some(more) = rows_of_target(store, staged, next, depth + 1)?
    {
        rows.inherit(&more, &[]);
    }
    Ok(Some(rows))
}

/// A stored statement, parsed, with its seq.
fn stored_statement(store: &Store, id: Uuid) -> Result<Option<(u64, Value)>> {
    let Some(found) = store.statement_by_id(id)? else {
        return Ok(None);
    };
    serde_json::from_slice(&found.json)
        .map(|statement| Some((found.seq, statement)))
        .map_err(|e| StoreError::Corrupt(format!("statement {id}: {e}")))
}

/// The seq of a statement a voiding statement targets, when it exists and
/// is not itself a voiding statement (voiding statements cannot be voided).
fn voidable_seq(store: &Store, staged: &HashMap<Uuid, Staged>, id: Uuid) -> Result<Option<u64>> {
    if let Some(s) = staged.get(&id) {
        return Ok((!s.voiding).then_some(s.seq));
    }
    let Some((seq, statement)) = stored_statement(store, id)? else {
        return Ok(None);
    };
    Ok((!crate::xapi::is_voiding(&statement)).then_some(seq))
}

/// Merges the activity definitions a statement carries into the canonical
/// ones: a later statement's properties replace earlier ones, language maps
/// are merged entry by entry. `body` is the statement as stored, for a
/// definition the checking thread found known but that has changed since.
fn merge_definitions(
    carried: Vec<Carried>,
    body: &[u8],
    defs: &mut HashMap<String, (Value, bool)>,
    caches: &Caches,
    store: &Store,
) -> Result<()> {
    let known = &store.inner.known_definitions;
    for definition in carried {
        let (id, def, digest) = match definition {
            Carried::Known {
                iri, generation, ..
            } if known.is_current(&iri, generation) => continue,
            Carried::Known { iri, position, .. } => {
                let def = carried_definition(body, position)?;
                let digest = known.digest(&iri, &def);
                (iri.to_string(), def, digest)
            }
            Carried::New {
                iri,
                definition,
                digest,
            } => (iri, definition, digest),
        };
        // Most statements repeat a definition already known: that case
        // neither copies nor writes anything (a definition the cache holds
        // is not copied into the group either: the next statement finds it
        // in the cache just the same).
        let subsumed = match defs.get(&id) {
            Some((known, _)) => subsumes(known, &def),
            None => caches
                .definitions
                .get(&id)
                .is_some_and(|known| subsumes(known, &def)),
        };
        if subsumed {
            known.note_subsumed(&id, digest);
            continue;
        }
        let (current, changed) = match defs.get(&id) {
            Some((d, changed)) => (Some(d.clone()), *changed),
            None => match caches.definitions.get(&id) {
                Some(d) => (Some(d.clone()), false),
                None => (store.activity_definition(&id)?, false),
            },
        };
        let merged = merge_definition(current.clone(), &def);
        let unchanged = current.as_ref() == Some(&merged);
        if unchanged {
            known.note_subsumed(&id, digest);
        } else {
            known.note_changed(&id, digest);
        }
        let changed = changed || !unchanged;
        defs.insert(id, (merged, changed));
    }
    Ok(())
}

/// The definition at `position` (in [`super::prepare::take_definitions`]
/// order) of those a stored statement carries.
fn carried_definition(body: &[u8], position: usize) -> Result<Value> {
    let mut statement: Value = serde_json::from_slice(body)
        .map_err(|e| StoreError::Corrupt(format!("a statement being stored: {e}")))?;
    super::prepare::take_definitions(&mut statement)
        .into_iter()
        .nth(position)
        .map(|(_, def)| def)
        .ok_or_else(|| StoreError::Corrupt("a statement being stored lost a definition".into()))
}

/// True when merging `incoming` into `known` would change nothing.
fn subsumes(known: &Value, incoming: &Value) -> bool {
    let (Some(known), Some(incoming)) = (known.as_object(), incoming.as_object()) else {
        return false;
    };
    incoming.iter().all(|(k, v)| match (known.get(k), v) {
        (Some(Value::Object(old)), Value::Object(add)) if k == "name" || k == "description" => {
            add.iter().all(|(lang, text)| old.get(lang) == Some(text))
        }
        (Some(old), new) => old == new,
        (None, _) => false,
    })
}

fn merge_definition(current: Option<Value>, incoming: &Value) -> Value {
    let Some(Value::Object(mut base)) = current else {
        return incoming.clone();
    };
    let Some(new) = incoming.as_object() else {
        return Value::Object(base);
    };
    for (k, v) in new {
        match (base.get_mut(k), v) {
            (Some(Value::Object(old)), Value::Object(add)) if k == "name" || k == "description" => {
                for (lang, text) in add {
                    old.insert(lang.clone(), text.clone());
                }
            }
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(base)
}

/// Remembers the names agents are given, for the Agents resource's Person.
fn merge_names(
    found: Vec<(String, String)>,
    names: &mut HashMap<String, (Vec<String>, bool)>,
    caches: &Caches,
    store: &Store,
) -> Result<()> {
    for (identity, name) in found {
        let (list, changed) = match names.entry(identity) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let known = match caches.names.get(e.key()) {
                    Some(n) => n.clone(),
                    None => store.agent_names(e.key())?,
                };
                e.insert((known, false))
            }
        };
        if !list.contains(&name) {
            list.push(name);
            *changed = true;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const QUESTION: &str = "http://example.org/q1";

    fn answer(definition: Value) -> NewStatement {
        NewStatement::for_test(json!({
            "actor": {"mbox": "mailto:learner@example.org"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
            "object": {"id": QUESTION, "definition": definition},
        }))
    }

    fn submit(writer: &Writer, prepared: PreparedStatements) {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(writer.submit(prepared))
            .unwrap();
    }

    /// A statement checked while the store's definition subsumed its own,
    /// and stored after another statement changed that definition, still
    /// has its definition merged: the writer takes it from the body.
    #[test]
    fn a_definition_known_when_checked_but_changed_since_is_merged() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (writer, thread) = Writer::start(store.clone());
        let first = json!({"type": "http://example.org/choice", "name": {"en": "Q1"}});
        writer.append_blocking(vec![answer(first.clone())]).unwrap();

        let checked = writer.prepare(vec![answer(first.clone())]).unwrap();
        assert!(
            matches!(checked.0[0].definitions[..], [Carried::Known { .. }]),
            "the definition is known once stored"
        );
        let other = json!({"type": "http://example.org/fill-in", "name": {"fr": "Q1"}});
        writer.append_blocking(vec![answer(other)]).unwrap();
        assert_eq!(
            store.activity_definition(QUESTION).unwrap().unwrap()["type"],
            "http://example.org/fill-in"
        );

        submit(&writer, checked);
        assert_eq!(
            store.activity_definition(QUESTION).unwrap().unwrap(),
            json!({"type": "http://example.org/choice", "name": {"en": "Q1", "fr": "Q1"}})
        );
        drop(writer);
        thread.join().unwrap();
    }
}
