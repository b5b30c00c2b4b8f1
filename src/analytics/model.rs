//! The read models: one [`Enrolment`] per learner × course, holding the
//! learner's progress in each module and their answers to each question,
//! and how a [`Fact`] (what one statement says) folds into it.
//!
//! Folding is designed to give the same result whatever order statements
//! arrive in (the LRS stores them in arrival order, but `timestamp` says
//! when they happened): counts add up, first/last times are min/max, and
//! "latest" values carry the timestamp they were set at.

use std::sync::Arc;

use super::extract::{Fact, Target, Verb};

/// A shared, immutable string (IRIs and identities repeat across many rows;
/// the state keeps one copy of each).
pub type Str = Arc<str>;

/// Knowledge / skills / attitude, the three parts of the course's
/// pre- and post-assessment (`urn:kmh:ext:tag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tag {
    Knowledge,
    Skills,
    Attitude,
}

impl Tag {
    pub const ALL: [Tag; 3] = [Tag::Knowledge, Tag::Skills, Tag::Attitude];

    pub fn as_str(self) -> &'static str {
        match self {
            Tag::Knowledge => "knowledge",
            Tag::Skills => "skills",
            Tag::Attitude => "attitude",
        }
    }

    pub fn parse(s: &str) -> Option<Tag> {
        match s.trim().to_ascii_lowercase().as_str() {
            "knowledge" | "k" => Some(Tag::Knowledge),
            "skills" | "skill" | "s" => Some(Tag::Skills),
            "attitude" | "attitudes" | "a" => Some(Tag::Attitude),
            _ => None,
        }
    }

    fn code(tag: Option<Tag>) -> u8 {
        match tag {
            None => 0,
            Some(Tag::Knowledge) => 1,
            Some(Tag::Skills) => 2,
            Some(Tag::Attitude) => 3,
        }
    }

    fn from_code(code: u8) -> Option<Tag> {
        match code {
            1 => Some(Tag::Knowledge),
            2 => Some(Tag::Skills),
            3 => Some(Tag::Attitude),
            _ => None,
        }
    }
}

/// An xAPI interaction type (`definition.interactionType`) as one byte:
/// question rows are the bulk of the read models, and the ten types are a
/// closed list (xAPI 1.0.3 part 2, §2.4.4.1 "Interaction Activities").
const INTERACTION_TYPES: [&str; 10] = [
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
];

fn kind_code(kind: Option<&str>) -> u8 {
    match kind {
        None => 0,
        Some(k) => INTERACTION_TYPES
            .iter()
            .position(|t| *t == k)
            .map_or(10, |i| i as u8 + 1),
    }
}

fn kind_name(code: u8) -> Option<&'static str> {
    code.checked_sub(1)
        .and_then(|i| INTERACTION_TYPES.get(i as usize))
        .copied()
}

/// Everything known about one learner in one course.
#[derive(Debug, Clone, PartialEq)]
pub struct Enrolment {
    pub course: Str,
    /// The learner's identity ([`crate::xapi::ifi::identity`] of the actor).
    pub learner: Str,
    /// The learner's pseudonym; derived, never stored.
    pub pid: Str,
    pub name: Option<Str>,
    pub cohort: Option<Str>,
    /// The learner's country: [`Self::stated_country`], else
    /// [`Self::lms_country`] (see [`super::lms`] for why); derived, never
    /// stored.
    pub country: Option<Str>,
    /// The latest `urn:kmh:ext:country` of the learner's statements.
    pub stated_country: Option<Str>,
    /// The country of the learner's LMS ([`super::lms`]); derived, never
    /// stored, so that a changed mapping counts statements already stored.
    pub lms_country: Option<Str>,
    /// The home page of the learner's LMS account (normalised; for a
    /// pseudonym, of the account it replaced). Kept in the row, so that the
    /// learner's LMS country outlives the pseudonym's identity record
    /// (identity retention); it names the LMS, not the person.
    pub home: Option<Str>,
    pub language: Option<Str>,
    /// When the attribute values above were last changed (statement time).
    pub attrs_ms: i64,
    /// The first few registrations seen (a cohort filter matches them too).
    pub registrations: Vec<Str>,
    /// First and last statement about the course activity itself
    /// (`i64::MAX` / `i64::MIN` when none).
    pub course_first_ms: i64,
    pub course_last_ms: i64,
    /// A `completed` / `passed` statement about the course activity itself.
    pub completed_ms: Option<i64>,
    pub passed_ms: Option<i64>,
    /// Module rows are shared with earlier versions of the enrolment: a
    /// group commit copies only the module rows it changes, and an
    /// unchanged one is recognised by its address.
    pub modules: Vec<Arc<ModuleProgress>>,
    /// Question rows are held inline and compact (a course has dozens of
    /// questions per learner, and these rows are most of the read models'
    /// memory): a group commit copies a changed learner's array whole and
    /// finds the changed rows by comparing them.
    pub questions: Vec<QuestionStat>,
    /// The texts of the latest survey answers ([`QuestionStat`]'s
    /// `response`). A text replaced by an answer without one stays here
    /// until the enrolment is next loaded.
    pub responses: Vec<Str>,
}

