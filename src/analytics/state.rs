//! The read models in memory, and how the store's writer keeps them:
//! [`State`] holds every enrolment; a [`Group`] collects what one group
//! commit changes, so that the store can write the changed rows into the
//! same atomic batch as the statements and, once that batch is on disk,
//! [`Group::publish`] makes the change visible to queries.
//!
//! Voiding (xAPI 1.0.3 part 2, §2.3.2 "Voided"): a voided statement is
//! taken back out by rebuilding its learner's enrolment from the learner's
//! statements that remain, since best scores and first times cannot be
//! subtracted.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, RwLock, RwLockReadGuard};

use serde_json::Value;
use uuid::Uuid;

use super::extract::{Fact, Target, extract};
use super::lms::LmsCountries;
use super::model::{EnrolKey, Enrolment, RowChange, Str, Tag, enrol_key, row_changes};
use crate::xapi::pseudonym::normalise_url;

/// Where a rebuild reads statements from (the store, in production).
pub trait StatementSource {
    /// A stored statement by id: its seq, JSON and whether it is voided.
    fn statement(&self, id: Uuid) -> Result<Option<(u64, Value, bool)>, String>;
    /// Every statement whose actor is `identity` that is not voided, in
    /// seq order.
    fn statements_of_actor(&self, identity: &str) -> Result<Vec<(u64, Value)>, String>;
    /// The LMS home page of a learner ([`super::lms::home_of_identity`]);
    /// a store also looks up the account a pseudonym replaced.
    fn learner_home(&self, identity: &str) -> Option<String> {
        super::lms::home_of_identity(identity, |_| Vec::new())
    }
}

/// A fast hash for the string pool (FxHash's multiply-rotate): the keys
/// are IRIs and identities the LRS stored, and SipHash's protection
/// against chosen collisions is not worth its cost on every statement.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes(c.try_into().unwrap_or_default());
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(K);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(5) ^ n as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type Pool = HashSet<Str, BuildHasherDefault<FastHasher>>;
pub(crate) type Fast<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// A module of a course, as the catalog knows it.
#[derive(Debug, Clone)]
pub struct CatalogModule {
    pub iri: Str,
    /// Some learner has a success status in it (it has a pass mark).
    pub graded: bool,
}

/// A question of a course, as the catalog knows it.
#[derive(Debug, Clone)]
pub struct CatalogQuestion {
    pub iri: Str,
    /// Index in [`Catalog::modules`].
    pub module: usize,
    pub kind: Option<Str>,
    pub tag: Option<Tag>,
    /// Its place among the module's questions for the learner who first
    /// answered it (questions are listed in the order learners meet them).
    pub position: u32,
}

/// The modules and questions of one course, kept up to date as rows
/// change, so that a query does not have to find them among every
/// learner's rows. A module or question whose last row was taken out by a
/// voiding stays listed (with no learners) until the next start.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub modules: Vec<CatalogModule>,
    pub questions: Vec<CatalogQuestion>,
    modules_by: Fast<Str, usize>,
    questions_by: Fast<Str, usize>,
}

impl Catalog {
    fn module(&mut self, iri: &Str) -> usize {
        if let Some(&i) = self.modules_by.get(iri) {
            return i;
        }
        self.modules.push(CatalogModule {
            iri: iri.clone(),
            graded: false,
        });
        self.modules_by.insert(iri.clone(), self.modules.len() - 1);
        self.modules.len() - 1
    }

