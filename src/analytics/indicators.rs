//! Programme indicators over the read models: the figures the hub's M&E
//! staff report on, by course, module, cohort, language, country and
//! period, computed from [`State`] without reading the statement log.
//!
//! Definitions (also in README.md):
//! - a learner is **enrolled** in a course once any statement places them
//!   in it (e.g. `registered`); **started** once they have activity in a
//!   module; **completed** with a `completed` statement about the course,
//!   or every module of the course completed (the course's modules are
//!   those any learner has activity in); **passed** with a `passed`
//!   statement about the course, or completed with every module that
//!   reports success passed.
//! - the **period** (`from`, `to`, inclusive dates, UTC) selects learners
//!   by the day they enrolled (their first statement in the course).
//! - **pre/post**: a learner's score in the pre- and post-assessment
//!   modules is the module's latest `result.score`, else the mean of their
//!   latest answers; per part (knowledge, skills, attitude) the mean of
//!   their latest answers to the questions tagged with it. Gains are over
//!   learners with both scores; the normalised gain is (post − pre) /
//!   (1 − pre).
//! - **drop-off** (`stopped_here`): learners who have not completed the
//!   course and whose furthest module is this one.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{Enrolment, ModuleProgress, QuestionStat, Tag};
use super::slice::Slice;
use super::state::{Catalog, Fast, State};

/// Activity definitions, as the LRS merged them from statements.
pub trait Definitions {
    fn definition(&self, iri: &str) -> Option<Value>;

    /// For a learner stored by pseudonym: the identifier and name it
    /// replaced, as people read them (shown only with `identities`).
    fn reidentify(&self, _identity: &str) -> Option<(String, Option<String>)> {
        None
    }
}

impl<F: Fn(&str) -> Option<Value>> Definitions for F {
    fn definition(&self, iri: &str) -> Option<Value> {
        self(iri)
    }
}

/// Which learners and modules an indicator covers. Empty fields select all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// Course IRI or id (`reintegration-me`); default: the course with the
    /// most learners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course: Option<String>,
    /// Module IRI or id (`s03-me-of-reintegration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// Cohort (`urn:kmh:ext:cohort`) or registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<String>,
    /// Language (primary subtag: `en`, `fr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Country (ISO 3166-1 alpha-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// First enrolment day included (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Last enrolment day included (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// What the reader's credential may see; never taken from a request.
    #[serde(skip)]
    pub slice: Slice,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QueryError {
    #[error("{0}")]
    BadFilter(String),
    #[error("no learner {0}")]
    NoLearner(String),
    #[error("the read models are unavailable: {0}")]
    Unavailable(String),
}

impl Filter {
    /// Blank values count as absent.
    pub fn normalized(mut self) -> Filter {
        for f in [
            &mut self.course,
            &mut self.module,
            &mut self.cohort,
            &mut self.language,
            &mut self.country,
            &mut self.from,
            &mut self.to,
        ] {
            if f.as_deref().is_some_and(|s| s.trim().is_empty()) {
                *f = None;
            } else if let Some(s) = f {
                *s = s.trim().to_owned();
            }
        }
        self
    }

    fn range(&self) -> Result<(i64, i64), QueryError> {
        let day = |s: &str| {
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(s, &fmt)
                .map(|d| d.midnight().assume_utc().unix_timestamp() * 1000)
                .map_err(|_| QueryError::BadFilter(format!("{s:?} is not a date (YYYY-MM-DD)")))
        };
        let from = self
            .from
            .as_deref()
            .map(day)
            .transpose()?
            .unwrap_or(i64::MIN);
        let to = match self.to.as_deref() {
            Some(s) => day(s)? + 86_400_000 - 1,
            None => i64::MAX,
        };
        Ok((from, to))
    }
}