/// A learner's progress in one module (one SCO): 120 bytes. A time that
/// may be missing is [`NEVER`] and a missing score NaN rather than an
/// `Option`, which would take 16 bytes each (there are about ten of these
/// rows per learner).
#[derive(Debug, Clone)]
pub struct ModuleProgress {
    pub module: Str,
    pub first_ms: i64,
    pub last_ms: i64,
    /// `initialized` statements: each starts an attempt.
    pub attempts: u32,
    /// Sum of `result.duration` of `terminated` / `suspended` statements.
    pub time_ms: u64,
    /// The first time the module was completed.
    completed_ms: i64,
    /// The first time the module was passed.
    passed_ms: i64,
    /// The latest success status, and when it was set.
    pub success: Option<bool>,
    pub success_ms: i64,
    best_score: f64,
    latest_score: f64,
    pub score_ms: i64,
    /// The page the learner was last on.
    pub page: Option<Str>,
    pub page_ms: i64,
}

/// A learner's answers to one question (48 bytes, held inline: these rows
/// are most of the read models' memory, a few dozen per learner).
#[derive(Debug, Clone)]
pub struct QuestionStat {
    pub question: Str,
    pub last_ms: i64,
    /// The latest answer's score; NaN when none (an `Option<f64>` would
    /// take 16 bytes).
    last_scaled: f64,
    /// Counts saturate at 65,535 answers of one learner to one question.
    pub attempts: u16,
    /// Answers with a known success (scored questions).
    pub graded: u16,
    pub correct: u16,
    /// Index of the question's module in [`Enrolment::modules`].
    pub module: u16,
    /// The latest answer's text, kept only for answers without a success
    /// (survey answers): 1 + its index in [`Enrolment::responses`], 0 for
    /// none. Most rows have none, so the text is not held in every row.
    response: u16,
    kind: u8,
    pub tag: Option<Tag>,
    pub last_success: Option<bool>,
}

impl QuestionStat {
    pub fn last_scaled(&self) -> Option<f64> {
        (!self.last_scaled.is_nan()).then_some(self.last_scaled)
    }

    /// The interaction type (`choice`, `likert`, `fill-in`, …).
    pub fn kind(&self) -> Option<&'static str> {
        kind_name(self.kind)
    }
}

// Equality compares shared strings by address first: the writer compares
// every row it may rewrite, for every group commit.
impl PartialEq for ModuleProgress {
    fn eq(&self, o: &Self) -> bool {
        same(&self.module, &o.module)
            && self.first_ms == o.first_ms
            && self.last_ms == o.last_ms
            && self.attempts == o.attempts
            && self.time_ms == o.time_ms
            && self.completed_ms == o.completed_ms
            && self.passed_ms == o.passed_ms
            && self.success == o.success
            && self.success_ms == o.success_ms
            && self.best_score.to_bits() == o.best_score.to_bits()
            && self.latest_score.to_bits() == o.latest_score.to_bits()
            && self.score_ms == o.score_ms
            && same_opt(&self.page, &o.page)
            && self.page_ms == o.page_ms
    }
}

impl PartialEq for QuestionStat {
    fn eq(&self, o: &Self) -> bool {
        same(&self.question, &o.question)
            && self.module == o.module
            && self.kind == o.kind
            && self.tag == o.tag
            && self.attempts == o.attempts
            && self.graded == o.graded
            && self.correct == o.correct
            && self.last_ms == o.last_ms
            && self.last_success == o.last_success
            && self.last_scaled.to_bits() == o.last_scaled.to_bits()
            // The text behind the index is not compared: it only changes
            // with a new answer, which changes `attempts` too.
            && self.response == o.response
    }
}