    /// Takes in the rows of `e` that differ from `before`.
    fn note(&mut self, e: &Enrolment, before: Option<&Enrolment>) {
        for (i, m) in e.modules.iter().enumerate() {
            let unchanged = before
                .and_then(|b| b.modules.get(i))
                .is_some_and(|o| Arc::ptr_eq(o, m));
            if unchanged {
                continue;
            }
            let mi = self.module(&m.module);
            if m.success.is_some() {
                self.modules[mi].graded = true;
            }
        }
        for (i, q) in e.questions.iter().enumerate() {
            let unchanged = before
                .and_then(|b| b.questions.get(i))
                .is_some_and(|o| o == q);
            if unchanged {
                continue;
            }
            let Some(module) = e.modules.get(q.module as usize) else {
                continue;
            };
            let mi = self.module(&module.module);
            match self.questions_by.get(&q.question) {
                Some(&qi) => {
                    let known = &mut self.questions[qi];
                    if known.kind.is_none() {
                        known.kind = q.kind().map(Str::from);
                    }
                    if known.tag.is_none() {
                        known.tag = q.tag;
                    }
                }
                None => {
                    let position = e.questions[..i]
                        .iter()
                        .filter(|x| x.module == q.module)
                        .count() as u32;
                    self.questions.push(CatalogQuestion {
                        iri: q.question.clone(),
                        module: mi,
                        kind: q.kind().map(Str::from),
                        tag: q.tag,
                        position,
                    });
                    self.questions_by
                        .insert(q.question.clone(), self.questions.len() - 1);
                }
            }
        }
    }
}

/// Every enrolment, shared by queries and the writer.
pub struct State {
    salt: [u8; 16],
    pub(crate) enrolments: Fast<EnrolKey, Arc<Enrolment>>,
    /// Course IRI → its modules and questions.
    pub(crate) catalogs: Fast<Str, Catalog>,
    strings: Pool,
    /// The countries of the partner LMSs ([`super::lms`]).
    lms: LmsCountries,
}

impl State {
    pub fn new(salt: [u8; 16]) -> State {
        State {
            salt,
            enrolments: Fast::default(),
            catalogs: Fast::default(),
            strings: Pool::default(),
            lms: LmsCountries::default(),
        }
    }

    /// Sets the countries of the partner LMSs and works out every
    /// enrolment's LMS country again (from the home page it keeps).
    pub fn set_lms_countries(&mut self, lms: LmsCountries) {
        self.lms = lms;
        let mut found: Fast<Str, Option<Str>> = Fast::default();
        let keys: Vec<EnrolKey> = self.enrolments.keys().copied().collect();
        for key in keys {
            let Some(home) = self.enrolments.get(&key).map(|e| e.home.clone()) else {
                continue;
            };
            let country = match home {
                None => None,
                Some(home) => match found.get(&home) {
                    Some(c) => c.clone(),
                    None => {
                        let c = self.lms.country_of(&home).map(str::to_owned);
                        let c = c.map(|c| self.intern(&c));
                        found.insert(home, c.clone());
                        c
                    }
                },
            };
            if let Some(e) = self.enrolments.get_mut(&key)
                && e.lms_country != country
            {
                Arc::make_mut(e).set_lms_country(country);
            }
        }
    }

    /// Gives the enrolments that have none the home page of their
    /// learner's LMS (after a rebuild). `home` gives a learner's
    /// ([`StatementSource::learner_home`]); it is asked once per learner.
    pub fn fill_homes(&mut self, home: &dyn Fn(&str) -> Option<String>) {
        let mut found: Fast<Str, Option<Str>> = Fast::default();
        let keys: Vec<EnrolKey> = self.enrolments.keys().copied().collect();
        for key in keys {
            let Some(learner) = self
                .enrolments
                .get(&key)
                .filter(|e| e.home.is_none())
                .map(|e| e.learner.clone())
            else {
                continue;
            };
            let h = match found.get(&learner) {
                Some(h) => h.clone(),
                None => {
                    let h = home(&learner).map(|h| self.intern(&normalise_url(&h)));
                    found.insert(learner, h.clone());
                    h
                }
            };
            if h.is_some()
                && let Some(e) = self.enrolments.get_mut(&key)
            {
                Arc::make_mut(e).home = h;
            }
        }
    }

    /// A shared copy of `s`.
    pub fn intern(&mut self, s: &str) -> Str {
        if let Some(v) = self.strings.get(s) {
            return v.clone();
        }
        let v = Str::from(s);
        self.strings.insert(v.clone());
        v
    }

    /// The pseudonym of a learner identity: stable for this data folder,
    /// not reversible without its secret salt.
    pub fn pseudonym(&self, identity: &str) -> Str {
        pseudonym(&self.salt, identity)
    }

