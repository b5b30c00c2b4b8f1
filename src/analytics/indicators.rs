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

use super::model::{Enrolment, QuestionStat, Tag};
use super::state::State;

/// Activity definitions, as the LRS merged them from statements.
pub trait Definitions {
    fn definition(&self, iri: &str) -> Option<Value>;
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
    module: Arc<str>,
    kind: Option<Arc<str>>,
    tag: Option<Tag>,
}

/// One course's outline as the read models know it, with titles.
struct Course {
    named: Named,
    modules: Vec<ModuleMeta>,
    questions: Vec<QuestionMeta>,
}

impl Course {
    fn with_role(&self, role: Role) -> Option<&ModuleMeta> {
        self.modules.iter().find(|m| m.role == role)
    }

    /// When the learner completed the course.
    fn completed_at(&self, e: &Enrolment) -> Option<i64> {
        if let Some(t) = e.completed_ms {
            return Some(t);
        }
        if self.modules.is_empty() {
            return None;
        }
        let mut last = i64::MIN;
        for m in &self.modules {
            let p = e.module(&m.iri)?;
            last = last.max(p.completed_ms.or(p.passed_ms)?);
        }
        Some(last)
    }

    fn passed(&self, e: &Enrolment) -> bool {
        e.passed_ms.is_some()
            || (self.completed_at(e).is_some()
                && self.modules.iter().filter(|m| m.graded).all(|m| {
                    e.module(&m.iri)
                        .is_some_and(|p| p.success == Some(true) || p.passed_ms.is_some())
                }))
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
        .and_then(|d| {
            d.pointer(&format!(
                "/extensions/{}",
                super::EXT_ROLE.replace('/', "~1")
            ))
        })
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

fn snapshot(
    lock: &RwLock<State>,
    defs: &dyn Definitions,
    course: Option<&str>,
    lang: &str,
) -> Result<Snapshot, QueryError> {
    let state = lock
        .read()
        .map_err(|_| QueryError::Unavailable("state lock poisoned".into()))?;
    let mut counts: HashMap<Arc<str>, u32> = HashMap::new();
    for e in state.enrolments.values() {
        *counts.entry(e.course.clone()).or_default() += 1;
    }
    let chosen = resolve_course(course, &counts);
    if course.is_some() && chosen.is_none() {
        return Err(QueryError::BadFilter(format!(
            "no course {:?}",
            course.unwrap_or_default()
        )));
    }
    let all = match &chosen {
        Some(c) => state.select(|e| e.course == *c),
        None => Vec::new(),
    };
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

    let course = chosen.map(|iri| {
        let mut modules: BTreeMap<Arc<str>, bool> = BTreeMap::new();
        // Question → (meta, sum of its positions among the learner's
        // answers in its module, learners): questions are listed in the
        // order learners meet them.
        let mut questions: HashMap<Arc<str>, (QuestionMeta, f64, u32)> = HashMap::new();
        for e in &all {
            for m in &e.modules {
                let graded = modules.entry(m.module.clone()).or_default();
                *graded |= m.success.is_some();
            }
            let mut seen: HashMap<&str, usize> = HashMap::new();
            for q in &e.questions {
                let position = seen.entry(&q.module).or_default();
                let entry = questions.entry(q.question.clone()).or_insert_with(|| {
                    let meta = QuestionMeta {
                        iri: q.question.clone(),
                        module: q.module.clone(),
                        kind: None,
                        tag: None,
                    };
                    (meta, 0.0, 0)
                });
                entry.1 += *position as f64;
                entry.2 += 1;
                *position += 1;
                if entry.0.kind.is_none() {
                    entry.0.kind = q.kind.clone();
                }
                if entry.0.tag.is_none() {
                    entry.0.tag = q.tag;
                }
            }
        }
        let mut questions: Vec<(QuestionMeta, f64)> = questions
            .into_values()
            .map(|(meta, sum, n)| (meta, sum / n.max(1) as f64))
            .collect();
        questions.sort_by(|a, b| {
            a.0.module
                .cmp(&b.0.module)
                .then(a.1.total_cmp(&b.1))
                .then(a.0.iri.cmp(&b.0.iri))
        });
        let modules = modules
            .into_iter()
            .map(|(m, graded)| {
                let id = short_id(&iri, &m);
                let def = defs.definition(&m);
                let title = def
                    .as_ref()
                    .and_then(|d| lang_text(d.get("name"), lang))
                    .unwrap_or_else(|| id.clone());
                ModuleMeta {
                    role: role_of(def.as_ref(), &id),
                    iri: m,
                    id,
                    title,
                    graded,
                }
            })
            .collect();
        Course {
            named: Named {
                iri: iri.to_string(),
                id: course_id(&iri),
                title: title_of(defs, &iri, &course_id(&iri), lang),
            },
            modules,
            questions: questions.into_iter().map(|(meta, _)| meta).collect(),
        }
    });
    Ok(Snapshot {
        course,
        all,
        courses,
    })
}

/// A compiled filter over one course's enrolments.
struct Selector {
    module: Option<Arc<str>>,
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
                    .find(|x| &*x.iri == m || x.id == *m)
                    .map(|x| x.iri.clone())
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
        if let Some(c) = &self.cohort {
            if e.cohort.as_deref() != Some(c.as_str())
                && !e.registrations.iter().any(|r| r.eq_ignore_ascii_case(c))
            {
                return false;
            }
        }
        if let Some(l) = &self.language {
            if e.language.as_deref() != Some(l.as_str()) {
                return false;
            }
        }
        if let Some(c) = &self.country {
            if e.country.as_deref() != Some(c.as_str()) {
                return false;
            }
        }
        let first = e.first_ms();
        if first < self.from || first > self.to {
            return false;
        }
        if let Some(m) = &self.module {
            if e.module(m).is_none() {
                return false;
            }
        }
        true
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

/// The learner's score in a module: its latest score, else the mean of
/// their latest answers there.
fn module_score(e: &Enrolment, module: &str) -> Option<f64> {
    if let Some(s) = e.module(module).and_then(|m| m.latest_score) {
        return Some(s);
    }
    let answers: Vec<f64> = e
        .questions
        .iter()
        .filter(|q| &*q.module == module)
        .filter_map(|q| q.last_scaled)
        .collect();
    mean(&answers)
}

fn tag_score(e: &Enrolment, module: &str, tag: Tag) -> Option<f64> {
    let answers: Vec<f64> = e
        .questions
        .iter()
        .filter(|q| &*q.module == module && q.tag == Some(tag))
        .filter_map(|q| q.last_scaled)
        .collect();
    mean(&answers)
}

fn status(course: &Course, e: &Enrolment) -> &'static str {
    if course.passed(e) {
        "passed"
    } else if course.completed_at(e).is_some() {
        "completed"
    } else if e.modules.is_empty() {
        "enrolled"
    } else {
        "in progress"
    }
}

/// Every indicator for the filter.
pub fn overview(
    lock: &RwLock<State>,
    defs: &dyn Definitions,
    filter: &Filter,
    lang: &str,
) -> Result<Overview, QueryError> {
    let filter = filter.clone().normalized();
    let snap = snapshot(lock, defs, filter.course.as_deref(), lang)?;
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
    let selected: Vec<&Enrolment> = snap
        .all
        .iter()
        .map(|e| &**e)
        .filter(|e| selector.accepts(e))
        .collect();
    out.summary = summary(course, &selected, selector.module.as_deref());
    out.funnel = funnel(course, &selected);
    out.assessment = assessment(course, &selected);
    out.over_time = over_time(course, &selected);
    out.satisfaction = satisfaction(course, &selected, defs, lang);
    out.questions = questions(course, &selected, selector.module.as_deref(), defs, lang);
    Ok(out)
}

fn options(snap: &Snapshot, course: &Course) -> Options {
    let mut cohorts: BTreeMap<String, u32> = BTreeMap::new();
    let mut countries: BTreeMap<String, u32> = BTreeMap::new();
    let mut languages: BTreeMap<String, u32> = BTreeMap::new();
    for e in &snap.all {
        for (map, v) in [
            (&mut cohorts, &e.cohort),
            (&mut countries, &e.country),
            (&mut languages, &e.language),
        ] {
            if let Some(v) = v {
                *map.entry(v.to_string()).or_default() += 1;
            }
        }
    }
    let list = |m: BTreeMap<String, u32>| {
        m.into_iter()
            .map(|(value, learners)| Count { value, learners })
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

fn summary(course: &Course, selected: &[&Enrolment], module: Option<&str>) -> Summary {
    let mut s = Summary {
        enrolled: selected.len() as u32,
        ..Summary::default()
    };
    let mut days = Vec::new();
    let mut hours = Vec::new();
    for e in selected {
        match module {
            Some(m) => {
                let Some(p) = e.module(m) else { continue };
                s.started += 1;
                if let Some(done) = p.completed_ms.or(p.passed_ms) {
                    s.completed += 1;
                    days.push((done - p.first_ms).max(0) as f64 / 86_400_000.0);
                    hours.push(p.time_ms as f64 / 3_600_000.0);
                }
                if p.success == Some(true) || p.passed_ms.is_some() {
                    s.passed += 1;
                }
            }
            None => {
                if !e.modules.is_empty() {
                    s.started += 1;
                }
                if let Some(done) = course.completed_at(e) {
                    s.completed += 1;
                    days.push((done - e.first_ms()).max(0) as f64 / 86_400_000.0);
                    let spent: u64 = e.modules.iter().map(|m| m.time_ms).sum();
                    hours.push(spent as f64 / 3_600_000.0);
                }
                if course.passed(e) {
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

fn funnel(course: &Course, selected: &[&Enrolment]) -> Vec<FunnelRow> {
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
    for e in selected {
        let mut furthest = None;
        for (i, m) in course.modules.iter().enumerate() {
            let Some(p) = e.module(&m.iri) else { continue };
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
            if let Some(s) = p.latest_score {
                scores[i].push(s);
            }
        }
        if let Some(i) = furthest {
            if course.completed_at(e).is_none() {
                rows[i].stopped_here += 1;
            }
        }
    }
    for (i, row) in rows.iter_mut().enumerate() {
        row.mean_score = mean(&scores[i]);
        row.median_minutes = median(std::mem::take(&mut minutes[i]));
    }
    rows
}

fn assessment(course: &Course, selected: &[&Enrolment]) -> Assessment {
    let pre = course.with_role(Role::Pre);
    let post = course.with_role(Role::Post);
    let mut a = Assessment {
        pre_module: pre.map(|m| m.id.clone()),
        post_module: post.map(|m| m.id.clone()),
        pre_histogram: vec![0; 10],
        post_histogram: vec![0; 10],
        ..Assessment::default()
    };
    let (Some(pre), Some(post)) = (pre, post) else {
        if let Some(m) = pre.or(post) {
            let n = selected
                .iter()
                .filter(|e| module_score(e, &m.iri).is_some())
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
    let mut improved = 0u32;
    for e in selected {
        let p = module_score(e, &pre.iri);
        let q = module_score(e, &post.iri);
        a.pre_takers += p.is_some() as u32;
        a.post_takers += q.is_some() as u32;
        if let (Some(p), Some(q)) = (p, q) {
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
        .map(|&tag| {
            let (mut p, mut q, mut g) = (vec![], vec![], vec![]);
            for e in selected {
                if let (Some(x), Some(y)) =
                    (tag_score(e, &pre.iri, tag), tag_score(e, &post.iri, tag))
                {
                    p.push(x);
                    q.push(y);
                    g.push(y - x);
                }
            }
            TagRow {
                tag: tag.as_str().to_owned(),
                pairs: p.len() as u32,
                pre_mean: mean(&p),
                post_mean: mean(&q),
                gain_mean: mean(&g),
            }
        })
        .filter(|r| r.pairs > 0)
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

fn over_time(course: &Course, selected: &[&Enrolment]) -> OverTime {
    let events: Vec<(i64, Option<i64>)> = selected
        .iter()
        .map(|e| (e.first_ms(), course.completed_at(e)))
        .collect();
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
    // Bucket key → (label, started, completed).
    let mut buckets: BTreeMap<i64, (String, u32, u32)> = BTreeMap::new();
    let key = |ms: i64| -> (i64, String) {
        if weekly {
            let w = week_start(ms.div_euclid(DAY));
            (w, day(w * DAY))
        } else {
            let (y, m) = month_start(ms);
            (y as i64 * 12 + m as i64, format!("{y:04}-{m:02}-01"))
        }
    };
    // Every bucket between the first and the last, so gaps show as zero.
    let (first, _) = key(lo);
    let (last, _) = key(hi);
    let mut k = first;
    while k <= last && buckets.len() < 1000 {
        let label = if weekly {
            day(k * DAY)
        } else {
            let (y, m) = ((k - 1).div_euclid(12), (k - 1).rem_euclid(12) + 1);
            format!("{y:04}-{m:02}-01")
        };
        buckets.insert(k, (label, 0, 0));
        k += 1;
    }
    for (start, done) in events {
        let (k, label) = key(start);
        buckets.entry(k).or_insert((label, 0, 0)).1 += 1;
        if let Some(d) = done {
            let (k, label) = key(d);
            buckets.entry(k).or_insert((label, 0, 0)).2 += 1;
        }
    }
    let (mut cs, mut cc) = (0, 0);
    OverTime {
        unit: if weekly { "week" } else { "month" }.into(),
        points: buckets
            .into_values()
            .map(|(start, s, c)| {
                cs += s;
                cc += c;
                TimePoint {
                    start,
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
    selected: &[&Enrolment],
    defs: &dyn Definitions,
    lang: &str,
) -> Satisfaction {
    let surveys: Vec<&ModuleMeta> = course
        .modules
        .iter()
        .filter(|m| m.role == Role::Survey)
        .collect();
    let mut s = Satisfaction {
        module: surveys.first().map(|m| m.id.clone()),
        ..Satisfaction::default()
    };
    if surveys.is_empty() {
        return s;
    }
    let in_survey = |m: &str| surveys.iter().any(|s| &*s.iri == m);
    let answers = |q: &QuestionMeta| -> Vec<&QuestionStat> {
        selected
            .iter()
            .filter_map(|e| e.questions.iter().find(|x| x.question == q.iri))
            .filter(|x| x.last_response.is_some())
            .collect()
    };
    s.respondents = selected
        .iter()
        .filter(|e| e.questions.iter().any(|q| in_survey(&q.module)))
        .count() as u32;
    let mut comments = Vec::new();
    for q in course.questions.iter().filter(|q| in_survey(&q.module)) {
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
        let given = answers(q);
        if kind == "likert"
            || (kind.is_empty()
                && given.iter().all(|a| {
                    a.last_response
                        .as_deref()
                        .is_some_and(|r| r.trim().parse::<u32>().is_ok())
                }))
        {
            let ids: Vec<String> = scale.iter().map(|s| s.0.clone()).collect();
            let points: Vec<usize> = given
                .iter()
                .filter_map(|a| likert_point(a.last_response.as_deref()?, &ids))
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
            for a in given {
                if let Some(text) = a.last_response.as_deref().filter(|t| !t.trim().is_empty()) {
                    comments.push((a.last_ms, qid.clone(), text.to_owned()));
                }
            }
        }
    }
    comments.sort_by(|a, b| b.0.cmp(&a.0));
    s.comments = comments
        .into_iter()
        .take(50)
        .map(|(ms, question, text)| Comment {
            question,
            date: day(ms),
            text,
        })
        .collect();
    s
}

fn questions(
    course: &Course,
    selected: &[&Enrolment],
    module: Option<&str>,
    defs: &dyn Definitions,
    lang: &str,
) -> Vec<QuestionRow> {
    let mut rows = Vec::new();
    // Module order, then question IRI.
    for m in &course.modules {
        if module.is_some_and(|x| x != &*m.iri) || m.role == Role::Survey {
            continue;
        }
        for q in course.questions.iter().filter(|q| q.module == m.iri) {
            let (mut learners, mut attempts, mut graded, mut correct) = (0, 0, 0, 0);
            for e in selected {
                if let Some(x) = e.questions.iter().find(|x| x.question == q.iri) {
                    learners += 1;
                    attempts += x.attempts;
                    graded += x.graded;
                    correct += x.correct;
                }
            }
            let id = short_id(&m.iri, &q.iri);
            let title = defs
                .definition(&q.iri)
                .and_then(|d| {
                    lang_text(d.get("description"), lang).or_else(|| lang_text(d.get("name"), lang))
                })
                .unwrap_or_else(|| id.clone());
            rows.push(QuestionRow {
                question: id,
                module: m.id.clone(),
                title,
                tag: q.tag.map(|t| t.as_str().to_owned()),
                kind: q.kind.as_deref().map(str::to_owned),
                learners,
                attempts,
                graded,
                correct_rate: ratio(correct, graded),
            });
        }
    }
    rows
}

fn learner_row(course: &Course, e: &Enrolment, identities: bool) -> LearnerRow {
    let pre = course
        .with_role(Role::Pre)
        .and_then(|m| module_score(e, &m.iri));
    let post = course
        .with_role(Role::Post)
        .and_then(|m| module_score(e, &m.iri));
    LearnerRow {
        id: e.pid.to_string(),
        identity: identities.then(|| display_identity(&e.learner)),
        name: if identities {
            e.name.as_deref().map(str::to_owned)
        } else {
            None
        },
        country: e.country.as_deref().map(str::to_owned),
        language: e.language.as_deref().map(str::to_owned),
        cohort: e.cohort.as_deref().map(str::to_owned),
        first: day(e.first_ms()),
        last: day(e.last_ms()),
        modules_completed: course
            .modules
            .iter()
            .filter(|m| e.module(&m.iri).is_some_and(|p| p.is_completed()))
            .count() as u32,
        modules_total: course.modules.len() as u32,
        status: status(course, e).to_owned(),
        pre,
        post,
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
    let snap = snapshot(lock, defs, filter.course.as_deref(), lang)?;
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
    let mut found: Vec<&Enrolment> = snap
        .all
        .iter()
        .map(|e| &**e)
        .filter(|e| selector.accepts(e))
        .filter(|e| match &needle {
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
                                .is_some_and(|x| x.to_lowercase().contains(n.as_str()))))
            }
        })
        .collect();
    found.sort_by(|a, b| b.last_ms().cmp(&a.last_ms()).then(a.pid.cmp(&b.pid)));
    Ok(LearnerPage {
        course: Some(course.named.clone()),
        total: found.len() as u32,
        offset: offset as u32,
        learners: found
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|e| learner_row(course, e, identities))
            .collect(),
    })
}

fn module_rows(course: &Course, e: &Enrolment) -> Vec<ModuleRow> {
    course
        .modules
        .iter()
        .map(|m| {
            let p = e.module(&m.iri);
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
                best_score: p.and_then(|p| p.best_score),
                latest_score: p.and_then(|p| p.latest_score),
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
    pid: &str,
    identities: bool,
    lang: &str,
) -> Result<LearnerDetail, QueryError> {
    let course_iri = {
        let state = lock
            .read()
            .map_err(|_| QueryError::Unavailable("state lock poisoned".into()))?;
        let mine: Vec<Arc<Enrolment>> = state.select(|e| &*e.pid == pid);
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
    let snap = snapshot(lock, defs, Some(&course_iri), lang)?;
    let course = snap
        .course
        .as_ref()
        .ok_or_else(|| QueryError::NoLearner(pid.to_owned()))?;
    let e = snap
        .all
        .iter()
        .find(|e| &*e.pid == pid)
        .ok_or_else(|| QueryError::NoLearner(pid.to_owned()))?;
    let pre = course.with_role(Role::Pre);
    let post = course.with_role(Role::Post);
    let pre_post = match (pre, post) {
        (Some(pre), Some(post)) => {
            let mut rows = vec![TagRow {
                tag: "overall".into(),
                pairs: 1,
                pre_mean: module_score(e, &pre.iri),
                post_mean: module_score(e, &post.iri),
                gain_mean: None,
            }];
            rows.extend(Tag::ALL.iter().map(|&t| TagRow {
                tag: t.as_str().into(),
                pairs: 1,
                pre_mean: tag_score(e, &pre.iri, t),
                post_mean: tag_score(e, &post.iri, t),
                gain_mean: None,
            }));
            for r in &mut rows {
                r.gain_mean = r.pre_mean.zip(r.post_mean).map(|(a, b)| b - a);
                r.pairs = r.gain_mean.is_some() as u32;
            }
            rows
        }
        _ => Vec::new(),
    };
    Ok(LearnerDetail {
        course: course.named.clone(),
        learner: learner_row(course, e, identities),
        modules: module_rows(course, e),
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
    let filter = filter.clone().normalized();
    let snap = snapshot(lock, defs, filter.course.as_deref(), lang)?;
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
    let mut rows = vec![header.into_iter().map(str::to_owned).collect::<Vec<_>>()];
    let Some(course) = &snap.course else {
        return Ok(rows);
    };
    let selector = Selector::new(&filter, Some(course))?;
    let mut selected: Vec<&Enrolment> = snap
        .all
        .iter()
        .map(|e| &**e)
        .filter(|e| selector.accepts(e))
        .collect();
    selected.sort_by(|a, b| a.pid.cmp(&b.pid));
    let opt = |v: &Option<Arc<str>>| v.as_deref().unwrap_or("").to_owned();
    let score = |v: Option<f64>| v.map(|s| format!("{s:.3}")).unwrap_or_default();
    for e in selected {
        for m in module_rows(course, e) {
            if selector
                .module
                .as_deref()
                .is_some_and(|x| short_id(&course.named.iri, x) != m.module)
            {
                continue;
            }
            let mut row = vec![e.pid.to_string()];
            if identities {
                row.push(display_identity(&e.learner));
                row.push(opt(&e.name));
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
            rows.push(row);
        }
    }
    Ok(rows)
}

/// Writes a table as CSV (RFC 4180). Cells a spreadsheet would run as a
/// formula are prefixed with `'`.
pub fn to_csv(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for row in rows {
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
    out
}