/// Longest answer text kept (free-text survey answers).
pub const MAX_RESPONSE_CHARS: usize = 1000;
/// Registrations kept per enrolment.
const MAX_REGISTRATIONS: usize = 8;

impl Enrolment {
    pub fn new(course: Str, learner: Str, pid: Str) -> Enrolment {
        Enrolment {
            course,
            learner,
            pid,
            name: None,
            cohort: None,
            country: None,
            stated_country: None,
            lms_country: None,
            home: None,
            language: None,
            attrs_ms: i64::MIN,
            registrations: Vec::new(),
            course_first_ms: i64::MAX,
            course_last_ms: i64::MIN,
            completed_ms: None,
            passed_ms: None,
            modules: Vec::new(),
            questions: Vec::new(),
            responses: Vec::new(),
        }
    }

    /// The first statement about this course (enrolment date).
    pub fn first_ms(&self) -> i64 {
        self.modules
            .iter()
            .map(|m| m.first_ms)
            .fold(self.course_first_ms, i64::min)
    }

    pub fn last_ms(&self) -> i64 {
        self.modules
            .iter()
            .map(|m| m.last_ms)
            .fold(self.course_last_ms, i64::max)
    }

    pub fn module(&self, iri: &str) -> Option<&ModuleProgress> {
        self.modules
            .iter()
            .find(|m| &*m.module == iri)
            .map(|m| &**m)
    }

    pub fn is_empty(&self) -> bool {
        self.modules.is_empty() && self.questions.is_empty() && self.course_first_ms == i64::MAX
    }

    /// The header fields (everything but modules and questions) are equal.
    pub fn same_header(&self, other: &Enrolment) -> bool {
        self.course == other.course
            && self.learner == other.learner
            && self.name == other.name
            && self.cohort == other.cohort
            && self.stated_country == other.stated_country
            && self.home == other.home
            && self.language == other.language
            && self.attrs_ms == other.attrs_ms
            && self.registrations == other.registrations
            && self.course_first_ms == other.course_first_ms
            && self.course_last_ms == other.course_last_ms
            && self.completed_ms == other.completed_ms
            && self.passed_ms == other.passed_ms
    }

    /// Folds one statement's fact into the enrolment.
    pub fn apply(&mut self, f: &Fact) {
        self.apply_attributes(f);
        let module = match (&f.target, &f.module) {
            (Target::Course, _) | (_, None) => {
                self.course_first_ms = self.course_first_ms.min(f.at_ms);
                self.course_last_ms = self.course_last_ms.max(f.at_ms);
                let done = matches!(f.verb, Verb::Completed | Verb::Satisfied)
                    || f.completion == Some(true);
                if done {
                    self.completed_ms = min_opt(self.completed_ms, f.at_ms);
                }
                if matches!(f.verb, Verb::Passed) || (f.success == Some(true) && done) {
                    self.passed_ms = min_opt(self.passed_ms, f.at_ms);
                }
                return;
            }
            (_, Some(m)) => m.clone(),
        };
        let idx = match find(&self.modules, |m| &m.module, &module) {
            Some(i) => i,
            None => {
                self.modules
                    .push(Arc::new(ModuleProgress::new(module.clone(), f.at_ms)));
                self.modules.len() - 1
            }
        };
        let m = Arc::make_mut(&mut self.modules[idx]);
        m.first_ms = m.first_ms.min(f.at_ms);
        m.last_ms = m.last_ms.max(f.at_ms);
        match &f.target {
            Target::Module => m.apply(f),
            Target::Page(page) => m.set_page(page, f.at_ms),
            Target::Question(q) => {
                if let Some(page) = &f.page {
                    m.set_page(page, f.at_ms);
                }
                if matches!(f.verb, Verb::Answered) {
                    self.apply_answer(q, idx, f);
                }
            }
            Target::Other | Target::Course => {
                if let Some(page) = &f.page {
                    m.set_page(page, f.at_ms);
                }
            }
        }
    }

    /// Sets the country of the learner's LMS (`None`: not a partner's).
    pub fn set_lms_country(&mut self, country: Option<Str>) {
        self.lms_country = country;
        self.settle_country();
    }

    fn settle_country(&mut self) {
        self.country = self
            .stated_country
            .clone()
            .or_else(|| self.lms_country.clone());
    }

