//! Forgetting a learner (the right to erasure): every statement the
//! learner is the actor of is deleted; where they are only mentioned
//! (object, instructor, team, group member, context agent, inside a
//! SubStatement) their identity is replaced by an anonymous placeholder
//! (an Agent with a fixed account, as xAPI 1.0.3 part 2 §2.4.2.4 allows)
//! or, as configured, the statement is deleted too, or it is anonymised
//! and voided by a statement the LRS issues through the ingest path (so
//! the read models and clients syncing with `since` see it voided, as any
//! voiding). Their State and Agent
//! Profile documents go, attachments only their deleted statements used,
//! their index rows, their `agents` names record and their read-model rows.
//!
//! The ids of deleted statements are kept (`forgotten`, ids only): one
//! sent again is answered as already stored and is not stored again.
//!
//! Voiding: a statement voiding a deleted statement is deleted with it;
//! a statement by the learner that voids someone else's statement is kept
//! with its actor anonymised, so the target stays voided.
//!
//! All changes are one atomic batch, synced (the voidings of `void` mode
//! are committed just before it, so that a forget stopped between the two
//! and run again only has the rest to do); it runs on the writer thread
//! ([`super::Writer::exclusive`]), so no append interleaves with it. Then
//! [`Store::purge`] pushes the deleted bytes out of the files.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use fjall::PersistMode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::audit::{AuditAction, AuditEntry};
use super::index;
use super::keys::{
    DIGEST_LEN, INDEX_DIGEST_LEN, digest, index_digest, index_key, seq_bytes, seq_from,
};
use super::prepare::IndexRows;
use super::{Result, Store, StoreError};
use crate::xapi::keys::{IndexKeys, statement_ref_target};
use crate::xapi::pseudonym::{self, Key};
use crate::xapi::{ifi, is_voiding};

/// Voiding statements per group commit in [`Mentions::Void`] mode.
const VOID_CHUNK: usize = 5_000;

/// The identity that replaces a forgotten learner where a statement only
/// mentions them.
pub const PLACEHOLDER_HOME_PAGE: &str = "https://kmh.invalid/forgotten";
pub const PLACEHOLDER_NAME: &str = "forgotten";

/// What becomes of statements that mention the learner without being theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mentions {
    /// The learner's identity is replaced by the placeholder.
    #[default]
    Anonymise,
    /// The statement is deleted.
    Delete,
    /// The learner's identity is replaced by the placeholder and the
    /// statement is voided by a statement the LRS issues ([`LRS_AGENT`]
    /// as actor and authority), so that it leaves default queries and the
    /// analytics, and a system syncing with `since` learns of it.
    Void,
}

impl Mentions {
    /// The name the command line, the admin call and the audit log use.
    pub fn name(self) -> &'static str {
        match self {
            Mentions::Anonymise => "anonymise",
            Mentions::Delete => "delete",
            Mentions::Void => "void",
        }
    }
}

/// The actor and authority of the voiding statements forgetting issues in
/// [`Mentions::Void`] mode: the LRS itself, under the placeholder's
/// reserved host.
pub const LRS_HOME_PAGE: &str = "https://kmh.invalid/lrs";
pub const LRS_NAME: &str = "kmh";

fn lrs_agent() -> Value {
    json!({
        "objectType": "Agent",
        "name": LRS_NAME,
        "account": {"homePage": LRS_HOME_PAGE, "name": LRS_NAME},
    })
}

/// What forgetting did, or would do (dry run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ForgetReport {
    pub statements_deleted: u64,
    pub statements_redacted: u64,
    /// Of the redacted statements, those voided ([`Mentions::Void`]).
    #[serde(default)]
    pub statements_voided: u64,
    pub documents: u64,
    pub attachments: u64,
    pub read_model_rows: u64,
    /// Pseudonym mapping records (0 or 1).
    pub identity_records: u64,
    pub dry_run: bool,
}