/// A course, module or question as shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Named {
    pub iri: String,
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleInfo {
    #[serde(flatten)]
    pub named: Named,
    /// `pre-assessment`, `post-assessment`, `survey` or `lesson`.
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Count {
    pub value: String,
    pub learners: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseCount {
    #[serde(flatten)]
    pub named: Named,
    pub learners: u32,
}

/// The values the filters can take.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Options {
    pub courses: Vec<CourseCount>,
    pub modules: Vec<ModuleInfo>,
    pub cohorts: Vec<Count>,
    pub countries: Vec<Count>,
    pub languages: Vec<Count>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub enrolled: u32,
    pub started: u32,
    pub completed: u32,
    pub passed: u32,
    /// completed / enrolled.
    pub completion_rate: Option<f64>,
    /// passed / enrolled.
    pub pass_rate: Option<f64>,
    /// Enrolment to completion, in days.
    pub median_days_to_complete: Option<f64>,
    /// Time spent in modules by those who completed, in hours.
    pub median_hours_spent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelRow {
    pub module: String,
    pub title: String,
    pub role: String,
    pub started: u32,
    pub completed: u32,
    pub passed: u32,
    pub failed: u32,
    pub mean_score: Option<f64>,
    pub median_minutes: Option<f64>,
    pub stopped_here: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagRow {
    pub tag: String,
    pub pairs: u32,
    pub pre_mean: Option<f64>,
    pub post_mean: Option<f64>,
    pub gain_mean: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub pre_module: Option<String>,
    pub post_module: Option<String>,
    pub pre_takers: u32,
    pub post_takers: u32,
    /// Learners with both scores.
    pub pairs: u32,
    pub pre_mean: Option<f64>,
    pub post_mean: Option<f64>,
    pub gain_mean: Option<f64>,
    pub normalized_gain_mean: Option<f64>,
    /// Share of pairs whose post score is above their pre score.
    pub improved_share: Option<f64>,
    pub by_tag: Vec<TagRow>,
    /// Pairs by score, in ten bands of 0.1 (the last includes 1.0).
    pub pre_histogram: Vec<u32>,
    pub post_histogram: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimePoint {
    /// First day of the week (Monday) or month.
    pub start: String,
    pub started: u32,
    pub completed: u32,
    pub cumulative_started: u32,
    pub cumulative_completed: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OverTime {
    /// `week` or `month`.
    pub unit: String,
    pub points: Vec<TimePoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LikertRow {
    pub question: String,
    pub title: String,
    pub labels: Vec<String>,
    /// Answers per scale point, lowest first.
    pub counts: Vec<u32>,
    pub responses: u32,
    pub mean: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub question: String,
    pub date: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Satisfaction {
    pub module: Option<String>,
    pub respondents: u32,
    pub questions: Vec<LikertRow>,
    /// Free-text answers, newest first, without learner ids.
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionRow {
    pub question: String,
    pub module: String,
    pub title: String,
    pub tag: Option<String>,
    pub kind: Option<String>,
    pub learners: u32,
    pub attempts: u32,
    pub graded: u32,
    /// Correct answers / graded answers.
    pub correct_rate: Option<f64>,
}

/// Every indicator for one course and filter: what the dashboard shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub course: Option<Named>,
    pub filter: Filter,
    pub generated: String,
    pub options: Options,
    pub summary: Summary,
    pub funnel: Vec<FunnelRow>,
    pub assessment: Assessment,
    pub over_time: OverTime,
    pub satisfaction: Satisfaction,
    pub questions: Vec<QuestionRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnerRow {
    /// Pseudonym.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub country: Option<String>,
    pub language: Option<String>,
    pub cohort: Option<String>,
    pub first: String,
    pub last: String,
    pub modules_completed: u32,
    pub modules_total: u32,
    /// `enrolled`, `in progress`, `completed` or `passed`.
    pub status: String,
    pub pre: Option<f64>,
    pub post: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnerPage {
    pub course: Option<Named>,
    pub total: u32,
    pub offset: u32,
    pub learners: Vec<LearnerRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleRow {
    pub module: String,
    pub title: String,
    pub role: String,
    /// `not started`, `in progress`, `completed`, `passed` or `failed`.
    pub status: String,
    pub first: Option<String>,
    pub last: Option<String>,
    pub attempts: u32,
    pub minutes: f64,
    pub best_score: Option<f64>,
    pub latest_score: Option<f64>,
    pub page: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnerDetail {
    pub course: Named,
    pub learner: LearnerRow,
    pub modules: Vec<ModuleRow>,
    pub pre_post: Vec<TagRow>,
}

// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Pre,
    Post,
    Survey,
    Lesson,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Pre => "pre-assessment",
            Role::Post => "post-assessment",
            Role::Survey => "survey",
            Role::Lesson => "lesson",
        }
    }
}

struct ModuleMeta {
    iri: Arc<str>,
    id: String,
    title: String,
    role: Role,
    /// Some learner has a success status in it (it has a pass mark).
    graded: bool,
}

struct QuestionMeta {
    iri: Arc<str>,
    /// Index of its module in [`Course::modules`].
    module: usize,
    kind: Option<Arc<str>>,
    tag: Option<Tag>,
}

/// Finds the index of an IRI. The read models share one copy of each
/// string, so the address of the string almost always finds it; its
/// content is the fallback.
#[derive(Default)]
struct Index {
    by_ptr: Fast<usize, usize>,
    by_str: Fast<Arc<str>, usize>,
}

fn addr(s: &Arc<str>) -> usize {
    Arc::as_ptr(s) as *const u8 as usize
}

impl Index {
    fn get(&self, s: &Arc<str>) -> Option<usize> {
        self.by_ptr
            .get(&addr(s))
            .or_else(|| self.by_str.get(&**s))
            .copied()
    }

    /// The index of `s`, adding it (as `next`) when new.
    fn get_or_add(&mut self, s: &Arc<str>, next: usize) -> usize {
        if let Some(&i) = self.by_ptr.get(&addr(s)) {
            return i;
        }
        let i = *self.by_str.entry(s.clone()).or_insert(next);
        self.by_ptr.insert(addr(s), i);
        i
    }
}

/// One course's outline as the read models know it, with titles.
struct Course {
    named: Named,
    modules: Vec<ModuleMeta>,
    module_index: Index,
    /// In module order, then in the order learners meet them.
    questions: Vec<QuestionMeta>,
    question_index: Index,
}

impl Course {
    fn with_role(&self, role: Role) -> Option<usize> {
        self.modules.iter().position(|m| m.role == role)
    }
}

/// One answer of a learner: its row (held inline in the enrolment, so
/// walking a learner's answers is a walk over one array) and the index of
/// its question in the course's outline, looked up once per query. 16
/// bytes: a query over every learner keeps one of these per answer.
#[derive(Clone, Copy)]
struct Answer<'a> {
    /// Index of the question in [`Course::questions`].
    q: usize,
    row: &'a QuestionStat,
}

impl<'a> Answer<'a> {
    fn scaled(&self) -> Option<f64> {
        self.row.last_scaled()
    }
    /// The answer's text; `e` is the enrolment of its row.
    fn response(&self, e: &'a Enrolment) -> Option<&'a str> {
        e.response(self.row).map(|s| &**s)
    }
}

/// One learner's enrolment arranged by the course's outline: computed once
/// per query, used by every indicator.
struct View<'a> {
    e: &'a Enrolment,
    /// Progress by module index.
    modules: Vec<Option<&'a ModuleProgress>>,
    answers: Vec<Answer<'a>>,
    completed_at: Option<i64>,
    passed: bool,
    first_ms: i64,
}

impl<'a> View<'a> {
    fn new(course: &Course, e: &'a Enrolment) -> View<'a> {
        let mut modules = vec![None; course.modules.len()];
        for p in &e.modules {
            if let Some(i) = course.module_index.get(&p.module) {
                modules[i] = Some(&**p);
            }
        }
        let answers = e
            .questions
            .iter()
            .filter_map(|row| {
                Some(Answer {
                    q: course.question_index.get(&row.question)?,
                    row,
                })
            })
            .collect();
        let completed_at = e.completed_ms.or_else(|| {
            if modules.is_empty() {
                return None;
            }
            let mut last = i64::MIN;
            for p in &modules {
                let p = (*p)?;
                last = last.max(p.completed_ms().or(p.passed_ms())?);
            }
            Some(last)
        });
        let passed = e.passed_ms.is_some()
            || (completed_at.is_some()
                && course.modules.iter().zip(&modules).all(|(m, p)| {
                    !m.graded
                        || p.is_some_and(|p| p.success == Some(true) || p.passed_ms().is_some())
                }));
        View {
            e,
            modules,
            answers,
            completed_at,
            passed,
            first_ms: e.first_ms(),
        }
    }

    /// The learner's score in a module: its latest score, else the mean of
    /// their latest answers there.
    fn module_score(&self, course: &Course, module: usize) -> Option<f64> {
        if let Some(s) = self.modules[module].and_then(|m| m.latest_score()) {
            return Some(s);
        }
        let answers: Vec<f64> = self
            .answers
            .iter()
            .filter(|a| course.questions[a.q].module == module)
            .filter_map(|a| a.scaled())
            .collect();
        mean(&answers)
    }

    fn status(&self) -> &'static str {
        if self.passed {
            "passed"
        } else if self.completed_at.is_some() {
            "completed"
        } else if self.e.modules.is_empty() {
            "enrolled"
        } else {
            "in progress"
        }
    }
}

/// A snapshot of one course's enrolments, taken under the lock and used
/// without it.
struct Snapshot {
    course: Option<Course>,
    all: Vec<Arc<Enrolment>>,
    courses: Vec<CourseCount>,
}

fn short_id(base: &str, iri: &str) -> String {
    let rest = iri
        .strip_prefix(base)
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or(iri);
    rest.rsplit('/').next().unwrap_or(rest).to_owned()
}

fn course_id(iri: &str) -> String {
    iri.rsplit([':', '/']).next().unwrap_or(iri).to_owned()
}

/// The text of a language map in `lang`, else English, else any.
fn lang_text(map: Option<&Value>, lang: &str) -> Option<String> {
    let map = map?.as_object()?;
    let primary = |k: &str| k.split('-').next().unwrap_or(k).to_ascii_lowercase();
    map.get(lang)
        .or_else(|| map.iter().find(|(k, _)| primary(k) == lang).map(|(_, v)| v))
        .or_else(|| map.iter().find(|(k, _)| primary(k) == "en").map(|(_, v)| v))
        .or_else(|| map.values().next())
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn title_of(defs: &dyn Definitions, iri: &str, fallback: &str, lang: &str) -> String {
    defs.definition(iri)
        .and_then(|d| lang_text(d.get("name"), lang))
        .unwrap_or_else(|| fallback.to_owned())
}

fn role_of(def: Option<&Value>, id: &str) -> Role {
    let declared = def
        .and_then(|d| d.get("extensions"))
        .and_then(|x| x.get(super::EXT_ROLE))
        .and_then(Value::as_str);
    match declared {
        Some("pre-assessment") => return Role::Pre,
        Some("post-assessment") => return Role::Post,
        Some("survey") => return Role::Survey,
        Some("lesson") => return Role::Lesson,
        _ => {}
    }
    let id = id.to_ascii_lowercase();
    if id.contains("pre-assessment") || id.contains("pre-test") || id.contains("pretest") {
        Role::Pre
    } else if id.contains("post-assessment") || id.contains("post-test") || id.contains("posttest")
    {
        Role::Post
    } else if id.contains("survey") || id.contains("satisfaction") {
        Role::Survey
    } else {
        Role::Lesson
    }
}

fn resolve_course(wanted: Option<&str>, counts: &HashMap<Arc<str>, u32>) -> Option<Arc<str>> {
    match wanted {
        Some(w) => counts
            .keys()
            .find(|c| &***c == w || course_id(c) == w)
            .cloned(),
        None => counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(c, _)| c.clone()),
    }
}

/// The enrolments of one course (`course`, else the one with the most
/// learners) that `slice` admits; other courses and learners outside the
/// slice are not even counted.
fn snapshot(
    lock: &RwLock<State>,
    defs: &dyn Definitions,
    course: Option<&str>,
    slice: &Slice,
    lang: &str,
) -> Result<Snapshot, QueryError> {
    let state = lock
        .read()
        .map_err(|_| QueryError::Unavailable("state lock poisoned".into()))?;
    let mut counts: HashMap<Arc<str>, u32> = HashMap::new();
    if slice.is_all() {
        for e in state.enrolments.values() {
            *counts.entry(e.course.clone()).or_default() += 1;
        }
    } else {
        for e in state.enrolments.values() {
            if slice.admits(e) {
                *counts.entry(e.course.clone()).or_default() += 1;
            }
        }
    }
    let chosen = resolve_course(course, &counts);
    if course.is_some() && chosen.is_none() {
        return Err(QueryError::BadFilter(format!(
            "no course {:?}",
            course.unwrap_or_default()
        )));
    }
    let all = match &chosen {
        Some(c) if slice.is_all() => state.select(|e| e.course == *c),
        Some(c) => state.select(|e| e.course == *c && slice.admits(e)),
        None => Vec::new(),
    };
    let catalog = chosen
        .as_ref()
        .and_then(|c| state.catalogs.get(c))
        .cloned()
        .unwrap_or_default();
    drop(state);

    let mut courses: Vec<CourseCount> = counts
        .iter()
        .map(|(iri, n)| CourseCount {
            named: Named {
                iri: iri.to_string(),
                id: course_id(iri),
                title: title_of(defs, iri, &course_id(iri), lang),
            },
            learners: *n,
        })
        .collect();
    courses.sort_by(|a, b| {
        b.learners
            .cmp(&a.learners)
            .then(a.named.iri.cmp(&b.named.iri))
    });
    let course = chosen.map(|iri| outline(&iri, catalog, defs, lang));
    Ok(Snapshot {
        course,
        all,
        courses,
    })
}

/// The course's modules (in IRI order: s00, s01, …) and questions (in
/// module order, then in the order learners meet them), with titles.
fn outline(iri: &Arc<str>, catalog: Catalog, defs: &dyn Definitions, lang: &str) -> Course {
    let mut order: Vec<usize> = (0..catalog.modules.len()).collect();
    order.sort_by(|a, b| catalog.modules[*a].iri.cmp(&catalog.modules[*b].iri));
    let mut new_slot = vec![0; catalog.modules.len()];
    for (new, old) in order.iter().enumerate() {
        new_slot[*old] = new;
    }
    let modules: Vec<ModuleMeta> = order
        .iter()
        .map(|&old| {
            let m = &catalog.modules[old];
            let id = short_id(iri, &m.iri);
            let def = defs.definition(&m.iri);
            let title = def
                .as_ref()
                .and_then(|d| lang_text(d.get("name"), lang))
                .unwrap_or_else(|| id.clone());
            ModuleMeta {
                role: role_of(def.as_ref(), &id),
                iri: m.iri.clone(),
                id,
                title,
                graded: m.graded,
            }
        })
        .collect();
    let mut module_index = Index::default();
    for (i, m) in modules.iter().enumerate() {
        module_index.get_or_add(&m.iri, i);
    }
    let mut questions: Vec<(QuestionMeta, u32)> = catalog
        .questions
        .into_iter()
        .map(|q| {
            (
                QuestionMeta {
                    iri: q.iri,
                    module: new_slot[q.module],
                    kind: q.kind,
                    tag: q.tag,
                },
                q.position,
            )
        })
        .collect();
    questions.sort_by(|a, b| {
        a.0.module
            .cmp(&b.0.module)
            .then(a.1.cmp(&b.1))
            .then(a.0.iri.cmp(&b.0.iri))
    });
    let questions: Vec<QuestionMeta> = questions.into_iter().map(|(q, _)| q).collect();
    let mut question_index = Index::default();
    for (i, q) in questions.iter().enumerate() {
        question_index.get_or_add(&q.iri, i);
    }
    Course {
        named: Named {
            iri: iri.to_string(),
            id: course_id(iri),
            title: title_of(defs, iri, &course_id(iri), lang),
        },
        modules,
        module_index,
        questions,
        question_index,
    }
}

/// A compiled filter over one course's enrolments.
struct Selector {
    module: Option<usize>,
    cohort: Option<String>,
    language: Option<String>,
    country: Option<String>,
    from: i64,
    to: i64,
}

impl Selector {
    fn new(filter: &Filter, course: Option<&Course>) -> Result<Selector, QueryError> {
        let (from, to) = filter.range()?;
        let module = match (&filter.module, course) {
            (None, _) => None,
            (Some(m), Some(c)) => Some(
                c.modules
                    .iter()
                    .position(|x| &*x.iri == m || x.id == *m)
                    .ok_or_else(|| {
                        QueryError::BadFilter(format!("no module {m:?} in the course"))
                    })?,
            ),
            (Some(m), None) => return Err(QueryError::BadFilter(format!("no module {m:?}"))),
        };
        Ok(Selector {
            module,
            cohort: filter.cohort.clone(),
            language: filter.language.as_ref().map(|l| l.to_ascii_lowercase()),
            country: filter.country.as_ref().map(|c| c.to_ascii_uppercase()),
            from,
            to,
        })
    }

    fn accepts(&self, e: &Enrolment) -> bool {
        if let Some(c) = &self.cohort
            && e.cohort.as_deref() != Some(c.as_str())
            && !e.registrations.iter().any(|r| r.eq_ignore_ascii_case(c))
        {
            return false;
        }
        if let Some(l) = &self.language
            && e.language.as_deref() != Some(l.as_str())
        {
            return false;
        }
        if let Some(c) = &self.country
            && e.country.as_deref() != Some(c.as_str())
        {
            return false;
        }
        if self.from != i64::MIN || self.to != i64::MAX {
            let first = e.first_ms();
            if first < self.from || first > self.to {
                return false;
            }
        }
        true
    }

    /// The selected learners, arranged by the outline.
    fn views<'a>(&self, course: &Course, all: &'a [Arc<Enrolment>]) -> Vec<View<'a>> {
        all.iter()
            .filter(|e| self.accepts(e))
            .map(|e| View::new(course, e))
            .filter(|v| self.module.is_none_or(|m| v.modules[m].is_some()))
            .collect()
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn ratio(a: u32, b: u32) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// `YYYY-MM-DD` of a Unix-ms time.
pub fn day(ms: i64) -> String {
    crate::store::format_ms(ms)
        .get(..10)
        .unwrap_or_default()
        .to_owned()
}

/// Every indicator for the filter.
pub fn overview(
    lock: &RwLock<State>,
    defs: &dyn Definitions,
    filter: &Filter,
    lang: &str,
) -> Result<Overview, QueryError> {
    let filter = filter.clone().normalized();
    let snap = snapshot(lock, defs, filter.course.as_deref(), &filter.slice, lang)?;
    let selector = Selector::new(&filter, snap.course.as_ref())?;
    let mut out = Overview {
        course: snap.course.as_ref().map(|c| c.named.clone()),
        filter: filter.clone(),
        generated: crate::store::format_ms(crate::store::now_ms()),
        options: Options {
            courses: snap.courses.clone(),
            ..Options::default()
        },
        summary: Summary::default(),
        funnel: Vec::new(),
        assessment: Assessment::default(),
        over_time: OverTime::default(),
        satisfaction: Satisfaction::default(),
        questions: Vec::new(),
    };
    let Some(course) = &snap.course else {
        return Ok(out);
    };
    out.filter.course = Some(course.named.id.clone());
    out.options = options(&snap, course);
    let views = selector.views(course, &snap.all);
    out.summary = summary(&views, selector.module);
    out.funnel = funnel(course, &views);
    out.assessment = assessment(course, &views);
    out.over_time = over_time(&views);
    out.satisfaction = satisfaction(course, &views, defs, lang);
    out.questions = questions(course, &views, selector.module, defs, lang);
    Ok(out)
}

fn options(snap: &Snapshot, course: &Course) -> Options {
    let mut cohorts: BTreeMap<&str, u32> = BTreeMap::new();
    let mut countries: BTreeMap<&str, u32> = BTreeMap::new();
    let mut languages: BTreeMap<&str, u32> = BTreeMap::new();
    for e in &snap.all {
        for (map, v) in [
            (&mut cohorts, &e.cohort),
            (&mut countries, &e.country),
            (&mut languages, &e.language),
        ] {
            if let Some(v) = v {
                *map.entry(v).or_default() += 1;
            }
        }
    }
    let list = |m: BTreeMap<&str, u32>| {
        m.into_iter()
            .map(|(value, learners)| Count {
                value: value.to_owned(),
                learners,
            })
            .collect()
    };
    Options {
        courses: snap.courses.clone(),
        modules: course
            .modules
            .iter()
            .map(|m| ModuleInfo {
                named: Named {
                    iri: m.iri.to_string(),
                    id: m.id.clone(),
                    title: m.title.clone(),
                },
                role: m.role.as_str().to_owned(),
            })
            .collect(),
        cohorts: list(cohorts),
        countries: list(countries),
        languages: list(languages),
    }
}

fn summary(views: &[View], module: Option<usize>) -> Summary {
    let mut s = Summary {
        enrolled: views.len() as u32,
        ..Summary::default()
    };
    let mut days = Vec::new();
    let mut hours = Vec::new();
    for v in views {
        match module {
            Some(m) => {
                let Some(p) = v.modules[m] else { continue };
                s.started += 1;
                if let Some(done) = p.completed_ms().or(p.passed_ms()) {
                    s.completed += 1;
                    days.push((done - p.first_ms).max(0) as f64 / 86_400_000.0);
                    hours.push(p.time_ms as f64 / 3_600_000.0);
                }
                if p.success == Some(true) || p.passed_ms().is_some() {
                    s.passed += 1;
                }
            }
            None => {
                if !v.e.modules.is_empty() {
                    s.started += 1;
                }
                if let Some(done) = v.completed_at {
                    s.completed += 1;
                    days.push((done - v.first_ms).max(0) as f64 / 86_400_000.0);
                    let spent: u64 = v.e.modules.iter().map(|m| m.time_ms).sum();
                    hours.push(spent as f64 / 3_600_000.0);
                }
                if v.passed {
                    s.passed += 1;
                }
            }
        }
    }
    s.completion_rate = ratio(s.completed, s.enrolled);
    s.pass_rate = ratio(s.passed, s.enrolled);
    s.median_days_to_complete = median(days);
    s.median_hours_spent = median(hours);
    s
}

fn funnel(course: &Course, views: &[View]) -> Vec<FunnelRow> {
    let mut rows: Vec<FunnelRow> = course
        .modules
        .iter()
        .map(|m| FunnelRow {
            module: m.id.clone(),
            title: m.title.clone(),
            role: m.role.as_str().to_owned(),
            started: 0,
            completed: 0,
            passed: 0,
            failed: 0,
            mean_score: None,
            median_minutes: None,
            stopped_here: 0,
        })
        .collect();
    let mut scores: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
    let mut minutes: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
    for v in views {
        let mut furthest = None;
        for (i, p) in v.modules.iter().enumerate() {
            let Some(p) = p else { continue };
            furthest = Some(i);
            let row = &mut rows[i];
            row.started += 1;
            if p.is_completed() {
                row.completed += 1;
                minutes[i].push(p.time_ms as f64 / 60_000.0);
            }
            match p.success {
                Some(true) => row.passed += 1,
                Some(false) => row.failed += 1,
                None => {}
            }
            if let Some(s) = p.latest_score() {
                scores[i].push(s);
            }
        }
        if let Some(i) = furthest
            && v.completed_at.is_none()
        {
            rows[i].stopped_here += 1;
        }
    }
    for (i, row) in rows.iter_mut().enumerate() {
        row.mean_score = mean(&scores[i]);
        row.median_minutes = median(std::mem::take(&mut minutes[i]));
    }
    rows
}

/// A learner's pre/post scores, overall and by tag, in one pass over
/// their answers.
struct Scores {
    overall: [Option<f64>; 2],
    by_tag: [[Option<f64>; 2]; 3],
}

fn scores(course: &Course, v: &View, pre: usize, post: usize) -> Scores {
    // [pre, post] × [all, knowledge, skills, attitude] → (sum, n)
    let mut acc = [[(0.0f64, 0u32); 4]; 2];
    for a in &v.answers {
        let meta = &course.questions[a.q];
        let side = if meta.module == pre {
            0
        } else if meta.module == post {
            1
        } else {
            continue;
        };
        let Some(s) = a.scaled() else { continue };
        acc[side][0].0 += s;
        acc[side][0].1 += 1;
        if let Some(t) = meta.tag {
            let k = 1 + Tag::ALL.iter().position(|x| *x == t).unwrap_or(0);
            acc[side][k].0 += s;
            acc[side][k].1 += 1;
        }
    }
    let avg = |(sum, n): (f64, u32)| (n > 0).then(|| sum / n as f64);
    let module_score = |side: usize, m: usize| {
        v.modules[m]
            .and_then(|p| p.latest_score())
            .or_else(|| avg(acc[side][0]))
    };
    Scores {
        overall: [module_score(0, pre), module_score(1, post)],
        by_tag: [
            [avg(acc[0][1]), avg(acc[1][1])],
            [avg(acc[0][2]), avg(acc[1][2])],
            [avg(acc[0][3]), avg(acc[1][3])],
        ],
    }
}

fn assessment(course: &Course, views: &[View]) -> Assessment {
    let pre = course.with_role(Role::Pre);
    let post = course.with_role(Role::Post);
    let mut a = Assessment {
        pre_module: pre.map(|m| course.modules[m].id.clone()),
        post_module: post.map(|m| course.modules[m].id.clone()),
        pre_histogram: vec![0; 10],
        post_histogram: vec![0; 10],
        ..Assessment::default()
    };
    let (Some(pre), Some(post)) = (pre, post) else {
        if let Some(m) = pre.or(post) {
            let n = views
                .iter()
                .filter(|v| v.module_score(course, m).is_some())
                .count() as u32;
            if pre.is_some() {
                a.pre_takers = n;
            } else {
                a.post_takers = n;
            }
        }
        return a;
    };
    let band = |s: f64| ((s.clamp(0.0, 1.0) * 10.0) as usize).min(9);
    let (mut pres, mut posts, mut gains, mut norm) = (vec![], vec![], vec![], vec![]);
    let mut tags: [(Vec<f64>, Vec<f64>); 3] = Default::default();
    let mut improved = 0u32;
    for v in views {
        let s = scores(course, v, pre, post);
        let [p, q] = s.overall;
        a.pre_takers += p.is_some() as u32;
        a.post_takers += q.is_some() as u32;
        let (Some(p), Some(q)) = (p, q) else { continue };
        pres.push(p);
        posts.push(q);
        gains.push(q - p);
        if p < 1.0 {
            norm.push((q - p) / (1.0 - p));
        }
        if q > p {
            improved += 1;
        }
        a.pre_histogram[band(p)] += 1;
        a.post_histogram[band(q)] += 1;
        for (k, [x, y]) in s.by_tag.iter().enumerate() {
            if let (Some(x), Some(y)) = (x, y) {
                tags[k].0.push(*x);
                tags[k].1.push(*y);
            }
        }
    }
    a.pairs = pres.len() as u32;
    a.pre_mean = mean(&pres);
    a.post_mean = mean(&posts);
    a.gain_mean = mean(&gains);
    a.normalized_gain_mean = mean(&norm);
    a.improved_share = ratio(improved, a.pairs);
    a.by_tag = Tag::ALL
        .iter()
        .zip(tags)
        .filter(|(_, (p, _))| !p.is_empty())
        .map(|(tag, (p, q))| {
            let g: Vec<f64> = p.iter().zip(&q).map(|(x, y)| y - x).collect();
            TagRow {
                tag: tag.as_str().to_owned(),
                pairs: p.len() as u32,
                pre_mean: mean(&p),
                post_mean: mean(&q),
                gain_mean: mean(&g),
            }
        })
        .collect();
    a
}

/// Monday of the week of a day, as days since the Unix epoch.
fn week_start(days: i64) -> i64 {
    // 1970-01-01 was a Thursday.
    days - (days + 3).rem_euclid(7)
}

fn month_start(ms: i64) -> (i32, u8) {
    let d = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    (d.year(), d.month() as u8)
}

fn over_time(views: &[View]) -> OverTime {
    let events: Vec<(i64, Option<i64>)> =
        views.iter().map(|v| (v.first_ms, v.completed_at)).collect();
    let Some(lo) = events.iter().map(|e| e.0).min() else {
        return OverTime {
            unit: "week".into(),
            points: Vec::new(),
        };
    };
    let hi = events
        .iter()
        .map(|e| e.1.unwrap_or(e.0).max(e.0))
        .max()
        .unwrap_or(lo);
    const DAY: i64 = 86_400_000;
    let weekly = (hi - lo) / DAY <= 7 * 52;
    let key = |ms: i64| -> i64 {
        if weekly {
            week_start(ms.div_euclid(DAY))
        } else {
            let (y, m) = month_start(ms);
            y as i64 * 12 + m as i64 - 1
        }
    };
    let label = |k: i64| -> String {
        if weekly {
            day(k * DAY)
        } else {
            format!("{:04}-{:02}-01", k.div_euclid(12), k.rem_euclid(12) + 1)
        }
    };
    // Every bucket between the first and the last, so gaps show as zero.
    let (first, last) = (key(lo), key(hi));
    let step = if weekly { 7 } else { 1 };
    let mut buckets: BTreeMap<i64, (u32, u32)> = BTreeMap::new();
    let mut k = first;
    while k <= last && buckets.len() < 1000 {
        buckets.insert(k, (0, 0));
        k += step;
    }
    for (start, done) in events {
        buckets.entry(key(start)).or_default().0 += 1;
        if let Some(d) = done {
            buckets.entry(key(d)).or_default().1 += 1;
        }
    }
    let (mut cs, mut cc) = (0, 0);
    OverTime {
        unit: if weekly { "week" } else { "month" }.into(),
        points: buckets
            .into_iter()
            .map(|(k, (s, c))| {
                cs += s;
                cc += c;
                TimePoint {
                    start: label(k),
                    started: s,
                    completed: c,
                    cumulative_started: cs,
                    cumulative_completed: cc,
                }
            })
            .collect(),
    }
}

/// A Likert answer as a scale point (1-based): a number, or the position
/// of the answer among the definition's `scale` ids.
fn likert_point(response: &str, scale: &[String]) -> Option<usize> {
    let r = response.trim();
    if let Some(i) = scale.iter().position(|s| s == r) {
        return Some(i + 1);
    }
    let digits: String = r.chars().filter(char::is_ascii_digit).collect();
    let n: usize = digits.parse().ok()?;
    (1..=11).contains(&n).then_some(n)
}

fn satisfaction(
    course: &Course,
    views: &[View],
    defs: &dyn Definitions,
    lang: &str,
) -> Satisfaction {
    let survey: Vec<bool> = course
        .modules
        .iter()
        .map(|m| m.role == Role::Survey)
        .collect();
    let mut s = Satisfaction {
        module: course
            .modules
            .iter()
            .find(|m| m.role == Role::Survey)
            .map(|m| m.id.clone()),
        ..Satisfaction::default()
    };
    if s.module.is_none() {
        return s;
    }
    // Every answer to a survey question, by question.
    let mut answers: Vec<Vec<(&str, i64)>> = vec![Vec::new(); course.questions.len()];
    for v in views {
        let mut responded = false;
        for a in &v.answers {
            if !survey[course.questions[a.q].module] {
                continue;
            }
            responded = true;
            if let Some(r) = a.response(v.e) {
                answers[a.q].push((r, a.row.last_ms));
            }
        }
        s.respondents += responded as u32;
    }
    let mut comments = Vec::new();
    for (qi, q) in course.questions.iter().enumerate() {
        if !survey[q.module] {
            continue;
        }
        let given = &answers[qi];
        let def = defs.definition(&q.iri);
        let title = def
            .as_ref()
            .and_then(|d| {
                lang_text(d.get("description"), lang).or_else(|| lang_text(d.get("name"), lang))
            })
            .unwrap_or_else(|| short_id(&course.named.iri, &q.iri));
        let qid = short_id(&course.named.iri, &q.iri);
        let kind = q.kind.as_deref().unwrap_or("");
        let scale: Vec<(String, String)> = def
            .as_ref()
            .and_then(|d| d.get("scale"))
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| {
                        let id = i.get("id")?.as_str()?.to_owned();
                        let label = lang_text(i.get("description"), lang).unwrap_or(id.clone());
                        Some((id, label))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let numeric = given.iter().all(|(r, _)| r.trim().parse::<u32>().is_ok());
        if kind == "likert" || (kind.is_empty() && numeric) {
            let ids: Vec<String> = scale.iter().map(|s| s.0.clone()).collect();
            let points: Vec<usize> = given
                .iter()
                .filter_map(|(r, _)| likert_point(r, &ids))
                .collect();
            let size = scale
                .len()
                .max(points.iter().copied().max().unwrap_or(0))
                .max(if scale.is_empty() { 5 } else { 0 });
            let mut counts = vec![0u32; size];
            for p in &points {
                counts[p - 1] += 1;
            }
            let labels = if scale.len() == size {
                scale.iter().map(|s| s.1.clone()).collect()
            } else {
                (1..=size).map(|n| n.to_string()).collect()
            };
            let values: Vec<f64> = points.iter().map(|&p| p as f64).collect();
            s.questions.push(LikertRow {
                question: qid,
                title,
                labels,
                counts,
                responses: points.len() as u32,
                mean: mean(&values),
            });
        } else {
            for (text, ms) in given {
                if !text.trim().is_empty() {
                    comments.push((*ms, qid.clone(), *text));
                }
            }
        }
    }
    comments.sort_by_key(|c| std::cmp::Reverse(c.0));
    s.comments = comments
        .into_iter()
        .take(50)
        .map(|(ms, question, text)| Comment {
            question,
            date: day(ms),
            text: text.to_owned(),
        })
        .collect();
    s
}

fn questions(
    course: &Course,
    views: &[View],
    module: Option<usize>,
    defs: &dyn Definitions,
    lang: &str,
) -> Vec<QuestionRow> {
    // (learners, attempts, graded, correct) by question.
    let mut agg = vec![(0u32, 0u32, 0u32, 0u32); course.questions.len()];
    for v in views {
        for a in &v.answers {
            let x = &mut agg[a.q];
            x.0 += 1;
            x.1 += u32::from(a.row.attempts);
            x.2 += u32::from(a.row.graded);
            x.3 += u32::from(a.row.correct);
        }
    }
    course
        .questions
        .iter()
        .enumerate()
        .filter(|(_, q)| {
            module.is_none_or(|m| m == q.module) && course.modules[q.module].role != Role::Survey
        })
        .map(|(qi, q)| {
            let m = &course.modules[q.module];
            let id = short_id(&m.iri, &q.iri);
            let title = defs
                .definition(&q.iri)
                .and_then(|d| {
                    lang_text(d.get("description"), lang).or_else(|| lang_text(d.get("name"), lang))
                })
                .unwrap_or_else(|| id.clone());
            let (learners, attempts, graded, correct) = agg[qi];
            QuestionRow {
                question: id,
                module: m.id.clone(),
                title,
                tag: q.tag.map(|t| t.as_str().to_owned()),
                kind: q.kind.as_deref().map(str::to_owned),
                learners,
                attempts,
                graded,
                correct_rate: ratio(correct, graded),
            }
        })
        .collect()
}

/// How a learner is shown to a reader with `identities`: the real
/// identifier and name, looked up for a learner stored by pseudonym.
fn shown_identity(defs: &dyn Definitions, e: &Enrolment) -> (String, Option<String>) {
    match defs.reidentify(&e.learner) {
        Some((identity, name)) => (
            identity,
            name.or_else(|| e.name.as_deref().map(str::to_owned)),
        ),
        None => (
            display_identity(&e.learner),
            e.name.as_deref().map(str::to_owned),
        ),
    }
}

fn learner_row(course: &Course, v: &View, identities: bool, defs: &dyn Definitions) -> LearnerRow {
    let e = v.e;
    let (identity, name) = if identities {
        let (i, n) = shown_identity(defs, e);
        (Some(i), n)
    } else {
        (None, None)
    };
    let score = |role| {
        course
            .with_role(role)
            .and_then(|m| v.module_score(course, m))
    };
    LearnerRow {
        id: e.pid.to_string(),
        identity,
        name,
        country: e.country.as_deref().map(str::to_owned),
        language: e.language.as_deref().map(str::to_owned),
        cohort: e.cohort.as_deref().map(str::to_owned),
        first: day(v.first_ms),
        last: day(e.last_ms()),
        modules_completed: v
            .modules
            .iter()
            .filter(|p| p.is_some_and(|p| p.is_completed()))
            .count() as u32,
        modules_total: course.modules.len() as u32,
        status: v.status().to_owned(),
        pre: score(Role::Pre),
        post: score(Role::Post),
    }
}

/// An identity as people read it: `homePage name` for an account.
pub fn display_identity(identity: &str) -> String {
    match identity.strip_prefix("account:") {
        Some(rest) => rest.replace('\u{1f}', " "),
        None => identity
            .strip_prefix("mbox:mailto:")
            .unwrap_or(identity)
            .to_owned(),
    }
}

/// Learners matching the filter and a search text (pseudonym prefix, or,
/// with `identities`, part of the identity or name), most recent first.
#[allow(clippy::too_many_arguments)]
pub fn learners(
    lock: &RwLock<State>,
    defs: &dyn Definitions,
    filter: &Filter,
    search: Option<&str>,
    offset: usize,
    limit: usize,
    identities: bool,
    lang: &str,
) -> Result<LearnerPage, QueryError> {
    let filter = filter.clone().normalized();
    let snap = snapshot(lock, defs, filter.course.as_deref(), &filter.slice, lang)?;
    let Some(course) = &snap.course else {
        return Ok(LearnerPage {
            course: None,
            total: 0,
            offset: offset as u32,
            learners: Vec::new(),
        });
    };
    let selector = Selector::new(&filter, Some(course))?;
    let needle = search
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    let matches = |e: &Enrolment| match &needle {
        None => true,
        Some(n) => {
            let pid = e.pid.to_lowercase();
            pid.starts_with(n.as_str())
                || pid
                    .strip_prefix("p-")
                    .is_some_and(|p| p.starts_with(n.as_str()))
                || (identities
                    && (e.learner.to_lowercase().contains(n.as_str())
                        || e.name
                            .as_deref()
                            .is_some_and(|x| x.to_lowercase().contains(n.as_str()))
                        // A learner stored by pseudonym, by the identifier
                        // and name the mapping keeps.
                        || defs.reidentify(&e.learner).is_some_and(|(id, name)| {
                            id.to_lowercase().contains(n.as_str())
                                || name.is_some_and(|x| x.to_lowercase().contains(n.as_str()))
                        })))
        }
    };
    let mut found: Vec<View> = selector
        .views(course, &snap.all)
        .into_iter()
        .filter(|v| matches(v.e))
        .collect();
    let total = found.len() as u32;
    // Only the page is sorted in full.
    let by_recent = |a: &View, b: &View| {
        b.e.last_ms()
            .cmp(&a.e.last_ms())
            .then(a.e.pid.cmp(&b.e.pid))
    };
    let end = offset.saturating_add(limit).min(found.len());
    if offset < found.len() {
        if end < found.len() {
            found.select_nth_unstable_by(end, by_recent);
            found.truncate(end);
        }
        found.sort_by(by_recent);
    }
    Ok(LearnerPage {
        course: Some(course.named.clone()),
        total,
        offset: offset as u32,
        learners: found
            .iter()
            .skip(offset)
            .take(limit)
            .map(|v| learner_row(course, v, identities, defs))
            .collect(),
    })
}

fn module_rows(course: &Course, v: &View) -> Vec<ModuleRow> {
    course
        .modules
        .iter()
        .zip(&v.modules)
        .map(|(m, p)| {
            let status = match p {
                None => "not started",
                Some(p) if p.success == Some(false) => "failed",
                Some(p) if p.success == Some(true) => "passed",
                Some(p) if p.is_completed() => "completed",
                Some(_) => "in progress",
            };
            ModuleRow {
                module: m.id.clone(),
                title: m.title.clone(),
                role: m.role.as_str().to_owned(),
                status: status.to_owned(),
                first: p.map(|p| day(p.first_ms)),
                last: p.map(|p| day(p.last_ms)),
                attempts: p.map_or(0, |p| p.attempts.max(1)),
                minutes: p.map_or(0.0, |p| (p.time_ms as f64 / 60_000.0 * 10.0).round() / 10.0),
                best_score: p.and_then(|p| p.best_score()),
                latest_score: p.and_then(|p| p.latest_score()),
                page: p.and_then(|p| p.page.as_deref().map(str::to_owned)),
            }
        })
        .collect()
}

/// One learner's progress through a course, by pseudonym.
pub fn learner(
    lock: &RwLock<State>,
    defs: &dyn Definitions,
    course: Option<&str>,
    slice: &Slice,
    pid: &str,
    identities: bool,
    lang: &str,
) -> Result<LearnerDetail, QueryError> {
    let course_iri = {
        let state = lock
            .read()
            .map_err(|_| QueryError::Unavailable("state lock poisoned".into()))?;
        let mine: Vec<Arc<Enrolment>> = state.select(|e| &*e.pid == pid && slice.admits(e));
        match course {
            Some(c) => mine
                .iter()
                .find(|e| &*e.course == c || course_id(&e.course) == c)
                .map(|e| e.course.clone()),
            None => mine
                .iter()
                .max_by_key(|e| e.last_ms())
                .map(|e| e.course.clone()),
        }
        .ok_or_else(|| QueryError::NoLearner(pid.to_owned()))?
    };
    let snap = snapshot(lock, defs, Some(&course_iri), slice, lang)?;
    let course = snap
        .course
        .as_ref()
        .ok_or_else(|| QueryError::NoLearner(pid.to_owned()))?;
    let e = snap
        .all
        .iter()
        .find(|e| &*e.pid == pid)
        .ok_or_else(|| QueryError::NoLearner(pid.to_owned()))?;
    let v = View::new(course, e);
    let pre_post = match (course.with_role(Role::Pre), course.with_role(Role::Post)) {
        (Some(pre), Some(post)) => {
            let s = scores(course, &v, pre, post);
            let mut rows = vec![("overall", s.overall)];
            rows.extend(Tag::ALL.iter().map(|t| t.as_str()).zip(s.by_tag));
            rows.into_iter()
                .map(|(tag, [p, q])| {
                    let gain = p.zip(q).map(|(a, b)| b - a);
                    TagRow {
                        tag: tag.into(),
                        pairs: gain.is_some() as u32,
                        pre_mean: p,
                        post_mean: q,
                        gain_mean: gain,
                    }
                })
                .collect()
        }
        _ => Vec::new(),
    };
    Ok(LearnerDetail {
        course: course.named.clone(),
        learner: learner_row(course, &v, identities, defs),
        modules: module_rows(course, &v),
        pre_post,
    })
}

/// Learner × module progress as a table (header first): what the
/// dashboard's CSV export and `kmh report progress` give.
pub fn progress_table(
    lock: &RwLock<State>,
    defs: &dyn Definitions,
    filter: &Filter,
    identities: bool,
    lang: &str,
) -> Result<Vec<Vec<String>>, QueryError> {
    let mut rows = Vec::new();
    progress_rows(lock, defs, filter, identities, lang, &mut |r| rows.push(r))?;
    Ok(rows)
}

/// [`progress_table`] one row at a time (header first), so that an export
/// of every learner never holds the whole table.
pub fn progress_rows(
    lock: &RwLock<State>,
    defs: &dyn Definitions,
    filter: &Filter,
    identities: bool,
    lang: &str,
    sink: &mut dyn FnMut(Vec<String>),
) -> Result<(), QueryError> {
    let filter = filter.clone().normalized();
    let snap = snapshot(lock, defs, filter.course.as_deref(), &filter.slice, lang)?;
    let mut header: Vec<&str> = vec!["learner"];
    if identities {
        header.extend(["identity", "name"]);
    }
    header.extend([
        "country",
        "language",
        "cohort",
        "course",
        "module",
        "module_title",
        "status",
        "first",
        "last",
        "attempts",
        "minutes",
        "best_score",
        "latest_score",
        "page",
    ]);
    sink(header.into_iter().map(str::to_owned).collect());
    let Some(course) = &snap.course else {
        return Ok(());
    };
    let selector = Selector::new(&filter, Some(course))?;
    let mut views = selector.views(course, &snap.all);
    views.sort_by(|a, b| a.e.pid.cmp(&b.e.pid));
    let opt = |v: &Option<Arc<str>>| v.as_deref().unwrap_or("").to_owned();
    let score = |v: Option<f64>| v.map(|s| format!("{s:.3}")).unwrap_or_default();
    for v in &views {
        let e = v.e;
        for (i, m) in module_rows(course, v).into_iter().enumerate() {
            if selector.module.is_some_and(|x| x != i) {
                continue;
            }
            let mut row = vec![e.pid.to_string()];
            if identities {
                let (identity, name) = shown_identity(defs, e);
                row.push(identity);
                row.push(name.unwrap_or_default());
            }
            row.extend([
                opt(&e.country),
                opt(&e.language),
                opt(&e.cohort),
                course.named.id.clone(),
                m.module,
                m.title,
                m.status,
                m.first.unwrap_or_default(),
                m.last.unwrap_or_default(),
                m.attempts.to_string(),
                format!("{:.1}", m.minutes),
                score(m.best_score),
                score(m.latest_score),
                m.page.unwrap_or_default(),
            ]);
            sink(row);
        }
    }
    Ok(())
}

/// Writes a table as CSV (RFC 4180). Cells a spreadsheet would run as a
/// formula are prefixed with `'`.
pub fn to_csv(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for row in rows {
        csv_line(&mut out, row);
    }
    out
}

/// Appends one CSV line (see [`to_csv`]).
pub fn csv_line(out: &mut String, row: &[String]) {
    for (i, cell) in row.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let guarded;
        let cell = if cell.starts_with(['=', '+', '@', '\t', '\r'])
            || (cell.starts_with('-') && cell.parse::<f64>().is_err())
        {
            guarded = format!("'{cell}");
            &guarded
        } else {
            cell
        };
        if cell.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(cell);
        }
    }
    out.push_str("\r\n");
}