    fn apply_attributes(&mut self, f: &Fact) {
        let newer = f.at_ms >= self.attrs_ms;
        let mut touched = false;
        for (slot, value) in [
            (&mut self.name, &f.name),
            (&mut self.cohort, &f.cohort),
            (&mut self.stated_country, &f.country),
            (&mut self.language, &f.language),
        ] {
            if let Some(v) = value
                && slot.as_ref() != Some(v)
                && (slot.is_none() || newer)
            {
                *slot = Some(v.clone());
                touched = true;
            }
        }
        if touched {
            self.attrs_ms = self.attrs_ms.max(f.at_ms);
            self.settle_country();
        }
        if let Some(r) = &f.registration
            && self.registrations.len() < MAX_REGISTRATIONS
            && !self.registrations.contains(r)
        {
            self.registrations.push(r.clone());
        }
    }

    fn apply_answer(&mut self, question: &Str, module: usize, f: &Fact) {
        let idx = match find(&self.questions, |q| &q.question, question) {
            Some(i) => i,
            None => {
                self.questions
                    .push(QuestionStat::new(question.clone(), module as u16));
                self.questions.len() - 1
            }
        };
        let q = &mut self.questions[idx];
        q.attempts = q.attempts.saturating_add(1);
        if let Some(s) = f.success {
            q.graded = q.graded.saturating_add(1);
            if s {
                q.correct = q.correct.saturating_add(1);
            }
        }
        if f.interaction.is_some() && (q.kind == 0 || f.at_ms >= q.last_ms) {
            q.kind = kind_code(f.interaction.as_deref());
        }
        if f.tag.is_some() && (q.tag.is_none() || f.at_ms >= q.last_ms) {
            q.tag = f.tag;
        }
        if f.at_ms >= q.last_ms {
            q.last_ms = f.at_ms;
            q.last_success = f.success;
            q.last_scaled = f
                .score
                .or(f.success.map(|s| if s { 1.0 } else { 0.0 }))
                .unwrap_or(f64::NAN);
            q.response = match &f.response {
                None => 0,
                Some(text) if q.response > 0 => {
                    self.responses[usize::from(q.response) - 1] = text.clone();
                    q.response
                }
                Some(text) => match u16::try_from(self.responses.len() + 1) {
                    Ok(n) => {
                        self.responses.push(text.clone());
                        n
                    }
                    Err(_) => 0,
                },
            };
        }
    }

    /// The latest answer's text of a question row of this enrolment.
    pub fn response(&self, q: &QuestionStat) -> Option<&Str> {
        usize::from(q.response)
            .checked_sub(1)
            .and_then(|i| self.responses.get(i))
    }
}

impl QuestionStat {
    fn new(question: Str, module: u16) -> QuestionStat {
        QuestionStat {
            question,
            response: 0,
            last_ms: i64::MIN,
            last_scaled: f64::NAN,
            attempts: 0,
            graded: 0,
            correct: 0,
            module,
            kind: 0,
            tag: None,
            last_success: None,
        }
    }
}

impl ModuleProgress {
    fn new(module: Str, at_ms: i64) -> Self {
        ModuleProgress {
            module,
            first_ms: at_ms,
            last_ms: at_ms,
            attempts: 0,
            time_ms: 0,
            completed_ms: NEVER,
            passed_ms: NEVER,
            success: None,
            success_ms: i64::MIN,
            best_score: f64::NAN,
            latest_score: f64::NAN,
            score_ms: i64::MIN,
            page: None,
            page_ms: i64::MIN,
        }
    }

    fn apply(&mut self, f: &Fact) {
        if matches!(f.verb, Verb::Initialized) {
            self.attempts = self.attempts.saturating_add(1);
        }
        if matches!(f.verb, Verb::Terminated | Verb::Suspended)
            && let Some(d) = f.duration_ms
        {
            self.time_ms = self.time_ms.saturating_add(d);
        }
        if matches!(f.verb, Verb::Completed | Verb::Satisfied) || f.completion == Some(true) {
            self.completed_ms = self.completed_ms.min(f.at_ms);
        }
        let success = match f.verb {
            Verb::Passed => Some(true),
            Verb::Failed => Some(false),
            _ => f.success,
        };
        if let Some(s) = success {
            if s {
                self.passed_ms = self.passed_ms.min(f.at_ms);
            }
            if f.at_ms >= self.success_ms {
                self.success = Some(s);
                self.success_ms = f.at_ms;
            }
        }
        if let Some(score) = f.score {
            // `max` takes the number over NaN (no score yet).
            self.best_score = self.best_score.max(score);
            if f.at_ms >= self.score_ms {
                self.latest_score = score;
                self.score_ms = f.at_ms;
            }
        }
        if let Some(page) = &f.page {
            self.set_page(page, f.at_ms);
        }
    }