    pub fn insert(&mut self, key: EnrolKey, e: Enrolment) {
        self.enrolments.insert(key, Arc::new(e));
    }

    /// Rebuilds every course's catalog from the enrolments (after loading
    /// or rebuilding the state), and gives back the room the rows' arrays
    /// grew into while they were read (up to half of them).
    pub fn refresh_catalogs(&mut self) {
        for e in self.enrolments.values_mut() {
            let e = Arc::make_mut(e);
            e.modules.shrink_to_fit();
            e.questions.shrink_to_fit();
            e.registrations.shrink_to_fit();
            e.responses.shrink_to_fit();
        }
        self.catalogs.clear();
        for e in self.enrolments.values() {
            self.catalogs
                .entry(e.course.clone())
                .or_default()
                .note(e, None);
        }
    }

    pub fn len(&self) -> usize {
        self.enrolments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.enrolments.is_empty()
    }

    /// The enrolments `keep` selects, shared: the caller computes on them
    /// without holding the lock.
    pub fn select(&self, mut keep: impl FnMut(&Enrolment) -> bool) -> Vec<Arc<Enrolment>> {
        self.enrolments
            .values()
            .filter(|e| keep(e))
            .cloned()
            .collect()
    }

    /// The enrolments of these learners (identities) and the row changes
    /// that delete them, for forgetting a learner.
    pub fn rows_of_learners(&self, learners: &[String]) -> (Vec<EnrolKey>, Vec<RowChange>) {
        let mut keys = Vec::new();
        let mut rows = Vec::new();
        for (key, e) in &self.enrolments {
            if learners.iter().any(|l| **l == *e.learner) {
                keys.push(*key);
                row_changes(key, Some(e), None, &mut rows);
            }
        }
        (keys, rows)
    }

    /// Drops enrolments whose rows were deleted from the store. Their
    /// modules and questions stay in the catalogs until the next start.
    pub fn remove_enrolments(&mut self, keys: &[EnrolKey]) {
        for key in keys {
            self.enrolments.remove(key);
        }
    }

    /// Folds statements (in seq order) into the state, as a rebuild does.
    pub fn fold(&mut self, statement: &Value) {
        let salt = self.salt;
        let Some(fact) = extract(statement, &mut |s| self.intern(s)) else {
            return;
        };
        let key = enrol_key(&fact.course, &fact.learner);
        let entry = self.enrolments.entry(key).or_insert_with(|| {
            Arc::new(Enrolment::new(
                fact.course.clone(),
                fact.learner.clone(),
                pseudonym(&salt, &fact.learner),
            ))
        });
        Arc::make_mut(entry).apply(&fact);
    }
}

pub fn pseudonym(salt: &[u8; 16], identity: &str) -> Str {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(salt);
    h.update(identity.as_bytes());
    let d = h.finalize();
    Str::from(format!("P-{}", hex::encode(&d[..5])))
}

struct Draft {
    before: Option<Arc<Enrolment>>,
    now: Option<Enrolment>,
}

struct Logged {
    id: Option<Uuid>,
    seq: u64,
    key: EnrolKey,
    fact: Fact,
}

/// The changes of one group commit, before it is committed.
pub struct Group<'a> {
    lock: &'a RwLock<State>,
    base: Option<RwLockReadGuard<'a, State>>,
    new_strings: Pool,
    drafts: Fast<EnrolKey, Draft>,
    /// This group's facts, for a rebuild if one of them is voided.
    log: Vec<Logged>,
    voided: HashSet<u64>,
    rebuild: HashMap<EnrolKey, (Str, Str)>,
    /// Enrolments whose statements identity retention re-keyed (see
    /// [`Group::rekey`]).
    moves: HashMap<EnrolKey, Move>,
}

/// What identity retention moves out of one enrolment: the facts of its
/// re-keyed statements, as they read under the pseudonym.
struct Move {
    course: Str,
    learner: Str,
    facts: Vec<Fact>,
}