/// The identities that name one learner in the store: the agent's own
/// IFI, for an `mbox` the `mbox_sha1sum` the same person may be sent as,
/// and the keyed pseudonym their statements are stored under when
/// pseudonymised ([`crate::xapi::pseudonym`]), which is also returned.
/// `None` when the agent has no identifier.
pub fn identities_of(agent: &Value, key: &Key) -> Option<(Vec<String>, String)> {
    let own = ifi::identity(agent)?;
    let mut ids = vec![own];
    if let Some(mbox) = agent.get("mbox").and_then(Value::as_str) {
        use sha1::{Digest, Sha1};
        ids.push(format!(
            "mbox_sha1sum:{}",
            hex::encode(Sha1::digest(mbox.as_bytes()))
        ));
    }
    let p = pseudonym::pseudonym_of_agent(key, agent)?;
    let as_identity = pseudonym::pseudonym_identity(&p);
    if !ids.contains(&as_identity) {
        ids.push(as_identity);
    }
    Some((ids, p))
}

fn placeholder(object_type: &str) -> Value {
    json!({
        "objectType": object_type,
        "account": {"homePage": PLACEHOLDER_HOME_PAGE, "name": PLACEHOLDER_NAME},
    })
}

fn placeholder_identity() -> String {
    ifi::identity(&placeholder("Agent")).unwrap_or_default()
}

/// Replaces the learner wherever `agent` (an Agent or Group) names them;
/// true when something changed.
fn redact_agent(agent: &mut Value, ids: &[String]) -> bool {
    if let Some(id) = ifi::identity(agent)
        && ids.contains(&id)
    {
        let kind = match agent.get("objectType").and_then(Value::as_str) {
            Some("Group") => "Group",
            _ => "Agent",
        };
        // An identified Group keeps its other members.
        let members = agent.get_mut("member").map(Value::take);
        *agent = placeholder(kind);
        if let Some(mut members) = members {
            redact_members(&mut members, ids);
            agent["member"] = members;
        }
        return true;
    }
    match agent.get_mut("member") {
        Some(members) => redact_members(members, ids),
        None => false,
    }
}

fn redact_members(members: &mut Value, ids: &[String]) -> bool {
    let mut changed = false;
    for m in members.as_array_mut().into_iter().flatten() {
        if ifi::identity(m).is_some_and(|id| ids.contains(&id)) {
            *m = placeholder("Agent");
            changed = true;
        }
    }
    changed
}

fn redact_object(object: &mut Value, ids: &[String]) -> bool {
    match object.get("objectType").and_then(Value::as_str) {
        Some("Agent") | Some("Group") => redact_agent(object, ids),
        Some("SubStatement") => {
            let mut changed = false;
            if let Some(a) = object.get_mut("actor") {
                changed |= redact_agent(a, ids);
            }
            if let Some(o) = object.get_mut("object") {
                changed |= redact_object(o, ids);
            }
            if let Some(c) = object.get_mut("context") {
                changed |= redact_context(c, ids);
            }
            changed
        }
        _ => false,
    }
}

fn redact_context(context: &mut Value, ids: &[String]) -> bool {
    let mut changed = false;
    ifi::each_context_agent_mut(context, |a| changed |= redact_agent(a, ids));
    changed
}

/// Replaces the learner everywhere a statement names an agent; true when
/// the statement mentioned them.
pub fn redact_statement(statement: &mut Value, ids: &[String]) -> bool {
    let mut changed = false;
    for field in ["actor", "authority"] {
        if let Some(a) = statement.get_mut(field) {
            changed |= redact_agent(a, ids);
        }
    }
    if let Some(o) = statement.get_mut("object") {
        changed |= redact_object(o, ids);
    }
    if let Some(c) = statement.get_mut("context") {
        changed |= redact_context(c, ids);
    }
    changed
}