    fn set_page(&mut self, page: &Str, at_ms: i64) {
        if at_ms >= self.page_ms {
            self.page = Some(page.clone());
            self.page_ms = at_ms;
        }
    }

    /// Completed, or (for modules that only report success) passed.
    pub fn is_completed(&self) -> bool {
        self.completed_ms().is_some() || self.passed_ms().is_some()
    }

    pub fn completed_ms(&self) -> Option<i64> {
        (self.completed_ms != NEVER).then_some(self.completed_ms)
    }

    pub fn passed_ms(&self) -> Option<i64> {
        (self.passed_ms != NEVER).then_some(self.passed_ms)
    }

    pub fn best_score(&self) -> Option<f64> {
        (!self.best_score.is_nan()).then_some(self.best_score)
    }

    pub fn latest_score(&self) -> Option<f64> {
        (!self.latest_score.is_nan()).then_some(self.latest_score)
    }
}

/// A first time that has not come (the later of two times is kept, so no
/// statement time can be mistaken for it).
const NEVER: i64 = i64::MAX;

/// The position of the row named `name`. Every string in the read models
/// is shared from one pool, so the same address almost always finds it;
/// the text is compared only when that fails.
fn find<T>(rows: &[T], key: impl Fn(&T) -> &Str, name: &Str) -> Option<usize> {
    rows.iter()
        .position(|r| Arc::ptr_eq(key(r), name))
        .or_else(|| rows.iter().position(|r| key(r) == name))
}

/// Same string: same address, or same text.
fn same(a: &Str, b: &Str) -> bool {
    Arc::ptr_eq(a, b) || a == b
}

fn same_opt(a: &Option<Str>, b: &Option<Str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same(a, b),
        (None, None) => true,
        _ => false,
    }
}

fn min_opt(current: Option<i64>, at: i64) -> Option<i64> {
    Some(current.map_or(at, |c| c.min(at)))
}

// ---------------------------------------------------------------------------
// Rows: how an enrolment is stored. One header row, one row per module and
// one per question, so that a statement rewrites only the small rows it
// changes. Keys: digest(course, learner) (16 bytes) ++ kind (1 byte)
// ++ digest(module or question IRI) (8 bytes) for module and question rows.

pub const KEY_LEN: usize = 16;
pub type EnrolKey = [u8; KEY_LEN];

const ROW_HEADER: u8 = 0;
const ROW_MODULE: u8 = 1;
const ROW_QUESTION: u8 = 2;
const ROW_VERSION: u8 = 1;

/// The key of an enrolment (and prefix of all its rows).
pub fn enrol_key(course: &str, learner: &str) -> EnrolKey {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(course.as_bytes());
    h.update([0x1f]);
    h.update(learner.as_bytes());
    let full = h.finalize();
    let mut out = [0u8; KEY_LEN];
    out.copy_from_slice(&full[..KEY_LEN]);
    out
}

fn sub_key(key: &EnrolKey, kind: u8, iri: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut out = Vec::with_capacity(KEY_LEN + 9);
    out.extend_from_slice(key);
    out.push(kind);
    if kind != ROW_HEADER {
        out.extend_from_slice(&Sha256::digest(iri.as_bytes())[..8]);
    }
    out
}

/// One row to write (`Some`) or delete (`None`).
pub type RowChange = (Vec<u8>, Option<Vec<u8>>);