impl<'a> Group<'a> {
    pub fn new(lock: &'a RwLock<State>) -> Group<'a> {
        Group {
            lock,
            base: lock.read().ok(),
            new_strings: Pool::default(),
            drafts: Fast::default(),
            log: Vec::new(),
            voided: HashSet::new(),
            rebuild: HashMap::new(),
            moves: HashMap::new(),
        }
    }

    fn intern(&mut self, s: &str) -> Str {
        if let Some(v) = self.base.as_ref().and_then(|b| b.strings.get(s)) {
            return v.clone();
        }
        if let Some(v) = self.new_strings.get(s) {
            return v.clone();
        }
        let v = Str::from(s);
        self.new_strings.insert(v.clone());
        v
    }

    fn salt(&self) -> [u8; 16] {
        self.base.as_ref().map(|b| b.salt).unwrap_or_default()
    }

    /// A new enrolment of `learner` in `course`, with the home page of the
    /// learner's LMS and its country.
    fn fresh(&mut self, course: &Str, learner: &Str, source: &dyn StatementSource) -> Enrolment {
        let mut e = Enrolment::new(
            course.clone(),
            learner.clone(),
            pseudonym(&self.salt(), learner),
        );
        // An enrolment rebuilt after a voiding keeps the home page it had
        // (the pseudonym's identity record may be gone since).
        let known = self
            .base
            .as_ref()
            .and_then(|b| b.enrolments.get(&enrol_key(course, learner)))
            .and_then(|e| e.home.clone());
        e.home = match known {
            Some(h) => Some(h),
            None => source
                .learner_home(learner)
                .map(|h| self.intern(&normalise_url(&h))),
        };
        let country = match (&self.base, &e.home) {
            (Some(b), Some(home)) => b.lms.country_of(home).map(str::to_owned),
            _ => None,
        };
        if let Some(c) = country {
            let c = self.intern(&c);
            e.set_lms_country(Some(c));
        }
        e
    }

    fn draft(
        &mut self,
        key: EnrolKey,
        course: &Str,
        learner: &Str,
        source: &dyn StatementSource,
    ) -> &mut Enrolment {
        if !self.drafts.contains_key(&key) {
            let before = self
                .base
                .as_ref()
                .and_then(|b| b.enrolments.get(&key).cloned());
            let now = before.as_deref().cloned();
            self.drafts.insert(key, Draft { before, now });
        }
        let missing = self.drafts.get(&key).is_none_or(|d| d.now.is_none());
        let fresh = missing.then(|| self.fresh(course, learner, source));
        let salt = self.salt();
        let draft = self.drafts.entry(key).or_insert_with(|| Draft {
            before: None,
            now: None,
        });
        if fresh.is_some() {
            draft.now = fresh;
        }
        draft.now.get_or_insert_with(|| {
            Enrolment::new(course.clone(), learner.clone(), pseudonym(&salt, learner))
        })
    }

    /// Projects one newly stored statement. `voided` is true when the
    /// statement was voided before it arrived.
    pub fn project(
        &mut self,
        statement: &Value,
        seq: u64,
        voided: bool,
        source: &dyn StatementSource,
    ) -> Result<(), String> {
        if let Some(target) = voiding_target(statement) {
            return self.void(target, source);
        }
        if voided {
            return Ok(());
        }
        let Some(fact) = extract(statement, &mut |s| self.intern(s)) else {
            return Ok(());
        };
        let id = statement
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok());
        self.record(fact, id, seq, source);
        Ok(())
    }

    /// Projects one newly stored statement from what [`crate::analytics::fact_of`]
    /// read from it: `voids` is the statement it voids, if it is a voiding
    /// statement; `voided` is true when it was voided before it arrived.
    pub fn project_fact(
        &mut self,
        id: Uuid,
        voids: Option<Uuid>,
        fact: Option<Fact>,
        seq: u64,
        voided: bool,
        source: &dyn StatementSource,
    ) -> Result<(), String> {
        if let Some(target) = voids {
            return self.void(target, source);
        }
        if voided {
            return Ok(());
        }
        let Some(fact) = fact else {
            return Ok(());
        };
        let fact = self.share_strings(fact);
        self.record(fact, Some(id), seq, source);
        Ok(())
    }