/// A query string (as the audit log keeps it) with every `agent` that
/// names the learner, and a `pseudonym` that is theirs, replaced by the
/// placeholder; `None` when it does not name them.
fn redact_query(query: &str, ids: &[String], pseudonym: &str) -> Option<String> {
    let names_them = |k: &str, v: &str| match k {
        "agent" => serde_json::from_str::<Value>(v)
            .ok()
            .and_then(|a| ifi::identity(&a))
            .is_some_and(|id| ids.contains(&id)),
        "pseudonym" => v.eq_ignore_ascii_case(pseudonym),
        _ => false,
    };
    let pairs = form_urlencoded::parse(query.as_bytes());
    if !pairs.clone().any(|(k, v)| names_them(&k, &v)) {
        return None;
    }
    let stand_in = placeholder("Agent").to_string();
    Some(
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.map(|(k, v)| {
                let v = if names_them(&k, &v) {
                    stand_in.clone()
                } else {
                    v.into_owned()
                };
                (k, v)
            }))
            .finish(),
    )
}

fn statement_id(statement: &Value) -> Option<Uuid> {
    statement
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
}

/// One change to the store, collected before anything is written.
pub(super) enum Change<'a> {
    Put(&'a fjall::Keyspace, Vec<u8>, Vec<u8>),
    Remove(&'a fjall::Keyspace, Vec<u8>),
}

/// Which statements forgetting deletes, before anything is written.
struct Plan {
    /// Every statement under one of the learner's index rows, by seq.
    found: BTreeMap<u64, Found>,
    /// Those deleted (of `found`).
    delete: BTreeSet<u64>,
    /// Statements voiding a deleted one, deleted with it.
    voiders: BTreeMap<u64, Value>,
}

/// A statement found under one of the learner's index rows.
struct Found {
    json: Value,
    /// The learner's index rows at this seq: (key, flags).
    rows: Vec<(Vec<u8>, u8)>,
}

impl Store {
    /// Forgets the learner `agent` identifies (see the module comment),
    /// and records it in the audit log as done `by` (a credential, `admin`,
    /// `kmh forget`), without the learner. Must run on the writer thread
    /// ([`super::Writer::exclusive`]); with `dry_run` it only counts.
    /// [`Store::purge`] afterwards removes the bytes from the files.
    pub fn forget(
        &self,
        agent: &Value,
        mentions: Mentions,
        dry_run: bool,
        by: &str,
    ) -> Result<ForgetReport> {
        let key = self.pseudonym_key()?;
        let (identities, pseudonym) = identities_of(agent, &key).ok_or_else(|| {
            StoreError::Invalid(
                "agent must have an inverse functional identifier (mbox, mbox_sha1sum, openid or account)"
                    .into(),
            )
        })?;
        let identities = &identities[..];
        let ks = &self.inner.ks;
        let mut report = ForgetReport {
            dry_run,
            ..ForgetReport::default()
        };

        let mut plan = self.plan_forget(identities, mentions)?;
        if mentions == Mentions::Void {
            let targets = self.mentions_to_void(&plan, identities);
            report.statements_voided = targets.len() as u64;
            if !dry_run && !targets.is_empty() {
                // Voided first, through the ingest path, so that the read
                // models drop them and a client syncing with `since` sees
                // the voiding. Should anything stop before the batch below,
                // a repeated forget finds them voided and anonymises them.
                self.void_as_lrs(&targets)?;
                // The voiding statements inherit the learner's index rows
                // from their targets: they are found, and re-keyed, below.
                plan = self.plan_forget(identities, mentions)?;
            }
        }
        let Plan {
            found,
            delete,
            voiders,
        } = plan;

        let mut changes: Vec<Change> = Vec::new();
        let mut attachments: BTreeSet<String> = BTreeSet::new();
        let deleting = delete
            .iter()
            .filter_map(|seq| found.get(seq).map(|f| (*seq, &f.json)))
            .chain(voiders.iter().map(|(seq, json)| (*seq, json)));
        let mut deleted_seqs = Vec::new();
        for (seq, json) in deleting {
            deleted_seqs.push(seq);
            report.statements_deleted += 1;
            self.stage_removal(seq, json, true, &mut changes, &mut attachments)?;
            // Its id (nothing else) is kept, so that an LMS sending it
            // again does not bring it back.
            if let Some(id) = statement_id(json) {
                changes.push(Change::Put(
                    &ks.forgotten,
                    id.as_bytes().to_vec(),
                    Vec::new(),
                ));
            }
        }

        // Statements that stay: the learner's rows go; redacted ones, and
        // those that refer to a redacted one (and inherited the learner's
        // rows from it), are found by the placeholder instead.
        let mut redacted: BTreeMap<u64, Value> = BTreeMap::new();
        for (&seq, f) in &found {
            if delete.contains(&seq) || voiders.contains_key(&seq) || f.json.is_null() {
                continue;
            }
            let mut json = f.json.clone();
            if redact_statement(&mut json, identities) {
                redacted.insert(seq, json);
            }
        }
        let redacted_ids: HashSet<Uuid> = redacted.values().filter_map(statement_id).collect();
        let placeholder_digest = index_digest(&placeholder_identity());
        for (&seq, f) in &found {
            if delete.contains(&seq) || voiders.contains_key(&seq) {
                continue;
            }
            for (key, _) in &f.rows {
                changes.push(Change::Remove(&ks.idx_agent, key.clone()));
            }
            let refers_to_redacted = statement_ref_target(&f.json)
                .and_then(|t| Uuid::parse_str(t).ok())
                .is_some_and(|t| redacted_ids.contains(&t));
            match redacted.get(&seq) {
                Some(json) => {
                    report.statements_redacted += 1;
                    let bytes =
                        serde_json::to_vec(json).map_err(|e| StoreError::Engine(e.to_string()))?;
                    changes.push(Change::Put(&ks.statements, seq_bytes(seq).to_vec(), bytes));
                }
                None if refers_to_redacted => {}
                None => continue,
            }
            let key = index_key(&placeholder_digest, seq);
            let existing = ks
                .idx_agent
                .get(key)?
                .and_then(|v| v.first().copied())
                .unwrap_or(0);
            let flags = f.rows.iter().fold(existing, |acc, (_, fl)| acc | fl);
            changes.push(Change::Put(&ks.idx_agent, key.to_vec(), vec![flags]));
        }

        // Attachments no remaining statement refers to.
        let deleted: HashSet<u64> = deleted_seqs.iter().copied().collect();
        let unused = self.unreferenced_attachments(attachments, &deleted)?;
        for sha2 in unused {
            if ks.attachments.contains_key(sha2.as_bytes())? {
                report.attachments += 1;
                changes.push(Change::Remove(&ks.attachments, sha2.into_bytes()));
            }
        }

        // Documents: States (any activity) and the Agent Profile.
        for id in identities {
            let agent = digest(id);
            for row in ks.documents.prefix([b'S']) {
                let key = row.key()?;
                if key.get(1 + DIGEST_LEN..1 + 2 * DIGEST_LEN) == Some(&agent[..]) {
                    report.documents += 1;
                    changes.push(Change::Remove(&ks.documents, key.to_vec()));
                }
            }
            let mut profile = vec![b'G'];
            profile.extend_from_slice(&agent);
            profile.push(0);
            for row in ks.documents.prefix(&profile) {
                report.documents += 1;
                changes.push(Change::Remove(&ks.documents, row.key()?.to_vec()));
            }
            changes.push(Change::Remove(&ks.agents, id.as_bytes().to_vec()));
        }

        // Audit records of reads that named them: the record stays (who
        // read, when, how many rows), the learner in its query does not.
        for row in ks.audit.iter() {
            let (key, value) = row.into_inner()?;
            let Ok(mut entry) = serde_json::from_slice::<AuditEntry>(&value) else {
                continue;
            };
            if let Some(query) = redact_query(&entry.query, identities, &pseudonym) {
                entry.query = query;
                let bytes =
                    serde_json::to_vec(&entry).map_err(|e| StoreError::Engine(e.to_string()))?;
                changes.push(Change::Put(&ks.audit, key.to_vec(), bytes));
            }
        }

        // Read models.
        let analytics = self.analytics()?;
        let (enrolments, rows) = analytics
            .read()
            .map_err(|_| StoreError::Engine("analytics lock poisoned".into()))?
            .rows_of_learners(identities);
        report.read_model_rows = rows.len() as u64;
        for (key, value) in rows {
            changes.push(match value {
                Some(v) => Change::Put(&ks.analytics, key, v),
                None => Change::Remove(&ks.analytics, key),
            });
        }

        report.identity_records = self.identity(&pseudonym)?.is_some() as u64;
        let audit = AuditEntry {
            credential: by.to_owned(),
            action: if dry_run {
                AuditAction::Read
            } else {
                AuditAction::Delete
            },
            resource: if dry_run {
                "forget (dry run)"
            } else {
                "forget"
            }
            .into(),
            query: format!("mode={}", mentions.name()),
            rows: Some(report.statements_deleted + report.statements_redacted),
            status: 0,
        };
        if dry_run {
            self.audit(&audit)?;
            return Ok(report);
        }
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
        // The mapping lives in a database of its own: it goes once the
        // statements are gone (a repeated forget finishes the job).
        self.forget_identity(&pseudonym)?;
        self.audit(&audit)?;
        self.sync_audit()?;

        if let Ok(mut set) = self.inner.voided.write() {
            for seq in &deleted_seqs {
                set.remove(seq);
            }
        }
        if let Ok(mut state) = analytics.write() {
            state.remove_enrolments(&enrolments);
        }
        Ok(report)
    }

    /// Finds every statement that names the learner (directly, as related
    /// agent, or through a statement it targets) and decides which go.
    fn plan_forget(&self, identities: &[String], mentions: Mentions) -> Result<Plan> {
        let ks = &self.inner.ks;
        let corrupt = |what: String| StoreError::Corrupt(what);
        // Every statement that names the learner, directly, as related
        // agent, or through a statement it targets.
        let mut found: BTreeMap<u64, Found> = BTreeMap::new();
        for id in identities {
            for row in ks.idx_agent.prefix(index_digest(id)) {
                let (key, value) = row.into_inner()?;
                let seq = key
                    .get(INDEX_DIGEST_LEN..)
                    .and_then(seq_from)
                    .ok_or_else(|| corrupt("agent index row".into()))?;
                let flags = value.first().copied().unwrap_or(0);
                if let Some(f) = found.get_mut(&seq) {
                    f.rows.push((key.to_vec(), flags));
                    continue;
                }
                let Some(bytes) = ks.statements.get(seq_bytes(seq))? else {
                    // An index row without its statement: drop the row.
                    found.insert(
                        seq,
                        Found {
                            json: Value::Null,
                            rows: vec![(key.to_vec(), flags)],
                        },
                    );
                    continue;
                };
                let json: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| corrupt(format!("statement seq {seq}: {e}")))?;
                found.insert(
                    seq,
                    Found {
                        json,
                        rows: vec![(key.to_vec(), flags)],
                    },
                );
            }
        }

        // Which are deleted, which are redacted.
        let is_learner = |agent: Option<&Value>| {
            agent
                .and_then(ifi::identity)
                .is_some_and(|i| identities.contains(&i))
        };
        let mut delete: BTreeSet<u64> = BTreeSet::new();
        let mut deleted_ids: HashSet<Uuid> = HashSet::new();
        for (&seq, f) in &found {
            if f.json.is_null() || is_voiding(&f.json) {
                continue;
            }
            let mentions_them =
                mentions == Mentions::Delete && redact_statement(&mut f.json.clone(), identities);
            if is_learner(f.json.get("actor")) || mentions_them {
                delete.insert(seq);
                deleted_ids.extend(statement_id(&f.json));
            }
        }
        // The learner's own voiding statements go only with their target.
        for (&seq, f) in &found {
            if is_voiding(&f.json)
                && is_learner(f.json.get("actor"))
                && statement_ref_target(&f.json)
                    .and_then(|t| Uuid::parse_str(t).ok())
                    .is_none_or(|t| deleted_ids.contains(&t))
            {
                delete.insert(seq);
            }
        }
        // Whoever voided a deleted statement: that voiding goes too.
        let mut voiders: BTreeMap<u64, Value> = BTreeMap::new();
        for id in &deleted_ids {
            if let Some(v) = ks.voided.get(id.as_bytes())?
                && let Some(seq) = seq_from(&v)
                && !delete.contains(&seq)
                && let Some(bytes) = ks.statements.get(seq_bytes(seq))?
            {
                let json: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| corrupt(format!("statement seq {seq}: {e}")))?;
                voiders.insert(seq, json);
            }
        }
        Ok(Plan {
            found,
            delete,
            voiders,
        })
    }

    /// The statements [`Mentions::Void`] voids: those that stay and name
    /// the learner, but for voiding statements (which cannot be voided,
    /// xAPI 1.0.3 part 2 §2.3.2) and statements already voided.
    fn mentions_to_void(&self, plan: &Plan, identities: &[String]) -> Vec<Uuid> {
        plan.found
            .iter()
            .filter(|(seq, f)| {
                !plan.delete.contains(seq)
                    && !plan.voiders.contains_key(seq)
                    && !f.json.is_null()
                    && !is_voiding(&f.json)
                    && !self.is_voided(**seq)
                    && redact_statement(&mut f.json.clone(), identities)
            })
            .filter_map(|(_, f)| statement_id(&f.json))
            .collect()
    }

    /// Voids `targets` with statements the LRS issues as [`lrs_agent`],
    /// stored and synced like any client's.
    fn void_as_lrs(&self, targets: &[Uuid]) -> Result<()> {
        for chunk in targets.chunks(VOID_CHUNK) {
            let mut statements = Vec::with_capacity(chunk.len());
            for target in chunk {
                let id = Uuid::new_v4();
                let statement = json!({
                    "id": id.to_string(),
                    "actor": lrs_agent(),
                    "verb": {"id": crate::xapi::VOIDED, "display": {"en-US": "voided"}},
                    "object": {"objectType": "StatementRef", "id": target.to_string()},
                    "authority": lrs_agent(),
                    "version": "1.0.0",
                });
                let fingerprint = crate::xapi::compare::fingerprint(&statement);
                let Value::Object(json) = statement else {
                    unreachable!("built as an object")
                };
                statements.push(super::NewStatement {
                    id,
                    json,
                    fingerprint,
                    attachments: Vec::new(),
                });
            }
            super::writer::append_from_job(self, statements)?;
        }
        Ok(())
    }

    /// Adds to `changes` the removal of one stored statement: its row, its
    /// id, its voided mark and its index rows (computed as the writer
    /// computed them, with what it inherited from its target); collects its
    /// attachments. With `unvoid_target`, a voiding statement's mark on its
    /// target goes too (when the target is deleted as well).
    pub(super) fn stage_removal<'a>(
        &'a self,
        seq: u64,
        json: &Value,
        unvoid_target: bool,
        changes: &mut Vec<Change<'a>>,
        attachments: &mut BTreeSet<String>,
    ) -> Result<()> {
        let ks = &self.inner.ks;
        changes.push(Change::Remove(&ks.statements, seq_bytes(seq).to_vec()));
        if let Some(id) = statement_id(json) {
            changes.push(Change::Remove(&ks.by_id, id.as_bytes().to_vec()));
            // It can no longer be voided.
            changes.push(Change::Remove(&ks.voided, id.as_bytes().to_vec()));
        }
        let target = statement_ref_target(json).and_then(|t| Uuid::parse_str(t).ok());
        if let Some(t) = target
            && unvoid_target
            && is_voiding(json)
        {
            changes.push(Change::Remove(&ks.voided, t.as_bytes().to_vec()));
        }
        let mut keys = IndexKeys::of(json);
        if let Some(t) = target
            && let Some(inherited) = super::writer::inherited_keys(self, t)?
        {
            keys.inherit(&inherited);
        }
        // Rows are found by key; the flags in their values do not matter.
        index::each_row(ks, &IndexRows::of(&keys, &[]), seq, |space, key, _| {
            changes.push(Change::Remove(space, key.to_vec()))
        });
        for a in json
            .get("attachments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(sha2) = a.get("sha2").and_then(Value::as_str) {
                attachments.insert(sha2.to_owned());
            }
        }
        Ok(())
    }

    /// Of the attachments of deleted statements, those no other statement
    /// refers to. Attachments are rare, so the statements are scanned only
    /// when a deleted statement had one.
    pub(super) fn unreferenced_attachments(
        &self,
        mut candidates: BTreeSet<String>,
        deleted: &HashSet<u64>,
    ) -> Result<BTreeSet<String>> {
        if candidates.is_empty() {
            return Ok(candidates);
        }
        for row in self.inner.ks.statements.iter() {
            let (key, json) = row.into_inner()?;
            let Some(seq) = seq_from(&key) else { continue };
            if deleted.contains(&seq) {
                continue;
            }
            candidates.retain(|sha2| !json.windows(sha2.len()).any(|w| w == sha2.as_bytes()));
            if candidates.is_empty() {
                break;
            }
        }
        Ok(candidates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        vec!["mbox:mailto:ana@example.org".to_owned()]
    }

    #[test]
    fn every_place_an_agent_can_name_the_learner_is_anonymised() {
        let ana = json!({"name": "Ana", "mbox": "mailto:ana@example.org"});
        let ana_object =
            json!({"objectType": "Agent", "name": "Ana", "mbox": "mailto:ana@example.org"});
        let bo = json!({"mbox": "mailto:bo@example.org"});
        let mut s = json!({
            "actor": {"objectType": "Group", "name": "Team", "member": [ana, bo]},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/interacted"},
            "object": {"objectType": "SubStatement", "actor": ana,
                       "verb": {"id": "http://example.org/met"}, "object": ana_object,
                       "context": {"instructor": ana}},
            "context": {"instructor": ana, "team": {"objectType": "Group", "member": [ana]},
                        "contextAgents": [{"objectType": "contextAgent", "agent": ana}]}
        });
        assert!(redact_statement(&mut s, &ids()));
        let text = s.to_string();
        assert!(!text.contains("ana@") && !text.contains("Ana"), "{text}");
        assert!(text.contains("bo@example.org"), "others stay: {text}");
        assert_eq!(s["actor"]["name"], "Team");
        assert_eq!(s["object"]["object"]["account"]["name"], PLACEHOLDER_NAME);
        // Nothing to do the second time.
        assert!(!redact_statement(&mut s, &ids()));
    }

    #[test]
    fn an_identified_group_that_is_the_learner_keeps_its_other_members() {
        let mut g = json!({"objectType": "Group", "mbox": "mailto:ana@example.org",
                           "member": [{"mbox": "mailto:bo@example.org"}]});
        assert!(redact_agent(&mut g, &ids()));
        assert_eq!(g["objectType"], "Group");
        assert_eq!(g["member"][0]["mbox"], "mailto:bo@example.org");
        assert!(g.get("mbox").is_none());
    }

    #[test]
    fn audit_queries_lose_the_learner_and_keep_the_rest() {
        let q = form_urlencoded::Serializer::new(String::new())
            .append_pair("agent", r#"{"mbox":"mailto:ana@example.org"}"#)
            .append_pair("verb", "http://adlnet.gov/expapi/verbs/completed")
            .finish();
        let redacted = redact_query(&q, &ids(), "abc").unwrap();
        assert!(!redacted.contains("ana"), "{redacted}");
        assert!(redacted.contains("verb=http"), "{redacted}");
        assert!(redact_query("verb=x&agent=%7B%7D", &ids(), "abc").is_none());
        assert!(redact_query("pseudonym=ABC", &ids(), "abc").is_some());
    }

    #[test]
    fn an_mbox_also_names_its_sha1sum_and_pseudonym() {
        let key = Key::new([7; 32]);
        let (ids, p) = identities_of(&json!({"mbox": "mailto:ana@example.org"}), &key).unwrap();
        assert_eq!(ids.len(), 3);
        assert!(ids[1].starts_with("mbox_sha1sum:"));
        assert_eq!(ids[2], pseudonym::pseudonym_identity(&p));
        assert!(identities_of(&json!({"name": "x"}), &key).is_none());
    }
}