/// The row changes that turn `before` into `after`.
pub fn row_changes(
    key: &EnrolKey,
    before: Option<&Enrolment>,
    after: Option<&Enrolment>,
    out: &mut Vec<RowChange>,
) {
    match (before, after) {
        (None, None) => {}
        (Some(b), None) => {
            out.push((sub_key(key, ROW_HEADER, ""), None));
            for m in &b.modules {
                out.push((sub_key(key, ROW_MODULE, &m.module), None));
            }
            for q in &b.questions {
                out.push((sub_key(key, ROW_QUESTION, &q.question), None));
            }
        }
        (b, Some(a)) => {
            if b.is_none_or(|b| !b.same_header(a)) {
                out.push((sub_key(key, ROW_HEADER, ""), Some(encode_header(a))));
            }
            // Rows keep their positions as an enrolment grows, so the row
            // at the same position is almost always the one to compare.
            for (i, m) in a.modules.iter().enumerate() {
                let old = b.and_then(|b| match b.modules.get(i) {
                    Some(x) if same(&x.module, &m.module) => Some(x),
                    _ => find(&b.modules, |x| &x.module, &m.module).map(|j| &b.modules[j]),
                });
                if !old.is_some_and(|o| Arc::ptr_eq(o, m) || o == m) {
                    out.push((
                        sub_key(key, ROW_MODULE, &m.module),
                        Some(encode_module(&a.course, m)),
                    ));
                }
            }
            for (i, q) in a.questions.iter().enumerate() {
                let old = b.and_then(|b| match b.questions.get(i) {
                    Some(x) if same(&x.question, &q.question) => Some(x),
                    _ => find(&b.questions, |x| &x.question, &q.question).map(|j| &b.questions[j]),
                });
                if !old.is_some_and(|o| o == q) {
                    out.push((
                        sub_key(key, ROW_QUESTION, &q.question),
                        Some(encode_question(a, q)),
                    ));
                }
            }
            // Rows only disappear when a voiding rebuilt the enrolment.
            if let Some(b) = b {
                for (i, m) in b.modules.iter().enumerate() {
                    let kept = a.modules.get(i).is_some_and(|x| same(&x.module, &m.module))
                        || find(&a.modules, |x| &x.module, &m.module).is_some();
                    if !kept {
                        out.push((sub_key(key, ROW_MODULE, &m.module), None));
                    }
                }
                for (i, q) in b.questions.iter().enumerate() {
                    let kept = a
                        .questions
                        .get(i)
                        .is_some_and(|x| same(&x.question, &q.question))
                        || find(&a.questions, |x| &x.question, &q.question).is_some();
                    if !kept {
                        out.push((sub_key(key, ROW_QUESTION, &q.question), None));
                    }
                }
            }
        }
    }
}

/// Every row of an enrolment (for a rebuild).
pub fn all_rows(e: &Enrolment, out: &mut Vec<RowChange>) {
    let key = enrol_key(&e.course, &e.learner);
    row_changes(&key, None, Some(e), out);
}

/// Rebuilds enrolments from their rows, which must come in key order.
/// `intern` shares strings; `pid` derives the pseudonym of a learner.
///
/// An enrolment's rows are gathered in arrays reused from one enrolment to
/// the next and copied out at their exact size, so that loading a million
/// rows leaves no trail of outgrown arrays behind in the heap.
pub struct RowReader<'a> {
    intern: &'a mut dyn FnMut(&str) -> Str,
    pid: &'a dyn Fn(&str) -> Str,
    current: Option<(EnrolKey, Enrolment)>,
    modules: Vec<Arc<ModuleProgress>>,
    questions: Vec<QuestionStat>,
}

impl<'a> RowReader<'a> {
    pub fn new(intern: &'a mut dyn FnMut(&str) -> Str, pid: &'a dyn Fn(&str) -> Str) -> Self {
        RowReader {
            intern,
            pid,
            current: None,
            modules: Vec::new(),
            questions: Vec::new(),
        }
    }

    /// The enrolment being read, with its rows.
    fn take(&mut self) -> Option<(EnrolKey, Enrolment)> {
        let (key, mut e) = self.current.take()?;
        e.modules = self.modules.drain(..).collect();
        e.questions = self.questions.drain(..).collect();
        Some((key, e))
    }