    /// Swaps a fact's strings for the state's copies, so that a string
    /// repeated by a million statements is kept once.
    fn share_strings(&mut self, mut fact: Fact) -> Fact {
        // Every field named, so a new string field cannot be missed.
        let Fact {
            course,
            learner,
            name,
            module,
            target,
            verb: _,
            at_ms: _,
            score: _,
            success: _,
            completion: _,
            duration_ms: _,
            response,
            interaction,
            tag: _,
            cohort,
            country,
            language,
            registration,
            page,
        } = &mut fact;
        let mut share = |s: &mut Str| *s = self.intern(s);
        share(course);
        share(learner);
        if let Target::Question(s) | Target::Page(s) = target {
            share(s);
        }
        for s in [
            name,
            module,
            response,
            interaction,
            cohort,
            country,
            language,
            registration,
            page,
        ]
        .into_iter()
        .flatten()
        {
            share(s);
        }
        fact
    }

    fn record(&mut self, fact: Fact, id: Option<Uuid>, seq: u64, source: &dyn StatementSource) {
        let key = enrol_key(&fact.course, &fact.learner);
        let (course, learner) = (fact.course.clone(), fact.learner.clone());
        self.draft(key, &course, &learner, source).apply(&fact);
        self.log.push(Logged { id, seq, key, fact });
    }

    fn void(&mut self, target: Uuid, source: &dyn StatementSource) -> Result<(), String> {
        let found = self
            .log
            .iter()
            .find(|l| l.id == Some(target))
            .map(|l| (l.seq, l.key, l.fact.course.clone(), l.fact.learner.clone()));
        let found = match found {
            Some(f) => Some(f),
            None => match source.statement(target)? {
                Some((seq, json, false)) => extract(&json, &mut |s| self.intern(s)).map(|f| {
                    let key = enrol_key(&f.course, &f.learner);
                    (seq, key, f.course, f.learner)
                }),
                _ => None,
            },
        };
        if let Some((seq, key, course, learner)) = found {
            self.voided.insert(seq);
            self.rebuild.insert(key, (course, learner));
        }
        Ok(())
    }

    /// Identity retention replaced the learner of the statement at `seq`
    /// by their pseudonym: `old` is what it said before, `new` after. In
    /// [`Group::finish`], when none of the learner's statements in that
    /// course keep the real identifier, their whole enrolment moves to the
    /// pseudonym (figures of statements pruned earlier included); else it
    /// is rebuilt from the statements that keep it, as after a voiding, and
    /// the re-keyed facts are added to the pseudonym's enrolment.
    pub fn rekey(&mut self, seq: u64, old: Fact, new: Fact) {
        // The rebuild of the old enrolment skips it, as a voided statement.
        self.voided.insert(seq);
        let new = self.share_strings(new);
        self.moves
            .entry(enrol_key(&old.course, &old.learner))
            .or_insert_with(|| Move {
                course: old.course.clone(),
                learner: old.learner.clone(),
                facts: Vec::new(),
            })
            .facts
            .push(new);
    }

    /// The enrolment as this group leaves it so far.
    fn current(&self, key: EnrolKey) -> Option<Enrolment> {
        match self.drafts.get(&key) {
            Some(d) => d.now.clone(),
            None => self
                .base
                .as_ref()
                .and_then(|b| b.enrolments.get(&key))
                .map(|e| (**e).clone()),
        }
    }

    fn set(&mut self, key: EnrolKey, now: Option<Enrolment>) {
        let base = &self.base;
        self.drafts
            .entry(key)
            .or_insert_with(|| Draft {
                before: base.as_ref().and_then(|b| b.enrolments.get(&key).cloned()),
                now: None,
            })
            .now = now;
    }