    /// Feeds one row; returns an enrolment when the row starts the next one.
    pub fn push(
        &mut self,
        key: &[u8],
        value: &[u8],
    ) -> Result<Option<(EnrolKey, Enrolment)>, String> {
        let bad = |what: &str| format!("analytics row {}: {what}", hex::encode(key));
        if key.len() < KEY_LEN + 1 {
            return Err(bad("short key"));
        }
        let mut ek = [0u8; KEY_LEN];
        ek.copy_from_slice(&key[..KEY_LEN]);
        let mut r = Reader::new(value);
        if r.u8().ok_or_else(|| bad("empty"))? != ROW_VERSION {
            return Err(bad("unknown row version"));
        }
        match key[KEY_LEN] {
            ROW_HEADER => {
                let finished = self.take();
                let e =
                    decode_header(&mut r, self.intern, self.pid).ok_or_else(|| bad("header"))?;
                self.current = Some((ek, e));
                Ok(finished)
            }
            kind @ (ROW_MODULE | ROW_QUESTION) => {
                let Some((cur_key, e)) = self.current.as_mut() else {
                    return Err(bad("row without header"));
                };
                if *cur_key != ek {
                    return Err(bad("row without header"));
                }
                if kind == ROW_MODULE {
                    let m = decode_module(&mut r, &e.course, self.intern)
                        .ok_or_else(|| bad("module"))?;
                    self.modules.push(Arc::new(m));
                } else {
                    let q = decode_question(
                        &mut r,
                        &e.course,
                        &self.modules,
                        self.intern,
                        &mut e.responses,
                    )
                    .ok_or_else(|| bad("question"))?;
                    self.questions.push(q);
                }
                Ok(None)
            }
            _ => Err(bad("unknown row kind")),
        }
    }

    pub fn finish(mut self) -> Option<(EnrolKey, Enrolment)> {
        self.take()
    }
}

fn encode_header(e: &Enrolment) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(ROW_VERSION);
    w.str(&e.course);
    w.str(&e.learner);
    w.opt_str(e.name.as_deref());
    w.opt_str(e.cohort.as_deref());
    w.opt_str(e.stated_country.as_deref());
    w.opt_str(e.language.as_deref());
    w.int(e.attrs_ms);
    w.uint(e.registrations.len() as u64);
    for r in &e.registrations {
        w.str(r);
    }
    w.int(e.course_first_ms);
    w.int(e.course_last_ms);
    w.opt_int(e.completed_ms);
    w.opt_int(e.passed_ms);
    w.opt_str(e.home.as_deref());
    w.0
}

fn decode_header(
    r: &mut Reader,
    intern: &mut dyn FnMut(&str) -> Str,
    pid: &dyn Fn(&str) -> Str,
) -> Option<Enrolment> {
    let course = intern(r.str()?);
    let learner = intern(r.str()?);
    let mut e = Enrolment::new(course, learner.clone(), pid(&learner));
    e.name = r.opt_str()?.map(&mut *intern);
    e.cohort = r.opt_str()?.map(&mut *intern);
    e.stated_country = r.opt_str()?.map(&mut *intern);
    e.settle_country();
    e.language = r.opt_str()?.map(&mut *intern);
    e.attrs_ms = r.int()?;
    let n = r.uint()?.min(64);
    for _ in 0..n {
        let reg = intern(r.str()?);
        e.registrations.push(reg);
    }
    e.course_first_ms = r.int()?;
    e.course_last_ms = r.int()?;
    e.completed_ms = r.opt_int()?;
    e.passed_ms = r.opt_int()?;
    e.home = r.opt_str()?.map(&mut *intern);
    Some(e)
}

fn encode_module(course: &str, m: &ModuleProgress) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(ROW_VERSION);
    w.rel(course, &m.module);
    w.int(m.first_ms);
    w.int(m.last_ms);
    w.uint(m.attempts as u64);
    w.uint(m.time_ms);
    w.opt_int(m.completed_ms());
    w.opt_int(m.passed_ms());
    w.opt_bool(m.success);
    w.int(m.success_ms);
    w.opt_f64(m.best_score());
    w.opt_f64(m.latest_score());
    w.int(m.score_ms);
    w.opt_str(m.page.as_deref());
    w.int(m.page_ms);
    w.0
}

fn decode_module(
    r: &mut Reader,
    course: &str,
    intern: &mut dyn FnMut(&str) -> Str,
) -> Option<ModuleProgress> {
    let module = intern(&r.rel(course)?);
    Some(ModuleProgress {
        module,
        first_ms: r.int()?,
        last_ms: r.int()?,
        attempts: r.uint()?.min(u32::MAX as u64) as u32,
        time_ms: r.uint()?,
        completed_ms: r.opt_int()?.unwrap_or(NEVER),
        passed_ms: r.opt_int()?.unwrap_or(NEVER),
        success: r.opt_bool()?,
        success_ms: r.int()?,
        best_score: r.opt_f64()?.unwrap_or(f64::NAN),
        latest_score: r.opt_f64()?.unwrap_or(f64::NAN),
        score_ms: r.int()?,
        page: r.opt_str()?.map(&mut *intern),
        page_ms: r.int()?,
    })
}

/// The stored row names the module and interaction type in full, so the
/// in-memory layout can change without touching the stored rows.
fn encode_question(e: &Enrolment, q: &QuestionStat) -> Vec<u8> {
    let course = &e.course;
    let module = e.modules.get(q.module as usize).map_or("", |m| &*m.module);
    let mut w = Writer::default();
    w.u8(ROW_VERSION);
    w.rel(course, &q.question);
    w.rel(course, module);
    w.opt_str(q.kind());
    w.u8(Tag::code(q.tag));
    w.uint(q.attempts as u64);
    w.uint(q.graded as u64);
    w.uint(q.correct as u64);
    w.int(q.last_ms);
    w.opt_bool(q.last_success);
    w.opt_f64(q.last_scaled());
    w.opt_str(e.response(q).map(|s| &**s));
    w.0
}

/// A question row of an enrolment whose module rows (which come first in
/// key order) are `modules`.
fn decode_question(
    r: &mut Reader,
    course: &str,
    modules: &[Arc<ModuleProgress>],
    intern: &mut dyn FnMut(&str) -> Str,
    responses: &mut Vec<Str>,
) -> Option<QuestionStat> {
    let question = intern(&r.rel(course)?);
    let module = r.rel(course)?;
    let module = modules.iter().position(|m| *m.module == *module)?;
    let mut q = QuestionStat::new(question, u16::try_from(module).ok()?);
    q.kind = kind_code(r.opt_str()?);
    q.tag = Tag::from_code(r.u8()?);
    let count = |v: u64| v.min(u16::MAX as u64) as u16;
    q.attempts = count(r.uint()?);
    q.graded = count(r.uint()?);
    q.correct = count(r.uint()?);
    q.last_ms = r.int()?;
    q.last_success = r.opt_bool()?;
    q.last_scaled = r.opt_f64()?.unwrap_or(f64::NAN);
    if let Some(text) = r.opt_str()?
        && let Ok(n) = u16::try_from(responses.len() + 1)
    {
        responses.push(Str::from(text));
        q.response = n;
    }
    Some(q)
}

/// A compact binary row encoding: varints, length-prefixed strings.
#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn uint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn int(&mut self, v: i64) {
        self.uint(((v << 1) ^ (v >> 63)) as u64);
    }
    fn str(&mut self, s: &str) {
        self.uint(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
    /// An IRI under the course's IRI is stored as its suffix.
    fn rel(&mut self, base: &str, s: &str) {
        match s.strip_prefix(base).and_then(|r| r.strip_prefix('/')) {
            Some(rest) => {
                self.u8(1);
                self.str(rest);
            }
            None => {
                self.u8(0);
                self.str(s);
            }
        }
    }
    fn opt_int(&mut self, v: Option<i64>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.int(v);
            }
        }
    }
    fn opt_bool(&mut self, v: Option<bool>) {
        self.u8(match v {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
    }
    fn opt_f64(&mut self, v: Option<f64>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.0.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader(bytes)
    }
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn uint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }
    fn int(&mut self) -> Option<i64> {
        let u = self.uint()?;
        Some(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
    fn str(&mut self) -> Option<&'a str> {
        let len = usize::try_from(self.uint()?).ok()?;
        if len > self.0.len() {
            return None;
        }
        let (s, rest) = self.0.split_at(len);
        self.0 = rest;
        std::str::from_utf8(s).ok()
    }
    fn opt_str(&mut self) -> Option<Option<&'a str>> {
        match self.u8()? {
            0 => Some(None),
            _ => Some(Some(self.str()?)),
        }
    }
    fn rel(&mut self, base: &str) -> Option<String> {
        match self.u8()? {
            1 => Some(format!("{base}/{}", self.str()?)),
            _ => Some(self.str()?.to_owned()),
        }
    }
    fn opt_int(&mut self) -> Option<Option<i64>> {
        match self.u8()? {
            0 => Some(None),
            _ => Some(Some(self.int()?)),
        }
    }
    fn opt_bool(&mut self) -> Option<Option<bool>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(false)),
            _ => Some(Some(true)),
        }
    }
    fn opt_f64(&mut self) -> Option<Option<f64>> {
        match self.u8()? {
            0 => Some(None),
            _ => {
                let bytes: [u8; 8] = self.0.get(..8)?.try_into().ok()?;
                self.0 = &self.0[8..];
                Some(Some(f64::from_le_bytes(bytes)))
            }
        }
    }
}