    fn apply_moves(&mut self, source: &dyn StatementSource) -> Result<(), String> {
        let salt = self.salt();
        for (key, mv) in std::mem::take(&mut self.moves) {
            let Some(first) = mv.facts.first() else {
                continue;
            };
            let (course, pseudonymous) = (first.course.clone(), first.learner.clone());
            let to = enrol_key(&course, &pseudonymous);
            let mut keeps_identifier = false;
            for (seq, json) in source.statements_of_actor(&mv.learner)? {
                if !self.voided.contains(&seq)
                    && extract(&json, &mut |s| self.intern(s))
                        .is_some_and(|f| f.course == mv.course)
                {
                    keeps_identifier = true;
                    break;
                }
            }
            let moved = match self.current(key) {
                Some(e) if !keeps_identifier && self.current(to).is_none() => Some(e),
                _ => None,
            };
            if let Some(mut e) = moved {
                e.learner = pseudonymous.clone();
                e.pid = pseudonym(&salt, &pseudonymous);
                e.name = None;
                self.set(key, None);
                self.set(to, Some(e));
                continue;
            }
            // The pseudonym has no identity record to find its LMS by: it
            // keeps the one the identifier's enrolment had.
            let lms = self
                .current(key)
                .map(|e| (e.home.clone(), e.lms_country.clone()));
            if keeps_identifier {
                self.rebuild.insert(key, (mv.course, mv.learner));
            } else {
                self.set(key, None);
            }
            let draft = self.draft(to, &course, &pseudonymous, source);
            if draft.home.is_none()
                && let Some((home, country)) = lms
            {
                draft.home = home;
                draft.set_lms_country(country);
            }
            for f in &mv.facts {
                draft.apply(f);
            }
        }
        Ok(())
    }

    /// Rebuilds the enrolments a voiding changed and returns every row
    /// to write into the batch.
    pub fn finish(&mut self, source: &dyn StatementSource) -> Result<Vec<RowChange>, String> {
        self.apply_moves(source)?;
        let rebuild = std::mem::take(&mut self.rebuild);
        for (key, (course, learner)) in rebuild {
            let mut fresh = self.fresh(&course, &learner, source);
            for (seq, json) in source.statements_of_actor(&learner)? {
                if self.voided.contains(&seq) {
                    continue;
                }
                if let Some(f) = extract(&json, &mut |s| self.intern(s))
                    && f.course == course
                {
                    fresh.apply(&f);
                }
            }
            for l in &self.log {
                if l.key == key && !self.voided.contains(&l.seq) {
                    fresh.apply(&l.fact);
                }
            }
            let base = &self.base;
            let draft = self.drafts.entry(key).or_insert_with(|| Draft {
                before: base.as_ref().and_then(|b| b.enrolments.get(&key).cloned()),
                now: None,
            });
            draft.now = (!fresh.is_empty()).then_some(fresh);
        }
        let mut rows = Vec::new();
        for (key, d) in &self.drafts {
            row_changes(key, d.before.as_deref(), d.now.as_ref(), &mut rows);
        }
        Ok(rows)
    }

    /// Makes the group's changes visible; call once its batch is on disk.
    pub fn publish(mut self) {
        self.base = None;
        if self.drafts.is_empty() {
            return;
        }
        let Ok(mut state) = self.lock.write() else {
            return;
        };
        let state = &mut *state;
        state.strings.extend(self.new_strings.drain());
        for (key, d) in self.drafts.drain() {
            match d.now {
                Some(e) => {
                    state
                        .catalogs
                        .entry(e.course.clone())
                        .or_default()
                        .note(&e, d.before.as_deref());
                    state.enrolments.insert(key, Arc::new(e));
                }
                None => {
                    state.enrolments.remove(&key);
                }
            }
        }
    }
}

/// The id a voiding statement targets.
fn voiding_target(statement: &Value) -> Option<Uuid> {
    // (`Value::pointer` allocates; this runs for every statement.)
    let verb = statement.get("verb").and_then(|v| v.get("id"));
    if verb.and_then(Value::as_str) != Some(crate::xapi::VOIDED) {
        return None;
    }
    crate::xapi::keys::statement_ref_target(statement).and_then(|t| Uuid::parse_str(t).ok())
}
